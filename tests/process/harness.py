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
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

SOURCE_DIR = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("IVS_BUILD_DIR", SOURCE_DIR / "build")).resolve()
OUTPUT_ROOT = SOURCE_DIR / "test-output" / "process"

API_KEY = "process-test-api-key"
MEDIA_SECRET = "process-test-media-secret"


# Variables of the test run that reach every process (see Process.start).
PASSED_THROUGH = ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "MEDIA_WORKERS")


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
         timeout: float = 2.0, context: Optional[ssl.SSLContext] = None) -> Response:
    """One HTTP request; any status is returned (not raised). `body` may be a dict (sent as
    JSON), str or bytes (sent as is). `context`: the TLS context of an https URL."""
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
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
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

    def __init__(self, name: str, args: list, env: dict, output_dir: Path,
                 separate_stdout: bool = False):
        self.name = name
        self.args = [str(binary())] + list(args)
        self.env = env
        self.output_dir = output_dir
        self.log_path = output_dir / f"{name}.log"
        # With separate_stdout, stdout (e.g. a JSON summary) goes to <name>.stdout, the log
        # (stderr) to <name>.log.
        self.stdout_path = output_dir / f"{name}.stdout" if separate_stdout else None
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
        # Except what the test run itself chooses: sanitizer options (scripts/test.sh runs the
        # ThreadSanitizer build with halt_on_error) and MEDIA_WORKERS (two workers there, on any
        # machine). A test's own setting still wins.
        env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
        env.update({k: str(v) for k, v in self.env.items()})
        stdout = open(self.stdout_path, "ab") if self.stdout_path else log
        self.popen = subprocess.Popen(self.args, env=env, stdout=stdout,
                                      stderr=log if self.stdout_path else subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=self.output_dir)
        log.close()
        if self.stdout_path:
            stdout.close()
        return self

    def stdout_text(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace") if self.stdout_path else ""
        except FileNotFoundError:
            return ""

    def last_json_line(self) -> Optional[dict]:
        """The last line of stdout (or of the log) that parses as a JSON object."""
        text = self.stdout_text() if self.stdout_path else self.log_text()
        for line in reversed(text.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    continue
        return None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        # Heartbeats (every 200 ms in the tests) would push everything else out of the tail.
        tail = [line for line in self.log_text().splitlines()
                if "heartbeat sent" not in line][-lines:]
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
        # HTTPS when the test gives a certificate (a self-signed one, trusted as its own CA).
        self.ssl_context: Optional[ssl.SSLContext] = None
        if env.get("TLS_CERT_FILE"):
            self.ssl_context = ssl.create_default_context(cafile=str(env["TLS_CERT_FILE"]))

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{getattr(self, 'host', '127.0.0.1')}:{self.port}"

    def get(self, path: str, timeout: float = 1.0) -> Response:
        return http("GET", self.url + path, timeout=timeout, context=self.ssl_context)

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

    def status(self, timeout: float = 1.0) -> dict:
        answer = self.get("/api/status", timeout=timeout)
        assert answer.status == 200, answer.body
        return answer.json()

    def stage_status(self, stage_arn: str) -> Optional[dict]:
        return next((s for s in self.status().get("stages", []) if s["stageArn"] == stage_arn),
                    None)

    def whip_url(self) -> str:
        return self.url + "/whip"

    def whep_url(self) -> str:
        return self.url + "/whep"


# ---------------------------------------------------------------------------------------------
# The relay round (issue 4): the stage role, the test publisher, aiortc viewers, test media.

INGEST_TOKEN = "process-test-ingest-token"  # WHIP_INGEST_TOKEN in MediaServer's environment
PROCESS_DIR = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: the one that sees python3-aiortc (docs/interop.md)


def run_bench_script(script: str, args: list, timeout: float) -> str:
    """Runs bench/<script> with `args` (the CI smoke tests of the benchmarks) and returns its
    output; fails with the output's end when it exits non-zero or outlives `timeout`. Its own
    process group: on a timeout the driver and every process it started go together."""
    command = [SYSTEM_PYTHON, str(SOURCE_DIR / "bench" / script), *map(str, args)]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    try:
        output, _ = driver.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        output, _ = driver.communicate()
        raise AssertionError(f"bench/{script} did not finish\n{output[-4000:]}")
    print(output)
    assert driver.returncode == 0, output[-4000:]
    return output


def relay_media_env(extra: Optional[dict] = None) -> dict:
    """Environment for a `serve` that relays on loopback: RTC bound to 127.0.0.1 so its
    candidates are loopback ones (the namespace has nothing else)."""
    env = {"RTC_BIND_IP": "127.0.0.1", "RTC_ANNOUNCED_IP": "127.0.0.1"}
    env.update(extra or {})
    return env


class StageServer(Process):
    """`media-server stage`: the local stand-in for IVS Real-Time stages (WHIP in, WHEP out)."""

    def __init__(self, output_dir: Path, api_url: str, faults: str = "",
                 extra_env: Optional[dict] = None, name: str = "stage",
                 port: Optional[int] = None):
        self.port = port or free_port()
        env = {
            "STAGE_PORT": self.port,
            "STAGE_RTC_UDP_PORT": free_udp_port(),
            "STAGE_BIND_IP": "127.0.0.1",
            "STAGE_ANNOUNCED_IP": "127.0.0.1",
            "STAGE_API_SERVER_URL": api_url,
            "LOG_LEVEL": "debug",
        }
        if faults:
            env["STAGE_FAULTS"] = faults
        env.update(extra_env or {})
        super().__init__(name, ["stage"], env, output_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def whip_base(self) -> str:
        """What the API server's STAGE_WHIP_URL_BASE must be for tokens to point here."""
        return self.url + "/whip"

    def whep_url(self, stage_id: str) -> str:
        return f"{self.url}/whep/{stage_id}"

    def wait_ready(self, timeout: float = 10.0) -> "StageServer":
        def healthy():
            if not self.running():
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}\n"
                                     f"{self.log_tail()}")
            return http("GET", self.url + "/health", timeout=0.5).status == 200
        wait_until(healthy, timeout, f"{self.name} /health", context=self.log_tail)
        return self

    def stages(self) -> dict:
        """id -> the stage's record from GET /api/stages."""
        answer = http("GET", self.url + "/api/stages", timeout=1.0)
        assert answer.status == 200, answer.body
        return {stage["id"]: stage for stage in answer.json().get("stages", [])}

    def stage(self, stage_id: str) -> dict:
        """The stage's record; an empty one (all counts 0) when the stage has not been seen."""
        return self.stages().get(stage_id, {"id": stage_id, "live": False, "viewers": 0,
                                            "publishes": 0, "deletes": 0, "videoPackets": 0,
                                            "keyframes": 0})


class Publisher(Process):
    """`media-server publish`: the test WHIP publisher. Its JSON summary is on stdout."""

    def __init__(self, output_dir: Path, url: str, token: str = INGEST_TOKEN,
                 media: Optional[tuple] = None, seconds: float = 120, fps: int = 30,
                 extra_args: tuple = (), name: str = "publisher",
                 extra_env: Optional[dict] = None):
        args = ["publish", "--url", url, "--seconds", str(seconds), "--fps", str(fps)]
        if token:
            args += ["--token", token]
        if media:
            video, audio = media
            args += ["--video", str(video)]
            if audio:
                args += ["--audio", str(audio)]
        args += list(extra_args)
        env = {"LOG_LEVEL": "debug", "HOME": str(output_dir),
               "XDG_CACHE_HOME": str(OUTPUT_ROOT / "cache")}
        env.update(extra_env or {})
        super().__init__(name, args, env, output_dir, separate_stdout=True)

    def summary(self) -> Optional[dict]:
        return self.last_json_line()


def media_server_publisher(status: dict) -> dict:
    """The `publisher` object of /api/status (tolerating the pre-relay `{"active": …}`)."""
    return status.get("publisher") or {}


def publisher_live(media: MediaServer) -> bool:
    publisher = media_server_publisher(media.status())
    return bool(publisher.get("live", publisher.get("active")))


def make_test_media(gop_seconds: float = 4, seconds: float = 8, fps: int = 30,
                    size: str = "640x360", bitrate_kbps: int = 800) -> tuple:
    """(h264 path, ogg path) of a looping test stream: H.264 Constrained Baseline, no B-frames,
    one slice per frame (docs/interop.md), an IDR exactly every `gop_seconds` (scene-cut detection
    off, so no extra keyframes), plus Opus. Cached under test-output/process/cache by the
    parameters; ffmpeg writes to a temporary name first, so a killed run leaves no half file."""
    cache = OUTPUT_ROOT / "cache" / "media"
    cache.mkdir(parents=True, exist_ok=True)
    key = f"gop{gop_seconds:g}_{seconds:g}s_{fps}fps_{size}_{bitrate_kbps}k"
    video, audio = cache / f"{key}.h264", cache / f"{key}.ogg"
    gop = max(1, int(round(gop_seconds * fps)))
    if not video.exists():
        partial = video.with_suffix(".partial.h264")
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size={size}:rate={fps}:duration={seconds:g}", "-c:v", "libx264",
             "-profile:v", "baseline", "-bf", "0", "-g", str(gop), "-keyint_min", str(gop),
             "-sc_threshold", "0", "-b:v", f"{bitrate_kbps}k", "-preset", "veryfast",
             "-tune", "zerolatency", "-x264-params", "sliced-threads=0", "-f", "h264",
             str(partial)], check=True, timeout=180)
        partial.rename(video)
    if not audio.exists():
        partial = audio.with_suffix(".partial.ogg")
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"sine=frequency=440:sample_rate=48000:duration={seconds:g}", "-c:a", "libopus",
             "-b:a", "64k", "-f", "ogg", str(partial)], check=True, timeout=180)
        partial.rename(audio)
    return video, audio


class Viewer:
    """tests/process/whep_viewer.py (aiortc) as a child process.

    `url` "-" starts it in waiting mode: it prepares its offer, says "ready", and POSTs when the
    URL is written with send_url(); use that to measure from an event (t0) without counting
    Python start-up and ICE gathering."""

    def __init__(self, output_dir: Path, url: str, seconds: float, until_frames: int = 0,
                 t0: Optional[float] = None, token: str = "", name: str = "viewer"):
        self.name = name
        self.output_dir = output_dir
        self.log_path = output_dir / f"{name}.log"
        args = [SYSTEM_PYTHON, str(PROCESS_DIR / "whep_viewer.py"), url, "--seconds",
                str(seconds)]
        if until_frames:
            args += ["--until-frames", str(until_frames)]
        if t0 is not None:
            args += ["--t0", repr(t0)]
        if token:
            args += ["--token", token]
        self.args = args
        self.seconds = seconds
        self.popen: Optional[subprocess.Popen] = None
        self._result: Optional[dict] = None

    def start(self) -> "Viewer":
        self.output_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=log, cwd=self.output_dir)
        log.close()
        return self

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(
            self.log_text().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30.0) -> "Viewer":
        def ready():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited early\n{self.log_tail()}")
            return "ready" in self.log_text()
        wait_until(ready, timeout, f"{self.name} to prepare its offer", context=self.log_tail)
        return self

    def send_url(self, url: str, t0: Optional[float] = None) -> None:
        """Gives a waiting viewer its URL, and optionally the time (time.time()) of the event
        its firstFrameMs is to be measured from."""
        line = url if t0 is None else f"{url} {t0!r}"
        self.popen.stdin.write((line + "\n").encode())
        self.popen.stdin.flush()

    def frames_so_far(self) -> int:
        """Frames decoded by now, from the viewer's "progress" lines (0 before the first)."""
        for line in reversed(self.log_text().splitlines()):
            if line.startswith("progress "):
                return int(line.split()[1])
        return 0

    def result(self, timeout: Optional[float] = None) -> dict:
        """Waits for the JSON line (the viewer's own deadline plus slack) and returns it."""
        if self._result is not None:
            return self._result
        try:
            stdout, _ = self.popen.communicate(timeout=timeout or self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not finish\n{self.log_tail()}")
        lines = [l for l in stdout.decode(errors="replace").splitlines() if l.startswith("{")]
        assert lines, f"{self.name} printed no JSON (exit {self.popen.returncode})\n" \
                      f"{self.log_tail()}"
        self._result = json.loads(lines[-1])
        (self.output_dir / f"{self.name}.json").write_text(lines[-1] + "\n")
        return self._result

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 5.0, sig: int = signal.SIGTERM) -> tuple:
        if self.running():
            self.popen.send_signal(sig)
        return (self.popen.wait(timeout) if self.popen else None, 0.0)

    def kill(self) -> None:
        if self.running():
            self.popen.kill()
            self.popen.wait()


def view(output_dir: Path, url: str, seconds: float = 15, until_frames: int = 30,
         name: str = "viewer", token: str = "") -> dict:
    """Runs one viewer to completion and returns its JSON result."""
    viewer = Viewer(output_dir, url, seconds, until_frames, token=token, name=name).start()
    try:
        return viewer.result()
    finally:
        viewer.kill()


def view_all(output_dir: Path, urls: dict, seconds: float = 20, until_frames: int = 30,
             prefix: str = "viewer") -> dict:
    """Runs one viewer per URL at the same time ({key: url} -> {key: result})."""
    viewers = {key: Viewer(output_dir, url, seconds, until_frames, name=f"{prefix}-{key}")
               for key, url in urls.items()}
    try:
        for viewer in viewers.values():
            viewer.start()
        return {key: viewer.result() for key, viewer in viewers.items()}
    finally:
        for viewer in viewers.values():
            viewer.kill()


def start_api_and_stage(output_dir: Path, processes: list, initial_stages: int,
                        address: str = "127.0.0.1") -> tuple:
    """An API server with `initial_stages` stages whose tokens point at a stage role, and that
    stage role once it has loaded the API server's key: (api, stage, the API's stage records).
    With another `address` than loopback both listen on every interface and the tokens name
    `address` (other network namespaces reach them there); the stage role then announces no
    address, so its candidates are every interface's: `address` for those namespaces, loopback
    for the test's viewers (which gather on loopback alone)."""
    stage_port = free_port()
    api_env = {"API_INITIAL_STAGES": str(initial_stages),
               "STAGE_WHIP_URL_BASE": f"http://{address}:{stage_port}/whip"}
    stage_env = {}
    if address != "127.0.0.1":
        api_env["API_BIND_ADDRESS"] = "0.0.0.0"
        stage_env = {"STAGE_BIND_IP": "0.0.0.0", "STAGE_ANNOUNCED_IP": ""}
    api = ApiServer(output_dir, extra_env=api_env)
    processes.append(api)
    api.start().wait_ready()
    stage = StageServer(output_dir, api.url, port=stage_port, extra_env=stage_env)
    processes.append(stage)
    stage.start().wait_ready()
    wait_until(lambda: http("GET", stage.url + "/health").json()["keyLoaded"], 10,
               "the stage to load the API server's key", context=stage.log_tail)
    stages = api.call("GET", "/api/stages").json()["stages"]
    assert len(stages) == initial_stages, stages
    return api, stage, stages


PULL_TOKEN = "process-test-pull-token-0123456789"  # an origin's WHEP_TOKEN in these tests


def start_origin(output_dir: Path, processes: list, port: Optional[int] = None,
                 name: str = "origin", extra_env: Optional[dict] = None) -> MediaServer:
    """A `serve` that only takes the broadcaster's WHIP and serves edges' WHEP pulls: no stages
    (its API_SERVER_URL leads nowhere, which ingest does not need), WHEP_TOKEN = PULL_TOKEN.
    `port` reuses an HTTP port (a replacement origin behind the same address)."""
    env = relay_media_env({"WHEP_TOKEN": PULL_TOKEN, **(extra_env or {})})
    origin = MediaServer(output_dir, "http://127.0.0.1:9", extra_env=env, server_id=name)
    if port:
        origin.port = port
        origin.env["PORT"] = str(port)
    origin.name = name
    origin.log_path = output_dir / f"{name}.log"
    processes.append(origin)
    origin.start().wait_live()
    return origin


def edge_env(origin: MediaServer, extra: Optional[dict] = None) -> dict:
    """Environment of an edge that pulls from `origin` and takes no WHIP publisher itself."""
    env = relay_media_env({"INGEST_PULL_URL": origin.whep_url(), "INGEST_PULL_TOKEN": PULL_TOKEN,
                           "WHIP_INGEST_TOKEN": ""})
    env.update(extra or {})
    return env


class RelaySetup:
    """api-server + stage role + media server (+ publisher), wired for the relay tests:
    the API server's tokens point at the stage role, the media server reads the API server."""

    def __init__(self, output_dir: Path, processes: list, initial_stages: int = 3,
                 stage_faults: Optional[Callable[[list, str], str]] = None,
                 whip_url_base: Optional[str] = None, media_env: Optional[dict] = None):
        self.output_dir = output_dir
        self.processes = processes
        self.stage_port = free_port()  # the API server's tokens must name it
        api_env = {"API_INITIAL_STAGES": str(initial_stages) if initial_stages else "",
                   "STAGE_WHIP_URL_BASE": whip_url_base or
                   f"http://127.0.0.1:{self.stage_port}/whip"}
        if not initial_stages:
            del api_env["API_INITIAL_STAGES"]
        self.api = ApiServer(output_dir, extra_env=api_env)
        processes.append(self.api)
        self.api.start().wait_ready()
        self.initial = self.api.call("GET", "/api/stages").json()["stages"]
        # Called before the stage role starts: the stage ids are known, nothing has connected.
        faults = stage_faults(self.initial, f"http://127.0.0.1:{self.stage_port}/whip") \
            if stage_faults else ""
        self.stage = StageServer(output_dir, self.api.url, faults=faults, port=self.stage_port)
        processes.append(self.stage)
        self.stage.start().wait_ready()
        self.media = MediaServer(output_dir, self.api.url, extra_env=relay_media_env(media_env))
        processes.append(self.media)
        self.media.start().wait_live()
        self.publisher: Optional[Publisher] = None

    def require_whip_egress(self) -> None:
        """xfails the test (imperatively, so it runs for real as soon as the binary has it)
        while `serve` only tracks stages instead of publishing to them over WHIP."""
        import pytest
        status = self.media.status()
        mode = status.get("egressMode") or (status.get("egress") or {}).get("mode")
        if mode != "whip":
            pytest.xfail(f"serve's egress mode is {mode!r}, not 'whip': the WHIP egress "
                         "factory is not wired into the serve role in this build")

    def context(self) -> Callable[[], str]:
        return lambda: "\n".join(p.log_tail(25) for p in self.processes
                                 if hasattr(p, "log_tail"))

    def start_publisher(self, media: Optional[tuple] = None, name: str = "publisher",
                        seconds: float = 300, extra_env: Optional[dict] = None) -> Publisher:
        publisher = Publisher(self.output_dir, self.media.whip_url(), media=media,
                              seconds=seconds, name=name, extra_env=extra_env)
        self.processes.append(publisher)
        publisher.start()
        self.publisher = publisher
        return publisher

    def stage_state(self, stage: dict) -> Optional[str]:
        record = self.media.stage_status(stage["stageArn"])
        return record["state"] if record else None

    def wait_connected(self, stages: list, timeout: float = 20.0) -> None:
        """Every stage `connected` on the media server and live (publisher present) on the
        stage role."""
        def all_connected():
            states = {s["id"]: self.stage_state(s) for s in stages}
            if any(state != "connected" for state in states.values()):
                return False
            live = self.stage.stages()
            return all(live.get(s["id"], {}).get("live") for s in stages)
        wait_until(all_connected, timeout, f"stages {[s['id'] for s in stages]} connected and "
                   "live on the stage role", interval=0.05, context=self.context())
