"""build/tools/whip_sink, the fan-out benchmark's destination: several WHIP publishers (our
engine's whip-client: egress offer, full ICE, DTLS client, SRTP) push H.264 + Opus into ONE sink
process at once; the sink terminates every session on one HTTP port and one UDP port and counts
packets from the clear SRTP headers without keys. Asserts each session connected, media was
counted for each, and no sequence gaps on loopback. Each session's firstMediaWallMs (Unix epoch
ms of its first packet) lies between the first POST and the stats read."""
import json
import signal
import subprocess
import tempfile
import time
import urllib.request

from webrtc_peer_support import (BUILD_DIR, finish_peer, make_h264, require_tools, start_peer)

WHIP_SINK = BUILD_DIR / "tools" / "whip_sink"
CLIENTS = 3


def read_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        return json.loads(response.read())


def first_json_line(process):
    """The sink's log lines share stdout; its port report is the first JSON line."""
    for line in process.stdout:
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"whip_sink exited: {process.stderr.read()[-2000:]}")


def test_whip_sink_counts_every_session_without_gaps():
    require_tools()
    assert WHIP_SINK.exists(), f"{WHIP_SINK} is not built"
    sink = subprocess.Popen([str(WHIP_SINK), "--seconds", "120"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ports = first_json_line(sink)
        before_ms = time.time() * 1000
        http_port = ports["http_port"]
        with tempfile.TemporaryDirectory() as directory:
            h264 = make_h264(directory, seconds=4)
            clients = [start_peer("whip-client", "--url",
                                  f"http://127.0.0.1:{http_port}/whip/stage-{i}", "--token",
                                  "any", "--h264", h264, "--seconds", "6")
                       for i in range(CLIENTS)]
            summaries = [finish_peer(client) for client in clients]
        stats = read_stats(http_port)
        after_ms = time.time() * 1000
    finally:
        sink.send_signal(signal.SIGTERM)
        final, sink_log = sink.communicate(timeout=30)
    print(json.dumps({k: v for k, v in stats.items() if k != "perSession"}))
    for summary, log in summaries:
        assert summary["connected"], f"{summary}\n{log[-2000:]}\n{sink_log[-2000:]}"
    assert stats["sessions"] == CLIENTS
    assert stats["connected"] == CLIENTS
    assert stats["packets"] > 0
    assert stats["gaps"] == 0, stats
    assert stats["firstMediaMs"]["count"] == CLIENTS
    paths = sorted(session["path"] for session in stats["perSession"])
    assert paths == [f"/whip/stage-{i}" for i in range(CLIENTS)]
    for session in stats["perSession"]:
        # Video and audio SSRCs, each counted.
        assert session["packets"] > 100 and session["ssrcs"] == 2, session
        # The wall-clock stamp of the first packet: after the POSTs began, before the read.
        assert before_ms <= session["firstMediaWallMs"] <= after_ms, (before_ms, session, after_ms)
        # ... and consistent with the monotonic POST -> first media delay (10 ms slack).
        assert session["firstMediaWallMs"] - session["firstMediaMs"] >= before_ms - 10, session
    # The exit summary (printed on SIGTERM) agrees with what /stats said.
    lines = [line for line in final.splitlines() if line.startswith("{")]
    assert json.loads(lines[-1])["packets"] >= stats["packets"]
