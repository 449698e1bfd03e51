"""The reference API server as a process: its HTTP contract (docs/api-server.md), the WebSocket
push, its tokens checked with an independent ES384 implementation (python3-cryptography), the
state and key files, configuration errors and signal handling."""

import asyncio
import base64
import json
import re
import signal
import time

import aiohttp
import pytest

import harness
from harness import API_KEY, MEDIA_SECRET, http

ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

# (method, path, needs x-media-auth too). DELETE targets a stage created by the test.
PROTECTED_ROUTES = [
    ("POST", "/api/media/register", True),
    ("GET", "/api/media/stages", False),
    ("POST", "/api/media/token", True),
    ("POST", "/api/media/heartbeat", False),
    ("GET", "/api/media/servers", False),
    ("POST", "/api/stages", False),
    ("GET", "/api/stages", False),
    ("DELETE", "/api/stages/{id}", False),
]


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_listens_and_exits_zero_on_sigterm(output_dir, processes):
    server = harness.ApiServer(output_dir)
    processes.append(server)
    server.start().wait_ready()
    server.wait_for_log(f"listening on http://127.0.0.1:{server.port}", timeout=2)
    code, seconds = server.stop(timeout=5)
    assert code == 0, server.log_tail()
    assert seconds < 5


def test_exits_zero_on_sigint_with_a_websocket_client_connected(output_dir, processes, api_server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(api_server.url + "/ws?type=media-server",
                                          headers=harness.api_headers()) as ws:
                code, seconds = api_server.stop(timeout=5, sig=signal.SIGINT)
                assert code == 0, api_server.log_tail()
                message = await asyncio.wait_for(ws.receive(), 5)
                assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                        aiohttp.WSMsgType.ERROR)
    asyncio.run(scenario())


@pytest.mark.parametrize("method,path,needs_media_auth", PROTECTED_ROUTES)
def test_wrong_or_missing_keys_are_401_on_every_route(api_server, method, path, needs_media_auth):
    stage = api_server.create_stage("victim")
    path = path.replace("{id}", stage["id"])
    body = {"serverId": "x", "ipAddress": "127.0.0.1", "port": 1, "stageArn": stage["stageArn"],
            "publisherActive": False, "connectedStages": 0}
    cases = [({}, "missing x-api-key header"),
             ({"x-api-key": "not-the-key", "x-media-auth": MEDIA_SECRET}, "invalid x-api-key header")]
    if needs_media_auth:
        cases += [({"x-api-key": API_KEY}, "missing x-media-auth header"),
                  ({"x-api-key": API_KEY, "x-media-auth": "nope"}, "invalid x-media-auth header")]
    for headers, expected in cases:
        answer = http(method, api_server.url + path, headers, body)
        assert answer.status == 401, (headers, answer.body)
        assert answer.json() == {"error": expected}
        assert b"not-the-key" not in answer.body and b"nope" not in answer.body
    # Nothing the refused calls asked for happened.
    assert [s["id"] for s in api_server.call("GET", "/api/stages").json()["stages"]] == [stage["id"]]
    assert api_server.servers() == []


def test_websocket_upgrade_needs_both_headers(api_server):
    async def status_of(headers):
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(api_server.url + "/ws?type=media-server",
                                              headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status
    assert asyncio.run(status_of({})) == 401
    assert asyncio.run(status_of({"x-api-key": API_KEY})) == 401
    assert asyncio.run(status_of({"x-api-key": "wrong", "x-media-auth": MEDIA_SECRET})) == 401
    assert asyncio.run(status_of(harness.api_headers())) == 101


def test_bad_bodies_are_400_or_422_with_a_reason(api_server):
    register = api_server.url + "/api/media/register"
    for raw in ["{not json", "", "[]", '"text"', '{"serverId":']:
        answer = http("POST", register, harness.api_headers(), raw)
        assert answer.status == 400, (raw, answer.body)
        assert answer.json()["error"]
    answer = http("POST", register, harness.api_headers(), {"serverId": "a", "port": 3001})
    assert (answer.status, answer.json()["error"]) == (400, "missing field ipAddress")
    answer = http("POST", register, harness.api_headers(),
                  {"serverId": "a", "ipAddress": "127.0.0.1", "port": "3001"})
    assert answer.status == 422
    # The server is still fine afterwards.
    assert http("GET", api_server.url + "/health").status == 200


def test_heartbeat_from_unregistered_server_is_404_json(api_server):
    answer = api_server.call("POST", "/api/media/heartbeat",
                             {"serverId": "ghost", "publisherActive": False, "connectedStages": 0})
    assert answer.status == 404
    assert "register" in answer.json()["error"]


def test_register_then_heartbeat_is_listed(api_server):
    answer = api_server.call("POST", "/api/media/register",
                             {"serverId": "m1", "ipAddress": "127.0.0.1", "port": 3001})
    assert answer.status == 200, answer.body
    answer = api_server.call("POST", "/api/media/heartbeat",
                             {"serverId": "m1", "publisherActive": True, "connectedStages": 2},
                             media_auth=False)
    assert answer.status == 200, answer.body
    record = api_server.server("m1")
    assert record["ipAddress"] == "127.0.0.1" and record["port"] == 3001
    assert record["publisherActive"] is True and record["connectedStages"] == 2
    assert ISO_8601.match(record["registeredAt"]) and ISO_8601.match(record["lastHeartbeat"])


def test_stage_changes_are_pushed_to_every_websocket(api_server):
    async def scenario():
        async with aiohttp.ClientSession() as session:
            url = api_server.url + "/ws?type=media-server"
            headers = dict(harness.api_headers(), serverId="m1")
            async with session.ws_connect(url, headers=headers) as first, \
                    session.ws_connect(url, headers=headers) as second:
                stage = await asyncio.to_thread(api_server.create_stage, "pushed")
                for ws in (first, second):
                    message = json.loads(await asyncio.wait_for(ws.receive_str(), 2))
                    assert message["type"] == "stage_created"
                    assert message["data"]["stageArn"] == stage["stageArn"]
                    assert ISO_8601.match(message["data"]["timestamp"])
                await asyncio.to_thread(api_server.delete_stage, stage["id"])
                for ws in (first, second):
                    message = json.loads(await asyncio.wait_for(ws.receive_str(), 2))
                    assert message["type"] == "stage_deleted"
                    assert message["data"]["stageArn"] == stage["stageArn"]
    asyncio.run(scenario())


def test_delete_by_url_encoded_arn(api_server):
    stage = api_server.create_stage("by-arn")
    from urllib.parse import quote
    answer = api_server.call("DELETE", "/api/stages/" + quote(stage["stageArn"], safe=""))
    assert answer.status == 200, answer.body
    assert api_server.call("GET", "/api/media/stages").json() == {"stages": []}


def test_token_is_es384_and_verifies_with_the_published_key(api_server):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    stage = api_server.create_stage("tokens")
    before = int(time.time())
    answer = api_server.call("POST", "/api/media/token",
                             {"serverId": "m1", "stageArn": stage["stageArn"]})
    assert answer.status == 200, answer.body
    body = answer.json()
    assert set(body) >= {"token", "participantId", "whipUrl", "expirationTime"}
    assert body["whipUrl"] == "http://127.0.0.1:3002/whip/" + stage["id"]

    header_b64, claims_b64, signature_b64 = body["token"].split(".")
    header = json.loads(b64url_decode(header_b64))
    claims = json.loads(b64url_decode(claims_b64))
    assert header["alg"] == "ES384"
    assert claims["resource"] == stage["stageArn"] and claims["topic"] == stage["id"]
    assert claims["jti"] == body["participantId"]
    assert claims["whip_url"] == body["whipUrl"]
    assert claims["capabilities"]["allow_publish"] is True
    assert claims["version"] == "1.0"
    assert before <= claims["iat"] <= before + 5
    assert claims["exp"] - claims["iat"] == 720 * 60

    raw = b64url_decode(signature_b64)
    assert len(raw) == 96
    signature = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    signed = f"{header_b64}.{claims_b64}".encode()
    pem = http("GET", api_server.url + "/api/keys/public.pem").body
    public_key = serialization.load_pem_public_key(pem)
    public_key.verify(signature, signed, ec.ECDSA(hashes.SHA384()))
    jwk = http("GET", api_server.url + "/api/keys").json()["keys"][0]
    assert jwk["kid"] == header["kid"] and jwk["crv"] == "P-384"
    numbers = public_key.public_numbers()
    assert int.from_bytes(b64url_decode(jwk["x"]), "big") == numbers.x
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, signed + b"x", ec.ECDSA(hashes.SHA384()))


def test_state_and_key_files_survive_a_restart(output_dir, processes):
    extra = {"API_STATE_FILE": output_dir / "state.json",
             "API_TOKEN_KEY_FILE": output_dir / "token-key.pem"}
    server = harness.ApiServer(output_dir, extra_env=extra)
    processes.append(server)
    server.start().wait_ready()
    kept = server.create_stage("kept")
    dropped = server.create_stage("dropped")
    server.delete_stage(dropped["id"])
    kid = http("GET", server.url + "/api/keys").json()["keys"][0]["kid"]
    assert server.stop(timeout=5)[0] == 0

    server.start().wait_ready()
    stages = server.call("GET", "/api/stages").json()["stages"]
    assert [(s["stageArn"], s["name"]) for s in stages] == [(kept["stageArn"], "kept")]
    assert http("GET", server.url + "/api/keys").json()["keys"][0]["kid"] == kid
    assert server.stop(timeout=5)[0] == 0


def test_initial_stages_from_the_environment(output_dir, processes):
    server = harness.ApiServer(output_dir, extra_env={"API_INITIAL_STAGES": "lobby,main"})
    processes.append(server)
    server.start().wait_ready()
    names = [s["name"] for s in server.call("GET", "/api/media/stages").json()["stages"]]
    assert names == ["lobby", "main"]
    assert server.stop(timeout=5)[0] == 0


@pytest.mark.parametrize("override,variable", [
    ({"API_SECRET_KEY": ""}, "API_SECRET_KEY"),
    ({"MEDIA_SERVER_SECRET": ""}, "MEDIA_SERVER_SECRET"),
    ({"AWS_ACCOUNT_ID": "12345"}, "AWS_ACCOUNT_ID"),
    ({"PORT": "http"}, "PORT"),
    ({"API_INITIAL_STAGES": "bad name"}, "API_INITIAL_STAGES"),
])
def test_bad_configuration_exits_2_naming_the_variable(output_dir, processes, override, variable):
    server = harness.ApiServer(output_dir, extra_env=override)
    processes.append(server)
    server.start()
    assert server.popen.wait(timeout=5) == 2
    lines = [line for line in server.log_text().splitlines() if not line.startswith("====")]
    assert len(lines) == 1 and variable in lines[0], lines
    assert MEDIA_SECRET not in lines[0] and API_KEY not in lines[0]


def test_port_in_use_fails_to_start_with_exit_1(output_dir, processes, api_server):
    second = harness.ApiServer(output_dir, port=api_server.port, name="api-server-2")
    processes.append(second)
    second.start()
    assert second.popen.wait(timeout=5) == 1
    assert "cannot start" in second.log_text()
