"""The `stage` role (local stand-in for IVS Real-Time stages) and the `publish` role (test WHIP
publisher), as real processes: the reference API server mints participant tokens, the stage
verifies them with the key it fetched from /api/keys, `media-server publish` pushes generated
H.264 + Opus to a stage, and an aiortc WHEP viewer (an independent WebRTC stack) decodes it.
Refused tokens get 401/403 with the reason; WHIP POSTs and DELETEs are counted per stage."""

import json
import subprocess

import harness
from harness import wait_until

SDP_HEADERS = {"Content-Type": "application/sdp"}
# Small enough for aiortc to decode on a busy 2-core machine; the default is 1280x720.
PUBLISH_ARGS = ("--size", "640x360", "--bitrate", "800")


def start_stack(output_dir, processes):
    return harness.start_api_and_stage(output_dir, processes, initial_stages=2)


def token_for(api, stage_record) -> dict:
    answer = api.call("POST", "/api/media/token",
                      {"serverId": "stage-test", "stageArn": stage_record["stageArn"]})
    assert answer.status == 200, answer.body
    return answer.json()


def test_publish_to_a_stage_and_view_it(output_dir, processes):
    api, stage, stages = start_stack(output_dir, processes)
    first = stages[0]
    minted = token_for(api, first)
    assert minted["whipUrl"] == f"{stage.url}/whip/{first['id']}"

    publisher = harness.Publisher(output_dir, minted["whipUrl"], token=minted["token"],
                                  seconds=120, extra_args=PUBLISH_ARGS)
    processes.append(publisher)
    publisher.start()
    wait_until(lambda: stage.stage(first["id"])["live"], 90,
               "the stage to see the publisher live (first run generates media with ffmpeg)",
               interval=0.1, context=lambda: publisher.log_tail() + "\n" + stage.log_tail())

    result = harness.view(output_dir, stage.whep_url(first["id"]), seconds=40, until_frames=30)
    assert result["connected"], result
    assert result["framesDecoded"] >= 30, result
    assert (result["width"], result["height"]) == (640, 360), result

    record = stage.stage(first["id"])
    assert record["publishes"] == 1 and record["deletes"] == 0, record
    assert record["videoPackets"] > 0 and record["keyframes"] >= 1, record
    assert record["audioPackets"] > 0, record  # the Ogg Opus packets reach the stage
    assert record["whepUrl"] == f"/whep/{first['id']}", record
    # The other stage has never been published to.
    assert stage.stage(stages[1]["id"])["publishes"] == 0

    code, _ = publisher.stop()
    assert code == 0, publisher.log_tail()
    summary = publisher.summary()
    assert summary and summary["connected"] is True, summary
    assert summary["videoFrames"] > 30 and summary["audioPackets"] > 50, summary
    assert summary["deleted"] is True, summary
    assert summary["failure"] == "", summary
    wait_until(lambda: stage.stage(first["id"])["deletes"] == 1, 5, "the DELETE counted",
               context=stage.log_tail)
    assert not stage.stage(first["id"])["live"]


def test_bad_tokens_are_refused_with_the_reason(output_dir, processes):
    api, stage, stages = start_stack(output_dir, processes)
    first, second = stages
    minted = token_for(api, first)
    offer = "v=0\r\n"  # never negotiated: the token is checked first

    missing = harness.http("POST", f"{stage.url}/whip/{first['id']}", SDP_HEADERS, offer)
    assert missing.status == 401 and b"Authorization" in missing.body, missing

    forged = minted["token"][:-4] + ("AAAA" if not minted["token"].endswith("AAAA") else "BBBB")
    bad = harness.http("POST", f"{stage.url}/whip/{first['id']}",
                       dict(SDP_HEADERS, Authorization="Bearer " + forged), offer)
    assert bad.status == 401 and b"signature" in bad.body, bad
    assert forged.encode() not in bad.body

    wrong_stage = harness.http("POST", f"{stage.url}/whip/{second['id']}",
                               dict(SDP_HEADERS, Authorization="Bearer " + minted["token"]), offer)
    assert wrong_stage.status == 403 and b"another stage" in wrong_stage.body, wrong_stage

    # Refusals create no stage and count no publish.
    assert stage.stages() == {}

    # The publisher reports the refusal: status and body on stderr, exit 1, connected false.
    run = subprocess.run(
        [str(harness.binary()), "publish", "--url", f"{stage.url}/whip/{second['id']}",
         "--token", minted["token"], "--seconds", "5", "--video",
         str(harness.SOURCE_DIR / "testdata/media/tiny_160x96_10fps.h264")],
        capture_output=True, text=True, timeout=30)
    assert run.returncode == 1, run.stderr
    assert "HTTP 403" in run.stderr, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["connected"] is False and "403" in summary["failure"], summary


def test_whep_waits_for_a_publisher(output_dir, processes):
    _, stage, stages = start_stack(output_dir, processes)
    answer = harness.http("POST", stage.whep_url(stages[0]["id"]), SDP_HEADERS,
                          "v=0\r\n")
    # Not a negotiable offer, but the stage has no publisher: 409 + Retry-After comes first
    # (or 400 for the offer, depending on the order); never 404 or 401.
    assert answer.status in (409, 400), answer
    if answer.status == 409:
        assert answer.headers.get("Retry-After"), answer.headers
    assert harness.http("GET", stage.url + "/api/stages").status == 200
    assert harness.http("POST", stage.url + "/whip/bad%20id", SDP_HEADERS, "v=0").status in (
        401, 404)


def test_publish_usage_errors(output_dir):
    run = subprocess.run([str(harness.binary()), "publish"], capture_output=True, text=True,
                         timeout=10)
    assert run.returncode == 2 and "--url is required" in run.stderr, run.stderr
    run = subprocess.run([str(harness.binary()), "publish", "--url", "http://127.0.0.1:1/whip",
                          "--size", "big"], capture_output=True, text=True, timeout=10)
    assert run.returncode == 2 and "--size" in run.stderr, run.stderr


def test_a_second_publisher_replaces_the_first(output_dir, processes):
    """One publisher per stage: a new WHIP POST with a fresh token replaces the live one once
    it connects (the media server's make-before-break republish relies on it); viewers then
    decode the new one, and the old publisher learns its session was closed."""
    api, stage, stages = start_stack(output_dir, processes)
    first = stages[0]
    old_token, new_token = token_for(api, first), token_for(api, first)
    old = harness.Publisher(output_dir, old_token["whipUrl"], token=old_token["token"],
                            seconds=120, extra_args=PUBLISH_ARGS, name="old-publisher")
    processes.append(old)
    old.start()
    wait_until(lambda: stage.stage(first["id"])["live"], 90, "the first publisher live",
               interval=0.1, context=lambda: old.log_tail() + "\n" + stage.log_tail())

    new = harness.Publisher(output_dir, new_token["whipUrl"], token=new_token["token"],
                            seconds=120, extra_args=PUBLISH_ARGS, name="new-publisher")
    processes.append(new)
    new.start()
    wait_until(lambda: stage.stage(first["id"])["publishes"] == 2, 30, "the second publish",
               interval=0.1, context=lambda: new.log_tail() + "\n" + stage.log_tail())
    # The replaced publisher is told (close_notify) and ends by itself, having connected.
    wait_until(lambda: not old.running(), 30, "the replaced publisher to exit",
               context=lambda: old.log_tail())
    assert old.popen.returncode == 0, old.log_tail()
    assert old.summary()["failure"] == "closed by the server", old.summary()

    result = harness.view(output_dir, stage.whep_url(first["id"]), seconds=40, until_frames=30)
    assert result["framesDecoded"] >= 30, result
    assert stage.stage(first["id"])["live"]
    code, _ = new.stop()
    assert code == 0 and new.summary()["deleted"] is True, new.summary()
