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
import pathlib
import sys
import json
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
# generate_media and remux_to_ts are re-exported: the benchmark and its test call them from here.
from janus_setup import (  # noqa: E402 - bench/ is not a package
    BATCH,
    JanusError,
    MOUNTPOINT_ID,
    default_media,
    ensure_ice_interface,
    feed_command,
    find_janus_lib_dir,
    free_port,
    generate_media,
    http_config,
    janus_config,
    remux_to_ts,
    streaming_config)


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
