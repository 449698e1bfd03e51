"""Chromium views over WHEP what our engine sends (build/tools/webrtc_peer whep-server: our WHEP
answer, ICE-lite, DTLS server, an ffmpeg-made H.264 file packetized by our packetizer, looped,
plus Opus silence). framesDecoded rising in Chromium's inbound-rtp stats proves our outbound
SRTP and H.264 RTP are decodable by an independent stack."""
import tempfile

from webrtc_peer_support import (free_port, make_h264, require_tools, run_chromium,
                                 start_peer, wait_for_port)

MIN_FRAMES = 60


def test_chromium_decodes_what_our_whep_server_sends():
    require_tools()
    port, udp_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as directory:
        h264 = make_h264(directory, seconds=4)
        server = start_peer("whep-server", "--port", port, "--udp-port", udp_port, "--h264", h264,
                            "--seconds", "30")
        try:
            wait_for_port(port)
            viewer, viewer_log = run_chromium("view", f"http://127.0.0.1:{port}/whep",
                                              MIN_FRAMES, 20)
        finally:
            server.kill()
            server.communicate(timeout=30)
    print(viewer)
    assert viewer.get("ok"), f"{viewer}\n{viewer_log[-2000:]}"
    video = viewer["stats"]["inbound"]["video"]
    assert video["codec"] == "video/H264"
    assert video["framesDecoded"] >= MIN_FRAMES
