"""The Janus anchor of the fan-out benchmark (issue 6, docs/benchmark-janus.md).

Debian's `janus` (1.1.2) serves the same stream our media server relays, to N subscribers of
the same sink kind: its streaming plugin has one RTP mountpoint (H.264 PT 96 packetization-mode
1 profile-level-id 42e01f + Opus PT 111) fed by ffmpeg from the test publisher's cached files,
and every subscriber is a Janus streaming viewer whose offer is answered by whip_sink's answer
mode (`POST /answer`: ICE-lite, DTLS client, packets counted from the clear SRTP headers). The
benchmark reads Janus's CPU and RSS from /proc/<pid()> and the delivered packets from the sink.

    with JanusAnchor(work_dir, video_h264=..., audio_ogg=..., log=print) as janus:
        janus.set_subscribers(10, "http://127.0.0.1:8080")   # grows or shrinks to 10 viewers
        ... measure janus.pid() ...

Standard library only (Python 3.11). Everything runs on loopback; run it inside
scripts/netns-run like every other real peer.
"""
import glob
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

MOUNTPOINT_ID = 1
# Janus gathers host candidates only on interfaces that are up, running and NOT loopback
# (janus-gateway src/ice.c skips IFF_LOOPBACK unconditionally; ice_enforce_list = "lo" does not
# help). Inside the benchmark's private network namespace the anchor therefore adds a veth pair
# with a TEST-NET-1 address (RFC 5737) on one end; nothing leaves the namespace. libnice 0.1.21
# pins each socket to its interface (IP_UNICAST_IF), so Janus's datagrams to the sink's
# 127.0.0.1 really cross the veth and arrive on the peer end, which must accept a loopback
# destination (route_localnet) from a local source (accept_local). The sink's replies to
# 192.0.2.1 are plain local delivery over lo.
ICE_INTERFACE = "ivsjanus0"
ICE_PEER_INTERFACE = "ivsjanus1"
ICE_ADDRESS = "192.0.2.1"
# Viewers are set up in batches: every viewer of a batch gets its "watch" before the first
# offer is awaited, so Janus gathers candidates for the batch in parallel.
BATCH = 25


class JanusError(RuntimeError):
    """Janus, ffmpeg or the sink refused or did not answer in time."""


def free_port(kind=socket.SOCK_STREAM):
    """A port the kernel just handed out on 127.0.0.1 (closed again: racy, fine on loopback in
    a private namespace)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def default_media():
    """The test publisher's cached 720p30 ~2.5 Mbit/s H.264 Baseline + Ogg Opus
    (src/app/publisher_media.cpp: `$XDG_CACHE_HOME/ivs-media-server/1280x720-30fps-2500k-10s-v1`);
    None when they have not been generated (run `media-server publish` once, or see
    generate_media)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = pathlib.Path(base) / "ivs-media-server" / "1280x720-30fps-2500k-10s-v1"
    video, audio = directory / "video.h264", directory / "audio.ogg"
    return (str(video), str(audio)) if video.exists() and audio.exists() else None


def generate_media(directory, seconds=10, size="1280x720", fps=30, kbps=2500):
    """The same media as src/app/publisher_media.cpp generates (testsrc2, default 1280x720
    30 fps, libx264 Baseline, no B-frames, IDR every second, one slice, 2500 kbit/s capped;
    440 Hz libopus 20 ms mono), without the drawn clock. Returns (video, audio) paths."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    video, audio = directory / "video.h264", directory / "audio.ogg"
    common = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
    subprocess.run(common + [
        "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}", "-c:v", "libx264",
        "-profile:v", "baseline", "-bf", "0", "-g", str(fps), "-keyint_min", str(fps),
        "-sc_threshold", "0", "-preset", "veryfast", "-tune", "zerolatency",
        "-x264-params", "sliced-threads=0", "-pix_fmt", "yuv420p", "-b:v", f"{kbps}k",
        "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k", "-f", "h264", str(video)], check=True)
    subprocess.run(common + [
        "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}", "-c:a", "libopus",
        "-b:a", "64k", "-frame_duration", "20", "-ar", "48000", "-ac", "1", "-f", "ogg",
        str(audio)], check=True)
    return str(video), str(audio)


def find_janus_lib_dir():
    """Where Debian (or a /opt build) put Janus's plugins/, transports/, events/, loggers/."""
    candidates = glob.glob("/usr/lib/*/janus") + ["/usr/lib/janus", "/opt/janus/lib/janus"]
    for candidate in candidates:
        if os.path.isdir(os.path.join(candidate, "plugins")):
            return candidate
    raise JanusError("no Janus plugin directory found (looked in " + ", ".join(candidates) + ")")


def disable_list(folder, keep):
    """Every module in `folder` but `keep`, for a jcfg `disable = "..."` line: Janus loads every
    plugin/transport/handler it finds unless told not to."""
    names = sorted(os.path.basename(path) for path in glob.glob(os.path.join(folder, "*.so")))
    return ",".join(name for name in names if name != keep)


def ip_command():
    for candidate in ("ip", "/usr/sbin/ip", "/sbin/ip"):
        found = shutil.which(candidate)
        if found:
            return found
    raise JanusError("the `ip` command (iproute2) is needed to give Janus a non-loopback "
                     "interface")


def ensure_ice_interface():
    """Adds the veth pair Janus gathers its candidate on, once per network namespace. Refuses
    outside scripts/netns-run: it must never touch the host's interfaces."""
    if os.environ.get("IVS_IN_NETNS") != "1":
        raise JanusError("Janus gathers no candidates on loopback; run inside scripts/netns-run "
                         "(the anchor then adds a veth pair there), or pass ice_interface=")
    ip = ip_command()
    if subprocess.run([ip, "link", "show", ICE_INTERFACE], capture_output=True).returncode != 0:
        for command in (["link", "add", ICE_INTERFACE, "type", "veth", "peer", "name",
                         ICE_PEER_INTERFACE],
                        ["addr", "add", ICE_ADDRESS + "/32", "dev", ICE_INTERFACE],
                        ["link", "set", ICE_INTERFACE, "up"],
                        ["link", "set", ICE_PEER_INTERFACE, "up"]):
            done = subprocess.run([ip] + command, capture_output=True, text=True)
            if done.returncode != 0:
                raise JanusError(f"ip {' '.join(command)}: {done.stderr.strip()}")
        settings = {f"{ICE_PEER_INTERFACE}/route_localnet": "1",
                    f"{ICE_PEER_INTERFACE}/accept_local": "1",
                    f"{ICE_PEER_INTERFACE}/rp_filter": "0", "all/rp_filter": "0"}
        for name, value in settings.items():
            pathlib.Path(f"/proc/sys/net/ipv4/conf/{name}").write_text(value)
    check_ice_path()
    return ICE_INTERFACE


def check_ice_path():
    """One datagram each way the way libnice sends them (bound to ICE_ADDRESS, pinned to the
    interface), so a kernel that drops them fails here with a reason, not as an ICE timeout."""
    ip_unicast_if = 50  # <linux/in.h>; Python's socket module has no name for it
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as janus:
        sink.bind(("127.0.0.1", 0))
        janus.setsockopt(socket.IPPROTO_IP, ip_unicast_if,
                         socket.if_nametoindex(ICE_INTERFACE).to_bytes(4, "big"))
        janus.bind((ICE_ADDRESS, 0))
        sink.settimeout(2)
        janus.settimeout(2)
        try:
            janus.sendto(b"janus->sink", sink.getsockname())
            _, source = sink.recvfrom(64)
            sink.sendto(b"sink->janus", source)
            janus.recvfrom(64)
        except TimeoutError:
            raise JanusError(f"datagrams between {ICE_ADDRESS} ({ICE_INTERFACE}) and 127.0.0.1 "
                             "are dropped; see ensure_ice_interface") from None


def janus_config(lib_dir, config_dir, log_file, event_loops, ice_interface, debug_level):
    return f"""# Written by bench/janus_anchor.py for the fan-out benchmark; see docs/benchmark-janus.md.
general: {{
\tconfigs_folder = "{config_dir}"
\tplugins_folder = "{lib_dir}/plugins"
\ttransports_folder = "{lib_dir}/transports"
\tevents_folder = "{lib_dir}/events"
\tloggers_folder = "{lib_dir}/loggers"
\tlog_to_stdout = false
\tlog_to_file = "{log_file}"
\t# 2 = errors only. Under overload Janus warns once per dropped packet ("Discarding too old
\t# outgoing packet": 670,000 lines in one 500-viewer run), which would make the anchor's
\t# saturation worse than Janus's own; setup failures are errors and still logged.
\tdebug_level = {debug_level}
\tdebug_colors = false
\t# The benchmark holds its Janus session for the whole run without keepalives.
\tsession_timeout = 0
\t# event_loops: by default every handle (= every viewer) gets its own GLib loop thread, so
\t# N viewers mean N threads each woken for every packet. On the 2-core benchmark machine a
\t# fixed pool of one loop per core is the configuration the Janus docs suggest when threads
\t# outnumber cores ("provision the correct value according to the available resources"): it
\t# keeps context switches per packet low, which is the fair setting for a CPU-per-packet
\t# comparison. bench/janus_anchor.py takes it as a parameter (0 = Janus's default).
\tevent_loops = {event_loops}
\tprotected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr"]
}}
certificates: {{
\t# No certificate: Janus generates a self-signed ECDSA one at start-up.
}}
media: {{
\tipv6 = false
\t# The viewers never send media; no "no media" events.
\tno_media_timer = 0
}}
nat: {{
\t# No STUN/TURN; full ICE (not ice_lite), half-trickle (candidates in the SDP), host
\t# candidates on the namespace-local veth only (see ICE_INTERFACE in janus_anchor.py).
\tnice_debug = {"true" if os.environ.get("JANUS_ANCHOR_NICE_DEBUG") else "false"}
\tfull_trickle = false
\tice_lite = false
\tice_enforce_list = "{ice_interface}"
\t# Connectivity checks as keepalives: the sink is ICE-lite and refreshes consent only on
\t# Binding requests (RFC 7675), not on the Binding indications libnice sends otherwise.
\tice_keepalive_conncheck = true
}}
plugins: {{
\tdisable = "{disable_list(lib_dir + '/plugins', 'libjanus_streaming.so')}"
}}
transports: {{
\tdisable = "{disable_list(lib_dir + '/transports', 'libjanus_http.so')}"
}}
loggers: {{
\tdisable = "{disable_list(lib_dir + '/loggers', '')}"
}}
events: {{
\tbroadcast = false
\tdisable = "{disable_list(lib_dir + '/events', '')}"
}}
"""


def http_config(port):
    return f"""general: {{
\tjson = "compact"
\tbase_path = "/janus"
\thttp = true
\tport = {port}
\tip = "127.0.0.1"
\thttps = false
}}
admin: {{
\tadmin_http = false
\tadmin_https = false
}}
"""


def streaming_config(video_port, audio_port, helper_threads):
    return f"""general: {{
\tevents = false
}}
bench: {{
\ttype = "rtp"
\tid = {MOUNTPOINT_ID}
\tdescription = "fan-out benchmark: 720p30 H.264 + Opus"
\t# Helper threads relaying to viewers. With 0 (Janus's default) the mountpoint's one thread
\t# hands every packet to every viewer and saturates first: 26 % loss at 300 viewers on the
\t# 2-core machine, 0 % with 2 helpers (docs/benchmark-janus.md).
\tthreads = {helper_threads}
\tmedia = (
\t\t{{
\t\t\ttype = "video"
\t\t\tmid = "v"
\t\t\tport = {video_port}
\t\t\tiface = "127.0.0.1"
\t\t\tpt = 96
\t\t\tcodec = "h264"
\t\t\tfmtp = "profile-level-id=42e01f;packetization-mode=1"
\t\t}},
\t\t{{
\t\t\ttype = "audio"
\t\t\tmid = "a"
\t\t\tport = {audio_port}
\t\t\tiface = "127.0.0.1"
\t\t\tpt = 111
\t\t\tcodec = "opus"
\t\t}}
\t)
}}
"""


def remux_to_ts(ffmpeg, video_h264, out_ts, fps=30):
    """ffmpeg cannot loop a raw .h264 (-stream_loop needs a seek, and the raw demuxer fails it
    with EPERM: the feed silently stopped after one pass). MPEG-TS is seekable and keeps the
    Annex-B stream as it is, SPS/PPS in band; the raw demuxer needs the frame rate said (it
    assumes 25)."""
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-framerate", str(fps), "-f", "h264", "-i", str(video_h264), "-c", "copy",
                    "-f", "mpegts", str(out_ts)], check=True, capture_output=True)
    return str(out_ts)


def feed_command(ffmpeg, video_ts, audio, video_port, audio_port):
    """Plain RTP from the files, paced in real time (-re) and looped forever, in 1200-byte
    packets like our relay's."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-re", "-stream_loop", "-1", "-i", video_ts,
            "-re", "-stream_loop", "-1", "-i", audio,
            "-map", "0:v", "-c", "copy", "-payload_type", "96", "-pkt_size", "1200",
            "-f", "rtp", f"rtp://127.0.0.1:{video_port}?pkt_size=1200",
            "-map", "1:a", "-c", "copy", "-payload_type", "111",
            "-f", "rtp", f"rtp://127.0.0.1:{audio_port}"]


class JanusAnchor:
    """Janus + its RTP feed + N streaming viewers answered by a whip_sink (context manager)."""

    def __init__(self, work_dir, janus_bin="janus", video_h264=None, audio_ogg=None, log=None,
                 event_loops=2, ffmpeg_bin="ffmpeg", start_timeout=20.0, ice_interface=None, fps=30, debug_level=2,
                 helper_threads=2):
        self.work_dir = pathlib.Path(work_dir)
        self.janus_bin = janus_bin
        if video_h264 is None or audio_ogg is None:
            cached = default_media()
            if cached is None:
                raise JanusError("no media: pass video_h264/audio_ogg or generate the test "
                                 "publisher's cache (media-server publish)")
            video_h264, audio_ogg = cached
        self.video_h264 = str(video_h264)
        self.audio_ogg = str(audio_ogg)
        self.log = log or (lambda message: None)
        self.event_loops = event_loops
        self.ffmpeg_bin = ffmpeg_bin
        self.start_timeout = start_timeout
        self.ice_interface = ice_interface
        self.debug_level = debug_level
        self.helper_threads = helper_threads
        self.fps = fps  # of the raw H.264 file, which carries no timing of its own
        self.janus = None
        self.feed = None
        self.http_port = None
        self.session_id = None
        self.viewers = []  # dicts: handle, sink_url, location, sink_id
        self.pending_events = []
        self._transaction = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Writes the configs, starts Janus, waits for its HTTP API, starts the RTP feed and
        opens the Janus session the viewers' handles live in."""
        binary = shutil.which(self.janus_bin)
        if binary is None:
            raise JanusError(f"{self.janus_bin} not found (Debian: apt-get install janus)")
        lib_dir = find_janus_lib_dir()
        ice_interface = self.ice_interface or ensure_ice_interface()
        config_dir = self.work_dir / "janus-etc"
        config_dir.mkdir(parents=True, exist_ok=True)
        self.janus_log = self.work_dir / "janus.log"
        self.video_ts = remux_to_ts(self.ffmpeg_bin, self.video_h264, self.work_dir / "video.ts",
                                    self.fps)
        self.http_port = free_port()
        self.video_port = free_port(socket.SOCK_DGRAM)
        self.audio_port = free_port(socket.SOCK_DGRAM)
        while self.audio_port == self.video_port:
            self.audio_port = free_port(socket.SOCK_DGRAM)
        (config_dir / "janus.jcfg").write_text(
            janus_config(lib_dir, config_dir, self.janus_log, self.event_loops, ice_interface,
                         self.debug_level))
        (config_dir / "janus.transport.http.jcfg").write_text(http_config(self.http_port))
        (config_dir / "janus.plugin.streaming.jcfg").write_text(
            streaming_config(self.video_port, self.audio_port, self.helper_threads))
        stdout = open(self.work_dir / "janus.stdout", "wb")
        self.janus = subprocess.Popen(
            [binary, "-C", str(config_dir / "janus.jcfg"), "-F", str(config_dir)],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.STDOUT,
            start_new_session=True)
        stdout.close()
        self.log(f"janus: pid {self.janus.pid}, http 127.0.0.1:{self.http_port}, "
                 f"RTP in video {self.video_port} audio {self.audio_port}, "
                 f"event_loops {self.event_loops}, log {self.janus_log}")
        self._wait_ready()
        feed_log = open(self.work_dir / "feed.log", "wb")
        self.feed = subprocess.Popen(
            feed_command(self.ffmpeg_bin, self.video_ts, self.audio_ogg, self.video_port,
                         self.audio_port),
            stdin=subprocess.DEVNULL, stdout=feed_log, stderr=subprocess.STDOUT,
            start_new_session=True)
        feed_log.close()
        self.session_id = self._post("/janus", {"janus": "create"})["data"]["id"]

    def pid(self):
        return self.janus.pid

    def stop(self):
        """Detaches every viewer (ending its sink session), then stops the feed and Janus."""
        try:
            if self.janus is not None and self.janus.poll() is None:
                self.set_subscribers(0, None)
        except (JanusError, OSError) as error:
            self.log(f"janus: viewers not detached cleanly: {error}")
        for process in (self.feed, self.janus):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.feed = None
        self.janus_exit = self.janus.returncode if self.janus else None

    # -- viewers -----------------------------------------------------------------------------

    def set_subscribers(self, n, sink_http_url):
        """Grows or shrinks to `n` viewers. New viewers are answered by the sink at
        `sink_http_url` (POST /answer); returns once Janus reports each new PeerConnection up
        and the sink has counted media on each (JanusError otherwise)."""
        while len(self.viewers) > n:
            self._remove_viewer(self.viewers.pop())
        added = []
        while len(self.viewers) < n:
            batch = min(BATCH, n - len(self.viewers))
            up = len(self.viewers)
            try:
                added.extend(self._add_viewers(batch, sink_http_url.rstrip("/")))
            except JanusError as error:
                raise JanusError(f"{error} (growing to {n}: {up} viewers were up)") from None
        if added:
            self._wait_media(added, sink_http_url.rstrip("/"))

    def _add_viewers(self, count, sink_url):
        """Attaches `count` handles and negotiates each. Every handle is in self.viewers from
        its attach on, so a failure half-way still leaves it for stop() to detach."""
        viewers = []
        for _ in range(count):
            handle = self._post(f"/janus/{self.session_id}",
                                {"janus": "attach", "plugin": "janus.plugin.streaming"})
            viewers.append({"handle": handle["data"]["id"], "sink_url": sink_url,
                            "location": None})
            self.viewers.append(viewers[-1])
        for viewer in viewers:
            self._message(viewer["handle"], {"request": "watch", "id": MOUNTPOINT_ID})
        deadline = time.monotonic() + 10 + 0.2 * count
        for viewer in viewers:
            offer = self._wait_event(
                lambda event, h=viewer["handle"]: event.get("sender") == h and "jsep" in event,
                deadline, f"the offer for handle {viewer['handle']}")
            answer, location = self._sink_answer(sink_url, offer["jsep"]["sdp"])
            if len(self.viewers) == len(viewers) and viewer is viewers[0]:
                # The first exchange is kept for debugging and for docs/benchmark-janus.md.
                (self.work_dir / "first-offer.sdp").write_text(offer["jsep"]["sdp"])
                (self.work_dir / "first-answer.sdp").write_text(answer)
            viewer["location"] = location
            viewer["sink_id"] = int(location.rsplit("/", 1)[1])
            self._message(viewer["handle"], {"request": "start"},
                          {"type": "answer", "sdp": answer})
        for viewer in viewers:
            self._wait_event(
                lambda event, h=viewer["handle"]: (event.get("sender") == h and
                                                   event.get("janus") == "webrtcup"),
                deadline, f"webrtcup for handle {viewer['handle']}")
        return viewers

    def _remove_viewer(self, viewer):
        self._post(f"/janus/{self.session_id}/{viewer['handle']}", {"janus": "detach"})
        if viewer["location"] is None:  # never answered by the sink
            return
        request = urllib.request.Request(viewer["sink_url"] + viewer["location"], method="DELETE")
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except urllib.error.HTTPError as error:
            if error.code != 404:  # the sink may already have dropped it (consent expiry)
                raise JanusError(f"sink DELETE {viewer['location']}: HTTP {error.code}")

    def _sink_answer(self, sink_url, offer_sdp):
        request = urllib.request.Request(sink_url + "/answer", data=offer_sdp.encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/sdp"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode(), response.headers["Location"]
        except urllib.error.HTTPError as error:
            raise JanusError(f"sink refused Janus's offer: HTTP {error.code}: "
                             f"{error.read().decode(errors='replace')[:500]}") from None

    def _wait_media(self, viewers, sink_url, timeout=None):
        """Media really flows: the sink counted packets on every new viewer's session."""
        deadline = time.monotonic() + (timeout or 10 + 0.05 * len(viewers))
        waiting = {viewer["sink_id"] for viewer in viewers}
        while True:
            with urllib.request.urlopen(sink_url + "/stats", timeout=10) as response:
                stats = json.loads(response.read())
            for session in stats.get("perSession", []):
                if session["id"] in waiting and session["packets"] > 0:
                    waiting.discard(session["id"])
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise JanusError(f"no media at the sink for sessions {sorted(waiting)[:10]} "
                                 f"({len(waiting)} of {len(viewers)}); see {self.janus_log}")
            time.sleep(0.1)

    # -- Janus HTTP API (https://janus.conf.meetecho.com/docs/rest.html) ---------------------

    def _url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def _post(self, path, body):
        self._transaction += 1
        body = dict(body, transaction=f"t{self._transaction}")
        request = urllib.request.Request(self._url(path), data=json.dumps(body).encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        if reply.get("janus") not in ("success", "ack"):
            raise JanusError(f"janus {body['janus']} on {path}: {reply}")
        return reply

    def _message(self, handle, body, jsep=None):
        message = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        return self._post(f"/janus/{self.session_id}/{handle}", message)

    def _wait_event(self, matches, deadline, what):
        """Long-polls the session's event queue until an event satisfies `matches`; events for
        other handles are kept for later waits. Plugin errors for any handle raise."""
        while True:
            for index, event in enumerate(self.pending_events):
                if matches(event):
                    return self.pending_events.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JanusError(f"timed out waiting for {what}; see {self.janus_log}")
            if self.janus.poll() is not None:
                raise JanusError(f"janus exited with {self.janus.returncode}; "
                                 f"see {self.janus_log}")
            poll = self._url(f"/janus/{self.session_id}?maxev=50&rid={random.getrandbits(32)}")
            try:
                with urllib.request.urlopen(poll, timeout=min(remaining, 30) + 5) as response:
                    events = json.loads(response.read())
            except TimeoutError:
                continue
            for event in events if isinstance(events, list) else [events]:
                data = event.get("plugindata", {}).get("data", {})
                if "error" in data:
                    raise JanusError(f"streaming plugin error for handle {event.get('sender')}: "
                                     f"{data['error']}")
                if event.get("janus") != "keepalive":
                    self.pending_events.append(event)
            # Only offers and webrtcup are ever waited for; keep the queue from growing.
            self.pending_events = [e for e in self.pending_events
                                   if "jsep" in e or e.get("janus") == "webrtcup"]

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.janus.poll() is not None:
                raise JanusError(f"janus exited with {self.janus.returncode} at start-up; see "
                                 f"{self.janus_log} and {self.work_dir / 'janus.stdout'}")
            try:
                with urllib.request.urlopen(self._url("/janus/info"), timeout=2) as response:
                    info = json.loads(response.read())
                if "janus.plugin.streaming" not in info.get("plugins", {}):
                    raise JanusError(f"janus started without the streaming plugin: {info}")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise JanusError(f"janus HTTP API not up within {self.start_timeout} s; see "
                                 f"{self.janus_log}")
            time.sleep(0.1)
