"""``lrpulse.from_torch`` against the real torch schedulers.

Two references, both computed by torch itself:

- **Closed form** (``_get_closed_form_lr`` with ``last_epoch`` set) where torch offers one: compared
  with :func:`parity.assert_f64_close`, i.e. float64 rounding (lrpulse uses torch's operation order).
  ``CyclicLR``, ``OneCycleLR`` and ``CosineAnnealingWarmRestarts`` are not chainable: their ``step()``
  already computes a closed form of the step, so their stepped trajectory gets the same tolerance.
- **Stepped trajectory** (``get_last_lr()`` after every ``scheduler.step()``, thousands of steps, up to
  1e5): chainable schedulers multiply the group's current LR at every step, so torch drifts from its own
  closed form. The tolerance is a forward error bound of that recurrence (:func:`drift_bound`), not a
  fudge factor; the measured drift is printed by ``benches/parity_torch.py``.

Compositions (SequentialLR, ChainedScheduler, nested) are compared on stepped trajectories, targeted
per torch convention and as random trees, where ``from_torch`` must either match or refuse with
``ConversionError``.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import Phase, event, example, given, settings
from hypothesis import strategies as st
from parity import assert_f32_close, assert_f64_close

import lrpulse
from lrpulse.errors import ConversionError, DTypeError, ParameterError

torch = pytest.importorskip("torch")
# torch warns when a SequentialLR's constructor steps its members before any optimizer.step(): that is
# how nested schedulers are built, not something under test.
pytestmark = pytest.mark.filterwarnings(r"ignore:Detected call of `lr_scheduler.step\(\)` before:UserWarning")
L = torch.optim.lr_scheduler
EPS = float(np.finfo(np.float64).eps)
# No shrinking: one failing example is printed as found (shrinking 2500-step torch runs takes minutes).
PARITY = settings(max_examples=20, derandomize=True, deadline=None,
                  phases=[Phase.explicit, Phase.reuse, Phase.generate])
HORIZON = 2500
CLOSED_STEPS = np.unique(np.concatenate([np.arange(HORIZON), np.geomspace(1, 1e6, 300).astype(np.int64)]))


def make_opt(lrs: list[float]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def stepped(sched, n: int) -> np.ndarray:
    """torch's LR of every group after 0..n calls to step(), shape (n + 1, groups)."""
    out = [sched.get_last_lr()]
    sched.optimizer.step()  # torch warns if the scheduler steps before the optimizer ever has
    for _ in range(n):
        sched.step()
        out.append(sched.get_last_lr())
    return np.array(out, dtype=np.float64)


def ours(sched, n: int) -> np.ndarray:
    schedules = [lrpulse.from_torch(sched, group=g) for g in range(len(sched.optimizer.param_groups))]
    return np.stack([s.trajectory(n) for s in schedules], axis=1)


def drift_bound(ref: np.ndarray, eta: float = 0.0, resets: tuple[int, ...] = ()) -> np.ndarray:
    """Forward error bound of torch's chainable recurrence ``lr_t = eta + r_t * (lr_{t-1} - eta)``.

    Each step rounds a few times (at most ``2 eps (|lr_t| + eta)`` in all: subtract, ratio, multiply,
    add) and carries the error so far multiplied by ``r_t``. Where ``lr_{t-1} = eta`` exactly
    (CosineAnnealingLR at T_max) and at ``resets`` (SequentialLR milestones, which recompute the LR
    from ``base_lrs``) nothing is carried. With ``eta = 0`` this is ``~2 eps t`` relative.
    """
    out = np.empty_like(ref)
    d, err, resets = ref - eta, 0.0, set(resets)
    for t in range(len(ref)):
        carry = 0.0 if t == 0 or t in resets or d[t - 1] == 0 else abs(d[t] / d[t - 1]) * err
        err = carry + 2 * EPS * (abs(ref[t]) + eta)
        out[t] = err
    return out


def cosine_periods(sched) -> list[int]:
    """T_max of every CosineAnnealingLR in ``sched``."""
    if isinstance(sched, L.CosineAnnealingLR):
        return [sched.T_max]
    return [t for s in getattr(sched, "_schedulers", []) for t in cosine_periods(s)]


def cosine_conditioning(sched, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Absolute (per unit of peak LR) and relative error terms of cosine formulas, not drift.

    - ``cos(pi * t / T_max)`` is evaluated at a rounded argument: torch's closed form (which lrpulse
      reproduces) and its recurrence both carry up to ``eps * pi * t / T_max`` of the amplitude.
    - After each restart (``t = T_max + 1 mod 2 T_max``) torch's recurrence divides by
      ``1 + cos(x)``, ``x = pi * (t - 1) / T_max``, as small as ``1 - cos(pi / T_max)`` and accurate only
      to ``eps (1 + x sin x)`` absolute, so its LRs from then on are off by up to
      ``eps (1 / (1 - cos(pi / T_max)) + 2 t)`` relative (about ``eps * 0.2 T_max^2`` for large T_max).
    """
    periods, steps = cosine_periods(sched), np.arange(n)
    if not periods:
        return np.zeros(n), np.zeros(n)
    t_min, t_max = min(periods), max(periods)
    after_restart = steps > t_min  # no cosine restarts earlier than its own T_max
    relative = 0.0 if t_max == 1 else 2 * EPS * (1 / (1 - np.cos(np.pi / t_max)) + 2 * steps)
    return 2 * EPS * np.pi / t_min * steps, relative * after_restart


def cosine_eta(sched) -> float:
    """The largest eta_min of the CosineAnnealingLRs in ``sched``: the offset of its affine recurrence."""
    if isinstance(sched, L.CosineAnnealingLR):
        return float(sched.eta_min)
    return max([cosine_eta(s) for s in getattr(sched, "_schedulers", [])], default=0.0)


def assert_drift_close(ours_: np.ndarray, sched, ref: np.ndarray, resets=(), what: str = "") -> None:
    """|ours - torch| within torch's drift (:func:`drift_bound`), the cosine conditioning terms and
    4 ulps of the peak LR (:mod:`parity`'s float64 floor)."""
    eta = cosine_eta(sched)
    cos_abs, cos_rel = cosine_conditioning(sched, ref.shape[0])
    for g in range(ref.shape[1]):
        peak = float(np.max(np.abs(ref[:, g])))
        tol = 2 * drift_bound(ref[:, g], eta, resets) + (2.0**-50 + cos_abs) * peak + cos_rel * np.abs(ref[:, g])
        bad = np.abs(ours_[:, g] - ref[:, g]) > tol
        if bad.any():
            t = int(np.argmax(bad))
            raise AssertionError(
                f"{what} group {g}: step {t}: ours={ours_[t, g]!r} torch={ref[t, g]!r} tol={tol[t]:.3g}"
            )


def leaf(cls, **params) -> st.SearchStrategy:
    """A recipe ``optimizer -> scheduler`` (a functools.partial, so failures print its arguments)."""
    return st.builds(functools.partial, st.just(cls), **params)


lrs_st = st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=3)
fracs = st.floats(0.01, 1.0)


def chainable(min_iters: int = 0, cos: bool = True) -> dict[str, st.SearchStrategy]:
    out = {
        "StepLR": leaf(L.StepLR, step_size=st.integers(1, 400), gamma=st.floats(0.05, 1.0)),
        "MultiStepLR": leaf(L.MultiStepLR, milestones=st.lists(st.integers(0, 3000), max_size=6),
                            gamma=st.floats(0.05, 1.0)),
        "ConstantLR": leaf(L.ConstantLR, factor=fracs, total_iters=st.integers(min_iters, 500)),
        "LinearLR": leaf(L.LinearLR, start_factor=fracs, end_factor=st.floats(0.0, 1.0),
                         total_iters=st.integers(min_iters, 2000)),
        "ExponentialLR": leaf(L.ExponentialLR, gamma=st.floats(0.99, 1.0)),
        "PolynomialLR": leaf(L.PolynomialLR, total_iters=st.integers(min_iters, 2000),
                             power=st.floats(0.1, 5.0)),
    }
    if cos:
        out["CosineAnnealingLR"] = leaf(L.CosineAnnealingLR, T_max=st.integers(1, 2000), eta_min=st.floats(0.0, 0.05))
    return out


ABSOLUTE = {
    "CyclicLR": leaf(L.CyclicLR, base_lr=st.floats(1e-4, 1e-2), max_lr=st.floats(1e-2, 1.0),
                     # torch's triangular2 overflows 2.0 ** cycle past 1024 cycles: keep cycles >= 3 steps
                     step_size_up=st.integers(2, 500), step_size_down=st.none() | st.integers(1, 500),
                     mode=st.sampled_from(["triangular", "triangular2", "exp_range"]), gamma=st.floats(0.99, 1.0)),
    "CosineAnnealingWarmRestarts": leaf(L.CosineAnnealingWarmRestarts, T_0=st.integers(1, 300),
                                        T_mult=st.integers(1, 3), eta_min=st.floats(0.0, 1e-3)),
}
CHAINABLE = chainable(min_iters=1)


@pytest.mark.parametrize("name", sorted(CHAINABLE))
@PARITY
@given(data=st.data(), lrs=lrs_st)
def test_closed_form_matches_torch_closed_form(name, data, lrs):
    sched = data.draw(CHAINABLE[name])(make_opt(lrs))
    ref = []
    for t in CLOSED_STEPS:
        sched.last_epoch = int(t)
        ref.append(sched._get_closed_form_lr())
    ref = np.array(ref, dtype=np.float64)
    for g in range(len(lrs)):
        assert_f64_close(lrpulse.from_torch(sched, group=g)(CLOSED_STEPS), ref[:, g], what=f"{name} group {g}")


@pytest.mark.parametrize("name", sorted(chainable()))
@PARITY
@given(data=st.data(), lrs=lrs_st)
def test_stepped_trajectory_within_torch_drift(name, data, lrs):
    sched = data.draw(chainable()[name])(make_opt(lrs))
    ref = stepped(sched, HORIZON)
    assert_drift_close(ours(sched, HORIZON + 1), sched, ref, what=name)


@pytest.mark.parametrize("make", [
    lambda o: L.StepLR(o, step_size=7, gamma=0.97),
    lambda o: L.ExponentialLR(o, gamma=0.9999),
    lambda o: L.MultiStepLR(o, milestones=[*range(0, 100_000, 997), 5000, 5000], gamma=0.99),
    lambda o: L.CosineAnnealingLR(o, T_max=1000, eta_min=0.01),
    lambda o: L.CosineAnnealingLR(o, T_max=100),
], ids=["StepLR", "ExponentialLR", "MultiStepLR", "CosineAnnealingLR", "CosineAnnealingLR short"])
def test_stepped_trajectory_over_1e5_steps(make):
    sched = make(make_opt([0.3, 1.0]))
    n = 100_000
    assert_drift_close(ours(sched, n + 1), sched, stepped(sched, n))


@pytest.mark.parametrize("name", sorted(ABSOLUTE))
@PARITY
@given(data=st.data(), lrs=lrs_st)
def test_non_chainable_schedulers_match_exactly(name, data, lrs):
    sched = data.draw(ABSOLUTE[name])(make_opt(lrs))
    assert_f64_close(ours(sched, HORIZON + 1), stepped(sched, HORIZON), what=name)


@PARITY
@given(lrs=lrs_st, total=st.integers(2, 3000), pct=st.floats(0.0, 1.0), three=st.booleans(),
       anneal=st.sampled_from(["cos", "linear"]), div=st.floats(1.0, 100.0), final=st.floats(1.0, 1e5))
def test_one_cycle_matches_exactly_up_to_total_steps_minus_one(lrs, total, pct, three, anneal, div, final):
    opt = make_opt(lrs)
    try:
        sched = L.OneCycleLR(opt, max_lr=[10 * lr for lr in lrs], total_steps=total, pct_start=pct,
                             anneal_strategy=anneal, div_factor=div, final_div_factor=final, three_phase=three)
    except ZeroDivisionError:  # a phase of length 0 at step 0: torch itself cannot start
        return
    ref = stepped(sched, total - 1)  # torch raises past step total_steps
    assert_f64_close(ours(sched, total), ref, what="OneCycleLR")
    if not (three and 2 * pct * total - 2 > total - 1):  # else torch's second phase outlasts total_steps
        last = [lrpulse.from_torch(sched, group=g)(10 * total) for g in range(len(lrs))]
        assert_f64_close(last, ref[-1], peak=float(ref.max()), what="OneCycleLR after total_steps")  # holds it


# ---- composites --------------------------------------------------------------------------------------

any_leaf = st.one_of(*chainable(min_iters=1).values(), *ABSOLUTE.values())
factor_leaf = st.one_of(*chainable(min_iters=1, cos=False).values())


@PARITY
@given(lrs=lrs_st, members=st.lists(any_leaf, min_size=1, max_size=3), data=st.data())
def test_sequential_members_see_local_steps(lrs, members, data):
    marks = sorted(data.draw(st.lists(st.integers(0, 1500), min_size=len(members) - 1, max_size=len(members) - 1)))
    opt = make_opt(lrs)
    sched = L.SequentialLR(opt, [m(opt) for m in members], milestones=marks)
    ref = stepped(sched, HORIZON)
    assert_drift_close(ours(sched, HORIZON + 1), sched, ref, resets=tuple(marks),
                       what=f"SequentialLR {marks}")


@PARITY
@given(
    lrs=lrs_st, members=st.lists(factor_leaf, min_size=1, max_size=3), last=st.none() | st.one_of(*ABSOLUTE.values())
)
def test_chained_is_a_product_of_factors(lrs, members, last):
    opt = make_opt(lrs)
    scheds = [m(opt) for m in members] + ([] if last is None else [last(opt)])
    sched = L.ChainedScheduler(scheds, optimizer=opt)
    assert_drift_close(ours(sched, HORIZON + 1), sched, stepped(sched, HORIZON), what="ChainedScheduler")


@PARITY
@given(lrs=lrs_st, t_max=st.integers(2, 400), warm=st.integers(0, 401), first=st.booleans(),
       factor=st.sampled_from([L.ConstantLR, L.LinearLR]))
def test_chained_cosine_restarts_drop_settled_factors(lrs, t_max, warm, first, factor):
    opt = make_opt(lrs)
    other = factor(opt, total_iters=min(warm, t_max + first))  # settled by T_max (+1 when chained first)
    cos = L.CosineAnnealingLR(opt, T_max=t_max)
    sched = L.ChainedScheduler([other, cos] if first else [cos, other], optimizer=opt)
    assert_drift_close(ours(sched, HORIZON + 1), sched, stepped(sched, HORIZON),
                       what="ChainedScheduler with cosine")


nested_leaf = st.one_of(*chainable(min_iters=1).values(), *ABSOLUTE.values())


@PARITY
@given(lrs=lrs_st, chain=st.lists(factor_leaf, min_size=1, max_size=3), last=st.none() | st.one_of(*ABSOLUTE.values()),
       after=nested_leaf, mark=st.integers(1, 1500))
def test_chained_first_in_sequential_is_stepped_without_initial_flag(lrs, chain, last, after, mark):
    opt = make_opt(lrs)
    members = [m(opt) for m in chain] + ([] if last is None else [last(opt)])
    sched = L.SequentialLR(opt, [L.ChainedScheduler(members, optimizer=opt), after(opt)], milestones=[mark])
    assert_drift_close(ours(sched, HORIZON + 1), sched, stepped(sched, HORIZON), resets=(mark,), what="nested")


@PARITY
@given(lrs=lrs_st, t_max=st.integers(2, 400), warm=st.integers(0, 400), alone=st.booleans(),
       factor=st.sampled_from([L.ConstantLR, L.LinearLR]), mark=st.integers(1, 2000))
def test_cosine_stepped_without_initial_flag(lrs, t_max, warm, alone, factor, mark):
    # torch's first step from last_epoch=-1 scales the cosine by (1 + cos 0) / (1 + cos(pi / T_max))
    # until its additive restart after T_max.
    opt = make_opt(lrs)
    members = [L.CosineAnnealingLR(opt, T_max=t_max)] + ([] if alone else [factor(opt, total_iters=min(warm, t_max))])
    sched = L.SequentialLR(opt, [L.ChainedScheduler(members, optimizer=opt), L.StepLR(opt, 3)], milestones=[mark])
    assert_drift_close(ours(sched, HORIZON + 1), sched, stepped(sched, HORIZON), resets=(mark,),
                       what="blind cosine")


@PARITY
@given(lrs=lrs_st, inner=st.lists(st.one_of(factor_leaf, *ABSOLUTE.values()), min_size=2, max_size=3),
       outer=nested_leaf, depth=st.integers(1, 2), data=st.data())
def test_sequential_first_in_sequential_runs_one_step_ahead(lrs, inner, outer, depth, data):
    opt = make_opt(lrs)
    marks = sorted(data.draw(st.lists(st.integers(1, 800), min_size=len(inner) - 1, max_size=len(inner) - 1)))
    sched = L.SequentialLR(opt, [m(opt) for m in inner], milestones=marks)
    resets = list(marks)
    for level in range(depth):
        mark = data.draw(st.integers(1, 1500), label=f"outer milestone {level}")
        sched = L.SequentialLR(opt, [sched, outer(opt)], milestones=[mark])
        # The wrapped scheduler runs one step ahead, and only until the outer milestone: its own resets
        # at or past ``mark`` never happen (the outer member is stepping by then).
        resets = [r - 1 for r in resets if r - 1 < mark] + [mark]
    assert_drift_close(ours(sched, HORIZON + 1), sched, stepped(sched, HORIZON),
                       resets=tuple(r for r in resets if r > 0), what="SequentialLR in SequentialLR")


@dataclass(frozen=True)
class Sequential:
    """Recipe for a SequentialLR of recipes (a dataclass, so failures print the whole tree)."""

    members: tuple
    milestones: tuple

    def __call__(self, opt):
        return L.SequentialLR(opt, [m(opt) for m in self.members], list(self.milestones))


@dataclass(frozen=True)
class Chained:
    members: tuple

    def __call__(self, opt):
        return L.ChainedScheduler([m(opt) for m in self.members], optimizer=opt)


def _sequential(kids: st.SearchStrategy) -> st.SearchStrategy:
    members = st.lists(kids, min_size=1, max_size=3).map(tuple)
    return members.flatmap(lambda ms: st.builds(Sequential, st.just(ms), st.lists(
        st.integers(0, 300), min_size=len(ms) - 1, max_size=len(ms) - 1).map(lambda xs: tuple(sorted(xs)))))


edge_leaf = st.one_of(
    *chainable().values(), *ABSOLUTE.values(),
    leaf(L.StepLR, step_size=st.integers(1, 50), gamma=st.sampled_from([0.0, 1.0])),
    leaf(L.ExponentialLR, gamma=st.sampled_from([0.0, 1.0])),
    leaf(L.CosineAnnealingLR, T_max=st.integers(1, 3)),
    leaf(L.OneCycleLR, max_lr=st.floats(0.01, 1.0), total_steps=st.integers(601, 1000), pct_start=st.floats(0.0, 1.0),
         three_phase=st.booleans()),
)
trees = st.recursive(edge_leaf, lambda kids: _sequential(kids) | st.lists(kids, min_size=1, max_size=3).map(
    lambda ms: Chained(tuple(ms))), max_leaves=5)


@settings(PARITY, max_examples=60)
@given(lrs=lrs_st, recipe=trees)
# Found by CI: a gamma=0 member keeps multiplying by 0 after a chained cosine's additive restart.
@example(lrs=[0.0729, 0.8022, 0.5866], recipe=Chained((
    functools.partial(L.ExponentialLR, gamma=0.0), functools.partial(L.ExponentialLR, gamma=0.0),
    functools.partial(L.CosineAnnealingLR, T_max=3))))
@example(lrs=[0.0729, 0.8022, 0.5866], recipe=Chained((
    functools.partial(L.StepLR, step_size=2, gamma=0.0), functools.partial(L.CosineAnnealingLR, T_max=3))))
def test_any_composition_converts_exactly_or_refuses(lrs, recipe):
    # Milestones are not tracked through the tree here, so the drift bound carries across restarts:
    # looser than the targeted tests above, still a bound.
    sched = recipe(make_opt(lrs))
    try:
        got = ours(sched, 601)
    except ConversionError as e:
        event(f"refused: {str(e).split(':')[0]}")
        return
    event("converted")
    assert_drift_close(got, sched, stepped(sched, 600), what=repr(recipe))  # torch must run it, too


# ---- torch's conventions at the edges -------------------------------------------------------------------

EDGES = {
    "MultiStepLR repeated milestones and 0": lambda o: L.MultiStepLR(o, milestones=[0, 40, 40, 40, 90], gamma=0.5),
    "MultiStepLR gamma=0": lambda o: L.MultiStepLR(o, milestones=[0, 40, 40], gamma=0.0),
    "StepLR gamma=0": lambda o: L.StepLR(o, step_size=30, gamma=0.0),
    "ExponentialLR gamma=0": lambda o: L.ExponentialLR(o, gamma=0.0),
    "ConstantLR total_iters=0 keeps the factor": lambda o: L.ConstantLR(o, factor=0.25, total_iters=0),
    "LinearLR total_iters=0 keeps start_factor": lambda o: L.LinearLR(o, start_factor=0.25, total_iters=0),
    "PolynomialLR total_iters=0": lambda o: L.PolynomialLR(o, total_iters=0),
    "PolynomialLR power=0": lambda o: L.PolynomialLR(o, total_iters=50, power=0.0),
    "CosineAnnealingLR T_max=1": lambda o: L.CosineAnnealingLR(o, T_max=1, eta_min=0.01),
    "CyclicLR float step sizes": lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2.5, step_size_down=7.25),
    "CyclicLR built after another scheduler": lambda o: L.ChainedScheduler(
        [L.StepLR(o, step_size=5), L.CyclicLR(o, 0.01, 0.1, step_size_up=4)]),
    "OneCycleLR pct_start=0 starts part-way down": lambda o: L.OneCycleLR(o, 1.0, total_steps=HORIZON + 1,
                                                                          pct_start=0.0),
    "OneCycleLR tiny total_steps": lambda o: L.OneCycleLR(o, 1.0, total_steps=2, pct_start=0.3),
    "CosineAnnealingWarmRestarts T_mult=2": lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "SequentialLR repeated milestones and 0": lambda o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5), L.ExponentialLR(o, 0.99), L.StepLR(o, 10), L.LinearLR(o, 0.2)],
        milestones=[0, 50, 50]),
    "SequentialLR then OneCycleLR (overwrites initial_lr)": lambda o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, total_iters=20), L.OneCycleLR(o, 2.0, total_steps=3000)], milestones=[100]),
    "SequentialLR then CyclicLR, CosineAnnealingWarmRestarts": lambda o: L.SequentialLR(
        o, [L.CosineAnnealingLR(o, 100, eta_min=0.001), L.CyclicLR(o, 0.01, 0.1, 20),
            L.CosineAnnealingWarmRestarts(o, 30)],
        milestones=[300, 700]),
    "ChainedScheduler of chains (flattened)": lambda o: L.ChainedScheduler(
        [L.ChainedScheduler([L.ConstantLR(o, 0.5, 10), L.ExponentialLR(o, 0.999)]), L.MultiStepLR(o, [100, 200])]),
    "ChainedScheduler of one SequentialLR": lambda o: L.ChainedScheduler(
        [L.SequentialLR(o, [L.ConstantLR(o, 0.5, 10), L.StepLR(o, 7)], milestones=[30])]),
    "SequentialLR of one ChainedScheduler": lambda o: L.SequentialLR(
        o, [L.ChainedScheduler([L.PolynomialLR(o, 300, 2.0), L.ExponentialLR(o, 0.99)])], milestones=[]),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edge_cases_follow_step(name):
    sched = EDGES[name](make_opt([0.5, 0.05]))
    n = min(HORIZON, getattr(sched, "total_steps", HORIZON + 1) - 1)
    assert_drift_close(ours(sched, n + 1), sched, stepped(sched, n), what=name)


def test_one_cycle_maps_to_torch_knots():
    sched = L.OneCycleLR(make_opt([0.1]), max_lr=1.0, total_steps=100, pct_start=0.25, three_phase=True)
    spec = lrpulse.from_torch(sched).to_dict()
    assert spec["kind"] == "piecewise_interpolate" and spec["shape"] == "cos"
    assert spec["steps"] == [0.0, 24.0, 48.0, 99.0]  # pct_start * total_steps - 1, 2 (...) - 2, total_steps - 1
    assert spec["values"] == [1.0 / 25, 1.0, 1.0 / 25, 1.0 / 25 / 1e4]


# ---- API ------------------------------------------------------------------------------------------------


def test_groups_and_already_stepped_schedulers():
    opt = make_opt([0.3, 0.2, 0.1])
    sched = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=10), L.StepLR(opt, 25, 0.5)], milestones=[10])
    before = lrpulse.from_torch(sched)
    assert isinstance(before, list) and len(before) == 3
    ref = stepped(sched, 300)  # from_torch reads base LRs and parameters, not the optimizer's current LR
    after = lrpulse.from_torch(sched)
    assert after == before and [lrpulse.from_torch(sched, group=g) for g in range(3)] == before
    assert_f64_close(np.stack([s.trajectory(301) for s in after], axis=1), ref)
    single = L.ExponentialLR(make_opt([0.1]), gamma=0.9)
    assert isinstance(lrpulse.from_torch(single), lrpulse.Schedule)
    # A subclass that changes no behaviour is its torch class.
    assert lrpulse.from_torch(_PlainSubclass(make_opt([0.1]), 5)) == lrpulse.step_decay(lr=0.1, step_size=5, gamma=0.1)
    with pytest.raises(ParameterError, match=r"group must be in \[0, 3\), got group=3"):
        lrpulse.from_torch(sched, group=3)
    with pytest.raises(DTypeError, match="group must be an int"):
        lrpulse.from_torch(sched, group=True)


def test_tensor_learning_rates():
    # torch keeps a tensor LR in float32 and rounds it there at every step: float32 parity.
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1), momentum=0.9)
    sched = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=5), L.ExponentialLR(opt, 0.9)], milestones=[5])
    assert_f32_close(ours(sched, 11), stepped(sched, 10))


def test_import_does_not_load_torch():
    code = "import sys, lrpulse; lrpulse.from_torch; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


class _OwnGetLR(L.StepLR):
    def get_lr(self):
        return [0.5 for _ in self.optimizer.param_groups]


class _PlainSubclass(L.StepLR):
    pass


def _no_closed_form():
    opt = make_opt([0.1])
    return {
        "LambdaLR": (L.LambdaLR(opt, lambda t: 0.9**t), "LambdaLR: its LR is a user function"),
        "MultiplicativeLR": (L.MultiplicativeLR(opt, lambda t: 0.9), "MultiplicativeLR: it multiplies"),
        "ReduceLROnPlateau": (L.ReduceLROnPlateau(opt), "ReduceLROnPlateau: its LR depends on the metric"),
        "subclass with its own get_lr": (_OwnGetLR(opt, 5), "_OwnGetLR: it overrides StepLR.get_lr"),
        "not a scheduler": (opt, "cannot convert SGD: only torch's built-in"),
        "CyclicLR custom scale_fn": (L.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda x: 0.5), "custom scale_fn"),
        "SequentialLR chained with others": (
            L.ChainedScheduler([L.SequentialLR(opt, [L.StepLR(opt, 3), L.StepLR(opt, 5)], [10]), L.StepLR(opt, 2)]),
            "SequentialLR chained with other"),
        "cosine chained with a factor still changing after T_max": (
            L.ChainedScheduler([L.CosineAnnealingLR(opt, 10), L.ExponentialLR(opt, 0.9)]),
            "discarding ExponentialLR's factor"),
        "cosine with eta_min chained": (
            L.ChainedScheduler([L.ConstantLR(opt, 0.5, 2), L.CosineAnnealingLR(opt, 10, eta_min=0.01)]),
            r"CosineAnnealingLR\(eta_min=0.01\)"),
        "factor after CyclicLR in a chain": (
            L.ChainedScheduler([L.CyclicLR(opt, 0.01, 0.1), L.StepLR(opt, 2)]), "StepLR multiplies CyclicLR"),
        "MultiStepLR negative milestone": (L.MultiStepLR(opt, [-3, 10]), "negative milestones"),
        "StepLR fractional step_size": (L.StepLR(opt, 2.5), "step_size=2.5 is not a whole number"),
    }


@pytest.mark.parametrize("case", sorted(_no_closed_form()))
def test_no_closed_form_raises_conversion_error(case):
    sched, message = _no_closed_form()[case]
    with pytest.raises(ConversionError, match=message):
        lrpulse.from_torch(sched)


@pytest.mark.parametrize("composite", ["ChainedScheduler", "SequentialLR"])
def test_composite_started_at_a_milestone_raises_like_torch(composite):
    opt = make_opt([0.1])
    if composite == "ChainedScheduler":
        later = L.ChainedScheduler([L.StepLR(opt, 3), L.ExponentialLR(opt, 0.9)], optimizer=opt)
    else:
        later = L.SequentialLR(opt, [L.StepLR(opt, 3), L.ExponentialLR(opt, 0.9)], milestones=[5])
    sched = L.SequentialLR(opt, [L.ConstantLR(opt, 0.5), later], milestones=[4])
    with pytest.raises(ConversionError, match=f"{composite} that a SequentialLR starts at a milestone"):
        lrpulse.from_torch(sched)
    with pytest.raises(NotImplementedError):  # torch itself cannot run it past the milestone
        stepped(sched, 4)
