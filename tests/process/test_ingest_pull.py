"""An edge fed by an origin (issue 16 item 1, INGEST_PULL_URL): every process real, on loopback.

    publisher ─WHIP─► origin `serve` ─WHEP─► edge `serve` (INGEST_PULL_URL) ─WHIP─► stage role
                                                                              ◄─WHEP─ aiortc viewers

The edge reads its stages from the API server; the origin has none (its API_SERVER_URL leads
nowhere, which it survives: ingest does not depend on it). aiortc viewers on the stage role
(a stack we did not write) prove that what the edge publishes decodes. The last test grows the
tree one level: origin → mid edge (pulls, and serves pulls with its own WHEP_TOKEN) → leaf edge
→ stages.

What is checked is what users of a tree of media servers rely on: the edge pulls with the
origin's WHEP token, its stages decode, and when the broadcaster reconnects — to the same
origin, or to a new origin after the old one died without a word — every stage keeps its WHIP
session (the stage role counts no second POST) and decodes again. The times printed are from
the new publisher's start to the edge's pull being connected again."""

import time

import pytest

import harness
from harness import wait_until

GOP_SECONDS = 1
FRAMES = 30


@pytest.fixture(scope="module")
def media():
    return harness.make_test_media(gop_seconds=GOP_SECONDS, seconds=4)


def start_publisher(setup, origin, media, name):
    publisher = harness.Publisher(setup.output_dir, origin.whip_url(), media=media, seconds=300,
                                  name=name)
    setup.processes.append(publisher)
    publisher.start()
    return publisher


def pull(edge):
    return edge.status().get("ingestPull") or {}


def edge_fed_by_pull(edge):
    publisher = harness.media_server_publisher(edge.status())
    return publisher.get("live") and publisher.get("source") == "pull"


def build(output_dir, processes, media, origin_port=None):
    origin = harness.start_origin(output_dir, processes, port=origin_port)
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2,
                               media_env=harness.edge_env(origin))
    setup.require_whip_egress()
    return origin, setup


def assert_stages_decode(setup, prefix):
    urls = {s["id"]: setup.stage.whep_url(s["id"]) for s in setup.initial}
    results = harness.view_all(setup.output_dir, urls, seconds=30, until_frames=FRAMES,
                               prefix=prefix)
    for key, result in results.items():
        assert result["connected"] and result["framesDecoded"] >= FRAMES, (key, result)


def stage_keyframes(setup):
    return {s["id"]: setup.stage.stage(s["id"]).get("keyframes", 0) for s in setup.initial}


def wait_keyframes_after(setup, before, started, what):
    """Waits until every stage has counted a keyframe more than in `before`; returns the
    seconds from `started`. A stage's keyframe after the old publisher stopped can only come
    from the new one, through the edge."""
    wait_until(lambda: all(count > before[key] for key, count in stage_keyframes(setup).items()),
               30, what, interval=0.05, context=setup.context())
    return time.monotonic() - started


def restart_publisher(setup, origin, media, first) -> float:
    """Stops `first` (its WHIP DELETE ends it on the origin at once), starts publisher-2 on
    `origin`, and returns the seconds until every stage has a keyframe of it."""
    first.stop()
    wait_until(lambda: not harness.publisher_live(origin), 10, "the first publisher gone")
    before = stage_keyframes(setup)
    started = time.monotonic()
    start_publisher(setup, origin, media, "publisher-2")
    return wait_keyframes_after(setup, before, started, "a keyframe of the new publisher on "
                                "every stage")


def assert_sessions_kept(setup):
    for stage in setup.initial:
        on_stage = setup.stage.stage(stage["id"])
        assert on_stage["publishes"] == 1 and on_stage["deletes"] == 0, on_stage


def test_edge_pulls_from_origin_and_follows_a_publisher_restart(output_dir, processes, media):
    origin, setup = build(output_dir, processes, media)
    # Before any publisher, the origin refuses the pull (409, Retry-After: 1): the edge waits.
    wait_until(lambda: pull(setup.media).get("attempts", 0) >= 1, 10, "a first pull attempt",
               context=setup.context())
    assert pull(setup.media).get("connects") == 0, pull(setup.media)

    first = start_publisher(setup, origin, media, "publisher-1")
    wait_until(lambda: edge_fed_by_pull(setup.media), 20, "the edge fed by the pull",
               context=setup.context())
    setup.wait_connected(setup.initial)
    assert_stages_decode(setup, "first")
    state = pull(setup.media)
    assert state["state"] == "connected" and state["connects"] == 1, state
    assert state["url"] == origin.whep_url(), state
    # The edge is one WHEP viewer of the origin.
    assert origin.status()["viewers"] == 1, origin.status()

    seconds = restart_publisher(setup, origin, media, first)
    print(f"\npublisher restart on the origin -> every stage has its keyframe: {seconds:.2f} s "
          f"(edge pull connects: {pull(setup.media)['connects']})")
    assert_stages_decode(setup, "second")
    assert_sessions_kept(setup)


def test_edge_follows_the_broadcaster_to_a_new_origin(output_dir, processes, media):
    origin, setup = build(output_dir, processes, media)
    start_publisher(setup, origin, media, "publisher-1")
    wait_until(lambda: edge_fed_by_pull(setup.media), 20, "the edge fed by the pull",
               context=setup.context())
    setup.wait_connected(setup.initial)

    # The origin dies without a close_notify; a new one takes its address (a Service's), and
    # the broadcaster reconnects to it.
    port = origin.port
    killed = time.monotonic()
    origin.kill()
    wait_until(lambda: pull(setup.media).get("state") != "connected", 10,
               "the edge noticing its origin is gone", interval=0.05, context=setup.context())
    print(f"\norigin killed -> edge ends its pull: {time.monotonic() - killed:.2f} s")
    before = stage_keyframes(setup)
    replacement = harness.start_origin(output_dir, processes, port=port, name="origin-2")
    started = time.monotonic()
    start_publisher(setup, replacement, media, "publisher-2")
    seconds = wait_keyframes_after(setup, before, started, "a keyframe through the new origin "
                                   "on every stage")
    print(f"\norigin killed; new origin's publisher started -> every stage has its keyframe: "
          f"{seconds:.2f} s (pull attempts {pull(setup.media)['attempts']}, last error: "
          f"{pull(setup.media).get('lastError')})")
    assert replacement.status()["viewers"] == 1
    assert_stages_decode(setup, "after-failover")
    assert_sessions_kept(setup)


def test_an_edge_of_an_edge_feeds_its_stages(output_dir, processes, media):
    """A tree two levels deep (origin → mid edge → leaf edge → stages): the mid edge pulls from
    the origin and serves the leaf's pull with its own WHEP_TOKEN, as an origin does; a
    publisher restart at the root reaches the leaf's stages with their sessions kept."""
    origin = harness.start_origin(output_dir, processes)
    mid = harness.start_origin(output_dir, processes, name="mid-edge", extra_env={
        "INGEST_PULL_URL": origin.whep_url(), "INGEST_PULL_TOKEN": harness.PULL_TOKEN,
        "WHIP_INGEST_TOKEN": ""})
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2,
                               media_env=harness.edge_env(mid))
    setup.require_whip_egress()
    first = start_publisher(setup, origin, media, "publisher-1")
    wait_until(lambda: edge_fed_by_pull(mid) and edge_fed_by_pull(setup.media), 20,
               "the mid and leaf edges fed by their pulls", context=setup.context())
    setup.wait_connected(setup.initial)
    assert_stages_decode(setup, "leaf")
    assert origin.status()["viewers"] == 1 and mid.status()["viewers"] == 1

    seconds = restart_publisher(setup, origin, media, first)
    print(f"\npublisher restart at the root of a two-level tree -> every leaf stage has its "
          f"keyframe: {seconds:.2f} s")
    assert_stages_decode(setup, "leaf-second")
    assert_sessions_kept(setup)
