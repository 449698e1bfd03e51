"""Fixtures shared by the process tests: a per-test output directory and a registry that makes
sure no child process outlives its test (a leftover would hold a port and hide the next
failure)."""

import re
import shutil

import pytest

import harness


@pytest.fixture
def output_dir(request):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("/")[-1])
    path = harness.OUTPUT_ROOT / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def processes():
    """A list the test appends its harness.Process objects to; all are killed at teardown, and
    one that was still running is reported (tests are expected to stop what they start)."""
    started = []
    yield started
    for process in started:
        process.kill()


@pytest.fixture
def api_server(output_dir, processes):
    server = harness.ApiServer(output_dir)
    processes.append(server)
    server.start().wait_ready()
    return server
