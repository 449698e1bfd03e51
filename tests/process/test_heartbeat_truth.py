"""The heartbeat tells the API server the truth about the publisher (issue 11, part 1).

The bug: `POST /api/media/heartbeat` always carried `"publisherActive": false`, even while a
publisher was live and every stage decoded (a hard-coded result in ControlPlane). The seed's API
server reads that field to know the broadcast is on. Now the value is the relay channel's, and a
heartbeat goes out at once when the publisher goes live or ends.

HEARTBEAT_INTERVAL is 10 minutes here, so only the immediate heartbeat can make the reference
API server's `GET /api/media/servers` change within the test's deadlines: the test fails if the
value is constant, and also if it only travels with the periodic heartbeat."""

import harness
from harness import wait_until

INTERVAL_MS = 600000


def publisher_active(setup):
    record = setup.api.server(setup.media.server_id)
    return record["publisherActive"] if record else None


def test_publisher_active_follows_the_publisher_at_once(output_dir, processes):
    media = harness.make_test_media(gop_seconds=1, seconds=4)
    setup = harness.RelaySetup(output_dir, processes, initial_stages=1,
                               media_env={"HEARTBEAT_INTERVAL": INTERVAL_MS})
    wait_until(lambda: setup.api.server(setup.media.server_id), 10, "registration",
               context=setup.context())
    assert publisher_active(setup) is False

    setup.start_publisher(media)
    wait_until(lambda: harness.publisher_live(setup.media), 20, "the publisher live",
               context=setup.context())
    wait_until(lambda: publisher_active(setup) is True, 5,
               "publisherActive true on the API server", context=setup.context())
    record = setup.api.server(setup.media.server_id)
    print("live:", record)

    # The publisher's WHIP DELETE (the test publisher sends it when stopped).
    code, _ = setup.publisher.stop(timeout=10)
    assert code == 0, setup.publisher.log_tail()
    wait_until(lambda: publisher_active(setup) is False, 5,
               "publisherActive false after the publisher's DELETE", context=setup.context())

    # Live again, then SIGTERM: the final heartbeat says the broadcast is off.
    setup.start_publisher(media, name="publisher-2")
    wait_until(lambda: publisher_active(setup) is True, 20,
               "publisherActive true for the second publisher", context=setup.context())
    before = setup.api.server(setup.media.server_id)["heartbeats"]
    code, _ = setup.media.stop(timeout=10)
    assert code == 0, setup.media.log_tail()
    record = setup.api.server(setup.media.server_id)
    assert record["publisherActive"] is False, record
    assert record["connectedStages"] == 0, record
    # One heartbeat for the shutdown: the publisher's end rides on the final one.
    assert record["heartbeats"] == before + 1, record
