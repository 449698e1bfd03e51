"""The product path end to end with independent WebRTC stacks: Chromium publishes H.264 + Opus
to `media-server serve` over WHIP (POST /whip, bearer token), and a second Chromium page views
the same server over WHEP (POST /whep) and decodes frames. Between them is the whole serve role:
MediaPlane (one UDP port, ICE-lite, DTLS, SRTP), RelayChannel (engine::Relay fan-out with its
own SSRCs and GOP cache) and the WHIP/WHEP routes. /api/status must show the publisher live
with its SPS figures and one viewer.

The API server is deliberately absent (API_SERVER_URL points at a closed port): ingest and WHEP
must not depend on registration.

Run twice: with two media workers the viewer's media is a leg on a worker, sent from a duplicate
of the plane's socket (app/relay/worker_viewers.hpp; the server logs it), and with one (no
worker threads) it is sent by the ingest thread; Chromium must decode both."""
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from webrtc_peer_support import INTEROP_DIR, NETNS_RUN, SOURCE_DIR, free_port

sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
import harness  # noqa: E402

TOKEN = "interop-ingest-token"
MIN_FRAMES = 60


def start_chromium(*args):
    node = shutil.which("node")
    assert node, "node is not installed"
    return subprocess.Popen([str(NETNS_RUN), node, "chromium.mjs", *map(str, args)],
                            cwd=INTEROP_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish_chromium(process, timeout=120):
    stdout, stderr = process.communicate(timeout=timeout)
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, f"no output from chromium.mjs; stderr:\n{stderr[-2000:]}"
    return json.loads(lines[-1]), stderr


def status(url):
    with urllib.request.urlopen(url + "/api/status", timeout=2) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("workers", ["2", "1"])
def test_chromium_publishes_to_serve_and_chromium_views_it_over_whep(workers):
    output = SOURCE_DIR / "test-output" / "interop" / f"serve_ingest_whep_{workers}"
    server = harness.MediaServer(output, f"http://127.0.0.1:{free_port()}", extra_env={
        "WHIP_INGEST_TOKEN": TOKEN,
        "RTC_BIND_IP": "127.0.0.1",
        "WHEP_OPEN": "true",  # WHEP is closed by default (issue 13); this viewer has no token
        "MEDIA_WORKERS": workers,
    })
    server.start()
    publisher = viewer = None
    try:
        server.wait_live()
        publisher = start_chromium("publish", server.url + "/whip", TOKEN, "25")
        harness.wait_until(lambda: status(server.url)["publisher"]["live"], 30,
                           "the publisher to be live", context=server.log_tail)
        harness.wait_until(lambda: status(server.url)["publisher"]["width"], 15,
                           "the publisher's SPS", context=server.log_tail)
        viewer = start_chromium("view", server.url + "/whep", MIN_FRAMES, 20)
        harness.wait_until(lambda: status(server.url)["viewers"] >= 1, 30, "a connected viewer",
                           context=server.log_tail)
        during = status(server.url)
        seen, viewer_log = finish_chromium(viewer)
        published, publisher_log = finish_chromium(publisher)
        after = status(server.url)
    finally:
        for process in (publisher, viewer):
            if process and process.poll() is None:
                process.kill()
        code, _ = server.stop()
    log = server.log_tail(60)
    print(json.dumps(during["publisher"], indent=1))
    on_worker = "sent from a media worker" in server.log_text()
    assert on_worker == (workers != "1"), log
    assert seen.get("ok"), f"{seen}\n{viewer_log[-2000:]}\n{log}"
    video = seen["stats"]["inbound"]["video"]
    assert video["codec"] == "video/H264", video
    assert video["framesDecoded"] >= MIN_FRAMES, video
    assert published.get("ok"), f"{published}\n{publisher_log[-2000:]}\n{log}"
    assert published["deleteStatus"] == 200, published
    p = during["publisher"]
    assert p["codec"] == "H264" and p["width"] > 0 and p["height"] > 0, p
    assert p["videoBitrateKbps"] > 0, p
    assert during["viewers"] == 1, during
    assert not after["publisher"]["live"], after["publisher"]
    assert code == 0, log
