"""The relay with Chromium at both ends (issue 4, "How it will be checked"): Chromium publishes
its fake camera and microphone to the media server's /whip (chromium.mjs publish), the media
server relays it over WHIP to every stage of the local stage role, and a Chromium viewer on
each stage's WHEP endpoint (chromium.mjs view) decodes frames (inbound-rtp framesDecoded).

Processes are started with the process-test harness (tests/process/harness.py): API server
with three stages, stage role, media server. Runs inside scripts/netns-run (ctest does that).
"""

import json
import os
import signal
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
PUBLISH_SECONDS = 120  # the publisher runs until the viewers are done, then is stopped


@pytest.fixture
def output_dir():
    path = harness.SOURCE_DIR / "test-output" / "interop" / "relay_chromium"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        process.kill()


def chromium(output_dir, name, *args):
    node = shutil.which("node")
    assert node, "node is not installed"
    log = open(output_dir / f"{name}.log", "wb")
    # Its own process group, so the browser it launched goes with it (stop_group).
    process = subprocess.Popen([node, "chromium.mjs", *map(str, args)], cwd=INTEROP_DIR,
                               stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    log.close()
    return process


def stop_group(process, timeout=15):
    """SIGTERM to the process group this test created for chromium.mjs (node and Chromium),
    SIGKILL if it is still there after `timeout` s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


def chromium_result(output_dir, name, process, timeout):
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, _ = process.communicate()
    lines = [l for l in stdout.decode(errors="replace").splitlines() if l.startswith("{")]
    log = (output_dir / f"{name}.log").read_text(errors="replace")[-2000:]
    assert lines, f"chromium.mjs {name} printed nothing (exit {process.returncode})\n{log}"
    return json.loads(lines[-1]), log


def test_chromium_publishes_and_chromium_viewers_decode_on_every_stage(output_dir, processes):
    setup = harness.RelaySetup(output_dir, processes, initial_stages=3)
    setup.require_whip_egress()
    publisher = chromium(output_dir, "chromium-publisher", "publish", setup.media.whip_url(),
                         harness.INGEST_TOKEN, PUBLISH_SECONDS)
    try:
        wait_until(lambda: harness.publisher_live(setup.media) or publisher.poll() is not None,
                   60, "Chromium live on the media server", interval=0.1,
                   context=setup.context())
        assert publisher.poll() is None, chromium_result(output_dir, "chromium-publisher",
                                                         publisher, 5)
        setup.wait_connected(setup.initial, timeout=30)
        status = harness.media_server_publisher(setup.media.status())
        assert status.get("codec") == "H264", status

        for stage in setup.initial:
            name = f"chromium-viewer-{stage['id']}"
            viewer = chromium(output_dir, name, "view", setup.stage.whep_url(stage["id"]),
                              MIN_FRAMES, 30)
            result, log = chromium_result(output_dir, name, viewer, 120)
            print(stage["id"], result)
            assert result.get("ok"), f"{result}\n{log}\n{setup.context()()}"
            video = result["stats"]["inbound"]["video"]
            assert video["codec"] == "video/H264", video
            assert video["framesDecoded"] >= MIN_FRAMES, video
            assert result["deleteStatus"] == 200, result
    finally:
        stop_group(publisher)
    assert setup.media.running()
