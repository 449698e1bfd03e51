"""Stage endpoints that misbehave (issue 4, "How it will be checked"): each failing stage is
retried with backoff and shows why on /api/status, while the other stages keep playing; nothing
a stage endpoint answers crashes the media server.

Two sources of faults:
  * the stage role's STAGE_FAULTS knob (`<stageId>=500;<stageId>=hang`): its WHIP POST for that
    stage answers 500 or (meant to) never answer;
  * fake_whip.FakeWhip, put in front of the stage role (the API server's STAGE_WHIP_URL_BASE
    points at it): per stage a malformed answer, an SDP-shaped answer without ICE/DTLS, an empty
    201 or a redirect loop, and a transparent proxy to the real stage role for healthy stages.
"""

import pytest

import harness
from fake_whip import FakeWhip
from harness import wait_until

FRAMES = 30


@pytest.fixture(scope="module")
def media():
    return harness.make_test_media(gop_seconds=1, seconds=4)


def stage_record(setup, stage):
    return setup.media.stage_status(stage["stageArn"]) or {}


def wait_error(setup, stage, what, timeout, keywords=()):
    """Waits until the stage shows an error on /api/status (and, if given, one of `keywords`
    in it, case-insensitively) and is not connected; returns the record."""
    def shows_error():
        record = stage_record(setup, stage)
        error = (record.get("lastError") or "").lower()
        if not error or record.get("state") == "connected":
            return None
        if keywords and not any(k in error for k in keywords):
            return None
        return record
    return wait_until(shows_error, timeout, f"{what}: lastError on /api/status",
                      interval=0.05, context=lambda: f"{stage_record(setup, stage)}\n"
                      + setup.context()())


def wait_more_attempts(setup, stage, than, timeout, what):
    return wait_until(lambda: stage_record(setup, stage).get("attempts", 0) > than, timeout,
                      f"{what}: another attempt (backoff retry)", interval=0.05,
                      context=lambda: f"{stage_record(setup, stage)}\n" + setup.context()())


def assert_playing(setup, output_dir, stage, name):
    assert setup.stage_state(stage) == "connected", stage_record(setup, stage)
    result = harness.view(output_dir, setup.stage.whep_url(stage["id"]), seconds=20,
                          until_frames=FRAMES, name=name)
    assert result["framesDecoded"] >= FRAMES, result


def test_stage_answering_500_or_never_is_retried_with_backoff(output_dir, processes, media):
    """Four stages behind the fake (which proxies to the stage role unless told otherwise):
    the stage role answers 500 for the first (STAGE_FAULTS), the fake never answers for the
    second, the stage role's own `hang` knob serves the third (docs/stage-role.md: it answers
    503 until io::HttpServer can defer a response, so either way it must fail and be retried),
    and the fourth is healthy."""
    fake = FakeWhip(harness.free_port())

    def faults(stages, stage_whip_base):
        fake.upstream_base = stage_whip_base
        fake.set_mode(stages[1]["id"], "hang")
        fake.start()
        return f"{stages[0]['id']}=500;{stages[2]['id']}=hang"

    try:
        setup = harness.RelaySetup(output_dir, processes, initial_stages=4, stage_faults=faults,
                                   whip_url_base=fake.whip_base)
        setup.require_whip_egress()
        failing, hanging, knob_hang, healthy = setup.initial
        setup.start_publisher(media)
        setup.wait_connected([healthy], timeout=20)

        record = wait_error(setup, failing, "the 500 stage", 15, keywords=("500",))
        assert record["state"] in ("backoff", "connecting", "pending"), record
        # Rising attempts with a backoff state in between: a scheduled retry, not a loop.
        wait_until(lambda: stage_record(setup, failing).get("state") == "backoff", 10,
                   "the 500 stage in backoff", interval=0.01, context=setup.context())
        first = stage_record(setup, failing)["attempts"]
        wait_more_attempts(setup, failing, first, 20, "the 500 stage")
        second = stage_record(setup, failing)["attempts"]
        wait_more_attempts(setup, failing, second, 30, "the 500 stage")
        assert setup.stage.stage(failing["id"])["publishes"] == 0

        record = wait_error(setup, knob_hang, "the STAGE_FAULTS hang stage", 45)
        wait_more_attempts(setup, knob_hang, record["attempts"], 45, "the STAGE_FAULTS hang")
        assert setup.stage.stage(knob_hang["id"])["publishes"] == 0

        # The POST the fake never answers is cut off by the egress request timeout.
        record = wait_error(setup, hanging, "the hanging stage", 45)
        print("hanging:", record)
        assert fake.count(hanging["id"]) >= 1
        wait_more_attempts(setup, hanging, record["attempts"], 45, "the hanging stage")
        # The attempt is counted when it starts (token first), its POST reaches the fake a
        # moment later: asserting the count at once failed 2 runs in 7 on a loaded machine.
        wait_until(lambda: fake.count(hanging["id"]) >= 2, 15, "the retried POST at the fake",
                   context=setup.context())

        # Meanwhile the healthy stage never left `connected` and plays.
        assert stage_record(setup, healthy)["attempts"] == 1, stage_record(setup, healthy)
        assert_playing(setup, output_dir, healthy, "viewer-healthy")
        assert setup.media.running()
    finally:
        fake.stop()


# What each broken answer must produce in lastError (any one of the words).
BROKEN = {
    "malformed": ("sdp", "answer", "parse", "malformed", "invalid"),
    "malformed-sdp": ("sdp", "answer", "fingerprint", "ice", "media", "invalid"),
    "empty": ("sdp", "answer", "empty", "invalid"),
    "redirect-loop": ("redirect",),
}


def test_broken_answers_and_redirect_loops_are_per_stage_errors(output_dir, processes, media):
    fake = FakeWhip(harness.free_port())
    modes = list(BROKEN)
    by_mode = {}

    def assign(stages, stage_whip_base):
        for mode, stage in zip(modes, stages):
            fake.set_mode(stage["id"], mode)
            by_mode[mode] = stage
        fake.upstream_base = stage_whip_base  # the last stage is proxied to the real one
        fake.start()
        return ""

    try:
        setup = harness.RelaySetup(output_dir, processes, initial_stages=len(modes) + 1,
                                   stage_faults=assign, whip_url_base=fake.whip_base)
        setup.require_whip_egress()
        healthy = setup.initial[-1]
        setup.start_publisher(media)
        setup.wait_connected([healthy], timeout=20)
        records = {mode: wait_error(setup, by_mode[mode], mode, 20, keywords)
                   for mode, keywords in BROKEN.items()}
        print(records)
        # Each is retried (backoff 1 s → 30 s with jitter), so all attempt counts move on.
        baseline = {mode: stage_record(setup, by_mode[mode])["attempts"] for mode in BROKEN}
        wait_until(lambda: all(stage_record(setup, by_mode[m])["attempts"] > baseline[m]
                               for m in BROKEN), 40, "another attempt at every broken stage",
                   interval=0.1, context=lambda: f"{baseline}\n{setup.media.status()}")
        # A loop is cut off after a bounded number of hops per attempt, not followed forever.
        loop = by_mode["redirect-loop"]
        attempts = stage_record(setup, loop)["attempts"]
        hops = fake.count(loop["id"], "POST", "whip") + fake.count(loop["id"], "POST", "loop")
        assert hops <= 2 * 20 * (attempts + 1), (hops, attempts)
        assert setup.media.get("/health/live").status == 200
        assert setup.media.running()
        assert stage_record(setup, healthy)["attempts"] == 1
        assert_playing(setup, output_dir, healthy, "viewer-healthy")
    finally:
        fake.stop()


# Issue 13's fault matrix, the DNS row: a WHIP host whose name does not resolve (".invalid"
# never does, RFC 6761; inside the test namespace no resolver is reachable either) is an error
# on that stage's record naming the resolution, retried with backoff, while the process stays
# live. WHIP_DESTINATIONS gives the stage without an API server.
def test_a_whip_host_that_does_not_resolve_is_a_retried_stage_error(output_dir, processes):
    closed_api = f"http://127.0.0.1:{harness.free_port()}"
    media = harness.MediaServer(output_dir, closed_api, extra_env=harness.relay_media_env(
        {"WHIP_DESTINATIONS": "http://whip-regional.invalid:8080/whip/stage-1 not-a-real-token"}))
    processes.append(media)
    media.start().wait_live()

    def failing_stage():
        stages = media.status().get("stages", [])
        record = stages[0] if stages else {}
        error = (record.get("lastError") or "").lower()
        return record if error and record.get("attempts", 0) >= 2 else None

    record = wait_until(failing_stage, 20, "the stage's DNS error and a second attempt",
                        interval=0.1, context=media.log_tail)
    print(f"\nDNS failure on the stage record: {record['lastError']!r}, "
          f"attempts {record['attempts']}, state {record['state']}")
    error = record["lastError"].lower()
    assert "whip-regional.invalid" in error, record
    assert any(word in error for word in ("resolve", "host not found", "not known")), record
    assert "not-a-real-token" not in media.log_text(), "the destination's token is never logged"
    assert media.get("/health/live").status == 200 and media.running()
