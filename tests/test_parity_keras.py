"""``lrpulse.from_keras`` against the real Keras 3 schedule objects, evaluated on long horizons.

Keras evaluates in float32, and on the jax backend its vectorised and jitted path (what a training
step runs) divides ``step / decay_steps`` as ``step * float32(1 / decay_steps)`` (XLA's rewrite of a
division by a constant), so ``floor``/``ceil`` of that ratio can land on the other side of an exact
multiple of ``decay_steps``. The comparison therefore reads Keras' value as lrpulse's value at a step
within float32 resolution of ``t`` (a window of a few ulps of ``t``, see ``_step_window``) and then
asserts float32 parity with :func:`parity.assert_f32_close`. Away from jumps that window changes the
value by less than float32 rounding, so it is the plain comparison; at a jump it lets Keras sit on
either side. :func:`test_exact_boundaries_match_eager_keras` pins the exact boundary semantics against
Keras' eager (correctly rounded) path, step for step.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parity import F32_EPS, assert_f32_close, max_rel_error

import lrpulse
from lrpulse.errors import ConversionError

keras = pytest.importorskip("keras")
jax = pytest.importorskip("jax")
K = keras.optimizers.schedules

N_STEPS = 2048  # one fixed length, so each Keras op compiles once per test session
HORIZON = 10_000_000
FAR = 1e12  # a knot beyond every probed step
# LRPULSE_PARITY_EXAMPLES=500 LRPULSE_PARITY_RANDOM=1 runs a deeper, randomised search.
PARITY = settings(max_examples=int(os.environ.get("LRPULSE_PARITY_EXAMPLES", "20")),
                  derandomize=not os.environ.get("LRPULSE_PARITY_RANDOM"), deadline=None)


def keras_values(ks, steps: np.ndarray) -> np.ndarray:
    """Keras' schedule on int32 steps (``optimizer.iterations`` is int32 on jax) in one call."""
    steps32 = np.asarray(steps, dtype=np.int32)
    if keras.backend.backend() == "jax":
        # jax.vmap runs the real schedule once on the whole vector, CosineDecay's scalar ops.cond too.
        return np.asarray(jax.vmap(ks)(steps32), dtype=np.float64)
    try:
        return np.asarray(ks(steps32), dtype=np.float64)
    except Exception:  # CosineDecay with warmup branches on a scalar condition: one step at a time
        return np.array([float(ks(int(t))) for t in steps32])


def _probe_steps(knots, seed: int) -> np.ndarray:
    """A dense start, every knot (where the schedule jumps or bends) and its neighbours, and random
    steps out to ``HORIZON``, ``N_STEPS`` in all."""
    rng = np.random.default_rng(seed)
    knots = np.asarray([k for k in knots if 0 <= k < HORIZON], dtype=np.float64)[:200]
    around = np.concatenate([np.floor(knots) + d for d in (-1, 0, 1, 2)]) if knots.size else np.zeros(0)
    head = np.arange(512, dtype=np.float64)
    rest = N_STEPS - head.size - around.size
    far = np.exp(rng.uniform(math.log(512), math.log(HORIZON), rest)).round()
    steps = np.concatenate([head, around, far])
    return np.clip(steps, 0, HORIZON)


Knots = Callable[[np.ndarray], np.ndarray]  # steps -> the jump points near each step, shape (n, k)


def _step_window(steps: np.ndarray) -> np.ndarray:
    # Keras' step reaches the formula as float32 and through a float32 ratio: a few ulps of t.
    return 8 * F32_EPS * steps


def _around_multiples(d: float) -> Knots:
    """Exact jump points of a schedule that restarts every ``d`` steps (staircase, cycle)."""
    def knots(steps: np.ndarray) -> np.ndarray:
        k = np.floor(steps / d)
        return np.stack([k * d, (k + 1) * d], axis=1)
    return knots


def _around(knots_sorted) -> Knots:
    """The listed jump points just below and above each step."""
    knots_sorted = np.asarray(knots_sorted, dtype=np.float64)

    def knots(steps: np.ndarray) -> np.ndarray:
        i = np.clip(np.searchsorted(knots_sorted, steps, side="right"), 1, knots_sorted.size - 1)
        return np.stack([knots_sorted[i - 1], knots_sorted[i]], axis=1)
    return knots


def assert_matches_keras(ks, steps: np.ndarray, window: np.ndarray | None = None, knots: Knots | None = None,
                         clamp_at: float | None = None) -> None:
    """Assert that every Keras value is within float32 rounding of lrpulse's value at some step within
    ``window`` of the same step.

    The values lrpulse takes over the window are sampled on a grid plus, where ``knots(steps)`` names
    the jump points near each step, both sides of every jump inside the window. ``clamp_at``: the
    schedule holds its value past that step, and Keras rounds the clamped step's progress, so the window
    is centred on ``min(step, clamp_at)``."""
    ours = lrpulse.from_keras(ks)
    ref = keras_values(ks, steps)
    if clamp_at is not None:
        steps = np.minimum(steps, clamp_at)
    window = _step_window(steps) if window is None else window
    lo, hi = steps - window, steps + window
    points = [steps[:, None] + window[:, None] * np.linspace(-1.0, 1.0, 33)[None, :]]
    if knots is not None:
        near = knots(steps)
        side = 4 * np.spacing(np.maximum(np.abs(near), 1.0))
        points += [near - side, near, near + side]
    grid = np.clip(np.concatenate(points, axis=1), np.maximum(lo, 0)[:, None], hi[:, None])
    values = ours(grid.ravel()).reshape(grid.shape)
    nearest = np.clip(ref, values.min(axis=1), values.max(axis=1))
    # Keras' float32 PolynomialDecay(cycle=True) can round `1 - p` just below 0 and raise it to a
    # fractional power: NaN. There is nothing to compare with at those steps; lrpulse stays finite.
    keras_nan = np.isnan(ref)
    if keras_nan.any():
        assert isinstance(ks, K.PolynomialDecay) and keras_nan.mean() < 0.01, steps[keras_nan][:5]
        assert np.isfinite(values[keras_nan]).all()
    assert_f32_close(nearest[~keras_nan], ref[~keras_nan], what=f"{type(ks).__name__}{ks.get_config()}")


def f32s(lo: float, hi: float) -> st.SearchStrategy[float]:
    # Parameters Keras holds exactly in float32: Keras rounds every parameter to float32 before use,
    # which shifts e.g. ``decay_rate=0.9999`` enough to show after 10**5 steps; that effect is measured
    # on its own in test_keras_rounds_parameters_to_float32.
    return st.floats(float(np.float32(lo)), float(np.float32(hi)), width=32)


lrs = f32s(1e-5, 1.0)
decay_steps = st.one_of(st.integers(1, 20_000), f32s(1.0, 20_000.0))  # cycles of at least a step
seeds = st.integers(0, 2**32 - 1)


@PARITY
@given(lr=lrs, d=decay_steps, rate=f32s(0.05, 1.0), staircase=st.booleans(), seed=seeds)
def test_exponential_decay(lr, d, rate, staircase, seed):
    ks = K.ExponentialDecay(lr, decay_steps=d, decay_rate=rate, staircase=staircase)
    assert_matches_keras(ks, _probe_steps(np.arange(1, 200) * d, seed), knots=_around_multiples(d))


@PARITY
@given(lr=lrs, d=decay_steps, rate=f32s(0.0, 10.0), staircase=st.booleans(), seed=seeds)
def test_inverse_time_decay(lr, d, rate, staircase, seed):
    ks = K.InverseTimeDecay(lr, decay_steps=d, decay_rate=rate, staircase=staircase)
    assert_matches_keras(ks, _probe_steps(np.arange(1, 200) * d, seed), knots=_around_multiples(d))


@PARITY
@given(lr=lrs, d=decay_steps, end=f32s(0.0, 1.0), power=f32s(0.1, 4.0), cycle=st.booleans(),
       seed=seeds)
def test_polynomial_decay(lr, d, end, power, cycle, seed):
    ks = K.PolynomialDecay(lr, decay_steps=d, end_learning_rate=end, power=power, cycle=cycle)
    # Past decay_steps Keras computes min(step, d) * float32(1/d), which can be 1 - 2**-24 rather than 1:
    # with power < 1 the LR then stays measurably above end_learning_rate for good (jitted path only).
    assert_matches_keras(ks, _probe_steps(np.arange(1, 200) * d, seed), knots=_around_multiples(d),
                         clamp_at=None if cycle else d)


@st.composite
def piecewise_configs(draw):
    n = draw(st.integers(0, 6))
    # Integer boundaries as users write them, sometimes fractional ones (Keras casts them to the step's
    # int dtype; on integer steps `step <= 10.5` and `step <= 10` agree).
    whole = st.lists(st.integers(0, HORIZON // 2), min_size=n, max_size=n, unique=True)
    boundaries = sorted(draw(st.one_of(whole, whole.map(lambda bs: [b + 0.5 for b in bs]))))
    values = draw(st.lists(lrs, min_size=n + 1, max_size=n + 1))
    return boundaries, values


@PARITY
@given(config=piecewise_configs(), seed=seeds)
def test_piecewise_constant_decay(config, seed):
    boundaries, values = config
    if not boundaries:  # Keras needs at least one boundary
        boundaries, values = [100], values + values
    ks = K.PiecewiseConstantDecay(boundaries, values)
    assert_matches_keras(ks, _probe_steps(boundaries, seed), knots=_around([0.0, *boundaries, FAR]))
    # The new value starts one step after the boundary (`step <= boundary` keeps the earlier one).
    s = lrpulse.from_keras(ks)
    b = math.floor(boundaries[0])
    assert s(b) == pytest.approx(values[0]) and s(b + 1) == pytest.approx(values[1])


@PARITY
@given(lr=lrs, d=decay_steps, alpha=f32s(0.0, 1.0), warmup=st.sampled_from(["none", "up", "down", "ignored"]),
       target=lrs, warmup_steps=st.integers(0, 50_000), seed=seeds)
def test_cosine_decay(lr, d, alpha, warmup, target, warmup_steps, seed):
    if warmup == "none":
        ks = K.CosineDecay(lr, decay_steps=d, alpha=alpha)
    elif warmup == "ignored":  # no warmup_target: Keras ignores warmup_steps
        ks = K.CosineDecay(lr, decay_steps=d, alpha=alpha, warmup_steps=warmup_steps)
    else:
        start, peak = sorted([lr, target], reverse=warmup == "down")
        ks = K.CosineDecay(start, decay_steps=d, alpha=alpha, warmup_target=peak, warmup_steps=warmup_steps)
    w = ks.warmup_steps if ks.warmup_target is not None else 0
    assert_matches_keras(ks, _probe_steps([w, w + d], seed))


def _restart_steps(period: float, t_mul: float) -> list[float]:
    starts, start, length = [], 0.0, period
    while start < HORIZON and len(starts) < 200:
        starts.append(start)
        start, length = start + length, length * t_mul
    return starts


def _restart_window(steps: np.ndarray, period: float, t_mul: float) -> np.ndarray:
    if t_mul == 1.0:
        return _step_window(steps)
    # Keras finds the cycle as floor(log(1 + f*(t_mul - 1)) / log(t_mul)), f = step / period, in float32:
    # an error of a few ulps in that log is a shift of the restart by ~ulps * log(x) * x * period /
    # (t_mul - 1) steps, where x = 1 + f*(t_mul - 1) (see benches/parity_keras.py for the measurement).
    x = 1 + steps / period * (t_mul - 1)
    return 8 * F32_EPS * (1 + np.log(x)) * x * period / (t_mul - 1)


@PARITY
@given(lr=lrs, period=decay_steps, t_mul=st.one_of(st.just(1.0), f32s(1.1, 4.0)), m_mul=f32s(0.1, 1.0),
       alpha=f32s(0.0, 1.0), seed=seeds)
def test_cosine_decay_restarts(lr, period, t_mul, m_mul, alpha, seed):
    ks = K.CosineDecayRestarts(lr, first_decay_steps=period, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    starts = _restart_steps(period, t_mul)
    steps = _probe_steps(starts, seed)
    knots = _around_multiples(period) if t_mul == 1.0 else _around([*starts, FAR])
    assert_matches_keras(ks, steps, _restart_window(steps, period, t_mul), knots=knots)


def test_exact_boundaries_match_eager_keras():
    """At exact multiples of decay_steps lrpulse follows the formula exactly, as Keras' eager (correctly
    rounded) path does; Keras' jitted path, what a jax training step runs, may be one step late there."""
    cases = [
        (K.ExponentialDecay(0.1, 4071, 0.9, staircase=True), [4071, 8142, 12213]),
        (K.InverseTimeDecay(0.1, 1512, 0.5, staircase=True), [1512, 3024, 6048]),
        (K.PolynomialDecay(0.1, 1775, 1e-4, power=2.0, cycle=True), [5325, 10650, 12425]),
        (K.CosineDecayRestarts(0.1, 1893, t_mul=1.0, m_mul=0.9, alpha=0.01), [3786, 5679, 7572]),
    ]
    for ks, steps in cases:
        s = lrpulse.from_keras(ks)
        jitted = jax.jit(ks)
        for t in steps:
            eager = float(ks(t))
            assert_f32_close([s(t)], [eager], peak=0.1, what=f"{type(ks).__name__} eager at {t}")
            # Jitted Keras is exact or sits just on the other side of the jump at t.
            late = float(jitted(np.int32(t)))
            sides = [eager, s(t - 1e-6), s(t + 1e-6)]
            assert any(late == pytest.approx(v, rel=1e-5) for v in sides), (type(ks).__name__, t, late, sides)


def test_cosine_decay_warmup_counts_decay_after_warmup():
    # Keras decays over decay_steps *after* the warmup: the floor is reached at warmup + decay_steps.
    ks = K.CosineDecay(0.0, decay_steps=1000, alpha=0.1, warmup_target=0.2, warmup_steps=100)
    s = lrpulse.from_keras(ks)
    assert s.kind == "warmup"
    steps = np.array([0, 50, 99, 100, 101, 600, 1099, 1100, 5000], dtype=np.float64)
    assert_f32_close(s(steps), keras_values(ks, steps), what="CosineDecay warmup")
    assert s(100) == pytest.approx(0.2) and s(1100) == pytest.approx(0.02) and s(600) == pytest.approx(0.11)


def test_keras_rounds_parameters_to_float32():
    # from_keras keeps the configured parameters; Keras decays with their float32 roundings, which a
    # per-step rate near 1 shows over a long run (documented in lrpulse._from_keras).
    ks = K.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9999)
    steps = np.arange(0, 500_001, 500, dtype=np.float64)
    ref = keras_values(ks, steps)
    converted = lrpulse.from_keras(ks)
    assert converted.to_dict()["decay_rate"] == 0.9999
    as_keras_sees_it = lrpulse.exponential(lr=float(np.float32(0.1)), decay_rate=float(np.float32(0.9999)))
    assert_f32_close(as_keras_sees_it(steps), ref, what="float32-rounded parameters")
    assert max_rel_error(converted(steps), ref) > 1e-3


def _builtins():
    return [
        K.ExponentialDecay(0.1, 1000, 0.96, staircase=True),
        K.PiecewiseConstantDecay([1000, 5000], [0.1, 0.01, 0.001]),
        K.PolynomialDecay(0.1, 10_000, 1e-4, power=0.5, cycle=True),
        K.InverseTimeDecay(0.1, 100, 0.5, staircase=True),
        K.CosineDecay(0.0, 10_000, alpha=0.01, warmup_target=0.1, warmup_steps=500),
        K.CosineDecayRestarts(0.1, 1000, t_mul=2.0, m_mul=0.8, alpha=0.01),
    ]


@pytest.mark.parametrize("ks", _builtins(), ids=lambda ks: type(ks).__name__)
def test_round_trip_through_keras_serialization(ks):
    # A config saved to JSON and loaded back, alone and inside a saved optimizer.
    text = json.dumps(K.serialize(ks))
    loaded = K.deserialize(json.loads(text))
    assert lrpulse.from_keras(loaded) == lrpulse.from_keras(ks)
    optimizer = keras.optimizers.deserialize(
        json.loads(json.dumps(keras.optimizers.serialize(keras.optimizers.SGD(learning_rate=ks)))))
    from_optimizer = K.deserialize(optimizer.get_config()["learning_rate"])
    assert type(from_optimizer) is type(ks)
    assert lrpulse.from_keras(from_optimizer) == lrpulse.from_keras(ks)
    assert_matches_keras(loaded, _probe_steps([1000, 5000], 0))


class MySchedule(K.LearningRateSchedule):
    def __call__(self, step):
        return 0.1

    def get_config(self):
        return {}


class LouderExponential(K.ExponentialDecay):
    def __call__(self, step):
        return 2 * super().__call__(step)


@pytest.mark.parametrize(
    "obj, names",
    [
        (MySchedule(), ["MySchedule", "custom"]),
        (LouderExponential(0.1, 100, 0.5), ["LouderExponential", "ExponentialDecay"]),
        (lambda step: 0.1, ["callable", "lambda"]),
        (0.1, ["float"]),
        (keras.optimizers.SGD(), ["SGD"]),
        (K.CosineDecayRestarts(0.1, 100, t_mul=0.5), ["CosineDecayRestarts", "period_mult", "0.5"]),
        (K.ExponentialDecay(-0.1, 100, 0.5), ["ExponentialDecay", "lr", "-0.1"]),
        (K.ExponentialDecay(0.1, 100, 0.0), ["ExponentialDecay", "decay_rate"]),
        (K.PiecewiseConstantDecay([50, 10], [0.1, 0.2, 0.3]), ["PiecewiseConstantDecay", "boundaries"]),
        (K.CosineDecay(0.1, 100, alpha=-1.0), ["CosineDecay", "min_lr"]),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, list) else "",
)
def test_conversion_errors_name_the_class(obj, names):
    with pytest.raises(ConversionError) as info:
        lrpulse.from_keras(obj)
    for name in names:
        assert name in str(info.value)


def test_rejecting_a_non_keras_object_never_imports_keras():
    code = ("import sys, lrpulse\n"
            "try:\n    lrpulse.from_keras(lambda step: 0.1)\n"
            "except lrpulse.ConversionError:\n    pass\n"
            "assert not any(m == 'keras' or m.startswith('keras.') for m in sys.modules), 'keras imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
