"""Argument checks and the piece-chaining both compat modules share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import ParameterError
from ..schedules import Schedule, _number, sequence


def non_negative(name: str, v: Any) -> float:
    """A finite number >= 0: a learning rate, a scale, a warmup length.

    >>> non_negative("warmup_steps", 10)
    10.0
    """
    x = _number(name, v)
    if x < 0:
        raise ParameterError(f"{name} must be >= 0, got {name}={x}")
    return x


# The name the constructors use for values that end up as learning rates (or factors of one).
rate = non_negative


def positive(name: str, v: Any) -> float:
    """A finite number > 0: a divisor or a length that may not be empty.

    >>> positive("div_factor", 25)
    25.0
    """
    x = _number(name, v)
    if x <= 0:
        raise ParameterError(f"{name} must be > 0, got {name}={x}")
    return x


def whole_steps(name: str, v: Any) -> float:
    """A step count: a whole number >= 0 (``100`` and ``100.0`` both pass, ``2.5`` does not).

    >>> whole_steps("num_warmup_steps", 100.0)
    100.0
    """
    x = _number(name, v)
    if x < 0 or x != math.floor(x):
        raise ParameterError(f"{name} must be a whole number of steps >= 0, got {name}={v!r}")
    return x


def chain(pieces: Sequence[tuple[float, Schedule]]) -> Schedule:
    """The schedule running ``pieces[i][1]`` from step ``pieces[i][0]`` on, each on its own local step.

    ``pieces[0]`` starts at 0. A piece starting at or before an earlier piece's start takes over from
    there (optax ``join_schedules`` applies its boundaries in order, each overriding the ones before),
    so pieces that never run are dropped and what is left has strictly increasing starts.

    >>> from lrpulse import constant
    >>> chain([(0, constant(lr=1.0)), (10, constant(lr=0.5)), (10, constant(lr=0.1))])(10)
    0.1
    """
    kept: list[tuple[float, Schedule]] = []
    upper = math.inf
    for start, schedule in reversed(pieces):
        if start < upper:
            kept.append((start, schedule))
            upper = start
    kept.reverse()
    if len(kept) == 1:
        return kept[0][1]
    return sequence([s for _, s in kept], boundaries=[start for start, _ in kept[1:]])
