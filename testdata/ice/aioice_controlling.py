#!/usr/bin/python3
"""Interop peer for tests/engine/ice_lite_aioice_test.cpp: aioice (the ICE agent inside
aiortc, an independent implementation) as a full, controlling agent against our ICE-lite
responder on 127.0.0.1:<port>. It prints "connected" once a pair is nominated, sends one
RTP-looking datagram over the selected pair, and exits 0; any failure exits non-zero."""
import asyncio
import sys

import aioice
from aioice import ice

# aioice leaves out loopback addresses; the test runs on loopback only.
ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


async def main(port: int, ufrag: str, pwd: str) -> None:
    connection = aioice.Connection(ice_controlling=True, components=1, use_ipv6=False)
    await connection.gather_candidates()
    print("local", connection.local_username, flush=True)
    connection.remote_username = ufrag
    connection.remote_password = pwd
    await connection.add_remote_candidate(
        aioice.Candidate(foundation="1", component=1, transport="udp", priority=2130706431,
                         host="127.0.0.1", port=port, type="host"))
    await connection.add_remote_candidate(None)
    await asyncio.wait_for(connection.connect(), 15)
    print("connected", flush=True)
    await connection.send(b"\x80\x60\x00\x01" + bytes(8))
    await connection.close()


asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
