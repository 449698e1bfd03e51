#!/usr/bin/python3
"""Fan-out through a tree (issue 16): one publisher into an origin `serve`, two edge `serve`s
that pull from it (INGEST_PULL_URL) and share N stages (SHARD_PEERS), one `whip_sink` for every
stage; next to it, in the same run, one `serve` feeding the same N stages alone.

    bench/fanout_edges.py [--build-dir build] [--n 100,250] [--window 10] [--windows 3]

Prints one row per (topology, N) and writes bench/results/edges-latest.json. Columns: stages
live at the sink, delivered packets/s, loss (sink gaps), CPU s/s of the media servers (origin
and edges summed; the sink and publisher excluded), ns of that CPU per delivered packet, RSS of
the media servers summed, and the worst p99 added forwarding delay among the servers that feed
stages (their ivs_forward_delay_seconds).

What it can and cannot say: every process shares this machine's cores, so the tree cannot
feed more stages here than one server does; the figure is the cost of the tree (the origin's
WHEP legs, the edges' pulls, a second relay hop) per delivered packet, measured against one
server in the same run. On separate machines each edge brings its own cores
(docs/scale-out.md, capacity planning).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from fanout import (SOURCE_DIR, enter_namespace, import_harness, live_paths_of, machine_info,
                    parse_n_list, raise_fd_limit)
from fanout_measure import (Sink, live_paths, log, measure_window, proc_rss_kib, take_snapshot,
                            parse_histogram, histogram_quantile)

QUIET = {"LOG_LEVEL": "info", "HEARTBEAT_INTERVAL": 5000, "API_REQUEST_TIMEOUT": 20000,
         "MAX_CONCURRENT_CONNECTS": 32}
# The same number of fan-out threads on each side: one serve with a worker per core (2 here),
# and each edge with one worker.
EDGE_WORKERS = {"MEDIA_WORKERS": "1"}


class Tree:
    """api-server + whip_sink + (origin + edges | one serve) + publisher."""

    def __init__(self, h, args, build_dir: Path, work_dir: Path, edges: int):
        self.h, self.args, self.build_dir, self.work_dir = h, args, build_dir, work_dir
        self.edge_count = edges
        self.processes: list = []
        self.stages: list = []
        self.feeders: list = []  # the servers that publish to stages

    def start(self) -> None:
        h = self.h
        self.sink = Sink(h, self.build_dir / "tools" / "whip_sink", self.work_dir).start()
        self.processes.append(self.sink)
        self.api = h.ApiServer(self.work_dir, extra_env={
            "STAGE_WHIP_URL_BASE": f"{self.sink.url}/whip", "LOG_LEVEL": "info",
            "API_RATE_LIMIT": 0})
        self.processes.append(self.api)
        self.api.start().wait_ready()
        if self.edge_count == 0:
            serve = h.MediaServer(self.work_dir, self.api.url, extra_env=h.relay_media_env(QUIET))
            self._start(serve, "serve")
            self.feeders = [serve]
            ingest = serve
        else:
            self.origin = h.start_origin(self.work_dir, self.processes,
                                         extra_env={"LOG_LEVEL": "info", **EDGE_WORKERS})
            edges = [h.MediaServer(self.work_dir, self.api.url, server_id=f"edge-{i}",
                                   extra_env=h.edge_env(self.origin, {**QUIET, **EDGE_WORKERS}))
                     for i in range(self.edge_count)]
            peers = ",".join(f"127.0.0.1:{edge.port}" for edge in edges)
            for i, edge in enumerate(edges):
                edge.env["SHARD_PEERS"] = peers
                self._start(edge, f"edge-{i}")
            self.feeders = edges
            ingest = self.origin
        self.publisher = h.Publisher(self.work_dir, ingest.whip_url(), seconds=6 * 3600,
                                     fps=self.args.fps,
                                     extra_args=("--size", self.args.size, "--bitrate",
                                                 str(self.args.bitrate)))
        self.processes.append(self.publisher)
        self.publisher.start()
        h.wait_until(lambda: all(h.publisher_live(f) for f in self.feeders), 600,
                     "every feeding server live", interval=0.5, context=self.publisher.log_tail)
        # The edges' first peer set comes one refresh after start (docs/scale-out.md).
        if self.edge_count:
            h.wait_until(lambda: all((f.status().get("shard") or {}).get("peers") and
                                     len(f.status()["shard"]["peers"]) == self.edge_count
                                     for f in self.feeders), 30, "the edges' peer set")

    def _start(self, server, name: str) -> None:
        server.name, server.log_path = name, self.work_dir / f"{name}.log"
        self.processes.append(server)
        server.start().wait_live(timeout=20)

    def servers(self) -> list:
        return ([self.origin] if self.edge_count else []) + self.feeders

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # noqa: BLE001 - keep stopping the others
                log(f"stopping {getattr(process, 'name', process)}: {error!r}")

    def grow_to(self, n: int) -> None:
        while len(self.stages) < n:
            answer = self.h.http("POST", self.api.url + "/api/stages", self.h.api_headers(),
                                 {"name": f"bench-{len(self.stages) + 1}"}, timeout=20)
            if answer.status != 201:
                raise RuntimeError(f"POST /api/stages answered {answer.status}")
            self.stages.append(answer.json())

    def wait_live(self, timeout: float) -> int:
        wanted = set(live_paths_of(self.stages))
        deadline = time.monotonic() + timeout
        while True:
            count = len(wanted & live_paths(self.sink.stats()).keys())
            if count == len(wanted) or time.monotonic() >= deadline:
                return count
            time.sleep(0.25)


def worst_p99_ms(tree: Tree, window: float) -> float | None:
    """The highest p99 forward delay among the feeding servers over `window` seconds."""
    def histograms():
        return [parse_histogram(f.get("/metrics", timeout=30).body.decode(errors="replace"),
                                "ivs_forward_delay_seconds") for f in tree.feeders]
    before = histograms()
    time.sleep(window)
    after = histograms()
    values = [histogram_quantile(a, b, 0.99) for a, b in zip(before, after)]
    values = [v * 1000 for v in values if v is not None]
    return max(values) if values else None


def measure(tree: Tree, n: int, args) -> dict:
    tree.grow_to(n)
    live = tree.wait_live(30 + 0.15 * n)
    time.sleep(args.settle)
    pids = {f"s{i}": server.popen.pid for i, server in enumerate(tree.servers())}
    pids["sink"] = tree.sink.pid
    snapshot = lambda scrape: take_snapshot(tree.sink, pids, None, tree.h, scrape)
    window = measure_window(snapshot, args.window, args.windows, "s0")
    cpu = sum(v for name, v in window["cpu_s_per_s"].items() if name != "sink")
    row = {"n": n, "edges": tree.edge_count, "live": live,
           "sink_sessions": len(live_paths(tree.sink.stats())),
           "delivered_pps": window["delivered_pps"], "loss": window["loss"],
           "cpu_s_per_s": cpu,
           "ns_per_packet": cpu / window["delivered_pps"] * 1e9 if window["delivered_pps"] else None,
           "rss_mib": sum(proc_rss_kib(s.popen.pid) for s in tree.servers()) / 1024,
           "p99_ms": worst_p99_ms(tree, args.window / 2)}
    if tree.edge_count:
        row["held"] = [f.status()["shard"]["heldStages"] for f in tree.feeders]
    return row


def print_row(row: dict) -> None:
    topology = f"origin + {row['edges']} edges" if row["edges"] else "one serve"
    ns = f"{row['ns_per_packet']:,.0f}" if row["ns_per_packet"] else "–"
    p99 = f"{row['p99_ms']:.1f}" if row["p99_ms"] is not None else "–"
    held = f" held {row['held']}" if row.get("held") else ""
    print(f"{topology:>17} N={row['n']:>4} live {row['live']:>4} (sink {row['sink_sessions']:>4})"
          f"  {row['delivered_pps']:>9,.0f} pps"
          f"  loss {row['loss']:.4%}  CPU {row['cpu_s_per_s']:.2f} s/s  {ns:>6} ns/pkt"
          f"  RSS {row['rss_mib']:.0f} MiB  p99 {p99} ms{held}", flush=True)


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--n", default="100,250")
    parser.add_argument("--edges", type=int, default=2)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=int, default=2500)
    parser.add_argument("--out", default=str(SOURCE_DIR / "bench" / "results"))
    args = parser.parse_args(argv)
    enter_namespace(str(Path(__file__).resolve()))
    build_dir = (SOURCE_DIR / args.build_dir).resolve()
    work_root = SOURCE_DIR / "test-output" / "bench-edges"
    # The API server keeps its stages in its data directory: a previous run's would add to N.
    shutil.rmtree(work_root, ignore_errors=True)
    raise_fd_limit()
    h = import_harness(build_dir)
    rows = []
    for edges in (0, args.edges):
        tree = Tree(h, args, build_dir, work_root / f"edges-{edges}", edges)
        try:
            tree.start()
            for n in parse_n_list(args.n):
                row = measure(tree, n, args)
                rows.append(row)
                print_row(row)
        finally:
            tree.stop()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "edges-latest.json").write_text(json.dumps({"machine": machine_info(), "rows": rows},
                                                      indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
