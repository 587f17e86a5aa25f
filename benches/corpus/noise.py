"""Building blocks shared by the synthetic loss-curve families: step grids, LR schedules, noise.

Every function draws from the ``numpy.random.Generator`` it is given and from nothing else, so a
curve is a pure function of its recipe (family, seed, length, hardness) and can be regenerated.

>>> import numpy as np
>>> steps = step_grid(np.random.default_rng(0), 100)
>>> steps.dtype, len(steps), bool(np.all(np.diff(steps) > 0))
(dtype('int64'), 100, True)
"""

from __future__ import annotations

import numpy as np

# Noise is clipped to this many standard deviations in runs that are NOT labelled spiky, so that a
# heavy-tailed draw can never be mistaken for a spike the label does not claim. Spikes in `spiky`
# runs are at least SPIKE_MIN_SIGMAS noise deviations tall, which leaves a clear gap.
NOISE_CLIP = 4.5
SPIKE_MIN_SIGMAS = 8.0


def step_grid(rng: np.random.Generator, n: int) -> np.ndarray:
    """Logged step numbers as a real logger writes them: every step, every k steps, from a resumed
    run at a large offset, or at irregular intervals (logging on wall-clock time)."""
    kind = rng.choice(["unit", "spaced", "spaced", "offset", "irregular"])
    if kind == "unit":
        return np.arange(n, dtype=np.int64) + int(rng.integers(0, 2))
    dt = int(rng.choice([5, 10, 20, 50, 100, 250]))
    if kind == "spaced":
        return (np.arange(n, dtype=np.int64) + int(rng.integers(0, 2))) * dt
    if kind == "offset":
        start = int(rng.choice([10**5, 3 * 10**6, 2**24 + 7]))
        return start + np.arange(n, dtype=np.int64) * dt
    gaps = rng.integers(1, 2 * dt, size=n).astype(np.int64)
    return np.cumsum(gaps) - gaps[0]


def progress(steps: np.ndarray) -> np.ndarray:
    """Fraction of the run done at each logged step, in [0, 1] (shapes are defined on it so that
    a family looks the same at 60 points and at 10^5)."""
    span = max(int(steps[-1] - steps[0]), 1)
    return (steps - steps[0]).astype(np.float64) / span


def unit_noise(rng: np.random.Generator, n: int, clip: float | None = NOISE_CLIP) -> tuple[np.ndarray, str]:
    """Unit-variance noise of a randomly chosen kind: Gaussian, heavy-tailed Student-t, or AR(1)
    (what a logger that averages a few batches, or a smoothed export, produces)."""
    kind = str(rng.choice(["gauss", "student", "ar1"], p=[0.45, 0.3, 0.25]))
    if kind == "gauss":
        z = rng.standard_normal(n)
    elif kind == "student":
        df = rng.uniform(3.0, 6.0)
        z = rng.standard_t(df, size=n) / np.sqrt(df / (df - 2.0))
        kind = f"student(df={df:.1f})"
    else:
        phi = rng.uniform(0.3, 0.85)
        e = rng.standard_normal(n) * np.sqrt(1.0 - phi * phi)
        z = np.empty(n)
        acc = rng.standard_normal()
        for i in range(n):
            acc = phi * acc + e[i]
            z[i] = acc
        kind = f"ar1(phi={phi:.2f})"
    if clip is not None:
        z = np.clip(z, -clip, clip)
    return z, kind


def lr_schedule(rng: np.random.Generator, u: np.ndarray, kind: str, lr0: float) -> np.ndarray:
    """The LR in force at each logged step, for a schedule family given by name; ``u`` is the run
    fraction (the schedules span the whole run)."""
    warm = rng.uniform(0.01, 0.06)
    ramp = np.minimum(1.0, (u + 1e-3) / warm)
    if kind == "constant":
        return np.full_like(u, lr0)
    if kind == "warmup_constant":
        return lr0 * ramp
    if kind == "cosine":
        return lr0 * (0.5 * (1 + np.cos(np.pi * u)) * 0.999 + 0.001)
    if kind == "warmup_cosine":
        v = np.clip((u - warm) / (1 - warm), 0, 1)
        return lr0 * np.where(u < warm, ramp, 0.5 * (1 + np.cos(np.pi * v)) * 0.995 + 0.005)
    if kind == "linear":
        return lr0 * (1.0 - 0.99 * u)
    if kind == "exponential":
        return lr0 * 0.01**u
    if kind == "step":
        return lr0 * np.where(u < 0.5, 1.0, np.where(u < 0.75, 0.1, 0.01))
    if kind == "inverse_sqrt":
        return lr0 * np.minimum(ramp, np.sqrt(warm / np.maximum(u, warm)))
    if kind == "wsd":
        decay_from = rng.uniform(0.75, 0.9)
        tail = np.clip((u - decay_from) / (1 - decay_from), 0, 1)
        return lr0 * np.minimum(ramp, 1.0 - 0.99 * tail)
    raise ValueError(f"unknown schedule kind {kind!r}")


def lr_progress(lr: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Training progress as the integral of the LR over the run (units: run fractions at peak LR).
    Loss under plain SGD is, to first order, a function of this sum, which is why decaying the LR
    slows the descent and a tiny LR stalls it."""
    du = np.diff(u, prepend=u[0])
    return np.cumsum(lr / lr.max() * du)


def log_slope(log_trend: np.ndarray, u: np.ndarray, lo: float, hi: float) -> float:
    """Least-squares slope of the noiseless log-trend over the run fraction [lo, hi]."""
    sel = (u >= lo) & (u <= hi)
    if sel.sum() < 2:
        return 0.0
    return float(np.polyfit(u[sel], log_trend[sel], 1)[0])
