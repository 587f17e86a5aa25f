"""Shared pytest setup.

Keras reads its backend at import time, so it is fixed here, before any test module imports it.
Hypothesis runs without deadlines (CI shares two cores with builds) and derandomized under CI, so a
CI failure reproduces exactly.
"""

import os
import sys

# Shared helpers (parity.py) import as top-level modules under --import-mode=importlib too.
sys.path.insert(0, os.path.dirname(__file__))

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_sessionfinish(session, exitstatus):
    """Under CI a skipped test is a failure: every test needs its dependencies installed and must run."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped; every test must run in CI", red=True)
        session.exitstatus = 1
