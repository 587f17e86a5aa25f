"""Factory functions for every schedule family, and :func:`schedule_from_dict`.

Each factory checks its arguments' types, builds the plain-data spec and hands it to the Rust core,
which validates values and evaluates. Steps count from 0: ``s(t)`` is the LR of update ``t``, what a
torch scheduler reports after ``t`` calls to ``step()``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import _core
from .errors import DTypeError, ParameterError

Schedule = _core.Schedule

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "multi_step",
    "exponential",
    "inverse_time",
    "polynomial",
    "linear",
    "cosine",
    "cosine_restarts",
    "tanh",
    "cyclic",
    "one_cycle",
    "piecewise_constant",
    "piecewise_interpolate",
    "inverse_sqrt",
    "wsd",
    "warmup",
    "sequence",
    "product",
    "schedule_from_dict",
    "schedule_from_json",
]


def _is_number(v: Any) -> bool:
    # numpy and torch scalars convert through __float__; True/False are ints to Python, not LRs to us.
    return not isinstance(v, bool) and (isinstance(v, (int, float)) or hasattr(v, "__float__"))


def _number(name: str, v: Any) -> float:
    if not _is_number(v):
        raise DTypeError(f"{name} must be a number, got {name}={v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise ParameterError(f"{name} must be finite, got {name}={x}")
    return x


def _flag(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise DTypeError(f"{name} must be True or False, got {name}={v!r}")
    return v


def _choice(name: str, v: Any, options: tuple[str, ...]) -> str:
    if v not in options:
        raise ParameterError(f"{name} must be one of {', '.join(map(repr, options))}, got {name}={v!r}")
    return str(v)


def _numbers(name: str, vs: Any) -> list[float]:
    if isinstance(vs, (str, bytes)) or (not isinstance(vs, Sequence) and not hasattr(vs, "tolist")):
        raise DTypeError(f"{name} must be a list of numbers, got {name}={vs!r}")
    return [_number(f"{name}[{i}]", v) for i, v in enumerate(list(vs))]


def _schedule(name: str, s: Any) -> dict[str, Any]:
    if isinstance(s, Schedule):
        return s.to_dict()
    if isinstance(s, Mapping):
        return schedule_from_dict(s).to_dict()
    raise DTypeError(f"{name} must be an lrpulse Schedule, got {name}={s!r}")


def _schedules(name: str, schedules: Any) -> list[dict[str, Any]]:
    # A lone Schedule or spec dict is a likely slip for a one-element list: refuse it rather than iterate it.
    if isinstance(schedules, (Schedule, Mapping)) or not isinstance(schedules, Sequence):
        raise DTypeError(f"{name} must be a list of Schedule, got {name}={schedules!r}")
    return [_schedule(f"{name}[{i}]", s) for i, s in enumerate(schedules)]


def _build(kind: str, **fields: Any) -> Schedule:
    return _core.schedule_from_json(json.dumps({"kind": kind, **fields}))


def constant(lr: float) -> Schedule:
    """``lr`` at every step.

    >>> constant(lr=1e-4)(10**6)
    0.0001
    """
    return _build("constant", lr=_number("lr", lr))


def step_decay(lr: float, step_size: float, gamma: float = 0.5) -> Schedule:
    """``lr * gamma ** floor(t / step_size)``: "halve every ``step_size`` epochs" (torch ``StepLR``).

    >>> step_decay(lr=0.1, step_size=30)(65)
    0.025
    """
    return _build("step_decay", lr=_number("lr", lr), step_size=_number("step_size", step_size),
                  gamma=_number("gamma", gamma))


def multi_step(lr: float, milestones: Sequence[float], gamma: float = 0.1) -> Schedule:
    """``lr * gamma ** (number of milestones <= t)`` (torch ``MultiStepLR``).

    >>> multi_step(lr=0.1, milestones=[30, 80])(30)
    0.010000000000000002
    """
    return _build("multi_step", lr=_number("lr", lr), milestones=_numbers("milestones", milestones),
                  gamma=_number("gamma", gamma))


def exponential(lr: float, decay_rate: float, decay_steps: float = 1, staircase: bool = False,
                begin: float = 0, end_lr: float | None = None) -> Schedule:
    """``lr * decay_rate ** ((t - begin) / decay_steps)``, exponent floored if ``staircase``, ``lr``
    before ``begin``, clipped at ``end_lr`` if given (torch ``ExponentialLR``, Keras
    ``ExponentialDecay``, optax ``exponential_decay``).

    >>> exponential(lr=1.0, decay_rate=0.5, decay_steps=10)(20)
    0.25
    """
    return _build("exponential", lr=_number("lr", lr), decay_rate=_number("decay_rate", decay_rate),
                  decay_steps=_number("decay_steps", decay_steps), staircase=_flag("staircase", staircase),
                  begin=_number("begin", begin),
                  end_lr=None if end_lr is None else _number("end_lr", end_lr))


def inverse_time(lr: float, decay_rate: float, decay_steps: float = 1, staircase: bool = False) -> Schedule:
    """The 1/t decay ``lr / (1 + decay_rate * t / decay_steps)`` (Keras ``InverseTimeDecay``).

    >>> inverse_time(lr=0.1, decay_rate=1.0)(9)
    0.01
    """
    return _build("inverse_time", lr=_number("lr", lr), decay_rate=_number("decay_rate", decay_rate),
                  decay_steps=_number("decay_steps", decay_steps), staircase=_flag("staircase", staircase))


def polynomial(lr: float, decay_steps: float, end_lr: float = 0.0, power: float = 1.0,
               cycle: bool = False, begin: float = 0) -> Schedule:
    """``(lr - end_lr) * (1 - s / decay_steps) ** power + end_lr``, ``s = clip(t - begin, 0,
    decay_steps)``; with ``cycle`` the horizon extends to the next multiple of ``decay_steps`` (Keras
    ``PolynomialDecay``, torch ``PolynomialLR``, optax ``polynomial_schedule``).

    >>> polynomial(lr=1.0, decay_steps=100, power=2.0)(50)
    0.25
    """
    return _build("polynomial", lr=_number("lr", lr), end_lr=_number("end_lr", end_lr),
                  decay_steps=_number("decay_steps", decay_steps), power=_number("power", power),
                  cycle=_flag("cycle", cycle), begin=_number("begin", begin))


def linear(lr: float, steps: float, start_factor: float = 1.0, end_factor: float = 0.0,
           begin: float = 0) -> Schedule:
    """``lr * (start_factor + (end_factor - start_factor) * clip(t - begin, 0, steps) / steps)``
    (torch ``LinearLR``).

    >>> linear(lr=1.0, steps=10)(5)
    0.5
    """
    return _build("linear", lr=_number("lr", lr), start_factor=_number("start_factor", start_factor),
                  end_factor=_number("end_factor", end_factor), steps=_number("steps", steps),
                  begin=_number("begin", begin))


def cosine(lr: float, decay_steps: float, min_lr: float = 0.0, exponent: float = 1.0,
           periodic: bool = False, begin: float = 0) -> Schedule:
    """``min_lr + (lr - min_lr) * ((1 + cos(pi * s / decay_steps)) / 2) ** exponent``, ``s = t -
    begin``; holds ``min_lr`` past the end unless ``periodic`` (torch ``CosineAnnealingLR`` keeps
    following the cosine back up).

    >>> cosine(lr=0.1, decay_steps=100)(50)
    0.05
    """
    return _build("cosine", lr=_number("lr", lr), min_lr=_number("min_lr", min_lr),
                  decay_steps=_number("decay_steps", decay_steps), exponent=_number("exponent", exponent),
                  periodic=_flag("periodic", periodic), begin=_number("begin", begin))


def cosine_restarts(lr: float, period: float, min_lr: float = 0.0, period_mult: float = 1.0,
                    decay: float = 1.0, cycle_warmup: float = 0, exponent: float = 1.0) -> Schedule:
    """SGDR: cosine cycles ``lr -> min_lr``, the first ``period`` steps long, each next
    ``period_mult`` times longer, the peak's height over ``min_lr`` times ``decay`` per cycle, and a
    linear warmup of ``cycle_warmup`` steps opening each cycle (torch ``CosineAnnealingWarmRestarts``,
    Keras ``CosineDecayRestarts``).

    >>> cosine_restarts(lr=0.1, period=10)(10)
    0.1
    """
    return _build("cosine_restarts", lr=_number("lr", lr), min_lr=_number("min_lr", min_lr),
                  period=_number("period", period), period_mult=_number("period_mult", period_mult),
                  decay=_number("decay", decay), cycle_warmup=_number("cycle_warmup", cycle_warmup),
                  exponent=_number("exponent", exponent))


def tanh(lr: float, total_steps: float, min_lr: float = 0.0, lower: float = -7.0,
         upper: float = 3.0) -> Schedule:
    """Tanh decay: ``min_lr + (lr - min_lr) / 2 * (1 - tanh(lower + (upper - lower) * p))``, ``p =
    min(t, total_steps) / total_steps`` (timm ``TanhLRScheduler``).

    >>> round(tanh(lr=0.1, total_steps=100)(0), 6)
    0.1
    """
    return _build("tanh", lr=_number("lr", lr), min_lr=_number("min_lr", min_lr),
                  total_steps=_number("total_steps", total_steps), lower=_number("lower", lower),
                  upper=_number("upper", upper))


def cyclic(base_lr: float, max_lr: float, step_size_up: float = 2000, step_size_down: float | None = None,
           mode: str = "triangular", gamma: float = 1.0) -> Schedule:
    """Triangular cycles between ``base_lr`` and ``max_lr`` (torch ``CyclicLR``); ``mode`` is
    ``"triangular"``, ``"triangular2"`` (amplitude halves each cycle) or ``"exp_range"`` (amplitude
    times ``gamma ** t``).

    >>> round(cyclic(base_lr=0.001, max_lr=0.01, step_size_up=10)(10), 12)
    0.01
    """
    down = step_size_up if step_size_down is None else step_size_down
    return _build("cyclic", base_lr=_number("base_lr", base_lr), max_lr=_number("max_lr", max_lr),
                  step_size_up=_number("step_size_up", step_size_up),
                  step_size_down=_number("step_size_down", down),
                  mode=_choice("mode", mode, ("triangular", "triangular2", "exp_range")),
                  gamma=_number("gamma", gamma))


def one_cycle(max_lr: float, total_steps: float, pct_start: float = 0.3, anneal: str = "cos",
              div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> Schedule:
    """One cycle: ``max_lr / div_factor`` up to ``max_lr`` at step ``pct_start * total_steps``, then
    down to ``max_lr / (div_factor * final_div_factor)`` at ``total_steps`` (optax's convention; use
    ``from_torch`` for torch's, whose peak is one step earlier).

    >>> one_cycle(max_lr=0.1, total_steps=100)(30)
    0.1
    """
    return _build("one_cycle", max_lr=_number("max_lr", max_lr), total_steps=_number("total_steps", total_steps),
                  pct_start=_number("pct_start", pct_start), anneal=_choice("anneal", anneal, ("cos", "linear")),
                  div_factor=_number("div_factor", div_factor),
                  final_div_factor=_number("final_div_factor", final_div_factor),
                  three_phase=_flag("three_phase", three_phase))


def piecewise_constant(boundaries: Sequence[float], values: Sequence[float], side: str = "right") -> Schedule:
    """``values[i]`` between ``boundaries[i-1]`` and ``boundaries[i]``. ``side="right"``: the new
    value starts *at* the boundary; ``"left"``: one step later (Keras ``PiecewiseConstantDecay``).

    >>> piecewise_constant([10], [0.1, 0.01])(10)
    0.01
    """
    return _build("piecewise_constant", boundaries=_numbers("boundaries", boundaries),
                  values=_numbers("values", values), side=_choice("side", side, ("right", "left")))


def piecewise_interpolate(steps: Sequence[float], values: Sequence[float], shape: str = "linear") -> Schedule:
    """Linear or cosine (``shape="cos"``) interpolation through the knots ``(steps[i], values[i])``,
    flat outside them (optax ``piecewise_interpolate_schedule``).

    >>> piecewise_interpolate([0, 10], [0.0, 1.0])(5)
    0.5
    """
    return _build("piecewise_interpolate", steps=_numbers("steps", steps), values=_numbers("values", values),
                  shape=_choice("shape", shape, ("linear", "cos")))


def inverse_sqrt(lr: float, warmup_steps: float = 0, timescale: float | None = None) -> Schedule:
    """Linear warmup from 0, then ``lr / sqrt((t + timescale - warmup_steps) / timescale)``;
    ``timescale`` defaults to ``warmup_steps`` or 10000 (HF ``get_inverse_sqrt_schedule``).

    >>> inverse_sqrt(lr=1.0, warmup_steps=100)(400)
    0.5
    """
    ts = timescale if timescale is not None else (warmup_steps or 10_000)
    return _build("inverse_sqrt", lr=_number("lr", lr), warmup_steps=_number("warmup_steps", warmup_steps),
                  timescale=_number("timescale", ts))


_SHAPES = ("linear", "cosine", "sqrt")


def wsd(lr: float, warmup_steps: float, stable_steps: float, decay_steps: float, min_lr: float = 0.0,
        warmup_shape: str = "linear", decay_shape: str = "linear") -> Schedule:
    """Warmup-stable-decay: ``min_lr -> lr`` over ``warmup_steps``, ``lr`` for ``stable_steps``,
    ``lr -> min_lr`` over ``decay_steps`` with ``decay_shape`` ``"linear"``, ``"cosine"`` or
    ``"sqrt"`` (``1 - sqrt(p)``), then ``min_lr`` (HF ``get_wsd_schedule``).

    >>> wsd(lr=1.0, warmup_steps=10, stable_steps=80, decay_steps=10)(95)
    0.5
    """
    return _build("wsd", lr=_number("lr", lr), min_lr=_number("min_lr", min_lr),
                  warmup_steps=_number("warmup_steps", warmup_steps),
                  stable_steps=_number("stable_steps", stable_steps), decay_steps=_number("decay_steps", decay_steps),
                  warmup_shape=_choice("warmup_shape", warmup_shape, _SHAPES),
                  decay_shape=_choice("decay_shape", decay_shape, _SHAPES))


def warmup(schedule: Schedule, warmup_steps: float, start_lr: float = 0.0, shape: str = "linear") -> Schedule:
    """``warmup_steps`` steps from ``start_lr`` up to ``schedule(0)`` (``shape`` ``"linear"``,
    ``"cos"`` or ``"exponential"``), then ``schedule`` counting its own steps from 0.

    >>> warmup(cosine(lr=0.1, decay_steps=100), warmup_steps=10)(5)
    0.05
    """
    return _build("warmup", schedule=_schedule("schedule", schedule),
                  warmup_steps=_number("warmup_steps", warmup_steps), start_lr=_number("start_lr", start_lr),
                  shape=_choice("shape", shape, ("linear", "cos", "exponential")))


def sequence(schedules: Sequence[Schedule], boundaries: Sequence[float]) -> Schedule:
    """``schedules[i]`` from ``boundaries[i-1]`` on, each seeing its own local step (optax
    ``join_schedules``, torch ``SequentialLR``).

    >>> sequence([constant(lr=1.0), constant(lr=0.5)], boundaries=[10])(10)
    0.5
    """
    return _build("sequence", schedules=_schedules("schedules", schedules),
                  boundaries=_numbers("boundaries", boundaries))


def product(schedules: Sequence[Schedule]) -> Schedule:
    """The product of the schedules' values (torch ``ChainedScheduler``).

    >>> product([constant(lr=0.1), step_decay(lr=1.0, step_size=10)])(10)
    0.05
    """
    return _build("product", schedules=_schedules("schedules", schedules))


_FACTORIES: dict[str, Callable[..., Schedule]] = {
    f.__name__: f
    for f in (constant, step_decay, multi_step, exponential, inverse_time, polynomial, linear, cosine,
              cosine_restarts, tanh, cyclic, one_cycle, piecewise_constant, piecewise_interpolate,
              inverse_sqrt, wsd, warmup, sequence, product)
}


def schedule_from_dict(spec: Mapping[str, Any]) -> Schedule:
    """Build a schedule from the plain-data spec ``Schedule.to_dict()`` returns (e.g. loaded from a
    JSON or YAML config).

    >>> schedule_from_dict({"kind": "step_decay", "lr": 0.1, "step_size": 30, "gamma": 0.5})(30)
    0.05
    """
    if not isinstance(spec, Mapping):
        raise DTypeError(f"a schedule spec must be a dict, got {spec!r}")
    fields = dict(spec)
    kind = fields.pop("kind", None)
    factory = _FACTORIES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise ParameterError(f"kind must be one of {', '.join(sorted(_FACTORIES))}, got kind={kind!r}")
    return _call_with_fields(factory, fields, where=str(kind))


def _call_with_fields(factory: Callable[..., Schedule], fields: Mapping[str, Any], where: str) -> Schedule:
    """``factory(**fields)`` for fields read from a config: a missing or unknown field is a bad value
    there (ParameterError naming ``where``), not a programming error (the bare TypeError Python raises)."""
    try:
        return factory(**fields)
    except TypeError as e:
        if isinstance(e, DTypeError):
            raise
        raise ParameterError(f"{where}: {e}") from None


def schedule_from_json(text: str) -> Schedule:
    """Build a schedule from ``Schedule.to_json()`` text.

    >>> schedule_from_json('{"kind": "constant", "lr": 0.001}') == constant(lr=1e-3)
    True
    """
    return schedule_from_dict(json.loads(text))
