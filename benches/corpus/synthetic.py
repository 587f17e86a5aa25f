"""Synthetic loss-curve families, one per label, each a pure function of its recipe.

A recipe is ``(family, seed, n, hard)``: ``generate`` rebuilds the identical run from it, which is
how the longest runs live in the index without their arrays being committed. Curves are
``scale * exp(trend + noise)``: multiplicative log-normal (or heavy-tailed, or autocorrelated)
noise, loss scales from 1e-3 to 1e3, varied step grids; some carry the LR series that produced them
and some a validation curve.

>>> run = generate("healthy_power", seed=7, n=300, hard=False)
>>> run.label, run.loss.shape, run.steps.dtype
('healthy', (300,), dtype('int64'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from . import noise as nz
from . import trends


@dataclass
class Run:
    label: str
    steps: np.ndarray
    loss: np.ndarray
    notes: str
    lr: np.ndarray | None = None
    val_loss: np.ndarray | None = None
    val_steps: np.ndarray | None = None
    overfitting: bool | None = None
    extra: dict = field(default_factory=dict)


def _sigma(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _finish(rng, label, steps, lt, sigma, notes, lr=None, clip=nz.NOISE_CLIP, extra_log=None) -> Run:
    """Add noise to a log-trend, scale it, pick the stored dtype, and wrap it as a Run."""
    z, kind = nz.unit_noise(rng, len(lt), clip=clip)
    scale = 10 ** rng.uniform(-3, 3)
    log_loss = lt + np.asarray(sigma) * z + (0 if extra_log is None else extra_log)
    with np.errstate(over="ignore"):
        loss = scale * np.exp(log_loss)
    dtype = np.float32 if rng.random() < 0.7 else np.float64
    sig = float(np.mean(sigma))
    note = f"{notes}; noise {kind} sigma={sig:.3g}; scale {scale:.3g}"
    return Run(label, steps, loss.astype(dtype), note, lr=lr, extra={"scale": scale})


def _grid(rng, n):
    steps = nz.step_grid(rng, n)
    return steps, nz.progress(steps)


def healthy_power(rng, n, hard) -> Run:
    steps, u = _grid(rng, n)
    sigma = _sigma(rng, 0.005, 0.15) if not hard else _sigma(rng, 0.1, 0.35)
    lt, info = trends.healthy_trend(rng, u, sigma, hard)
    run = _finish(rng, "healthy", steps, lt, sigma, info)
    if rng.random() < 0.5:
        _attach_val(rng, run, lt, u, overfit=rng.random() < 0.5)
    return run


def _attach_val(rng, run: Run, lt, u, overfit: bool) -> None:
    idx, val, note = trends.val_curve(rng, lt, u, overfit)
    run.val_steps = run.steps[idx].copy()
    run.val_loss = (run.extra["scale"] * np.exp(val)).astype(run.loss.dtype)
    run.overfitting = overfit
    run.notes += f"; {note}"


def healthy_lr(rng, n, hard) -> Run:
    """Loss as a function of the LR integral plus an LR-proportional noise-ball excess: decaying the
    LR both slows progress and lowers the floor (the drop at the end of a cosine run)."""
    steps, u = _grid(rng, n)
    kinds = ["cosine", "warmup_cosine", "linear", "exponential", "inverse_sqrt"]
    kind = str(rng.choice(kinds + (["step", "wsd"] if hard else [])))
    sigma = _sigma(rng, 0.005, 0.12) if not hard else _sigma(rng, 0.05, 0.25)
    lr0 = 10 ** rng.uniform(-4, -0.5)
    for _ in range(400):
        lr = nz.lr_schedule(rng, u, kind, lr0)
        s = nz.lr_progress(lr, u)
        k, alpha = 10 ** rng.uniform(1, 3.3), rng.uniform(0.3, 1.0)
        base = (1 + k * s) ** (-alpha)
        excess = rng.uniform(0.2, 1.5) * base[-1] * lr / lr0
        lt = np.log(base + excess) - np.log(base[0] + excess[0])
        head = lt[u <= 0.2]
        if lt[0] - lt[-1] < np.log(1.5) or head.max() > 0.02:
            continue
        ratio = trends.decel_ratio(lt, u)
        if hard or ratio >= 2.0 or lr[-1] <= 0.1 * lr0:
            break
    noise_scale = sigma * (0.35 + 0.65 * lr / lr0)
    notes = f"LR-driven {kind} lr0={lr0:.3g} k={k:.3g} alpha={alpha:.2f}"
    run = _finish(rng, "healthy", steps, lt, noise_scale, notes, lr=lr)
    if rng.random() < 0.3:
        _attach_val(rng, run, lt, u, overfit=rng.random() < 0.5)
    return run


def slow(rng, n, hard) -> Run:
    steps, u = _grid(rng, n)
    sigma = _sigma(rng, 0.003, 0.1) if not hard else _sigma(rng, 0.05, 0.25)
    lt, info = trends.slow_trend(rng, u, sigma, hard)
    lr = None
    if rng.random() < 0.35:
        lr = np.full(n, 10 ** rng.uniform(-6.5, -4.0))
        info += f"; constant tiny lr={lr[0]:.3g}"
    run = _finish(rng, "slow", steps, lt, sigma, info, lr=lr)
    return run


def plateau(rng, n, hard) -> Run:
    steps, u = _grid(rng, n)
    sigma = _sigma(rng, 0.01, 0.2) if not hard else _sigma(rng, 0.05, 0.3)
    lt, info = trends.plateau_trend(rng, u, sigma, hard)
    lr = None
    if rng.random() < 0.4:
        kind = str(rng.choice(["constant", "warmup_constant"]))
        lr = nz.lr_schedule(rng, u, kind, 10 ** rng.uniform(-2.5, -0.3))
        info += f"; {kind} lr={lr.max():.3g} (never decayed)"
    return _finish(rng, "plateau", steps, lt, sigma, info, lr=lr)


def rising_early(rng, n, hard) -> Run:
    steps, u = _grid(rng, n)
    lt, info = trends.rising_trend(rng, u, hard)
    # The rise must stand out of the thrashing: noise is a fraction of it (hard: most of it).
    sigma = (lt.max() - lt[0]) * (rng.uniform(0.1, 0.35) if not hard else rng.uniform(0.2, 0.45))
    lr = None
    if rng.random() < 0.3:
        lr = np.full(n, 10 ** rng.uniform(-1.0, 1.0))
        info += f"; constant lr={lr[0]:.3g} (too large, no warmup)"
    return _finish(rng, "rising_early", steps, lt, sigma, info, lr=lr)


def diverged(rng, n, hard) -> Run:
    """A sound start, then NaN/Inf or an explosion far above the running minimum."""
    steps, u = _grid(rng, n)
    sigma = _sigma(rng, 0.005, 0.1)
    lt, info = trends.healthy_trend(rng, u, sigma, hard=False)
    at = rng.uniform(0.15, 0.95) if not hard else rng.uniform(0.04, 0.15)
    i0 = max(int(at * n), 5)
    kind = str(rng.choice(["nan_tail", "inf_then_nan", "nan_stop", "explode_nan", "explode_stay", "dead_level"]))
    ratio = 10 ** rng.uniform(2, 8) if not hard else rng.uniform(10.0, 30.0)
    if kind in ("dead_level", "explode_stay"):
        ratio = min(ratio, 10 ** rng.uniform(1.3, 3.5))
    ramp = 1 if kind == "dead_level" else int(rng.integers(1, max(3, n // 25)))
    running_min = np.minimum.accumulate(lt)
    extra = np.zeros(n)
    top = running_min[i0] + np.log(ratio)
    j = np.arange(n)
    climb = np.clip((j - i0 + 1) / ramp, 0, 1) * (top - lt)
    extra[i0:] = climb[i0:]
    mask = np.zeros(n, dtype=bool)
    if kind in ("nan_tail", "inf_then_nan", "nan_stop"):
        extra[:] = 0.0
        mask[i0:] = True
    elif kind == "explode_nan":
        mask[min(i0 + ramp + int(rng.integers(1, 5)), n - 1):] = True
    run = _finish(rng, "diverged", steps, lt, sigma, f"{info}; then {kind}", extra_log=extra)
    loss = run.loss
    loss[mask] = np.nan
    if kind == "inf_then_nan":
        loss[i0] = np.inf
    if kind == "nan_stop":
        run.loss, run.steps = loss[: i0 + 1], steps[: i0 + 1]
    run.notes += f" at step {int(steps[i0])}" + ("" if mask.any() else f", x{ratio:.3g} over running min")
    return run


def spiky(rng, n, hard) -> Run:
    """A healthy trend with isolated spikes well above the noise, each recovering."""
    steps, u = _grid(rng, n)
    sigma = _sigma(rng, 0.005, 0.1)
    lt, info = trends.healthy_trend(rng, u, sigma, hard=False)
    count = int(rng.integers(1, min(8, 1 + n // 60) + 1))
    slots = np.sort(rng.choice(np.arange(int(0.08 * n), int(0.95 * n)), size=count, replace=False))
    keep = [slots[0]] + [s for a, s in pairwise(slots) if s - a >= max(10, n // (3 * count))]
    extra = np.zeros(n)
    j = np.arange(n)
    sizes = []
    for pos in keep:
        factor = rng.uniform(2.0, 50.0) if not hard else rng.uniform(1.5, 2.5)
        amp = max(np.log(factor), nz.SPIKE_MIN_SIGMAS * sigma * rng.uniform(1.0, 1.5))
        recover = rng.uniform(0.3, 15.0) if not hard else rng.uniform(0.3, max(1.0, 0.02 * n))
        extra += np.where(j >= pos, amp * np.exp(-np.maximum(j - pos, 0) / recover), 0.0)
        sizes.append(f"x{np.exp(amp):.2f}@{int(steps[pos])}")
    note = f"{info}; {len(keep)} spikes {' '.join(sizes)}"
    return _finish(rng, "spiky", steps, lt, sigma, note, extra_log=extra)


def oscillating(rng, n, hard) -> Run:
    """No progress: the loss bounces around its starting level (white, zig-zag or periodic)."""
    steps, u = _grid(rng, n)
    kind = str(rng.choice(["white", "zigzag", "periodic"]))
    sigma = rng.uniform(0.15, 0.6) if not hard else rng.uniform(0.08, 0.15)
    j = np.arange(n)
    lt = np.zeros(n)
    if kind == "zigzag":
        lt = rng.uniform(0.5, 1.0) * sigma * 2 * np.where(j % 2 == 0, 1.0, -1.0)
    elif kind == "periodic":
        period = rng.uniform(4.0, max(5.0, min(80.0, n / 4)))
        lt = rng.uniform(0.5, 1.5) * sigma * np.sin(2 * np.pi * j / period + rng.uniform(0, 6.3))
    note = f"oscillating {kind}"
    if hard and rng.random() < 0.5:
        drift = 1.5 * sigma / np.sqrt(n)
        lt = lt - drift * u
        note += f" with an insignificant drift of {drift:.3g}"
    lr = np.full(n, 10 ** rng.uniform(-1.0, 0.5)) if rng.random() < 0.3 else None
    return _finish(rng, "oscillating", steps, lt, sigma * (0.5 if kind != "white" else 1.0), note, lr=lr)


def insufficient(rng, n, hard) -> Run:
    """A handful of points from any kind of run: too few to say anything."""
    steps, u = _grid(rng, n)
    shape = str(rng.choice(["falling", "rising", "flat"]))
    lt = {"falling": -rng.uniform(0.1, 1.5) * u, "rising": rng.uniform(0.1, 1.0) * u, "flat": 0 * u}[shape]
    return _finish(rng, "insufficient_data", steps, lt, rng.uniform(0.01, 0.3), f"{n} points, {shape}")


FAMILIES: dict[str, Callable[[np.random.Generator, int, bool], Run]] = {
    "healthy_power": healthy_power,
    "healthy_lr": healthy_lr,
    "slow": slow,
    "plateau": plateau,
    "rising_early": rising_early,
    "diverged": diverged,
    "spiky": spiky,
    "oscillating": oscillating,
    "insufficient": insufficient,
}


def generate(family: str, seed: int, n: int, hard: bool) -> Run:
    """Rebuild one synthetic run from its recipe (the same arrays, bit for bit)."""
    rng = np.random.default_rng([seed, n, int(hard)])
    return FAMILIES[family](rng, n, hard)
