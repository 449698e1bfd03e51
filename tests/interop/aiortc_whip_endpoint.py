"""A WHIP endpoint built on aiortc + aiohttp (an independent WebRTC stack), for
test_aiortc_whip_receive.py. It answers one publisher (recvonly), decodes the video track with
PyAV (track.recv() returns decoded av.VideoFrame objects) and, after --seconds, prints one JSON
line: frames decoded, their size, audio frames, and the connection states it saw.

aiortc 1.4.0 quirk (docs/interop.md): aioice skips 127.0.0.1 when gathering host candidates, and in
the test's network namespace loopback is all there is, so the list of host addresses is patched
to loopback before any peer connection exists.

Usage: /usr/bin/python3 aiortc_whip_endpoint.py PORT TOKEN SECONDS
"""
import asyncio
import json
import sys

import aioice.ice
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

state = {"video_frames": 0, "audio_frames": 0, "width": 0, "height": 0, "states": [],
         "errors": []}
peers = []


async def consume(track):
    key = "video_frames" if track.kind == "video" else "audio_frames"
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        state[key] += 1
        if track.kind == "video":
            state["width"], state["height"] = frame.width, frame.height


async def whip(request, token):
    if request.headers.get("Authorization") != f"Bearer {token}":
        return web.Response(status=401)
    pc = RTCPeerConnection()
    peers.append(pc)

    @pc.on("track")
    def on_track(track):
        asyncio.ensure_future(consume(track))

    @pc.on("connectionstatechange")
    def on_state():
        state["states"].append(pc.connectionState)

    try:
        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
    except Exception as error:  # report it in the summary, answer 400
        state["errors"].append(repr(error))
        return web.Response(status=400, text=repr(error))
    state["answer"] = pc.localDescription.sdp
    return web.Response(status=201, text=pc.localDescription.sdp,
                        headers={"Location": "/whip/1", "Content-Type": "application/sdp"})


async def main(port, token, seconds):
    app = web.Application()
    app.router.add_post("/whip", lambda request: whip(request, token))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.sleep(seconds)
    for pc in peers:
        await pc.close()
    await runner.cleanup()
    print(json.dumps(state), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
