"""Issue 13 item 9 on the real `serve` process: HTTPS on the media server's own listener
(TLS_CERT_FILE, TLS_KEY_FILE), so OBS's bearer token does not travel in clear; the certificate
renewed by SIGHUP without a restart and without disturbing the broadcast; HTTP_BIND_IP.

The certificates are made here with python3-cryptography (self-signed, IP:127.0.0.1). The HTTPS
client that checks the listener is Python's ssl module (OpenSSL under CPython, not our code);
the WHIP publisher is our `media-server publish`, which trusts the certificate through
SSL_CERT_FILE as any OpenSSL client does. Runs inside scripts/netns-run; loopback only.
"""

import datetime
import http.client
import ipaddress
import os
import signal
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness
from harness import wait_until


def write_certificate(directory, name: str, common_name: str) -> tuple:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
            ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def served_common_name(port: int, trusted_cert) -> str:
    """The CN of the certificate a new connection to 127.0.0.1:port gets, verified against
    `trusted_cert` (raises ssl.SSLCertVerificationError when it is another one)."""
    context = ssl.create_default_context(cafile=str(trusted_cert))
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(item[0] for item in tls.getpeercert()["subject"])
            return subject["commonName"]


def test_obs_publishes_over_https_and_a_renewed_certificate_needs_no_restart(output_dir,
                                                                             processes):
    cert, key = write_certificate(output_dir, "listener", "media-first")
    setup = harness.RelaySetup(output_dir, processes, initial_stages=2,
                               media_env={"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key,
                                          "HTTP_BIND_IP": "127.0.0.1"})
    media = setup.media
    assert media.url.startswith("https://")
    media.wait_for_log("HTTPS on port", timeout=5)
    assert "CN=media-first" in media.log_text()

    # Plain HTTP on the TLS port gets no answer: nothing is served in clear, the token included.
    connection = http.client.HTTPConnection("127.0.0.1", media.port, timeout=3)
    with pytest.raises((http.client.HTTPException, ConnectionError, socket.timeout)):
        connection.request("GET", "/health/live")
        connection.getresponse()
    connection.close()

    publisher = setup.start_publisher(extra_env={"SSL_CERT_FILE": cert})
    setup.wait_connected(setup.initial, timeout=30)
    wait_until(lambda: harness.publisher_live(media), 20, "the publisher live over HTTPS",
               context=setup.context())
    pid = media.popen.pid

    # Renewal: the files are rewritten (as cert-manager does), then SIGHUP.
    first_cert = output_dir / "first.crt"
    first_cert.write_bytes(cert.read_bytes())
    assert served_common_name(media.port, first_cert) == "media-first"
    renewed_cert, renewed_key = write_certificate(output_dir, "renewed", "media-renewed")
    cert.write_bytes(renewed_cert.read_bytes())
    key.write_bytes(renewed_key.read_bytes())
    os.kill(pid, signal.SIGHUP)
    media.wait_for_log("SIGHUP: TLS certificate reloaded", timeout=5)
    assert served_common_name(media.port, renewed_cert) == "media-renewed"
    with pytest.raises(ssl.SSLCertVerificationError):
        served_common_name(media.port, first_cert)
    assert "changed in the configuration but applies only at start" not in media.log_text()
    # Regression: a reload that renewed only the certificate ended with "configuration read
    # again; no secret changed", which read as if the SIGHUP had done nothing.
    assert "no secret changed" not in media.log_text()

    # The broadcast went on: same process, same publisher session, every stage still fed.
    stage_packets = {s["id"]: setup.stage.stage(s["id"]).get("videoPackets", 0)
                     for s in setup.initial}
    wait_until(lambda: all(setup.stage.stage(s["id"]).get("videoPackets", 0) > stage_packets[s["id"]]
                           for s in setup.initial), 10, "video still reaching every stage",
               context=setup.context())
    assert media.popen.pid == pid and media.running()
    assert publisher.running(), publisher.log_tail()


def test_a_broken_renewal_keeps_the_certificate_being_served(output_dir, processes):
    cert, key = write_certificate(output_dir, "listener", "media-kept")
    media = harness.MediaServer(output_dir, f"http://127.0.0.1:{harness.free_port()}",
                                extra_env={"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key})
    processes.append(media)
    media.start().wait_live()
    original = output_dir / "original.crt"
    original.write_bytes(cert.read_bytes())
    cert.write_text("-----BEGIN CERTIFICATE-----\nhalf-written\n")
    os.kill(media.popen.pid, signal.SIGHUP)
    media.wait_for_log("TLS certificate not reloaded, the previous one is still served", timeout=5)
    assert served_common_name(media.port, original) == "media-kept"
    assert media.get("/health/live").status == 200


def test_unusable_tls_files_stop_the_start_with_a_message_naming_them(output_dir, processes):
    cert, _ = write_certificate(output_dir, "listener", "media")
    _, other_key = write_certificate(output_dir, "other", "other")
    media = harness.MediaServer(output_dir, f"http://127.0.0.1:{harness.free_port()}",
                                extra_env={"TLS_CERT_FILE": cert, "TLS_KEY_FILE": other_key})
    processes.append(media)
    media.start()
    assert media.popen.wait(timeout=10) != 0
    text = media.log_text()
    assert "TLS_CERT_FILE/TLS_KEY_FILE" in text and "does not match the certificate" in text, text


def test_http_bind_ip_limits_the_listener_to_one_address(output_dir, processes):
    media = harness.MediaServer(output_dir, f"http://127.0.0.1:{harness.free_port()}",
                                extra_env={"HTTP_BIND_IP": "127.0.0.2"})
    processes.append(media)
    media.start()
    wait_until(lambda: harness.http("GET", f"http://127.0.0.2:{media.port}/health/live",
                                    timeout=0.5).status == 200
               if media.running() else pytest.fail(media.log_tail()),
               10, "/health/live on 127.0.0.2")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", media.port), timeout=2).close()
