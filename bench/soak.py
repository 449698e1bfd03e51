#!/usr/bin/env python3
"""Soak (issue 13, docs/security.md "Soak"): the real api-server, stage role, media server and
test publisher on loopback for a long time, with churn: every CHURN seconds a stage is created
and the oldest churned one deleted (so the number of stages stays level), and every REPUBLISH
seconds the publisher is stopped and a new one started (OBS reconnecting). Sampled every
CHURN seconds: the media server's RSS and open file descriptors. At the end, every remaining
stage must be decoded by an aiortc viewer (a WebRTC stack we did not write), and the media
server must hold exactly the stages the API server lists (no leaked session).

    bench/soak.py --seconds 3600            # the 1 h run (prints the table and a JSON line)
    tests/process/test_soak.py              # the same for 3 minutes, in CI

Run it inside scripts/netns-run: every process talks on 127.0.0.0/8 only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SOURCE_DIR / "bench"))
from fanout_measure import proc_rss_kib  # noqa: E402 - bench/ is not a package


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def spread(values: list) -> float:
    """(max - min) / min of the samples, in percent."""
    return 100.0 * (max(values) - min(values)) / max(min(values), 1)


class Soak:
    """One soak run over a harness.RelaySetup; `log` prints progress lines."""

    def __init__(self, harness, output_dir: Path, processes: list, base_stages: int = 3,
                 churn_seconds: float = 10.0, republish_seconds: float = 120.0, log=print):
        self.harness = harness
        self.output_dir = output_dir
        self.churn_seconds = churn_seconds
        self.republish_seconds = republish_seconds
        self.log = log
        self.setup = harness.RelaySetup(output_dir, processes, initial_stages=base_stages,
                                        media_env={"LOG_LEVEL": "info"})
        self.churned: list = []
        self.created = 0
        self.deleted = 0
        self.publishers = 0
        self.samples: list = []

    def start_publisher(self, seconds: float) -> None:
        self.publishers += 1
        self.setup.start_publisher(name=f"publisher-{self.publishers}", seconds=seconds)

    def churn(self) -> None:
        """One stage in; the oldest churned stage out once two are around."""
        self.created += 1
        self.churned.append(self.setup.api.create_stage(f"soak-{self.created}"))
        if len(self.churned) > 2:
            self.setup.api.delete_stage(self.churned.pop(0)["id"])
            self.deleted += 1

    def sample(self, started: float) -> None:
        pid = self.setup.media.popen.pid
        self.samples.append({"t": round(time.monotonic() - started, 1), "rssKiB": proc_rss_kib(pid),
                             "fds": open_fds(pid),
                             "stages": len(self.setup.media.status()["stages"])})

    def run(self, seconds: float) -> dict:
        self.setup.require_whip_egress()
        self.start_publisher(seconds + 120)
        self.setup.wait_connected(self.setup.initial, timeout=90)
        started = time.monotonic()
        next_republish = started + self.republish_seconds
        while time.monotonic() - started < seconds:
            tick = time.monotonic()
            # Sampled before this step's churn: the previous step has settled for CHURN
            # seconds, so the stage count (and each stage's socket) is the same every time.
            self.sample(started)
            self.churn()
            if tick >= next_republish:
                self.setup.publisher.stop()
                self.start_publisher(seconds + 120)
                next_republish += self.republish_seconds
            last = self.samples[-1]
            self.log(f"  t={last['t']:7.1f} s  RSS {last['rssKiB'] / 1024:6.1f} MiB  "
                     f"fds {last['fds']:4d}  stages {last['stages']}")
            time.sleep(max(0.0, self.churn_seconds - (time.monotonic() - tick)))
        return self.finish(seconds)

    def finish(self, seconds: float) -> dict:
        for stage in self.churned:
            self.setup.api.delete_stage(stage["id"])
            self.deleted += 1
        api_arns = {s["stageArn"] for s in self.setup.api.call("GET", "/api/stages").json()["stages"]}
        media = self.setup.media
        self.harness.wait_until(lambda: media.stage_arns() == api_arns, 30,
                                "the media server to hold exactly the API server's stages",
                                context=self.setup.context())
        self.setup.wait_connected(self.setup.initial, timeout=30)
        urls = {s["id"]: self.setup.stage.whep_url(s["id"]) for s in self.setup.initial}
        viewed = self.harness.view_all(self.output_dir, urls, seconds=30, until_frames=10,
                                       prefix="soak-viewer")
        # Warm-up: the first third of the run, at least one minute (caches, GOP cache, pools).
        warm = [s for s in self.samples if s["t"] >= max(60.0, seconds / 3)]
        return {
            "seconds": seconds, "created": self.created, "deleted": self.deleted,
            "publishers": self.publishers, "samples": len(self.samples),
            "rssMiBFirst": self.samples[0]["rssKiB"] / 1024,
            "rssMiBAfterWarmUp": [min(s["rssKiB"] for s in warm) / 1024,
                                  max(s["rssKiB"] for s in warm) / 1024] if warm else None,
            "rssSpreadPercent": spread([s["rssKiB"] for s in warm]) if warm else None,
            "fdsAfterWarmUp": [min(s["fds"] for s in warm), max(s["fds"] for s in warm)]
            if warm else None,
            "leakedSessions": len(media.stage_arns() - api_arns),
            "decoded": {key: result.get("framesDecoded", 0) for key, result in viewed.items()},
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--churn", type=float, default=10.0, help="seconds between churn steps")
    parser.add_argument("--republish", type=float, default=120.0,
                        help="seconds between publisher reconnects")
    parser.add_argument("--build-dir", default=os.environ.get("IVS_BUILD_DIR",
                                                              str(SOURCE_DIR / "build")))
    args = parser.parse_args()
    os.environ["IVS_BUILD_DIR"] = args.build_dir
    os.environ.setdefault("IVS_SOURCE_DIR", str(SOURCE_DIR))
    sys.path.insert(0, str(SOURCE_DIR / "tests" / "process"))
    import harness  # noqa: E402 - path set just above
    output_dir = harness.OUTPUT_ROOT / "soak"
    output_dir.mkdir(parents=True, exist_ok=True)
    processes: list = []
    try:
        result = Soak(harness, output_dir, processes, churn_seconds=args.churn,
                      republish_seconds=args.republish).run(args.seconds)
    finally:
        for process in processes:
            process.kill()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
