"""The first README command, run the way a newcomer runs it: `scripts/demo.sh` starts the API
server, the stage role with three stages, the media server and the test publisher; the pages
answer, every stage receives video, and Ctrl-C (SIGINT) stops everything cleanly.

Runs inside scripts/netns-run (ctest does that), so the demo's default ports belong to this test
alone; they are still taken from the kernel to avoid clashing with a stray process. The
dependency installation step is skipped (IVS_SKIP_SETUP=1: CI installed everything already) and
the build step finds the build directory up to date.
"""

import os
import signal
import subprocess
import time

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
