"""optax's schedule constructors (optax 0.2), returning lrpulse Schedules with the same values.

Same names, arguments and defaults as ``optax.schedules``. ``s(t)`` is the value optax's schedule
returns for ``count = t``, which is also the native lrpulse convention (the LR of update ``t``).
optax computes in float32 under jax, lrpulse in float64: the values agree to float32 rounding of
optax's result (its parameters are rounded to float32 first, so a decay rate such as 0.999 raised to a
large power differs by more than that rounding; pass float32-representable values to compare bitwise
closely).

Conventions kept from optax (read from its source):

- boundaries (``join_schedules``, ``piecewise_constant_schedule``): the new value applies *at* the
  boundary (``count >= boundary``), and a joined schedule counts its own steps from its boundary;
- ``exponential_decay`` clips at ``end_value`` at every step, the ones before ``transition_begin``
  included; a non-positive ``transition_steps``, or ``decay_rate == 0``, gives a constant;
- ``polynomial_schedule``/``linear_schedule``: constant ``init_value`` if ``transition_steps <= 0``; a
  negative ``transition_begin`` counts as 0; ``end_value`` is held after the transition;
- ``cosine_decay_schedule`` holds ``alpha * init_value`` after ``decay_steps``;
- the one-cycle schedules truncate their phase boundaries with ``int()``.

Differences: where optax accepts input that makes no learning rate (negative values or scales, a
negative power or warmup, fractional interpolation boundaries), lrpulse raises
:class:`~lrpulse.errors.ParameterError` naming the argument; ``join_schedules`` wants exactly one
boundary fewer than schedules (optax's ``zip`` drops the extras). A ``staircase`` decay drops at every
exact multiple of ``transition_steps``: jax divides through a reciprocal, so for some step counts (on
CPU e.g. 49 or 107) optax's ``count / transition_steps`` lands just under the whole number and its
drop comes one step late.

>>> from lrpulse.compat import optax as ox
>>> s = ox.warmup_cosine_decay_schedule(init_value=0.0, peak_value=1e-3, warmup_steps=100,
...                                     decay_steps=1100, end_value=1e-5)
>>> float(s(100)), float(s(1100))
(0.001, 1e-05)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import DTypeError, ParameterError
from ..schedules import (
    Schedule,
    _call_with_fields,
    _flag,
    _number,
    constant,
    cosine,
    exponential,
    piecewise_constant,
    piecewise_interpolate,
    polynomial,
)
from ._common import chain, non_negative, positive, rate, whole_steps

__all__ = [
    "constant_schedule",
    "polynomial_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "exponential_decay",
    "cosine_decay_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
    "warmup_constant_schedule",
    "sgdr_schedule",
    "cosine_onecycle_schedule",
    "linear_onecycle_schedule",
    "piecewise_interpolate_schedule",
    "join_schedules",
]


def constant_schedule(value: float) -> Schedule:
    """``value`` at every step.

    >>> float(constant_schedule(5e-4)(10**6))
    0.0005
    """
    return constant(lr=rate("value", value))


def polynomial_schedule(init_value: float, end_value: float, power: float, transition_steps: float,
                        transition_begin: float = 0) -> Schedule:
    """``(init - end) * (1 - clip(t - begin, 0, steps) / steps) ** power + end``.

    >>> float(polynomial_schedule(init_value=1.0, end_value=0.0, power=2, transition_steps=100)(50))
    0.25
    """
    init, end = rate("init_value", init_value), rate("end_value", end_value)
    power, steps = non_negative("power", power), _number("transition_steps", transition_steps)
    begin = max(_number("transition_begin", transition_begin), 0.0)
    if steps <= 0 or power == 0:
        return constant(lr=init)  # optax: no transition at all, or frac ** 0 == 1 throughout
    return polynomial(lr=init, end_lr=end, decay_steps=steps, power=power, begin=begin)


def linear_schedule(init_value: float, end_value: float, transition_steps: float,
                    transition_begin: float = 0) -> Schedule:
    """Linear from ``init_value`` to ``end_value`` over ``transition_steps`` (``polynomial_schedule``
    with ``power=1``).

    >>> float(linear_schedule(init_value=0.0, end_value=1.0, transition_steps=10)(5))
    0.5
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def _sorted_scales(boundaries_and_scales: Mapping[float, float] | None) -> list[tuple[float, float]]:
    if boundaries_and_scales is None:
        return []
    if not isinstance(boundaries_and_scales, Mapping):
        raise DTypeError(f"boundaries_and_scales must be a dict {{step: scale}}, got {boundaries_and_scales!r}")
    items = []
    for b, s in boundaries_and_scales.items():
        items.append((_number("boundaries_and_scales key", b), rate(f"boundaries_and_scales[{b!r}]", s)))
    return sorted(items)


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: Mapping[float, float] | None = None) -> Schedule:
    """``init_value`` times every scale whose boundary is ``<= t``.

    >>> float(piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.1})(200))
    0.010000000000000002
    """
    values, boundaries = [rate("init_value", init_value)], []
    for b, s in _sorted_scales(boundaries_and_scales):
        if b <= 0:
            values[-1] *= s  # passed at every step, step 0 included
        else:
            boundaries.append(b)
            values.append(values[-1] * s)
    if not boundaries:
        return constant(lr=values[0])
    return piecewise_constant(boundaries, values, side="right")


def exponential_decay(init_value: float, transition_steps: float, decay_rate: float, transition_begin: float = 0,
                      staircase: bool = False, end_value: float | None = None) -> Schedule:
    """``init * decay_rate ** ((t - begin) / steps)`` (exponent floored if ``staircase``), ``init``
    before ``transition_begin``, clipped at ``end_value`` (a floor when ``decay_rate < 1``).

    >>> float(exponential_decay(1.0, transition_steps=10, decay_rate=0.5)(20))
    0.25
    """
    init = rate("init_value", init_value)
    steps, decay = _number("transition_steps", transition_steps), non_negative("decay_rate", decay_rate)
    begin = max(_number("transition_begin", transition_begin), 0.0)
    staircase = _flag("staircase", staircase)
    end = None if end_value is None else rate("end_value", end_value)
    if steps <= 0 or decay == 0:
        return constant(lr=init)
    if end is not None and (end >= init if decay < 1 else end <= init):
        return constant(lr=end)  # the clip binds at every step, the ones before transition_begin too
    return exponential(lr=init, decay_rate=decay, decay_steps=steps, staircase=staircase, begin=begin, end_lr=end)


def cosine_decay_schedule(init_value: float, decay_steps: float, alpha: float = 0.0,
                          exponent: float = 1.0) -> Schedule:
    """``init * ((1 - alpha) * (0.5 * (1 + cos(pi * min(t, decay_steps) / decay_steps))) ** exponent + alpha)``.

    >>> float(cosine_decay_schedule(1.0, decay_steps=100, alpha=0.1)(100))
    0.1
    """
    init, steps = rate("init_value", init_value), positive("decay_steps", decay_steps)
    alpha, exponent = rate("alpha", alpha), non_negative("exponent", exponent)
    if exponent == 0:
        return constant(lr=init)  # cosine ** 0 == 1 at every step
    return cosine(lr=init, decay_steps=steps, min_lr=alpha * init, exponent=exponent)


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: float, decay_steps: float,
                                 end_value: float = 0.0, exponent: float = 1.0) -> Schedule:
    """Linear ``init_value -> peak_value`` over ``warmup_steps``, then a cosine to ``end_value`` at
    ``decay_steps`` (which counts the warmup).

    >>> float(warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)(60))
    0.5
    """
    peak, end = rate("peak_value", peak_value), rate("end_value", end_value)
    w, total = non_negative("warmup_steps", warmup_steps), _number("decay_steps", decay_steps)
    if total <= w:
        raise ParameterError(f"decay_steps must be > warmup_steps ({w}) as it includes the warmup, "
                             f"got decay_steps={total}")
    alpha = 0.0 if peak == 0.0 else end / peak
    return join_schedules([linear_schedule(init_value, peak, w),
                           cosine_decay_schedule(peak, total - w, alpha=alpha, exponent=exponent)], [w])


def warmup_exponential_decay_schedule(init_value: float, peak_value: float, warmup_steps: float,
                                      transition_steps: float, decay_rate: float, transition_begin: float = 0,
                                      staircase: bool = False, end_value: float | None = None) -> Schedule:
    """Linear ``init_value -> peak_value`` over ``warmup_steps``, then ``exponential_decay`` from
    ``peak_value``, counting its steps from the end of the warmup.

    >>> float(warmup_exponential_decay_schedule(0.0, 1.0, 10, transition_steps=10, decay_rate=0.5)(30))
    0.25
    """
    peak, w = rate("peak_value", peak_value), non_negative("warmup_steps", warmup_steps)
    decay = exponential_decay(peak, transition_steps, decay_rate, transition_begin, staircase, end_value)
    return join_schedules([linear_schedule(init_value, peak, w), decay], [w])


def warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: float) -> Schedule:
    """Linear ``init_value -> peak_value`` over ``warmup_steps``, then ``peak_value`` (and
    ``init_value`` throughout if ``warmup_steps <= 0``, as optax does).

    >>> float(warmup_constant_schedule(0.0, 1.0, warmup_steps=4)(1))
    0.25
    """
    return linear_schedule(init_value, peak_value, warmup_steps)


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> Schedule:
    """Warm restarts: one ``warmup_cosine_decay_schedule(**kwargs)`` after another, each
    ``decay_steps`` long.

    >>> s = sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=0, decay_steps=10)] * 3)
    >>> float(s(20))
    1.0
    """
    if isinstance(cosine_kwargs, Mapping) or not isinstance(cosine_kwargs, Iterable):
        raise DTypeError(f"cosine_kwargs must be a list of dicts, got cosine_kwargs={cosine_kwargs!r}")
    schedules, boundaries, step = [], [], 0.0
    for i, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise DTypeError(f"cosine_kwargs[{i}] must be a dict, got cosine_kwargs[{i}]={kwargs!r}")
        schedules.append(_call_with_fields(warmup_cosine_decay_schedule, kwargs, where=f"cosine_kwargs[{i}]"))
        step += _number(f"cosine_kwargs[{i}]['decay_steps']", kwargs["decay_steps"])
        boundaries.append(step)
    if not schedules:
        raise ParameterError("cosine_kwargs must not be empty, got cosine_kwargs=[]")
    return join_schedules(schedules, boundaries[:-1])


def _onecycle_steps(transition_steps: float, **fractions: float) -> float:
    steps = positive("transition_steps", transition_steps)
    for name, v in fractions.items():
        if not 0 <= _number(name, v) <= 1:
            raise ParameterError(f"{name} must be in [0, 1], got {name}={v}")
    return steps


def cosine_onecycle_schedule(transition_steps: float, peak_value: float, pct_start: float = 0.3,
                             div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """One cycle: cosine from ``peak / div_factor`` up to ``peak`` at step ``int(pct_start * steps)``,
    then down to ``peak / (div_factor * final_div_factor)`` at ``transition_steps``.

    >>> float(cosine_onecycle_schedule(100, peak_value=1.0)(30))
    1.0
    """
    steps = _onecycle_steps(transition_steps, pct_start=pct_start)
    div, final = positive("div_factor", div_factor), positive("final_div_factor", final_div_factor)
    peak = rate("peak_value", peak_value)
    return piecewise_interpolate_schedule(
        "cosine", peak / div, {int(pct_start * steps): div, int(steps): 1.0 / (div * final)})


def linear_onecycle_schedule(transition_steps: float, peak_value: float, pct_start: float = 0.3,
                             pct_final: float = 0.85, div_factor: float = 25.0,
                             final_div_factor: float = 1e4) -> Schedule:
    """Three linear phases: ``peak / div_factor`` up to ``peak`` at ``int(pct_start * steps)``, back
    down at ``int(pct_final * steps)``, then to ``peak / (div_factor * final_div_factor)`` at
    ``transition_steps``.

    >>> float(linear_onecycle_schedule(100, peak_value=1.0)(30))
    1.0
    """
    steps = _onecycle_steps(transition_steps, pct_start=pct_start, pct_final=pct_final)
    div, final = positive("div_factor", div_factor), positive("final_div_factor", final_div_factor)
    peak = rate("peak_value", peak_value)
    return piecewise_interpolate_schedule("linear", peak / div, {
        int(pct_start * steps): div, int(pct_final * steps): 1.0 / div, steps: 1.0 / final})


def piecewise_interpolate_schedule(interpolate_type: str, init_value: float,
                                   boundaries_and_scales: Mapping[float, float] | None = None) -> Schedule:
    """Linear or cosine interpolation between the running products ``init_value * scales[..i]`` placed at
    their boundaries (and at step 0 for ``init_value``), flat after the last.

    >>> float(piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})(2))
    0.55
    """
    shapes = {"linear": "linear", "cosine": "cos"}
    if interpolate_type not in shapes:
        raise ParameterError("interpolate_type must be 'linear' or 'cosine', "
                             f"got interpolate_type={interpolate_type!r}")
    value = rate("init_value", init_value)
    knots = [(0.0, value)]
    for b, s in _sorted_scales(boundaries_and_scales):
        # optax divides by max(gap, 1) and lets a boundary < 0 open an interval before step 0: neither
        # fits a knot, so boundaries must be whole steps >= 0.
        b = whole_steps(f"boundaries_and_scales key {b!r}", b)
        value *= s
        if b == 0:
            knots = []  # the interval [0, 0) is empty: step 0 already carries this scale
        knots.append((b, value))
    if len(knots) == 1:
        return constant(lr=knots[0][1])
    steps, values = zip(*knots, strict=True)
    return piecewise_interpolate(steps, values, shape=shapes[interpolate_type])


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[float]) -> Schedule:
    """``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` counting its steps from there, and
    so on. As in optax, the boundaries apply in order, each overriding the earlier ones from its step
    on, so unsorted boundaries leave some schedules unused.

    >>> s = join_schedules([constant_schedule(1.0), constant_schedule(0.5)], [10])
    >>> float(s(9)), float(s(10))
    (1.0, 0.5)
    """
    if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
        raise DTypeError(f"schedules must be a list of lrpulse Schedules, got schedules={schedules!r}")
    for i, s in enumerate(schedules):
        if not isinstance(s, Schedule):
            raise DTypeError(f"schedules[{i}] must be an lrpulse Schedule (build it with lrpulse.compat.optax), "
                             f"got schedules[{i}]={s!r}")
    bounds = [_number(f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
    if len(schedules) != len(bounds) + 1:
        raise ParameterError(f"schedules must have len(boundaries) + 1 = {len(bounds) + 1} entries, "
                             f"got {len(schedules)}")
    for i, b in enumerate(bounds):
        if b < 0:
            raise ParameterError(f"boundaries[{i}] must be >= 0, got boundaries[{i}]={b}")
    return chain([(0.0, schedules[0]), *zip(bounds, schedules[1:], strict=True)])
