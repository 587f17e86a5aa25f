"""Contact sheets: every run of the corpus as a small panel, to check each label by eye.

Panels show the loss on a log axis (NaN/Inf marked by red ticks at the top), the validation loss in
orange where there is one, and the LR (grey, its own log axis) where it was recorded. The title
gives the name, the label and, with ``predicted``, what a classifier said.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def write_sheets(runs, out_prefix: Path, per_sheet: int = 48, cols: int = 6, predicted=None) -> list[Path]:
    """Write ``out_prefix_NN.png`` sheets for ``runs`` (dicts with name, label and arrays)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for sheet_no, start in enumerate(range(0, len(runs), per_sheet)):
        chunk = runs[start : start + per_sheet]
        rows = math.ceil(len(chunk) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.0, rows * 2.1), squeeze=False)
        for ax in axes.flat[len(chunk):]:
            ax.axis("off")
        for ax, run in zip(axes.flat, chunk, strict=False):  # the grid may have spare panels
            _panel(ax, run, None if predicted is None else predicted.get(run["name"]))
        fig.tight_layout(pad=0.3)
        path = Path(f"{out_prefix}_{sheet_no:02d}.png")
        fig.savefig(path, dpi=62)
        plt.close(fig)
        paths.append(path)
    return paths


def _panel(ax, run, predicted) -> None:
    steps = run["steps"]
    loss = np.asarray(run["loss"], dtype=np.float64)
    good = np.isfinite(loss) & (loss > 0)
    ax.plot(steps[good], loss[good], lw=0.5, color="tab:blue")
    if (~good).any():
        marker_level = np.nanmax(loss[good]) if good.any() else 1.0
        ax.plot(steps[~good], np.full((~good).sum(), marker_level), "|", color="red", ms=8)
    if run.get("val_loss") is not None:
        ax.plot(run["val_steps"], run["val_loss"], lw=1.0, color="tab:orange")
    if good.any():
        ax.set_yscale("log")
    if run.get("lr") is not None:
        ax2 = ax.twinx()
        ax2.plot(steps, run["lr"], lw=0.6, color="0.6")
        ax2.set_yscale("log")
        ax2.tick_params(labelsize=4)
    title = f"{run['name']}\n{run['label']}" + ("" if predicted is None else f" -> {predicted}")
    ax.set_title(title, fontsize=6, color="black" if predicted in (None, run["label"]) else "red")
    ax.tick_params(labelsize=4)
