"""The first README command, run the way a newcomer runs it, and the role behind it.

`scripts/demo.sh` builds the media-server target and runs `media-server demo`, which starts the
API server, the stage role with three stages, the media server and the test publisher as child
processes; the pages answer, every stage receives video, and Ctrl-C (SIGINT to the whole
process group, as a terminal sends it) or SIGTERM stops everything cleanly in reverse order. A
server that ends on its own makes the demo stop the others and exit 1 naming it.

Runs inside scripts/netns-run (ctest does that), so the demo's default ports belong to this test
alone; they are still taken from the kernel to avoid clashing with a stray process. The
dependency installation step is skipped (IVS_SKIP_SETUP=1: CI installed everything already) and
the build step finds the build directory up to date.
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import harness


def start_demo(output_dir, ports, extra_args=()):
    env = dict(os.environ)
    env.update({
        "IVS_SKIP_SETUP": "1",
        "IVS_BUILD_DIR": str(harness.BUILD_DIR),
        "DEMO_LOG_DIR": str(output_dir / "demo-logs"),
        "DEMO_API_PORT": str(ports["api"]),
        "DEMO_MEDIA_PORT": str(ports["media"]),
        "DEMO_STAGE_PORT": str(ports["stage"]),
        "DEMO_RTC_UDP_PORT": str(ports["rtc"]),
        "DEMO_STAGE_RTC_UDP_PORT": str(ports["stage_rtc"]),
    })
    log = open(output_dir / "demo.out", "wb")
    process = subprocess.Popen(
        [str(harness.SOURCE_DIR / "scripts" / "demo.sh"), *extra_args],
        cwd=harness.SOURCE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    return process


def demo_output(output_dir) -> str:
    return (output_dir / "demo.out").read_text(errors="replace")


def demo_logs(output_dir) -> str:
    parts = [demo_output(output_dir)]
    for path in sorted((output_dir / "demo-logs").glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()[-25:]
        parts.append(f"--- {path.name}\n" + "\n".join(lines))
    return "\n".join(parts)


def live_stages(stage_port):
    answer = harness.http("GET", f"http://127.0.0.1:{stage_port}/api/stages")
    if answer.status != 200:
        return []
    return [stage for stage in answer.json().get("stages", []) if stage.get("live")]


def wait_for_urls(output_dir, what: str = "media-server demo") -> None:
    harness.wait_until(lambda: "Press Ctrl-C" in demo_output(output_dir), 60,
                       f"{what} to print its URLs", interval=0.2,
                       context=lambda: demo_logs(output_dir))


def wait_for_three_stages_publishing(output_dir, ports) -> None:
    def three_stages_publishing():
        stages = [s for s in live_stages(ports["stage"]) if s.get("videoPackets", 0) > 0]
        return stages if len(stages) >= 3 else None

    harness.wait_until(three_stages_publishing, 60, "three stages receiving video",
                       interval=0.25, context=lambda: demo_logs(output_dir))


def test_demo_runs_everything_and_stops_on_ctrl_c(output_dir):
    ports = {"api": harness.free_port(), "media": harness.free_port(),
             "stage": harness.free_port(), "rtc": harness.free_udp_port(),
             "stage_rtc": harness.free_udp_port()}
    demo = start_demo(output_dir, ports)
    try:
        harness.wait_until(lambda: "Press Ctrl-C" in demo_output(output_dir), 120,
                           "the demo to print its URLs", interval=0.2,
                           context=lambda: demo_logs(output_dir))
        text = demo_output(output_dir)
        assert f"http://127.0.0.1:{ports['media']}/whip" in text, "OBS server URL printed"
        assert "Bearer Token" in text

        for url in (f"http://127.0.0.1:{ports['media']}/",
                    f"http://127.0.0.1:{ports['media']}/publish",
                    f"http://127.0.0.1:{ports['stage']}/",
                    f"http://127.0.0.1:{ports['media']}/api/status"):
            answer = harness.http("GET", url)
            assert answer.status == 200, f"{url} answered {answer.status}"

        # Every stage of the demo receives video from the test publisher through the relay.
        def three_stages_with_video():
            stages = live_stages(ports["stage"])
            with_video = [s for s in stages if s.get("videoPackets", 0) > 0]
            return with_video if len(with_video) >= 3 else None

        stages = harness.wait_until(three_stages_with_video, 60,
                                    "three stages receiving video", interval=0.25,
                                    context=lambda: demo_logs(output_dir))
        before = {s["id"]: s["videoPackets"] for s in stages}
        harness.wait_until(
            lambda: all(s["videoPackets"] > before.get(s["id"], 0)
                        for s in live_stages(ports["stage"]) if s["id"] in before),
            10, "video to keep flowing to every stage", interval=0.25)
    finally:
        started = time.monotonic()
        os.killpg(demo.pid, signal.SIGINT)
        try:
            code = demo.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            raise AssertionError("the demo did not stop within 40 s of Ctrl-C\n"
                                 + demo_logs(output_dir))
    stop_seconds = time.monotonic() - started
    assert code == 0, f"demo exit code {code}\n{demo_logs(output_dir)}"
    assert "==> stopped" in demo_output(output_dir)
    # Every process the demo started is gone: their ports are free again.
    for port in (ports["api"], ports["media"], ports["stage"]):
        harness.wait_until(lambda p=port: not port_in_use(p), 5, f"port {port} to be released")
    print(f"demo stopped {stop_seconds:.1f} s after Ctrl-C")


def port_in_use(port: int) -> bool:
    import socket
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------------------------------
# `media-server demo` itself, from the existing build

def demo_ports():
    return {"api": harness.free_port(), "media": harness.free_port(),
            "stage": harness.free_port(), "rtc": harness.free_udp_port(),
            "stage_rtc": harness.free_udp_port()}


def start_demo_role(output_dir, ports, extra_args=()):
    """The role with some knobs as environment variables and some as flags (both must work)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "DEMO_API_PORT": str(ports["api"]), "DEMO_MEDIA_PORT": str(ports["media"]),
           "DEMO_RTC_UDP_PORT": str(ports["rtc"])}
    if "XDG_CACHE_HOME" in os.environ:  # the publisher's generated media, made once per cache
        env["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]
    elif "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    args = [str(harness.binary()), "demo", "--stage-port", str(ports["stage"]),
            f"--stage-rtc-udp-port={ports['stage_rtc']}", "--log-dir",
            str(output_dir / "demo-logs"), *extra_args]
    log = open(output_dir / "demo.out", "wb")
    return subprocess.Popen(args, cwd=output_dir, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def child_pids(output_dir) -> dict:
    """name -> pid from the demo's "Running: api-server (pid 12), ..." line."""
    return {name: int(pid) for name, pid in
            re.findall(r"([a-z-]+) \(pid (\d+)\)", demo_output(output_dir).split("Running:")[-1])}


def alive(pid: int) -> bool:
    """True while `pid` is a live media-server (a zombie or a reused pid does not count)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"media-server" in command and not re.search(r"^State:\s+Z", status, re.M)


def stop_demo(demo, output_dir, sig=signal.SIGTERM, timeout=40):
    demo.send_signal(sig)
    try:
        return demo.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)
        demo.wait()
        raise AssertionError(f"media-server demo did not stop within {timeout} s of {sig!r}\n"
                             + demo_logs(output_dir))


def test_demo_role_runs_everything_and_stops_on_sigterm(output_dir):
    ports = demo_ports()
    demo = start_demo_role(output_dir, ports)
    try:
        wait_for_urls(output_dir)
        children = child_pids(output_dir)
        assert set(children) == {"api-server", "stage", "media-server", "publisher"}, children
        assert f"http://127.0.0.1:{ports['media']}/whip" in demo_output(output_dir)
        answer = harness.http("GET", f"http://127.0.0.1:{ports['media']}/")
        assert answer.status == 200, f"dashboard answered {answer.status}"
        wait_for_three_stages_publishing(output_dir, ports)
    except BaseException:
        stop_demo(demo, output_dir)
        raise
    started = time.monotonic()
    code = stop_demo(demo, output_dir)
    text = demo_output(output_dir)
    assert code == 0, f"exit code {code}\n{demo_logs(output_dir)}"
    assert "==> stopped" in text
    # Reverse start order: the publisher first, the API server last.
    stopped = re.findall(r"^ +(publisher|media-server|stage|api-server) +exit code 0", text, re.M)
    assert stopped == ["publisher", "media-server", "stage", "api-server"], text
    left = [name for name, pid in children.items() if alive(pid)]
    assert not left, f"still running after the demo exited: {left}"
    for name in children:
        assert (output_dir / "demo-logs" / f"{name}.log").stat().st_size > 0, f"{name}.log empty"
    print(f"media-server demo stopped {time.monotonic() - started:.1f} s after SIGTERM")


# Issue 14: the demo in ivs mode. The IVS Real-Time stand-in (`ivs-fake`) replaces the API
# server, the media server lists the tagged stages with SigV4-signed ListStages calls and
# publishes to each with a CreateParticipantToken token the stage role verifies.
def test_demo_role_in_ivs_mode_publishes_to_every_tagged_stage(output_dir):
    ports = demo_ports()
    demo = start_demo_role(output_dir, ports, ["--ivs"])
    try:
        wait_for_urls(output_dir, "media-server demo --ivs")
        children = child_pids(output_dir)
        assert set(children) == {"ivs-fake", "stage", "media-server", "publisher"}, children
        assert "IVS stand-in" in demo_output(output_dir)
        wait_for_three_stages_publishing(output_dir, ports)
        source = harness.http("GET", f"http://127.0.0.1:{ports['media']}/api/status").json()
        assert source["stageSource"]["kind"] == "ivs", source.get("stageSource")
        assert source["stageSource"]["stagesTagged"] == 3, source["stageSource"]
    finally:
        code = stop_demo(demo, output_dir)
    assert code == 0, f"exit code {code}\n{demo_logs(output_dir)}"


def test_demo_role_fails_when_a_server_dies(output_dir):
    ports = demo_ports()
    demo = start_demo_role(output_dir, ports, ["--no-publisher"])
    try:
        wait_for_urls(output_dir)
        children = child_pids(output_dir)
        assert "publisher" not in children
        os.kill(children["stage"], signal.SIGKILL)
        code = demo.wait(timeout=40)
    finally:
        if demo.poll() is None:
            stop_demo(demo, output_dir)
    text = demo_output(output_dir)
    assert code == 1, f"exit code {code} after the stage died\n{text}"
    assert "stage ended on its own (killed by signal 9" in text, text
    assert "==> stopped" in text
    left = [name for name, pid in children.items() if alive(pid)]
    assert not left, f"still running after the demo exited: {left}"
