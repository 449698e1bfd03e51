"""Our engine as WHIP publisher (build/tools/webrtc_peer whip-client: egress offer, controlling
full ICE, DTLS role from the answer, H.264 from an ffmpeg-made file packetized by our
packetizer) against aiortc as the WHIP endpoint (aiortc_whip_endpoint.py), which DECODES the
video with PyAV. Decoded frames prove ICE, DTLS, SRTP and our H.264 RTP packetization are
right to an independent stack."""
import subprocess
import sys
import tempfile

from webrtc_peer_support import (INTEROP_DIR, finish_peer, free_port, make_h264, require_tools,
                                 start_peer, wait_for_port)

MIN_FRAMES = 60


def test_aiortc_decodes_what_our_whip_client_publishes():
    require_tools()
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        h264 = make_h264(directory)
        endpoint = subprocess.Popen(
            ["/usr/bin/python3", str(INTEROP_DIR / "aiortc_whip_endpoint.py"), str(port),
             "tok", "16"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(port)
            client = start_peer("whip-client", "--url", f"http://127.0.0.1:{port}/whip",
                                "--token", "tok", "--h264", h264, "--seconds", "10")
            summary, client_log = finish_peer(client)
            received, endpoint_log = finish_peer(endpoint)
        finally:
            for process in (endpoint,):
                if process.poll() is None:
                    process.kill()
    print(summary, {k: v for k, v in received.items() if k != "answer"})
    assert summary["connected"], f"{summary}\n{client_log[-2000:]}\n{endpoint_log[-2000:]}"
    assert summary["frames_sent"] > MIN_FRAMES
    assert received["video_frames"] >= MIN_FRAMES, (received, endpoint_log[-2000:])
    assert (received["width"], received["height"]) == (640, 360)
