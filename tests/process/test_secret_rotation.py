"""Issue 13 items 10 and 11 on the real `serve` process: secrets read from files
(<NAME>_FILE, the way Docker and Kubernetes mount them), rotated by SIGHUP without a restart
(the old ingest token keeps working for TOKEN_ROTATION_GRACE), and the ingest allow-list
(WHIP_INGEST_ALLOWED_CIDRS). Runs inside scripts/netns-run; all traffic is on 127.0.0.0/8.

Whether a token was accepted is read from the answer to a POST /whip whose Content-Type is
wrong: the token is checked first, so 401 means "refused" and 415 means "accepted" (and no
session is created either way).
"""

import http.client
import os
import re
import signal
import time

import harness
from harness import wait_until

ACCEPTED, REFUSED = 415, 401


def whip_answer(media, token: str, source: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", media.port, timeout=5,
                                            source_address=(source, 0))
    connection.request("POST", "/whip", body=b"not sdp",
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
    status = connection.getresponse().status
    connection.close()
    return status


def start_media(output_dir, processes, env: dict, drop=("WHIP_INGEST_TOKEN",)):
    closed_api = f"http://127.0.0.1:{harness.free_port()}"  # no API server: not needed here
    media = harness.MediaServer(output_dir, closed_api, extra_env=harness.relay_media_env(env))
    for name in drop:
        media.env.pop(name, None)
    processes.append(media)
    media.start().wait_live()
    return media


def test_a_token_file_rotated_by_sighup_keeps_the_old_token_for_the_grace(output_dir, processes):
    token_file = output_dir / "ingest-token"
    token_file.write_text("first-ingest-token-0001\n")
    media = start_media(output_dir, processes, {"WHIP_INGEST_TOKEN_FILE": token_file,
                                                "TOKEN_ROTATION_GRACE": 3000})
    pid = media.popen.pid
    assert whip_answer(media, "first-ingest-token-0001") == ACCEPTED, media.log_tail()
    assert whip_answer(media, "second-ingest-token-0002") == REFUSED

    token_file.write_text("second-ingest-token-0002\n")
    rotated_at = time.monotonic()
    os.kill(pid, signal.SIGHUP)
    media.wait_for_log("SIGHUP: WHIP_INGEST_TOKEN rotated", timeout=5)
    assert whip_answer(media, "second-ingest-token-0002") == ACCEPTED
    assert whip_answer(media, "first-ingest-token-0001") == ACCEPTED, "within the grace period"
    assert whip_answer(media, "third-token-0003") == REFUSED
    wait_until(lambda: whip_answer(media, "first-ingest-token-0001") == REFUSED, 15,
               "the old token to stop working after TOKEN_ROTATION_GRACE")
    print(f"\nold ingest token refused {time.monotonic() - rotated_at:.1f} s after SIGHUP "
          f"(TOKEN_ROTATION_GRACE 3 s)")
    assert whip_answer(media, "second-ingest-token-0002") == ACCEPTED
    assert media.running() and media.popen.pid == pid, "rotated without a restart"


def test_a_reload_that_does_not_load_keeps_the_running_secrets(output_dir, processes):
    token_file = output_dir / "ingest-token"
    token_file.write_text("running-ingest-token-01")
    media = start_media(output_dir, processes, {"WHIP_INGEST_TOKEN_FILE": token_file})
    token_file.unlink()
    os.kill(media.popen.pid, signal.SIGHUP)
    media.wait_for_log("the running one stays in force", timeout=5)
    assert "WHIP_INGEST_TOKEN_FILE=" in media.log_text(), "the error names the variable"
    assert whip_answer(media, "running-ingest-token-01") == ACCEPTED
    assert media.running()


def test_sighup_reads_dotenv_again_and_says_what_needs_a_restart(output_dir, processes):
    # The process's cwd is output_dir, so this is the .env it reads.
    (output_dir / ".env").write_text("WHEP_TOKEN=first-whep-token-01\n")
    media = start_media(output_dir, processes, {})
    (output_dir / ".env").write_text("WHEP_TOKEN=second-whep-token-2\nSTAGE_REPUBLISH_INTERVAL=3600000\n")
    os.kill(media.popen.pid, signal.SIGHUP)
    media.wait_for_log("SIGHUP: WHEP_TOKEN rotated", timeout=5)
    media.wait_for_log("SIGHUP: STAGE_REPUBLISH_INTERVAL changed in the configuration but applies only "
                       "at start", timeout=5)
    assert "second-whep-token-2" not in media.log_text(), "a secret is never logged"


def test_the_ingest_allow_list_refuses_other_addresses_before_their_token(output_dir, processes):
    media = start_media(output_dir, processes, {"WHIP_INGEST_ALLOWED_CIDRS": "127.0.0.2/32, ::1"},
                        drop=())
    assert whip_answer(media, harness.INGEST_TOKEN, source="127.0.0.2") == ACCEPTED
    assert whip_answer(media, "wrong-token", source="127.0.0.2") == REFUSED
    assert whip_answer(media, harness.INGEST_TOKEN, source="127.0.0.3") == 403
    assert whip_answer(media, harness.INGEST_TOKEN, source="127.0.0.1") == 403
    metrics = media.get("/metrics").body.decode()
    assert 'ivs_auth_failures_total{endpoint="whip"} 1' in metrics, \
        "only the wrong token from the listed address counts as an authentication failure"


# Issue 13: the API server's own secrets rotate too. The order that refuses nothing: the API
# server first (SIGHUP; old and new values both work for its TOKEN_ROTATION_GRACE), then the
# media server (SIGHUP; it sends the new values from then on). After the grace, only the new
# values open the API, and the media server has kept heartbeating throughout.
def test_the_api_server_rotates_its_secrets_and_the_media_servers_follow(output_dir, processes):
    api_dir, media_dir = output_dir / "api", output_dir / "media"
    api_dir.mkdir()
    media_dir.mkdir()
    for directory in (api_dir, media_dir):
        (directory / "api-key").write_text("old-api-key-000000001\n")
        (directory / "media-secret").write_text("old-media-secret-0001\n")
    secret_files = {"API_SECRET_KEY_FILE": "api-key", "MEDIA_SERVER_SECRET_FILE": "media-secret"}
    api = harness.ApiServer(api_dir, extra_env={
        **{name: api_dir / file for name, file in secret_files.items()},
        "TOKEN_ROTATION_GRACE": 4000, "API_DATA_DIR": ""})
    del api.env["API_SECRET_KEY"], api.env["MEDIA_SERVER_SECRET"]
    processes.append(api)
    api.start().wait_ready()
    media = harness.MediaServer(media_dir, api.url, extra_env={
        name: media_dir / file for name, file in secret_files.items()})
    del media.env["API_SECRET_KEY"], media.env["MEDIA_SERVER_SECRET"]
    processes.append(media)
    media.start().wait_live()

    def servers(api_key: str) -> int:
        return harness.http("GET", api.url + "/api/media/servers",
                            {"x-api-key": api_key}).status

    def heartbeats() -> int:
        answer = harness.http("GET", api.url + "/api/media/servers",
                              {"x-api-key": "new-api-key-000000002"})
        record = next(s for s in answer.json()["servers"] if s["serverId"] == media.server_id)
        return record["heartbeats"]

    wait_until(lambda: servers("old-api-key-000000001") == 200 and "registered" in
               media.log_text(), 10, "the media server registered with the old secrets",
               context=media.log_tail)

    (api_dir / "api-key").write_text("new-api-key-000000002\n")
    (api_dir / "media-secret").write_text("new-media-secret-0002\n")
    os.kill(api.popen.pid, signal.SIGHUP)
    api.wait_for_log("SIGHUP: API_SECRET_KEY rotated", timeout=5)
    api.wait_for_log("SIGHUP: MEDIA_SERVER_SECRET rotated", timeout=5)
    assert servers("new-api-key-000000002") == 200
    assert servers("old-api-key-000000001") == 200, "within the grace period"
    before = heartbeats()
    wait_until(lambda: heartbeats() > before + 2, 5, "heartbeats with the old secrets (grace)")

    (media_dir / "api-key").write_text("new-api-key-000000002\n")
    (media_dir / "media-secret").write_text("new-media-secret-0002\n")
    os.kill(media.popen.pid, signal.SIGHUP)
    media.wait_for_log("SIGHUP: API_SECRET_KEY rotated", timeout=5)
    wait_until(lambda: servers("old-api-key-000000001") == 401, 15,
               "the old API key refused after the grace period")
    after_grace = heartbeats()
    wait_until(lambda: heartbeats() > after_grace + 2, 5, "heartbeats with the new secrets")
    # (Not a search for "401": log timestamps contain it; a refused heartbeat logs one of these.)
    assert not re.search(r"heartbeat (refused|failed)", media.log_text()), \
        "a heartbeat of the media server was refused during the rotation"
    assert "new-api-key-000000002" not in api.log_text() + media.log_text()
