"""The package as a user gets it: what it imports, what it ships, where it comes from."""

import json
import os
import subprocess
import sys
from pathlib import Path

import lrpulse


def test_import_pulls_in_no_framework():
    code = (
        "import sys, lrpulse; lrpulse.cosine(lr=0.1, decay_steps=10)(3);"
        "print(json.dumps(sorted(m for m in ('torch','keras','jax','optax','transformers','matplotlib','tensorflow')"
        " if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_ships_types_and_stub():
    pkg = Path(lrpulse.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_core.pyi").is_file()


def test_runs_from_the_installed_wheel_under_ci():
    # tests/run.sh sets this after installing the wheel into a fresh venv: the suite must be testing
    # that wheel, not the source tree.
    if os.environ.get("LRPULSE_EXPECT_INSTALLED"):
        assert "site-packages" in lrpulse.__file__, lrpulse.__file__
    assert lrpulse.__version__ == lrpulse._core.__version__


def test_public_names_resolve_without_importing_a_framework():
    code = (
        "import sys, lrpulse; missing = [n for n in lrpulse.__all__ if getattr(lrpulse, n, None) is None];"
        "loaded = [m for m in ('torch','keras','jax','optax','transformers','matplotlib') if m in sys.modules];"
        "print(missing, loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
