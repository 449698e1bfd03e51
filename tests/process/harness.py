"""Process-test harness: start the real `media-server` binary in its roles, talk to it over
loopback, and stop it the way an operator would.

Rules this module enforces so the tests stay honest:
  * Ports come from the kernel (bind to port 0), never from a hard-coded list.
  * Every process writes its log to a file under test-output/<test>/ so a failure can be read
    after the fact; the last lines are attached to assertion messages.
  * Nothing sleeps for a fixed time to "let things settle": tests poll a condition until a
    deadline (wait_until), and the deadline is what they assert.
  * Processes are stopped with SIGTERM and their exit code and stop time are reported; a
    process that ignores SIGTERM is killed at teardown and the test fails.

Runs under /usr/bin/python3 (Debian: pytest, aiohttp) inside scripts/netns-run, so 127.0.0.1
belongs to this test alone. IVS_BUILD_DIR names the build directory holding `media-server`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

SOURCE_DIR = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("IVS_BUILD_DIR", SOURCE_DIR / "build"))
OUTPUT_ROOT = SOURCE_DIR / "test-output" / "process"

API_KEY = "process-test-api-key"
MEDIA_SECRET = "process-test-media-secret"


def binary() -> Path:
    path = BUILD_DIR / "media-server"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; build it or set IVS_BUILD_DIR")
    return path


def free_port() -> int:
    """A TCP port the kernel just handed out on 127.0.0.1 (free at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str,
               interval: float = 0.02, context: Callable[[], str] = lambda: ""):
    """Polls `predicate` until it returns something truthy or `timeout` seconds pass.

    Returns the truthy value; raises AssertionError naming `what` (plus `context()`, e.g. the
    tail of a log) on timeout. Exceptions from the predicate count as "not yet".
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - "not ready yet" takes many forms
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}{detail}\n"
                                 f"{context()}")
        time.sleep(interval)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def http(method: str, url: str, headers: Optional[dict] = None, body=None,
         timeout: float = 2.0) -> Response:
    """One HTTP request; any status is returned (not raised). `body` may be a dict (sent as
    JSON), str or bytes (sent as is)."""
    data = None
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, bytes):
        data = body
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Response(answer.status, answer.read(), dict(answer.headers))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read(), dict(error.headers))


def api_headers(media_auth: bool = True) -> dict:
    headers = {"x-api-key": API_KEY}
    if media_auth:
        headers["x-media-auth"] = MEDIA_SECRET
    return headers


class Process:
    """One `media-server <role>` child with its log in a file."""

    def __init__(self, name: str, args: list, env: dict, output_dir: Path):
        self.name = name
        self.args = [str(binary())] + list(args)
        self.env = env
        self.output_dir = output_dir
        self.log_path = output_dir / f"{name}.log"
        self.popen: Optional[subprocess.Popen] = None
        self.starts = 0

    def start(self) -> "Process":
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} is running"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"==== start #{self.starts}: {' '.join(self.args)}\n".encode())
        log.flush()
        # A minimal environment: PATH plus what the test sets, so the developer's own
        # variables (or a stray .env) cannot change the behaviour under test.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update({k: str(v) for k, v in self.env.items()})
        self.popen = subprocess.Popen(self.args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=self.output_dir)
        log.close()
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(tail)

    def wait_for_log(self, needle: str, timeout: float) -> None:
        wait_until(lambda: needle in self.log_text(), timeout, f"{self.name} to log {needle!r}",
                   context=self.log_tail)

    def stop(self, timeout: float = 10.0, sig: int = signal.SIGTERM) -> tuple:
        """Sends `sig` and waits up to `timeout` s. Returns (exit code, seconds taken); the exit
        code is None when the process had to be killed."""
        if self.popen is None:
            return (None, 0.0)
        if self.popen.poll() is not None:
            return (self.popen.returncode, 0.0)
        started = time.monotonic()
        self.popen.send_signal(sig)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return (None, time.monotonic() - started)
        return (code, time.monotonic() - started)

    def kill(self) -> None:
        if self.running():
            self.popen.kill()
            self.popen.wait()


class ApiServer(Process):
    def __init__(self, output_dir: Path, port: Optional[int] = None, extra_env: Optional[dict] = None,
                 name: str = "api-server"):
        self.port = port or free_port()
        env = {
            "PORT": self.port,
            "API_BIND_ADDRESS": "127.0.0.1",
            "API_SECRET_KEY": API_KEY,
            "MEDIA_SERVER_SECRET": MEDIA_SECRET,
            "AWS_REGION": "us-east-1",
            "LOG_LEVEL": "debug",
        }
        env.update(extra_env or {})
        super().__init__(name, ["api-server"], env, output_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 10.0) -> "ApiServer":
        wait_until(lambda: self._healthy(), timeout, f"{self.name} /health",
                   context=self.log_tail)
        return self

    def _healthy(self) -> bool:
        if not self.running():
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}\n{self.log_tail()}")
        return http("GET", self.url + "/health", timeout=0.5).status == 200

    def call(self, method: str, path: str, body=None, media_auth: bool = True,
             headers: Optional[dict] = None) -> Response:
        merged = api_headers(media_auth)
        merged.update(headers or {})
        return http(method, self.url + path, merged, body)

    def create_stage(self, name: str = "") -> dict:
        answer = self.call("POST", "/api/stages", {"name": name} if name else None)
        assert answer.status == 201, answer.body
        return answer.json()

    def delete_stage(self, stage_id: str) -> None:
        answer = self.call("DELETE", f"/api/stages/{stage_id}")
        assert answer.status == 200, answer.body

    def servers(self) -> list:
        answer = self.call("GET", "/api/media/servers")
        assert answer.status == 200, answer.body
        return answer.json()["servers"]

    def server(self, server_id: str) -> Optional[dict]:
        return next((s for s in self.servers() if s["serverId"] == server_id), None)


class MediaServer(Process):
    def __init__(self, output_dir: Path, api_url: str, extra_env: Optional[dict] = None,
                 server_id: str = "media-test-01"):
        self.port = free_port()
        self.server_id = server_id
        env = {
            "NODE_ENV": "test",
            "PORT": self.port,
            "SERVER_ID": server_id,
            "SERVER_IP": "127.0.0.1",
            "API_SERVER_URL": api_url,
            "API_SECRET_KEY": API_KEY,
            "MEDIA_SERVER_SECRET": MEDIA_SECRET,
            "HEARTBEAT_INTERVAL": 200,
            "STAGE_SYNC_INTERVAL": 60000,
            "API_REQUEST_TIMEOUT": 1000,
            "SHUTDOWN_TIMEOUT": 3000,
            "RTC_UDP_PORT": free_udp_port(),
            "WHIP_INGEST_TOKEN": "process-test-ingest-token",
            "LOG_LEVEL": "debug",
        }
        env.update(extra_env or {})
        super().__init__("media-server", ["serve"], env, output_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 1.0) -> Response:
        return http("GET", self.url + path, timeout=timeout)

    def wait_live(self, timeout: float = 10.0) -> "MediaServer":
        def live():
            if not self.running():
                raise AssertionError(f"media-server exited with {self.popen.returncode}\n"
                                     f"{self.log_tail()}")
            return self.get("/health/live", timeout=0.5).status == 200
        wait_until(live, timeout, "media-server /health/live", context=self.log_tail)
        return self

    def stage_arns(self) -> set:
        answer = self.get("/api/status")
        assert answer.status == 200, answer.body
        return {stage["stageArn"] for stage in answer.json().get("stages", [])}

    def ready_status(self) -> int:
        return self.get("/health/ready", timeout=0.5).status
