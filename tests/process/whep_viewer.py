"""A WHEP viewer built on aiortc (an independent WebRTC stack) for the relay process tests: it
POSTs a receive-only offer (H.264 video + Opus audio), decodes the video with PyAV and prints ONE
JSON line on stdout when done:

  {"connected", "framesDecoded", "firstFrameMs", "width", "height", "error", ...}

plus diagnostics: "audioFrames", "postStatus", "postAttempts", "location", "deleteStatus",
"answerMs" (when the 201 arrived) and "frameSeconds" (frames decoded in each whole second
after the time origin, so a test can see when video stopped and resumed).

Usage:
  /usr/bin/python3 whep_viewer.py URL [--token T] --seconds S [--until-frames N] [--t0 EPOCH]

  URL             the WHEP endpoint; "-" reads "URL [T0]" from the first line of stdin, after
                  the offer is ready (the viewer then prints "ready" on stderr). A test that
                  must measure from an event whose URL it does not know yet (a stage being
                  created) starts the viewer first, waits for "ready", causes the event and
                  writes the URL and the event's time, so Python start-up and ICE gathering
                  are not part of the measurement.
  --seconds S     give up after S seconds from the time origin; without --until-frames the
                  viewer watches for the full S seconds.
  --until-frames  stop as soon as N frames are decoded.
  --t0 EPOCH      the time origin (time.time() seconds) that firstFrameMs and frameSeconds are
                  measured from; default: this process's start.

While running, "progress <framesDecoded> <ms since t0>" goes to stderr twice a second.

A 409 (no publisher yet; WHEP servers send Retry-After) is retried every 50 ms until the
deadline, so the moment the stream becomes available is not hidden behind Retry-After's
whole-second granularity. Exit code 0 when at least one frame was decoded (and N frames with
--until-frames), else 1.

aiortc 1.4.0 quirks handled here (docs/interop.md): aioice skips 127.0.0.1 when gathering, so the
host address list is patched to loopback (the tests run in a namespace that only has `lo`);
and its offers reuse one header-extension id for different URIs in the audio and video
sections of one BUNDLE, so the ids are renumbered to be unique before the offer is sent.
"""
import time

PROCESS_START = time.time()  # before the heavy imports: "from process start" means this

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import urllib.parse  # noqa: E402

import aiohttp  # noqa: E402
import aioice.ice  # noqa: E402
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

RETRY_INTERVAL_S = 0.05


def renumber_extmap_ids(sdp: str) -> str:
    """Gives every distinct extension URI its own id across the whole SDP (aiortc 1.4.0 reuses
    ids for different URIs in different m-sections of one BUNDLE group)."""
    ids = {}

    def replace(match):
        uri = match.group(3)
        if uri not in ids:
            ids[uri] = len(ids) + 1
        return f"{match.group(1)}{ids[uri]}{match.group(2)}{uri}"

    return re.sub(r"^(a=extmap:)\d+((?:/\w+)? )(\S+)", replace, sdp, flags=re.MULTILINE)


class Viewer:
    def __init__(self, args):
        self.args = args
        self.t0 = args.t0 if args.t0 is not None else PROCESS_START
        self.deadline = self.t0 + args.seconds
        self.result = {"connected": False, "framesDecoded": 0, "firstFrameMs": None,
                       "width": None, "height": None, "error": None, "audioFrames": 0,
                       "postStatus": None, "postAttempts": 0, "location": None,
                       "deleteStatus": None, "answerMs": None, "frameSeconds": []}
        self.enough = asyncio.Event()
        self.pc = None

    def elapsed_ms(self) -> float:
        return round((time.time() - self.t0) * 1000.0, 1)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.time())

    def on_video_frame(self, frame):
        r = self.result
        r["framesDecoded"] += 1
        if r["firstFrameMs"] is None:
            r["firstFrameMs"] = self.elapsed_ms()
        r["width"], r["height"] = frame.width, frame.height
        second = max(0, int(time.time() - self.t0))
        seconds = r["frameSeconds"]
        seconds.extend([0] * (second + 1 - len(seconds)))
        seconds[second] += 1
        if self.args.until_frames and r["framesDecoded"] >= self.args.until_frames:
            self.enough.set()

    async def consume(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            except Exception as error:  # a decoder error ends this track, not the report
                self.result["error"] = self.result["error"] or f"{track.kind} track: {error!r}"
                return
            if track.kind == "video":
                self.on_video_frame(frame)
            else:
                self.result["audioFrames"] += 1

    async def make_offer(self) -> str:
        pc = self.pc = RTCPeerConnection()
        video = pc.addTransceiver("video", direction="recvonly")
        # The relay sends H.264 only; listing it alone keeps the answerer from guessing.
        codecs = [c for c in RTCRtpReceiver.getCapabilities("video").codecs
                  if c.mimeType.lower() in ("video/h264", "video/rtx")]
        video.setCodecPreferences(codecs)
        pc.addTransceiver("audio", direction="recvonly")

        @pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self.consume(track))

        @pc.on("connectionstatechange")
        def on_state():
            if pc.connectionState == "connected":
                self.result["connected"] = True
            elif pc.connectionState == "failed":
                self.result["error"] = self.result["error"] or "connection failed"
                self.enough.set()

        await pc.setLocalDescription(await pc.createOffer())  # gathers candidates
        return renumber_extmap_ids(pc.localDescription.sdp)

    async def post_offer(self, http, url, offer) -> str:
        headers = {"Content-Type": "application/sdp"}
        if self.args.token:
            headers["Authorization"] = f"Bearer {self.args.token}"
        while True:
            self.result["postAttempts"] += 1
            try:
                async with http.post(url, data=offer, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=max(0.5, self.remaining()))
                                     ) as response:
                    body = await response.text()
                    self.result["postStatus"] = response.status
                    if response.status == 201:
                        location = response.headers.get("Location")
                        if location:
                            self.result["location"] = urllib.parse.urljoin(url, location)
                        self.result["answerMs"] = self.elapsed_ms()
                        return body
                    if response.status != 409:
                        raise RuntimeError(f"POST {url}: {response.status} {body[:300]!r}")
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                if self.remaining() <= 0:
                    raise RuntimeError(f"POST {url}: {error!r}") from error
            if self.remaining() <= RETRY_INTERVAL_S:
                raise RuntimeError(f"POST {url}: still {self.result['postStatus']} "
                                   f"(no publisher) after {self.args.seconds} s")
            await asyncio.sleep(RETRY_INTERVAL_S)

    async def delete_session(self, http):
        if not self.result["location"]:
            return
        headers = {"Authorization": f"Bearer {self.args.token}"} if self.args.token else {}
        try:
            async with http.delete(self.result["location"], headers=headers,
                                   timeout=aiohttp.ClientTimeout(total=2)) as response:
                self.result["deleteStatus"] = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            self.result["deleteStatus"] = repr(error)

    def finish_now(self):
        """SIGTERM/SIGINT: stop watching, DELETE the session and print the report."""
        self.deadline = min(self.deadline, time.time())
        self.enough.set()

    async def run(self):
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.finish_now)
        offer = await self.make_offer()
        url = self.args.url
        if url == "-":
            print("ready", file=sys.stderr, flush=True)
            line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            fields = line.split()
            if not fields:
                raise RuntimeError("no URL on stdin")
            url = fields[0]
            if len(fields) > 1:  # "URL T0": the event to measure from happened just now
                self.t0 = float(fields[1])
                self.deadline = self.t0 + self.args.seconds
        progress = asyncio.ensure_future(self.report_progress())
        async with aiohttp.ClientSession() as http:
            try:
                answer = await self.post_offer(http, url, offer)
                await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
                try:
                    await asyncio.wait_for(self.enough.wait(), timeout=self.remaining())
                except asyncio.TimeoutError:
                    pass
            finally:
                progress.cancel()
                await self.delete_session(http)

    async def report_progress(self):
        """A line on stderr twice a second, so a test can watch decoding while it runs."""
        while True:
            await asyncio.sleep(0.5)
            print(f"progress {self.result['framesDecoded']} {self.elapsed_ms()}",
                  file=sys.stderr, flush=True)


async def main(args) -> int:
    viewer = Viewer(args)
    try:
        await viewer.run()
    except Exception as error:  # reported in the JSON line, which is the interface
        viewer.result["error"] = str(error) or repr(error)
    finally:
        if viewer.pc is not None:
            await viewer.pc.close()
    result = viewer.result
    print(json.dumps(result), flush=True)
    enough = result["framesDecoded"] >= max(1, args.until_frames or 1)
    return 0 if enough else 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description="aiortc WHEP viewer (prints one JSON line)")
    parser.add_argument("url", help='WHEP endpoint URL, or "-" to read it from stdin')
    parser.add_argument("--token", default="", help="Bearer token for the WHEP POST")
    parser.add_argument("--seconds", type=float, required=True, help="deadline from t0")
    parser.add_argument("--until-frames", type=int, default=0, help="stop after N frames")
    parser.add_argument("--t0", type=float, default=None,
                        help="time origin as a time.time() epoch; default: process start")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args(sys.argv[1:]))))
