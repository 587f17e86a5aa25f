#!/usr/bin/env bash
# Install what the tests need and run every test: the Rust core alone (cargo test), then the Python
# suite against the release wheel installed into a fresh virtualenv (not the source tree), as a user
# who `pip install`s the wheel would have it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venv="${LRPULSE_TEST_VENV:-$root/.venv-test}"

echo "== Rust core: cargo test"
cargo test --release --locked

echo "== test dependencies into $venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r tests/requirements.txt

echo "== abi3 wheel: maturin build --release"
rm -rf target/wheels
"$venv/bin/maturin" build --release --locked --out target/wheels
wheel="$(ls target/wheels/lrpulse-*-abi3-*.whl)"

echo "== install $wheel with no Rust toolchain on PATH"
env PATH="$venv/bin:/usr/bin:/bin" "$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheel"
env PATH="$venv/bin:/usr/bin:/bin" "$venv/bin/python" -c 'import lrpulse, sys; print("imported", lrpulse.__version__, "from", lrpulse.__file__)'

echo "== type stubs match the extension"
(cd /tmp && "$venv/bin/python" -m mypy.stubtest lrpulse._core)

echo "== lint: ruff check, mypy"
# Both read their settings from pyproject.toml ([tool.ruff], [tool.mypy]); mypy from the root finds it.
"$venv/bin/ruff" check "$root"
(cd "$root" && "$venv/bin/python" -m mypy python/lrpulse)

echo "== Python tests against the installed wheel"
# Run from tests/ with importlib mode so `python/lrpulse` in the source tree can never shadow the wheel.
LRPULSE_EXPECT_INSTALLED=1 "$venv/bin/python" -m pytest -p no:cacheprovider --import-mode=importlib \
    --rootdir "$root" -c "$root/pyproject.toml" "$root/tests" "$@"
