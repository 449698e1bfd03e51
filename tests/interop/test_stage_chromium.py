"""Proof against a stack we did not write: `media-server publish` (generated H.264 + Opus) goes
to a stage of the `stage` role with a participant token from the reference API server, and
Chromium (chromium.mjs view, an independent WebRTC stack) decodes the stage over WHEP
(inbound-rtp framesDecoded). Processes come from the process-test harness; runs inside
scripts/netns-run (ctest does that)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "process"))

import harness  # noqa: E402
from harness import wait_until  # noqa: E402

INTEROP_DIR = Path(__file__).resolve().parent
MIN_FRAMES = 30


@pytest.fixture
def output_dir():
    path = harness.SOURCE_DIR / "test-output" / "interop" / "stage_chromium"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        process.kill()


def test_chromium_decodes_a_stage_fed_by_the_test_publisher(output_dir, processes):
    node = shutil.which("node")
    assert node, "node is not installed"
    stage_port = harness.free_port()
    api = harness.ApiServer(output_dir, extra_env={
        "API_INITIAL_STAGES": "1", "STAGE_WHIP_URL_BASE": f"http://127.0.0.1:{stage_port}/whip"})
    processes.append(api)
    api.start().wait_ready()
    stage = harness.StageServer(output_dir, api.url, port=stage_port)
    processes.append(stage)
    stage.start().wait_ready()
    record = api.call("GET", "/api/stages").json()["stages"][0]
    minted = api.call("POST", "/api/media/token",
                      {"serverId": "chromium-test", "stageArn": record["stageArn"]}).json()

    publisher = harness.Publisher(output_dir, minted["whipUrl"], token=minted["token"],
                                  seconds=120, extra_args=("--size", "640x360", "--bitrate", "800"))
    processes.append(publisher)
    publisher.start()
    wait_until(lambda: stage.stage(record["id"])["live"], 90, "the stage live", interval=0.1,
               context=lambda: publisher.log_tail() + "\n" + stage.log_tail())

    viewer = subprocess.run([node, "chromium.mjs", "view", stage.whep_url(record["id"]),
                             str(MIN_FRAMES), "30"], cwd=INTEROP_DIR, capture_output=True,
                            text=True, timeout=120)
    (output_dir / "chromium-viewer.log").write_text(viewer.stderr)
    lines = [l for l in viewer.stdout.splitlines() if l.startswith("{")]
    assert lines, f"chromium.mjs view printed nothing\n{viewer.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result.get("ok"), f"{result}\n{viewer.stderr[-2000:]}\n{stage.log_tail()}"
    video = result["stats"]["inbound"]["video"]
    assert video["codec"] == "video/H264", video
    assert video["framesDecoded"] >= MIN_FRAMES, video

    code, _ = publisher.stop()
    assert code == 0, publisher.log_tail()
    assert publisher.summary()["deleted"] is True, publisher.summary()
