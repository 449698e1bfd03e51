"""Fake AWS endpoints for the credentials chain's process test, on loopback, each on its own
thread (http.server), counting what they were asked:

  FakeSts   AssumeRoleWithWebIdentity (form POST): checks Action, Version, RoleArn and that
            WebIdentityToken is the expected token; answers STS's XML with fresh keys (a new
            AccessKeyId per call, "ASIASTS<n>") that expire `lifetime` seconds from now, or an
            AccessDenied <ErrorResponse> when `deny` is set.
  FakeImds  IMDSv2: PUT /latest/api/token (requires X-aws-ec2-metadata-token-ttl-seconds) gives
            a token; the GETs of /latest/meta-data/iam/security-credentials/[role] require it
            (401 otherwise, as IMDSv2 does) and hand out keys "ASIAIMDS<n>".
"""

import datetime
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def iso8601(seconds_from_now: int) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=seconds_from_now)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Server:
    def __init__(self, handler_class):
        self.counts = {}
        self.problems = []
        owner = self

        class Handler(handler_class):
            server_owner = owner

            def log_message(self, *args):  # keep pytest output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _StsHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        owner = self.server_owner
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        owner.count("AssumeRoleWithWebIdentity")
        expected = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                    "RoleArn": owner.role_arn, "WebIdentityToken": owner.token}
        for key, value in expected.items():
            if form.get(key) != value:
                owner.problems.append(f"{key}={form.get(key)!r}, expected {value!r}")
        if owner.deny or owner.problems:
            self._answer(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                              "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
                              "</Message></Error></ErrorResponse>")
            return
        n = owner.counts["AssumeRoleWithWebIdentity"]
        self._answer(200, "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                          "<Credentials>"
                          f"<AccessKeyId>ASIASTS{n}</AccessKeyId>"
                          "<SecretAccessKey>stsSecret</SecretAccessKey>"
                          "<SessionToken>sts&amp;token</SessionToken>"
                          f"<Expiration>{iso8601(owner.lifetime)}</Expiration>"
                          "</Credentials></AssumeRoleWithWebIdentityResult>"
                          "</AssumeRoleWithWebIdentityResponse>")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeSts(_Server):
    def __init__(self, role_arn: str, token: str, lifetime: int = 3600, deny: bool = False):
        self.role_arn = role_arn
        self.token = token
        self.lifetime = lifetime
        self.deny = deny
        super().__init__(_StsHandler)


class _ImdsHandler(BaseHTTPRequestHandler):
    PREFIX = "/latest/meta-data/iam/security-credentials/"

    def do_PUT(self):  # noqa: N802
        owner = self.server_owner
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            owner.count("bad PUT")
            self._answer(400, "")
            return
        owner.count("token")
        self._answer(200, owner.session_token)

    def do_GET(self):  # noqa: N802
        owner = self.server_owner
        if self.headers.get("X-aws-ec2-metadata-token") != owner.session_token:
            owner.count("unauthorized GET")
            self._answer(401, "")
            return
        if self.path == self.PREFIX:
            owner.count("role list")
            self._answer(200, owner.role + "\n")
        elif self.path == self.PREFIX + owner.role:
            owner.count("credentials")
            n = owner.counts["credentials"]
            self._answer(200, '{"Code":"Success","Type":"AWS-HMAC",'
                              f'"AccessKeyId":"ASIAIMDS{n}","SecretAccessKey":"imdsSecret",'
                              f'"Token":"imdsToken","Expiration":"{iso8601(owner.lifetime)}"}}')
        else:
            self._answer(404, "")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeImds(_Server):
    def __init__(self, role: str = "media-server-role", lifetime: int = 900):
        self.role = role
        self.lifetime = lifetime
        self.session_token = "imds-session-token-1"
        super().__init__(_ImdsHandler)
