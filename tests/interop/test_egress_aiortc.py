"""Our WHIP egress (app/egress/whip_egress: egress offer, POST, controlling full ICE, DTLS, the relay
leg) publishing to aiortc as the WHIP endpoint (aiortc_whip_endpoint.py), a stack we did not
write, which DECODES the video with PyAV.

    webrtc_peer whip-client ──WHIP──► media-server serve ──WHIP_DESTINATIONS──► aiortc endpoint
      (H.264 test file)                (ingest → relay → egress)                (decodes frames)

The media server runs with an API server that has no stages, so the only egress is the static
destination: what aiortc decodes went through the real egress path end to end."""
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from webrtc_peer_support import (INTEROP_DIR, SOURCE_DIR, finish_peer, free_port, make_h264,
                                 require_tools, start_peer, wait_for_port)

sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
import harness  # noqa: E402  (process-test harness: media-server and api-server children)

MIN_FRAMES = 60
ENDPOINT_SECONDS = 30


def test_aiortc_decodes_what_our_egress_publishes(tmp_path):
    # Regression: this test used to skip itself unless media_server.cpp named the egress factory;
    # when the factory call moved to media_server_run.cpp it skipped in every run, passing
    # silently, while the notes counted it as interop proof. It never skips now.
    require_tools()
    endpoint_port = free_port()
    output = tmp_path / "logs"
    api = harness.ApiServer(output)  # no stages: the static destination is the only egress
    media = None
    endpoint = subprocess.Popen(
        ["/usr/bin/python3", str(INTEROP_DIR / "aiortc_whip_endpoint.py"), str(endpoint_port),
         "egress-token", str(ENDPOINT_SECONDS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(endpoint_port)
        api.start().wait_ready()
        media = harness.MediaServer(output, api.url, extra_env={
            "WHIP_DESTINATIONS": f"http://127.0.0.1:{endpoint_port}/whip egress-token",
            "RTC_BIND_IP": "127.0.0.1",
        })
        media.start().wait_live()
        with tempfile.TemporaryDirectory() as directory:
            h264 = make_h264(directory, seconds=10)
            client = start_peer("whip-client", "--url", media.whip_url(), "--token",
                                "process-test-ingest-token", "--h264", h264, "--seconds", "15")
            summary, client_log = finish_peer(client)
        received, endpoint_log = finish_peer(endpoint, timeout=ENDPOINT_SECONDS + 30)
        status = media.status()
    finally:
        if endpoint.poll() is None:
            endpoint.kill()
        for process in (media, api):
            if process is not None:
                process.kill()
    media_log = media.log_tail(80) if media else ""
    print(summary, {k: v for k, v in received.items() if k != "answer"})
    assert summary["connected"], f"{summary}\n{client_log[-2000:]}\n{media_log}"
    assert status.get("egressMode") == "whip", status
    assert received["video_frames"] >= MIN_FRAMES, (received, endpoint_log[-2000:], media_log)
    assert (received["width"], received["height"]) == (640, 360)
    assert "connected" in received["states"], received
