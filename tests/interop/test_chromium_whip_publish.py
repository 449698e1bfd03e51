"""Chromium publishes H.264 + Opus over WHIP to our engine (build/tools/webrtc_peer whip-server:
ICE-lite on a shared UDP port, DTLS server, SRTP from the DTLS export). Proves that an
independent WebRTC stack completes ICE, DTLS and SRTP with our PeerSession and that what we
decrypt is real H.264 (IDR pictures, SPS) and Opus."""
from webrtc_peer_support import (finish_peer, free_port, require_tools, run_chromium,
                                 start_peer, wait_for_port)


def test_chromium_publishes_h264_and_opus_to_our_whip_server():
    require_tools()
    port, udp_port = free_port(), free_port()
    server = start_peer("whip-server", "--port", port, "--udp-port", udp_port,
                        "--token", "secret-token", "--seconds", "30")
    try:
        wait_for_port(port)
        browser, browser_log = run_chromium("publish", f"http://127.0.0.1:{port}/whip",
                                            "secret-token", "8")
        summary, server_log = finish_peer(server)
    finally:
        if server.poll() is None:
            server.kill()
    print(summary)
    assert browser.get("ok"), f"{browser}\n{browser_log[-2000:]}\n{server_log[-2000:]}"
    assert browser["stats"]["connectionState"] == "connected"
    assert summary["connected"], server_log[-2000:]
    assert summary["keyframes"] > 0, summary
    assert summary["sps"] > 0, summary
    assert summary["opus_packets"] > 0, summary
    assert summary["video_packets"] > 30, summary
    assert summary["decrypt_failures"] == 0, summary
