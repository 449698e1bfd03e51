"""Stand-in IVS stages built on aiortc + aiohttp (an independent WebRTC stack), for the
join-time test (test_join_time.py). Every `POST /whip/<stage>` with any bearer token is one
stage's publisher (our WHIP egress): aiortc answers recvonly, decodes the video with PyAV, and
records, per stage, the wall-clock time (time.time(), the same clock the test reads) of the
POST, of "connected", of the first audio frame and of the first decoded video frame with its
size. `GET /report` returns them as JSON; `DELETE /whip/<stage>/<n>` ends a session;
`POST /fail-next?count=N` makes the next N POSTs fail with HTTP 500 (a stage that recovers).

aiortc 1.4.0 quirk (docs/interop.md): aioice skips 127.0.0.1 when gathering host candidates, and
in the test's network namespace loopback is all there is, so the list of host addresses is
patched to loopback before any peer connection exists.

Usage: /usr/bin/python3 aiortc_stage_endpoint.py PORT
"""
import asyncio
import json
import logging
import os
import sys
import time

import aioice.ice
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

sessions = {}  # "<stage>/<n>" -> record
peers = {}
refusals = {"remaining": 0}  # POSTs still to answer 500 (POST /fail-next?count=N)


async def consume(record, track):
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        except Exception as error:  # reported in /report, not swallowed by the task
            record.setdefault("errors", []).append(f"{track.kind}: {error!r}")
            return
        now = time.time()
        if track.kind == "video":
            record["videoFrames"] += 1
            if record["firstVideoFrameAt"] is None:
                record["firstVideoFrameAt"] = now
                record["width"], record["height"] = frame.width, frame.height
        else:
            record["audioFrames"] += 1
            if record["firstAudioFrameAt"] is None:
                record["firstAudioFrameAt"] = now


async def whip(request):
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return web.Response(status=401)
    stage = request.match_info["stage"]
    number = sum(1 for key in sessions if key.startswith(stage + "/")) + 1
    key = f"{stage}/{number}"
    if refusals["remaining"] > 0:
        refusals["remaining"] -= 1
        sessions[key] = {"stage": stage, "number": number, "postedAt": time.time(),
                         "refused": True, "firstVideoFrameAt": None}
        return web.Response(status=500, text="refused by the test (fail-next)")
    record = {"stage": stage, "number": number, "postedAt": time.time(), "connectedAt": None,
              "firstAudioFrameAt": None, "firstVideoFrameAt": None, "videoFrames": 0,
              "audioFrames": 0, "width": 0, "height": 0, "states": [], "deleted": False,
              "tracks": []}
    sessions[key] = record
    pc = RTCPeerConnection()
    peers[key] = pc

    @pc.on("track")
    def on_track(track):
        record["tracks"].append(track.kind)
        asyncio.ensure_future(consume(record, track))

    @pc.on("connectionstatechange")
    def on_state():
        record["states"].append(pc.connectionState)
        if pc.connectionState == "connected" and record["connectedAt"] is None:
            record["connectedAt"] = time.time()

    try:
        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
    except Exception as error:  # answer 400 with the reason, keep the record
        record["error"] = repr(error)
        return web.Response(status=400, text=repr(error))
    return web.Response(status=201, text=pc.localDescription.sdp,
                        headers={"Location": f"/whip/{key}", "Content-Type": "application/sdp"})


async def delete(request):
    key = f"{request.match_info['stage']}/{request.match_info['n']}"
    pc = peers.pop(key, None)
    if pc is None:
        return web.Response(status=404)
    sessions[key]["deleted"] = True
    await pc.close()
    return web.Response(status=200)


async def fail_next(request):
    refusals["remaining"] = int(request.query.get("count", "1"))
    return web.Response(status=200)


async def report(_request):
    return web.json_response(sessions)


async def main(port):
    app = web.Application()
    app.router.add_post("/whip/{stage}", whip)
    app.router.add_delete("/whip/{stage}/{n}", delete)
    app.router.add_get("/report", report)
    app.router.add_post("/fail-next", fail_next)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()  # until the test kills the process


if __name__ == "__main__":
    if os.environ.get("AIORTC_STAGE_DEBUG"):  # aioice/aiortc timings, to debug a slow join
        logging.basicConfig(level=logging.DEBUG,
                            format="%(asctime)s.%(msecs)03d %(name)s %(message)s",
                            datefmt="%H:%M:%S")
    asyncio.run(main(int(sys.argv[1])))
