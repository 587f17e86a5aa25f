"""Noiseless log-loss trends of the synthetic families, with the checks that make each label true.

A trend is ``log(loss / scale)`` as a function of the run fraction ``u`` in [0, 1]. Each drawing
function keeps drawing parameters until the trend meets its label's definition, measured against
the noise the curve will carry (``sigma`` is the log-noise standard deviation, ``n`` the number of
points), so a label never rests on a parameter range alone:

- healthy: decelerating (early log-slope >= ``DECEL`` x the late one) and still improving at the
  end by a margin the noise cannot hide;
- slow: a near-constant log-slope (no deceleration) with a total drop that is significant but small;
- plateau: most of the drop happens early, then the trend is flat for a large part of the run.

>>> import numpy as np
>>> u = np.linspace(0, 1, 200)
>>> lt, info = healthy_trend(np.random.default_rng(1), u, sigma=0.05, hard=False)
>>> bool(lt[-1] < lt[0])
True
"""

from __future__ import annotations

import numpy as np

from .noise import log_slope

# Early (first 20%) over late (last 30%) log-slope: healthy curves decelerate at least this much,
# slow ones at most SLOW_MAX_DECEL (hard cases sit closer to the boundary on either side).
DECEL = {False: 3.0, True: 2.0}
SLOW_MAX_DECEL = {False: 1.6, True: 2.0}
# Late improvement, in standard errors of the mean of the last 30% of points: 6 is plain to see,
# 3 is a hard case.
LATE_SIGNIFICANCE = {False: 6.0, True: 3.0}


def decel_ratio(lt: np.ndarray, u: np.ndarray) -> float:
    late = log_slope(lt, u, 0.7, 1.0)
    early = log_slope(lt, u, 0.0, 0.2)
    return early / late if late < 0 else np.inf


def late_drop_sigmas(lt: np.ndarray, u: np.ndarray, sigma: float) -> float:
    """Improvement over the last 30% of the run, in units of the noise's standard error there."""
    sel = u >= 0.7
    drop = -log_slope(lt, u, 0.7, 1.0) * 0.3
    return drop / (sigma / np.sqrt(max(int(sel.sum()), 1)))


def _power(rng: np.random.Generator, u: np.ndarray) -> tuple[np.ndarray, str]:
    k = 10 ** rng.uniform(0.7, 3.0)
    alpha = rng.uniform(0.25, 1.2)
    floor = rng.uniform(0.0, 0.3) * (1 + k) ** (-alpha)
    lt = np.log(floor + (1 + k * u) ** (-alpha)) - np.log(floor + 1)
    return lt, f"power law k={k:.3g} alpha={alpha:.2f} floor={floor:.3g}"


def _exp_floor(rng: np.random.Generator, u: np.ndarray) -> tuple[np.ndarray, str]:
    rate = rng.uniform(1.5, 6.0)
    floor = rng.uniform(0.02, 0.4)
    lt = np.log(floor + np.exp(-rate * u)) - np.log(floor + 1)
    return lt, f"exp to floor rate={rate:.2f} floor={floor:.3g}"


def _log_power(rng: np.random.Generator, u: np.ndarray) -> tuple[np.ndarray, str]:
    # A log-loss that falls like log(1 + k u): the slide most LM curves show on a log axis.
    k = 10 ** rng.uniform(1.0, 3.5)
    depth = rng.uniform(0.15, 0.6)
    lt = -depth * np.log1p(k * u)
    return lt, f"log-linear-in-log k={k:.3g} depth={depth:.2f}"


def healthy_trend(rng: np.random.Generator, u: np.ndarray, sigma: float, hard: bool) -> tuple[np.ndarray, str]:
    """A decelerating descent that is still improving at the end (see the module docstring)."""
    makers = [_power, _exp_floor, _log_power]
    fallback = None
    for _ in range(400):
        lt, info = makers[int(rng.integers(len(makers)))](rng, u)
        ratio = decel_ratio(lt, u)
        late = late_drop_sigmas(lt, u, sigma)
        # The descent must be visible against the noise itself, not only significant.
        visible = lt[0] - lt[-1] >= (3.0 if not hard else 1.5) * sigma
        if not visible or lt[0] - lt[-1] < np.log(1.3) or not np.isfinite(ratio) or ratio < DECEL[hard]:
            continue
        if late < LATE_SIGNIFICANCE[hard]:
            continue
        found = lt, f"{info}; decel {ratio:.1f}x, late drop {late:.1f} SE"
        # Hard cases prefer a barely significant late improvement; long runs rarely allow one, and
        # then their hardness is the noise level alone.
        if not hard or late < 2 * LATE_SIGNIFICANCE[False]:
            return found
        fallback = fallback or found
    if fallback is None:
        raise RuntimeError("no healthy trend found for these noise settings")
    return fallback


def slow_trend(rng: np.random.Generator, u: np.ndarray, sigma: float, hard: bool) -> tuple[np.ndarray, str]:
    """Slow, undecelerated progress: the loss falls linearly (in loss or in log-loss) or even
    slightly accelerates, by a total that is significant against the noise yet small."""
    n = len(u)
    for _ in range(400):
        d = rng.uniform(0.04, 0.7 if not hard else 1.0)
        p = rng.uniform(0.9, 1.2) if not hard else rng.uniform(0.75, 1.3)
        kind = rng.choice(["linear", "loglinear", "early_power"])
        if kind == "linear":
            lt = np.log1p(-min(d, 0.6) * u**p)
        elif kind == "loglinear":
            lt = -d * u**p
        else:
            k = rng.uniform(0.1, 0.6 if not hard else 1.2)
            lt = -d / np.log1p(k) * np.log1p(k * u)
        ratio = decel_ratio(lt, u)
        total = lt[0] - lt[-1]
        se = sigma / np.sqrt(n)
        if not (0.4 <= ratio <= SLOW_MAX_DECEL[hard]) or total > (0.75 if not hard else 1.05):
            continue
        # Significant against the standard error of a fitted slope, and visible against the
        # noise itself (otherwise noise dominates the trend: that is `oscillating`).
        visible = total >= (2.0 if not hard else 1.2) * sigma
        if visible and total >= (12.0 if not hard else 5.0) * se * np.sqrt(12) and total >= 0.03:
            return lt, f"slow {kind} drop={total:.3f} p={p:.2f}; decel {ratio:.2f}x"
    raise RuntimeError("no slow trend found for these noise settings")


def plateau_trend(rng: np.random.Generator, u: np.ndarray, sigma: float, hard: bool) -> tuple[np.ndarray, str]:
    """A fast early drop, then flat (hard cases: shorter flat part, smaller drop, or a slow upward
    creep while the LR stays high)."""
    for _ in range(400):
        drop = np.log(rng.uniform(2.0, 30.0) if not hard else rng.uniform(1.4, 3.0))
        tau = rng.uniform(0.015, 0.1) if not hard else rng.uniform(0.05, 0.14)
        shape = rng.choice(["exp", "power"])
        if shape == "exp":
            head = np.exp(-u / tau)
        else:
            head = (1 + u / tau) ** (-2.5) * (1 - u) ** 2
        floor = 1.0 / (np.exp(drop) - 1.0)
        lt = np.log(floor + head) - np.log(floor + 1)
        creep = rng.uniform(0.02, 0.08) if hard and rng.random() < 0.4 else 0.0
        lt = lt + creep * np.clip((u - 0.4) / 0.6, 0, 1)
        total = lt[0] - lt.min()
        flat_from = float(u[np.argmax(np.abs(lt - lt[-1]) <= 0.03 * total + creep)])
        if flat_from <= (0.45 if not hard else 0.7) and total >= (3.0 if not hard else 1.5) * sigma:
            info = f"plateau {shape} drop x{np.exp(drop):.2f} tau={tau:.3f} flat from u={flat_from:.2f}"
            return lt, info + (f" creep +{creep:.3f}" if creep else "")
    raise RuntimeError("no plateau trend found")


def rising_trend(rng: np.random.Generator, u: np.ndarray, hard: bool) -> tuple[np.ndarray, str]:
    """The loss climbs from its first value (too-large initial LR): a quick jump and thrash, a
    steadier climb, or (hard) a climb that later turns back down to about where it started."""
    kind = rng.choice(["climb", "jump"] + (["climb_then_fall"] if hard else []))
    rise = np.log(rng.uniform(1.3, 6.0) if not hard else rng.uniform(1.15, 1.6))
    if kind == "jump" and not hard and rng.random() < 0.35:
        # A big jump without NaN (momentum with clipping does this): x6 to x300 over the start.
        rise = rng.uniform(np.log(6.0), np.log(300.0))
    if kind == "jump":
        tau = rng.uniform(0.02, 0.08)
        relax = rng.uniform(0.0, 0.3)
        lt = rise * (1 - np.exp(-u / tau)) * (1 - relax * u)
    elif kind == "climb":
        tau = rng.uniform(0.03, 0.3)
        lt = rise * (1 - np.exp(-u / tau)) / (1 - np.exp(-1 / tau))
    else:
        peak = rng.uniform(0.25, 0.45)
        lt = rise * np.where(u < peak, np.sin(0.5 * np.pi * u / peak), 1 - 0.9 * (u - peak) / (1 - peak))
    return lt, f"rising {kind} x{np.exp(rise):.2f}"


def val_curve(
    rng: np.random.Generator, lt: np.ndarray, u: np.ndarray, overfit: bool
) -> tuple[np.ndarray, np.ndarray, str]:
    """Validation loss sampled every m points: the smoothed training trend plus a generalisation
    gap; when overfitting, it turns upward from a point in mid-run while training keeps falling.
    Returns the indices of the validation points into ``u``, the val log-loss and a note."""
    n = len(u)
    count = int(rng.integers(10, 60))
    idx = np.unique(np.linspace(0, n - 1, count).round().astype(np.int64))
    gap = rng.uniform(0.02, 0.3)
    val = lt[idx] * rng.uniform(0.6, 0.95) + gap + rng.normal(0, 0.01, len(idx))
    if not overfit:
        return idx, val, f"val tracks train, gap {gap:.2f}"
    turn = rng.uniform(0.25, 0.6)
    want = np.log(rng.uniform(1.2, 3.0))
    # The rise is measured from the val minimum, so it must also undo the val's own decline
    # after the turn (the trend it shares with training).
    at_turn = np.interp(turn, u[idx], val)
    rise = want + max(0.0, at_turn - val[-1])
    val = val + rise * np.clip((u[idx] - turn) / (1 - turn), 0, None) ** rng.uniform(0.8, 1.5)
    return idx, val, f"val turns up at u={turn:.2f}, ends x{np.exp(val[-1] - val.min()):.2f} over its minimum"
