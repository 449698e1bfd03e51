"""Issue 13's soak in CI-short form (bench/soak.py runs it for an hour): three stages live, a
stage created and the oldest churned one deleted every 10 s, the publisher reconnecting every
2 min, for IVS_SOAK_SECONDS (180 by default). After the first minute the media server's RSS and
open descriptors must stay level (within 5 %), no stage session may outlive its stage, and every
stage must still be decoded by an aiortc viewer at the end. Runs inside scripts/netns-run."""

import os
import sys

import harness

sys.path.insert(0, str(harness.SOURCE_DIR / "bench"))
from soak import Soak  # noqa: E402 - bench/ is not a package


def test_a_soak_with_stage_churn_and_publisher_reconnects_stays_level(output_dir, processes):
    seconds = float(os.environ.get("IVS_SOAK_SECONDS", "180"))
    result = Soak(harness, output_dir, processes).run(seconds)
    print(f"\nsoak {seconds:.0f} s: {result['created']} stages created, {result['deleted']} "
          f"deleted, {result['publishers']} publishers; RSS after warm-up "
          f"{result['rssMiBAfterWarmUp'][0]:.1f}-{result['rssMiBAfterWarmUp'][1]:.1f} MiB "
          f"({result['rssSpreadPercent']:.1f} %), fds {result['fdsAfterWarmUp']}, "
          f"decoded {result['decoded']}")
    assert result["leakedSessions"] == 0, result
    assert result["rssSpreadPercent"] <= 5.0, result
    low, high = result["fdsAfterWarmUp"]
    assert high <= low * 1.05 + 1, result
    assert all(frames >= 10 for frames in result["decoded"].values()), result
