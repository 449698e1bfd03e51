#!/usr/bin/python3
"""Writes STUN messages produced by aioice (an independent ICE implementation shipped with
Debian's python3-aiortc) so tests/engine/stun_integrity_test.cpp can check that our codec parses
and authenticates them. Run with /usr/bin/python3 from this directory; output is deterministic."""
import ipaddress

from aioice import stun

TRANSACTION_ID = bytes(range(1, 13))
PASSWORD = b"aioice-password-0123456789"

request = stun.Message(
    message_method=stun.Method.BINDING,
    message_class=stun.Class.REQUEST,
    transaction_id=TRANSACTION_ID,
)
request.attributes["USERNAME"] = "srvU:cliU"
request.attributes["PRIORITY"] = 1853824767
request.attributes["ICE-CONTROLLING"] = 0x0102030405060708
request.attributes["USE-CANDIDATE"] = None
request.add_message_integrity(PASSWORD)  # Appends FINGERPRINT too.
with open("aioice-request.bin", "wb") as out:
    out.write(bytes(request))

response = stun.Message(
    message_method=stun.Method.BINDING,
    message_class=stun.Class.RESPONSE,
    transaction_id=TRANSACTION_ID,
)
response.attributes["XOR-MAPPED-ADDRESS"] = ("2001:db8::1234", 50000)
response.add_message_integrity(PASSWORD)
with open("aioice-ipv6-response.bin", "wb") as out:
    out.write(bytes(response))
