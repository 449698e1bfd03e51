#!/usr/bin/python3
"""Interop peer for tests/engine/ice_agent_aioice_test.cpp: aioice as a full, controlled agent
(what IVS would be if it runs full ICE) against our controlling IceAgent on 127.0.0.1:<port>.
Prints "peer <port> <ufrag> <pwd>" once gathered, "connected" once our agent has nominated a
pair, then sends one RTP-looking datagram over it and exits 0."""
import asyncio
import sys

import aioice
from aioice import ice

ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


async def main(port: int, ufrag: str, pwd: str) -> None:
    connection = aioice.Connection(ice_controlling=False, components=1, use_ipv6=False)
    await connection.gather_candidates()
    candidate = connection.local_candidates[0]
    print("peer", candidate.port, connection.local_username, connection.local_password,
          flush=True)
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
