"""Hugging Face ``transformers.optimization`` schedules (transformers 5), as lrpulse Schedules.

Same names, arguments and defaults, except that the first argument is ``optimizer_or_lr``: a base
learning rate, or a torch optimizer (anything with ``param_groups``; it is only read). HF returns a
``LambdaLR`` whose LR is ``base_lr * lr_lambda(step)`` for each param group, ``base_lr`` being the
group's ``initial_lr`` (else ``lr``), as torch reads it. With an optimizer of several param groups
these functions return a list with one schedule per group, otherwise one schedule. ``s(t)`` equals the
LR after ``t`` calls to ``scheduler.step()``, in float64 like HF.

Conventions kept from HF (read from its source):

- warmups ramp linearly from 0 at step 0 to the base LR at ``num_warmup_steps`` (reached there, not
  one step earlier), except ``get_cosine_with_min_lr_schedule_with_warmup_lr_rate``, which runs one
  step ahead: ``(t + 1) / num_warmup_steps`` and a cosine of ``(t - warmup + 1) / span``;
- the decays run over ``max(1, num_training_steps - num_warmup_steps)`` steps; past the end the linear
  and polynomial ones hold their floor, the cosine ones keep following the cosine (HF does not clip),
  the hard-restart one drops to 0; ``num_cycles`` other than 0.5 gives that many cosine periods;
- the hard-restart cycles begin at the first step HF's float arithmetic puts in the next cycle, which
  for some ``num_cycles`` lands one step after the exact restart;
- ``lr_end`` (polynomial) and ``min_lr`` are absolute LRs that HF turns into ratios of
  ``optimizer.defaults["lr"]``, so other param groups are scaled by that same ratio.

Differences, all on input HF mishandles: step counts must be whole numbers >= 0 (HF's formulas shift the
schedule for a negative warmup); ``get_wsd_schedule`` refuses ``num_training_steps <
num_warmup_steps + num_decay_steps`` (HF silently starts the decay part-way); a polynomial decay with
``num_training_steps == num_warmup_steps`` holds ``lr_end`` where HF divides by zero. ``last_epoch`` is
accepted and has no effect: a schedule is a function of the step, the same when training resumes.
Schedules that depend on the loss (``get_reduce_on_plateau_schedule``, ``get_greedy_schedule``) or on
the optimizer's state (``get_adafactor_schedule``) raise :class:`~lrpulse.errors.ConversionError`.

>>> from lrpulse.compat import transformers as hf
>>> s = hf.get_cosine_schedule_with_warmup(1e-3, num_warmup_steps=100, num_training_steps=1100)
>>> float(s(0)), float(s(100)), float(s(600))
(0.0, 0.001, 0.0005)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import ConversionError, ParameterError
from ..schedules import Schedule, _number, constant, cosine, inverse_sqrt, linear, polynomial, warmup, wsd
from ._common import chain, positive, rate, whole_steps
from ._optimizer import Schedules, defaults_lr, per_group

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_inverse_sqrt_schedule",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_wsd_schedule",
    "get_reduce_on_plateau_schedule",
    "get_greedy_schedule",
    "get_adafactor_schedule",
    "get_scheduler",
]

def _warmup(w: float, rest: Schedule) -> Schedule:
    """HF's ramp ``base * t / w`` for ``t < w``, then ``rest`` on ``t - w``; ``rest(0)`` is the base LR."""
    return rest if w == 0 else warmup(rest, warmup_steps=w)


def _ramp_then(base: float, w: float, rest: Schedule) -> Schedule:
    """HF's ramp ``base * t / w`` for ``t < w``, then ``rest`` on ``t - w``, whatever ``rest(0)`` is."""
    return rest if w == 0 else chain([(0.0, linear(lr=base, steps=w, start_factor=0.0, end_factor=1.0)), (w, rest)])


def _warmup_and_total(num_warmup_steps: Any, num_training_steps: Any) -> tuple[float, float]:
    return whole_steps("num_warmup_steps", num_warmup_steps), whole_steps("num_training_steps", num_training_steps)


def _cycles(v: Any) -> float:
    x = _number("num_cycles", v)
    return abs(x)  # HF only takes cos() of num_cycles * angle, and cos is even


def _cosine_cycles(base: float, floor: float, span: float, cycles: float, begin: float = 0.0) -> Schedule:
    """``floor + (base - floor) * 0.5 * (1 + cos(pi * cycles * 2 * (s - begin) / span))``, unclipped."""
    if cycles == 0:
        return constant(lr=base)
    return cosine(lr=base, min_lr=floor, decay_steps=span / (2.0 * cycles), periodic=True, begin=begin)


def get_constant_schedule(optimizer_or_lr: Any, last_epoch: int = -1) -> Schedules:
    """The base LR at every step.

    >>> float(get_constant_schedule(3e-4)(10**6))
    0.0003
    """
    return per_group(optimizer_or_lr, last_epoch, lambda base: constant(lr=base))


def get_constant_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int, last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0 over ``num_warmup_steps``, then the base LR.

    >>> float(get_constant_schedule_with_warmup(1.0, num_warmup_steps=4)(1))
    0.25
    """
    w = whole_steps("num_warmup_steps", num_warmup_steps)
    return per_group(optimizer_or_lr, last_epoch, lambda base: _warmup(w, constant(lr=base)))


def get_linear_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int, num_training_steps: int,
                                    last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0, then linear decay to 0 at ``num_training_steps``, 0 after.

    >>> float(get_linear_schedule_with_warmup(1.0, 10, 110)(60))
    0.5
    """
    w, total = _warmup_and_total(num_warmup_steps, num_training_steps)

    def build(base: float) -> Schedule:
        if total - w >= 1:
            return _warmup(w, linear(lr=base, steps=total - w, start_factor=1.0, end_factor=0.0))
        return _ramp_then(base, w, constant(lr=0.0))  # no decay left: 0 from the end of the warmup

    return per_group(optimizer_or_lr, last_epoch, build)


def get_cosine_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int, num_training_steps: int,
                                    num_cycles: float = 0.5, last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0, then ``0.5 * (1 + cos(2 pi num_cycles p))`` of the base LR, ``p`` the
    fraction of the decay done; past ``num_training_steps`` it keeps following the cosine.

    >>> float(get_cosine_schedule_with_warmup(1.0, 0, 100)(50))
    0.5
    """
    return get_cosine_with_min_lr_schedule_with_warmup(optimizer_or_lr, num_warmup_steps, num_training_steps,
                                                       num_cycles, last_epoch, min_lr_rate=0.0)


def get_cosine_with_min_lr_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int,
                                                num_training_steps: int, num_cycles: float = 0.5,
                                                last_epoch: int = -1, min_lr: float | None = None,
                                                min_lr_rate: float | None = None) -> Schedules:
    """As ``get_cosine_schedule_with_warmup``, the cosine running between the base LR and
    ``min_lr`` (or ``min_lr_rate`` times the base LR).

    >>> float(get_cosine_with_min_lr_schedule_with_warmup(1.0, 0, 100, min_lr_rate=0.1)(100))
    0.1
    """
    w, total = _warmup_and_total(num_warmup_steps, num_training_steps)
    span, cycles = max(1.0, total - w), _cycles(num_cycles)
    ratio = _min_lr_ratio(optimizer_or_lr, min_lr, min_lr_rate)
    return per_group(optimizer_or_lr, last_epoch,
                      lambda base: _warmup(w, _cosine_cycles(base, base * ratio, span, cycles)))


def _min_lr_ratio(optimizer_or_lr: Any, min_lr: float | None, min_lr_rate: float | None) -> float:
    if min_lr is not None and min_lr_rate is not None:
        raise ParameterError(f"only one of min_lr or min_lr_rate may be set, got min_lr={min_lr}, "
                             f"min_lr_rate={min_lr_rate}")
    if min_lr is not None:
        return rate("min_lr", min_lr) / defaults_lr(optimizer_or_lr)
    if min_lr_rate is None:
        raise ParameterError("one of min_lr or min_lr_rate must be set, got neither")
    return rate("min_lr_rate", min_lr_rate)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        optimizer_or_lr: Any, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5,
        last_epoch: int = -1, min_lr: float | None = None, min_lr_rate: float | None = None,
        warmup_lr_rate: float | None = None) -> Schedules:
    """HF's one-step-ahead variant: the warmup runs from ``warmup_lr_rate`` (default
    ``1 / num_warmup_steps``) to 1 at step ``num_warmup_steps - 1``, and the cosine is evaluated at
    ``(t - num_warmup_steps + 1) / span``.

    >>> float(get_cosine_with_min_lr_schedule_with_warmup_lr_rate(1.0, 4, 104, min_lr_rate=0.0)(0))
    0.25
    """
    w, total = _warmup_and_total(num_warmup_steps, num_training_steps)
    span, cycles = max(1.0, total - w), _cycles(num_cycles)
    ratio = _min_lr_ratio(optimizer_or_lr, min_lr, min_lr_rate)
    start = 1.0 / max(1.0, w) if warmup_lr_rate is None else rate("warmup_lr_rate", warmup_lr_rate)

    def build(base: float) -> Schedule:
        decay = _cosine_cycles(base, base * ratio, span, cycles, begin=-1.0)
        if w == 0:
            return decay
        ramp = constant(lr=base * start) if w == 1 else linear(lr=base, steps=w - 1, start_factor=start, end_factor=1.0)
        return chain([(0.0, ramp), (w, decay)])

    return per_group(optimizer_or_lr, last_epoch, build)


def _restart_step(k: int, span: float, cycles: float) -> float:
    """The first step HF's ``float(cycles) * (step / span)`` puts in cycle ``k`` (exact rounding)."""
    guess = math.ceil(k * span / cycles)
    for step in (guess - 1, guess, guess + 1):
        if step >= 0 and math.floor(cycles * (step / span)) >= k:
            return float(step)
    return float(guess + 2)


def get_cosine_with_hard_restarts_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int,
                                                       num_training_steps: int, num_cycles: float = 1,
                                                       last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0, then ``num_cycles`` cosines from the base LR to 0, each restarting at
    the base LR; 0 from ``num_training_steps`` on.

    >>> float(get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 100, num_cycles=2)(50))
    1.0
    """
    w, total = _warmup_and_total(num_warmup_steps, num_training_steps)
    cycles = positive("num_cycles", num_cycles)
    span = max(1.0, total - w)
    period = span / cycles

    def build(base: float) -> Schedule:
        # One cosine per cycle, entered at the step HF enters it; `begin` places the cosine's phase at
        # the cycle's exact (fractional) start, which may lie up to a step before.
        pieces = []
        for k in range(math.ceil(cycles)):
            first = _restart_step(k, span, cycles)
            if first < span:  # a cycle entered at or after the end never runs: HF returns 0 there
                pieces.append((first, cosine(lr=base, decay_steps=period, begin=k * period - first)))
        if cycles != math.floor(cycles):
            pieces.append((span, constant(lr=0.0)))  # a cut-off last cycle: 0 once the progress reaches 1
        return _warmup(w, chain(pieces))

    return per_group(optimizer_or_lr, last_epoch, build)


def get_polynomial_decay_schedule_with_warmup(optimizer_or_lr: Any, num_warmup_steps: int, num_training_steps: int,
                                              lr_end: float = 1e-7, power: float = 1.0,
                                              last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0, then ``(lr_init - lr_end) * (1 - p) ** power + lr_end`` to
    ``num_training_steps``, ``lr_end`` after; ``lr_init`` is ``optimizer.defaults["lr"]``.

    >>> float(get_polynomial_decay_schedule_with_warmup(1.0, 0, 100, lr_end=0.0, power=2.0)(50))
    0.25
    """
    w, total = _warmup_and_total(num_warmup_steps, num_training_steps)
    lr_init, end, power = defaults_lr(optimizer_or_lr), rate("lr_end", lr_end), positive("power", power)
    if not lr_init > end:
        raise ParameterError(f"lr_end must be < the initial lr ({lr_init}), got lr_end={end}")

    def build(base: float) -> Schedule:
        floor = base * (end / lr_init)  # HF's LambdaLR multiplies the group's base LR by lr_end / lr_init
        if total > w:
            return _warmup(w, polynomial(lr=base, end_lr=floor, decay_steps=total - w, power=power))
        return _ramp_then(base, w, constant(lr=floor))

    return per_group(optimizer_or_lr, last_epoch, build)


def get_inverse_sqrt_schedule(optimizer_or_lr: Any, num_warmup_steps: int, timescale: int | None = None,
                              last_epoch: int = -1) -> Schedules:
    """Linear warmup from 0, then ``base / sqrt((t + timescale - num_warmup_steps) / timescale)``;
    ``timescale`` defaults to ``num_warmup_steps`` or 10000.

    >>> float(get_inverse_sqrt_schedule(1.0, num_warmup_steps=100)(400))
    0.5
    """
    w = whole_steps("num_warmup_steps", num_warmup_steps)
    scale = (w or 10_000) if timescale is None else _number("timescale", timescale)
    return per_group(optimizer_or_lr, last_epoch,
                      lambda base: inverse_sqrt(lr=base, warmup_steps=w, timescale=scale))


_WSD_SHAPES = {"linear": "linear", "cosine": "cosine", "1-sqrt": "sqrt"}


def get_wsd_schedule(optimizer_or_lr: Any, num_warmup_steps: int, num_decay_steps: int,
                     num_training_steps: int | None = None, num_stable_steps: int | None = None,
                     warmup_type: str = "linear", decay_type: str = "cosine", min_lr_ratio: float = 0,
                     num_cycles: float = 0.5, last_epoch: int = -1) -> Schedules:
    """Warmup-stable-decay: ``min_lr_ratio * base -> base`` over ``num_warmup_steps`` (``warmup_type``),
    the base LR for ``num_stable_steps`` (default: what ``num_training_steps`` leaves), back down over
    ``num_decay_steps`` (``decay_type``), then ``min_lr_ratio * base``.

    >>> float(get_wsd_schedule(1.0, 10, 10, num_training_steps=100, decay_type="linear")(95))
    0.5
    """
    w, decay = whole_steps("num_warmup_steps", num_warmup_steps), whole_steps("num_decay_steps", num_decay_steps)
    if num_training_steps is None and num_stable_steps is None:
        raise ParameterError("one of num_training_steps or num_stable_steps must be set, got neither")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn("Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used.",
                      stacklevel=2)
    for name, v in (("warmup_type", warmup_type), ("decay_type", decay_type)):
        if v not in _WSD_SHAPES:
            raise ParameterError(f"{name} must be 'linear', 'cosine' or '1-sqrt', got {name}={v!r}")
    if num_stable_steps is not None:
        stable = whole_steps("num_stable_steps", num_stable_steps)
    else:
        stable = whole_steps("num_training_steps", num_training_steps) - w - decay
        if stable < 0:
            raise ParameterError(f"num_training_steps must be >= num_warmup_steps + num_decay_steps ({w + decay}), "
                                 f"got num_training_steps={num_training_steps}")
    ratio, cycles = rate("min_lr_ratio", min_lr_ratio), _cycles(num_cycles)

    def build(base: float) -> Schedule:
        floor = base * ratio
        if decay_type != "cosine" or cycles == 0.5:
            return wsd(lr=base, min_lr=floor, warmup_steps=w, stable_steps=stable, decay_steps=decay,
                       warmup_shape=_WSD_SHAPES[warmup_type], decay_shape=_WSD_SHAPES[decay_type])
        # Other cycle counts: the warmup and stable phases, then the periodic cosine, then the floor.
        head = wsd(lr=base, min_lr=floor, warmup_steps=w, stable_steps=stable, decay_steps=0,
                   warmup_shape=_WSD_SHAPES[warmup_type])
        return chain([(0.0, head), (w + stable, _cosine_cycles(base, floor, max(1.0, decay), cycles)),
                      (w + stable + decay, constant(lr=floor))])

    return per_group(optimizer_or_lr, last_epoch, build)


def _no_closed_form(name: str, why: str) -> Callable[..., Schedules]:
    def refuse(optimizer_or_lr: Any = None, *args: Any, **kwargs: Any) -> Schedules:
        raise ConversionError(f"{name} has no closed form: {why}")

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = (f"Raises :class:`~lrpulse.errors.ConversionError`: {why}.\n\n"
                      f">>> {name}(1e-3)\nTraceback (most recent call last):\n    ...\n"
                      f"lrpulse.errors.ConversionError: {name} has no closed form: {why}\n")
    return refuse


get_reduce_on_plateau_schedule = _no_closed_form(
    "get_reduce_on_plateau_schedule", "ReduceLROnPlateau lowers the LR when the monitored metric stops "
    "improving, which depends on the run (lrpulse.diagnose reads a loss curve instead)")
get_greedy_schedule = _no_closed_form(
    "get_greedy_schedule", "GreedyLR moves the LR up and down following the training metrics")
get_adafactor_schedule = _no_closed_form(
    "get_adafactor_schedule", "Adafactor computes its LR inside the optimizer from its own state")

_BY_NAME: dict[str, Callable[..., Schedules]] = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "reduce_lr_on_plateau": get_reduce_on_plateau_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
    "greedy": get_greedy_schedule,
}


def get_scheduler(name: Any, optimizer_or_lr: Any, num_warmup_steps: int | None = None,
                  num_training_steps: int | None = None,
                  scheduler_specific_kwargs: dict[str, Any] | None = None) -> Schedules:
    """The schedule HF's ``get_scheduler`` (and ``Trainer``'s ``lr_scheduler_type``) picks by name.

    >>> float(get_scheduler("linear", 1.0, num_warmup_steps=0, num_training_steps=10)(5))
    0.5
    """
    key = getattr(name, "value", name)  # a transformers SchedulerType enum, or its string
    build = _BY_NAME.get(key) if isinstance(key, str) else None
    if build is None:
        raise ParameterError(f"name must be one of {', '.join(map(repr, _BY_NAME))}, got name={name!r}")
    kwargs = dict(scheduler_specific_kwargs or {})
    if key in ("constant", "reduce_lr_on_plateau", "greedy"):
        return build(optimizer_or_lr) if key == "constant" else build(optimizer_or_lr, **kwargs)
    if num_warmup_steps is None:
        raise ParameterError(f"{key} requires num_warmup_steps, got num_warmup_steps=None")
    if key == "constant_with_warmup":
        return build(optimizer_or_lr, num_warmup_steps=num_warmup_steps)
    if key == "inverse_sqrt":
        return build(optimizer_or_lr, num_warmup_steps=num_warmup_steps, **kwargs)
    if key != "warmup_stable_decay" and num_training_steps is None:
        raise ParameterError(f"{key} requires num_training_steps, got num_training_steps=None")
    return build(optimizer_or_lr, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs)
