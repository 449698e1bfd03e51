"""STAGE_SOURCE=ivs against the local IVS Real-Time stand-in (`media-server ivs-fake`, which
verifies every request's SigV4 with our verifier, throttles each action at 50 requests/s like
IVS and mints tokens the local `stage` role accepts), as issue 14's "How it will be checked"
asks:

  - 3 tagged stages + 1 untagged -> the 3 tagged are published, the untagged never is
  - a stage tagged later is picked up at the next STAGE_SYNC_INTERVAL
  - 200 tagged stages with client pacing off: the stand-in throttles, the server backs off
    with jitter, and all 200 are published
  - a denied action (AccessDenied) shows its error naming the IAM action, per stage and for
    the process; a skewed clock is reported as such
  - self-signed tokens: every stage published with no CreateParticipantToken call at all
"""

import re
import subprocess

import pytest

import harness
from harness import MediaServer, Process, StageServer, free_port, http, wait_until

TAG = "media-server=relay-test"
ACCESS_KEY = "AKIAIVSFAKETEST"
SECRET_KEY = "ivs-fake-test-secret"
SESSION_TOKEN = "ivs-fake-session-token"


class IvsFake(Process):
    def __init__(self, output_dir, whip_base: str, extra_env=None):
        self.port = free_port()
        env = {"IVS_FAKE_PORT": self.port, "IVS_FAKE_ACCESS_KEY_ID": ACCESS_KEY,
               "IVS_FAKE_SECRET_ACCESS_KEY": SECRET_KEY, "IVS_FAKE_SESSION_TOKEN": SESSION_TOKEN,
               "STAGE_WHIP_URL_BASE": whip_base, "LOG_LEVEL": "debug"}
        env.update(extra_env or {})
        super().__init__("ivs-fake", ["ivs-fake"], env, output_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> "IvsFake":
        wait_until(lambda: http("GET", self.url + "/health", timeout=0.5).status == 200, 10,
                   "ivs-fake /health", context=self.log_tail)
        return self

    def create_stage(self, name: str, tags: dict) -> dict:
        answer = http("POST", self.url + "/_fake/stages", body={"name": name, "tags": tags})
        assert answer.status == 201, answer.body
        return answer.json()

    def set_tags(self, stage_id: str, tags: dict) -> None:
        assert http("PUT", f"{self.url}/_fake/stages/{stage_id}/tags",
                    body={"tags": tags}).status == 200

    def deny(self, action: str, denied: bool = True) -> None:
        assert http("POST", self.url + "/_fake/deny",
                    body={"action": action, "denied": denied}).status == 200

    def stats(self) -> dict:
        return http("GET", self.url + "/_fake/stats").json()


def ivs_media_env(fake: IvsFake, extra=None) -> dict:
    env = harness.relay_media_env({
        "STAGE_SOURCE": "ivs", "IVS_STAGE_TAG": TAG,
        "AWS_ENDPOINT_URL_IVS_REALTIME": fake.url, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_EC2_METADATA_DISABLED": "true",
        "STAGE_SYNC_INTERVAL": 1000, "API_SERVER_URL": "http://127.0.0.1:9",
    })
    env.update(extra or {})
    return env


def start_stack(output_dir, processes, media_extra=None, fake_extra=None, stage_extra=None,
                stage_api_url=None):
    stage_port = free_port()
    fake = IvsFake(output_dir, f"http://127.0.0.1:{stage_port}/whip", fake_extra)
    processes.append(fake)
    fake.start().wait_ready()
    stage = StageServer(output_dir, stage_api_url or fake.url, port=stage_port,
                        extra_env=stage_extra)
    processes.append(stage)
    stage.start().wait_ready()
    return fake, stage


def start_media(output_dir, processes, fake, extra=None) -> MediaServer:
    media = MediaServer(output_dir, "http://127.0.0.1:9", extra_env=ivs_media_env(fake, extra))
    processes.append(media)
    media.start().wait_live()
    return media


def states(media: MediaServer) -> dict:
    return {s["stageArn"]: s for s in media.status()["stages"]}


def all_connected(media: MediaServer, arns: set) -> bool:
    current = states(media)
    return set(current) == arns and all(s["state"] == "connected" for s in current.values())


def test_tagged_stages_published_untagged_never_and_late_tag_picked_up(output_dir, processes):
    fake, stage = start_stack(output_dir, processes)
    tagged = {fake.create_stage(f"tagged-{i}", {"media-server": "relay-test"})["arn"]
              for i in range(3)}
    untagged = fake.create_stage("other-team", {"media-server": "someone-else"})
    media = start_media(output_dir, processes, fake)
    wait_until(lambda: all_connected(media, tagged), 30, "3 tagged stages connected",
               context=media.log_tail)
    for arn in tagged:
        assert stage.stage(arn.rsplit("/", 1)[1])["publishes"] >= 1
    assert stage.stage(untagged["id"])["publishes"] == 0
    status = media.status()
    source = status["stageSource"]
    assert source["kind"] == "ivs" and source["credentials"] == "environment"
    assert source["stagesListed"] == 4 and source["stagesTagged"] == 3
    assert SECRET_KEY not in str(status) and SESSION_TOKEN not in str(status)
    assert media.ready_status() == 200
    counts = fake.stats()["counts"]
    assert counts.get("signatureRejected", 0) == 0 and counts["CreateParticipantToken"] == 3

    # Tagged later: picked up at the next listing (STAGE_SYNC_INTERVAL 1 s).
    fake.set_tags(untagged["id"], {"media-server": "relay-test"})
    wait_until(lambda: all_connected(media, tagged | {untagged["arn"]}), 30,
               "the late-tagged stage connected", context=media.log_tail)
    # Untagged again: its session is closed.
    fake.set_tags(untagged["id"], {})
    wait_until(lambda: set(states(media)) == tagged, 30, "the untagged stage removed")


def test_two_hundred_stages_throttled_then_all_published(output_dir, processes):
    fake, stage = start_stack(output_dir, processes)
    arns = {fake.create_stage(f"s{i}", {"media-server": "relay-test"})["arn"] for i in range(200)}
    # Pacing off and many connects at once, so the stand-in's 50/s limit is really hit.
    media = start_media(output_dir, processes, fake,
                        {"IVS_API_MAX_RATE": 0, "MAX_CONCURRENT_CONNECTS": 100,
                         "LOG_LEVEL": "info"})
    wait_until(lambda: all_connected(media, arns), 240, "200 stages connected",
               context=media.log_tail, interval=0.5)
    stats = fake.stats()
    assert stats["counts"].get("throttled", 0) > 0, stats["counts"]
    assert media.status()["stageSource"]["throttled"] > 0
    metrics = media.get("/metrics").body.decode()
    throttled = re.search(r'^ivs_aws_api_errors_total\{kind="throttled"\} (\d+)', metrics, re.M)
    assert throttled and int(throttled.group(1)) > 0, "throttling is counted on /metrics"
    assert re.search(r"^ivs_aws_api_requests_total \d+", metrics, re.M)
    assert len(stats["tokensByStage"]) == 200
    assert stats["counts"].get("signatureRejected", 0) == 0


def test_paced_client_is_not_throttled(output_dir, processes):
    fake, stage = start_stack(output_dir, processes)
    arns = {fake.create_stage(f"s{i}", {"media-server": "relay-test"})["arn"] for i in range(60)}
    media = start_media(output_dir, processes, fake, {"MAX_CONCURRENT_CONNECTS": 100,
                                                      "LOG_LEVEL": "info"})
    wait_until(lambda: all_connected(media, arns), 120, "60 stages connected",
               context=media.log_tail, interval=0.5)
    assert fake.stats()["counts"].get("throttled", 0) == 0


def test_denied_action_names_the_iam_action(output_dir, processes):
    fake, stage = start_stack(output_dir, processes)
    arn = fake.create_stage("denied", {"media-server": "relay-test"})["arn"]
    fake.deny("CreateParticipantToken")
    media = start_media(output_dir, processes, fake)

    def denied_everywhere():
        status = media.status()
        record = next((s for s in status["stages"] if s["stageArn"] == arn), None)
        process_error = status["stageSource"]["lastError"] or ""
        return record and "ivs:CreateParticipantToken" in (record["lastError"] or "") and \
            "AccessDeniedException" in process_error and "ivs:CreateParticipantToken" in process_error
    wait_until(denied_everywhere, 20, "AccessDenied on the stage and the process",
               context=media.log_tail)
    assert "ivs:CreateParticipantToken" in media.log_text()
    # Allowed again: the stage recovers on its own (the error was not permanent).
    fake.deny("CreateParticipantToken", False)
    wait_until(lambda: all_connected(media, {arn}), 60, "stage connected after the fix",
               context=media.log_tail)


def test_denied_listing_and_clock_skew_are_reported(output_dir, processes):
    fake, stage = start_stack(output_dir, processes, fake_extra={"IVS_FAKE_CLOCK_OFFSET": 3600})
    fake.create_stage("skewed", {"media-server": "relay-test"})
    media = start_media(output_dir, processes, fake)

    def skew_reported():
        source = media.status()["stageSource"]
        return "Signature expired" in (source["lastError"] or "") and \
            "clock" in source["lastError"] and source["clockSkew"] > 0
    wait_until(skew_reported, 20, "clock skew reported", context=media.log_tail)
    assert abs(media.status()["stageSource"]["clockSkewSeconds"] - 3600) < 30
    assert media.ready_status() == 503  # never listed: not ready


def test_self_signed_tokens_need_no_token_calls(output_dir, processes, tmp_path):
    private = tmp_path / "priv.pem"
    public = tmp_path / "public.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out",
                    str(private)], check=True)
    subprocess.run(["openssl", "ec", "-in", str(private), "-pubout", "-out", str(public)],
                   check=True, capture_output=True)
    # The stage role verifies with the imported public key, as IVS would.
    fake, stage = start_stack(output_dir, processes,
                              stage_extra={"STAGE_PUBLIC_KEY_FILE": str(public)})
    arns = {fake.create_stage(f"self-{i}", {"media-server": "relay-test"})["arn"]
            for i in range(3)}
    key_arn = "arn:aws:ivs:us-east-1:123456789012:public-key/abcdEFGH1234"
    media = start_media(output_dir, processes, fake, {
        "IVS_TOKEN_PRIVATE_KEY_FILE": str(private), "IVS_PUBLIC_KEY_ARN": key_arn,
        "WHIP_ENDPOINT": stage.whip_base + "/"})
    wait_until(lambda: all_connected(media, arns), 30, "self-signed stages connected",
               context=media.log_tail)
    counts = fake.stats()["counts"]
    assert counts.get("CreateParticipantToken", 0) == 0 and counts["ListStages"] >= 1
    assert media.status()["stageSource"]["tokens"] == f"self-signed ({key_arn})"
