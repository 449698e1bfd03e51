#!/usr/bin/python3
"""Fan-out benchmark (issue 6): one WHIP publisher into `media-server serve`, N stages out over
WHIP to one `whip_sink`, measured from /proc, the sink's /stats and serve's /metrics; the per-
packet floor from `srtp_bench`; Janus (bench/janus_anchor.py) serving the same N subscribers.

    bench/fanout.py [--build-dir build] [--n 1,10,50] [--no-janus] ...   (--help for all)

Prints one table row per N and writes bench/results/latest.json and latest.png (gnuplot,
bench/fanout.gp). docs/benchmark.md says what every column is and how it is measured.

Why it is shaped like this:
  * It runs inside scripts/netns-run (a namespace with only loopback) so nothing else's traffic
    shares the path and fixed ports cannot collide; it re-execs itself there when started outside.
  * The processes are the real ones, started the way the process tests start them
    (tests/process/harness.py, imported by path), so the benchmark measures the shipped binary.
  * Every figure is a difference between two snapshots (CPU ticks, sink counters, histogram
    buckets), so start-up and connection set-up never count; several sub-windows give a median
    and a spread, because the machine is shared and a single window is noisy.
  * Python stdlib only (Debian's /usr/bin/python3); plots through gnuplot, not matplotlib.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from fanout_janus import run_janus
from fanout_measure import (Sink, live_paths, log, measure_window, median_of, proc_memory_kib,
                            proc_rss_kib,
                            proc_threads, run_floor, take_snapshot)
from fanout_report import (LOSS_LIMIT, P99_LIMIT_MS, complete_only, floor_profile,
                           keeps_up, merge_janus, print_report, print_row, replot, summarize,
                           verdict, write_plot)

SOURCE_DIR = Path(__file__).resolve().parents[1]
BENCH_DIR = SOURCE_DIR / "bench"
DEFAULT_N = "1,10,50,100,250,500,1000"
API_STAGE_LIMIT = 1000    # kMaxStages of the reference API server (api_server_state.hpp)


# ---------------------------------------------------------------------------------------------
# Arguments, namespace, limits

def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build", help="build directory (default build/)")
    parser.add_argument("--n", default=DEFAULT_N, help=f"stage counts (default {DEFAULT_N})")
    parser.add_argument("--window", type=float, default=10.0, help="measuring window, s")
    parser.add_argument("--windows", type=int, default=5,
                        help="sub-windows the window is cut into (median and spread)")
    parser.add_argument("--settle", type=float, default=3.0, help="wait after N is reached, s")
    parser.add_argument("--join-stages", type=int, default=5,
                        help="stages created one at a time per N to time the join")
    parser.add_argument("--keep-going", action="store_true",
                        help="measure every N even past the loss/p99/throughput limits "
                             "(still stops when sessions do not come up)")
    parser.add_argument("--size", default="1280x720", help="publisher video size")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=int, default=2500, help="publisher video kbit/s")
    parser.add_argument("--unpaced", action="store_true",
                        help="the publisher sends each frame as one line-rate burst "
                             "(--pace-kbps 0) instead of pacing at 2.5 x bitrate like a browser")
    parser.add_argument("--media-workers", default="auto",
                        help="MEDIA_WORKERS values to measure in turn, e.g. 1,2 (default auto); "
                             "the first one gives the summary, all are printed and plotted. "
                             "A value may name EGRESS_SEND_BATCHING too: 2/sendmmsg")
    parser.add_argument("--no-janus", action="store_true", help="skip the Janus anchor")
    parser.add_argument("--janus-n", default="", help="N values for Janus (default: ours)")
    parser.add_argument("--janus-bin", default="janus")
    parser.add_argument("--no-floor", action="store_true", help="skip srtp_bench")
    parser.add_argument("--floor-repetitions", type=int, default=5)
    parser.add_argument("--floor-min-time", default="0.3")
    parser.add_argument("--floor-profile", default="auto",
                        choices=["auto", "AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80"],
                        help="the floor's SRTP profile; auto = what serve and the sink "
                             "negotiated (the sink's srtpProfile), else GCM")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--replot", action="store_true",
                        help="only redraw latest.png from the --out directory's latest.json")
    parser.add_argument("--out", default=str(BENCH_DIR / "results"),
                        help="directory for latest.json / latest.png (default bench/results)")
    parser.add_argument("--work-dir", default=str(SOURCE_DIR / "test-output" / "bench"),
                        help="logs of every process (default test-output/bench)")
    return parser.parse_args(argv)


def enter_namespace(script: Optional[str] = None) -> None:
    """Re-exec `script` (default this file) through scripts/netns-run unless already inside
    (it sets IVS_IN_NETNS=1)."""
    if os.environ.get("IVS_IN_NETNS") == "1":
        return
    netns_run = SOURCE_DIR / "scripts" / "netns-run"
    target = script or str(Path(__file__).resolve())
    os.execv(str(netns_run), [str(netns_run), sys.executable, target, *sys.argv[1:]])


def raise_fd_limit() -> int:
    """1000 egress sessions are 1000 UDP sockets in serve (and HTTP connections everywhere):
    the soft limit goes up to the hard one, inherited by every child."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_n_list(text: str) -> list:
    values = sorted({int(part) for part in text.replace(" ", "").split(",") if part})
    if not values or values[0] < 1:
        raise SystemExit(f"--n: expected positive integers, got {text!r}")
    return values


def import_harness(build_dir: Path):
    """tests/process/harness.py reads IVS_BUILD_DIR at import time."""
    os.environ["IVS_BUILD_DIR"] = str(build_dir)
    os.environ.setdefault("IVS_SOURCE_DIR", str(SOURCE_DIR))
    sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
    import harness  # noqa: E402 - path set just above
    return harness


def machine_info() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # "-dirty": tracked files differed from the commit (the binaries may hold uncommitted work).
    commit = subprocess.run(["git", "-C", str(SOURCE_DIR), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "model": model, "kernel": platform.release(),
            "loadavg_start": list(os.getloadavg()),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": commit}


def live_paths_of(stages: list) -> list:
    """The sink session paths of these stages (STAGE_WHIP_URL_BASE/<stage id>)."""
    return [f"/whip/{stage['id']}" for stage in stages]


def srtp_profiles(stats: dict, paths: set) -> dict:
    """Profile -> sessions of these paths, as DTLS negotiated them (the sink's srtpProfile)."""
    counts: dict = {}
    for session in stats.get("perSession", []):
        name = session.get("srtpProfile")
        if session.get("path") in paths and session.get("connected") and name:
            counts[name] = counts.get(name, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# Processes

def serve_variant_env(variant: str) -> dict:
    """A --media-workers value, "<MEDIA_WORKERS>[/<EGRESS_SEND_BATCHING>]", as serve's env."""
    workers, _, batching = variant.partition("/")
    return {"MEDIA_WORKERS": workers, "EGRESS_SEND_BATCHING": batching or "auto"}


class Rig:
    """api-server + whip_sink + serve + publisher, and the stages between them."""

    def __init__(self, harness, args: argparse.Namespace, build_dir: Path, work_dir: Path,
                 media_workers: str = "auto"):
        self.h = harness
        self.media_workers = media_workers
        self.args = args
        self.build_dir = build_dir
        self.work_dir = work_dir
        self.processes: list = []
        self.stages: list = []  # the N measured stages, oldest first

    def start(self) -> None:
        h = self.h
        self.sink = Sink(h, self.build_dir / "tools" / "whip_sink", self.work_dir).start()
        self.processes.append(self.sink)
        # The benchmark creates hundreds of stages from 127.0.0.1 while the media server, on the
        # same address, asks for each stage's token: in production those are different hosts,
        # and a burst over API_RATE_LIMIT (100/s) would be the benchmark's own artefact.
        self.api = h.ApiServer(self.work_dir, extra_env={
            "STAGE_WHIP_URL_BASE": f"{self.sink.url}/whip", "LOG_LEVEL": "info",
            "API_RATE_LIMIT": 0})
        self.processes.append(self.api)
        self.api.start().wait_ready()
        # Heartbeats at the production-like pace, info logs: a benchmark of debug logging at
        # 200 ms heartbeats would measure the wrong thing. Connection attempts in parallel so
        # 1000 stages come up in a reasonable time; the token request timeout covers a busy API.
        self.media = h.MediaServer(self.work_dir, self.api.url, extra_env=h.relay_media_env({
            "LOG_LEVEL": "info", "HEARTBEAT_INTERVAL": 5000, "API_REQUEST_TIMEOUT": 20000,
            "MAX_CONCURRENT_CONNECTS": 32, **serve_variant_env(self.media_workers)}))
        self.processes.append(self.media)
        self.media.start().wait_live(timeout=20)
        self.publisher = h.Publisher(
            self.work_dir, self.media.whip_url(), seconds=6 * 3600, fps=self.args.fps,
            extra_args=("--size", self.args.size, "--bitrate", str(self.args.bitrate),
                        *(("--pace-kbps", "0") if self.args.unpaced else ())))
        self.processes.append(self.publisher)
        self.publisher.start()
        # The first run generates the 720p test media with ffmpeg (cached afterwards).
        h.wait_until(lambda: self._publisher_live(), 600, "the publisher live on serve",
                     interval=0.5, context=self.publisher.log_tail)

    def _publisher_live(self) -> bool:
        if not self.publisher.running():
            raise AssertionError(f"publisher exited\n{self.publisher.log_tail()}")
        return self.h.publisher_live(self.media)

    def media_files(self) -> tuple:
        """(h264, ogg) the publisher generated, for the Janus feed."""
        width, height = self.args.size.split("x")
        directory = (self.h.OUTPUT_ROOT / "cache" / "ivs-media-server" /
                     f"{width}x{height}-{self.args.fps}fps-{self.args.bitrate}k-10s-v1")
        return directory / "video.h264", directory / "audio.ogg"

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # noqa: BLE001 - keep stopping the others
                log(f"stopping {getattr(process, 'name', process)}: {error!r}")
        self.processes.clear()

    # -- stages ------------------------------------------------------------------------------

    def admin(self, method: str, path: str, body=None):
        """An admin call with a generous timeout: at large N the API server is also answering
        a burst of token requests. A 429 is retried after its Retry-After, as a bulk client
        should."""
        for _ in range(10):
            answer = self.h.http(method, self.api.url + path, self.h.api_headers(), body,
                                 timeout=20)
            if answer.status != 429:
                return answer
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        return answer

    def create_stage(self, name: str) -> dict:
        answer = self.admin("POST", "/api/stages", {"name": name})
        if answer.status != 201:
            raise RuntimeError(f"POST /api/stages answered {answer.status}: {answer.body[:200]}")
        return answer.json()

    def delete_stage(self, stage: dict) -> None:
        answer = self.admin("DELETE", f"/api/stages/{stage['id']}")
        if answer.status != 200:
            raise RuntimeError(f"DELETE stage answered {answer.status}: {answer.body[:200]}")

    def grow_to(self, n: int) -> None:
        while len(self.stages) < n:
            self.stages.append(self.create_stage(f"bench-{len(self.stages) + 1}"))

    def shrink_to(self, n: int) -> None:
        while len(self.stages) > n:
            self.delete_stage(self.stages.pop())

    def wait_stages_live(self, stages: list, timeout: float) -> int:
        """Waits until every stage has a connected sink session receiving media; returns how
        many do when it gives up at `timeout`."""
        wanted = set(live_paths_of(stages))
        deadline = time.monotonic() + timeout
        count = 0
        while True:
            count = len(wanted & live_paths(self.sink.stats()).keys())
            if count == len(wanted) or time.monotonic() >= deadline:
                return count
            if not self.media.running():
                raise RuntimeError(f"serve exited\n{self.media.log_tail()}")
            time.sleep(0.25)


# ---------------------------------------------------------------------------------------------
# Join time: admin POST -> first media packet at the sink for that stage

def first_media_wall_ms(rig: Rig, path: str, timeout: float) -> tuple:
    """(epoch ms of the stage's first media packet, how it was known). The sink's own
    firstMediaWallMs when it reports one; otherwise the moment this poll first saw packets
    (coarser: up to one poll interval late)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for session in rig.sink.stats().get("perSession", []):
            if session.get("path") != path:
                continue
            if session.get("firstMediaWallMs") is not None:
                return session["firstMediaWallMs"], "sink"
            if session.get("packets", 0) > 0 and "firstMediaWallMs" not in session:
                return time.time() * 1000, "poll"
        time.sleep(0.01)
    return None, "timeout"


def measure_join(rig: Rig, n: int, count: int) -> dict:
    """Creates `count` stages one at a time (each after the previous one delivered media) and
    deletes them again. When N + count would pass the API server's stage limit, stages of the
    measured set are removed first and re-created after (so N is briefly lower)."""
    borrowed = max(0, n + count - API_STAGE_LIMIT)
    rig.shrink_to(n - borrowed)
    samples, methods, extra = [], set(), []
    try:
        for k in range(count):
            posted = time.time() * 1000
            stage = rig.create_stage(f"join-{n}-{k + 1}")
            extra.append(stage)
            wall, method = first_media_wall_ms(rig, f"/whip/{stage['id']}", timeout=20)
            methods.add(method)
            if wall is not None:
                samples.append(wall - posted)
    finally:
        for stage in extra:
            rig.delete_stage(stage)
        rig.grow_to(n)
    return {"join_ms": [round(s, 1) for s in samples],
            "join_ms_median": median_of(samples), "join_method": "+".join(sorted(methods)),
            "join_borrowed_stages": borrowed}


# ---------------------------------------------------------------------------------------------
# Our server over the N list

def measure_ours(rig: Rig, n: int, args, rss_idle: dict) -> dict:
    """Grows to N, waits for every session to receive media, measures a window, times joins.
    A window or join that fails (serve too busy to answer /metrics, the API timing out) leaves
    a row marked incomplete with the error, so the table still shows how far it went."""
    rig.grow_to(n)
    started = time.monotonic()
    live = rig.wait_stages_live(rig.stages, timeout=30 + 0.15 * n)
    log(f"N={n}: {live}/{n} sessions live after {time.monotonic() - started:.1f} s")
    time.sleep(args.settle)
    pids = {"serve": rig.media.popen.pid, "sink": rig.sink.pid}
    snapshot = lambda scrape: take_snapshot(rig.sink, pids, rig.media.url + "/metrics", rig.h,
                                            scrape)
    row = {"n": n, "live": live, "complete": live == n,
           "connect_s": round(time.monotonic() - started - args.settle, 1)}
    try:
        row.update(measure_window(snapshot, args.window, args.windows, "serve"))
    except (OSError, RuntimeError, ValueError) as error:  # TimeoutError is an OSError
        row.update(complete=False, error=f"window: {error!r}"[:500])
        log(f"N={n}: {row['error']}")
        return row
    row["sink_cpu_s_per_s"] = row["cpu_s_per_s"]["sink"]
    row["cpu_s_per_s"] = row["cpu_s_per_s"]["serve"]
    # VmRSS growth per stage is what the target names; its anonymous part is the memory
    # the stages hold. The file-backed part is code touched once (the DTLS handshake, the
    # egress path in the binary, libssl and libcrypto), ~2 MB whatever N, so it weighs on the
    # quotient at small N and is shown apart.
    memory = proc_memory_kib(rig.media.popen.pid)
    row["rss_kib"] = memory.get("VmRSS", 0)
    row["rss_per_egress_kib"] = (row["rss_kib"] - rss_idle["VmRSS"]) / n
    row["anon_per_egress_kib"] = (memory.get("RssAnon", 0) - rss_idle["RssAnon"]) / n
    row["rss_file_growth_kib"] = memory.get("RssFile", 0) - rss_idle["RssFile"]
    row["threads"] = proc_threads(rig.media.popen.pid)
    row["srtp_profiles"] = srtp_profiles(rig.sink.stats(), set(live_paths_of(rig.stages)))
    try:
        (rig.work_dir / f"metrics-n{n}.txt").write_text(
            rig.media.get("/metrics", timeout=30).body.decode(errors="replace"))
        if args.join_stages > 0:
            row.update(measure_join(rig, n, args.join_stages))
            rig.wait_stages_live(rig.stages, timeout=30 + 0.15 * n)
    except (OSError, RuntimeError, ValueError) as error:
        row["join_error"] = repr(error)[:500]
        log(f"N={n}: join: {row['join_error']}")
    return row


def stop_reason(row: dict, breaches: int, per_stage_pps: Optional[float], args) -> str:
    """Why the N list ends at this row ("" = go on)."""
    n = row["n"]
    if not row["complete"]:
        return f"N={n}: " + (row.get("error") or
                             f"only {row['live']} of {n} sessions received media")
    if args.keep_going:
        return ""
    if breaches >= 2:
        return f"N={n}: loss >= {LOSS_LIMIT:.1%} or p99 >= {P99_LIMIT_MS} ms twice in a row"
    if not keeps_up(row, per_stage_pps):
        return (f"N={n}: the machine cannot keep up (delivered packets below 90 % of N x one "
                "stage's rate, or a serve thread at 100 % CPU)")
    return ""


def run_ours(harness, args, build_dir: Path, work_dir: Path, n_list: list,
             media_workers: str = "auto") -> tuple:
    """Returns (rows, stop reason, rig media files, idle RSS). A failure (a process exiting, an
    API error) ends the list with the rows measured so far; the reason says what happened."""
    log(f"serve with MEDIA_WORKERS={media_workers}")
    rig = Rig(harness, args, build_dir, work_dir / f"ours-w{media_workers.replace('/', '-')}",
              media_workers)
    rows, reason, breaches, per_stage_pps, rss_idle = [], "all N measured", 0, None, None
    try:
        rig.start()
        time.sleep(2)
        rss_idle = proc_memory_kib(rig.media.popen.pid)
        log(f"publisher live; serve RSS with no stage {rss_idle['VmRSS']} KiB "
            f"(anonymous {rss_idle['RssAnon']}, file-backed {rss_idle['RssFile']})")
        for n in n_list:
            if n > API_STAGE_LIMIT:
                reason = f"N={n} is above the API server's {API_STAGE_LIMIT}-stage limit"
                break
            row = measure_ours(rig, n, args, rss_idle)
            row["media_workers"] = media_workers
            rows.append(row)
            print_row(row, header=len(rows) == 1)
            per_stage_pps = per_stage_pps or (row["delivered_pps"] / n if row["complete"] else None)
            breaches = 0 if verdict(row) else breaches + 1
            reason = stop_reason(row, breaches, per_stage_pps, args) or reason
            if reason != "all N measured":
                break
    except Exception as error:  # noqa: BLE001 - keep what was measured, say why it ended
        reason = f"failed after {len(rows)} N: {error!r}"[:2000]
        log(reason)
    finally:
        rig.stop()
    return rows, reason, rig.media_files(), rss_idle



def main(argv: list) -> int:
    args = parse_args(argv)
    if args.replot:
        return replot(Path(args.out), args.floor_profile)
    enter_namespace()
    # SIGTERM unwinds like Ctrl-C, so every started process is stopped by the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    build_dir = (SOURCE_DIR / args.build_dir).resolve() if not Path(args.build_dir).is_absolute() \
        else Path(args.build_dir)
    work_dir, out_dir = Path(args.work_dir), Path(args.out)
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_list = parse_n_list(args.n)
    machine = machine_info()
    machine["fd_limit"] = raise_fd_limit()
    harness = import_harness(build_dir)
    log(f"build {build_dir}; N {n_list}; machine {json.dumps(machine)}")
    notes = []

    floor, floor_note = ({}, "skipped (--no-floor)") if args.no_floor else \
        run_floor(build_dir, args.floor_repetitions, args.floor_min_time)
    log(f"floor ns/packet {json.dumps(floor)} ({floor_note})")
    notes.append(f"floor: {floor_note}")

    worker_values = [value.strip() for value in args.media_workers.split(",") if value.strip()]
    rows_by_workers: dict = {}
    for value in worker_values:
        value_rows, reason, media, idle = run_ours(harness, args, build_dir, work_dir, n_list,
                                                   value)
        rows_by_workers[value] = value_rows
        notes.append(f"ours (MEDIA_WORKERS={value}): {reason}")
        log(reason)
        if value == worker_values[0]:
            rows, rss_idle = value_rows, idle

    janus: dict = {}
    if args.no_janus:
        notes.append("janus: skipped (--no-janus)")
    else:
        janus_n = parse_n_list(args.janus_n) if args.janus_n else [row["n"] for row in rows]
        janus, janus_note = run_janus(harness, args, build_dir, work_dir, janus_n, media)
        notes.append(f"janus: {janus_note or 'measured'}")
    merge_janus(rows, complete_only(janus))

    summary = summarize(rows, janus, floor, floor_profile(args.floor_profile, rows))
    result = dict(summary, machine=machine, rows=rows, media_workers=worker_values[0],
                  rows_by_media_workers=rows_by_workers,
                  janus_rows=[janus[n] for n in sorted(janus)], notes=notes,
                  serve_rss_idle_kib=rss_idle["VmRSS"] if rss_idle else None,
                  serve_memory_idle_kib=rss_idle,
                  parameters={"n": n_list, "window_s": args.window, "windows": args.windows,
                              "settle_s": args.settle, "join_stages": args.join_stages,
                              "publisher": f"{args.size} {args.fps} fps {args.bitrate} kbit/s "
                                           "H.264 + Opus, " + ("unpaced" if args.unpaced else
                                           f"paced at {args.bitrate * 5 // 2} kbit/s"),
                              "sink_scheduling": "SCHED_BATCH", "build_dir": str(build_dir),
                              "loss_limit": LOSS_LIMIT, "p99_limit_ms": P99_LIMIT_MS})
    if not args.no_plot:
        plot_note = write_plot(out_dir, rows_by_workers, complete_only(janus), summary)
        if plot_note:
            result["notes"].append(plot_note)
    (out_dir / "latest.json").write_text(json.dumps(result, indent=1) + "\n")

    print_report(result)
    print(f"wrote {out_dir / 'latest.json'}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
