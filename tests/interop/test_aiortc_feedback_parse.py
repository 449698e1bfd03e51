"""Our congestion-control feedback read by aiortc 1.4 (Debian python3-aiortc), a stack we did
not write, as far as it can read it.

- REMB: aiortc parses the RTCP framing (RtcpPacket.parse -> RtcpPsfbPacket, FMT 15) and decodes
  the REMB FCI (unpack_remb_fci): the bitrate and SSRC list must be what we meant.
- Transport-wide feedback: aiortc 1.4 has NO decoder for RTPFB FMT=15. Its RtcpRtpfbPacket
  reads every RTPFB payload as generic NACK pairs and requires a payload that is a multiple of
  4 bytes after the padding is removed, so libwebrtc-style padded feedback (ours, and
  Chromium's own) raises there. What it can check: an unpadded packet's framing, FMT and the two
  SSRCs, and that the padding count byte is valid (it strips it before failing on the length).
  The statuses and deltas themselves are checked against the draft's examples in
  tests/proto/rtcp_twcc_draft_test.cpp and, end to end, by Chromium acting on them
  (test_chromium_ramp.py)."""
import json
import subprocess

import pytest

from webrtc_peer_support import BUILD_DIR

aiortc_rtp = pytest.importorskip("aiortc.rtp")

DUMP = BUILD_DIR / "tools" / "congestion_feedback_dump"


def dumped():
    if not DUMP.exists():
        pytest.fail(f"{DUMP} is not built")
    output = subprocess.run([str(DUMP)], capture_output=True, text=True, check=True, timeout=30)
    return [json.loads(line) for line in output.stdout.splitlines() if line.strip()]


def test_aiortc_reads_our_remb_cap():
    rembs = [d for d in dumped() if d["kind"] == "remb"]
    assert len(rembs) == 1
    packets = aiortc_rtp.RtcpPacket.parse(bytes.fromhex(rembs[0]["hex"]))
    assert len(packets) == 1
    packet = packets[0]
    assert isinstance(packet, aiortc_rtp.RtcpPsfbPacket)
    assert packet.fmt == 15 and packet.media_ssrc == 0
    bitrate, ssrcs = aiortc_rtp.unpack_remb_fci(packet.fci)
    assert bitrate == rembs[0]["bitrate"] == 4_000_000
    assert ssrcs == rembs[0]["ssrcs"]


def test_aiortc_reads_the_framing_of_our_transport_feedback():
    feedbacks = [d for d in dumped() if d["kind"] == "twcc"]
    unpadded = [d for d in feedbacks if not d["padded"]]
    padded = [d for d in feedbacks if d["padded"]]
    assert unpadded and padded
    for feedback in unpadded:
        packets = aiortc_rtp.RtcpPacket.parse(bytes.fromhex(feedback["hex"]))
        assert len(packets) == 1
        assert isinstance(packets[0], aiortc_rtp.RtcpRtpfbPacket)
        assert packets[0].fmt == 15
        assert packets[0].ssrc == feedback["sender_ssrc"]
        assert packets[0].media_ssrc == feedback["media_ssrc"]
    for feedback in padded:
        # aiortc gets past its padding check (the count byte is valid) and then rejects the
        # odd-length payload in its NACK-only RTPFB parser: the documented limitation.
        with pytest.raises(ValueError, match="RTP feedback length is invalid"):
            aiortc_rtp.RtcpPacket.parse(bytes.fromhex(feedback["hex"]))
