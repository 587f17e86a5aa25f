"""Reading the base LRs of a torch optimizer (duck-typed: anything with ``param_groups``), never importing
torch and never modifying the optimizer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import DTypeError, ParameterError
from ..schedules import Schedule, _is_number
from ._common import rate

Schedules = Schedule | list[Schedule]


def base_lrs(optimizer_or_lr: Any) -> list[float]:
    """One base LR per param group, as torch's LambdaLR takes them (``initial_lr``, else ``lr``)."""
    groups = getattr(optimizer_or_lr, "param_groups", None)
    if groups is None:
        if not _is_number(optimizer_or_lr):
            raise DTypeError("optimizer_or_lr must be a learning rate or an optimizer with param_groups, "
                             f"got optimizer_or_lr={optimizer_or_lr!r}")
        return [rate("optimizer_or_lr", optimizer_or_lr)]
    groups = list(groups)
    if not groups:
        raise ParameterError("optimizer_or_lr has no param_groups")
    return [rate(f"param_groups[{i}]['initial_lr']" if "initial_lr" in g else f"param_groups[{i}]['lr']",
                 g.get("initial_lr", g.get("lr")))
            for i, g in enumerate(groups)]


def defaults_lr(optimizer_or_lr: Any) -> float:
    """``optimizer.defaults["lr"]``, which HF uses to turn ``lr_end`` and ``min_lr`` into ratios."""
    if not hasattr(optimizer_or_lr, "param_groups"):
        return rate("optimizer_or_lr", optimizer_or_lr)
    defaults = getattr(optimizer_or_lr, "defaults", None)
    if not isinstance(defaults, dict) or "lr" not in defaults:
        raise DTypeError("optimizer_or_lr has no defaults['lr'], which HF reads for lr_end and min_lr")
    return rate("optimizer.defaults['lr']", defaults["lr"])


def per_group(optimizer_or_lr: Any, last_epoch: Any, build: Callable[[float], Schedule]) -> Schedules:
    """``build(base_lr)`` for each param group: one schedule, or a list of them for several groups.

    ``last_epoch`` is checked, not used: a schedule is a function of the step, the same on resume.

    >>> from lrpulse import constant
    >>> per_group(0.1, -1, lambda base: constant(lr=base / 2))(0)
    0.05
    """
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
        raise ParameterError(f"last_epoch must be an int >= -1, got last_epoch={last_epoch!r}")
    schedules = [build(base) for base in base_lrs(optimizer_or_lr)]
    return schedules[0] if len(schedules) == 1 else schedules
