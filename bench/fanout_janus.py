"""The Janus anchor's part of the fan-out benchmark (bench/fanout.py): Janus serving the same N
subscribers of the same sink kind, measured like our server (docs/benchmark-janus.md).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from fanout_measure import Sink, log, measure_window, proc_rss_kib, take_snapshot
from fanout_report import LOSS_LIMIT, fmt, keeps_up

BENCH_DIR = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------------------------
# The Janus anchor (bench/janus_anchor.py, owned by the "janus" helper)

def load_janus_anchor():
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import janus_anchor  # noqa: E402
    except ImportError as error:
        return None, f"bench/janus_anchor.py not importable: {error}"
    return janus_anchor, ""


def measure_janus(anchor, sink: Sink, n: int, args, harness) -> dict:
    """Grows Janus to N viewers (the anchor waits for media on each; when it gives up, what is
    live is measured and the row is marked incomplete), then measures like measure_ours."""
    error = None
    try:
        anchor.set_subscribers(n, sink.url)
    except Exception as failure:  # noqa: BLE001 - JanusError, HTTP errors: N is not reached
        error = repr(failure)[:300]
        log(f"Janus N={n}: {error}")
    deadline = time.monotonic() + (5 if error else 30 + 0.15 * n)
    live = 0
    while time.monotonic() < deadline:
        live = len([s for s in sink.stats().get("perSession", [])
                    if s.get("connected") and s.get("packets", 0) > 0])
        if live >= n:
            break
        time.sleep(0.25)
    time.sleep(args.settle)
    pids = {"janus": anchor.pid(), "sink": sink.pid}
    row = {"n": n, "live": live, "complete": live >= n, "error": error}
    row.update(measure_window(lambda _: take_snapshot(sink, pids, None, harness), args.window,
                              args.windows, "janus"))
    row["sink_cpu_s_per_s"] = row["cpu_s_per_s"]["sink"]
    row["cpu_s_per_s"] = row["cpu_s_per_s"]["janus"]
    row["rss_kib"] = proc_rss_kib(anchor.pid())
    return row


def run_janus(harness, args, build_dir: Path, work_dir: Path, n_list: list,
              media: tuple) -> tuple:
    """Returns ({n: janus row}, note)."""
    module, note = load_janus_anchor()
    if module is None:
        return {}, note
    rows, breaches, per_stage_pps = {}, 0, None
    sink = Sink(harness, build_dir / "tools" / "whip_sink", work_dir / "janus", "whip_sink")
    anchor = module.JanusAnchor(str(work_dir / "janus"), janus_bin=args.janus_bin,
                                video_h264=str(media[0]), audio_ogg=str(media[1]), log=log)
    try:
        sink.start()
        anchor.start()
        for n in n_list:
            row = measure_janus(anchor, sink, n, args, harness)
            rows[n] = row
            log(f"Janus N={n}: {row['live']} live, {row['cpu_s_per_s']:.3f} CPU s/s, "
                f"{row['delivered_pps']:.0f} pps ({row['delivered_mbit_s']:.1f} Mbit/s), "
                f"loss {row['loss']:.3%}, "
                f"{fmt(row['cpu_per_packet_ns'], '.0f')} ns/packet")
            per_stage_pps = per_stage_pps or (row["delivered_pps"] / n if row["complete"] else None)
            breaches = 0 if row["complete"] and row["loss"] < LOSS_LIMIT else breaches + 1
            if not row["complete"]:
                note = f"Janus stopped at N={n}: only {row['live']} viewers received media"
            elif breaches >= 2:
                note = f"Janus stopped at N={n}: loss >= {LOSS_LIMIT:.1%} twice in a row"
            elif not keeps_up(row, per_stage_pps):
                note = f"Janus stopped at N={n}: the machine cannot keep up"
            if note:
                break
    except Exception as error:  # noqa: BLE001 - the anchor is optional; ours must still print
        note = f"Janus anchor failed: {error!r}"
        log(note)
    finally:
        try:
            anchor.stop()
        finally:
            sink.stop()
    return rows, note


# ---------------------------------------------------------------------------------------------
