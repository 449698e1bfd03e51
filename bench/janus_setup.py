"""Janus's files for the fan-out benchmark's anchor (bench/janus_anchor.py): the test media, the
Janus, HTTP-transport and streaming-plugin configuration, the ffmpeg RTP feed, and the veth
interface Janus needs inside the benchmark's network namespace. Standard library only.
"""
import glob
import os
import pathlib
import shutil
import socket
import subprocess
import time

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
    (src/app/publisher/publisher_media.cpp: `$XDG_CACHE_HOME/ivs-media-server/1280x720-30fps-2500k-10s-v1`);
    None when they have not been generated (run `media-server publish` once, or see
    generate_media)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = pathlib.Path(base) / "ivs-media-server" / "1280x720-30fps-2500k-10s-v1"
    video, audio = directory / "video.h264", directory / "audio.ogg"
    return (str(video), str(audio)) if video.exists() and audio.exists() else None


def generate_media(directory, seconds=10, size="1280x720", fps=30, kbps=2500):
    """The same media as src/app/publisher/publisher_media.cpp generates (testsrc2, default 1280x720
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
