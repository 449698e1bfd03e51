"""The interop tests share the process tests' rule that nothing is skipped in CI
(tests/process/skip_guard.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "process"))
from skip_guard import pytest_sessionfinish  # noqa: E402,F401 - a hook: a skip fails CI
