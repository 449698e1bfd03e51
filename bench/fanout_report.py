"""Results of bench/fanout.py (issue 6, docs/benchmark.md): the N_max rules, the summary the
issue asks for, the table, latest.png through gnuplot, and --replot. Kept apart from the driver
so the summary can be derived again from a latest.json without running anything (--replot).
Python stdlib only."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from fanout_measure import median_of

BENCH_DIR = Path(__file__).resolve().parent

LOSS_LIMIT = 0.001        # 0.1 %: the N_max condition
P99_LIMIT_MS = 5.0        # added p99 forwarding latency limit

# ---------------------------------------------------------------------------------------------
# The rules

def verdict(row: dict) -> bool:
    """Inside the issue's N_max conditions (a missing latency metric does not fail it)."""
    return (row.get("complete", False) and row["loss"] < LOSS_LIMIT and
            (row["p99_ms"] is None or row["p99_ms"] < P99_LIMIT_MS))


def keeps_up(row: dict, per_stage_pps: Optional[float]) -> bool:
    """Delivered packets keep pace with N times what one stage received at the smallest N, and
    no thread of the measured process is saturated (in any sub-window)."""
    if row["hottest_thread_cpu_s_per_s"] >= 0.97:
        return False
    if not per_stage_pps:
        return True
    return row["delivered_pps"] >= 0.9 * per_stage_pps * row["n"]


# The sink's srtpProfile (the DTLS-SRTP names, engine::to_string) -> srtp_bench's profile names.
SINK_PROFILES = {"SRTP_AEAD_AES_128_GCM": "AEAD_AES_128_GCM",
                 "SRTP_AES128_CM_SHA1_80": "AES_CM_128_HMAC_SHA1_80"}


def floor_profile(requested: str, rows: list) -> str:
    """The floor to compare with: the profile most sessions negotiated, unless one is asked."""
    if requested != "auto":
        return requested
    counts: dict = {}
    for row in rows:
        for name, count in row.get("srtp_profiles", {}).items():
            counts[name] = counts.get(name, 0) + count
    negotiated = max(counts, key=counts.get) if counts else ""
    return SINK_PROFILES.get(negotiated, "AEAD_AES_128_GCM")


# ---------------------------------------------------------------------------------------------
# Output: table, JSON, plot

COLUMNS = [  # (header, width, key, format)
    ("N", 5, "n", "d"), ("live", 5, "live", "d"), ("CPU s/s", 8, "cpu_s_per_s", ".3f"),
    ("pkts/s", 8, "delivered_pps", ".0f"), ("loss %", 7, "loss_pct", ".3f"),
    ("p50 ms", 7, "p50_ms", ".3f"), ("p99 ms", 7, "p99_ms", ".3f"),
    ("RSS/egr KiB", 11, "rss_per_egress_kib", ".1f"), ("anon/egr", 8, "anon_per_egress_kib", ".1f"),
    ("join ms", 8, "join_ms_median", ".0f"),
    ("ns/pkt", 7, "cpu_per_packet_ns", ".0f"), ("±%", 4, "cpu_per_packet_spread_pct", ".0f"),
    ("hot thr", 7, "hottest_thread_cpu_s_per_s", ".3f"),
    ("sink CPU", 8, "sink_cpu_s_per_s", ".3f"),
    ("Janus ns/pkt", 12, "janus_cpu_per_packet_ns", ".0f"), ("limits", 9, "limits", "s"),
]


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def limits(row: dict) -> str:
    """Which N_max condition the row breaks: "ok", or live / loss / p99 / cpu (a saturated
    thread) joined by "+"."""
    broken = [name for name, bad in (
        ("live", not row.get("complete")),
        ("loss", (row.get("loss") or 0) >= LOSS_LIMIT),
        ("p99", (row.get("p99_ms") or 0) >= P99_LIMIT_MS),
        ("cpu", (row.get("hottest_thread_cpu_s_per_s") or 0) >= 0.97)) if bad]
    return "+".join(broken) or "ok"


def print_row(row: dict, header: bool = False) -> None:
    row = dict(row, loss_pct=row["loss"] * 100 if row.get("loss") is not None else None,
               limits=limits(row))
    if header:
        print(" ".join(h.rjust(w) for h, w, _, _ in COLUMNS), flush=True)
    print(" ".join(fmt(row.get(k), f).rjust(w) for _, w, k, f in COLUMNS), flush=True)


def janus_at(janus: dict, n: int) -> tuple:
    """Janus's row at N, else at the largest Janus N below it, else none."""
    candidates = [k for k in janus if k <= n and janus[k].get("complete")]
    if n in candidates:
        return n, janus[n]
    return (max(candidates), janus[max(candidates)]) if candidates else (None, None)


def summarize(rows: list, janus: dict, floor: dict, floor_profile: str) -> dict:
    passing = [row for row in rows if verdict(row)]
    best = passing[-1] if passing else (rows[0] if rows else None)
    floor_ns = floor.get(floor_profile)
    summary = {"n_max": passing[-1]["n"] if passing else 0,
               "at_n": best["n"] if best else None,
               "cpu_per_packet_ns": best.get("cpu_per_packet_ns") if best else None,
               "floor_per_packet_ns": floor_ns, "floor_profile": floor_profile,
               "floor_per_packet_ns_by_profile": floor,
               "rss_per_egress_kib": best.get("rss_per_egress_kib") if best else None,
               "anon_per_egress_kib": best.get("anon_per_egress_kib") if best else None,
               "join_ms_median": best.get("join_ms_median") if best else None,
               "p99_forward_ms_at_n_max": best["p99_ms"] if passing else None,
               "janus_cpu_per_packet_ns": None, "janus_at_n": None,
               "ratio_bytes_per_cpu_s_vs_janus": None}
    if best:
        janus_n, janus_row = janus_at(janus, best["n"])
        if janus_row:
            summary["janus_cpu_per_packet_ns"] = janus_row["cpu_per_packet_ns"]
            summary["janus_at_n"] = janus_n
            # Janus's feed is ffmpeg's RTP packetization of the same files, not our publisher's:
            # packet sizes differ, so the ratio per delivered byte is reported too.
            if best.get("cpu_per_byte_ns") and janus_row["cpu_per_byte_ns"]:
                summary["ratio_bytes_per_cpu_s_vs_janus"] = (janus_row["cpu_per_byte_ns"] /
                                                             best["cpu_per_byte_ns"])
    ours = summary["cpu_per_packet_ns"]
    summary["ratio_cpu_vs_floor"] = ours / floor_ns if ours and floor_ns else None
    janus_ns = summary["janus_cpu_per_packet_ns"]
    # Packets per CPU-second, ours over Janus's (the ">= 4x Janus" target).
    summary["ratio_packets_per_cpu_s_vs_janus"] = janus_ns / ours if ours and janus_ns else None
    all_joins = [ms for row in rows for ms in row.get("join_ms", [])]
    summary["join_ms_median_all_n"] = median_of(all_joins)
    # The same figures at the largest N where every session was live and serve kept up (no
    # saturated thread, packets delivered), whatever the latency said: per-packet cost and
    # memory at scale, past the p99 limit. A saturated server's figures are not its cost.
    complete = [row for row in rows if row.get("complete") and row.get("cpu_per_packet_ns")]
    per_stage_pps = complete[0]["delivered_pps"] / complete[0]["n"] if complete else None
    complete = [row for row in complete if keeps_up(row, per_stage_pps)]
    if complete:
        largest = complete[-1]
        summary["largest_complete_n"] = largest["n"]
        summary["cpu_per_packet_ns_at_largest_n"] = largest["cpu_per_packet_ns"]
        summary["rss_per_egress_kib_at_largest_n"] = largest["rss_per_egress_kib"]
        summary["anon_per_egress_kib_at_largest_n"] = largest.get("anon_per_egress_kib")
        summary["ratio_cpu_vs_floor_at_largest_n"] = (largest["cpu_per_packet_ns"] / floor_ns
                                                      if floor_ns else None)
    return summary


def complete_only(janus: dict) -> dict:
    """Janus rows where every viewer received media (an incomplete row's figures describe
    fewer viewers than its N)."""
    return {n: row for n, row in janus.items() if row.get("complete")}


def merge_janus(rows: list, janus: dict) -> None:
    for row in rows:
        janus_row = janus.get(row["n"])
        if janus_row:
            row["janus_cpu_per_packet_ns"] = janus_row["cpu_per_packet_ns"]
            row["janus_cpu_s_per_s"] = janus_row["cpu_s_per_s"]
            row["janus_cpu_per_byte_ns"] = janus_row["cpu_per_byte_ns"]
            row["janus_delivered_pps"] = janus_row["delivered_pps"]
            row["janus_loss"] = janus_row["loss"]


def write_plot(out_dir: Path, rows_by_workers: dict, janus: dict,
               summary: dict) -> Optional[str]:
    """latest.png through bench/fanout.gp; returns a note when it could not. `rows_by_workers`
    maps a MEDIA_WORKERS value to its rows (a list alone counts as one unnamed series); the first
    two values are plotted side by side."""
    if isinstance(rows_by_workers, list):
        rows_by_workers = {"": rows_by_workers}
    series = list(rows_by_workers.items())[:2]
    all_rows = [row for _, rows in series for row in rows]
    if not all_rows and not janus:
        return "nothing measured: no PNG"
    if not shutil.which("gnuplot"):
        return "gnuplot not installed (Debian gnuplot-nox): no PNG"
    data = out_dir / "latest.dat"
    lines = ["# n ours_ns ours_cpu janus_ns janus_cpu ours2_ns ours2_cpu"]
    for n in sorted({row["n"] for row in all_rows} | set(janus)):
        def row_of(rows):
            return next((row for row in rows if row["n"] == n), {})
        ours = row_of(series[0][1]) if series else {}
        second = row_of(series[1][1]) if len(series) > 1 else {}
        other = janus.get(n, {})
        values = [ours.get("cpu_per_packet_ns"), ours.get("cpu_s_per_s"),
                  other.get("cpu_per_packet_ns"), other.get("cpu_s_per_s"),
                  second.get("cpu_per_packet_ns"), second.get("cpu_s_per_s")]
        lines.append(" ".join([str(n)] + ["NaN" if v is None else f"{v:.6g}" for v in values]))
    data.write_text("\n".join(lines) + "\n")
    floor = summary.get("floor_per_packet_ns") or "NaN"
    names = [f"serve MEDIA_WORKERS={value}" if value else "media-server serve"
             for value, _ in series] + ["", ""]
    command = ["gnuplot", "-e", f"datafile='{data}'; outfile='{out_dir / 'latest.png'}'; "
               f"floor={floor}; title_extra='{summary.get('floor_profile')}'; "
               f"ours_title='{names[0]}'; ours2_title='{names[1]}'",
               str(BENCH_DIR / "fanout.gp")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    data.unlink()
    return None if done.returncode == 0 else f"gnuplot failed: {done.stderr[-300:]}"


SUMMARY_KEYS = ["n_max", "cpu_per_packet_ns", "floor_per_packet_ns", "janus_cpu_per_packet_ns",
                "ratio_cpu_vs_floor", "ratio_packets_per_cpu_s_vs_janus",
                "ratio_bytes_per_cpu_s_vs_janus", "rss_per_egress_kib", "join_ms_median",
                "p99_forward_ms_at_n_max", "largest_complete_n", "cpu_per_packet_ns_at_largest_n",
                "ratio_cpu_vs_floor_at_largest_n"]


def print_report(result: dict) -> None:
    by_workers = result.get("rows_by_media_workers") or {"": result["rows"]}
    for value, rows in by_workers.items():
        print(f"\nMEDIA_WORKERS={value}" if value else "")
        for row in rows:
            print_row(row, header=row is rows[0])
    print("\n" + "\n".join(f"{key}: {result.get(key)}" for key in SUMMARY_KEYS))
    print("notes: " + "; ".join(result["notes"]))


def replot(out_dir: Path, requested_profile: str) -> int:
    """--replot: the summary, the merged Janus columns, the table and latest.png derived again
    from latest.json's measured rows, without running anything."""
    result = json.loads((out_dir / "latest.json").read_text())
    janus = {row["n"]: row for row in result.get("janus_rows", [])}
    for row in result["rows"]:
        for key in [k for k in row if k.startswith("janus_")]:
            del row[key]
    merge_janus(result["rows"], complete_only(janus))
    result.update(summarize(result["rows"], janus, result["floor_per_packet_ns_by_profile"],
                            floor_profile(requested_profile, result["rows"])))
    janus = complete_only(janus)
    note = write_plot(out_dir, result.get("rows_by_media_workers") or result["rows"], janus,
                      result)
    (out_dir / "latest.json").write_text(json.dumps(result, indent=1) + "\n")
    print_report(result)
    print(note or f"wrote {out_dir / 'latest.png'}")
    return 1 if note else 0
