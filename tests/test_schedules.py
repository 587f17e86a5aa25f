"""The schedule objects: values, specs, equality, pickling and the errors users see."""

from __future__ import annotations

import copy
import doctest
import importlib
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import schedules

import lrpulse
import lrpulse.schedules
from lrpulse.errors import DTypeError, InputError, ParameterError

# Every module on the schedule side whose docstrings show examples (the adapters' examples need their frameworks).
DOCUMENTED_MODULES = ["lrpulse", "lrpulse.schedules", "lrpulse.errors", "lrpulse._lint", "lrpulse.compat",
                      "lrpulse.compat._common", "lrpulse.compat._optimizer", "lrpulse.compat.optax",
                      "lrpulse.compat.transformers"]


@pytest.mark.parametrize("name", DOCUMENTED_MODULES)
def test_docstring_examples_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs={"lrpulse": lrpulse, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0, module


def test_classic_decays_follow_their_definitions():
    halve = lrpulse.step_decay(lr=0.1, step_size=10, gamma=0.5)
    assert [halve(t) for t in (0, 9, 10, 19, 20, 35)] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    one_over_t = lrpulse.inverse_time(lr=0.2, decay_rate=0.05)
    assert all(one_over_t(t) == 0.2 / (1 + 0.05 * t) for t in range(0, 1000, 37))
    expo = lrpulse.exponential(lr=1.0, decay_rate=0.1, decay_steps=100, staircase=True)
    assert expo(99) == 1.0 and expo(100) == pytest.approx(0.1) and expo(250) == pytest.approx(0.01)


def test_composition_semantics():
    w = lrpulse.warmup(lrpulse.constant(lr=0.1), warmup_steps=10, start_lr=0.0)
    assert w(0) == 0.0 and w(5) == pytest.approx(0.05) and w(10) == 0.1
    seq = lrpulse.sequence([lrpulse.constant(lr=1.0), lrpulse.step_decay(lr=0.5, step_size=5, gamma=0.1)], [100])
    assert seq(99) == 1.0 and seq(100) == 0.5 and seq(104) == 0.5 and seq(105) == pytest.approx(0.05)
    prod = lrpulse.product([lrpulse.constant(lr=0.1), lrpulse.exponential(lr=1.0, decay_rate=0.5)])
    assert prod(3) == pytest.approx(0.1 * 0.125)


def test_one_cycle_native_convention_peaks_at_pct_start():
    s = lrpulse.one_cycle(max_lr=0.1, total_steps=1000, pct_start=0.25)
    assert s(250) == 0.1
    assert s(0) == pytest.approx(0.1 / 25)
    assert s(1000) == pytest.approx(0.1 / 25 / 1e4)
    assert s(5000) == s(1000)


@given(schedules)
@settings(max_examples=150)
def test_spec_round_trips(s):
    d = s.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert lrpulse.schedule_from_dict(d) == s
    assert lrpulse.schedule_from_json(s.to_json()) == s
    assert pickle.loads(pickle.dumps(s)) == s
    assert copy.deepcopy(s) == s
    assert hash(lrpulse.schedule_from_dict(d)) == hash(s)
    assert repr(s).startswith(f"lrpulse.{s.kind}(")
    assert eval(repr(s), {"lrpulse": lrpulse, **{k: getattr(lrpulse, k) for k in lrpulse.schedules.__all__}}) == s


@given(schedules, st.lists(st.integers(0, 50_000), min_size=1, max_size=200))
@settings(max_examples=150)
def test_values_are_finite_nonnegative_and_agree_across_entry_points(s, steps):
    scalar = np.array([s(t) for t in steps])
    assert np.all(np.isfinite(scalar)) and np.all(scalar >= 0)
    for dtype in (np.int32, np.int64, np.uint32, np.uint64, np.float32, np.float64):
        np.testing.assert_array_equal(s(np.array(steps, dtype=dtype)), scalar)
    np.testing.assert_array_equal(s(steps), scalar)
    traj = s.trajectory(max(steps) + 1)
    np.testing.assert_array_equal(traj[steps], scalar)


@given(st.floats(1e-5, 1.0), st.integers(1, 10_000), st.floats(0.0, 1e-6), st.floats(0.3, 3.0))
@settings(max_examples=60)
def test_decays_never_increase(lr, n, floor, power):
    horizon = np.arange(0, 3 * n, dtype=np.int64)
    for s in (
        lrpulse.step_decay(lr=lr, step_size=max(1, n // 7), gamma=0.5),
        lrpulse.exponential(lr=lr, decay_rate=0.3, decay_steps=n),
        lrpulse.inverse_time(lr=lr, decay_rate=2.0, decay_steps=n),
        lrpulse.polynomial(lr=lr, decay_steps=n, end_lr=floor, power=power),
        lrpulse.cosine(lr=lr, decay_steps=n, min_lr=floor, exponent=power),
        lrpulse.tanh(lr=lr, total_steps=n, min_lr=floor),
        lrpulse.wsd(lr=lr, warmup_steps=0, stable_steps=n, decay_steps=n, min_lr=floor, decay_shape="sqrt"),
    ):
        v = s(horizon)
        assert np.all(np.diff(v) <= 1e-15 * lr), s


@given(st.floats(1e-4, 1.0), st.integers(2, 2000), st.integers(1, 500))
@settings(max_examples=60)
def test_warmup_is_continuous_into_its_schedule(lr, n, w):
    s = lrpulse.warmup(lrpulse.cosine(lr=lr, decay_steps=n), warmup_steps=w)
    t = np.array([w - 1e-9, w], dtype=np.float64)
    before, at = s(t)
    assert math.isclose(before, at, rel_tol=1e-6)
    assert s(w) == lr


BAD = [
    (lambda: lrpulse.constant(lr=-0.1), ParameterError, "lr must be >= 0, got lr=-0.1"),
    (lambda: lrpulse.constant(lr=float("nan")), ParameterError, "lr must be finite, got lr=nan"),
    (lambda: lrpulse.constant(lr="0.1"), DTypeError, "lr must be a number, got lr='0.1'"),
    (lambda: lrpulse.step_decay(lr=0.1, step_size=0), ParameterError, "step_size must be > 0, got step_size=0"),
    (lambda: lrpulse.multi_step(lr=0.1, milestones=[30, 10]), ParameterError, "milestones must be strictly increasing"),
    (lambda: lrpulse.multi_step(lr=0.1, milestones=[10, 10]), ParameterError, "milestones must be strictly increasing"),
    (lambda: lrpulse.cosine(lr=0.1, decay_steps=-5), ParameterError, "decay_steps must be > 0, got decay_steps=-5"),
    (lambda: lrpulse.cosine_restarts(lr=0.1, period=10, period_mult=0.5), ParameterError, "period_mult must be >= 1"),
    (lambda: lrpulse.cosine_restarts(lr=0.1, period=10, cycle_warmup=10), ParameterError,
     "cycle_warmup must be < period"),
    (lambda: lrpulse.one_cycle(max_lr=0.1, total_steps=100, pct_start=1.5), ParameterError,
     "pct_start must be in (0, 1)"),
    (lambda: lrpulse.cyclic(0.1, 0.2, mode="sawtooth"), ParameterError, "mode must be one of"),
    (lambda: lrpulse.piecewise_constant([10, 20], [0.1, 0.01]), InputError, "values must have length 3, got length 2"),
    (lambda: lrpulse.warmup(lrpulse.constant(lr=0.01), warmup_steps=10, start_lr=0.1), ParameterError,
     "start_lr must be <= the wrapped schedule's first LR (0.01)"),
    (lambda: lrpulse.warmup(lrpulse.constant(lr=0.01), warmup_steps=0), ParameterError, "warmup_steps must be > 0"),
    (lambda: lrpulse.sequence([lrpulse.constant(lr=0.1)], [10]), InputError, "schedules must have length 2"),
    (lambda: lrpulse.product([]), ParameterError, "schedules must not be empty"),
    (lambda: lrpulse.warmup("cosine", 10), DTypeError, "schedule must be an lrpulse Schedule"),
    (lambda: lrpulse.schedule_from_dict({"kind": "nope"}), ParameterError, "kind must be one of"),
    (lambda: lrpulse.schedule_from_dict({"kind": "constant"}), ParameterError, "missing 1 required"),
    (lambda: lrpulse.schedule_from_dict({"kind": "constant", "lr": 0.1, "x": 1}), ParameterError, "unexpected keyword"),
    (lambda: lrpulse.schedule_from_dict([1, 2]), DTypeError, "a schedule spec must be a dict"),
    (lambda: lrpulse.schedule_from_json('{"kind": "constant", "lr": '), ValueError, ""),
]


@pytest.mark.parametrize("make, error, message", BAD)
def test_bad_parameters_are_named(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)
    assert isinstance(info.value, (ValueError, TypeError))


def test_bad_steps_are_named():
    s = lrpulse.constant(lr=0.1)
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(InputError, match="step must be finite and >= 0"):
            s(bad)
    with pytest.raises(InputError, match=r"steps\[2\] must be finite and >= 0"):
        s(np.array([0.0, 1.0, np.inf]))
    with pytest.raises(InputError, match="does not fit in int64"):
        s(2**70)


def test_schedules_are_immutable_values():
    s = lrpulse.cosine(lr=0.1, decay_steps=100)
    with pytest.raises(AttributeError):
        s.lr = 0.2  # type: ignore[attr-defined]
    assert s == lrpulse.cosine(lr=0.1, decay_steps=100)
    assert s != lrpulse.cosine(lr=0.1, decay_steps=101)
    assert len({s, lrpulse.cosine(lr=0.1, decay_steps=100)}) == 1
