"""Fixtures shared by the process tests: a per-test output directory and a registry that makes
sure no child process outlives its test (a leftover would hold a port and hide the next
failure)."""

import re
import shutil

import pytest

import harness
from skip_guard import pytest_sessionfinish  # noqa: F401 - a hook: a skip fails CI


@pytest.fixture
def output_dir(request):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("/")[-1])
    path = harness.OUTPUT_ROOT / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell a failed test at
    teardown (and attach the logs of what it started)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "report_" + report.when, report)


@pytest.fixture
def processes(request):
    """A list the test appends its harness.Process (or harness.Viewer) objects to; all are
    killed at teardown. When the test failed, the last lines of every log are printed (pytest
    shows them under "Captured stdout teardown"); the full logs stay in test-output/."""
    started = []
    yield started
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for process in started:
            if hasattr(process, "log_tail"):
                print(process.log_tail(60))
    for process in started:
        process.kill()


@pytest.fixture
def api_server(output_dir, processes):
    server = harness.ApiServer(output_dir)
    processes.append(server)
    server.start().wait_ready()
    return server
