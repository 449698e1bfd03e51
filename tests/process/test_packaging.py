"""Packaging and documentation checks that run without Docker or a cluster (neither is available
in CI here): the Dockerfile's required instructions, the Kubernetes manifests' fields and
cross-references, the container entrypoint's behaviour, the systemd unit, .env.example, and the
README and docs against the configuration tables in the source, so none of them can drift from
the code unnoticed. `docker build` itself is never run here.

Every check reads the repository (IVS_SOURCE_DIR); the few that need the built binary
(IVS_BUILD_DIR/media-server) or a tool (shellcheck, systemd-analyze, apt-cache) skip with the
reason when it is missing.
"""

import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

SOURCE = Path(os.environ.get("IVS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("IVS_BUILD_DIR", SOURCE / "build"))
K8S = SOURCE / "deploy" / "kubernetes"
UNIT = SOURCE / "deploy" / "systemd" / "ivs-media-server.service"
ENTRYPOINT = SOURCE / "docker" / "entrypoint.sh"

# Variables only the container entrypoint reads (docker/entrypoint.sh).
ENTRYPOINT_VARIABLES = {"ANNOUNCED_IP_SOURCE"}
# The stage role's variables as relay-contracts.md names them; any other STAGE_* string in the
# stage role's source is picked up below too.
STAGE_CONTRACT_VARIABLES = {
    "STAGE_PORT", "STAGE_RTC_UDP_PORT", "STAGE_BIND_IP", "STAGE_ANNOUNCED_IP",
    "STAGE_API_SERVER_URL", "STAGE_PUBLIC_KEY_FILE", "STAGE_FAULTS",
}


# ---------------------------------------------------------------------------------------------
# The configuration tables, read from the source (the single definition of every variable).

ENTRY = re.compile(
    r'\{\s*"([A-Z][A-Z0-9_]*)",\s*"((?:[^"\\]|\\.)*)",((?:\s*"(?:[^"\\]|\\.)*")+),\s*(true|false)',
    re.S)


def read_table(path: Path) -> dict:
    """name -> (default, secret) of a `std::array<ConfigVariable, N>` table; N is checked so a
    formatting change the pattern misses fails here instead of passing silently."""
    text = path.read_text()
    declared = re.search(r"std::array<ConfigVariable,\s*(\d+)>", text)
    assert declared, f"{path}: no std::array<ConfigVariable, N> table"
    entries = {m.group(1): (m.group(2), m.group(4) == "true") for m in ENTRY.finditer(text)}
    assert len(entries) == int(declared.group(1)), (
        f"{path}: parsed {len(entries)} entries, the table declares {declared.group(1)}")
    return entries


@pytest.fixture(scope="module")
def media_table():
    return read_table(SOURCE / "src" / "app" / "roles" / "config_table.cpp")


@pytest.fixture(scope="module")
def api_table():
    return read_table(SOURCE / "src" / "app" / "api_server" / "api_server_config.cpp")


def stage_variables() -> set:
    """STAGE_* names of the contract plus any STAGE_* literal in the stage role's source."""
    found = set(STAGE_CONTRACT_VARIABLES)
    for path in (SOURCE / "src" / "app").rglob("*.[ch]pp"):
        if "stage" in path.name and path.name != "stage_manager.cpp":
            found |= set(re.findall(r'"(STAGE_[A-Z0-9_]+)"', path.read_text()))
    return found - {"STAGE_SYNC_INTERVAL", "STAGE_REPUBLISH_INTERVAL", "STAGE_WHIP_URL_BASE"}


def table_rows(markdown: str) -> dict:
    """`NAME` -> the whole row, for markdown table rows whose first cell is `NAME`."""
    rows = {}
    for line in markdown.splitlines():
        m = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`", line)
        if m:
            rows.setdefault(m.group(1), line)
    return rows


def assert_documented_with_defaults(markdown: str, table: dict, where: str):
    rows = table_rows(markdown)
    missing = sorted(set(table) - set(rows))
    assert not missing, f"{where} has no table row for {missing}"
    wrong = []
    for name, (default, _secret) in table.items():
        row = rows[name]
        if default and f"`{default}`" not in row:
            wrong.append(f"{name} (default `{default}`): {row}")
    assert not wrong, f"{where} shows another default than the source for:\n" + "\n".join(wrong)


# ---------------------------------------------------------------------------------------------
# Dockerfile

def dockerfile_instructions():
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for raw in (SOURCE / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.partition(" ")
        out.append((keyword.upper(), rest.strip()))
        pending = ""
    return out


def dockerfile_stages():
    stages = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "FROM":
            stages.append({"from": rest, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, rest))
    return stages


def apt_packages(run_argument: str) -> list:
    packages = []
    for command in re.split(r"&&|\|\||;", run_argument):
        words = command.split()
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            packages += [w for w in after if not w.startswith("-") and re.match(r"^[a-z0-9][a-z0-9.+-]+$", w)]
    return packages


def setup_packages(group: str) -> set:
    text = (SOURCE / "scripts" / "setup.sh").read_text()
    m = re.search(group + r"=\(([^)]*)\)", text)
    assert m, f"scripts/setup.sh has no {group}=(...)"
    return set(m.group(1).split())


def test_dockerfile_is_multi_stage_on_debian_12():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    for stage in stages:
        image = stage["from"].split()[0]
        assert re.match(r"^debian:12(-slim)?(@sha256:[0-9a-f]{64})?$", image), (
            f"FROM {stage['from']}: every stage must be Debian 12")
    assert re.search(r"\bAS build\b", stages[0]["from"], re.I)
    build_runs = " ".join(rest for kw, rest in stages[0]["instructions"] if kw == "RUN")
    assert "cmake" in build_runs and "-DCMAKE_BUILD_TYPE=Release" in build_runs
    assert "--target media-server" in build_runs


def test_dockerfile_build_packages_match_setup_script():
    build_runs = [rest for kw, rest in dockerfile_stages()[0]["instructions"] if kw == "RUN"]
    packages = set(p for run in build_runs for p in apt_packages(run))
    assert packages, "the build stage installs no packages"
    extra = packages - setup_packages("BUILD_PACKAGES")
    assert not extra, f"the build stage installs packages scripts/setup.sh does not: {sorted(extra)}"


def test_dockerfile_runtime_stage(media_table):
    runtime = dict()
    for kw, rest in dockerfile_stages()[-1]["instructions"]:
        runtime.setdefault(kw, []).append(rest)
    users = runtime.get("USER", [])
    assert users, "the runtime stage must set USER"
    assert users[-1].split(":")[0] not in ("root", "0"), "USER must not be root"
    health = " ".join(runtime.get("HEALTHCHECK", []))
    assert "/health/live" in health and "CMD" in health
    exposed = " ".join(runtime.get("EXPOSE", [])).split()
    port, udp = media_table["PORT"][0], media_table["RTC_UDP_PORT"][0]
    assert f"{port}/tcp" in exposed, f"EXPOSE {port}/tcp (PORT) missing: {exposed}"
    assert f"{udp}/udp" in exposed, f"EXPOSE {udp}/udp (RTC_UDP_PORT) missing: {exposed}"
    entrypoint = runtime.get("ENTRYPOINT", [""])[-1]
    target = re.findall(r'"([^"]+)"', entrypoint)
    assert target, "ENTRYPOINT must be in exec form"
    copies = [c.split() for c in runtime.get("COPY", [])]
    assert any(c[-2:] == ["docker/entrypoint.sh", target[0]] for c in copies), (
        f"ENTRYPOINT {target[0]} is not the COPY of docker/entrypoint.sh")
    assert any(c[-1] == "/usr/local/bin/media-server" and "--from=build" in c for c in copies)


def test_dockerfile_copies_exist_and_are_not_ignored():
    ignored = [line.strip().rstrip("/") for line in (SOURCE / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#") and not line.startswith("!")]
    for kw, rest in dockerfile_instructions():
        if kw != "COPY" or "--from=" in rest:
            continue
        for source in rest.split()[:-1]:
            assert (SOURCE / source).exists(), f"COPY {source}: not in the repository"
            top = source.rstrip("/").split("/")[0]
            assert top not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_dockerfile_build_context_configures(tmp_path):
    """The build stage sees only what it COPYs: a CMake configure of exactly those paths (as the
    Dockerfile runs it) fails here when the build starts to need another directory."""
    if not shutil.which("cmake"):
        pytest.skip("cmake not installed")
    context = tmp_path / "context"
    context.mkdir()
    for kw, rest in dockerfile_stages()[0]["instructions"]:
        if kw == "COPY" and "--from=" not in rest:
            for source in rest.split()[:-1]:
                path = SOURCE / source
                if path.is_dir():
                    shutil.copytree(path, context / source.rstrip("/"))
                else:
                    shutil.copy(path, context / source)
    result = subprocess.run(
        ["cmake", "-S", str(context), "-B", str(tmp_path / "build"), "-DCMAKE_BUILD_TYPE=Release",
         "-DIVS_BUILD_TESTS=OFF", "-DIVS_BUILD_BENCH=OFF"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def test_dockerfile_runtime_packages_cover_the_binary():
    """Every shared library the built binary needs comes from a runtime-stage package (or the
    base image's essentials), checked with ldd + dpkg -S on this Debian 12 machine."""
    binary = BUILD / "media-server"
    if not binary.exists() or not shutil.which("ldd") or not shutil.which("dpkg"):
        pytest.skip(f"needs {binary}, ldd and dpkg")
    runtime_runs = [rest for kw, rest in dockerfile_stages()[-1]["instructions"] if kw == "RUN"]
    packages = set(p for run in runtime_runs for p in apt_packages(run))
    base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
    libraries = re.findall(r"=> (/\S+)", subprocess.run(
        ["ldd", str(binary)], capture_output=True, text=True, check=True).stdout)
    # One dpkg -S for all (it reads the whole package database each time): "pkg:arch: /path".
    paths = sorted({os.path.realpath(library) for library in libraries} | set(libraries))
    owners = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True, timeout=300).stdout
    owner_of = {}
    for line in owners.splitlines():
        package, _, path = line.partition(": ")
        owner_of[path.strip()] = package.split(":")[0]
    missing = []
    for library in libraries:
        package = owner_of.get(os.path.realpath(library)) or owner_of.get(library, "?")
        if package not in packages | base:
            missing.append(f"{library} ({package})")
    assert not missing, f"the runtime stage lacks the packages of: {missing}"


def test_dockerfile_packages_exist_in_debian():
    if not shutil.which("apt-cache"):
        pytest.skip("apt-cache not installed")
    if "libc6:" not in subprocess.run(["apt-cache", "policy", "libc6"], capture_output=True,
                                      text=True).stdout:
        pytest.skip("apt lists are empty (run apt-get update)")
    runs = [rest for kw, rest in dockerfile_instructions() if kw == "RUN"]
    wanted = sorted(set(p for run in runs for p in apt_packages(run)))
    # One `apt-cache policy` for all: it prints "<name>:" for each package it knows.
    policy = subprocess.run(["apt-cache", "policy", *wanted], capture_output=True, text=True).stdout
    known = {line[:-1] for line in policy.splitlines() if line.endswith(":") and not line.startswith(" ")}
    unknown = [p for p in wanted if p not in known]
    assert not unknown, f"not Debian 12 packages: {unknown}"


# ---------------------------------------------------------------------------------------------
# Shell scripts and the entrypoint

def shell_scripts():
    scripts = [ENTRYPOINT]
    for path in sorted((SOURCE / "scripts").iterdir()):
        if path.is_file():
            first = path.read_text(errors="replace").split("\n", 1)[0]
            if path.suffix == ".sh" or re.match(r"#!.*\b(ba)?sh\b", first):
                scripts.append(path)
    return scripts


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_shellcheck(script):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck not installed (scripts/setup.sh installs it)")
    result = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True,
                            cwd=script.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def fake_media_server(tmp_path):
    """A `media-server` on PATH that records its arguments and RTC_ANNOUNCED_IP."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record"
    fake = bin_dir / "media-server"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "args=$*" "ip=${{RTC_ANNOUNCED_IP:-}}" > {record}\n')
    fake.chmod(0o755)

    def run(*args, **env):
        environment = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
        environment.update(env)
        result = subprocess.run(["/bin/sh", str(ENTRYPOINT), *args], env=environment,
                                capture_output=True, text=True, timeout=30)
        recorded = record.read_text().splitlines() if record.exists() else []
        if record.exists():
            record.unlink()
        return result, dict(line.split("=", 1) for line in recorded)
    return run


@pytest.mark.parametrize("args,expected", [
    ((), "serve"),
    (("serve",), "serve"),
    (("api-server",), "api-server"),
    (("publish", "--url", "http://x/whip"), "publish --url http://x/whip"),
    (("--print-config",), "--print-config"),
])
def test_entrypoint_runs_the_role(fake_media_server, args, expected):
    result, recorded = fake_media_server(*args)
    assert result.returncode == 0, result.stderr
    assert recorded == {"args": expected, "ip": ""}


def test_entrypoint_runs_other_commands(fake_media_server):
    result, recorded = fake_media_server("echo", "hello")
    assert result.returncode == 0 and result.stdout == "hello\n" and recorded == {}


class FakeMetadata(http.server.BaseHTTPRequestHandler):
    """IMDSv2: PUT /latest/api/token, then GET with the token header."""
    public_ip = "203.0.113.7"
    calls = []

    def do_PUT(self):
        FakeMetadata.calls.append("PUT " + self.path)
        ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self._answer(200 if ok else 400, "token-123")

    def do_GET(self):
        FakeMetadata.calls.append("GET " + self.path)
        ok = (self.path == "/latest/meta-data/public-ipv4"
              and self.headers.get("X-aws-ec2-metadata-token") == "token-123" and self.public_ip)
        self._answer(200 if ok else 404, self.public_ip if ok else "not found")

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def metadata_server():
    if not shutil.which("curl"):
        pytest.skip("curl not installed")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeMetadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeMetadata.calls = []
    FakeMetadata.public_ip = "203.0.113.7"
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_entrypoint_discovers_the_ec2_public_ip(fake_media_server, metadata_server):
    result, recorded = fake_media_server(ANNOUNCED_IP_SOURCE="ec2", IVS_METADATA_URL=metadata_server)
    assert result.returncode == 0, result.stderr
    assert recorded == {"args": "serve", "ip": "203.0.113.7"}
    assert FakeMetadata.calls == ["PUT /latest/api/token", "GET /latest/meta-data/public-ipv4"]


def test_entrypoint_keeps_an_explicit_announced_ip(fake_media_server, metadata_server):
    result, recorded = fake_media_server(ANNOUNCED_IP_SOURCE="ec2", IVS_METADATA_URL=metadata_server,
                                         RTC_ANNOUNCED_IP="198.51.100.1")
    assert result.returncode == 0, result.stderr
    assert recorded["ip"] == "198.51.100.1" and FakeMetadata.calls == []


def test_entrypoint_stops_when_the_metadata_has_no_public_ip(fake_media_server, metadata_server):
    FakeMetadata.public_ip = ""
    result, recorded = fake_media_server(ANNOUNCED_IP_SOURCE="ec2", IVS_METADATA_URL=metadata_server)
    assert result.returncode == 1 and recorded == {}
    assert "RTC_ANNOUNCED_IP" in result.stderr


def test_entrypoint_rejects_an_unknown_ip_source(fake_media_server):
    result, recorded = fake_media_server(ANNOUNCED_IP_SOURCE="gcp")
    assert result.returncode == 2 and recorded == {} and "ANNOUNCED_IP_SOURCE" in result.stderr


# ---------------------------------------------------------------------------------------------
# Kubernetes manifests

@pytest.fixture(scope="module")
def manifests():
    documents = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is None:
                continue
            for field in ("apiVersion", "kind"):
                assert field in document, f"{path.name}: a document without {field}"
            if document["kind"] != "Kustomization":
                assert document.get("metadata", {}).get("name"), f"{path.name}: no metadata.name"
                assert "namespace" not in document["metadata"], f"{path.name}: must be namespace-free"
            documents.setdefault(document["kind"], []).append((path.name, document))
    return documents


def one(manifests, kind, file_name=None):
    found = [d for name, d in manifests.get(kind, []) if file_name in (None, name)]
    assert len(found) == 1, f"expected one {kind}{' in ' + file_name if file_name else ''}"
    return found[0]


def test_kustomization_lists_existing_files_but_not_the_secret_template(manifests):
    kustomization = one(manifests, "Kustomization")
    for resource in kustomization["resources"]:
        assert (K8S / resource).exists(), f"kustomization resource {resource} does not exist"
    assert "secret.example.yaml" not in kustomization["resources"]


def test_deployment_probes_ports_and_security(manifests, media_table):
    deployment = one(manifests, "Deployment")
    config = one(manifests, "ConfigMap")["data"]
    assert deployment["spec"]["replicas"] == 1, "every replica would publish to every stage"
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {p["name"]: p for p in container["ports"]}
    http_port = ports["http"]
    assert http_port["protocol"] == "TCP"
    assert str(http_port["containerPort"]) == config.get("PORT", media_table["PORT"][0])
    udp = [p for p in container["ports"] if p.get("protocol") == "UDP"]
    assert udp, "the WebRTC UDP port must be declared"
    assert str(udp[0]["containerPort"]) == config.get("RTC_UDP_PORT", media_table["RTC_UDP_PORT"][0])
    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{probe} must probe {path}"
        assert get["port"] in ("http", http_port["containerPort"]), f"{probe} probes another port"
    if pod.get("hostNetwork"):
        assert pod.get("dnsPolicy") == "ClusterFirstWithHostNet"
        for port in container["ports"]:
            assert port.get("hostPort", port["containerPort"]) == port["containerPort"]
    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    assert security.get("runAsNonRoot") is True and security.get("runAsUser", 0) != 0
    assert security.get("allowPrivilegeEscalation") is False
    assert container["resources"].get("requests") and container["resources"].get("limits")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    shutdown_ms = int(config.get("SHUTDOWN_TIMEOUT", media_table["SHUTDOWN_TIMEOUT"][0]))
    assert grace * 1000 > shutdown_ms, "terminationGracePeriodSeconds must exceed SHUTDOWN_TIMEOUT"


def test_deployment_user_matches_the_image():
    user = [rest for kw, rest in dockerfile_stages()[-1]["instructions"] if kw == "USER"][-1]
    deployment = yaml.safe_load((K8S / "deployment.yaml").read_text())
    assert str(deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]) == user.split(":")[0]


def test_deployment_references_resolve(manifests, media_table):
    deployment = one(manifests, "Deployment")
    config = one(manifests, "ConfigMap")
    secret = one(manifests, "Secret", "secret.example.yaml")
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    for required in ("API_SECRET_KEY", "MEDIA_SERVER_SECRET", "WHIP_INGEST_TOKEN"):
        assert required in secret_keys, f"the sample Secret lacks {required}"
    known = set(media_table) | ENTRYPOINT_VARIABLES
    assert not set(secret_keys) - known, f"unknown variables in the Secret: {secret_keys - known}"
    assert not set(config["data"]) - known, f"unknown variables in the ConfigMap: {set(config['data']) - known}"
    for name in config["data"]:
        assert not media_table.get(name, ("", False))[1], f"secret {name} belongs in the Secret"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    sources = container.get("envFrom", [])
    assert {"configMapRef": {"name": config["metadata"]["name"]}} in sources
    assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources
    for variable in container.get("env", []):
        assert variable["name"] in known, f"unknown variable {variable['name']}"
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret_keys


def test_services_select_the_pod_and_expose_the_ports(manifests):
    deployment = one(manifests, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port_names = {p["name"] for p in container["ports"]}
    services = manifests.get("Service", [])
    assert services
    for name, service in services:
        assert service["spec"]["selector"].items() <= labels.items(), f"{name}: selector misses the pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if port.get("protocol") == "UDP":
                # ICE candidates carry the port: what the client sends to must be what is bound.
                assert port["port"] == target == port.get("nodePort", target), name
            elif isinstance(target, str):
                assert target in port_names, f"{name}: targetPort {target} is not a container port"
    http = one(manifests, "Service", "service.yaml")
    assert any(p["port"] == 3001 and p.get("protocol", "TCP") == "TCP" for p in http["spec"]["ports"])


# ---------------------------------------------------------------------------------------------
# Kubernetes: the origin + edges overlay (docs/scale-out.md). No cluster here: these tests
# parse the manifests and check them against each other and against the configuration table.

SCALE_OUT = K8S / "scale-out"


@pytest.fixture(scope="module")
def scale_out():
    documents = {}
    for path in sorted(SCALE_OUT.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                documents.setdefault(document["kind"], []).append(document)
    return documents


def test_scale_out_kustomization_resources_exist(scale_out):
    kustomization = scale_out["Kustomization"][0]
    for resource in kustomization["resources"]:
        assert (SCALE_OUT / resource).exists(), resource
    assert "../" in kustomization["resources"], "the origin is the base deployment"
    patched = "".join(p["patch"] for p in kustomization.get("patches", []))
    assert "SHARD_PEERS" in patched, "the origin must name the edges so it holds no stage"


def test_scale_out_edges_pull_from_the_origin_and_shard_over_their_headless_service(
        scale_out, manifests, media_table):
    edges = scale_out["StatefulSet"][0]
    service = next(s for s in scale_out["Service"] if s["metadata"]["name"] ==
                   edges["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None", "SHARD_PEERS needs a headless Service"
    assert not service["spec"].get("publishNotReadyAddresses"), "only ready pods are peers"
    labels = edges["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = scale_out["PodDisruptionBudget"][0]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()

    config = scale_out["ConfigMap"][0]["data"]
    known = set(media_table) | ENTRYPOINT_VARIABLES
    assert not set(config) - known, f"unknown variables: {set(config) - known}"
    for name in config:
        assert not media_table.get(name, ("", False))[1], f"secret {name} belongs in the Secret"
    port = config["PORT"]
    assert config["SHARD_PEERS"] == f"{service['metadata']['name']}:{port}"
    origin_service = one(manifests, "Service", "service.yaml")
    assert config["INGEST_PULL_URL"] == (f"http://{origin_service['metadata']['name']}:"
                                         f"{origin_service['spec']['ports'][0]['port']}/whep")

    pod = edges["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert not set(env) - known, f"unknown variables: {set(env) - known}"
    assert env["SHARD_SELF"]["value"] == f"$(SERVER_IP):{port}"
    assert env["SERVER_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["INGEST_PULL_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "WHEP_TOKEN"
    secret = one(manifests, "Secret", "secret.example.yaml")
    assert "WHEP_TOKEN" in secret.get("stringData", {}), "the sample Secret lacks WHEP_TOKEN"
    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
        assert container[probe]["httpGet"]["path"] == path
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "/bin/sleep"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    grace = pod["terminationGracePeriodSeconds"]
    pause = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert grace * 1000 > int(config["SHUTDOWN_TIMEOUT"]) + pause * 1000
    assert not pod.get("hostNetwork"), "edges receive nothing unsolicited"


# ---------------------------------------------------------------------------------------------
# systemd

def unit_settings():
    settings, section = {}, None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        assert section and key and _, f"not a key=value line: {line}"
        settings.setdefault((section, key), []).append(value)
    return settings


def seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)\s*(ms|s|min)?", value)
    assert m, f"unsupported time span {value}"
    return int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "min": 60}[m.group(2)]


def test_systemd_unit_settings(media_table):
    s = unit_settings()
    assert s[("Service", "ExecStart")][0].split()[-1] == "serve"
    assert s[("Service", "EnvironmentFile")] == ["/etc/ivs-media-server/env"]
    assert s[("Service", "Restart")] == ["on-failure"]
    assert ("Service", "DynamicUser") in s or ("Service", "User") in s
    assert s.get(("Service", "NoNewPrivileges")) == ["yes"]
    assert s.get(("Service", "ProtectSystem")) == ["strict"]
    stop = seconds(s[("Service", "TimeoutStopSec")][0])
    assert stop * 1000 > int(media_table["SHUTDOWN_TIMEOUT"][0])
    assert ("Install", "WantedBy") in s


def test_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze not installed")
    # The binary is not installed at /usr/local/bin here; verify checks that ExecStart exists.
    binary = BUILD / "media-server"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(
        "/usr/local/bin/media-server", str(binary) if binary.exists() else "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and not complaints, "\n".join(complaints) or result.stderr


# ---------------------------------------------------------------------------------------------
# .env.example

def env_example_entries():
    """name -> (value, active) for `KEY=value` and `# KEY=value` lines."""
    entries = {}
    for number, line in enumerate((SOURCE / ".env.example").read_text().splitlines(), 1):
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if not m:
            assert not line.strip() or line.startswith("#"), f".env.example:{number}: {line!r}"
            continue
        name, value, active = m.group(2), m.group(3), m.group(1) is None
        assert name not in entries, f".env.example lists {name} twice"
        # systemd's EnvironmentFile and docker --env-file keep trailing comments and quotes.
        assert " #" not in value and not value.startswith(("'", '"')), f".env.example:{number}"
        entries[name] = (value, active)
    return entries


def test_env_example_lists_every_variable_with_its_default(media_table):
    entries = env_example_entries()
    missing = sorted(set(media_table) - set(entries))
    assert not missing, f".env.example lacks {missing}"
    unknown = sorted(set(entries) - set(media_table) - ENTRYPOINT_VARIABLES)
    assert not unknown, f".env.example has variables no table knows: {unknown}"
    for name, (value, _active) in entries.items():
        if name in media_table and not media_table[name][1]:
            assert value == media_table[name][0], f"{name}={value} in .env.example, default {media_table[name][0]}"


def test_env_example_loads(tmp_path):
    binary = BUILD / "media-server"
    if not binary.exists():
        pytest.skip(f"{binary} not built")
    shutil.copy(SOURCE / ".env.example", tmp_path / ".env")
    result = subprocess.run([str(binary), "--print-config"], cwd=tmp_path, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "API_SECRET_KEY=***" in result.stdout and "your_api_secret" not in result.stdout


# ---------------------------------------------------------------------------------------------
# README and docs

def markdown_files():
    return [SOURCE / "README.md", *sorted((SOURCE / "docs").glob("*.md")),
            *sorted((SOURCE / "deploy").rglob("*.md"))]


@pytest.mark.parametrize("document", markdown_files(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_relative_links_resolve(document):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (document.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{document.name} links to missing files: {broken}"


def test_readme_starts_with_the_two_commands():
    text = (SOURCE / "README.md").read_text()
    first_block = re.search(r"```[a-z]*\n(.*?)```", text, re.S)
    assert first_block, "README has no code block"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert "scripts/demo.sh" in commands
    assert "scripts/demo.sh --no-publisher" in commands
    assert "scripts/test.sh" in commands
    for script in ("demo.sh", "test.sh"):
        assert os.access(SOURCE / "scripts" / script, os.X_OK)


def test_readme_links_every_doc():
    text = (SOURCE / "README.md").read_text()
    unlinked = [p.name for p in sorted((SOURCE / "docs").glob("*.md")) if f"(docs/{p.name})" not in text]
    assert not unlinked, f"docs not linked from README's documentation index: {unlinked}"


def test_readme_lists_every_variable_with_its_default(media_table):
    assert_documented_with_defaults((SOURCE / "README.md").read_text(), media_table, "README.md")


def test_configuration_doc_lists_every_variable(media_table, api_table):
    text = (SOURCE / "docs" / "configuration.md").read_text()
    assert_documented_with_defaults(text, media_table, "docs/configuration.md")
    heading = re.search(r"^## .*api-server", text, re.M)
    assert heading, "docs/configuration.md needs a section headed '## ... api-server'"
    api_section = text[heading.start():]
    assert_documented_with_defaults(api_section, api_table, "docs/configuration.md (api-server)")
    rows = table_rows(text)
    missing = sorted(stage_variables() - set(rows))
    assert not missing, f"docs/configuration.md has no row for the stage role's {missing}"
    for name in ENTRYPOINT_VARIABLES:
        assert name in rows, f"docs/configuration.md has no row for {name}"


def test_help_lists_the_same_variables_as_the_source(media_table):
    """`media-server --help` is what users read first; it must show the table the docs are
    checked against (skipped for a binary older than the table's source)."""
    binary = BUILD / "media-server"
    table_source = SOURCE / "src" / "app" / "roles" / "config_table.cpp"
    if not binary.exists() or binary.stat().st_mtime < table_source.stat().st_mtime:
        pytest.skip(f"{binary} missing or older than {table_source.name}")
    result = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^  ([A-Z][A-Z0-9_]+)\s.*\[default: ([^\],]*)", result.stdout, re.M))
    assert set(listed) == set(media_table), (
        f"--help lists {sorted(set(listed) ^ set(media_table))} differently from the source")
    for name, (default, _secret) in media_table.items():
        assert listed[name] == (default or "(unset)"), f"--help shows {name} default {listed[name]}"
