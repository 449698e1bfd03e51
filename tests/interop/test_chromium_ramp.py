"""Chromium ramps its bitrate up on our transport-cc feedback and stays under our REMB cap.

Chromium (playwright-core, tests/interop/chromium_ramp.mjs) publishes 1280x720 H.264 + Opus to
`media-server serve` over WHIP. Its estimator is Chromium's own (send-side bandwidth estimation):
it only raises the bitrate when our server sends transport-wide feedback, so an independent
stack acting on our feedback packets is the proof that they are right. INGEST_MAX_BITRATE is
set to 4000 kbit/s and the sender's maxBitrate to 8000 kbit/s, so the cap, not Chromium's own
ceiling for 720p, is what limits the bitrate.

The camera is a testsrc2 clip (--use-file-for-fake-video-capture): Chromium's built-in fake
camera is so easy to encode that the encoder may not fill the target even when the estimate
allows it, which would measure the content rather than the feedback.

The curve (one sample per second after "connected") is printed and written to
test-output/interop/chromium_ramp/curve.json."""
import json
import shutil
import subprocess
import sys

from webrtc_peer_support import INTEROP_DIR, NETNS_RUN, SOURCE_DIR, free_port

sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
import harness  # noqa: E402

TOKEN = "interop-ramp-token"
CAP_KBPS = 4000
TARGET_KBPS = 1500
WITHIN_SECONDS = 15
SAMPLE_SECONDS = 20


def make_clip(directory):
    """A 1280x720 30 fps raw clip that is expensive to encode; Chromium loops it."""
    path = directory / "testsrc2-720p.y4m"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x720:rate=30:duration=4", "-pix_fmt", "yuv420p",
                    str(path)], check=True, timeout=120)
    return path


def print_curve(samples):
    print(f"{'t (s)':>6} {'kbit/s':>7} {'avail':>7} {'target':>7}  resolution  limited-by")
    for s in samples:
        print(f"{s['t']:>6} {s['kbps']:>7} {s['availableKbps'] or '-':>7} "
              f"{s['targetKbps'] or '-':>7}  {s['width']}x{s['height']:<6} "
              f"{s['qualityLimitationReason']}")


def test_chromium_ramps_up_on_transport_cc_feedback_and_stays_under_the_cap(tmp_path, capsys):
    node = shutil.which("node")
    assert node, "node is not installed"
    assert shutil.which("ffmpeg"), "ffmpeg is not installed"
    clip = make_clip(tmp_path)
    output = SOURCE_DIR / "test-output" / "interop" / "chromium_ramp"
    server = harness.MediaServer(output, f"http://127.0.0.1:{free_port()}", extra_env={
        "WHIP_INGEST_TOKEN": TOKEN,
        "RTC_BIND_IP": "127.0.0.1",
        "INGEST_MAX_BITRATE": CAP_KBPS,
        "LOG_LEVEL": "info",
    })
    server.start()
    try:
        server.wait_live()
        completed = subprocess.run(
            [str(NETNS_RUN), node, "chromium_ramp.mjs", server.url + "/whip", TOKEN,
             str(SAMPLE_SECONDS), "1280", "720", "8000", str(clip)],
            cwd=INTEROP_DIR, capture_output=True, text=True, timeout=180)
    finally:
        server.stop()
    log = server.log_tail(40)
    full_log = server.log_text()
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, f"no output from chromium_ramp.mjs\n{completed.stderr[-2000:]}\n{log}"
    result = json.loads(lines[-1])
    assert result.get("ok"), f"{result}\n{completed.stderr[-2000:]}\n{log}"

    # What was negotiated: the feedback this test is about must have been agreed.
    answer = result["answer"]
    assert "transport-wide-cc-extensions-01" in answer, answer
    assert "transport-cc" in answer and "goog-remb" in answer, answer
    assert "transport-cc on" in full_log, log

    samples = result["samples"]
    (output / "curve.json").write_text(json.dumps(samples, indent=1))
    with capsys.disabled():  # the curve is the point of this test: show it even when it passes
        print(f"\nChromium 1280x720 H.264 -> /whip, INGEST_MAX_BITRATE={CAP_KBPS}:")
        print_curve(samples)
    early = [s for s in samples if s["t"] <= WITHIN_SECONDS + 0.5]
    assert max(s["kbps"] for s in early) >= TARGET_KBPS, (
        f"Chromium did not pass {TARGET_KBPS} kbit/s within {WITHIN_SECONDS} s")
    # The estimator's figure is what REMB caps: it must never exceed the cap.
    estimates = [s["availableKbps"] for s in samples if s["availableKbps"] is not None]
    assert estimates and max(estimates) <= CAP_KBPS, estimates
    # The encoder follows the estimate; allow 10% for a keyframe landing in one second's sample.
    assert max(s["kbps"] for s in samples) <= CAP_KBPS * 1.1, [s["kbps"] for s in samples]
