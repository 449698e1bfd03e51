"""Issue 13 ("Hardening"): the attacks that used to succeed against the real processes on
loopback, in CI-short form. Each test reproduces one attack and asserts the defence holds; each
prints what it measured (latency, RSS, rates), so a run doubles as the before/after record in
docs/security.md.

Attacks come from several loopback source addresses (127.0.0.2, .3, ...), the way a botnet
would, so the global limits are exercised and not just the per-address caps. Nothing sleeps to
let things settle: every wait polls a condition until a deadline. Runs inside scripts/netns-run;
all traffic goes to 127.0.0.0/8.
"""

import re
import socket
import time

import harness
from harness import wait_until

WHEP_OFFER = (harness.SOURCE_DIR / "testdata" / "sdp" / "chromium-whep-offer.sdp").read_text()
OBS_OFFER = (harness.SOURCE_DIR / "testdata" / "sdp" / "obs-offer.sdp").read_text()


def rss_mib(process) -> float:
    for line in open(f"/proc/{process.popen.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def open_sockets(port: int, count: int, payload: bytes, per_address: int = 50,
                 first_address: int = 2) -> list:
    """`count` connections to 127.0.0.1:`port`, `per_address` from each of 127.0.0.2, .3, ...,
    each having sent `payload`. Connections the server refuses are kept too (closed ones)."""
    sockets = []
    for i in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((f"127.0.0.{first_address + i // per_address}", 0))
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(payload)
        except OSError:
            pass
        sockets.append(sock)
    return sockets


def timed_get(url: str, timeout: float = 5.0) -> tuple:
    """(status or the error, seconds) of one GET on a fresh connection."""
    started = time.monotonic()
    try:
        status = harness.http("GET", url, timeout=timeout).status
    except OSError as error:
        status = repr(error)
    return status, time.monotonic() - started


def start_media(output_dir, processes, env=None):
    closed_api = f"http://127.0.0.1:{harness.free_port()}"  # no API server: not needed here
    media = harness.MediaServer(output_dir, closed_api,
                                extra_env=harness.relay_media_env(env or {}))
    processes.append(media)
    media.start().wait_live()
    return media


def get_from(port: int, path: str, source: str = "127.0.0.250") -> str:
    """GET `path` from another loopback address than the attack's, whose per-address request
    budget the attack has used up (a monitoring system scrapes from its own address too)."""
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                            source_address=(source, 0))
    connection.request("GET", path)
    body = connection.getresponse().read().decode()
    connection.close()
    return body


def metric(text: str, name: str, labels: str) -> float:
    series = name + ("{" + labels + "}" if labels else "")
    match = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(match.group(1)) if match else -1.0


# Attack 1: 1,100 sockets that send a partial header (above the 1,024 connection cap) made
# /health/live, WHIP and the dashboard unreachable for 30 s, and the liveness probe would have
# restarted the pod mid-broadcast. The server now sheds the longest header-waiting connection
# when a new one needs a slot, and keeps reserved slots for /health*.
def test_partial_headers_cannot_starve_health_whip_or_the_dashboard(output_dir, processes):
    media = start_media(output_dir, processes)
    attack = open_sockets(media.port, 1100, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    try:
        held = wait_for_connections(media.url + "/metrics", 1000)
        live, live_seconds = timed_get(media.url + "/health/live")
        page, page_seconds = timed_get(media.url + "/")
        try:
            whip = harness.http("POST", media.whip_url(), {"Content-Type": "application/sdp"},
                                OBS_OFFER.encode(), timeout=5).status
        except OSError as error:
            whip = repr(error)
        print(f"\n1,100 partial-header sockets (server held {held}): /health/live {live} in "
              f"{live_seconds * 1000:.0f} ms, dashboard {page} in {page_seconds * 1000:.0f} ms, "
              f"WHIP without a token {whip}")
        assert live == 200 and live_seconds < 1.0, (live, live_seconds, media.log_tail())
        assert page == 200 and page_seconds < 1.0, (page, page_seconds)
        assert whip == 401, whip  # reachable, and refusing a request without a token
        evicted = metric(get_from(media.port, "/metrics"), "ivs_http_refusals_total",
                         'reason="evicted"')
        assert evicted >= 1, evicted
    finally:
        for sock in attack:
            sock.close()


def wait_for_connections(metrics_url: str, at_least: int) -> str:
    """Polls /metrics (up to 5 s) until the server holds `at_least` connections, so the probe
    goes in while the attack is in place. Returns what it saw ("?" when /metrics did not
    answer, as on a server without the defences)."""
    seen = "?"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            text = harness.http("GET", metrics_url, timeout=1).body.decode()
            value = metric(text, "ivs_http_connections", "")
            seen = f"{value:.0f}"
            if value >= at_least:
                break
        except OSError:
            pass
        time.sleep(0.05)
    return seen


def test_partial_headers_cannot_starve_the_api_server(output_dir, processes):
    api = harness.ApiServer(output_dir)
    processes.append(api)
    api.start().wait_ready()
    attack = open_sockets(api.port, 1100, b"GET /api/stages HTTP/1.1\r\nHost: x\r\n")
    try:
        status, seconds = timed_get(api.url + "/health")
        print(f"\napi-server under 1,100 partial-header sockets: /health {status} in "
              f"{seconds * 1000:.0f} ms")
        assert status == 200 and seconds < 1.0, (status, seconds, api.log_tail())
        assert api.call("GET", "/api/stages").status == 200
    finally:
        for sock in attack:
            sock.close()


# Attack 2: 300 stalled ~1 MiB POST bodies to /whip without a token raised RSS from 23 to
# 329 MB: the body was read (and its announced length reserved) before the token was checked.
# The token and Content-Length are now checked from the header: 401 at once, body never read.
def test_stalled_bodies_without_a_token_get_401_at_once_and_cost_no_memory(output_dir, processes):
    media = start_media(output_dir, processes)
    before = rss_mib(media)

    def stalled(length: int) -> bytes:
        """A POST announcing `length` bytes that sends all but the last 10% and stalls."""
        return (b"POST /whip HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                b"Content-Length: " + str(length).encode() + b"\r\n\r\n" + b"v=0\r\n" +
                b"a" * (length * 9 // 10))

    started = time.monotonic()
    # Half announce ~1 MB (above the 64 KiB offer limit: 413 or 401, whichever is checked
    # first), half just under the limit (the token decides: 401).
    attack = (open_sockets(media.port, 150, stalled(1000000)) +
              open_sockets(media.port, 150, stalled(60000), first_address=10))
    answered = {}

    def all_answered():
        for index, sock in enumerate(attack):
            if index in answered:
                continue
            try:
                sock.settimeout(0.01)
                data = sock.recv(64)
                answered[index] = data[:12]
            except socket.timeout:
                pass
            except OSError as error:
                answered[index] = repr(error).encode()
        return len(answered) == len(attack)

    try:
        unanswered = None
        try:
            wait_until(all_answered, 10, "an answer to every stalled POST",
                       context=lambda: f"{len(answered)} of {len(attack)} answered")
        except AssertionError as error:
            unanswered = error  # reported after the measurements are printed
        elapsed = time.monotonic() - started
        after = rss_mib(media)
        statuses = {}
        for value in answered.values():
            statuses[value] = statuses.get(value, 0) + 1
        print(f"\n300 stalled 1 MB POSTs without a token: answered in {elapsed:.2f} s "
              f"({statuses}, {len(attack) - len(answered)} unanswered); "
              f"RSS {before:.0f} -> {after:.0f} MiB")
        if unanswered:
            raise unanswered
        big = [answered[i] for i in range(150)]
        small = [answered[i] for i in range(150, 300)]
        # 429: an address that kept failing is throttled (attack 5's defence) - still refused
        # from the header alone.
        refused = (b"HTTP/1.1 401", b"HTTP/1.1 413", b"HTTP/1.1 429")
        assert all(v.startswith(refused) for v in big), statuses
        assert all(v.startswith((b"HTTP/1.1 401", b"HTTP/1.1 429")) for v in small), statuses
        assert any(v.startswith(b"HTTP/1.1 401") for v in small), statuses
        assert after - before < 40, (before, after)
    finally:
        for sock in attack:
            sock.close()


# Attack 3: WHEP was open when WHEP_TOKEN was unset, and 150 offers that never did ICE filled
# all 100 viewer slots. WHEP is now closed unless WHEP_TOKEN is set or WHEP_OPEN=true.
def test_whep_without_a_token_is_refused_by_default(output_dir, processes):
    media = start_media(output_dir, processes)
    statuses = {}
    for _ in range(150):
        answer = harness.http("POST", media.whep_url(), {"Content-Type": "application/sdp"},
                              WHEP_OFFER.encode())
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    print(f"\n150 WHEP offers without a token: {statuses}")
    assert statuses == {403: 150}, statuses
    body = harness.http("POST", media.whep_url(), {"Content-Type": "application/sdp"},
                        WHEP_OFFER.encode()).body.decode()
    assert "WHEP_TOKEN" in body and "WHEP_OPEN" in body, body
    assert media.status().get("viewers", 0) == 0


# Attack 4: the stage role created a stage for any unauthenticated WHEP POST; 253 of them
# exhausted its 256-stage cap. A WHEP POST now only looks a stage up.
def test_stage_role_creates_no_stage_for_whep_posts(output_dir, processes):
    stage = harness.StageServer(output_dir, f"http://127.0.0.1:{harness.free_port()}")
    processes.append(stage)
    stage.start().wait_ready()
    statuses = {}
    for i in range(253):
        answer = harness.http("POST", stage.whep_url(f"probe-{i}"),
                              {"Content-Type": "application/sdp"}, WHEP_OFFER.encode())
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    print(f"\n253 WHEP POSTs to unknown stages: {statuses}; stages now {len(stage.stages())}")
    assert stage.stages() == {}, stage.stages()
    assert set(statuses) == {409}, statuses


# Attack 5: ~10,300 wrong-token guesses per second from one client met no log line, no metric
# and no slowdown. After AUTH_FAILURE_LIMIT (10) failures in a minute the address gets 429 +
# Retry-After without its token being checked; failures are counted on /metrics and logged at
# most once per source per 10 s.
def test_wrong_token_burst_gets_429_a_metric_and_one_log_line(output_dir, processes):
    import http.client
    media = start_media(output_dir, processes)
    connection = http.client.HTTPConnection("127.0.0.1", media.port, timeout=5)
    statuses, retry_after = {}, None
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < 2.0:
        connection.request("POST", "/whip", body=b"",
                           headers={"Authorization": f"Bearer guess-{sent}",
                                    "Content-Type": "application/sdp", "Content-Length": "0"})
        response = connection.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.status == 429 and retry_after is None:
            retry_after = response.getheader("Retry-After")
        if response.will_close:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", media.port, timeout=5)
        sent += 1
    elapsed = time.monotonic() - started
    metrics = get_from(media.port, "/metrics")
    failures = metric(metrics, "ivs_auth_failures_total", 'endpoint="whip"')
    throttled = metric(metrics, "ivs_auth_throttled_total", 'endpoint="whip"')
    auth_lines = [line for line in media.log_text().splitlines()
                  if "failed authentication" in line]
    print(f"\nwrong-token burst: {sent} requests in {elapsed:.1f} s ({sent / elapsed:.0f}/s), "
          f"statuses {statuses}; tokens actually checked {statuses.get(401, 0)} "
          f"({statuses.get(401, 0) / elapsed:.1f}/s); ivs_auth_failures_total {failures:.0f}, "
          f"ivs_auth_throttled_total {throttled:.0f}; {len(auth_lines)} log line(s)")
    assert statuses.get(401, 0) <= 10, statuses
    assert statuses.get(429, 0) > 0 and retry_after and int(retry_after) >= 1, (statuses,
                                                                                retry_after)
    assert failures == statuses.get(401, 0) and failures >= 10, (failures, statuses)
    assert throttled > 0
    assert 1 <= len(auth_lines) <= 2, auth_lines
    # The throttle is per address: another one still has its tokens checked.
    other = http.client.HTTPConnection("127.0.0.1", media.port, timeout=5,
                                       source_address=("127.0.0.9", 0))
    other.request("POST", "/whip", body=b"", headers={"Authorization": "Bearer nope",
                                                      "Content-Type": "application/sdp"})
    assert other.getresponse().status == 401
