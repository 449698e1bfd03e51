"""A misbehaving WHIP endpoint for the relay fault tests (test_relay_faults.py), run on its own
thread so the test body stays synchronous. The API server's STAGE_WHIP_URL_BASE points here, so
every stage's WHIP POST (`POST /whip/<stageId>`) arrives here first; what happens next is chosen
per stage id:

  proxy          (the default) forward the request to the real stage role (`upstream`) and
                 relay its answer, with Location made absolute toward the stage role so the
                 DELETE goes there directly: a healthy stage behind the fake.
  500            answer 500 with a short body.
  hang           accept the request and never answer.
  malformed      201 + Content-Type application/sdp + Location, body not SDP at all.
  malformed-sdp  201 with SDP-shaped text missing ICE credentials, fingerprint and media.
  empty          201 with an empty body.
  redirect-loop  307 to /loop/<id>, which redirects back to /whip/<id>, forever.

Every request is counted per (stage id, method, kind) so a test can assert that attempts keep
coming (retry with backoff) and that a redirect loop is cut off instead of followed forever.

As a script (for manual runs): python3 fake_whip.py PORT UPSTREAM_BASE [ID=MODE ...]
"""

import asyncio
import collections
import sys
import threading
import urllib.parse

import aiohttp
from aiohttp import web

MODES = ("proxy", "500", "hang", "malformed", "malformed-sdp", "empty", "redirect-loop")

MALFORMED_SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                 "a=this-answer-has-no-media-no-ice-and-no-fingerprint\r\n")


class FakeWhip:
    def __init__(self, port: int, upstream_base: str = "", modes=None, default="proxy"):
        self.port = port
        self.upstream_base = upstream_base.rstrip("/")
        self.modes = dict(modes or {})
        self.default = default
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fake-whip", daemon=True)
        self._started = threading.Event()
        self._stopped = None
        self._error = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def whip_base(self) -> str:
        return self.url + "/whip"

    def set_mode(self, stage_id: str, mode: str) -> None:
        assert mode in MODES, mode
        with self.lock:
            self.modes[stage_id] = mode

    def mode(self, stage_id: str) -> str:
        with self.lock:
            return self.modes.get(stage_id, self.default)

    def count(self, stage_id: str, method: str = "POST", kind: str = "whip") -> int:
        with self.lock:
            return self.counts[(stage_id, method, kind)]

    def _count(self, stage_id, method, kind):
        with self.lock:
            self.counts[(stage_id, method, kind)] += 1

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "FakeWhip":
        self._thread.start()
        if not self._started.wait(10) or self._error:
            raise RuntimeError(f"fake WHIP endpoint did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except Exception as error:  # reported by start()
            self._error = error
            self._started.set()

    async def _serve(self):
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/whip/{id}", self._whip)
        app.router.add_route("*", "/whip/{id}/{rest:.*}", self._whip)
        app.router.add_route("*", "/loop/{id}", self._loop_back)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        async with aiohttp.ClientSession() as self._client:
            self._started.set()
            await self._stopped.wait()
            await runner.cleanup()

    # --- handlers ------------------------------------------------------------------------

    async def _loop_back(self, request):
        stage_id = request.match_info["id"]
        self._count(stage_id, request.method, "loop")
        return web.Response(status=307, headers={"Location": f"{self.url}/whip/{stage_id}"},
                            text="redirecting back\n")

    async def _whip(self, request):
        stage_id = request.match_info["id"]
        resource = "rest" in request.match_info
        self._count(stage_id, request.method, "resource" if resource else "whip")
        mode = self.mode(stage_id)
        if mode == "proxy":
            return await self._proxy(request)
        if request.method != "POST" or resource:
            # DELETE/PATCH of a session that was never created here: answer kindly.
            return web.Response(status=200 if request.method == "DELETE" else 405)
        await request.read()
        location = {"Location": f"{self.url}/whip/{stage_id}/session-1"}
        if mode == "500":
            return web.Response(status=500, text="fake stage: internal error\n")
        if mode == "hang":
            await self._stopped.wait()  # never answers while the fake runs
            return web.Response(status=503, text="fake stage: shutting down\n")
        if mode == "malformed":
            return web.Response(status=201, body=b"\x00\x01 this is not an SDP answer {]\r\n",
                                headers={**location, "Content-Type": "application/sdp"})
        if mode == "malformed-sdp":
            return web.Response(status=201, text=MALFORMED_SDP,
                                headers={**location, "Content-Type": "application/sdp"})
        if mode == "empty":
            return web.Response(status=201, body=b"",
                                headers={**location, "Content-Type": "application/sdp"})
        if mode == "redirect-loop":
            return web.Response(status=307, headers={"Location": f"{self.url}/loop/{stage_id}"},
                                text="redirecting\n")
        return web.Response(status=500, text=f"unknown fake mode {mode}\n")

    async def _proxy(self, request):
        if not self.upstream_base:
            return web.Response(status=502, text="fake WHIP endpoint has no upstream\n")
        tail = request.path[len("/whip"):]
        target = self.upstream_base + tail
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "content-type", "if-match")}
        body = await request.read()
        try:
            async with self._client.request(request.method, target, data=body, headers=headers,
                                            allow_redirects=False,
                                            timeout=aiohttp.ClientTimeout(total=10)) as answer:
                payload = await answer.read()
                out = {}
                for name in ("Content-Type", "ETag", "Link", "Retry-After"):
                    if name in answer.headers:
                        out[name] = answer.headers[name]
                if "Location" in answer.headers:
                    out["Location"] = urllib.parse.urljoin(target, answer.headers["Location"])
                return web.Response(status=answer.status, body=payload, headers=out)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return web.Response(status=502, text=f"upstream {target}: {error!r}\n")


def main(argv):
    port, upstream = int(argv[0]), argv[1]
    modes = dict(item.split("=", 1) for item in argv[2:])
    fake = FakeWhip(port, upstream, modes).start()
    print(f"fake WHIP endpoint on {fake.whip_base}, modes {modes}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
