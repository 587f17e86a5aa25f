"""Sanity checks of a real run against the label its production implies.

These are coarse, robust measurements (medians of run fractions, a running minimum, a robust
z-score of spikes), used only to flag runs for review by eye; they are not a classifier and the
evaluation never sees them. Each returns a short summary and a list of doubts.

>>> import numpy as np
>>> summary, doubts = check("healthy", np.geomspace(3, 0.3, 500), None)
>>> doubts
[]
"""

from __future__ import annotations

import numpy as np


def _med(x, lo, hi):
    n = len(x)
    part = x[int(lo * n) : max(int(hi * n), int(lo * n) + 1)]
    part = part[np.isfinite(part)]
    return float(np.median(part)) if len(part) else float("nan")


def spike_z(loss: np.ndarray, window: int = 25) -> float:
    """Largest robust z-score of log-loss against a trailing median (MAD scale)."""
    y = np.log(loss[np.isfinite(loss) & (loss > 0)])
    if len(y) < 2 * window:
        return 0.0
    best = 0.0
    for i in range(window, len(y)):
        ref = y[i - window : i]
        med = np.median(ref)
        mad = np.median(np.abs(ref - med)) * 1.4826 + 1e-12
        best = max(best, (y[i] - med) / mad)
    return float(best)


def check(label: str, loss: np.ndarray, companion_loss: np.ndarray | None) -> tuple[str, list[str]]:
    loss = np.asarray(loss, dtype=np.float64)
    finite = np.isfinite(loss)
    start = float(np.median(loss[:3])) if np.isfinite(loss[:3]).all() else float("nan")
    early, mid, end = _med(loss, 0.03, 0.3), _med(loss, 0.4, 0.6), _med(loss, 0.8, 1.0)
    best = float(np.nanmin(np.where(finite, loss, np.nan))) if finite.any() else float("nan")
    summary = f"start {start:.3g}, 3-30% {early:.3g}, mid {mid:.3g}, end {end:.3g}, min {best:.3g}"
    doubts = []
    if not finite.all() and label != "diverged":
        doubts.append("has NaN/Inf")
    if label == "healthy":
        if not end < start / 1.3:
            doubts.append("end not clearly below start")
        if early > start * 1.1:
            doubts.append("rises early")
    elif label == "slow":
        decel = np.log(start / mid) / max(np.log(mid / end), 1e-9)
        summary += f", first/second half log-drop {decel:.2f}"
        if not end < start / 1.02 or decel > 2.5:
            doubts.append("no progress or decelerating")
    elif label == "plateau":
        flat = abs(np.log(_med(loss, 0.5, 0.75) / _med(loss, 0.75, 1.0)))
        summary += f", late change {flat:.3f}"
        if companion_loss is not None:
            ratio = end / _med(np.asarray(companion_loss, dtype=np.float64), 0.8, 1.0)
            summary += f", x{ratio:.2f} above the same run with its LR cut 10x at half-time"
            if ratio < 1.3:
                doubts.append("not well above the decayed run")
        if start / end < 1.5 or flat > 0.15:
            doubts.append("no early drop or not flat late")
    elif label == "rising_early":
        if not early > start * 1.2:
            doubts.append("does not rise early")
    elif label == "diverged":
        peak = float(np.nanmax(np.where(finite, loss, np.nan)))
        summary += f", peak/min x{peak / best:.3g}"
        if finite.all() and peak / best < 10:
            doubts.append("no NaN and no explosion")
    elif label == "oscillating":
        drift = abs(np.log(_med(loss, 0.1, 0.4) / end))
        summary += f", drift {drift:.3f}"
        if drift > 0.25:
            doubts.append("drifts")
    elif label == "spiky":
        z = spike_z(loss)
        summary += f", max spike z {z:.1f}"
        if z < 8:
            doubts.append("no clear spike")
    return summary, doubts


def measured_overfitting(log: dict) -> tuple[bool, str]:
    """Whether the validation loss rises (>= 10% over its minimum, by the end) while the training
    loss keeps falling after the validation minimum: the ``overfitting`` finding's definition."""
    val, vsteps = np.asarray(log["val_loss"], dtype=np.float64), np.asarray(log["val_steps"])
    k = int(np.argmin(val))
    rise = val[-1] / val[k]
    loss, steps = np.asarray(log["loss"], dtype=np.float64), np.asarray(log["steps"])
    at_min = np.median(loss[(steps >= vsteps[k] - 50) & (steps <= vsteps[k] + 50)])
    end = np.median(loss[-max(len(loss) // 10, 1) :])
    falls = end < at_min / 1.05
    verdict = bool(rise >= 1.1 and falls)
    train = "falls" if falls else "does not fall"
    return verdict, f"val ends x{rise:.2f} over its minimum at step {int(vsteps[k])}; train {train} after it"
