"""Our SigV4 signer (src/app/aws/sigv4.cpp, through build/tools/sigv4_sign) against the signer
in Debian's python3-botocore, a stack we did not write: a few hundred random requests (methods,
paths with odd characters and dot segments, query strings, repeated and oddly spaced headers,
binary bodies, session tokens, times, regions, services) must get byte-equal Authorization
headers, and byte-equal canonical requests and strings to sign, so a mismatch says where.

botocore's SigV4Auth.add_auth reads the clock; the test runs its steps in the same order with
the time given (timestamp, _modify_request_before_signing, canonical_request, string_to_sign,
signature, _inject_signature_to_request), which is add_auth without the clock read."""

import base64
import json
import random
import subprocess

import pytest

import harness

botocore_auth = pytest.importorskip("botocore.auth")
from botocore.awsrequest import AWSRequest, HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

REQUESTS = 400
SEED = 14

# Characters a path segment may hold on the wire here: everything printable except the URL's
# own delimiters ('?' and '#' end the path for botocore's urlsplit), plus UTF-8.
PATH_CHARS = "abcXYZ019-._~ !$&'()*+,;=:@%[]" + "é€ሴ"
QUERY_CHARS = "abcXYZ019-._~ !$&'()*+,;=:@/?%#[]\"<>\\^`{|}" + "é€ሴ"
HEADER_VALUE_CHARS = "abcXYZ019-._~!$&'()*+,;=:@/?%#\"<>\\^`{|} \t"
HEADER_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
# Names botocore never signs (its SIGNED_HEADERS_BLACKLIST) or sets itself: the signer's caller
# decides not to pass them, as our AWS client does.
RESERVED_HEADERS = {"expect", "user-agent", "x-amzn-trace-id", "authorization", "x-amz-date",
                    "date", "x-amz-security-token", "x-amz-content-sha256", "host"}


def random_text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def random_path(rng: random.Random) -> str:
    segments = []
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        if kind < 0.1:
            segments.append(rng.choice([".", "..", ""]))
        else:
            segments.append(random_text(rng, PATH_CHARS, 1, 8))
    path = "/" + "/".join(segments)
    if rng.random() < 0.2:
        path += "/"
    return path


def random_headers(rng: random.Random) -> list:
    headers = []
    for _ in range(rng.randint(0, 6)):
        name = random_text(rng, HEADER_NAME_CHARS, 1, 12)
        if name.lower() in RESERVED_HEADERS:
            continue
        value = random_text(rng, HEADER_VALUE_CHARS, 0, 20)
        headers.append([name, value])
        if rng.random() < 0.2:  # the same name again, in another case
            headers.append([name.upper(), random_text(rng, HEADER_VALUE_CHARS, 0, 10)])
    if rng.random() < 0.5:
        headers.append(["Content-Type", rng.choice(["application/json",
                                                    "application/x-amz-json-1.1",
                                                    "application/x-www-form-urlencoded; charset=utf-8"])])
    return headers


def random_request(rng: random.Random) -> dict:
    host = rng.choice(["ivsrealtime.us-east-1.amazonaws.com", "sts.amazonaws.com",
                       "example.com:8443", "127.0.0.1:4566"])
    token = ""
    if rng.random() < 0.4:
        token = random_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                            16, 300)
    body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 0, 1, 17, 200, 4000])))
    return {
        "method": rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        "host": host,
        "path": random_path(rng),
        "query": [[random_text(rng, QUERY_CHARS, 0, 8), random_text(rng, QUERY_CHARS, 0, 12)]
                  for _ in range(rng.choice([0, 0, 1, 2, 5]))],
        "headers": random_headers(rng),
        "body_b64": base64.b64encode(body).decode(),
        "access_key_id": "AKIA" + random_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16),
        "secret_access_key": random_text(
            rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40, 40),
        "session_token": token,
        "region": rng.choice(["us-east-1", "eu-west-1", "ap-northeast-1", "us-gov-west-1"]),
        "service": rng.choice(["ivs", "sts", "execute-api", "service"]),
        "time": rng.randint(946684800, 2114380800),  # 2000 .. 2037
    }


def botocore_sign(case: dict) -> dict:
    scheme = "http" if case["host"].startswith("127.") else "https"
    request = AWSRequest(method=case["method"], url=f"{scheme}://{case['host']}{case['path']}",
                         data=base64.b64decode(case["body_b64"]))
    request.params = [tuple(pair) for pair in case["query"]]
    request.headers = HTTPHeaders()
    for name, value in case["headers"]:
        request.headers[name] = value  # repeated names are kept, in order
    credentials = Credentials(case["access_key_id"], case["secret_access_key"],
                              case["session_token"] or None)
    auth = botocore_auth.SigV4Auth(credentials, case["service"], case["region"])
    request.context["timestamp"] = harness_time(case["time"])
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    auth._inject_signature_to_request(request, auth.signature(string_to_sign, request))
    return {"authorization": request.headers["Authorization"], "canonical_request": canonical,
            "string_to_sign": string_to_sign}


def harness_time(unix_seconds: int) -> str:
    import datetime
    moment = datetime.datetime.fromtimestamp(unix_seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def test_authorization_headers_match_botocore_byte_for_byte():
    tool = harness.BUILD_DIR / "tools" / "sigv4_sign"
    assert tool.exists(), f"{tool} not built (cmake --build build --target sigv4_sign)"
    rng = random.Random(SEED)
    cases = [random_request(rng) for _ in range(REQUESTS)]
    lines = "".join(json.dumps(case) + "\n" for case in cases)
    result = subprocess.run([str(tool)], input=lines, capture_output=True, text=True, timeout=60,
                            check=True)
    ours = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(ours) == len(cases)
    mismatches = []
    for case, mine in zip(cases, ours):
        theirs = botocore_sign(case)
        for field in ("canonical_request", "string_to_sign", "authorization"):
            if mine[field] != theirs[field]:
                mismatches.append((field, case, mine[field], theirs[field]))
                break
    assert not mismatches, "first mismatch: %r" % (mismatches[0],)
    # The corpus must really cover the odd cases it claims to.
    assert sum(1 for case in cases if case["session_token"]) > 100
    assert sum(1 for case in cases if "/../" in case["path"] or "//" in case["path"]) > 10
    assert sum(1 for case in cases if any(ord(c) > 127 for c in case["path"])) > 20
    assert sum(1 for case in cases if case["query"]) > 100
