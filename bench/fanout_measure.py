"""Measuring for bench/fanout.py (issue 6, docs/benchmark.md): /proc readings, the Prometheus
histogram quantile, the whip_sink client, the snapshot/window arithmetic and the srtp_bench floor.
Kept apart from the driver so the arithmetic can be read (and tested) without the processes.
Python stdlib only."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

CLK_TCK = os.sysconf("SC_CLK_TCK")



# ---------------------------------------------------------------------------------------------
# /proc readings

def log(message: str) -> None:
    print(f"[fanout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14, 15 of proc(5)


def thread_runtimes(pid: int) -> dict:
    """Thread id -> seconds on CPU, from /proc/<pid>/task/*/schedstat (nanoseconds, exact).
    /proc/<pid>/stat's utime + stime are sampled at CLK_TCK (100 Hz): 10 ms granularity, which
    is more than a one-stage run uses in a second. Threads that exited are not counted here, so
    the window also reports the /proc/<pid>/stat figure as a cross-check."""
    times = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as schedstat:
                times[task] = int(schedstat.read().split()[0]) / 1e9
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between listdir and open
    return times


def hottest_thread(a: dict, b: dict, seconds: float) -> float:
    """CPU s/s of the busiest thread between two thread_runtimes() readings: a thread at 1.0
    is saturated whatever the process total says (serve's media path is one thread)."""
    return max([(b[tid] - a.get(tid, 0.0)) / seconds for tid in b] or [0.0])


def proc_rss_kib(pid: int) -> int:
    return proc_memory_kib(pid).get("VmRSS", 0)


def proc_memory_kib(pid: int) -> dict:
    """VmRSS and its parts, RssAnon (heap, stacks, rings: what the process allocated) and
    RssFile (pages of the binary and its libraries that have been touched), in KiB."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = int(line.split()[1])
    return found


def proc_threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# Prometheus histogram

def parse_histogram(text: str, name: str) -> Optional[list]:
    """[(upper bound, cumulative count)] of `name`'s buckets, or None when absent."""
    buckets = []
    prefix = name + "_bucket{"
    for line in text.splitlines():
        if not line.startswith(prefix):
            continue
        labels, value = line[len(prefix):].rsplit("}", 1)
        for label in labels.split(","):
            key, _, raw = label.partition("=")
            if key.strip() == "le":
                bound = raw.strip().strip('"')
                buckets.append((float("inf") if bound == "+Inf" else float(bound),
                                float(value.split()[0])))
    return sorted(buckets) if buckets else None


def parse_sample(text: str, name: str) -> Optional[float]:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(None, 1)[1])
    return None


def histogram_quantile(start: Optional[list], end: Optional[list], q: float) -> Optional[float]:
    """The q-quantile of the observations between two cumulative snapshots, interpolating
    linearly inside the bucket (as Prometheus's histogram_quantile does). Values in the +Inf
    bucket report the last finite bound."""
    if start is None or end is None or len(start) != len(end):
        return None
    deltas = [(bound, e - s) for (bound, s), (_, e) in zip(start, end)]
    total = deltas[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower = 0.0
    previous = 0.0
    for bound, cumulative in deltas:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - previous
            fraction = (rank - previous) / inside if inside > 0 else 1.0
            return lower + (bound - lower) * fraction
        lower, previous = bound, cumulative
    return lower


# ---------------------------------------------------------------------------------------------
# The sink

class Sink:
    """<build>/tools/whip_sink: terminates every egress session, counts packets and gaps."""

    def __init__(self, harness, binary: Path, output_dir: Path, name: str = "whip_sink"):
        self.harness = harness
        # SCHED_BATCH: the sink stands in for remote hosts, so its wake-ups must not preempt the
        # server under test on the same cores (with the default policy each sendmmsg from serve
        # woke the sink, which then preempted serve: 16k context switches/s at 200 stages, ~8 %
        # of serve's CPU spent switching; bench/README.md). Janus's sink gets the same.
        self.args = ["chrt", "--batch", "0", str(binary), "--port", "0", "--udp-port", "0",
                     "--bind", "127.0.0.1"]
        self.log_path = output_dir / f"{name}.log"
        self.name = name
        self.popen: Optional[subprocess.Popen] = None
        self.http_port = 0

    def start(self) -> "Sink":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as out:
            self.popen = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        ports = self.harness.wait_until(self._ports, 15, f"{self.name} to print its ports")
        self.http_port = ports["http_port"]
        return self

    def _ports(self) -> Optional[dict]:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and "http_port" in line:
                return json.loads(line)
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stats(self) -> dict:
        answer = self.harness.http("GET", self.url + "/stats", timeout=30)
        if answer.status != 200:
            raise RuntimeError(f"{self.name} /stats answered {answer.status}")
        return answer.json()

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def live_paths(stats: dict) -> dict:
    """path -> session record for sessions that are connected and have received media."""
    return {s["path"]: s for s in stats.get("perSession", [])
            if s.get("connected") and s.get("packets", 0) > 0}


# ---------------------------------------------------------------------------------------------
# Measuring one window

def take_snapshot(sink: Sink, pids: dict, metrics_url: Optional[str], harness,
                  scrape: bool = True) -> dict:
    """Sink counters first (the slowest call), then the CPU counters right after, so both
    describe the same moment; serve's /metrics last, and only when `scrape` (the window's first
    and last snapshot): serve renders it on its media thread, so every scrape could delay the
    packets it measures."""
    stats = sink.stats()
    moment = time.monotonic()
    threads = {name: thread_runtimes(pid) for name, pid in pids.items()}
    ticks = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    cpu = {name: sum(times.values()) for name, times in threads.items()}
    snap = {"t": moment, "cpu": cpu, "threads": threads, "ticks": ticks,
            "packets": stats.get("packets", 0), "bytes": stats.get("bytes", 0),
            "gaps": stats.get("gaps", 0), "hist": None, "ingest": None, "scrape_ms": None}
    if metrics_url and scrape:
        text = harness.http("GET", metrics_url, timeout=30).body.decode(errors="replace")
        snap["scrape_ms"] = (time.monotonic() - moment) * 1000
        snap["hist"] = parse_histogram(text, "ivs_forward_delay_seconds")
        snap["ingest"] = parse_sample(text, "ivs_publisher_packets_total")
        snap["delay_sum"] = parse_sample(text, "ivs_forward_delay_seconds_sum")
    return snap


def sub_window(a: dict, b: dict, main: str) -> dict:
    seconds = b["t"] - a["t"]
    packets = b["packets"] - a["packets"]
    gaps = b["gaps"] - a["gaps"]
    cpu = {name: (b["cpu"][name] - a["cpu"][name]) / seconds for name in a["cpu"]}
    hot = hottest_thread(a["threads"][main], b["threads"][main], seconds)
    data = b["bytes"] - a["bytes"]
    out = {"seconds": seconds, "pps": packets / seconds, "cpu": cpu, "hot": hot,
           "mbit_s": data * 8 / seconds / 1e6,
           "ns_per_byte": cpu[main] * seconds / data * 1e9 if data else None,
           "loss": gaps / (packets + gaps) if packets + gaps > 0 else 0.0,
           "ns_per_packet": cpu[main] * seconds / packets * 1e9 if packets else None}
    if a["ingest"] is not None and b["ingest"] is not None:
        out["ingest_pps"] = (b["ingest"] - a["ingest"]) / seconds
    return out


def median_of(values: list) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread_pct(values: list) -> Optional[float]:
    """(max - min) / median, in %: how much the sub-windows disagree."""
    values = [v for v in values if v is not None]
    if len(values) < 2 or not statistics.median(values):
        return None
    return (max(values) - min(values)) / statistics.median(values) * 100


def measure_window(snapshot, window: float, windows: int, main: str) -> dict:
    """`windows` consecutive sub-windows of window/windows seconds: medians of the rates, the
    spread of CPU per packet, and the latency quantiles over the whole window."""
    snaps = [snapshot(True)]
    start = snaps[0]["t"]
    for i in range(1, windows + 1):
        time.sleep(max(0.0, start + window * i / windows - time.monotonic()))
        snaps.append(snapshot(i == windows))
    parts = [sub_window(a, b, main) for a, b in zip(snaps, snaps[1:])]
    whole = sub_window(snaps[0], snaps[-1], main)
    cpu_names = list(snaps[0]["cpu"])
    ticks = {n: (snaps[-1]["ticks"][n] - snaps[0]["ticks"][n]) / whole["seconds"]
             for n in cpu_names}
    result = {
        "window_s": round(whole["seconds"], 2),
        "delivered_pps": median_of([p["pps"] for p in parts]),
        "loss": whole["loss"],
        "loss_max_subwindow": max(p["loss"] for p in parts),
        "cpu_s_per_s": {n: median_of([p["cpu"][n] for p in parts]) for n in cpu_names},
        "cpu_s_per_s_stat": ticks,
        "hottest_thread_cpu_s_per_s": max(p["hot"] for p in parts),
        "cpu_per_packet_ns": median_of([p["ns_per_packet"] for p in parts]),
        "cpu_per_packet_spread_pct": spread_pct([p["ns_per_packet"] for p in parts]),
        "delivered_mbit_s": median_of([p["mbit_s"] for p in parts]),
        "cpu_per_byte_ns": median_of([p["ns_per_byte"] for p in parts]),
        "ingest_pps": whole.get("ingest_pps"),
        "metrics_scrape_ms": max([x["scrape_ms"] for x in snaps if x["scrape_ms"]] or [None]),
    }
    for name, q in (("p50_ms", 0.5), ("p99_ms", 0.99)):
        value = histogram_quantile(snaps[0]["hist"], snaps[-1]["hist"], q)
        result[name] = None if value is None else value * 1000
    if snaps[0]["hist"] and snaps[-1]["hist"]:
        samples = snaps[-1]["hist"][-1][1] - snaps[0]["hist"][-1][1]
        result["forward_delay_samples"] = samples
        if samples and snaps[0].get("delay_sum") is not None:
            result["mean_ms"] = (snaps[-1]["delay_sum"] - snaps[0]["delay_sum"]) / samples * 1000
    return result


# ---------------------------------------------------------------------------------------------
# The floor: srtp_bench's protect + sendmmsg case (bench/README.md)

FLOOR_FILTER = "BM_ProtectAndSend/1/[01]/0$"  # OpenSSL backend, both profiles, drain untimed
FLOOR_PROFILES = {"0": "AES_CM_128_HMAC_SHA1_80", "1": "AEAD_AES_128_GCM"}
FLOOR_PACKETS_PER_ITERATION = 64


def run_floor(build_dir: Path, repetitions: int, min_time: str) -> tuple:
    """({profile: ns per packet, median of the repetitions' CPU time}, note)."""
    binary = build_dir / "bench" / "srtp_bench"
    if not binary.exists():
        return {}, f"{binary} not built"
    command = [str(binary), f"--benchmark_filter={FLOOR_FILTER}", "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}", f"--benchmark_min_time={min_time}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return {}, f"srtp_bench failed: {done.stderr[-500:]}"
    per_profile: dict = {}
    for entry in json.loads(done.stdout)["benchmarks"]:
        if entry.get("run_type") != "iteration" or entry.get("error_occurred"):
            continue
        profile = FLOOR_PROFILES[entry["run_name"].split("/")[2]]
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
        per_packet = entry["cpu_time"] * scale / FLOOR_PACKETS_PER_ITERATION
        per_profile.setdefault(profile, []).append(per_packet)
    floor = {profile: statistics.median(v) for profile, v in per_profile.items()}
    spread = {profile: spread_pct(v) for profile, v in per_profile.items()}
    return floor, f"median of {repetitions} repetitions; spread % {json.dumps(spread)}"
