"""The production default RTC_BIND_IP=0.0.0.0 on a machine with an interface besides loopback.

    publisher ─WHIP─► media server (RTC on 0.0.0.0; lo + eth-like 10.1.1.1) ─WHIP─► stage role
                                                                             ◄─WHEP─ aiortc

The bug this guards: every other test binds RTC to 127.0.0.1 in a namespace with loopback
alone, so a wildcard socket there had one host address. On a real machine (loopback + eth0) it
has two, and the egress's client-mode ICE agent refused to start with two ("needs exactly one
local socket"): with the default configuration no stage was ever published. The test publisher
had the same fault when its URL was not a loopback one. Here the test's namespace gets a second
interface (a veth pair), the media server keeps the default bind and announces nothing, and the
publisher publishes to the non-loopback address."""

import pytest

import harness
import netns_nodes

FRAMES = 30


@pytest.fixture
def second_interface():
    netns_nodes.run("ip", "link", "add", "eth-test", "type", "veth", "peer", "name", "eth-peer")
    netns_nodes.run("ip", "addr", "add", "10.1.1.1/24", "dev", "eth-test")
    netns_nodes.run("ip", "link", "set", "eth-test", "up")
    netns_nodes.run("ip", "link", "set", "eth-peer", "up")
    yield "10.1.1.1"
    netns_nodes.run("ip", "link", "del", "eth-test")


def test_default_wildcard_bind_publishes_to_stages(output_dir, processes, second_interface):
    media = harness.make_test_media(gop_seconds=1, seconds=4)
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2,
                               media_env={"RTC_BIND_IP": "0.0.0.0", "RTC_ANNOUNCED_IP": ""})
    setup.require_whip_egress()
    publisher = harness.Publisher(output_dir, f"http://{second_interface}:{setup.media.port}/whip",
                                  media=media, seconds=60)
    processes.append(publisher)
    publisher.start()
    setup.wait_connected(setup.initial)
    urls = {s["id"]: setup.stage.whep_url(s["id"]) for s in setup.initial}
    for key, result in harness.view_all(output_dir, urls, seconds=30, until_frames=FRAMES,
                                        prefix="wildcard").items():
        assert result["connected"] and result["framesDecoded"] >= FRAMES, (key, result)
    assert "needs exactly one local socket" not in setup.media.log_text()
