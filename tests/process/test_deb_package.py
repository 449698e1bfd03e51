"""The Debian package (cmake/packaging.cmake, packaging/debian/): what is in it, and that it
installs, runs and purges without leaving anything behind.

The package is made here from the built binary with cpack (what `cmake --build <build> --target
package` runs after building `all`), every time (~10-20 s), so the test never checks a stale
.deb. The checks of its contents, control fields and maintainer scripts need only dpkg-deb. The
install check needs real root and dpkg (CI runs as root) and skips with the reason otherwise; it
also skips when an ivs-media-server package, its user or /usr/bin/media-server is already on the
machine, so it can never remove somebody's real installation. It starts the unit's ExecStart
command line as the service user with the unit's environment, as systemd would (there is no
systemd inside the test's network namespace), checks /health/live, stops it, purges the package
and checks that the files, the configuration, the state directories and the user are all gone.
"""

import grp
import io
import os
import pwd
import re
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

import harness

SOURCE = harness.SOURCE_DIR
BUILD = harness.BUILD_DIR
PACKAGE = "ivs-media-server"
USER = "ivs-media-server"
PACKAGED_UNIT = SOURCE / "packaging" / "debian" / "ivs-media-server.service"
DEPLOY_UNIT = SOURCE / "deploy" / "systemd" / "ivs-media-server.service"
INSTALLED_UNIT = Path("/lib/systemd/system/ivs-media-server.service")
# Everything the install or the service creates; all of it must be gone after a purge.
LEFTOVERS = [Path("/usr/bin/media-server"), INSTALLED_UNIT, Path("/etc/ivs-media-server"),
             Path("/usr/share/doc/ivs-media-server"), Path("/var/lib/ivs-media-server"),
             Path("/var/cache/ivs-media-server")]
# Libraries the binary links; dpkg-shlibdeps must have turned each into a dependency.
EXPECTED_DEPENDS = ["libc6", "libstdc++6", "libssl3", "libsrtp2-1", "libboost-json1.81.0",
                    "libboost-url1.81.0", "liburing2", "libfmt9", "passwd"]


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    """The package of the binary in the build directory, made by cpack into a temporary
    directory. Not the `package` target: that builds `all` first, and a relink in the middle of
    a ctest run would pull the binary from under the tests running beside this one."""
    config = BUILD / "CPackConfig.cmake"
    if not shutil.which("cpack") or not (BUILD / "media-server").exists():
        pytest.skip(f"needs cpack and a built {BUILD / 'media-server'}")
    assert config.exists(), f"{config} missing: re-run cmake (cmake/packaging.cmake makes it)"
    out = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    result = subprocess.run(["cpack", "-G", "DEB", "--config", str(config), "-B", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        "cpack failed (dpkg-shlibdeps is in dpkg-dev, and CPack needs file(1): scripts/setup.sh "
        "installs both)\n" + result.stdout[-3000:] + result.stderr[-3000:])
    packages = sorted(out.glob(f"{PACKAGE}_*.deb"))
    assert len(packages) == 1, f"expected one {PACKAGE}_*.deb in {out}: {packages}"
    print(f"built {packages[0].name} ({packages[0].stat().st_size} bytes) in "
          f"{time.monotonic() - started:.1f} s")
    return packages[0]


def dpkg_deb(*args) -> bytes:
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, check=True,
                          timeout=120).stdout


def members(deb: Path) -> dict:
    """path -> TarInfo of the data archive, paths as /usr/bin/..."""
    with tarfile.open(fileobj=io.BytesIO(dpkg_deb("--fsys-tarfile", deb))) as archive:
        return {"/" + m.name.lstrip("./"): m for m in archive.getmembers()}


def file_content(deb: Path, path: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(dpkg_deb("--fsys-tarfile", deb))) as archive:
        return archive.extractfile("." + path).read()


def unit_directives(text: str) -> list:
    """(section, key, value) of a unit file, comments and blank lines dropped."""
    directives, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        directives.append((section, key, value))
    return directives


# ---------------------------------------------------------------------------------------------
# What the package holds

def test_control_fields(deb):
    fields = dpkg_deb("-f", deb, "Package", "Version", "Architecture", "Maintainer", "Depends",
                      "Section", "Description").decode()
    control = dict(re.findall(r"^(\w+): (.*)$", fields, re.M))
    assert control["Package"] == PACKAGE
    version = re.search(r"project\(\S+ VERSION (\S+)", (SOURCE / "CMakeLists.txt").read_text())
    assert control["Version"] == version.group(1)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True).stdout.strip() if shutil.which("dpkg") else None
    assert arch is None or control["Architecture"] == arch
    assert "<" in control["Maintainer"] and control["Description"]
    depends = [d.strip().split(" ")[0] for d in control["Depends"].split(",")]
    missing = [name for name in EXPECTED_DEPENDS if name not in depends]
    assert not missing, f"Depends lacks {missing}: {control['Depends']}"
    assert any(d.startswith("libspdlog") for d in depends), control["Depends"]
    # Test and build libraries must not be dependencies of a server package.
    assert not [d for d in depends if re.search(r"gtest|gmock|benchmark|-dev$", d)], depends


def test_contents_are_the_server_and_nothing_else(deb):
    files = {path: m for path, m in members(deb).items() if not m.isdir()}
    docs = {f"/usr/share/doc/{PACKAGE}/docs/{p.name}" for p in (SOURCE / "docs").glob("*.md")}
    expected = {"/usr/bin/media-server", str(INSTALLED_UNIT), "/etc/ivs-media-server/env",
                f"/usr/share/doc/{PACKAGE}/README.md"} | docs
    assert set(files) == expected, (
        f"unexpected: {sorted(set(files) - expected)}, missing: {sorted(expected - set(files))}")
    for path, member in files.items():
        assert (member.uname, member.gname) == ("root", "root"), f"{path} owned by {member.uname}"
    assert files["/usr/bin/media-server"].mode & 0o777 == 0o755
    # Secrets live in the env file: not readable by others (postinst gives the group to the user).
    assert files["/etc/ivs-media-server/env"].mode & 0o777 == 0o640
    assert file_content(deb, "/etc/ivs-media-server/env") == (SOURCE / ".env.example").read_bytes()
    assert file_content(deb, str(INSTALLED_UNIT)) == PACKAGED_UNIT.read_bytes()


def test_binary_is_stripped_and_runs(deb, tmp_path):
    dpkg_deb("-x", deb, tmp_path)
    binary = tmp_path / "usr" / "bin" / "media-server"
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("media-server "), result.stderr
    if shutil.which("file"):
        description = subprocess.run(["file", str(binary)], capture_output=True, text=True).stdout
        assert "not stripped" not in description, description


def test_maintainer_scripts(deb, tmp_path):
    control = tmp_path / "control"
    dpkg_deb("-e", deb, control)
    assert (control / "conffiles").read_text().split() == ["/etc/ivs-media-server/env"]
    for name in ("postinst", "prerm", "postrm"):
        script = control / name
        assert script.read_bytes() == (SOURCE / "packaging" / "debian" / name).read_bytes()
        assert script.stat().st_mode & 0o777 == 0o755, f"{name} is not executable"
        syntax = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert syntax.returncode == 0, f"{name}: {syntax.stderr}"
        if shutil.which("shellcheck"):
            lint = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
            assert lint.returncode == 0, lint.stdout
    assert re.search(r"useradd --system\b", (control / "postinst").read_text())
    purge = (control / "postrm").read_text()
    assert "userdel" in purge and "/var/lib/ivs-media-server" in purge


def test_packaged_unit_is_the_deploy_unit_with_the_package_paths():
    """packaging/debian's unit is a copy: only ExecStart's path and the user may differ from
    deploy/systemd's, so hardening added to one cannot be forgotten in the other."""
    packaged = unit_directives(PACKAGED_UNIT.read_text())
    deployed = unit_directives(DEPLOY_UNIT.read_text())
    changed = {"ExecStart", "User", "Group", "DynamicUser"}
    assert ([d for d in packaged if d[1] not in changed]
            == [d for d in deployed if d[1] not in changed])
    service = {key: value for section, key, value in packaged if section == "[Service]"}
    assert service["ExecStart"] == "/usr/bin/media-server serve"
    assert service["User"] == USER and service["Group"] == USER
    assert service["EnvironmentFile"] == "/etc/ivs-media-server/env"
    assert "DynamicUser" not in service


# ---------------------------------------------------------------------------------------------
# Install, run as the unit would, purge

def installed_status() -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", PACKAGE],
                            capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else "not-installed"


def skip_unless_installable():
    if not shutil.which("dpkg") or not shutil.which("dpkg-query"):
        pytest.skip("dpkg is not installed: not a Debian system")
    # Inside a user namespace (scripts/netns-run as a normal user) the uid is 0 without the
    # right to write /usr or /var/lib/dpkg.
    if os.geteuid() != 0 or not os.access("/var/lib/dpkg", os.W_OK):
        pytest.skip("installing a .deb needs real root (CI runs as root)")
    if installed_status() not in ("not-installed", "unknown"):
        pytest.skip(f"{PACKAGE} is already installed here ({installed_status()}); this test "
                    "installs and purges its own copy and leaves that one alone")
    present = [str(p) for p in LEFTOVERS if p.exists()]
    if present or user_exists():
        pytest.skip(f"{present or 'the user ' + USER} already exists here; this test would "
                    "remove it on purge")


def user_exists() -> bool:
    try:
        pwd.getpwnam(USER)
        return True
    except KeyError:
        return False


def group_exists() -> bool:
    try:
        grp.getgrnam(USER)
        return True
    except KeyError:
        return False


def service_environment(unit: dict) -> dict:
    """What systemd would give the process: the EnvironmentFile's KEY=VALUE lines and the
    unit's Environment= assignments, over a bare PATH."""
    env = {"PATH": "/usr/bin:/bin"}
    for line in Path(unit["EnvironmentFile"]).read_text().splitlines():
        m = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2)
    for assignment in unit.get("Environment", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    return env


def make_service_directories(unit: dict):
    """StateDirectory= and CacheDirectory=, created and owned as systemd does at start."""
    account = pwd.getpwnam(USER)
    for key, root in (("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache")):
        for name in unit.get(key, []):
            path = Path(root) / name
            path.mkdir(mode=0o755, exist_ok=True)
            os.chown(path, account.pw_uid, account.pw_gid)


def installed_unit() -> dict:
    """[Service] key -> value; Environment, StateDirectory and CacheDirectory as lists."""
    unit = {"Environment": [], "StateDirectory": [], "CacheDirectory": []}
    for section, key, value in unit_directives(INSTALLED_UNIT.read_text()):
        if section != "[Service]":
            continue
        if key in ("Environment", "StateDirectory", "CacheDirectory"):
            unit[key].append(value)
        else:
            unit[key] = value
    return unit


def run_like_the_unit(output_dir: Path):
    """Starts ExecStart as the unit's user with its environment, waits for /health/live,
    stops it with the unit's KillSignal and returns (exit code, seconds to stop)."""
    unit = installed_unit()
    assert unit["User"] == USER
    make_service_directories(unit)
    port = harness.free_port()
    env = service_environment(unit)
    # Ports from the kernel (harness rule), instead of the env file's 3001 and 50000.
    env.update({"PORT": str(port), "RTC_UDP_PORT": str(harness.free_udp_port())})
    log_path = output_dir / "service.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(unit["ExecStart"].split(), env=env,
                                   cwd=unit["WorkingDirectory"], user=USER, group=USER,
                                   extra_groups=[], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        harness.wait_until(
            lambda: process.poll() is None and harness.http(
                "GET", f"http://127.0.0.1:{port}/health/live", timeout=0.5).status == 200,
            15, "the packaged server's /health/live", interval=0.1,
            context=lambda: log_path.read_text(errors="replace")[-3000:])
        uid = re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{process.pid}/status").read_text(), re.M)
        assert int(uid.group(1)) == pwd.getpwnam(USER).pw_uid, "not running as the service user"
        started = time.monotonic()
        process.send_signal(getattr(signal, unit.get("KillSignal", "SIGTERM")))
        code = process.wait(timeout=15)
        return code, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_install_run_and_purge(deb, output_dir):
    skip_unless_installable()
    try:
        install = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True,
                                 timeout=300)
        assert install.returncode == 0, install.stdout + install.stderr
        assert installed_status() == "installed"
        assert user_exists(), f"postinst did not create the user {USER}"
        env_file = Path("/etc/ivs-media-server/env")
        assert env_file.stat().st_mode & 0o777 == 0o640
        assert grp.getgrgid(env_file.stat().st_gid).gr_name == USER
        if shutil.which("systemd-analyze"):
            verify = subprocess.run(["systemd-analyze", "verify", str(INSTALLED_UNIT)],
                                    capture_output=True, text=True, timeout=60)
            complaints = [line for line in (verify.stdout + verify.stderr).splitlines()
                          if INSTALLED_UNIT.name in line]
            assert verify.returncode == 0 and not complaints, "\n".join(complaints)
        code, seconds = run_like_the_unit(output_dir)
        assert code == 0, f"exit code {code} after SIGTERM\n" + (
            output_dir / "service.log").read_text(errors="replace")[-3000:]
        print(f"the packaged server stopped {seconds:.2f} s after SIGTERM")
    finally:
        if installed_status() != "not-installed":
            purge = subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True,
                                   text=True, timeout=300)
            assert purge.returncode == 0, purge.stdout + purge.stderr
    assert installed_status() in ("not-installed", "unknown")
    left = [str(p) for p in LEFTOVERS if p.exists()]
    assert not left, f"left after dpkg --purge: {left}"
    assert not user_exists() and not group_exists(), f"user or group {USER} left after purge"
