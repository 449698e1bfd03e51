"""Smoke test of the Chromium interop harness (tests/interop/chromium.mjs).

ctest runs this through scripts/netns-run, so Chromium sees only loopback. It launches Debian's
Chromium through playwright-core, makes a WHIP-style publisher offer from the fake camera, and
checks what every later interop test relies on: H.264 is offered and preferred, and the offer
carries a 127.0.0.1 UDP host candidate (not an mDNS .local name). Then harness_selftest.mjs
runs whipPublish() and whepView() against a second Chromium page standing in for the server,
so that a later interop failure points at our server, not at the harness.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
INTEROP_DIR = SOURCE_DIR / "tests" / "interop"
NETNS_RUN = SOURCE_DIR / "scripts" / "netns-run"


def run_node_script(script):
    if not (INTEROP_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("tests/interop/node_modules is missing: run scripts/setup.sh (npm ci there)")
    node = shutil.which("node")
    assert node, "node is not installed (scripts/setup.sh installs nodejs)"
    # netns-run is a no-op when we already are in the namespace (as under ctest).
    completed = subprocess.run(
        [str(NETNS_RUN), node, script],
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, f"no output; exit {completed.returncode}; stderr:\n{completed.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result.get("ok"), f"harness failed: {result.get('error')}\n{completed.stderr[-2000:]}"
    assert completed.returncode == 0
    return result


@pytest.fixture(scope="module")
def offer():
    return run_node_script("smoke_offer.mjs")["offer"]


def media_sections(sdp):
    return re.split(r"\r?\n(?=m=)", sdp)[1:]


def test_offer_has_audio_and_video_sections(offer):
    kinds = [section.split(" ", 1)[0] for section in media_sections(offer)]
    assert kinds == ["m=audio", "m=video"]
    assert "a=fingerprint:sha-256 " in offer
    assert "a=setup:actpass" in offer


def test_offer_prefers_h264_with_packetization_mode_1(offer):
    video = media_sections(offer)[1]
    first_payload_type = video.splitlines()[0].split()[3]
    assert re.search(rf"a=rtpmap:{first_payload_type} H264/90000", video), video[:400]
    assert re.search(rf"a=fmtp:{first_payload_type} .*packetization-mode=1", video)


def test_offer_has_a_loopback_udp_host_candidate(offer):
    candidates = re.findall(r"a=candidate:\S+ 1 (\S+) \d+ (\S+) (\d+) typ (\S+)", offer)
    assert ("udp", "127.0.0.1") in [(c[0].lower(), c[1]) for c in candidates], candidates
    assert all(c[3] == "host" for c in candidates)
    assert not [c for c in candidates if c[1].endswith(".local")], "mDNS names leaked in"


def test_whip_and_whep_helpers_connect_and_carry_h264():
    result = run_node_script("harness_selftest.mjs")
    published = result["whip"]["stats"]
    assert published["connectionState"] == "connected"
    assert published["outbound"]["video"]["codec"] == "video/H264"
    assert published["outbound"]["video"]["framesEncoded"] > 10
    assert published["selectedPair"]["local"].startswith("127.0.0.1:")
    assert result["whip"]["location"].endswith("/whip/1")
    assert result["whip"]["deleteStatus"] == 200
    viewed = result["whep"]["stats"]["inbound"]["video"]
    assert viewed["codec"] == "video/H264"
    assert result["whep"]["framesDecoded"] >= 10
    assert result["whep"]["deleteStatus"] == 200
