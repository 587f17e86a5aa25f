"""``lrpulse.keras``: lrpulse schedules as a Keras 3 ``LearningRateSchedule``, on any backend.

:class:`Schedule` never calls Rust inside a compiled train step: Rust evaluates the whole plan once
into a table (``schedule.trajectory(total_steps + 1)``) and ``__call__`` gathers from it with
``keras.ops``, so it traces and compiles on the jax, torch and tensorflow backends alike. Past
``total_steps`` the last value is held. With ``total_steps=None`` the schedule is instead written as a
``keras.ops`` closed form, for the families that have one (see :data:`CLOSED_FORM_KINDS`).

Drop-in use::

    >>> import keras, lrpulse, lrpulse.keras
    >>> plan = lrpulse.warmup(lrpulse.cosine(lr=1e-3, decay_steps=9_000), warmup_steps=1_000)
    >>> optimizer = keras.optimizers.AdamW(learning_rate=lrpulse.keras.Schedule(plan, total_steps=10_000))

The class is registered with ``keras.saving.register_keras_serializable``: once ``lrpulse.keras`` is
imported, ``keras.models.load_model`` restores it without ``custom_objects``. Importing this module
imports keras; ``import lrpulse`` alone never does.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from .errors import DTypeError, ParameterError
from .schedules import Schedule as _Plan
from .schedules import schedule_from_dict

__all__ = ["Schedule", "CLOSED_FORM_KINDS"]

# A table index is an int32 in the compiled step.
_MAX_TABLE_STEPS = 2**31 - 2

_Fn = Callable[[Any], Any]  # a keras.ops function of the (float) step tensor


def _cosine(d: Mapping[str, Any]) -> _Fn:
    def f(t: Any) -> Any:
        s = ops.maximum(t - d["begin"], 0.0)
        if d["periodic"]:
            # Reduce by the period first: in float32, pi * s loses the phase for large s.
            s = ops.mod(s, 2.0 * d["decay_steps"])
        else:
            s = ops.minimum(s, d["decay_steps"])
        c = (1.0 + ops.cos(math.pi * s / d["decay_steps"])) / 2.0
        if d["exponent"] != 1.0:
            c = ops.power(c, d["exponent"])
        return d["min_lr"] + (d["lr"] - d["min_lr"]) * c

    return f


def _exponential(d: Mapping[str, Any]) -> _Fn:
    def f(t: Any) -> Any:
        count = t - d["begin"]
        p = count / d["decay_steps"]
        if d["staircase"]:
            p = ops.floor(p)
        v = d["lr"] * ops.power(d["decay_rate"], p)
        if d["end_lr"] is not None:
            v = ops.maximum(v, d["end_lr"]) if d["decay_rate"] < 1.0 else ops.minimum(v, d["end_lr"])
        return ops.where(count <= 0.0, d["lr"], v)

    return f


def _polynomial(d: Mapping[str, Any]) -> _Fn:
    def f(t: Any) -> Any:
        count = ops.maximum(t - d["begin"], 0.0)
        horizon = d["decay_steps"]
        if d["cycle"]:
            horizon = horizon * ops.maximum(ops.ceil(count / horizon), 1.0)
            s = count
        else:
            s = ops.minimum(count, horizon)
        return (d["lr"] - d["end_lr"]) * ops.power(1.0 - s / horizon, d["power"]) + d["end_lr"]

    return f


def _linear(d: Mapping[str, Any]) -> _Fn:
    def f(t: Any) -> Any:
        s = ops.clip(t - d["begin"], 0.0, d["steps"])
        return d["lr"] * (d["start_factor"] + (d["end_factor"] - d["start_factor"]) * s / d["steps"])

    return f


def _inverse_time(d: Mapping[str, Any]) -> _Fn:
    def f(t: Any) -> Any:
        p = t / d["decay_steps"]
        return d["lr"] / (1.0 + d["decay_rate"] * (ops.floor(p) if d["staircase"] else p))

    return f


def _warmup(d: Mapping[str, Any]) -> _Fn:
    inner = _closed_form(d["schedule"])
    target = schedule_from_dict(d["schedule"])(0)  # the wrapped schedule's first value, from Rust
    start, n, shape = d["start_lr"], d["warmup_steps"], d["shape"]

    def f(t: Any) -> Any:
        p = t / n
        if shape == "linear":
            ramp = start + (target - start) * p
        elif shape == "cos":
            ramp = start + (target - start) * 0.5 * (1.0 - ops.cos(math.pi * p))
        else:
            ramp = start * ops.power(target / start, p)
        return ops.where(t >= n, inner(ops.maximum(t - n, 0.0)), ramp)

    return f


def _sequence(d: Mapping[str, Any]) -> _Fn:
    pieces = [_closed_form(s) for s in d["schedules"]]
    starts = [0.0, *d["boundaries"]]

    def f(t: Any) -> Any:
        out = pieces[0](t)
        for piece, start in zip(pieces[1:], starts[1:], strict=True):
            out = ops.where(t >= start, piece(ops.maximum(t - start, 0.0)), out)
        return out

    return f


def _product(d: Mapping[str, Any]) -> _Fn:
    factors = [_closed_form(s) for s in d["schedules"]]

    def f(t: Any) -> Any:
        out = factors[0](t)
        for g in factors[1:]:
            out = out * g(t)
        return out

    return f


_CLOSED_FORMS: dict[str, Callable[[Mapping[str, Any]], _Fn]] = {
    "constant": lambda d: lambda t: ops.zeros_like(t) + d["lr"],
    "step_decay": lambda d: lambda t: d["lr"] * ops.power(d["gamma"], ops.floor(t / d["step_size"])),
    "multi_step": lambda d: lambda t: d["lr"] * ops.power(
        d["gamma"], sum((ops.cast(t >= m, t.dtype) for m in d["milestones"]), ops.zeros_like(t))),
    "exponential": _exponential,
    "inverse_time": _inverse_time,
    "polynomial": _polynomial,
    "linear": _linear,
    "cosine": _cosine,
    "warmup": _warmup,
    "sequence": _sequence,
    "product": _product,
}

#: Families (and compositions of them) that work with ``total_steps=None``.
CLOSED_FORM_KINDS: tuple[str, ...] = tuple(sorted(_CLOSED_FORMS))


class _NoClosedForm(Exception):
    pass


def _closed_form(spec: Mapping[str, Any]) -> _Fn:
    make = _CLOSED_FORMS.get(spec["kind"])
    if make is None:
        raise _NoClosedForm(spec["kind"])
    return make(spec)


@keras.saving.register_keras_serializable(package="lrpulse", name="Schedule")
class Schedule(keras.optimizers.schedules.LearningRateSchedule):
    """An lrpulse schedule as a Keras ``LearningRateSchedule``.

    Args:
        schedule: the lrpulse ``Schedule`` (or its ``to_dict()`` spec).
        total_steps: the planned number of updates. Rust fills a table of the LR at steps
            ``0 .. total_steps`` once; each call gathers from it (float32 rounding of lrpulse's float64
            values). Past ``total_steps`` the LR stays at ``schedule(total_steps)``. ``None``: no table;
            the schedule is evaluated as a ``keras.ops`` closed form in ``dtype`` at every step, which
            only the families in :data:`CLOSED_FORM_KINDS` have (others raise ``ParameterError``).
        dtype: the dtype of the LR, default ``keras.config.floatx()``.
        name: a name, as Keras' built-in schedules have.

    Steps count from 0 as in Keras: ``optimizer.iterations == t`` gives ``schedule(t)``, so
    ``Schedule(lrpulse.from_keras(builtin), total_steps=n)`` reproduces ``builtin``.

    Example::

        >>> import keras, lrpulse, lrpulse.keras
        >>> s = lrpulse.keras.Schedule(lrpulse.step_decay(lr=0.1, step_size=50), total_steps=100)
        >>> [round(float(s(t)), 6) for t in (0, 50, 100, 10**6)]
        [0.1, 0.05, 0.025, 0.025]
    """

    def __init__(
        self,
        schedule: _Plan | Mapping[str, Any],
        total_steps: int | None = None,
        *,
        dtype: str | None = None,
        name: str = "lrpulse_schedule",
    ) -> None:
        super().__init__()
        if isinstance(schedule, Mapping):
            schedule = schedule_from_dict(schedule)
        if not isinstance(schedule, _Plan):
            raise DTypeError(f"schedule must be an lrpulse Schedule (or its spec), got schedule={schedule!r}")
        self.schedule: _Plan = schedule
        self.dtype: str = keras.config.floatx() if dtype is None else str(dtype)
        self.name: str = name
        self.total_steps: int | None = None
        self._table: Any = None
        self._closed: _Fn | None = None
        if total_steps is None:
            try:
                self._closed = _closed_form(schedule.to_dict())
            except _NoClosedForm as e:
                raise ParameterError(
                    f"total_steps=None needs a closed form, which {schedule.kind!r} (or a part of it: {e}) "
                    f"lacks in lrpulse.keras; give total_steps, or use one of {', '.join(CLOSED_FORM_KINDS)}"
                ) from None
            return
        if isinstance(total_steps, bool) or not isinstance(total_steps, numbers.Integral):
            raise DTypeError(f"total_steps must be an integer or None, got total_steps={total_steps!r}")
        if not 0 <= total_steps <= _MAX_TABLE_STEPS:
            raise ParameterError(f"total_steps must be in 0..{_MAX_TABLE_STEPS}, got total_steps={total_steps}")
        self.total_steps = int(total_steps)
        values = schedule.trajectory(self.total_steps + 1)
        self._table = ops.convert_to_tensor(np.asarray(values, dtype=self.dtype))

    def __call__(self, step: Any) -> Any:
        if isinstance(step, numbers.Real):
            # A Python/numpy number: clip (or make it a float) here, as jax without x64 would wrap a
            # huge int into int32.
            step = float(step) if self.total_steps is None else min(max(math.floor(float(step)), 0), self.total_steps)
        step = ops.convert_to_tensor(step)
        if self._closed is not None:
            return ops.cast(self._closed(ops.cast(step, self.dtype)), self.dtype)
        # Clip before the cast so a huge int64 step cannot wrap around in int32.
        index = ops.cast(ops.clip(step, 0, self.total_steps), "int32")
        return ops.take(self._table, index)

    def get_config(self) -> dict[str, Any]:
        """``{"schedule": <spec>, "total_steps": ..., "dtype": ..., "name": ...}``: plain data."""
        return {"schedule": self.schedule.to_dict(), "total_steps": self.total_steps, "dtype": self.dtype,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Schedule:
        return cls(**config)

    def __repr__(self) -> str:
        return f"lrpulse.keras.Schedule({self.schedule!r}, total_steps={self.total_steps})"
