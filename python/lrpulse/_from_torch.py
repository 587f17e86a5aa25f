"""Convert a built-in torch LR scheduler into the lrpulse schedule with the same values.

>>> import torch, lrpulse
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
>>> lrpulse.from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
lrpulse.step_decay(lr=0.1, step_size=30.0, gamma=0.5)

torch is never imported here: schedulers are recognised by the name of the torch class in their MRO,
their parameters read from the attributes torch stores (``base_lrs``, not the optimizer's current LR,
so an already-stepped scheduler still converts from step 0). ``s(t)`` is what torch reports after
``t`` calls to ``step()``.

Conventions found in torch 2.15 (``torch/optim/lr_scheduler.py``) and reproduced here:

- Single schedulers follow torch's closed forms (``_get_closed_form_lr``) in torch's operation order.
  ``step()`` is chainable (each step multiplies the group's current LR), so long stepped trajectories
  drift from the closed form by a few ulps per step; ``benches/parity_torch.py`` measures it.
- ``OneCycleLR`` phases end at ``pct_start * total_steps - 1`` and ``total_steps - 1``: a
  ``piecewise_interpolate`` through torch's own knots. Past ``total_steps - 1`` torch extrapolates once
  and then raises; lrpulse holds the final LR.
- ``SequentialLR`` starts member ``i`` at milestone ``m`` through ``_update_lr(0)``, i.e. its closed
  form at 0 from its ``base_lrs``, then steps it: members see their own local step. The first member
  starts from the group's ``initial_lr``. A SequentialLR nested first in another runs one step ahead
  (its milestones act one step early), and the members it starts from ``last_epoch=-1`` are stepped
  without torch's "initial" flag: ``ExponentialLR`` then applies ``gamma`` already at step 0,
  ``PolynomialLR`` and ``CosineAnnealingLR`` a first ratio. Both quirks are reproduced.
- ``ChainedScheduler`` multiplies its members' factors: ``product`` of ``constant(base)`` and one
  factor schedule per member. ``CosineAnnealingLR`` in a chain restarts from its own ``base_lr`` after
  ``T_max`` (an additive step), discarding the other members' factors; that is a closed form only if
  they have stopped changing by then. ``CyclicLR``, ``OneCycleLR`` and warm restarts set the LR
  outright, overriding the members before them.
- ``CyclicLR`` built after another scheduler on the same optimizer reports the group's ``initial_lr``
  at step 0 (its constructor steps before it stores its ``base_lrs``).
- Where torch's ``step()`` and its own closed form disagree (e.g. ``ConstantLR(total_iters=0)`` keeps
  the factor forever), lrpulse follows ``step()``, the LR training actually uses.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConversionError, DTypeError, LrpulseError, ParameterError
from .schedules import (
    Schedule,
    constant,
    cosine,
    cosine_restarts,
    cyclic,
    exponential,
    linear,
    multi_step,
    piecewise_constant,
    piecewise_interpolate,
    polynomial,
    product,
    sequence,
    step_decay,
)

__all__ = ["from_torch"]

_TORCH_MODULE = "torch.optim.lr_scheduler"
_NO_CLOSED_FORM = {
    "LambdaLR": "its LR is a user function (lr_lambda) of the step",
    "MultiplicativeLR": "it multiplies the LR by a user function (lr_lambda) at every step",
    "ReduceLROnPlateau": "its LR depends on the metric values passed to step(), not on the step count",
}
# Methods that define a scheduler's values: a subclass overriding one is not the torch class any more.
_BEHAVIOUR = ("get_lr", "step", "_get_closed_form_lr", "_update_lr", "_initial_step")

# How torch started a scheduler (see the module docstring).
_BUILT = "built"  # its constructor's first step (torch's initial mode)
_INITIAL = "initial"  # SequentialLR's constructor re-running that first step
_BLIND = "blind"  # stepped from last_epoch=-1 by an enclosing SequentialLR, without the initial flag
_RESTART = "restart"  # started by SequentialLR at a milestone: _update_lr(0), the closed form at 0


@dataclass(frozen=True)
class _Part:
    """One leaf scheduler for one param group.

    ``absolute``: its LR ignores the group's incoming LR (CyclicLR, OneCycleLR, warm restarts).
    Otherwise it multiplies the incoming LR: ``make(scale)`` builds the schedule with LR ``scale`` at
    factor 1; ``settle`` is the step from which its factor is constant (None: never); ``restart`` is
    CosineAnnealingLR's T_max, after which torch restarts it from ``base``; ``eta`` its eta_min.
    """

    name: str
    base: float
    absolute: Schedule | None = None
    make: Callable[[float], Schedule] | None = None
    settle: float | None = None
    restart: int | None = None
    eta: float = 0.0


def from_torch(scheduler: Any, group: int | None = None) -> Schedule | list[Schedule]:
    """The lrpulse schedule(s) with the LRs of a torch scheduler, from step 0.

    ``group=None``: one Schedule if the optimizer has one param group, else a list with one per group;
    ``group=i``: param group ``i``'s Schedule. Raises ``ConversionError`` for schedulers without a
    closed form (``LambdaLR``, ``MultiplicativeLR``, ``ReduceLROnPlateau``, custom ones).

    >>> import torch, lrpulse
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=10)
    >>> decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=90)
    >>> s = lrpulse.from_torch(torch.optim.lr_scheduler.SequentialLR(opt, [warm, decay], milestones=[10]))
    >>> float(s(0)), float(s(10)), float(s(55))
    (0.1, 1.0, 0.5)
    """
    _torch_class(scheduler)  # reject unknown objects before touching their attributes
    groups = getattr(getattr(scheduler, "optimizer", None), "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise ConversionError(f"{type(scheduler).__name__} has no optimizer with param groups")
    if group is None:
        out = [_convert(scheduler, g, _BUILT, None, 0) for g in range(len(groups))]
        return out[0] if len(out) == 1 else out
    if isinstance(group, bool) or not isinstance(group, int):
        raise DTypeError(f"group must be an int or None, got group={group!r}")
    if not 0 <= group < len(groups):
        raise ParameterError(f"group must be in [0, {len(groups)}), got group={group}")
    return _convert(scheduler, group, _BUILT, None, 0)


def _torch_class(s: Any) -> str:
    """The name of the built-in torch scheduler class ``s`` is, or ConversionError."""
    for i, cls in enumerate(type(s).__mro__):
        if cls.__module__ != _TORCH_MODULE:
            continue
        name = cls.__name__
        if name in _NO_CLOSED_FORM:
            raise ConversionError(f"cannot convert {name}: {_NO_CLOSED_FORM[name]}, which has no closed form")
        if name not in _LEAVES and name not in ("SequentialLR", "ChainedScheduler"):
            break
        for sub in type(s).__mro__[:i]:
            overridden = [m for m in _BEHAVIOUR if m in vars(sub)]
            if overridden:
                raise ConversionError(f"cannot convert {type(s).__name__}: it overrides {name}.{overridden[0]}, "
                                      "so its LRs have no known closed form")
        return name
    raise ConversionError(f"cannot convert {type(s).__name__}: only torch's built-in LR schedulers have a known "
                          "closed form")


def _initial_lr(s: Any, g: int) -> float:
    return float(s.optimizer.param_groups[g]["initial_lr"])


def _int_param(s: Any, attr: str, value: Any | None = None) -> int:
    """An integer-valued step parameter; torch's step() and closed form disagree on any other."""
    v = getattr(s, attr) if value is None else value
    if isinstance(v, bool) or not float(v).is_integer():
        raise ConversionError(f"cannot convert {type(s).__name__}: {attr}={v!r} is not a whole number of steps, "
                              "where torch's step() and closed form disagree")
    return int(v)


# ---- leaves ------------------------------------------------------------------------------------------


def _leaf(s: Any, g: int, mode: str) -> _Part:
    name = _torch_class(s)
    try:
        return _LEAVES[name](s, g, mode)
    except LrpulseError as e:
        if isinstance(e, ConversionError):
            raise
        raise ConversionError(f"cannot convert {name}: {e}") from e


def _base(s: Any, g: int) -> float:
    return float(s.base_lrs[g])


def _step_lr(s: Any, g: int, mode: str) -> _Part:
    size, gamma = _int_param(s, "step_size"), float(s.gamma)
    if size <= 0:
        raise ConversionError(f"cannot convert StepLR: step_size must be > 0, got step_size={size}")
    if gamma == 0.0:  # 0 ** k is 0 from the first decay on; in a chain it keeps multiplying by 0, never settling
        return _Part("StepLR", _base(s, g), make=lambda lr: piecewise_constant([size], [lr, 0.0]), settle=None)
    return _Part("StepLR", _base(s, g), make=lambda lr: step_decay(lr=lr, step_size=size, gamma=gamma),
                 settle=0 if gamma == 1.0 else None)


def _multi_step_lr(s: Any, g: int, mode: str) -> _Part:
    gamma = float(s.gamma)
    counts = {_int_param(s, "milestones", m): int(c) for m, c in s.milestones.items()}
    if any(m < 0 for m in counts):
        raise ConversionError(f"cannot convert MultiStepLR: negative milestones {sorted(counts)} are never reached "
                              "by step() but counted by torch's closed form")
    marks = sorted(counts)
    if gamma > 0.0 and all(counts[m] == 1 for m in marks):
        make = lambda lr: multi_step(lr=lr, milestones=marks, gamma=gamma)  # noqa: E731
    else:  # repeated milestones decay by gamma ** count (torch keeps a Counter), or gamma == 0
        make = _piecewise_decay(marks, [sum(counts[m] for m in marks[: i + 1]) for i in range(len(marks))], gamma)
    return _Part("MultiStepLR", _base(s, g), make=make, settle=marks[-1] if marks else 0)


def _piecewise_decay(marks: list[int], exps: list[int], gamma: float) -> Callable[[float], Schedule]:
    """``lr * gamma ** exps[i]`` from ``marks[i]`` on (a milestone at 0 already applies at step 0)."""
    start = exps[0] if marks and marks[0] == 0 else 0
    bounds = [m for m in marks if m > 0]
    powers = [start] + [k for m, k in zip(marks, exps, strict=True) if m > 0]
    return lambda lr: piecewise_constant(bounds, [lr * gamma**k for k in powers])


def _constant_lr(s: Any, g: int, mode: str) -> _Part:
    factor, n = float(s.factor), _int_param(s, "total_iters")
    if n <= 0:
        if mode == _RESTART:  # the closed form at 0 already restores the LR, and step() never changes it
            return _Part("ConstantLR", _base(s, g), make=lambda lr: constant(lr * (factor + (1 - factor))), settle=0)
        return _Part("ConstantLR", _base(s, g), make=lambda lr: constant(lr * factor), settle=0)
    # torch's closed form: base * (factor + (t >= n) * (1 - factor)).
    return _Part("ConstantLR", _base(s, g), settle=n,
                 make=lambda lr: piecewise_constant([n], [lr * factor, lr * (factor + (1 - factor))]))


def _linear_lr(s: Any, g: int, mode: str) -> _Part:
    start, end, n = float(s.start_factor), float(s.end_factor), _int_param(s, "total_iters")
    if n <= 0:
        if mode == _RESTART:
            raise ConversionError(f"cannot convert LinearLR(total_iters={n}) started by SequentialLR at a milestone: "
                                  "torch restarts it through its closed form, which needs total_iters >= 1")
        return _Part("LinearLR", _base(s, g), make=lambda lr: constant(lr * start), settle=0)
    return _Part("LinearLR", _base(s, g), settle=n,
                 make=lambda lr: linear(lr=lr, steps=n, start_factor=start, end_factor=end))


def _exponential_lr(s: Any, g: int, mode: str) -> _Part:
    gamma = float(s.gamma)
    # Stepped without the initial flag, torch already multiplies by gamma at step 0.
    first = gamma if mode == _BLIND else 1.0
    if gamma == 0.0:  # its value stays 0, but in a chain it multiplies by 0 at every step: never settles
        return _Part("ExponentialLR", _base(s, g), settle=None,
                     make=lambda lr: piecewise_constant([1], [lr * first, 0.0]))
    return _Part("ExponentialLR", _base(s, g), settle=0 if gamma == 1.0 else None,
                 make=lambda lr: exponential(lr=lr * first, decay_rate=gamma))


def _polynomial_lr(s: Any, g: int, mode: str) -> _Part:
    n, power = _int_param(s, "total_iters"), float(s.power)
    if n <= 0 or power == 0.0:
        if mode == _RESTART and n <= 0:
            raise ConversionError(f"cannot convert PolynomialLR(total_iters={n}) started by SequentialLR at a "
                                  "milestone: torch restarts it through its closed form, which needs total_iters >= 1")
        return _Part("PolynomialLR", _base(s, g), make=constant, settle=0)
    # Stepped without the initial flag, torch applies the ratio of steps -1 -> 0 first.
    first = ((1.0 - 0 / n) / (1.0 - (0 - 1) / n)) ** power if mode == _BLIND else 1.0
    return _Part("PolynomialLR", _base(s, g), settle=n,
                 make=lambda lr: polynomial(lr=lr * first, decay_steps=n, power=power))


def _cosine_annealing_lr(s: Any, g: int, mode: str) -> _Part:
    n, eta = _int_param(s, "T_max"), float(s.eta_min)
    if n <= 0:
        raise ConversionError(f"cannot convert CosineAnnealingLR: T_max must be > 0, got T_max={n}")
    if mode != _BLIND:  # torch's closed form, which its step() follows past T_max too
        return _Part("CosineAnnealingLR", _base(s, g), restart=n, eta=eta,
                     make=lambda lr: cosine(lr=lr, decay_steps=n, min_lr=eta, periodic=True))
    if eta != 0.0 or n == 1:
        raise ConversionError(f"cannot convert CosineAnnealingLR(T_max={n}, eta_min={eta}) stepped by an enclosing "
                              "SequentialLR from last_epoch=-1: torch then scales its first T_max steps by the "
                              "ratio of steps -1 -> 0, which has a closed form only for eta_min=0, T_max>1")
    # Until T_max the ratio of steps -1 -> 0 scales every value; the additive restart after T_max drops it.
    first = (1 + math.cos(math.pi * 0 / n)) / (1 + math.cos(math.pi * (0 - 1) / n))
    return _Part("CosineAnnealingLR", _base(s, g), restart=n, eta=eta,
                 make=lambda lr: product([cosine(lr=lr, decay_steps=n, periodic=True),
                                          piecewise_constant([n + 1], [first, 1.0])]))


def _cyclic_lr(s: Any, g: int, mode: str) -> _Part:
    if getattr(s, "_scale_fn_custom", None) is not None:
        raise ConversionError("cannot convert CyclicLR with a custom scale_fn: a user function has no closed form")
    total, ratio = float(s.total_size), float(s.step_ratio)
    # torch keeps only total_size = up + down and step_ratio = up / total_size; recover whole step sizes.
    up = ratio * total
    if abs(up - round(up)) <= 1e-9 * total:
        up = float(round(up))
    base = float(s.base_lrs[g])
    schedule = cyclic(base_lr=base, max_lr=float(s.max_lrs[g]), step_size_up=up, step_size_down=total - up,
                      mode=s.mode, gamma=float(s.gamma))
    first = _initial_lr(s, g)
    if mode == _BUILT and first != base:
        # torch's constructor steps before it stores base_lrs, so its step 0 reports the group's
        # initial_lr when another scheduler had set that first.
        if base == 0.0:
            raise ConversionError(f"cannot convert CyclicLR(base_lr=0) built after another scheduler: its step 0 "
                                  f"reports initial_lr={first}")
        schedule = product([schedule, piecewise_constant([1], [first / base, 1.0])])
    return _Part("CyclicLR", base, absolute=schedule)


def _one_cycle_lr(s: Any, g: int, mode: str) -> _Part:
    values = s.optimizer.param_groups[g]
    shape = getattr(s, "_anneal_func_type", None)
    if shape not in ("cos", "linear"):
        raise ConversionError(f"cannot convert OneCycleLR with anneal strategy {shape!r}")
    last = s.total_steps - 1  # torch's domain: it raises past step total_steps
    # torch picks the first phase with t <= end_step (else the last), interpolating from the previous
    # phase's end_step. Keep the phases some step in [0, last] selects; they chain end to start. With
    # pct_start * total_steps < 1 the warmup ends before step 0 and the first knot is negative.
    knots: list[float] = []
    lrs: list[float] = []
    hi = -math.inf
    for i, phase in enumerate(s._schedule_phases):
        start = 0.0 if i == 0 else float(s._schedule_phases[i - 1]["end_step"])
        end = float(phase["end_step"])
        upper = math.inf if i == len(s._schedule_phases) - 1 else end
        if upper >= 0 and upper > hi and hi < last:
            if knots and start != knots[-1]:
                raise ConversionError("cannot convert OneCycleLR: its phases do not join up")
            if not knots:
                knots, lrs = [start], [float(values[phase["start_lr"]])]
            knots.append(end)
            lrs.append(float(values[phase["end_lr"]]))
        hi = max(hi, end)
    return _Part("OneCycleLR", lrs[0], absolute=piecewise_interpolate(knots, lrs, shape=shape))


def _warm_restarts(s: Any, g: int, mode: str) -> _Part:
    schedule = cosine_restarts(lr=_base(s, g), period=_int_param(s, "T_0"), min_lr=float(s.eta_min),
                               period_mult=_int_param(s, "T_mult"))
    return _Part("CosineAnnealingWarmRestarts", _base(s, g), absolute=schedule)


_LEAVES: dict[str, Callable[[Any, int, str], _Part]] = {
    "StepLR": _step_lr,
    "MultiStepLR": _multi_step_lr,
    "ConstantLR": _constant_lr,
    "LinearLR": _linear_lr,
    "ExponentialLR": _exponential_lr,
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "CyclicLR": _cyclic_lr,
    "OneCycleLR": _one_cycle_lr,
    "CosineAnnealingWarmRestarts": _warm_restarts,
}


def _alone(part: _Part, lr: float) -> Schedule:
    """A leaf running on its own from incoming LR ``lr``."""
    if part.absolute is not None:
        return part.absolute
    if part.restart is not None and lr != part.base:
        raise ConversionError(f"cannot convert {part.name}: it starts from LR {lr} but restarts from its base_lr "
                              f"{part.base} after T_max, which has no closed form")
    assert part.make is not None
    return part.make(lr)


# ---- composites --------------------------------------------------------------------------------------


def _convert(s: Any, g: int, mode: str, lr: float | None, shift: int) -> Schedule:
    """``s``'s schedule for group ``g``, started the way ``mode`` says from incoming LR ``lr`` (None: the
    scheduler's own start, i.e. a top-level scheduler); ``shift``: see :func:`_sequential`."""
    name = _torch_class(s)
    if name == "SequentialLR":
        return _sequential(s, g, mode, _initial_lr(s, g) if lr is None else lr, shift)
    if name == "ChainedScheduler":
        return _chained(s, g, mode, lr, shift)
    part = _leaf(s, g, mode)
    return _alone(part, part.base if mode == _RESTART or lr is None else lr)


def _sequential(s: Any, g: int, mode: str, lr: float, shift: int) -> Schedule:
    """``shift``: how far the SequentialLR's own clock runs ahead of the top-level step (torch steps a
    SequentialLR nested first in another once more for every enclosing constructor)."""
    if mode == _RESTART:
        raise ConversionError("cannot convert a SequentialLR that a SequentialLR starts at a milestone: torch "
                              "calls its _update_lr(0), which raises NotImplementedError")
    marks = [_int_param(s, "milestones", m) for m in s._milestones]
    if marks != sorted(marks):
        raise ConversionError(f"cannot convert SequentialLR: milestones {marks} are not sorted")
    members = s._schedulers
    first = bisect_right(marks, shift)  # the member running at step 0 (its clock reads `shift`)
    if shift == 0:
        first_mode = _INITIAL
    else:
        first_mode = _RESTART if first > 0 and marks[first - 1] == shift else _BLIND
    pieces = [_convert(members[first], g, first_mode, lr, shift + 1)]
    bounds = []
    for j in range(first + 1, len(members)):
        if j + 1 < len(members) and marks[j] == marks[j - 1]:
            continue  # two equal milestones: torch goes straight to the later member
        bounds.append(marks[j - 1] - shift)
        pieces.append(_convert(members[j], g, _RESTART, lr, 0))
    return pieces[0] if len(pieces) == 1 else sequence(pieces, bounds)


def _flat(s: Any) -> list[Any]:
    out = []
    for m in s._schedulers:
        out.extend(_flat(m) if _torch_class(m) == "ChainedScheduler" else [m])
    return out


def _chained(s: Any, g: int, mode: str, lr: float | None, shift: int) -> Schedule:
    """``lr=None``: a top-level ChainedScheduler, else the LR an enclosing SequentialLR starts it from."""
    if mode == _RESTART:
        raise ConversionError("cannot convert a ChainedScheduler that a SequentialLR starts at a milestone: torch "
                              "calls its _update_lr(0), which raises NotImplementedError")
    members = _flat(s)
    # Its constructor does not step: members were stepped by their own constructors, or (inside a
    # SequentialLR) by ChainedScheduler.step() from last_epoch=-1, without the initial flag.
    member_mode = _BUILT if lr is None else _BLIND
    if len(members) == 1:
        return _convert(members[0], g, member_mode, lr, shift)
    for m in members:
        if _torch_class(m) == "SequentialLR":
            raise ConversionError("cannot convert a SequentialLR chained with other schedulers: at each milestone "
                                  "it restarts from its base LR, discarding their factors")
    parts = [_leaf(m, g, member_mode) for m in members]
    absolute = [i for i, p in enumerate(parts) if p.absolute is not None]
    if absolute:
        last = absolute[-1]
        if last != len(parts) - 1:
            raise ConversionError(f"cannot convert ChainedScheduler: {parts[last + 1].name} multiplies "
                                  f"{parts[last].name}'s LR by its own per-step ratio, which has no closed form")
        return parts[last].absolute  # type: ignore[return-value]  # it sets the LR, overriding the others
    base = parts[0].base if lr is None else lr
    factors = [p.make(1.0) for p in parts]  # type: ignore[misc]
    for i, cos in enumerate(parts):
        t_max = cos.restart
        if t_max is None:
            continue
        if cos.eta != 0.0 or cos.base != base:
            raise ConversionError(f"cannot convert ChainedScheduler: CosineAnnealingLR(eta_min={cos.eta}) with base "
                                  f"LR {cos.base} is not a factor of the chain's LR {base}")
        for j, other in enumerate(parts):
            if j == i:
                continue
            # After T_max torch sets the LR from the cosine alone; the members before it in the chain
            # lose their ratio of step T_max+1, those after it keep it.
            limit = t_max + 1 if j < i else t_max
            if other.settle is None or other.settle > limit:
                raise ConversionError(f"cannot convert ChainedScheduler: after T_max={t_max} CosineAnnealingLR "
                                      f"restarts from its base LR, discarding {other.name}'s factor, which still "
                                      "changes then; this has no closed form")
            factors[j] = sequence([factors[j], constant(1.0)], [t_max + 1])
    return product([constant(base), *factors])
