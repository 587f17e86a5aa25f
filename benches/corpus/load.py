"""Read the committed corpus: the index and each run's arrays.

Runs with a file are read from ``runs/<name>.npz``. The longest synthetic runs have ``"file": null``
and a ``recipe``; they are rebuilt here, bit for bit, and checked against the ``checksum`` recorded
when the corpus was made, so a change to the generators cannot silently change the data.

>>> index = load_index()
>>> run = load_run(index[0])
>>> sorted(k for k in run if k in ("loss", "steps"))
['loss', 'steps']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
INDEX = HERE / "index.json"
ARRAYS = ("loss", "steps", "lr", "val_loss", "val_steps")


def load_index(path: Path = INDEX) -> list[dict]:
    return json.loads(Path(path).read_text())


def checksum(loss: np.ndarray) -> str:
    """Length, count of non-finite values and the float64 sum of the finite ones, as text."""
    loss = np.asarray(loss, dtype=np.float64)
    ok = np.isfinite(loss)
    return f"{len(loss)}:{int((~ok).sum())}:{float(np.sum(loss[ok])):.12e}"


def load_run(entry: dict, root: Path = HERE) -> dict:
    """The arrays of one run as a dict (keys from ARRAYS; the optional ones only when present)."""
    if entry.get("file"):
        with np.load(root / entry["file"]) as z:
            return {k: z[k] for k in ARRAYS if k in z.files}
    from .synthetic import generate

    r = entry["recipe"]
    run = generate(r["family"], r["seed"], r["n"], r["hard"])
    got = checksum(run.loss)
    if got != entry["checksum"]:
        raise ValueError(f"run {entry['name']}: regenerated data differ from the corpus ({got} != {entry['checksum']})")
    out = {"loss": run.loss, "steps": run.steps}
    for key in ("lr", "val_loss", "val_steps"):
        if getattr(run, key) is not None:
            out[key] = getattr(run, key)
    return out


def iter_split(split: str | None = None, index: list[dict] | None = None):
    """Yield ``(entry, arrays)`` for every run of a split (``None``: all runs)."""
    for entry in index if index is not None else load_index():
        if split in (None, "all") or entry["split"] == split:
            yield entry, load_run(entry)
