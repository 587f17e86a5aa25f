"""Convert Keras 3 learning-rate schedules to lrpulse schedules with the same values.

Only the built-in classes of ``keras.optimizers.schedules`` convert: their formulas are known, so
their ``get_config()`` fully describes them. Keras is never imported here; the class is recognised by
its name and module, the parameters read from ``get_config()``.

lrpulse evaluates the configured formula in float64. Keras evaluates it in float32, and where that
rounding is amplified the two disagree by more than float32 rounding of Keras' result. Measured with
``benches/parity_keras.py`` (Keras 3.15, jax backend, steps up to 10**7); lrpulse keeps the exact
values in every case:

- Keras rounds each parameter to float32: ``ExponentialDecay(0.1, 1, decay_rate=0.9999)`` drifts to a
  relative 8e-3 after 500,000 steps (converting the float32-rounded config instead agrees to 1e-7).
- Jitted or vectorised on jax, Keras divides by ``decay_steps`` as a multiplication by its float32
  reciprocal, so ``floor``/``ceil`` can miss an exact multiple: staircase ``ExponentialDecay`` and
  ``InverseTimeDecay`` then drop one step late (7.6% of (decay_steps, k) pairs for decay_steps <=
  1000, k <= 10), ``PolynomialDecay(cycle=True)`` restarts a step early, ``CosineDecayRestarts(t_mul=1)``
  restarts a step late (24 of 100 restarts for ``first_decay_steps=1893``), and ``PolynomialDecay``
  with ``power < 1`` never reaches ``end_learning_rate`` for 13.5% of decay_steps values (it stays up
  to 2.4e-4 of the decay range above it). Keras' eager scalar calls divide exactly and agree.
- ``PolynomialDecay(cycle=True)`` with a fractional ``power`` returns NaN at rare large steps, where
  its float32 ``1 - step / horizon`` rounds below 0 (e.g. ``decay_steps=1.8125, power=1.5`` at step
  8,366,060); lrpulse's value there is finite.
- Keras holds the step in float32, so it knows its position only to about ``6e-8 * step`` steps; for
  ``CosineDecayRestarts`` the position inside a cycle then errs by up to 1.5e-3 of the peak LR at 10**7
  steps, and with ``t_mul != 1`` its float32 ``log`` places restarts up to 12 steps off for t_mul in
  [1.1, 2] (46 steps for t_mul = 1.01).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConversionError, LrpulseError
from .schedules import (
    Schedule,
    cosine,
    cosine_restarts,
    exponential,
    inverse_time,
    piecewise_constant,
    piecewise_interpolate,
    polynomial,
    sequence,
    warmup,
)

__all__ = ["from_keras"]


def _exponential_decay(c: Mapping[str, Any]) -> Schedule:
    # lr * decay_rate ** (step / decay_steps), the exponent floored when staircase.
    return exponential(lr=c["initial_learning_rate"], decay_rate=c["decay_rate"], decay_steps=c["decay_steps"],
                       staircase=bool(c["staircase"]))


def _piecewise_constant_decay(c: Mapping[str, Any]) -> Schedule:
    # Keras selects values[i] while `step <= boundaries[i]`: the new value starts one step after the
    # boundary, which is lrpulse's side="left".
    return piecewise_constant(boundaries=c["boundaries"], values=c["values"], side="left")


def _polynomial_decay(c: Mapping[str, Any]) -> Schedule:
    return polynomial(lr=c["initial_learning_rate"], decay_steps=c["decay_steps"], end_lr=c["end_learning_rate"],
                      power=c["power"], cycle=bool(c["cycle"]))


def _inverse_time_decay(c: Mapping[str, Any]) -> Schedule:
    return inverse_time(lr=c["initial_learning_rate"], decay_rate=c["decay_rate"], decay_steps=c["decay_steps"],
                        staircase=bool(c["staircase"]))


def _cosine_decay(c: Mapping[str, Any]) -> Schedule:
    # Keras decays `lr * ((1 - alpha) * cos_part + alpha)`, i.e. from lr down to alpha * lr, holding that
    # past decay_steps. With warmup_target, the first warmup_steps steps ramp linearly from
    # initial_learning_rate to warmup_target, and the cosine then decays from warmup_target counting its
    # own steps from the end of the warmup (decay_steps long, not decay_steps - warmup_steps).
    start, alpha, steps = c["initial_learning_rate"], c["alpha"], c["decay_steps"]
    peak = c.get("warmup_target")
    if peak is None:  # Keras ignores warmup_steps without a warmup_target.
        return cosine(lr=start, decay_steps=steps, min_lr=alpha * start)
    decay = cosine(lr=peak, decay_steps=steps, min_lr=alpha * peak)
    warmup_steps = c.get("warmup_steps") or 0
    if warmup_steps <= 0:
        return decay
    if start <= peak:
        return warmup(decay, warmup_steps=warmup_steps, start_lr=start)
    # A "warmup" that ramps down: lrpulse's warmup only ramps up, so join a linear segment and the decay.
    ramp = piecewise_interpolate(steps=[0, warmup_steps], values=[start, peak])
    return sequence([ramp, decay], boundaries=[warmup_steps])


def _cosine_decay_restarts(c: Mapping[str, Any]) -> Schedule:
    # Keras: lr * ((1 - alpha) * m_mul**i * cos_part + alpha): the floor alpha * lr stays put while the
    # height above it shrinks by m_mul per restart, which is lrpulse's min_lr and decay.
    lr = c["initial_learning_rate"]
    return cosine_restarts(lr=lr, period=c["first_decay_steps"], min_lr=c["alpha"] * lr, period_mult=c["t_mul"],
                           decay=c["m_mul"])


_CONVERTERS: dict[str, Callable[[Mapping[str, Any]], Schedule]] = {
    "ExponentialDecay": _exponential_decay,
    "PiecewiseConstantDecay": _piecewise_constant_decay,
    "PolynomialDecay": _polynomial_decay,
    "InverseTimeDecay": _inverse_time_decay,
    "CosineDecay": _cosine_decay,
    "CosineDecayRestarts": _cosine_decay_restarts,
}


def _is_keras_class(cls: type) -> bool:
    # Keras 3 defines its schedules in keras.src.optimizers.schedules; user subclasses live elsewhere.
    return cls.__module__ == "keras" or cls.__module__.startswith("keras.")


def _unsupported(obj: Any) -> str:
    cls = type(obj)
    name = cls.__qualname__
    keras_bases = [b.__name__ for b in cls.__mro__[1:] if _is_keras_class(b)]
    supported = ", ".join(_CONVERTERS)
    if any(b in _CONVERTERS for b in keras_bases):
        base = next(b for b in keras_bases if b in _CONVERTERS)
        return (f"cannot convert {name}: it subclasses Keras {base} and may change its formula; from_keras "
                f"converts only the built-in classes ({supported})")
    if "LearningRateSchedule" in keras_bases:
        return (f"cannot convert {name}: a custom Keras LearningRateSchedule has no closed form lrpulse can "
                f"read; build the equivalent lrpulse schedule directly (built-ins that convert: {supported})")
    if _is_keras_class(cls):
        return f"cannot convert Keras {name}: not a learning-rate schedule lrpulse knows ({supported})"
    if callable(obj):
        what = f"the plain callable {getattr(obj, '__qualname__', name)!r}, whose formula lrpulse cannot read"
    else:
        what = f"{name} {obj!r}"
    return (f"from_keras needs a built-in keras.optimizers.schedules.LearningRateSchedule ({supported}), "
            f"got {what}")


def from_keras(schedule: Any) -> Schedule:
    """The lrpulse schedule equal to a built-in Keras 3 learning-rate schedule.

    Steps count as in Keras: ``s(t)`` is what the Keras schedule returns for ``optimizer.iterations ==
    t``, i.e. the LR of the update numbered ``t`` from 0. Values agree with Keras to float32 rounding
    (Keras computes in float32; lrpulse in float64); the module docs list where Keras' own float32
    arithmetic drifts further.

    ==========================  ====================================================================
    Keras                       lrpulse
    ==========================  ====================================================================
    ExponentialDecay            ``exponential(lr, decay_rate, decay_steps, staircase)``
    PiecewiseConstantDecay      ``piecewise_constant(boundaries, values, side="left")``
    PolynomialDecay             ``polynomial(lr, decay_steps, end_lr, power, cycle)``
    InverseTimeDecay            ``inverse_time(lr, decay_rate, decay_steps, staircase)``
    CosineDecay                 ``cosine(lr, decay_steps, min_lr=alpha*lr)``, with
                                ``warmup_target``: ``warmup(cosine(warmup_target, ...), warmup_steps,
                                start_lr=initial_learning_rate)``
    CosineDecayRestarts         ``cosine_restarts(lr, period=first_decay_steps, min_lr=alpha*lr,
                                period_mult=t_mul, decay=m_mul)``
    ==========================  ====================================================================

    Raises :class:`~lrpulse.errors.ConversionError` (naming the class) for anything else: custom
    subclasses, plain callables, and parameters outside lrpulse's domain (e.g. a negative learning rate
    or ``t_mul < 1``).

    >>> from keras.optimizers.schedules import ExponentialDecay  # doctest: +SKIP
    >>> s = from_keras(ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5))  # doctest: +SKIP
    >>> s  # doctest: +SKIP
    lrpulse.exponential(lr=0.1, decay_rate=0.5, decay_steps=100.0, staircase=False, begin=0.0, end_lr=None)
    """
    cls = type(schedule)
    convert = _CONVERTERS.get(cls.__name__) if _is_keras_class(cls) else None
    if convert is None:
        raise ConversionError(_unsupported(schedule))
    config = schedule.get_config()
    try:
        return convert(config)
    except (LrpulseError, KeyError, TypeError) as e:
        shown = ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "name")
        raise ConversionError(f"cannot convert Keras {cls.__name__}({shown}): {e}") from e
