"""Machines on one network, inside the test's own network namespace (issue 16's multi-node test).

    test namespace: bridge 10.77.0.1/24, dnsmasq on 10.77.0.1:53, api-server, stage role, viewers
        ├─veth─ node "edge-a"   10.77.0.11   (a network namespace and a mount namespace of its own)
        ├─veth─ node "edge-b"   10.77.0.12
        └─ …

A node is a `sleep` started in new network and mount namespaces; the veth's far end is moved into
its network namespace and addressed there, and /etc/resolv.conf is bind-mounted (in its mount
namespace only) to name the test's DNS server. Processes run on a node through `nsenter`, which
execs them, so a harness.Process keeps the real process id: `kill -9` kills the server, not a
wrapper, and the node (its address and its DNS) outlives it, as a pod's network does not, but a
machine's does.

The DNS server is Debian's dnsmasq reading a hosts file: `set_records` rewrites it and sends
SIGHUP, as a Kubernetes headless Service's records follow its ready pods. dnsmasq answers with a
TTL of 0 and glibc keeps no cache, so every resolution sees the current records."""

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Optional

import harness

SUBNET = "10.77.0"


def run(*args: str, pid: Optional[int] = None) -> None:
    """Runs an `ip`-style command in the test's namespace, or in node `pid`'s with nsenter."""
    command = (["nsenter", "-t", str(pid), "-n"] if pid else []) + list(args)
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr.strip()}"


class Node:
    """A machine: its own network namespace on the bridge, and its own /etc/resolv.conf."""

    def __init__(self, network: "Network", name: str, host: int):
        self.name = name
        self.ip = f"{SUBNET}.{host}"
        self.output_dir = network.output_dir
        ready = network.output_dir / f"node-{name}.ready"
        ready.unlink(missing_ok=True)
        script = (f'mount --bind "$0" /etc/resolv.conf && ip link set lo up && touch "$1" && '
                  f"exec sleep infinity")
        self.sleeper = subprocess.Popen(
            ["unshare", "-n", "-m", "sh", "-c", script, str(network.resolv_conf), str(ready)],
            cwd=network.output_dir, stdin=subprocess.DEVNULL)
        harness.wait_until(ready.exists, 10, f"node {name}'s namespaces")
        pid = self.sleeper.pid
        # The host end is on the bridge; the node end is the node's eth0.
        host_end = f"vn-{name}"[:15]
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns",
            str(pid))
        run("ip", "link", "set", host_end, "master", network.bridge, "up")
        run("ip", "addr", "add", f"{self.ip}/24", "dev", "eth0", pid=pid)
        run("ip", "link", "set", "eth0", "up", pid=pid)
        run("ip", "route", "add", "default", "via", network.gateway, pid=pid)

    def enter(self, process: harness.Process) -> harness.Process:
        """Makes `process` run on this node (in its network and mount namespaces)."""
        process.args = ["nsenter", "-t", str(self.sleeper.pid), "-n", "-m",
                        f"--wd={self.output_dir}", *process.args]
        return process

    def resolve(self, name: str) -> list:
        """The IPv4 addresses `name` resolves to on this node (through its resolv.conf)."""
        result = subprocess.run(["nsenter", "-t", str(self.sleeper.pid), "-n", "-m", "getent",
                                 "ahostsv4", name], capture_output=True, text=True)
        return sorted({line.split()[0] for line in result.stdout.splitlines() if line.strip()})

    def kill(self) -> None:
        if self.sleeper.poll() is None:
            self.sleeper.kill()
            self.sleeper.wait()


class Network:
    """The bridge, the DNS server and the nodes. Append it to the test's `processes` list: its
    kill() removes the nodes, the DNS server and the bridge at teardown."""

    def __init__(self, output_dir: Path, bridge: str = "br-ivs"):
        dnsmasq = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        assert os.path.exists(dnsmasq), ("dnsmasq not found: the multi-node test's DNS server "
                                         "(Debian package dnsmasq-base; scripts/setup.sh all)")
        self.output_dir = output_dir
        self.bridge = bridge
        self.gateway = f"{SUBNET}.1"
        self.nodes: dict = {}
        # A fixed address: a bridge otherwise takes the lowest of its ports', so it would change as
        # nodes join and the first nodes' ARP entries for the gateway would go stale.
        run("ip", "link", "add", bridge, "address", "02:00:0a:4d:00:01", "type", "bridge")
        run("ip", "addr", "add", f"{self.gateway}/24", "dev", bridge)
        run("ip", "link", "set", bridge, "up")
        self.resolv_conf = output_dir / "resolv.conf"
        self.resolv_conf.write_text(f"nameserver {self.gateway}\noptions timeout:1 attempts:2\n")
        self.hosts_file = output_dir / "dns-records"
        self.records: dict = {}
        self._write_records()
        self.dns_log = output_dir / "dnsmasq.log"
        self.dns = subprocess.Popen(
            [dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root",
             f"--listen-address={self.gateway}", "--bind-interfaces", "--local-ttl=0",
             f"--addn-hosts={self.hosts_file}", f"--pid-file={output_dir / 'dnsmasq.pid'}",
             "--log-facility=-", "--log-queries"],
            stdout=open(self.dns_log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def node(self, name: str, host: int) -> Node:
        node = Node(self, name, host)
        self.nodes[name] = node
        return node

    def _write_records(self) -> None:
        self.hosts_file.write_text("".join(f"{ip} {name}\n" for name, ips in self.records.items()
                                           for ip in ips))

    def set_records(self, name: str, ips: list, check_from: Optional[Node] = None) -> None:
        """Points `name` at `ips` (A records) and waits until `check_from` resolves it so."""
        self.records[name] = list(ips)
        self._write_records()
        self.dns.send_signal(signal.SIGHUP)  # dnsmasq re-reads --addn-hosts files on SIGHUP
        if check_from is not None:
            harness.wait_until(lambda: check_from.resolve(name) == sorted(ips), 10,
                               f"{name} to resolve to {sorted(ips)} on {check_from.name}",
                               context=self.log_tail)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.dns_log.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            text = []
        return f"--- last lines of {self.dns_log} ---\n" + "\n".join(text)

    def kill(self) -> None:
        for node in self.nodes.values():
            node.kill()
        if self.dns.poll() is None:
            self.dns.kill()
            self.dns.wait()
        # The veths went with the nodes' namespaces; the bridge is the test namespace's.
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
