"""A stage that joins mid-stream shows video at once, whatever the encoder (issue 11, part 2).

The bug's story: with a Chromium publisher (OpenH264, STAP-A, a keyframe only when asked for),
a stage created ~20 s into the stream decoded its first frame 4.3 s after it connected, although
its WHIP session connected in 72 ms; our own test publisher (4 s GOP) joined in ~150 ms. The
relay replayed a GOP cache that, for an encoder that only sends keyframes on request, held
every frame since the stream began: seconds of video sent as one burst, which the receiver could
not take in, so it waited for a keyframe that only its own late PLI brought. The relay now asks
such an encoder for a fresh keyframe whenever the cached GOP grows old, so the cache stays short
(docs/relay.md, "GOP cache").

Here the stages are aiortc WHIP endpoints (aiortc_stage_endpoint.py), a stack we did not write,
which decode with PyAV and record the wall-clock time of their first decoded frame. For each
publisher kind a stage is created through the reference API server >= 15 s into the stream;
the figures printed are from that call to the stage's WHIP POST, its "connected" and its first
decoded frame. A second stage is created while the endpoint answers its first two POSTs with
HTTP 500, so it joins through the egress's retry (backoff), and its first frame is measured
from the moment the stage connected.

Bounds: the issue's target is <= 300 ms (aim 150 ms) on loopback; the test fails when the first
frame comes more than 1 s after the stage connected, which no start from a usable cache exceeds
on this machine and any wait for an encoder's next scheduled keyframe does (Chromium's is never,
the test publisher's is 4 s away). ctest runs this file alone (RUN_SERIAL) so that its printed
figures are not those of a machine shared with Chromium tests.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "process"))

import harness  # noqa: E402
from harness import wait_until  # noqa: E402

INTEROP_DIR = Path(__file__).resolve().parent
STREAM_SECONDS_BEFORE_JOIN = 15
JOIN_BOUND_S = 1.0


@pytest.fixture
def output_dir(request):
    path = harness.SOURCE_DIR / "test-output" / "interop" / "join_time" / request.node.name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def processes():
    started = []
    yield started
    for process in started:
        process.kill()


class Endpoint:
    """aiortc_stage_endpoint.py, the stages' WHIP endpoint."""

    def __init__(self, output_dir):
        self.port = harness.free_port()
        self.log = open(output_dir / "aiortc-stages.log", "wb")
        self.popen = subprocess.Popen(
            [harness.SYSTEM_PYTHON, str(INTEROP_DIR / "aiortc_stage_endpoint.py"),
             str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: harness.http("GET", self.url + "/report", timeout=0.5).status == 200,
                   20, "the aiortc stage endpoint")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def report(self):
        return harness.http("GET", self.url + "/report", timeout=2).json()

    def fail_next_posts(self, count):
        assert harness.http("POST", f"{self.url}/fail-next?count={count}").status == 200

    def session(self, stage_id, number=None):
        sessions = [s for key, s in self.report().items() if s["stage"] == stage_id]
        if number is not None:
            sessions = [s for s in sessions if s["number"] == number]
        return sessions[-1] if sessions else None

    def kill(self):
        self.popen.kill()
        self.popen.wait()
        self.log.close()


class ProcessGroup:
    """A child in a session of its own, killed with everything it started (Chromium)."""

    def __init__(self, popen):
        self.popen = popen

    def poll(self):
        return self.popen.poll()

    def kill(self):
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()


def chromium_publisher(output_dir, url):
    node = shutil.which("node")
    assert node, "node is not installed"
    log = open(output_dir / "chromium-publisher.log", "wb")
    return ProcessGroup(subprocess.Popen(
        [node, "chromium.mjs", "publish", url, harness.INGEST_TOKEN, "120"], cwd=INTEROP_DIR,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True))


def aiortc_publisher(output_dir, url):
    # Long enough for the whole scenario: aiortc 1.4's MediaPlayer does not loop this file (it
    # ended after 10 s, and the stage was then joined to a stream that had stopped).
    media = output_dir / "aiortc-source.mkv"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=60",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=60",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus", str(media)],
                   check=True, timeout=120)
    log = open(output_dir / "aiortc-publisher.log", "wb")
    return subprocess.Popen([harness.SYSTEM_PYTHON, str(INTEROP_DIR / "aiortc_whip_publisher.py"),
                             url, harness.INGEST_TOKEN, "120", str(media)],
                            stdout=log, stderr=subprocess.STDOUT)


GUPNP_STUB = """
typedef unsigned long GType;
void *gupnp_simple_igd_thread_new(void) { return 0; }
GType gupnp_simple_igd_get_type(void) { return 0; }
void gupnp_simple_igd_add_port(void *igd) { (void)igd; }
void gupnp_simple_igd_remove_port_local(void *igd) { (void)igd; }
"""
GST_VIDEO = ("videotestsrc is-live=true pattern=ball ! "
             "video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! "
             "x264enc tune=zerolatency speed-preset=veryfast bitrate=1000 ! "
             "video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 pt=96 ! "
             "application/x-rtp,media=video,encoding-name=H264,payload=96")
GST_AUDIO = ("audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! "
             "rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111")


def add_second_loopback_address():
    """An ifb link carrying 127.0.0.2 in the test's network namespace, for libnice, which skips
    loopback interfaces and ignores 127.0.0.1 candidates."""
    if subprocess.run(["ip", "link", "show", "ifb-whip"], capture_output=True).returncode != 0:
        for command in (["ip", "link", "add", "ifb-whip", "type", "ifb"],
                        ["ip", "addr", "add", "127.0.0.2/8", "dev", "ifb-whip"],
                        ["ip", "link", "set", "ifb-whip", "up"]):
            subprocess.run(command, check=True, timeout=10)


def gstreamer_publisher(output_dir, url):
    """Debian's simple-whip-client (GStreamer webrtcbin + libnice, x264enc), non-trickle.
    As packaged it aborts at start: libnice's UPnP helper (libgupnp-igd) pulls in libsoup2 next
    to the client's libsoup3, so a stub of that helper goes first on LD_LIBRARY_PATH; and libnice
    skips loopback interfaces, so an ifb link carries 127.0.0.2 for its host candidate
    (docs/interop.md). Both only exist inside the test's network namespace and output directory."""
    client = shutil.which("whip-client")
    assert client, "whip-client is not installed (scripts/setup.sh installs simple-whip-client)"
    stub_dir = output_dir / "gupnp-stub"
    stub_dir.mkdir(exist_ok=True)
    (stub_dir / "stub.c").write_text(GUPNP_STUB)
    subprocess.run(["cc", "-shared", "-fPIC", "-Wl,-soname,libgupnp-igd-1.0.so.4", "-o",
                    str(stub_dir / "libgupnp-igd-1.0.so.4"), str(stub_dir / "stub.c")],
                   check=True, timeout=60)
    log = open(output_dir / "gstreamer-publisher.log", "wb")
    env = dict(os.environ, LD_LIBRARY_PATH=str(stub_dir))
    return subprocess.Popen([client, "-u", url, "-t", harness.INGEST_TOKEN, "-n",
                             "-A", GST_AUDIO, "-V", GST_VIDEO],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def measure_join(setup, endpoint, name, since="created"):
    """Creates a stage; returns (figures in ms, session record) once it decoded a frame."""
    created = time.time()
    stage = setup.api.create_stage(name)
    record = wait_until(
        lambda: (lambda s: s if s and s["firstVideoFrameAt"] else None)(
            endpoint.session(stage["id"])),
        15, f"a decoded frame at stage {name}", interval=0.02, context=setup.context())
    # Audio is reported too: aiortc holds 4 packets (80 ms) before its first audio frame.
    record = wait_until(
        lambda: (lambda s: s if s and s["firstAudioFrameAt"] else None)(
            endpoint.session(stage["id"])),
        5, f"a decoded audio frame at stage {name}", interval=0.02, context=setup.context())
    start = created if since == "created" else record["connectedAt"]

    def ms(at):
        return None if at is None else round((at - start) * 1000)
    figures = {"post": ms(record["postedAt"]), "connected": ms(record["connectedAt"]),
               "firstAudio": ms(record["firstAudioFrameAt"]),
               "firstVideo": ms(record["firstVideoFrameAt"]),
               "size": f"{record['width']}x{record['height']}", "from": since}
    return figures, record


def run_join_scenario(output_dir, processes, start_publisher, kind, media_env=None):
    endpoint = Endpoint(output_dir)
    processes.append(endpoint)
    setup = harness.RelaySetup(output_dir, processes, initial_stages=0,
                               whip_url_base=endpoint.url + "/whip", media_env=media_env)
    setup.api.wait_for_log("connected to /ws", timeout=10)
    publisher = start_publisher(output_dir, setup.media.whip_url())
    processes.append(publisher)
    wait_until(lambda: harness.publisher_live(setup.media) or publisher.poll() is not None, 60,
               f"the {kind} publisher live", interval=0.1, context=setup.context())
    assert publisher.poll() is None, f"the {kind} publisher exited\n{setup.context()()}"
    # The scenario: the stream has been running a while, as in production, with no keyframe
    # request from anyone since the start.
    time.sleep(STREAM_SECONDS_BEFORE_JOIN)

    source = harness.media_server_publisher(setup.media.status())
    print(f"{kind}: publisher at the join: {source.get('videoPackets')} video packets, "
          f"{source.get('audioPackets')} audio packets, {source.get('videoBitrateKbps')} kbit/s, "
          f"GOP cache {source.get('gopCachePackets')} packets")
    assert source.get("videoBitrateKbps", 0) > 0, f"the {kind} publisher stopped sending: {source}"
    joined, _ = measure_join(setup, endpoint, "late")
    print(f"{kind}: stage created {STREAM_SECONDS_BEFORE_JOIN} s into the stream: {joined}")
    endpoint.fail_next_posts(2)
    retried, record = measure_join(setup, endpoint, "after-500s", since="connected")
    print(f"{kind}: stage that got two HTTP 500s first: {retried} (session {record['number']})")
    status = harness.media_server_publisher(setup.media.status())
    print(f"{kind}: publisher status: keyframes {status.get('keyframes')}, "
          f"keyframe requests {status.get('keyframeRequests')}")

    assert record["number"] == 3, record  # two refused POSTs, then the one that connected
    # What the relay decides is the time from "connected" to the first decoded frame: a start
    # from the cache or a wait for the encoder's next keyframe. The time before "connected" is
    # the aiortc endpoint's own ICE and DTLS in Python, which took 700 ms of a 1,027 ms join on a
    # CI machine running Chromium tests beside it (100 ms alone): that half is printed above and
    # measured by the benchmark (bench/fanout.py, join_ms), not bounded here.
    assert joined["firstVideo"] - joined["connected"] <= JOIN_BOUND_S * 1000, joined
    assert retried["firstVideo"] <= JOIN_BOUND_S * 1000, retried
    assert setup.media.running()


def test_join_with_chromium_publisher(output_dir, processes):
    run_join_scenario(output_dir, processes, chromium_publisher, "chromium")


def test_join_with_gstreamer_publisher(output_dir, processes):
    add_second_loopback_address()
    # The media server's host candidate on 127.0.0.2 too, the address libnice will pair with.
    run_join_scenario(output_dir, processes, gstreamer_publisher, "gstreamer",
                      media_env={"RTC_BIND_IP": "127.0.0.2", "RTC_ANNOUNCED_IP": "127.0.0.2"})


def test_join_with_aiortc_publisher(output_dir, processes):
    run_join_scenario(output_dir, processes, aiortc_publisher, "aiortc")


def test_join_with_obs_like_publisher(output_dir, processes):
    """Our test publisher as OBS behaves (`--like obs`): SPS and PPS in packets of their own, a
    keyframe every 2 s (the most IVS accepts) and PLI/FIR ignored, so the join can only come
    from the relay's GOP cache."""
    media = harness.make_test_media(gop_seconds=2, seconds=8)

    def start(out, url):
        publisher = harness.Publisher(out, url, media=media, seconds=300,
                                      extra_args=("--like", "obs"))
        publisher.start()
        return publisher.popen
    run_join_scenario(output_dir, processes, start, "obs-like")
