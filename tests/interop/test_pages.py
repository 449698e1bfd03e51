"""The pages the binaries serve (issue 5), driven in Chromium the way a person uses them:
api-server (three stages) + stage role + media server, all real binaries on loopback.

  0. The stage page alone plays three stages fed straight by `media-server publish`.
  1. /publish with a wrong token shows "Wrong token" on the page.
  2. /publish publishes the fake camera: the page says connected, the media server's
     /api/status shows the publisher live.
  3. The stage role's page plays all three stages (framesDecoded rising in every tile), fed by
     that browser publisher through the relay.
  4. The dashboard's "Create stage" makes a fourth video appear on the stage page and play;
     its "Delete" removes it again (and the API server agrees).
  5. Stop on /publish DELETEs the session: the media server's publisher goes offline.

Screenshots of every step land in $IVS_BUILD_DIR/test-output/pages/ (pages.mjs writes them),
process logs next to them."""
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
import harness  # noqa: E402  (tests/process/harness.py: processes, ports, waiting)

INTEROP_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = harness.BUILD_DIR / "test-output" / "pages"


def node():
    path = shutil.which("node")
    if not path:
        pytest.fail("node is not installed")
    return path


def run_pages(*args, timeout=180):
    """Runs one pages.mjs command to completion; returns its last JSON line."""
    completed = subprocess.run([node(), "pages.mjs", *map(str, args)], cwd=INTEROP_DIR,
                               capture_output=True, text=True, timeout=timeout)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert lines, f"pages.mjs printed nothing; stderr:\n{completed.stderr[-3000:]}"
    return json.loads(lines[-1]), completed.stderr


class BrowserPublisher:
    """`node pages.mjs publish`: /publish in Chromium, publishing until stdin is closed."""

    def __init__(self, media_url, token, source="camera", outdir=OUTPUT_DIR):
        outdir.mkdir(parents=True, exist_ok=True)
        self.popen = subprocess.Popen(
            [node(), "pages.mjs", "publish", media_url, token, str(outdir)], cwd=INTEROP_DIR,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(outdir / "browser-publisher.log", "ab"), text=True,
            env={**os.environ, "IVS_PAGES_SOURCE": source})
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.popen.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def next_event(self, timeout):
        try:
            event = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no word from the browser publisher in {timeout} s")
        assert event is not None, "the browser publisher exited; see browser-publisher.log"
        return event

    def stop(self, timeout=30):
        """Closes stdin (the page clicks Stop) and returns the final JSON line."""
        if self.popen.poll() is None:
            self.popen.stdin.close()
        return self.next_event(timeout)

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture(scope="module", autouse=True)
def clean_output():
    """One fresh screenshot/log directory per run of this module."""
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)
    OUTPUT_DIR.mkdir(parents=True)


@pytest.fixture(scope="module")
def setup():
    if not harness.binary().exists():
        pytest.fail("media-server is not built")
    started = []
    try:
        relay = harness.RelaySetup(OUTPUT_DIR, started, initial_stages=3)
        relay.browser_publisher = None
        relay.pages_wired = relay.media.get("/publish").status == 200
        status = relay.media.status()
        relay.egress_mode = status.get("egressMode") or (status.get("egress") or {}).get("mode")
        yield relay
    finally:
        publisher = getattr(locals().get("relay"), "browser_publisher", None)
        if publisher:
            publisher.kill()
        for process in started:
            process.kill()


def require_pages(setup):
    # A clear message instead of a missing-element timeout when `serve` stops mounting the pages.
    if not setup.pages_wired:
        pytest.fail("serve does not serve /publish: add_media_server_pages() is not wired")


def require_egress(setup):
    if setup.egress_mode != "whip":
        pytest.fail(f"serve's egress is {setup.egress_mode!r}, not 'whip': stages get no media")


@pytest.fixture(scope="module")
def browser_publisher(setup):
    require_pages(setup)
    publisher = BrowserPublisher(setup.media.url, harness.INGEST_TOKEN)
    setup.browser_publisher = publisher
    yield publisher
    publisher.kill()


def test_stage_page_plays_stages_fed_directly():
    """The stage page on its own: api-server + stage role, three `media-server publish`
    processes each publishing straight to one stage with a participant token (no media server
    involved), and the page must play all three."""
    output = OUTPUT_DIR / "direct"
    output.mkdir(parents=True, exist_ok=True)
    started = []
    try:
        stage_port = harness.free_port()
        api = harness.ApiServer(output, extra_env={
            "API_INITIAL_STAGES": "3", "STAGE_WHIP_URL_BASE": f"http://127.0.0.1:{stage_port}/whip"})
        started.append(api)
        api.start().wait_ready()
        stage = harness.StageServer(output, api.url, port=stage_port)
        started.append(stage)
        stage.start().wait_ready()
        stages = api.call("GET", "/api/stages").json()["stages"]
        for index, record in enumerate(stages):
            token = api.call("POST", "/api/media/token",
                             {"serverId": "pages-test", "stageArn": record["stageArn"]}).json()
            publisher = harness.Publisher(output, token["whipUrl"], token=token["token"],
                                          seconds=120, name=f"publisher-{index}")
            started.append(publisher)
            publisher.start()
        harness.wait_until(lambda: all(stage.stage(r["id"]).get("live") for r in stages), 60,
                           "every stage live", interval=0.25,
                           context=lambda: "\n".join(p.log_tail(20) for p in started))
        result, log = run_pages("stages", stage.url, 3, output)
        assert result.get("ok"), f"{result}\n{log[-2000:]}"
        assert {tile["id"] for tile in result["first"]} == {r["id"] for r in stages}, result
        assert result["playing"] >= 3, result
    finally:
        for process in started:
            process.kill()


def test_wrong_token_shows_the_error_on_the_publish_page(setup):
    require_pages(setup)
    result, log = run_pages("wrong-token", setup.media.url, "not-the-token", OUTPUT_DIR)
    assert result.get("ok"), f"{result}\n{log[-2000:]}"
    assert "Wrong token" in result["error"], result
    assert result["state"] == "wrong token", result
    assert not harness.publisher_live(setup.media)


def test_publish_page_publishes_the_fake_camera(setup, browser_publisher):
    require_pages(setup)
    event = browser_publisher.next_event(60)
    assert event.get("event") == "connected", event
    assert event["framesEncoded"] > 30, event
    assert event["codec"].startswith("H264"), event
    assert event["resource"] and "/whip/" in event["resource"], event
    harness.wait_until(lambda: harness.publisher_live(setup.media), 15,
                       "the media server to report the browser publisher live",
                       context=setup.context())


def test_stage_page_plays_all_three_stages(setup, browser_publisher):
    require_pages(setup)
    require_egress(setup)
    setup.wait_connected(setup.initial, timeout=40)
    result, log = run_pages("stages", setup.stage.url, 3, OUTPUT_DIR)
    assert result.get("ok"), f"{result}\n{log[-2000:]}\n{setup.context()()}"
    ids = {tile["id"] for tile in result["first"]}
    assert ids == {stage["id"] for stage in setup.initial}, result
    assert result["playing"] >= 3, result


def test_dashboard_creates_a_stage_that_plays_and_deletes_it(setup, browser_publisher):
    require_pages(setup)
    require_egress(setup)
    result, log = run_pages("create-delete", setup.media.url, setup.stage.url,
                            harness.INGEST_TOKEN, OUTPUT_DIR, timeout=300)
    assert result.get("ok"), f"{result}\n{log[-2000:]}\n{setup.context()()}"
    new_id = result["newStage"]["id"]
    assert new_id not in {stage["id"] for stage in setup.initial}
    assert new_id not in result["tilesAfterDelete"], result
    remaining = {stage["id"] for stage in setup.api.call("GET", "/api/stages").json()["stages"]}
    assert remaining == {stage["id"] for stage in setup.initial}, remaining


def test_stop_on_the_publish_page_ends_the_session(setup, browser_publisher):
    require_pages(setup)
    final = browser_publisher.stop()
    assert final.get("ok") and final.get("event") == "stopped", final
    assert "ended the session" in final["notice"], final
    harness.wait_until(lambda: not harness.publisher_live(setup.media), 10,
                       "the media server to report no publisher after Stop",
                       context=setup.context())


def test_publish_page_test_pattern_replaces_the_publisher(setup):
    """The generated source (canvas clock + colour bars + oscillator tone), used when there is no
    camera: it publishes H.264 at the chosen size and, under the default replace policy, takes
    over from whoever published before.

    Regression: CI once saw 320x180 here. With transport-cc feedback Chromium starts its estimate
    near 300 kbit/s and, under its default 'balanced' preference, scaled the chosen 640x360 down
    until the estimate grew, so stages saw a quarter of the pixels for the first seconds. The page
    now asks the sender to keep the resolution ('maintain-resolution'), as OBS does."""
    require_pages(setup)
    publisher = BrowserPublisher(setup.media.url, harness.INGEST_TOKEN, source="pattern",
                                 outdir=OUTPUT_DIR / "pattern")
    try:
        event = publisher.next_event(60)
        assert event.get("event") == "connected", event
        assert event["degradationPreference"] == "maintain-resolution", event
        assert event["resolution"] == "640×360", event
        assert event["codec"].startswith("H264"), event
        harness.wait_until(
            lambda: harness.media_server_publisher(setup.media.status()).get("width") == 640, 15,
            "the media server to see the pattern's 640-pixel-wide video",
            context=setup.context())
        final = publisher.stop()
        assert final.get("event") == "stopped" and "ended the session" in final["notice"], final
    finally:
        publisher.kill()
