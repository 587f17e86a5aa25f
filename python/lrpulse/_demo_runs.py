"""Simulated training runs for ``lrpulse demo``: what the loss does under a given LR schedule.

Each run's LR comes from a real lrpulse schedule; the loss follows a small deterministic model of how
training responds to the LR, built from published observations rather than drawn by hand:

- progress is driven by the area under the LR curve, ``S(t) = sum of the LR up to t``, with a
  power-law approach to the irreducible loss, ``A * (1 + S/tau)^-alpha`` (the "scaling law with LR
  annealing" of Tissue et al., 2024): a 100x smaller LR needs 100x more steps for the same progress;
- SGD noise holds the loss above that curve by an amount proportional to the recent LR, so decaying
  the LR lowers the loss (after a lag) and a constant LR leaves it flat on a floor;
- above a stability edge the loss grows multiplicatively each step; gradient clipping bounds the
  growth (the loss jumps up and thrashes), without clipping it overflows float32 to inf, then NaN.
  The edge can move down during training ("progressive sharpening", Cohen et al., 2021), which makes
  a run that started well blow up later;
- the logged loss is one minibatch's: log-normal noise, correlated over a few steps, louder while
  the run is unstable; a bad batch adds a spike that decays within a few dozen steps.

The same seed gives the same run, bit for bit.

>>> run = DEMO_RUNS[0]
>>> log = simulate(run)
>>> log.steps[:3].tolist(), bool(log.loss[0] > log.loss[-1])
([0, 10, 20], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from . import schedules as lr

__all__ = ["DEMO_RUNS", "DemoRun", "SimulatedLog", "simulate"]

STEPS = 6_000
_EDGE = 1e-2  # the LR above which the simulated model is unstable (at the start of training)
# Loss model: irreducible loss, reducible part, its exponent and time scale (in LR x steps), and the
# noise floor per unit of LR.
_L_INF, _A, _ALPHA, _TAU, _FLOOR_PER_LR = 1.8, 8.5, 0.5, 0.05, 300.0


@dataclass(frozen=True)
class DemoRun:
    """One simulated run: its folder ``name``, what was done (``story``), the label a practitioner
    would give its curve (``expected``), its LR ``schedule`` and the knobs of the model."""

    name: str
    story: str
    expected: str
    schedule: lr.Schedule
    seed: int
    log_every: int = 10
    clip: float = np.inf  # bound on the unstable excess loss: gradient clipping
    sharpening: float = 0.0  # fraction by which the stability edge falls over the run
    bad_batches: tuple[tuple[int, float], ...] = field(default=())  # (step, spike factor)


@dataclass(frozen=True)
class SimulatedLog:
    """The logged points of a run: ``steps`` (int64), minibatch ``loss`` and ``lr`` at those steps."""

    steps: npt.NDArray[np.int64]
    loss: npt.NDArray[np.float64]
    lr: npt.NDArray[np.float64]


def _warmup_cosine(peak: float, warmup: int, final_ratio: float = 0.01) -> lr.Schedule:
    decay = lr.cosine(lr=peak, decay_steps=STEPS - warmup, min_lr=peak * final_ratio)
    return lr.warmup(decay, warmup_steps=warmup) if warmup else decay


DEMO_RUNS: list[DemoRun] = [
    DemoRun("lr3e-3_warmup-cosine", "LR 3e-3, 300 warmup steps, cosine decay to 1%: about right", "healthy",
            _warmup_cosine(3e-3, 300), seed=1),
    DemoRun("lr1e-5_constant", "LR 1e-5 constant: a fine-tuning LR used to train from scratch, 300x too small",
            "slow", lr.warmup(lr.constant(lr=1e-5), warmup_steps=300), seed=2, log_every=20),
    DemoRun("lr3e-2_warmup-cosine", "LR 3e-2, 3x past the stability edge; gradient clipping keeps it from blowing up",
            "rising_early", _warmup_cosine(3e-2, 300), seed=3, clip=8.0),
    DemoRun("lr6e-3_constant", "LR 6e-3 held constant after warmup, never decayed", "plateau",
            lr.warmup(lr.constant(lr=6e-3), warmup_steps=300), seed=4, log_every=20),
    DemoRun("lr8e-3_constant_no-clip", "LR 8e-3 constant, no gradient clipping, the model sharpens as it trains",
            "diverged", lr.warmup(lr.constant(lr=8e-3), warmup_steps=300), seed=5, sharpening=0.3),
    DemoRun("lr3e-3_bad-batches", "LR 3e-3, warmup + cosine, three corrupt batches in the data", "spiky",
            _warmup_cosine(3e-3, 300), seed=6, bad_batches=((1_650, 3.0), (3_120, 1.5), (4_480, 2.0))),
]


def _lagged(x: npt.NDArray[np.float64], rate: float) -> npt.NDArray[np.float64]:
    """``x`` through a first-order lag (an EMA started at 0), as a loop: 6000 steps take ~2 ms."""
    out, level = np.empty_like(x), 0.0
    for i, v in enumerate(x.tolist()):
        level += (v - level) * rate
        out[i] = level
    return out


def _unstable_excess(lrs: npt.NDArray[np.float64], run: DemoRun) -> npt.NDArray[np.float64]:
    """The loss added by instability: grows while the LR is above the (falling) edge, decays below it.
    A large excess lowers the edge further (the sharper region it reached), so an unclipped
    instability runs away within a few hundred steps, as real ones do."""
    edge = _EDGE * (1.0 - run.sharpening * np.arange(len(lrs)) / len(lrs))
    out, excess = np.empty_like(lrs), 0.0
    for i, base_ratio in enumerate((lrs / edge).tolist()):
        ratio = base_ratio * (1.0 + excess / 10.0)
        if ratio > 1.0:
            # 1e39 is past float32's range: the logged loss is inf there, and Python floats stay finite.
            excess = min(run.clip, 1e39, (excess + 1e-3) * (1.0 + 0.5 * (ratio - 1.0)))
        else:
            excess *= 0.97
        out[i] = excess
    return out


def _minibatch_noise(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """Unit-variance AR(1) noise, correlation 0.5 between neighbouring steps."""
    white = rng.standard_normal(n) * np.sqrt(1 - 0.25)
    out, z = np.empty(n), rng.standard_normal()
    for i, w in enumerate(white.tolist()):
        z = 0.5 * z + w
        out[i] = z
    return out


def simulate(run: DemoRun, steps: int = STEPS) -> SimulatedLog:
    """The run's loss and LR at every ``run.log_every``-th step (see the module docstring)."""
    rng = np.random.default_rng(run.seed)
    lrs = run.schedule.trajectory(steps)
    progress = _A * (1.0 + np.cumsum(lrs) / _TAU) ** -_ALPHA
    floor = _FLOOR_PER_LR * _lagged(lrs, 0.01)
    excess = _unstable_excess(lrs, run)
    expected = _L_INF + progress + floor + excess
    sigma = 0.03 + 0.3 * excess / expected
    with np.errstate(over="ignore"):
        loss = expected * np.exp(sigma * _minibatch_noise(rng, steps))
        loss = loss.astype(np.float32).astype(np.float64)  # what a float32 model reports: overflow is inf
    for at, factor in run.bad_batches:
        after = np.arange(steps - at)
        loss[at:] *= 1.0 + factor * np.exp(-after / 6.0)
    overflow = np.flatnonzero(~np.isfinite(loss))
    if len(overflow):
        loss[overflow[0] + 1 :] = np.nan  # once a float32 loss is inf, the weights are NaN
    logged = np.arange(0, steps, run.log_every)
    return SimulatedLog(logged, loss[logged], lrs[logged])
