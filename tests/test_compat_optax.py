"""lrpulse.compat.optax against the real optax schedules (0.2.8), evaluated by jax on an array of steps.

optax computes in float32, so parameters are drawn float32-representable (``width=32``): what is left
is float32 arithmetic, which ``assert_f32_close`` bounds. Every step array has the same length so jax
compiles each operation once.
"""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parity import F32_EPS, assert_f32_close

import lrpulse
from lrpulse.compat import optax as ox
from lrpulse.errors import DTypeError, ParameterError

N = 2048
F64_EPS = float(np.finfo(np.float64).eps)
EXAMPLES = settings(max_examples=30)

def f32(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] that float32 represents exactly, so optax sees the same parameters."""
    return st.floats(float(np.float32(lo)), float(np.float32(hi)), width=32)


values = st.one_of(st.just(0.0), f32(1e-6, 1.0))  # no subnormals: XLA flushes them to 0
positive = f32(1e-4, 1.0)
spans = st.one_of(st.integers(1, 200), st.integers(1, 10**6))
begins = st.integers(-20, 5000)


def steps_for(horizon: float, marks=()) -> np.ndarray:
    """N steps: the first 600, every mark and its neighbours, and an even spread to 2 * horizon."""
    marked = [m + d for m in marks for d in (-1, 0, 1) if 0 <= m + d < 2**31 - 1]
    head = np.arange(600)
    spread = np.linspace(0, max(2 * horizon, 1), N - len(head) - len(marked)).astype(np.int64)
    return np.concatenate([head, np.asarray(marked, dtype=np.int64), spread])


def check(ours: lrpulse.Schedule, ref, steps: np.ndarray, what: str, *, power: float = 1.0,
          skip: np.ndarray | None = None, peak: float | None = None) -> float:
    """Compare with the optax schedule ``ref`` evaluated by jax on all steps at once.

    ``power``: the exponent the schedule applies to a quantity that reaches 0 at the end of its decay.
    Below 1 that is ill-conditioned: near the end optax's ``1 + cos`` cancels (cosine) or ``count /
    steps`` rounds just under 1 (polynomial: XLA divides through a reciprocal), and ``x ** p`` turns a
    rounding error ``d`` into up to ``d ** p`` of the peak, beyond any float32 tolerance. Such cases run
    optax in float64, where ``d`` is ~1e-16, and allow ``(4 * eps64) ** p`` of the peak (``x ** p`` is
    Hoelder-continuous with exponent ``p``), never less than the usual float32 bound.
    ``skip`` masks steps the caller explains. ``peak``: the largest magnitude optax's arithmetic passes
    through, when that exceeds the largest value it returns (default: that value).
    """
    x64 = power < 1
    with jax.enable_x64(x64):
        expected = np.asarray(jax.vmap(ref)(jnp.asarray(steps, dtype=jnp.int64 if x64 else jnp.int32)),
                              dtype=np.float64)
    got = ours(steps)
    if skip is not None:
        got, expected = got[~skip], expected[~skip]
    ulps = max(8.0, (4 * F64_EPS) ** power / F32_EPS) if x64 else 8.0
    return assert_f32_close(got, expected, peak=peak, ulps=ulps, what=what)


def xla_stair_slips(steps: np.ndarray, begin: int, transition_steps: int) -> np.ndarray:
    """Steps where jax's float32 ``(count - begin) / transition_steps`` lands just under a whole number.

    XLA divides through a reciprocal, so on CPU ``107 / 107`` is ``0.99999994`` and optax's staircase
    floors it onto the previous stair for that one step; lrpulse drops at the exact multiple.
    """
    count = steps - max(begin, 0)
    quotient = np.asarray(jnp.floor(jnp.asarray(count, dtype=jnp.int32) / transition_steps))
    slips = (count > 0) & (quotient != count // transition_steps)
    assert np.all(count[slips] % transition_steps == 0)  # only ever at an exact multiple
    return slips


@EXAMPLES
@given(init=values, end=values, power=st.one_of(st.just(0.0), f32(0.1, 4.0)),
       transition_steps=st.one_of(st.integers(-3, 0), spans), begin=begins)
def test_polynomial_and_linear_schedules(init, end, power, transition_steps, begin):
    steps = steps_for(max(transition_steps, 1) + max(begin, 0), [begin, begin + transition_steps])
    check(ox.polynomial_schedule(init, end, power, transition_steps, begin),
          optax.polynomial_schedule(init, end, power, transition_steps, begin), steps, "polynomial",
          power=power or 1.0, peak=max(init, end))  # power 0: optax returns (init - end) * 1 + end
    check(ox.linear_schedule(init, end, transition_steps, begin),
          optax.linear_schedule(init, end, transition_steps, begin), steps, "linear")


@EXAMPLES
@given(init=positive,
       scales=st.dictionaries(st.integers(-5, 10**5), st.one_of(st.just(0.0), f32(1e-3, 2.0)), max_size=5))
def test_piecewise_constant_schedule(init, scales):
    steps = steps_for(max(scales, default=100), scales)
    check(ox.piecewise_constant_schedule(init, scales), optax.piecewise_constant_schedule(init, scales), steps,
          f"piecewise_constant {scales}")


@EXAMPLES
@given(init=positive, transition_steps=st.one_of(st.integers(-2, 0), spans),
       decay_rate=st.one_of(st.sampled_from([0.0, 1.0]), f32(0.01, 1.0)),
       growth=f32(1.0, 1.5), begin=begins, staircase=st.booleans(),
       end=st.one_of(st.none(), values))
def test_exponential_decay(init, transition_steps, decay_rate, growth, begin, staircase, end):
    steps = steps_for(max(transition_steps, 1) * 5 + max(begin, 0), [begin, begin + transition_steps])
    skip = xla_stair_slips(steps, begin, transition_steps) if staircase and transition_steps > 0 else None
    check(ox.exponential_decay(init, transition_steps, decay_rate, begin, staircase, end),
          optax.exponential_decay(init, transition_steps, decay_rate, begin, staircase, end), steps,
          "exponential_decay", skip=skip)
    # A growing schedule needs its cap (without one, float32 overflows long before float64).
    cap = init * 4
    check(ox.exponential_decay(init, transition_steps, growth, begin, staircase, cap),
          optax.exponential_decay(init, transition_steps, growth, begin, staircase, cap), steps,
          "exponential growth", skip=skip)


def test_exponential_decay_clips_before_transition_begin_too():
    # optax clips at end_value everywhere: a floor above init_value holds from step 0, as lrpulse does.
    steps = steps_for(200, [50])
    for end in (0.5, 2.0):
        check(ox.exponential_decay(1.0, 10, 0.5, transition_begin=50, end_value=end),
              optax.exponential_decay(1.0, 10, 0.5, transition_begin=50, end_value=end), steps, f"end={end}")
    assert ox.exponential_decay(1.0, 10, 0.5, transition_begin=50, end_value=2.0)(0) == 2.0


@EXAMPLES
@given(init=positive, decay_steps=st.one_of(spans, f32(0.5, 5000.0)),
       alpha=st.one_of(st.just(0.0), f32(1e-6, 1.5)),
       exponent=st.one_of(st.sampled_from([0.0, 1.0]), f32(0.25, 4.0)))
def test_cosine_decay_schedule(init, decay_steps, alpha, exponent):
    steps = steps_for(decay_steps, [int(decay_steps)])
    check(ox.cosine_decay_schedule(init, decay_steps, alpha, exponent),
          optax.cosine_decay_schedule(init, decay_steps, alpha, exponent), steps, "cosine_decay", power=exponent or 1.0)


@EXAMPLES
@given(init=values, peak=positive, warmup=st.integers(0, 5000), decay=spans, end=values,
       exponent=f32(0.25, 3.0))
def test_warmup_cosine_decay_schedule(init, peak, warmup, decay, end, exponent):
    steps = steps_for(warmup + decay, [warmup, warmup + decay])
    check(ox.warmup_cosine_decay_schedule(init, peak, warmup, warmup + decay, end, exponent),
          optax.warmup_cosine_decay_schedule(init, peak, warmup, warmup + decay, end, exponent), steps,
          "warmup_cosine_decay", power=exponent)


@EXAMPLES
@given(init=values, peak=positive, warmup=st.integers(0, 5000), transition_steps=spans,
       decay_rate=f32(0.05, 1.0), begin=st.integers(0, 2000), staircase=st.booleans(),
       end=st.one_of(st.none(), values))
def test_warmup_exponential_decay_and_constant(init, peak, warmup, transition_steps, decay_rate, begin, staircase,
                                               end):
    steps = steps_for(warmup + begin + 5 * transition_steps, [warmup, warmup + begin])
    skip = xla_stair_slips(steps, warmup + begin, transition_steps) if staircase else None
    check(ox.warmup_exponential_decay_schedule(init, peak, warmup, transition_steps, decay_rate, begin, staircase, end),
          optax.warmup_exponential_decay_schedule(init, peak, warmup, transition_steps, decay_rate, begin, staircase,
                                                  end), steps, "warmup_exponential_decay", skip=skip)
    check(ox.warmup_constant_schedule(init, peak, warmup), optax.warmup_constant_schedule(init, peak, warmup),
          steps, "warmup_constant")


cycle = st.fixed_dictionaries({
    "init_value": values, "peak_value": positive, "warmup_steps": st.integers(0, 300),
    "decay_steps": st.integers(1, 3000), "end_value": values,
}).map(lambda kw: {**kw, "decay_steps": kw["warmup_steps"] + kw["decay_steps"]})


@EXAMPLES
@given(cycles=st.lists(cycle, min_size=1, max_size=4))
def test_sgdr_schedule(cycles):
    starts = np.cumsum([0] + [kw["decay_steps"] for kw in cycles])
    warmup_ends = [s + kw["warmup_steps"] for s, kw in zip(starts[:-1], cycles, strict=True)]
    steps = steps_for(starts[-1], list(starts) + warmup_ends)
    check(ox.sgdr_schedule(cycles), optax.sgdr_schedule(cycles), steps, "sgdr")


@EXAMPLES
@given(transition_steps=st.one_of(st.integers(1, 12), st.integers(1, 10**5)), peak=positive,
       pct_start=f32(0.0, 1.0), pct_final=f32(0.0, 1.0),
       div=f32(1.0, 100.0), final=f32(1.0, 1e4))
def test_onecycle_schedules(transition_steps, peak, pct_start, pct_final, div, final):
    marks = [int(pct_start * transition_steps), int(pct_final * transition_steps), transition_steps]
    steps = steps_for(transition_steps, marks)
    check(ox.cosine_onecycle_schedule(transition_steps, peak, pct_start, div, final),
          optax.cosine_onecycle_schedule(transition_steps, peak, pct_start, div, final), steps, "cosine_onecycle")
    check(ox.linear_onecycle_schedule(transition_steps, peak, pct_start, pct_final, div, final),
          optax.linear_onecycle_schedule(transition_steps, peak, pct_start, pct_final, div, final), steps,
          "linear_onecycle")


@EXAMPLES
@given(kind=st.sampled_from(["linear", "cosine"]), init=positive,
       scales=st.dictionaries(st.one_of(st.just(0), st.integers(1, 20), st.integers(1, 10**5)),
                              st.one_of(st.just(0.0), f32(1e-3, 3.0)), max_size=5))
def test_piecewise_interpolate_schedule(kind, init, scales):
    steps = steps_for(max(scales, default=100), scales)
    check(ox.piecewise_interpolate_schedule(kind, init, scales),
          optax.piecewise_interpolate_schedule(kind, init, scales), steps, f"piecewise_interpolate {scales}")


def _pair(kind: str, lr: float, n: int):
    """The same schedule built by optax and by lrpulse.compat.optax."""
    if kind == "cosine":
        return optax.cosine_decay_schedule(lr, n, 0.1), ox.cosine_decay_schedule(lr, n, 0.1)
    if kind == "linear":
        return optax.linear_schedule(0.0, lr, n), ox.linear_schedule(0.0, lr, n)
    return optax.constant_schedule(lr), ox.constant_schedule(lr)


@EXAMPLES
@given(parts=st.lists(st.tuples(st.sampled_from(["cosine", "linear", "constant"]), positive,
                                st.integers(1, 500)), min_size=1, max_size=5),
       data=st.data())
def test_join_schedules_including_unsorted_and_repeated_boundaries(parts, data):
    boundaries = data.draw(st.lists(st.integers(0, 1500), min_size=len(parts) - 1, max_size=len(parts) - 1))
    refs, ours = zip(*(_pair(*p) for p in parts), strict=True)
    steps = steps_for(1600, boundaries)
    check(ox.join_schedules(list(ours), boundaries), optax.join_schedules(list(refs), boundaries), steps,
          f"join {boundaries}")


def test_long_horizon_and_step_zero():
    steps = np.concatenate([np.arange(1000), np.linspace(0, 4_000_000, N - 1000).astype(np.int64)])
    s = ox.warmup_cosine_decay_schedule(0.0, 3e-4, 10_000, 2_000_000, end_value=3e-6)
    check(s, optax.warmup_cosine_decay_schedule(0.0, 3e-4, 10_000, 2_000_000, end_value=3e-6), steps, "long")
    assert s(0) == 0.0 and s(10_000) == 3e-4
    assert s(2_000_000) == pytest.approx(3e-6, rel=1e-12) and s(3_999_999) == s(2_000_000)


def test_values_match_at_the_exact_boundaries():
    # The new piece starts *at* the boundary in optax; a one-step slip would fail here.
    s = ox.piecewise_constant_schedule(1.0, {100: 0.5, 200: 0.5})
    assert [s(t) for t in (99, 100, 199, 200)] == [1.0, 0.5, 0.5, 0.25]
    j = ox.join_schedules([ox.constant_schedule(1.0), ox.linear_schedule(0.0, 1.0, 10)], [5])
    assert [j(t) for t in (4, 5, 10, 15, 100)] == [1.0, 0.0, 0.5, 1.0, 1.0]


BAD = [
    (lambda: ox.piecewise_constant_schedule(1.0, {10: -0.5}), ParameterError,
     "boundaries_and_scales[10] must be >= 0, got boundaries_and_scales[10]=-0.5"),
    (lambda: ox.cosine_decay_schedule(1.0, 0), ParameterError, "decay_steps must be > 0, got decay_steps=0"),
    (lambda: ox.warmup_cosine_decay_schedule(0.0, 1.0, 100, 100), ParameterError,
     "decay_steps must be > warmup_steps (100.0)"),
    (lambda: ox.polynomial_schedule(1.0, -0.1, 1, 10), ParameterError, "end_value must be >= 0, got end_value=-0.1"),
    (lambda: ox.polynomial_schedule(1.0, 0.0, -1, 10), ParameterError, "power must be >= 0, got power=-1"),
    (lambda: ox.piecewise_interpolate_schedule("cubic", 1.0), ParameterError, "interpolate_type must be"),
    (lambda: ox.piecewise_interpolate_schedule("linear", 1.0, {2.5: 0.1}), ParameterError,
     "must be a whole number of steps >= 0"),
    (lambda: ox.join_schedules([optax.constant_schedule(1.0)], []), DTypeError,
     "schedules[0] must be an lrpulse Schedule"),
    (lambda: ox.join_schedules([ox.constant_schedule(1.0)], [10]), ParameterError,
     "schedules must have len(boundaries) + 1 = 2 entries, got 1"),
    (lambda: ox.join_schedules([ox.constant_schedule(1.0)] * 2, [-1]), ParameterError, "boundaries[0] must be >= 0"),
    (lambda: ox.sgdr_schedule([]), ParameterError, "cosine_kwargs must not be empty"),
    (lambda: ox.sgdr_schedule([{"decay_steps": 10, "peak": 1.0}]), ParameterError, "cosine_kwargs[0]"),
    (lambda: ox.exponential_decay(1.0, 10, 0.5, staircase=1), DTypeError, "staircase must be True or False"),
    (lambda: ox.cosine_onecycle_schedule(100, 1.0, div_factor=0), ParameterError, "div_factor must be > 0"),
]


@pytest.mark.parametrize("make, error, message", BAD)
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_optax_rejects_what_we_reject():
    # Where optax itself raises, lrpulse raises a ValueError too (ParameterError is one).
    for make in (lambda m: m.piecewise_constant_schedule(1.0, {10: -0.5}), lambda m: m.cosine_decay_schedule(1.0, 0),
                 lambda m: m.piecewise_interpolate_schedule("cubic", 1.0)):
        with pytest.raises(ValueError):
            make(optax)
        with pytest.raises(ValueError):
            make(ox)


def test_importing_compat_does_not_import_frameworks():
    code = ("import sys, lrpulse.compat, lrpulse.compat.optax, lrpulse.compat.transformers\n"
            "bad = [m for m in ('optax', 'jax', 'transformers', 'torch', 'keras', 'matplotlib') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
