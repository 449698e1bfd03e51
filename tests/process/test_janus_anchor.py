"""bench/janus_anchor.py, the benchmark's Janus anchor (docs/benchmark-janus.md): Debian's janus
1.1.2 (streaming plugin, RTP mountpoint fed by ffmpeg) serves three viewers whose offers
build/tools/whip_sink answers in its answer mode (POST /answer: ICE-lite, DTLS client, packets
counted from the clear SRTP headers).

Asserts that every sink session connected through Janus's full ICE and DTLS, received more
than 100 packets with (almost) no sequence gaps, negotiated an SRTP profile and stamped its
first packet; that shrinking to one viewer ends two sink sessions while the third keeps
receiving; and that stop() detaches everything and ends Janus. Skipped when janus or ffmpeg is
not installed (Janus is the benchmark's optional anchor, not a dependency of the server)."""

import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import harness

sys.path.insert(0, str(harness.SOURCE_DIR / "bench"))
import janus_anchor  # noqa: E402 - bench/ is not a package

JANUS = Path("/usr/bin/janus")
WHIP_SINK = harness.BUILD_DIR / "tools" / "whip_sink"
VIEWERS = 3


def read_stats(url):
    with urllib.request.urlopen(url + "/stats", timeout=10) as response:
        return json.loads(response.read())


def wait_for_stats(url, predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        stats = read_stats(url)
        if predicate(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s: {json.dumps(stats)[:3000]}")
        time.sleep(0.1)


def start_sink(output_dir):
    log = open(output_dir / "whip_sink.stderr", "w")
    sink = subprocess.Popen([str(WHIP_SINK), "--seconds", "300"], stdout=subprocess.PIPE,
                            stderr=log, text=True)
    log.close()
    for line in sink.stdout:
        if line.startswith("{"):
            return sink, f"http://127.0.0.1:{json.loads(line)['http_port']}"
    raise AssertionError(f"whip_sink exited; see {output_dir / 'whip_sink.stderr'}")


def test_janus_anchor_serves_sink_sessions(output_dir):
    if not JANUS.exists():
        pytest.skip(f"{JANUS} is not installed (Debian: apt-get install janus); the Janus "
                    "anchor is optional")
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed; the anchor's RTP feed needs it")
    assert WHIP_SINK.exists(), f"{WHIP_SINK} is not built"
    # A small stream keeps the one-time encode short; the anchor streams whatever it is given.
    video, audio = janus_anchor.generate_media(output_dir / "media", seconds=3, size="640x360",
                                               kbps=800)
    sink, url = start_sink(output_dir)
    anchor = janus_anchor.JanusAnchor(output_dir / "janus", janus_bin=str(JANUS),
                                      video_h264=video, audio_ogg=audio, log=print)
    before_ms = time.time() * 1000
    try:
        with anchor:
            started = time.monotonic()  # the feed starts with the anchor
            anchor.set_subscribers(VIEWERS, url)
            janus_pid = anchor.pid()
            assert Path(f"/proc/{janus_pid}/stat").exists()
            stats = wait_for_stats(
                url, lambda s: len(s["perSession"]) == VIEWERS and
                all(p["packets"] > 100 for p in s["perSession"]), 20,
                "more than 100 packets on every Janus viewer")
            # The 3 s file has looped: packets still arrive after 4 s of feed (ffmpeg once
            # stopped silently at the end of a raw .h264, see janus_anchor.remux_to_ts).
            counted = {p["id"]: p["packets"] for p in stats["perSession"]}
            stats = wait_for_stats(
                url, lambda s: time.monotonic() - started > 4.5 and
                all(p["packets"] > counted[p["id"]] + 50 for p in s["perSession"]), 20,
                "packets on every viewer after the feed looped")
            after_ms = time.time() * 1000
            print(json.dumps({k: v for k, v in stats.items() if k != "perSession"}))
            assert stats["connected"] == VIEWERS, stats
            for session in stats["perSession"]:
                assert session["path"] == "/answer", session
                assert session["connected"], session
                assert session["ssrcs"] == 2, session  # video and audio
                # Loopback: "small loss" means below 1 % (Janus paces nothing; the sink keeps up).
                assert session["gaps"] <= 0.01 * session["packets"], session
                assert session["srtpProfile"].startswith("SRTP_"), session
                assert before_ms <= session["firstMediaWallMs"] <= after_ms, session
            assert stats["ice"]["nominations"] >= VIEWERS, stats["ice"]

            # Shrinking detaches the newest viewers and DELETEs their sink sessions.
            anchor.set_subscribers(1, url)
            shrunk = read_stats(url)
            assert shrunk["connected"] == 1, shrunk
            survivor = next(p for p in shrunk["perSession"] if p["connected"])
            assert survivor["id"] == min(p["id"] for p in shrunk["perSession"]), shrunk
            wait_for_stats(
                url, lambda s: next(p for p in s["perSession"] if p["id"] == survivor["id"])
                ["packets"] > survivor["packets"] + 50, 10, "the remaining viewer keeps receiving")
        # stop(): every viewer detached, Janus and the feed gone.
        assert anchor.janus.poll() is not None
        assert anchor.janus_exit == 0, f"janus exited with {anchor.janus_exit}"
        assert read_stats(url)["connected"] == 0
    finally:
        anchor.stop()
        sink.send_signal(signal.SIGTERM)
        sink.communicate(timeout=30)
