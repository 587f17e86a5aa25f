"""lrpulse.compat.transformers against the real Hugging Face schedulers (transformers 5.24).

Each reference is a real ``LambdaLR`` built by HF on a torch optimizer: either stepped like a training
loop (``get_last_lr()`` after each ``step()``), or read at any step through its ``lr_lambdas`` times
its ``base_lrs``, which is what ``LambdaLR.get_lr`` computes. HF works in float64, so the comparison
is ``assert_f64_close``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from parity import assert_f64_close
from transformers import optimization as hf_opt

import lrpulse
from lrpulse.compat import transformers as hf
from lrpulse.errors import ConversionError, DTypeError, ParameterError

EXAMPLES = settings(max_examples=30)

lrs = st.floats(1e-6, 1.0)
warmups = st.one_of(st.integers(0, 3), st.integers(0, 2000))
totals = st.one_of(st.integers(0, 50), st.integers(1, 10**5))


def optimizer(*lrs_: float, defaults_lr: float | None = None) -> torch.optim.Optimizer:
    """A torch SGD with one param group per LR (``defaults_lr`` is the constructor's ``lr``)."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs_]
    return torch.optim.SGD(groups, lr=lrs_[0] if defaults_lr is None else defaults_lr)


def steps_for(start: int, span: int, marks=()) -> np.ndarray:
    """Steps 0 to ``start + 3 * span`` (HF's behaviour past num_training_steps included): the first 400,
    each mark and its neighbours, and an even spread.

    Stopping at three spans past the start keeps the cosine's phase under ~2 pi * num_cycles * 3: HF
    and lrpulse round that phase differently (each within an ulp or two of it), so after hundreds of
    periods their values part by more than float64 parity allows (~1e-13 of the peak).
    """
    end = start + 3 * max(span, 1)
    marked = [m + d for m in marks for d in (-1, 0, 1) if 0 <= m + d <= end]
    spread = np.linspace(0, end, 1200).astype(np.int64)
    return np.unique(np.concatenate([np.arange(min(400, end + 1)), np.asarray(marked, dtype=np.int64), spread]))


def hf_values(scheduler, steps: np.ndarray) -> np.ndarray:
    """What HF's LambdaLR sets for param group 0 at each step: ``base_lr * lr_lambda(step)``."""
    lam, base = scheduler.lr_lambdas[0], scheduler.base_lrs[0]
    return np.array([base * lam(int(t)) for t in steps])


def stepped(opt: torch.optim.Optimizer, scheduler, n: int) -> np.ndarray:
    """Run the real scheduler n steps as a training loop would: LRs of every group, shape (n, groups)."""
    out = []
    for _ in range(n):
        out.append(scheduler.get_last_lr())
        opt.step()
        scheduler.step()
    return np.array(out)


def compare(name: str, base: float, steps: np.ndarray, **kwargs) -> float:
    """HF's ``name`` on an SGD with LR ``base`` against ours with ``base`` as a float, at ``steps``."""
    ref = hf_values(getattr(hf_opt, name)(optimizer(base), **kwargs), steps)
    return assert_f64_close(getattr(hf, name)(base, **kwargs)(steps), ref, peak=base, what=f"{name} {kwargs}")


@EXAMPLES
@given(base=lrs, w=warmups)
def test_constant_schedules(base, w):
    steps = steps_for(w, 100, [w])
    compare("get_constant_schedule", base, steps)
    compare("get_constant_schedule_with_warmup", base, steps, num_warmup_steps=w)


@EXAMPLES
@given(base=lrs, w=warmups, total=totals)
def test_linear_schedule_with_warmup(base, w, total):
    compare("get_linear_schedule_with_warmup", base, steps_for(w, total - w, [w, total]),
            num_warmup_steps=w, num_training_steps=total)


cycles = st.one_of(st.just(0.5), st.sampled_from([0.0, 1.0, 2.0, -0.5]), st.floats(0.05, 10.0))


@EXAMPLES
@given(base=lrs, w=warmups, total=totals, num_cycles=cycles)
def test_cosine_schedule_with_warmup_any_cycles_and_past_the_end(base, w, total, num_cycles):
    compare("get_cosine_schedule_with_warmup", base, steps_for(w, total - w, [w, total]), num_warmup_steps=w,
            num_training_steps=total, num_cycles=num_cycles)


@EXAMPLES
@given(base=lrs, w=warmups, num_cycles=st.one_of(st.integers(1, 60), st.floats(0.3, 8.0)), data=st.data())
def test_cosine_with_hard_restarts(base, w, num_cycles, data):
    # Spans that are multiples of the cycle count put restarts on whole steps, where HF's float
    # arithmetic sometimes lands a step late.
    unit = max(1, round(num_cycles))
    span = data.draw(st.one_of(st.integers(1, 5000), st.integers(1, 400).map(lambda k: k * unit)))
    total = w + span
    restarts = [w + round(k * span / num_cycles) for k in range(int(num_cycles) + 1)]
    compare("get_cosine_with_hard_restarts_schedule_with_warmup", base, steps_for(w, span, [w, total, *restarts]),
            num_warmup_steps=w, num_training_steps=total, num_cycles=num_cycles)


def test_hard_restarts_follow_hf_where_its_rounding_delays_a_restart():
    # 49 * (1 / 49) < 1 in float64, so HF keeps cycle 0 at step 100 (LR ~ 0) and restarts at step 101.
    kwargs = dict(num_warmup_steps=0, num_training_steps=49 * 100, num_cycles=49)
    ref = hf_values(hf_opt.get_cosine_with_hard_restarts_schedule_with_warmup(optimizer(1.0), **kwargs),
                    np.arange(4900))
    ours = hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, **kwargs)(np.arange(4900))
    assert ref[100] < 1e-20 and ref[101] > 0.99  # HF's late restart, which we must reproduce
    assert_f64_close(ours, ref, what="late restarts")


@EXAMPLES
@given(base=st.floats(1e-4, 1.0), w=warmups, total=totals, end_frac=st.floats(0.0, 0.99),
       power=st.floats(0.1, 4.0))
def test_polynomial_decay_schedule_with_warmup(base, w, total, end_frac, power):
    if total == w:
        total += 1  # HF divides by zero at the end of the warmup there
    compare("get_polynomial_decay_schedule_with_warmup", base, steps_for(w, total - w, [w, total]), num_warmup_steps=w,
            num_training_steps=total, lr_end=base * end_frac, power=power)


@EXAMPLES
@given(base=lrs, w=warmups, timescale=st.one_of(st.none(), st.integers(1, 10**4)))
def test_inverse_sqrt_schedule(base, w, timescale):
    compare("get_inverse_sqrt_schedule", base, steps_for(w, 10 * (w or 100), [w]), num_warmup_steps=w,
            timescale=timescale)


@EXAMPLES
@given(base=lrs, w=warmups, total=totals, num_cycles=cycles, ratio=st.floats(0.0, 1.0), absolute=st.booleans())
def test_cosine_with_min_lr(base, w, total, num_cycles, ratio, absolute):
    floor = {"min_lr": base * ratio} if absolute else {"min_lr_rate": ratio}
    compare("get_cosine_with_min_lr_schedule_with_warmup", base, steps_for(w, total - w, [w, total]),
            num_warmup_steps=w, num_training_steps=total, num_cycles=num_cycles, **floor)


@EXAMPLES
@given(base=lrs, w=st.one_of(st.integers(0, 3), st.integers(0, 500)), total=totals, num_cycles=cycles,
       ratio=st.floats(0.0, 1.0), warmup_lr_rate=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_cosine_with_min_lr_warmup_lr_rate_runs_one_step_ahead(base, w, total, num_cycles, ratio, warmup_lr_rate):
    compare("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", base, steps_for(w, total - w, [w, total]),
            num_warmup_steps=w, num_training_steps=total, num_cycles=num_cycles, min_lr_rate=ratio,
            warmup_lr_rate=warmup_lr_rate)


wsd_types = st.sampled_from(["linear", "cosine", "1-sqrt"])


@EXAMPLES
@given(base=lrs, w=warmups, decay=st.one_of(st.integers(0, 3), st.integers(0, 5000)), stable=st.integers(0, 5000),
       warmup_type=wsd_types, decay_type=wsd_types, ratio=st.floats(0.0, 1.0), num_cycles=cycles,
       by_total=st.booleans())
def test_wsd_schedule(base, w, decay, stable, warmup_type, decay_type, ratio, num_cycles, by_total):
    length = {"num_training_steps": w + stable + decay} if by_total else {"num_stable_steps": stable}
    compare("get_wsd_schedule", base, steps_for(w + stable, decay, [w, w + stable, w + stable + decay]),
            num_warmup_steps=w, num_decay_steps=decay, warmup_type=warmup_type, decay_type=decay_type,
            min_lr_ratio=ratio, num_cycles=num_cycles, **length)


def test_wsd_with_both_lengths_warns_and_uses_num_stable_steps():
    kwargs = dict(num_warmup_steps=10, num_decay_steps=20, num_training_steps=1000, num_stable_steps=50)
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        ref = hf_values(hf_opt.get_wsd_schedule(optimizer(0.1), **kwargs), np.arange(200))
    with pytest.warns(UserWarning, match="num_stable_steps will be used"):
        ours = hf.get_wsd_schedule(0.1, **kwargs)
    assert_f64_close(ours(np.arange(200)), ref)
    assert ours(80) == pytest.approx(0.0, abs=1e-18)


CASES = [
    ("get_constant_schedule_with_warmup", dict(num_warmup_steps=7)),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=7, num_training_steps=150)),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=7, num_training_steps=150, num_cycles=1.3)),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", dict(num_warmup_steps=7, num_training_steps=150,
                                                                num_cycles=3)),
    ("get_polynomial_decay_schedule_with_warmup", dict(num_warmup_steps=7, num_training_steps=150, lr_end=1e-4,
                                                       power=2.0)),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=7)),
    ("get_cosine_with_min_lr_schedule_with_warmup", dict(num_warmup_steps=7, num_training_steps=150, min_lr=1e-4)),
    ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", dict(num_warmup_steps=7, num_training_steps=150,
                                                                 min_lr=1e-4)),
    ("get_wsd_schedule", dict(num_warmup_steps=7, num_decay_steps=40, num_training_steps=150, warmup_type="1-sqrt",
                              num_cycles=0.8, min_lr_ratio=0.05)),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_stepping_the_real_scheduler_with_several_param_groups(name, kwargs):
    # Group LRs differ from defaults["lr"], from which HF derives lr_end / min_lr ratios, and group 1
    # carries an initial_lr (as after resuming), which torch takes as its base LR.
    opt = optimizer(1e-3, 3e-2, 5e-4, defaults_lr=2e-3)
    opt.param_groups[1]["initial_lr"] = 2e-2
    ours = getattr(hf, name)(opt, **kwargs)  # read before HF's scheduler changes the groups' lr
    ref = stepped(opt, getattr(hf_opt, name)(opt, **kwargs), 200)
    assert isinstance(ours, list) and len(ours) == 3
    for g, s in enumerate(ours):
        assert_f64_close(s(np.arange(200)), ref[:, g], what=f"{name} group {g}")
    single = getattr(hf, name)(optimizer(1e-3), **kwargs)
    assert isinstance(single, lrpulse.Schedule)


@pytest.mark.parametrize("name", ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                                  "constant_with_warmup", "inverse_sqrt", "cosine_with_min_lr",
                                  "cosine_warmup_with_min_lr", "warmup_stable_decay"])
def test_get_scheduler_by_name(name):
    extra = {"cosine_with_min_lr": {"min_lr_rate": 0.1}, "cosine_warmup_with_min_lr": {"min_lr_rate": 0.1},
             "warmup_stable_decay": {"num_decay_steps": 30}, "polynomial": {"power": 1.5}}.get(name)
    kwargs = dict(num_warmup_steps=10, num_training_steps=120, scheduler_specific_kwargs=extra)
    ref = hf_values(hf_opt.get_scheduler(name, optimizer(0.01), **kwargs), np.arange(400))
    assert_f64_close(hf.get_scheduler(name, 0.01, **kwargs)(np.arange(400)), ref, what=name)


def test_long_horizon_float64_parity():
    steps = np.concatenate([np.arange(2000), np.linspace(0, 3_000_000, 3000).astype(np.int64)])
    for name, kwargs in [("get_cosine_schedule_with_warmup", dict(num_warmup_steps=2000, num_training_steps=10**6)),
                         ("get_linear_schedule_with_warmup", dict(num_warmup_steps=2000, num_training_steps=10**6)),
                         ("get_wsd_schedule", dict(num_warmup_steps=2000, num_decay_steps=10**5,
                                                   num_training_steps=10**6, decay_type="1-sqrt"))]:
        compare(name, 3e-4, steps, **kwargs)


def test_edges_step_zero_end_of_warmup_and_past_the_end():
    s = hf.get_linear_schedule_with_warmup(1.0, num_warmup_steps=10, num_training_steps=110)
    assert [s(0), s(5), s(10), s(110), s(10**6)] == [0.0, 0.5, 1.0, 0.0, 0.0]
    c = hf.get_cosine_schedule_with_warmup(1.0, num_warmup_steps=0, num_training_steps=100)
    assert c(100) == pytest.approx(0.0, abs=1e-16) and c(200) == pytest.approx(1.0)  # HF keeps following the cosine
    p = hf.get_polynomial_decay_schedule_with_warmup(1.0, 0, 100, lr_end=0.01)
    assert p(100) == pytest.approx(0.01) and p(10**7) == pytest.approx(0.01)


@pytest.mark.parametrize("name", ["get_reduce_on_plateau_schedule", "get_greedy_schedule", "get_adafactor_schedule"])
def test_schedules_without_closed_form_raise_conversion_error(name):
    with pytest.raises(ConversionError, match="has no closed form"):
        getattr(hf, name)(optimizer(0.1))
    with pytest.raises(ValueError):  # ConversionError is a ValueError
        getattr(hf, name)(0.1)
    if name == "get_reduce_on_plateau_schedule":
        with pytest.raises(ConversionError):
            hf.get_scheduler("reduce_lr_on_plateau", 0.1)


BAD = [
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 0, 10, min_lr=0.01, min_lr_rate=0.1), ParameterError,
     "only one of min_lr or min_lr_rate"),
    (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 0, 10), ParameterError,
     "one of min_lr or min_lr_rate"),
    (lambda: hf.get_polynomial_decay_schedule_with_warmup(0.1, 0, 10, lr_end=0.2), ParameterError,
     "lr_end must be < the initial lr (0.1), got lr_end=0.2"),
    (lambda: hf.get_linear_schedule_with_warmup(0.1, -5, 10), ParameterError,
     "num_warmup_steps must be a whole number of steps >= 0, got num_warmup_steps=-5"),
    (lambda: hf.get_linear_schedule_with_warmup(0.1, 2.5, 10), ParameterError, "num_warmup_steps=2.5"),
    (lambda: hf.get_wsd_schedule(0.1, 10, 20), ParameterError, "one of num_training_steps or num_stable_steps"),
    (lambda: hf.get_wsd_schedule(0.1, 10, 20, num_training_steps=25), ParameterError,
     "num_training_steps must be >= num_warmup_steps + num_decay_steps (30.0), got num_training_steps=25"),
    (lambda: hf.get_wsd_schedule(0.1, 10, 20, num_stable_steps=5, decay_type="step"), ParameterError,
     "decay_type must be 'linear', 'cosine' or '1-sqrt', got decay_type='step'"),
    (lambda: hf.get_cosine_with_hard_restarts_schedule_with_warmup(0.1, 0, 10, num_cycles=0), ParameterError,
     "num_cycles must be > 0"),
    (lambda: hf.get_constant_schedule("0.1"), DTypeError, "optimizer_or_lr must be a learning rate or an optimizer"),
    (lambda: hf.get_constant_schedule(-0.1), ParameterError, "optimizer_or_lr must be >= 0"),
    (lambda: hf.get_constant_schedule(0.1, last_epoch=-2), ParameterError, "last_epoch must be an int >= -1"),
    (lambda: hf.get_scheduler("cosine", 0.1, num_warmup_steps=0), ParameterError, "cosine requires num_training_steps"),
    (lambda: hf.get_scheduler("sawtooth", 0.1), ParameterError, "name must be one of"),
]


@pytest.mark.parametrize("make, error, message", BAD)
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_hf_rejects_what_we_reject():
    for name, kwargs in [("get_cosine_with_min_lr_schedule_with_warmup", dict(num_warmup_steps=0,
                          num_training_steps=10, min_lr=0.01, min_lr_rate=0.1)),
                         ("get_polynomial_decay_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=10,
                                                                            lr_end=0.2))]:
        with pytest.raises(ValueError):
            getattr(hf_opt, name)(optimizer(0.1), **kwargs)
        with pytest.raises(ValueError):
            getattr(hf, name)(0.1, **kwargs)


def test_the_optimizer_is_only_read():
    opt = optimizer(0.1, 0.2)
    before = [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hf.get_wsd_schedule(opt, 10, 10, num_training_steps=100)
    assert [dict((k, v) for k, v in g.items() if k != "params") for g in opt.param_groups] == before
