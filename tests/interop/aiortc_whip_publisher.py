"""A WHIP publisher built on aiortc (an independent WebRTC stack): it loops a media file through
aiortc's own H.264 (libx264 via PyAV, STAP-A packetization) and Opus encoders and publishes it
to a WHIP endpoint, non-trickle, until SIGTERM or --seconds; then DELETEs its session and prints
one JSON line.

aiortc 1.4.0 quirks (docs/interop.md): aioice skips 127.0.0.1 when gathering host candidates, so the
list of host addresses is patched to loopback; its offer may reuse one extmap id across the
audio and video sections, which our ingest tolerates, so the offer is sent as it is.

Usage: /usr/bin/python3 aiortc_whip_publisher.py URL TOKEN SECONDS MEDIA_FILE
"""
import asyncio
import json
import signal
import sys
from urllib.parse import urljoin

import aiohttp
import aioice.ice
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def prefer_h264(transceiver):
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType == "video/H264"])


async def publish(url, token, seconds, media_file):
    player = MediaPlayer(media_file, loop=True)
    pc = RTCPeerConnection()
    pc.addTransceiver(player.audio, direction="sendonly")
    prefer_h264(pc.addTransceiver(player.video, direction="sendonly"))
    summary = {"connected": False, "states": [], "status": None}

    @pc.on("connectionstatechange")
    def on_state():
        summary["states"].append(pc.connectionState)
        summary["connected"] = summary["connected"] or pc.connectionState == "connected"

    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=pc.localDescription.sdp, headers=headers) as answer:
            summary["status"] = answer.status
            text = await answer.text()
            location = urljoin(url, answer.headers.get("Location", ""))
        if summary["status"] != 201:
            summary["error"] = text
            await pc.close()
            return summary
        await pc.setRemoteDescription(RTCSessionDescription(text, "answer"))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        async with http.delete(location, headers={"Authorization": f"Bearer {token}"}) as gone:
            summary["deleteStatus"] = gone.status
    await pc.close()
    return summary


if __name__ == "__main__":
    result = asyncio.run(publish(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
    print(json.dumps(result), flush=True)
