"""Misbehaving API servers for the fault tests, each running on its own thread so the test body
stays synchronous:

  FakeApiServer(mode="malformed")   every REST answer is 200 with broken JSON; the WebSocket
                                    sends broken and ill-typed messages and stays open.
  FakeApiServer(mode="ws_garbage")  valid REST answers; the WebSocket sends garbage, then half a
                                    frame, then drops the TCP connection mid-message.
  BlackHole                         accepts TCP connections and never answers a byte.

Each counts what it saw (requests per path, WebSocket connections, TCP accepts) so a test can
assert that the media server keeps retrying instead of giving up or wedging.
"""

import asyncio
import collections
import socket
import threading

from aiohttp import web

FAKE_STAGE_ARN = "arn:aws:ivs:us-east-1:123456789012:stage/FAKEfake0001"


class FakeApiServer:
    def __init__(self, port: int, mode: str):
        assert mode in ("malformed", "ws_garbage")
        self.port = port
        self.mode = mode
        self.counts = collections.Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"fake-api-{mode}", daemon=True)
        self._started = threading.Event()
        self._runner = None
        self._error = None

    def start(self) -> "FakeApiServer":
        self._thread.start()
        if not self._started.wait(5) or self._error:
            raise RuntimeError(f"fake API server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as error:  # noqa: BLE001 - reported by start()
            self._error = error
        self._started.set()
        if not self._error:
            self._loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True,
                          shutdown_timeout=1).start()

    async def _handle(self, request: web.Request):
        self.counts[request.path] += 1
        if request.path == "/ws":
            return await self._websocket(request)
        if self.mode == "malformed":
            return self._malformed(request.path)
        return self._valid(request.path)

    @staticmethod
    def _malformed(path: str) -> web.Response:
        bodies = {
            "/api/media/register": '{"success": tru',
            "/api/media/stages": '{"stages": [{"stageArn": ',
            "/api/media/token": "<html><body>502 Bad Gateway</body></html>",
            "/api/media/heartbeat": "\x00\x01\x02 not json",
        }
        return web.Response(status=200, text=bodies.get(path, "{"), content_type="application/json")

    @staticmethod
    def _valid(path: str) -> web.Response:
        if path == "/api/media/stages":
            return web.json_response({"stages": []})
        if path in ("/api/media/register", "/api/media/heartbeat"):
            return web.json_response({"success": True})
        return web.json_response({"error": "not here"}, status=404)

    async def _websocket(self, request: web.Request):
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.counts["websocket connections"] += 1
        for text in ["not json at all", "[1, 2, 3]", '{"type": "stage_created"}',
                     '{"type": "stage_created", "data": {"stageArn": 12345}}',
                     '{"type": "stage_deleted", "data": null}',
                     '{"type": "surprise", "data": {}}', "{" * 5000]:
            await ws.send_str(text)
        await ws.send_bytes(bytes(range(256)))
        if self.mode == "malformed":
            await ws.send_str('{"type": "stage_created", "data": {"stageArn": "%s", '
                              '"timestamp": "2026-01-01T00:00:00Z"}}' % FAKE_STAGE_ARN)
            await ws.receive()  # Stay open until the client or the test goes away.
            return ws
        # Half a text frame: the header promises 1024 bytes, 17 arrive, then the TCP connection
        # ends. The client must treat this as a dropped connection and reconnect.
        transport = request.transport
        transport.write(bytes([0x81, 126, 0x04, 0x00]) + b'{"type":"stage_cr')
        transport.close()
        return ws


class BlackHole:
    """Accepts TCP connections on `port` and never sends a byte back."""

    def __init__(self, port: int):
        self.port = port
        self.accepted = 0
        self._connections = []
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(0.05)  # Lets the accept loop notice stop().
        self._thread = threading.Thread(target=self._accept_loop, name="black-hole", daemon=True)

    def start(self) -> "BlackHole":
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self._connections.append(connection)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()
        for connection in self._connections:
            connection.close()
