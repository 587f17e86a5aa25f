"""How closely ``lrpulse.from_keras`` reproduces the real Keras 3 schedules, and where they disagree.

Run: ``KERAS_BACKEND=jax python benches/parity_keras.py`` (about a minute on two cores).

Keras evaluates in float32 through its vectorised/jitted path here (jax.vmap over the steps, the path a
jax training step runs); lrpulse in float64. Per representative config it prints the max relative
error over steps whose Keras value is a normal float32, the max absolute error as a fraction of the
peak LR, and how many steps differ by more than float32 rounding (``parity.assert_f32_close``'s
tolerance), then measures each known disagreement on its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import jax
import keras
import numpy as np
from parity import F32_EPS, max_rel_error

import lrpulse

K = keras.optimizers.schedules
F32_TINY = float(np.finfo(np.float32).tiny)


def keras_values(ks, steps: np.ndarray) -> np.ndarray:
    return np.asarray(jax.vmap(ks)(np.asarray(steps, dtype=np.int32)), dtype=np.float64)


def compare(ks, steps: np.ndarray) -> tuple[float, float, int]:
    """(max rel error over normal float32 values, max abs error / peak, steps beyond float32 rounding)."""
    ref = keras_values(ks, steps)
    ours = lrpulse.from_keras(ks)(steps.astype(np.float64))
    peak = float(np.max(np.abs(ref)))
    normal = np.abs(ref) >= F32_TINY
    err = np.abs(ours - ref)
    off = int(np.sum(err > 8 * F32_EPS * (np.abs(ref) + peak)))
    return max_rel_error(ours[normal], ref[normal]), float(err.max() / peak), off


CONFIGS = [
    K.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96),
    K.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96, staircase=True),
    K.ExponentialDecay(0.1, decay_steps=4071, decay_rate=0.9, staircase=True),
    K.PiecewiseConstantDecay([10_000, 50_000, 200_000], [0.1, 0.05, 0.01, 0.001]),
    K.PolynomialDecay(0.1, decay_steps=100_000, end_learning_rate=1e-4, power=1.0),
    K.PolynomialDecay(0.1, decay_steps=100_000, end_learning_rate=1e-4, power=2.0, cycle=True),
    K.PolynomialDecay(0.1, decay_steps=141, end_learning_rate=0.0, power=0.5),
    K.InverseTimeDecay(0.1, decay_steps=1000, decay_rate=0.5),
    K.InverseTimeDecay(0.1, decay_steps=1512, decay_rate=0.5, staircase=True),
    K.CosineDecay(0.1, decay_steps=500_000, alpha=0.01),
    K.CosineDecay(0.0, decay_steps=500_000, alpha=0.0, warmup_target=0.1, warmup_steps=10_000),
    K.CosineDecayRestarts(0.1, first_decay_steps=1000, t_mul=1.0, m_mul=1.0, alpha=0.01),
    K.CosineDecayRestarts(0.1, first_decay_steps=1893, t_mul=1.0, m_mul=1.0, alpha=0.0),
    K.CosineDecayRestarts(0.1, first_decay_steps=1000, t_mul=2.0, m_mul=0.8, alpha=0.01),
    K.CosineDecayRestarts(0.1, first_decay_steps=1000, t_mul=1.5, m_mul=1.0, alpha=0.0),
    K.CosineDecayRestarts(0.1, first_decay_steps=1000, t_mul=1.01, m_mul=1.0, alpha=0.0),
]


def short(ks) -> str:
    cfg = {k: v for k, v in ks.get_config().items() if k != "name" and v not in (None, False)}
    return f"{type(ks).__name__}(" + ", ".join(f"{k}={v}" for k, v in cfg.items()) + ")"


def table(steps: np.ndarray) -> None:
    print(f"Steps 0..{int(steps.max()):,} ({steps.size:,} of them); Keras float32 via jax.vmap, lrpulse float64.")
    print(f"{'config':<104} {'max rel err':>11} {'max err/peak':>12} {'steps off':>9}")
    for ks in CONFIGS:
        rel, absolute, off = compare(ks, steps)
        print(f"{short(ks):<104} {rel:>11.2e} {absolute:>12.2e} {off:>9,}")


def late_at_exact_multiples() -> None:
    """Staircase decays at exact multiples of decay_steps: how often is Keras' jitted path a step late?"""
    ds = np.arange(1, 1001)
    late = 0
    for d in ds:
        ks = K.ExponentialDecay(1.0, decay_steps=int(d), decay_rate=0.5, staircase=True)
        k = np.arange(1, 11)
        late += int(np.sum(keras_values(ks, k * d) > 1.5 * 0.5 ** k))
    print(f"\nExponentialDecay(staircase=True) at step k*decay_steps, k=1..10, decay_steps=1..1000: Keras' jitted "
          f"path still on the previous stair in {late:,} of {ds.size * 10:,} cases ({late / (ds.size * 10):.1%}); "
          f"lrpulse and Keras' eager path drop exactly at the multiple.")


def polynomial_tail() -> None:
    """PolynomialDecay(power < 1) past decay_steps: does Keras reach end_learning_rate?"""
    stuck = []
    for d in range(1, 1001):
        # A vector of steps past the end, as a jitted or vectorised evaluation sees them.
        v = keras_values(K.PolynomialDecay(1.0, decay_steps=d, end_learning_rate=0.0, power=0.5),
                         np.arange(2 * d, 2 * d + 64))
        if v.max() > 0:
            stuck.append(float(v.max()))
    print(f"PolynomialDecay(power=0.5, end_learning_rate=0) past decay_steps, decay_steps=1..1000: Keras' jitted "
          f"path stays above end_learning_rate for {len(stuck):,} of 1,000 decay_steps values, by up to "
          f"{max(stuck, default=0.0):.2e} of (initial - end); lrpulse reaches end_learning_rate exactly.")


def restart_shift(period: int, t_mul: float) -> tuple[int, int, int]:
    """Where Keras actually restarts (its LR jumps up), against the exact restart steps, for the first
    and the last 50 restarts below 10**7: (restarts checked, restarts Keras moves, largest move in steps)."""
    radius = min(256, period // 2 - 1)  # one restart per window
    ks = K.CosineDecayRestarts(1.0, first_decay_steps=period, t_mul=t_mul, m_mul=1.0, alpha=0.0)
    starts, start, length = [], float(period), float(period) * t_mul
    while start < 1e7 - radius:
        starts.append(start)
        start, length = start + length, length * t_mul
    starts = np.unique(np.asarray(starts[:50] + starts[-50:]))
    exact = np.ceil(starts)  # the first integer step of each new cycle
    offsets = np.arange(-radius, radius + 1)
    steps = np.clip(exact[:, None] + offsets[None, :], 0, None)
    ref = keras_values(ks, steps.ravel()).reshape(steps.shape)
    jump = offsets[1:][np.argmax(np.diff(ref, axis=1), axis=1)]  # Keras' restart relative to the exact one
    return starts.size, int(np.count_nonzero(jump)), int(np.max(np.abs(jump)))


def restart_boundaries() -> None:
    print("CosineDecayRestarts: Keras' restart step against the exact one (lrpulse restarts exactly):")
    for t_mul in (1.0, 2.0, 1.5, 1.1, 1.01):
        for period in (500, 1000, 1893):
            checked, moved, most = restart_shift(period, t_mul)
            print(f"  t_mul={t_mul:<5} first_decay_steps={period:<5} {moved:>3} of {checked} restarts moved, "
                  f"by up to {most} steps")


def parameter_rounding() -> None:
    """Keras rounds every parameter to float32; a per-step decay rate then drifts over long runs."""
    steps = np.arange(0, 500_001, 100)  # 0.1 * 0.9999**500_000 is still a normal float32
    ks = K.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9999)
    rounded = K.ExponentialDecay(float(np.float32(0.1)), decay_steps=1, decay_rate=float(np.float32(0.9999)))
    ref = keras_values(ks, steps)
    print(f"ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9999) over 500,000 steps: max rel err "
          f"{max_rel_error(lrpulse.from_keras(ks)(steps.astype(float)), ref):.2e} (Keras decays with float32(0.9999) "
          f"= {float(np.float32(0.9999))!r}); converting the float32-rounded config instead: "
          f"{max_rel_error(lrpulse.from_keras(rounded)(steps.astype(float)), ref):.2e}")


def main() -> None:
    print(f"keras {keras.__version__} ({keras.backend.backend()}), jax {jax.__version__}, "
          f"lrpulse {lrpulse.__version__}\n")
    rng = np.random.default_rng(0)
    steps = np.unique(np.concatenate([np.arange(300_000), rng.integers(300_000, 10_000_000, 100_000)]))
    table(steps)
    late_at_exact_multiples()
    polynomial_tail()
    parameter_rounding()
    restart_boundaries()


if __name__ == "__main__":
    main()
