"""Helpers shared by the interop tests that run build/tools/webrtc_peer (our PeerSession engine
on loopback sockets) against Chromium and aiortc."""
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("IVS_BUILD_DIR", SOURCE_DIR / "build"))
INTEROP_DIR = SOURCE_DIR / "tests" / "interop"
NETNS_RUN = SOURCE_DIR / "scripts" / "netns-run"
WEBRTC_PEER = BUILD_DIR / "tools" / "webrtc_peer"


def require_tools():
    if not WEBRTC_PEER.exists():
        pytest.fail(f"{WEBRTC_PEER} is not built")
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is not installed")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_h264(directory, seconds=10):
    """Baseline, no B-frames, IDR every second, one slice per frame (docs/interop.md)."""
    path = Path(directory) / "test.h264"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         f"testsrc2=size=640x360:rate=30:duration={seconds}", "-c:v", "libx264",
         "-profile:v", "baseline", "-bf", "0", "-g", "30", "-preset", "veryfast",
         "-tune", "zerolatency", "-x264-params", "sliced-threads=0", "-f", "h264", str(path)],
        check=True, timeout=120)
    return path


def wait_for_port(port, deadline_s=10.0):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def start_peer(*args):
    return subprocess.Popen([str(WEBRTC_PEER), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_peer(process, timeout=60):
    stdout, stderr = process.communicate(timeout=timeout)
    lines = [line for line in stdout.splitlines() if line.strip().startswith("{")]
    assert lines, f"webrtc_peer printed no summary; exit {process.returncode}\n{stderr[-3000:]}"
    return json.loads(lines[-1]), stderr


def run_chromium(*args, timeout=180):
    node = shutil.which("node")
    assert node, "node is not installed"
    completed = subprocess.run([str(NETNS_RUN), node, "chromium.mjs", *map(str, args)],
                               cwd=INTEROP_DIR, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines, f"no output from chromium.mjs; stderr:\n{completed.stderr[-2000:]}"
    return json.loads(lines[-1]), completed.stderr
