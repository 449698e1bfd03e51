"""Regression: interop_test_egress_aiortc skipped itself in every run for a day (it looked for a
function's name in a source file the function had left) and ctest counted it as passed. Under
IVS_NO_SKIPS=1, as CI runs the suite, a skipped test must now fail the run; without it (a
developer's machine missing a tool) a skip stays a skip."""

import os
import subprocess
import sys
from pathlib import Path

PROCESS_DIR = Path(__file__).resolve().parent

SKIPPING_TEST = '''
import pytest

def test_that_skips():
    pytest.skip("a tool is missing")

def test_that_runs():
    assert True
'''

CONFTEST = f'''
import sys
sys.path.insert(0, {str(PROCESS_DIR)!r})
from skip_guard import pytest_sessionfinish  # noqa: F401
'''


def run_pytest(directory: Path, no_skips: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("IVS_NO_SKIPS", None)
    if no_skips:
        env["IVS_NO_SKIPS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(directory)], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_a_skip_fails_the_run_only_under_ivs_no_skips(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_sample.py").write_text(SKIPPING_TEST)
    relaxed = run_pytest(tmp_path, no_skips=False)
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    strict = run_pytest(tmp_path, no_skips=True)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "test_sample.py::test_that_skips was skipped" in strict.stdout, strict.stdout
    assert "a tool is missing" in strict.stdout
