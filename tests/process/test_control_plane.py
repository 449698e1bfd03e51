"""The media server's control plane against the reference API server, both as real processes
(issue "Foundation and control plane", "How it will be checked"): registration and heartbeats,
stage push within one second, surviving an API server outage and restart without being
restarted itself, and a graceful SIGTERM that reports connectedStages 0 on its way out."""

from datetime import datetime, timedelta, timezone

import pytest

import harness
from harness import wait_until

HEARTBEAT_S = 0.2  # HEARTBEAT_INTERVAL=200 in harness.MediaServer


def start_pair(output_dir, processes, api_env=None, media_env=None):
    api = harness.ApiServer(output_dir, extra_env=api_env)
    processes.append(api)
    api.start().wait_ready()
    media = harness.MediaServer(output_dir, api.url, extra_env=media_env)
    processes.append(media)
    media.start().wait_live()
    return api, media


def context(*processes):
    return lambda: "\n".join(p.log_tail(25) for p in processes)


def heartbeats(api, server_id):
    record = api.server(server_id)
    return record["heartbeats"] if record else 0


def test_registers_and_heartbeats(output_dir, processes):
    api, media = start_pair(output_dir, processes)
    record = wait_until(lambda: api.server(media.server_id), 5, "registration",
                        context=context(api, media))
    assert record["ipAddress"] == "127.0.0.1"
    assert record["port"] == media.port
    first = wait_until(lambda: heartbeats(api, media.server_id), 5, "a first heartbeat",
                       context=context(api, media))
    # At 200 ms, five more heartbeats take about a second; allow generous slack for a busy box.
    wait_until(lambda: heartbeats(api, media.server_id) >= first + 5, 5,
               "five more heartbeats", context=context(api, media))
    record = api.server(media.server_id)
    assert record["lastHeartbeat"] is not None
    assert record["connectedStages"] == 0 and record["publisherActive"] is False
    wait_until(lambda: media.ready_status() == 200, 5, "/health/ready 200",
               context=context(media))


def test_stage_created_and_deleted_reach_the_media_server_within_a_second(output_dir, processes):
    api, media = start_pair(output_dir, processes)
    wait_until(lambda: media.ready_status() == 200, 5, "ready", context=context(api, media))
    # The WebSocket must be up before the push can be observed; the API server logs it.
    api.wait_for_log("connected to /ws", timeout=5)
    stage = api.create_stage("pushed")
    wait_until(lambda: stage["stageArn"] in media.stage_arns(), 1.0,
               "the new stage in /api/status", context=context(api, media))
    api.delete_stage(stage["id"])
    wait_until(lambda: stage["stageArn"] not in media.stage_arns(), 1.0,
               "the stage to leave /api/status", context=context(api, media))


def test_stages_existing_at_start_are_synced(output_dir, processes):
    api, media = start_pair(output_dir, processes, api_env={"API_INITIAL_STAGES": "3"})
    arns = {s["stageArn"] for s in api.call("GET", "/api/media/stages").json()["stages"]}
    assert len(arns) == 3
    wait_until(lambda: media.stage_arns() == arns, 5, "the three initial stages",
               context=context(api, media))


def test_api_server_outage_and_restart(output_dir, processes):
    # An API server that forgets everything on restart (API_DATA_DIR empty; the default keeps
    # stages, test_api_server_restart.py), so the resync below must also drop a stage.
    api, media = start_pair(output_dir, processes, api_env={"API_DATA_DIR": ""})
    old_stage = api.create_stage("before")
    wait_until(lambda: old_stage["stageArn"] in media.stage_arns(), 5, "first stage",
               context=context(api, media))
    wait_until(lambda: media.ready_status() == 200, 5, "ready", context=context(api, media))

    assert api.stop(timeout=5)[0] == 0
    # Degraded within a few heartbeat intervals, but still ready and alive throughout: an API
    # outage must not pull a registered media server out of its load balancer (issue 13).
    wait_until(lambda: media.get("/health").json()["status"] == "degraded",
               10 * HEARTBEAT_S + 2, "/health degraded with the API server down",
               context=context(media))
    assert media.ready_status() == 200
    assert media.get("/health/ready").json()["status"] == "degraded"
    assert media.status()["registered"] is False
    for _ in range(5):
        assert media.get("/health/live").status == 200
    assert media.running()

    # Same port, empty memory: the media server must register again and resync by itself.
    api.start().wait_ready()
    wait_until(lambda: api.server(media.server_id), 15, "re-registration",
               context=context(api, media))
    new_stage = api.create_stage("after")
    wait_until(lambda: media.stage_arns() == {new_stage["stageArn"]}, 15,
               "resync to the new API server's stages", context=context(api, media))
    wait_until(lambda: media.get("/health/ready").json()["status"] == "healthy", 10,
               "healthy again", context=context(media))
    assert media.starts == 1


def test_sigterm_exits_zero_and_sends_a_final_heartbeat(output_dir, processes):
    # A long heartbeat period, so a heartbeat that arrives after SIGTERM can only be the final one.
    api, media = start_pair(output_dir, processes,
                            media_env={"SHUTDOWN_TIMEOUT": 3000, "HEARTBEAT_INTERVAL": 60000})
    stage = api.create_stage("live")
    wait_until(lambda: stage["stageArn"] in media.stage_arns(), 5, "stage synced",
               context=context(api, media))
    wait_until(lambda: api.server(media.server_id), 5, "registration", context=context(api, media))
    before = heartbeats(api, media.server_id)
    signalled_at = datetime.now(timezone.utc) - timedelta(milliseconds=5)
    code, seconds = media.stop(timeout=10)
    assert code == 0, media.log_tail()
    assert seconds <= 3.0 + 1.0, f"took {seconds:.2f} s with SHUTDOWN_TIMEOUT=3000"
    record = api.server(media.server_id)
    assert record["heartbeats"] == before + 1, (record, media.log_tail())
    last = datetime.fromisoformat(record["lastHeartbeat"].replace("Z", "+00:00"))
    assert last >= signalled_at, record
    assert record["connectedStages"] == 0
    assert record["publisherActive"] is False
