"""Issue 13 item 14: the reference API server survives a restart by default. Before, after
`kill -9` and a restart it came back with a new signing key and no stages, and 0 of 3 stages
ever recovered: the stage role kept refusing every new participant token ("signature does not
verify") with the key it had fetched once. Now the key and the stages live in API_DATA_DIR
(default ./api-server-data, files 0600), and the stage role fetches /api/keys again when a token
fails to verify, so even a deliberately new key is picked up without restarting anything.

Whether the stage role accepted a token is read from a POST /whip/<stage> with the wrong
Content-Type: the token is checked first, so 401 means "refused" and 415 "accepted" (and no
session is created). Runs inside scripts/netns-run; all traffic is on 127.0.0.0/8.
"""

import http.client
import signal
import stat

import harness
from harness import wait_until

ACCEPTED, REFUSED = 415, 401


def stage_answer(stage, stage_id: str, token: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", stage.port, timeout=5)
    connection.request("POST", f"/whip/{stage_id}", body=b"not sdp",
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
    status = connection.getresponse().status
    connection.close()
    return status


def token_for(api, stage_record) -> str:
    answer = api.call("POST", "/api/media/token",
                      {"serverId": "restart-test", "stageArn": stage_record["stageArn"]})
    assert answer.status == 200, answer.body
    return answer.json()["token"]


def kid(api) -> str:
    return api.call("GET", "/api/keys", media_auth=False).json()["keys"][0]["kid"]


def test_kill_9_and_restart_keeps_the_key_and_the_stages(output_dir, processes):
    api, stage, stages = harness.start_api_and_stage(output_dir, processes, initial_stages=3)
    first_kid = kid(api)
    data_dir = output_dir / "api-server-data"
    for name in ("token-key.pem", "state.json"):
        mode = stat.S_IMODE((data_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700

    api.popen.send_signal(signal.SIGKILL)
    api.popen.wait(5)
    api.start().wait_ready()
    assert kid(api) == first_kid, "the signing key survived kill -9"
    assert api.call("GET", "/api/stages").json()["stages"] == stages, "so did the stages"
    for record in stages:
        assert stage_answer(stage, record["id"], token_for(api, record)) == ACCEPTED

    # A new key on purpose (the key file deleted): the stage role refuses the first token signed
    # with it, fetches /api/keys again, and accepts the retry, as a media server's backoff would.
    api.stop()
    (data_dir / "token-key.pem").unlink()
    api.start().wait_ready()
    assert kid(api) != first_kid
    assert api.call("GET", "/api/stages").json()["stages"] == stages
    new_token = token_for(api, stages[0])
    assert stage_answer(stage, stages[0]["id"], new_token) == REFUSED, "still the old key"
    wait_until(lambda: stage_answer(stage, stages[0]["id"], new_token) == ACCEPTED, 15,
               "the stage role to fetch the new key after a refused token",
               context=stage.log_tail)
    stage.wait_for_log("the API server's token key changed", timeout=1)
    for record in stages[1:]:
        assert stage_answer(stage, record["id"], token_for(api, record)) == ACCEPTED


def test_an_empty_data_dir_keeps_everything_in_memory(output_dir, processes):
    api = harness.ApiServer(output_dir, extra_env={"API_DATA_DIR": "", "API_INITIAL_STAGES": "1"})
    processes.append(api)
    api.start().wait_ready()
    first_kid = kid(api)
    api.stop()
    api.start().wait_ready()
    assert kid(api) != first_kid
    assert not (output_dir / "api-server-data").exists()
