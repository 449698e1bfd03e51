"""Issue 13, the fault matrix: random loss on the ingest leg (publisher -> media server) and on
the egress legs (media server -> stages), made with nftables inside the test's own network
namespace (`numgen random` drops; netem is not in this kernel). What is measured, per level:

- ingest: the datagrams nftables dropped on their way to the media server's RTC port, and of
  the RTP sequence numbers the relay saw missing, how many it never got back (NACK to the
  publisher, which retransmits; `packetsLost` on /api/status counts gaps never filled). The
  recovered share is 1 - never filled / dropped: dropped datagrams also include RTCP and STUN,
  so the figure understates recovery slightly.
- pull (issue 16): the same between an origin and its edge: what the origin sends is dropped,
  the edge NACKs the origin (which answers from its history) and its stages keep their
  sessions and their video; the pull itself stays up.
- egress: the same on the legs to the stages. The stage role's ingest is our relay's, so it
  NACKs what is missing and the media server's leg answers from its history; the stage role's
  /api/stages shows its `nacksSent` and `packetsLost` (never filled). Also checked: no stage is
  renegotiated (its publish count stays 1, its state on the media server stays `connected`),
  ICE consent holds, and video keeps arriving.

CI runs one level (10 %); `IVS_FAULT_LOSS=5,10,20` runs the matrix (bench/README.md has the
figures). The publisher is our `media-server publish`; the stage role is ours: this checks our
recovery logic against our own peers, not interop.
"""

import os
import shutil
import subprocess
import time

import pytest

import harness
from harness import wait_until

LEVELS = [int(level) for level in os.environ.get("IVS_FAULT_LOSS", "10").split(",")]
LOSS_SECONDS = float(os.environ.get("IVS_FAULT_SECONDS", "8"))

pytestmark = pytest.mark.skipif(shutil.which("nft") is None and not os.path.exists("/usr/sbin/nft"),
                                reason="nftables (nft) is not installed: scripts/setup.sh")


def nft(*args: str) -> str:
    command = [shutil.which("nft") or "/usr/sbin/nft", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


class RandomLoss:
    """Drops `percent` % of the UDP datagrams sent to `port` (or, with match="sport", sent from
    it) on this namespace's loopback."""

    def __init__(self, port: int, percent: int, match: str = "dport"):
        self.port, self.percent, self.match = port, percent, match

    def __enter__(self) -> "RandomLoss":
        assert os.environ.get("IVS_IN_NETNS") == "1", "run inside scripts/netns-run"
        nft("add", "table", "inet", "ivs_faults")
        nft("add", "chain", "inet", "ivs_faults", "out",
            "{ type filter hook output priority 0 ; policy accept ; }")
        nft("add", "rule", "inet", "ivs_faults", "out", "udp", self.match, str(self.port),
            "numgen", "random", "mod", "100", "<", str(self.percent), "counter", "drop")
        return self

    def dropped(self) -> int:
        listing = nft("list", "chain", "inet", "ivs_faults", "out")
        words = listing.split()
        return int(words[words.index("packets") + 1])

    def __exit__(self, *exc) -> None:
        nft("delete", "table", "inet", "ivs_faults")


def relay(output_dir, processes) -> harness.RelaySetup:
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2)
    setup.start_publisher()
    setup.wait_connected(setup.initial, timeout=30)
    wait_until(lambda: harness.publisher_live(setup.media), 20, "the publisher live",
               context=setup.context())
    return setup


def stages_kept(setup: harness.RelaySetup) -> None:
    """Every stage still connected with its first session, and still receiving video."""
    before = {s["id"]: setup.stage.stage(s["id"])["videoPackets"] for s in setup.initial}
    wait_until(lambda: all(setup.stage.stage(s["id"])["videoPackets"] > before[s["id"]]
                           for s in setup.initial), 10, "video reaching every stage",
               context=setup.context())
    for stage in setup.initial:
        assert setup.stage_state(stage) == "connected", setup.media.stage_status(stage["stageArn"])
        assert setup.stage.stage(stage["id"])["publishes"] == 1, \
            f"stage {stage['id']} was renegotiated: {setup.stage.stage(stage['id'])}"


def measure_loss(port: int, percent: int, counters, what: str, match: str = "dport") -> None:
    """Drops `percent` % towards `port` (from it, with match="sport") for LOSS_SECONDS and checks
    the receiver's recovery. `counters()` returns the receiver's (never filled, NACKs sent,
    video packets) so far."""
    lost_before, nacks_before, video_before = counters()
    with RandomLoss(port, percent, match) as loss:
        time.sleep(LOSS_SECONDS)  # the loss window itself is what is measured
        dropped = loss.dropped()
    time.sleep(1.0)  # NACKs in flight at the end of the window get their answers
    lost_after, nacks_after, video_after = counters()
    never_filled, nacks = lost_after - lost_before, nacks_after - nacks_before
    recovered = 1 - never_filled / dropped if dropped else 1.0
    print(f"\n{what} loss {percent} %: {dropped} datagrams dropped in {LOSS_SECONDS:.0f} s, "
          f"{nacks} NACKs, {never_filled} sequence numbers never filled, recovered "
          f"{recovered:.1%}; video packets {video_after - video_before}")
    assert dropped > 0, f"nftables dropped nothing: the rule did not match the {what} port"
    assert nacks > 0, f"no NACK was sent for the packets lost on the {what}"
    assert recovered >= 0.5, f"only {recovered:.1%} of the lost packets recovered"


@pytest.mark.parametrize("percent", LEVELS)
def test_ingest_loss_is_recovered_by_nack(output_dir, processes, percent):
    setup = relay(output_dir, processes)

    def counters() -> tuple:
        publisher = harness.media_server_publisher(setup.media.status())
        return publisher["packetsLost"], publisher["nacksSent"], publisher.get("videoPackets", 0)

    measure_loss(int(setup.media.env["RTC_UDP_PORT"]), percent, counters, "ingest")
    stages_kept(setup)
    assert harness.publisher_live(setup.media), "the publisher session ended"


@pytest.mark.parametrize("percent", LEVELS)
def test_egress_loss_is_recovered_and_never_renegotiates_a_stage(output_dir, processes, percent):
    setup = relay(output_dir, processes)

    def counters() -> tuple:
        records = [setup.stage.stage(s["id"]) for s in setup.initial]
        return tuple(sum(r.get(key, 0) for r in records)
                     for key in ("packetsLost", "nacksSent", "videoPackets"))

    measure_loss(int(setup.stage.env["STAGE_RTC_UDP_PORT"]), percent, counters,
                 f"egress ({len(setup.initial)} stages)")
    stages_kept(setup)


@pytest.mark.parametrize("percent", LEVELS)
def test_pull_loss_is_recovered_by_nack_to_the_origin(output_dir, processes, percent):
    origin = harness.start_origin(output_dir, processes)
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2,
                               media_env=harness.edge_env(origin))
    publisher = harness.Publisher(output_dir, origin.whip_url(), seconds=300)
    processes.append(publisher)
    publisher.start()
    setup.wait_connected(setup.initial, timeout=30)

    def counters() -> tuple:
        upstream = harness.media_server_publisher(setup.media.status())
        return upstream["packetsLost"], upstream["nacksSent"], upstream.get("videoPackets", 0)

    measure_loss(int(origin.env["RTC_UDP_PORT"]), percent, counters, "origin -> edge", "sport")
    stages_kept(setup)
    pull = setup.media.status()["ingestPull"]
    assert pull["state"] == "connected" and pull["connects"] == 1, pull
