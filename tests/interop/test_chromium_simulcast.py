"""Simulcast with Chromium at both ends (issue 11, "give each stage the layer IVS accepts"):
Chromium publishes several H.264 layers (sendEncodings with rids) to the media server's /whip,
the media server relays the layer it chooses to every stage of the local stage role, and
Chromium viewers on the stages' WHEP endpoints report the decoded frame size.

- 3x720: layers 1280x720 / 640x360 / 320x180. The stages decode 1280x720; after the page sets
  active:false on the 720p encoding, every stage decodes 640x360 (the switch time is printed:
  the layer timeout of 1 s plus the way through), and decoding goes on.
  A viewer of the media server's /whep?layer=l decodes 320x180 throughout.
- 1080+720: layers 1920x1080 / 1280x720. The stages decode 1280x720, not the first rid.

Browser side: chromium_simulcast.mjs (why it edits the answer's start bitrate is explained
there). Processes come from the process-test harness; runs inside scripts/netns-run.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "process"))

import harness  # noqa: E402
from harness import wait_until  # noqa: E402

INTEROP_DIR = Path(__file__).resolve().parent
STAGES = 2


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        process.kill()


def output_dir(name):
    path = harness.SOURCE_DIR / "test-output" / "interop" / f"chromium_simulcast_{name}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def run_case(case, directory, processes, layer_viewer=None):
    # The layer viewer watches the media server's own /whep, closed by default (issue 13).
    setup = harness.RelaySetup(directory, processes, initial_stages=STAGES,
                               media_env={"WHEP_OPEN": "true"} if layer_viewer else None)
    setup.require_whip_egress()
    node = shutil.which("node")
    assert node, "node is not installed"
    urls = [setup.stage.whep_url(stage["id"]) for stage in setup.initial]
    log = open(directory / "chromium.log", "wb")
    browser = subprocess.Popen(
        [node, "chromium_simulcast.mjs", case, setup.media.whip_url(), harness.INGEST_TOKEN,
         setup.media.url + "/api/status", *urls],
        cwd=INTEROP_DIR, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
        env={**os.environ, "IVS_SIMULCAST_OUTDIR": str(directory),
             **({"IVS_SIMULCAST_LAYER_VIEWER": setup.media.whep_url() + layer_viewer}
                if layer_viewer else {})})
    log.close()
    try:
        # While Chromium publishes: /metrics shows every layer and exactly one chosen.
        wait_until(lambda: harness.media_server_publisher(setup.media.status()).get("chosenLayer")
                   or browser.poll() is not None, 60, "a chosen simulcast layer",
                   interval=0.1, context=setup.context())
        if browser.poll() is None:
            metrics = setup.media.get("/metrics").body
            text = metrics.decode() if isinstance(metrics, bytes) else metrics
            chosen = re.findall(r'^ivs_simulcast_chosen_layer\{rid="([^"]+)"\} 1$', text, re.M)
            rates = re.findall(r'^ivs_simulcast_layer_bitrate_bps\{rid="([^"]+)"\}', text, re.M)
            assert len(chosen) == 1, text
            assert len(rates) >= 2, text
        stdout, _ = browser.communicate(timeout=180)
    finally:
        if browser.poll() is None:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()
    lines = [l for l in stdout.decode(errors="replace").splitlines() if l.startswith("{")]
    tail = (directory / "chromium.log").read_text(errors="replace")[-3000:]
    assert lines, f"chromium_simulcast.mjs printed nothing\n{tail}\n{setup.context()()}"
    result = json.loads(lines[-1])
    (directory / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    assert setup.media.running()
    return result, setup


def layer_sizes(status):
    return {layer["rid"]: (layer["width"], layer["height"]) for layer in status["layers"]}


def test_three_layers_give_720p_and_stopping_it_moves_every_stage_to_360p(processes):
    directory = output_dir("3x720")
    result, setup = run_case("3x720", directory, processes, layer_viewer="?layer=l")
    assert result.get("ok"), f"{result}\n{setup.context()()}"
    before = result["statusBefore"]
    # Printed, not asserted (see chromium_simulcast.mjs: the ramp is test_chromium_ramp's).
    print("publisher connected -> 720p layer chosen (ms):", result.get("rampMs"))
    assert before["chosenLayer"] == "h", before
    assert layer_sizes(before) == {"h": (1280, 720), "m": (640, 360), "l": (320, 180)}, before
    for viewer in result["viewersBefore"]:
        assert (viewer["video"]["width"], viewer["video"]["height"]) == (1280, 720), viewer
    # The dashboard's layers table: one row per rid with its SPS size, the chosen one marked.
    rows = {row[0]: row for row in result["dashboardBefore"]}
    assert rows["h"][1] == "1280×720" and rows["h"][3] == "chosen", rows
    assert rows["l"][1] == "320×180", rows
    assert {row[0]: row for row in result["dashboardAfter"]}["m"][3] == "chosen", result
    # Every stage moved to 640x360 (the layer timeout is 1 s; allow the way through on a busy
    # two-core machine), and decoding continued without a stall afterwards.
    assert result["statusAfter"]["chosenLayer"] == "m", result["statusAfter"]
    print("switch times (ms) per stage viewer:", result["switchMs"])
    assert all(ms is not None and ms < 3000 for ms in result["switchMs"]), result["switchMs"]
    for switched, later in zip(result["viewersSwitched"], result["viewersLater"]):
        assert later["video"]["framesDecoded"] >= switched["video"]["framesDecoded"] + 20, later
        assert (later["video"]["width"], later["video"]["height"]) == (640, 360), later
        assert later["video"]["freezeCount"] - switched["video"]["freezeCount"] <= 1, later
    # Packet loss seen by the stage viewers across the switch (printed, not asserted: on a busy
    # machine the ingest socket can drop a burst of Chromium's padding, which nobody can
    # retransmit; frames are what the viewer needs, and those are checked above).
    print("stage viewers packetsLost before/after the switch:",
          [(b["video"]["packetsLost"], l["video"]["packetsLost"])
           for b, l in zip(result["viewersBefore"], result["viewersLater"])])
    # A WHEP viewer of the media server that asked for ?layer=l decodes 320x180 throughout.
    for key in ("layerViewerBefore", "layerViewerLater"):
        video = result[key]["video"]
        assert (video["width"], video["height"]) == (320, 180), result[key]
    assert (result["layerViewerLater"]["video"]["framesDecoded"] >
            result["layerViewerBefore"]["video"]["framesDecoded"]), result
    # Its start from the layer's cache has no hole of skipped padding (that was ~3600 packets);
    # it keeps decoding through the stages' switch without a freeze or a dropped frame.
    before_video = result["layerViewerBefore"]["video"]
    later_video = result["layerViewerLater"]["video"]
    print("layer viewer packetsLost before/after:", before_video["packetsLost"],
          later_video["packetsLost"])
    assert before_video["packetsLost"] < 1000, before_video
    assert later_video["freezeCount"] == before_video["freezeCount"], later_video
    assert later_video["framesDropped"] == before_video["framesDropped"], later_video


def test_1080p_and_720p_layers_give_the_stages_720p(processes):
    directory = output_dir("1080_720")
    result, setup = run_case("1080+720", directory, processes)
    assert result.get("ok"), f"{result}\n{setup.context()()}"
    before = result["statusBefore"]
    assert layer_sizes(before) == {"f": (1920, 1080), "h": (1280, 720)}, before
    assert before["chosenLayer"] == "h", before
    for viewer in result["viewersBefore"]:
        assert (viewer["video"]["width"], viewer["video"]["height"]) == (1280, 720), viewer
