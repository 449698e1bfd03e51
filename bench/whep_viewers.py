#!/usr/bin/python3
"""WHEP viewers of one `serve` (issue 12: viewers on the media workers): one publisher, N WHEP
viewers (build/tools/whep_viewers: N WebRTC clients in one process, each decrypting and
counting what it gets), with MEDIA_WORKERS=2 and =1 side by side in the same run.

    bench/whep_viewers.py [--build-dir build] [--n 50,100,200] [--media-workers 2,1]
                          [--window 12] [--windows 3] [--before OTHER/media-server]

--before runs one more variant, MEDIA_WORKERS=2 with another build's media-server (e.g. the
commit before a change), against the same viewers tool in the same run: a before/after pair.

Prints one row per (workers, N) and writes bench/results/whep-viewers-latest.json. Columns:
viewers connected, delivered packets/s (RTP the viewers decrypted), loss (sequence gaps over
packets), serve's CPU s/s, ns of serve's CPU per delivered packet, serve's busiest thread (CPU
s/s: with one worker the media path is one thread), p99 added forwarding delay
(ivs_forward_delay_seconds), serve's RSS, and the viewers' process CPU s/s (it must stay well
below a core, or it, not serve, is what is measured).

What it says and what it does not: the viewers and serve share this machine's two cores, so
the figure is serve's cost per viewer packet and how it spreads over threads, not how many
viewers a machine can hold. Runs inside a network namespace of its own (scripts/netns-run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from fanout import SOURCE_DIR, enter_namespace, import_harness, machine_info, parse_n_list
from fanout_measure import (histogram_quantile, hottest_thread, log, parse_histogram,
                            proc_cpu_seconds, proc_rss_kib, thread_runtimes)

BENCH_DIR = Path(__file__).resolve().parent
# Quotas the benchmark itself would trip from one client address (docs/configuration.md): in
# production the viewers come from many addresses.
SERVE_ENV = {
    "LOG_LEVEL": "info", "HEARTBEAT_INTERVAL": 5000, "WHEP_OPEN": "true",
    "WHEP_MAX_VIEWERS": 2000, "WHEP_MAX_CONNECTING": 2000, "WHEP_MAX_CONNECTING_PER_IP": 0,
    "HTTP_MAX_CONNECTIONS_PER_IP": 0, "HTTP_RATE_LIMIT": 0,
}


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--n", default="50,100,200", help="viewer counts")
    parser.add_argument("--media-workers", default="2,1", help="MEDIA_WORKERS values")
    parser.add_argument("--window", type=float, default=12.0, help="measuring window, s")
    parser.add_argument("--windows", type=int, default=3, help="sub-windows (medians)")
    parser.add_argument("--settle", type=float, default=3.0, help="wait after N connected, s")
    parser.add_argument("--before", default="",
                        help="another media-server binary, run with MEDIA_WORKERS=2 as 'before'")
    parser.add_argument("--out", default=str(BENCH_DIR / "results"))
    parser.add_argument("--work-dir", default=str(SOURCE_DIR / "test-output" / "bench-whep"))
    return parser.parse_args(argv)


class Viewers:
    """build/tools/whep_viewers, its latest JSON line kept by a reader thread."""

    def __init__(self, binary: Path, url: str, count: int):
        self.popen = subprocess.Popen(
            [str(binary), "--url", url, "--count", str(count), "--stagger-ms", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.latest: dict = {}
        self.lines = 0
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self.changed:
                self.latest = parsed
                self.lines += 1
                self.changed.notify_all()

    def next_line(self, timeout: float = 5.0) -> dict:
        """Waits for the next line (the tool prints one a second) and returns it."""
        with self.changed:
            seen = self.lines
            if not self.changed.wait_for(lambda: self.lines > seen, timeout):
                raise RuntimeError("whep_viewers printed nothing for 5 s")
            return dict(self.latest)

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def snapshot(viewers: Viewers, serve_pid: int, metrics, scrape: bool) -> dict:
    line = viewers.next_line()
    snap = {"t": time.monotonic(), "packets": line["packets"], "gaps": line["gaps"],
            "connected": line["connected"], "ended": line["ended"],
            "reasons": line.get("reasons", {}),
            "threads": thread_runtimes(serve_pid), "viewers_cpu": proc_cpu_seconds(viewers.popen.pid),
            "hist": None}
    snap["cpu"] = sum(snap["threads"].values())
    if scrape:
        snap["hist"] = parse_histogram(metrics(), "ivs_forward_delay_seconds")
    return snap


def median(values: list):
    ordered = sorted(v for v in values if v is not None)
    return ordered[len(ordered) // 2] if ordered else None


def measure(viewers: Viewers, serve_pid: int, metrics, args) -> dict:
    snaps = [snapshot(viewers, serve_pid, metrics, True)]
    per = max(1, round(args.window / args.windows))
    for i in range(args.windows):
        for _ in range(per - 1):
            viewers.next_line()
        snaps.append(snapshot(viewers, serve_pid, metrics, i == args.windows - 1))
    parts = []
    for a, b in zip(snaps, snaps[1:]):
        seconds = b["t"] - a["t"]
        packets = b["packets"] - a["packets"]
        parts.append({"pps": packets / seconds, "cpu": (b["cpu"] - a["cpu"]) / seconds,
                      "ns": (b["cpu"] - a["cpu"]) * 1e9 / packets if packets else None,
                      "hot": hottest_thread(a["threads"], b["threads"], seconds),
                      "viewers_cpu": (b["viewers_cpu"] - a["viewers_cpu"]) / seconds})
    first, last = snaps[0], snaps[-1]
    packets = last["packets"] - first["packets"]
    p99 = histogram_quantile(first["hist"], last["hist"], 0.99)
    return {
        "connected": last["connected"], "ended": last["ended"], "end_reasons": last["reasons"],
        "delivered_pps": median([p["pps"] for p in parts]),
        "loss": (last["gaps"] - first["gaps"]) / packets if packets else None,
        "cpu_s_per_s": median([p["cpu"] for p in parts]),
        "cpu_per_packet_ns": median([p["ns"] for p in parts]),
        "hottest_thread_cpu_s_per_s": max(p["hot"] for p in parts),
        "viewers_cpu_s_per_s": median([p["viewers_cpu"] for p in parts]),
        "p99_ms": None if p99 is None else p99 * 1000,
        "rss_kib": proc_rss_kib(serve_pid),
    }


def run_variant(h, args, variant: str, counts: list, build_dir: Path, work_dir: Path) -> list:
    """`variant`: a MEDIA_WORKERS value, or "before" (2 workers, the --before binary)."""
    workers = "2" if variant == "before" else variant
    work = work_dir / f"workers-{variant}"
    own_binary = h.binary
    if variant == "before":
        h.binary = lambda: Path(args.before)
    media = h.MediaServer(work, f"http://127.0.0.1:{h.free_port()}",
                          extra_env=h.relay_media_env({**SERVE_ENV, "MEDIA_WORKERS": workers}))
    publisher = None
    rows = []
    try:
        media.start().wait_live(timeout=20)
        publisher = h.Publisher(work, media.whip_url(), seconds=3600, fps=30,
                                extra_args=("--size", "1280x720", "--bitrate", "2500"))
        publisher.start()
        h.wait_until(lambda: h.publisher_live(media), 600, "the publisher live", interval=0.5,
                     context=publisher.log_tail)
        pid = media.popen.pid

        def metrics() -> str:
            return media.get("/metrics", timeout=30).body.decode(errors="replace")

        for count in counts:
            viewers = Viewers(build_dir / "tools" / "whep_viewers", media.whep_url(), count)
            try:
                # Every viewer connected, or ended (counted, with its reason, in the row).
                h.wait_until(lambda: sum(viewers.next_line().get(k, 0)
                                         for k in ("connected", "ended")) >= count,
                             60 + count * 0.2, f"{count} viewers connected", interval=0.1)
                time.sleep(args.settle)
                row = {"media_workers": variant, "n": count,
                       **measure(viewers, pid, metrics, args)}
            finally:
                viewers.stop()
            log(f"workers={workers} n={count}: {row}")
            rows.append(row)
            # The server reaps the sessions the tool left (consent, then the DTLS close).
            h.wait_until(lambda: media.status().get("viewers", 0) == 0, 60, "viewers gone",
                         interval=0.5)
    finally:
        if publisher:
            publisher.stop()
        media.stop()
        h.binary = own_binary
    return rows


def print_table(rows: list) -> None:
    print("| workers | N | connected | pps | loss | CPU s/s | ns/pkt | hot thread | p99 ms "
          "| RSS MiB | viewers' CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        def fmt(value, pattern):
            return "–" if value is None else pattern.format(value)
        print(f"| {r['media_workers']} | {r['n']} | {r['connected']} | "
              f"{fmt(r['delivered_pps'], '{:,.0f}')} | {fmt(r['loss'], '{:.4f}')} | "
              f"{fmt(r['cpu_s_per_s'], '{:.2f}')} | {fmt(r['cpu_per_packet_ns'], '{:,.0f}')} | "
              f"{r['hottest_thread_cpu_s_per_s']:.2f} | {fmt(r['p99_ms'], '{:.1f}')} | "
              f"{r['rss_kib'] / 1024:.0f} | {fmt(r['viewers_cpu_s_per_s'], '{:.2f}')} |")


def main(argv: list) -> int:
    args = parse_args(argv)
    enter_namespace(str(Path(__file__).resolve()))
    build_dir = (SOURCE_DIR / args.build_dir).resolve()
    h = import_harness(build_dir)
    work_dir = Path(args.work_dir)
    counts = parse_n_list(args.n)
    rows = []
    variants = [w.strip() for w in args.media_workers.split(",")]
    if args.before:
        variants.append("before")
    for variant in variants:
        rows += run_variant(h, args, variant, counts, build_dir, work_dir)
    print_table(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "whep-viewers-latest.json").write_text(json.dumps(
        {"machine": machine_info(), "args": vars(args), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
