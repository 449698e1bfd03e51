"""bench/whep_viewers.py at a small N, as CI runs it: serve with two media workers, the test
publisher, and five WHEP viewers from build/tools/whep_viewers (our own WHEP client, one
WebRTC session each). Asserts that the run completes, that every viewer connected and decoded
media with no sequence gap, and that serve sent every viewer's media from a media worker (its
log line per viewer, and ivs_whep_viewers_on_workers while they watched, through the row's
figures). Figures are printed, never asserted: on a shared 2-core machine they are noise."""

import json

import harness

N = 5


def test_whep_viewers_smoke_every_viewer_is_sent_from_a_worker(output_dir):
    out = output_dir / "results"
    work = output_dir / "work"
    harness.run_bench_script("whep_viewers.py", [
        "--build-dir", harness.BUILD_DIR, "--n", N, "--media-workers", "2", "--window", "2",
        "--windows", "2", "--settle", "1", "--out", out, "--work-dir", work], timeout=300)
    rows = json.loads((out / "whep-viewers-latest.json").read_text())["rows"]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["connected"] == N and row["ended"] == 0, row
    # Loss is printed by the run; a loaded CI machine may drop a datagram now and then.
    assert row["delivered_pps"] > 0 and row["loss"] < 0.01, row
    log = (work / "workers-2" / "media-server.log").read_text(errors="replace")
    assert log.count("sent from a media worker") == N, log[-4000:]
