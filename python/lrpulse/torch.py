"""``lrpulse.torch``: lrpulse schedules as a native torch learning-rate scheduler.

:class:`LRScheduler` is a real subclass of ``torch.optim.lr_scheduler.LRScheduler``: it steps like
torch's own schedulers, reports ``get_last_lr()`` / ``last_epoch`` / ``base_lrs``, and works inside
``SequentialLR``, ``ChainedScheduler`` (with ``chainable=True``) and Hugging Face
``Trainer(optimizers=(optimizer, scheduler))``. The difference is how it computes: the LR is a closed
form of the step count (``schedule(last_epoch)``, evaluated in Rust), never derived from the
optimizer's current LR, so resuming from a checkpoint is exact whatever order things are loaded in.

Drop-in use::

    >>> import torch, lrpulse, lrpulse.torch
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    >>> plan = lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=90), warmup_steps=10)
    >>> sched = lrpulse.torch.LRScheduler(opt, plan)
    >>> for _ in range(10):
    ...     opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.1]

Importing this module imports torch; ``import lrpulse`` alone never does.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler as _TorchLRScheduler

from .errors import DTypeError, ParameterError
from .schedules import Schedule, schedule_from_dict, sequence

__all__ = ["LRScheduler"]

ScheduleLike: TypeAlias = Schedule | Mapping[str, Any]
PerGroup: TypeAlias = ScheduleLike | Sequence[ScheduleLike | None]

_FORMAT = "lrpulse.torch.LRScheduler"
_VERSION = 1
_Tensor = torch.Tensor


def _as_schedule(name: str, s: Any) -> Schedule:
    if isinstance(s, Schedule):
        return s
    if isinstance(s, Mapping):
        return schedule_from_dict(s)
    raise DTypeError(f"{name} must be an lrpulse Schedule (or its to_dict() spec), got {name}={s!r}")


def _per_group(name: str, value: Any, n_groups: int, allow_none: bool) -> list[Schedule | None]:
    """One schedule for every group, or a list with one entry per group (``None``: leave it alone)."""
    if value is None:
        return [None] * n_groups
    if isinstance(value, (Schedule, Mapping)):
        return [_as_schedule(name, value)] * n_groups
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise DTypeError(f"{name} must be a Schedule or a list of one per param group, got {name}={value!r}")
    if len(value) != n_groups:
        raise ParameterError(
            f"{name} must have one entry per param group: the optimizer has {n_groups}, got {len(value)}"
        )
    out: list[Schedule | None] = []
    for i, s in enumerate(value):
        if s is None and allow_none:
            out.append(None)
        else:
            out.append(_as_schedule(f"{name}[{i}]", s))
    return out


def _specs(schedules: Sequence[Schedule | None]) -> list[dict[str, Any] | None]:
    return [None if s is None else s.to_dict() for s in schedules]


def _from_specs(name: str, specs: Any) -> list[Schedule | None]:
    if not isinstance(specs, list):
        raise DTypeError(f"state_dict[{name!r}] must be a list of schedule specs, got {specs!r}")
    return [None if d is None else _as_schedule(f"state_dict[{name!r}][{i}]", d) for i, d in enumerate(specs)]


def _set(group: dict[str, Any], key: str, value: float) -> None:
    """Write a hyperparameter; a tensor one (torch.compile, capturable) is filled in place so the
    compiled graph keeps reading the same tensor and nothing recompiles."""
    current = group[key]
    if isinstance(current, _Tensor):
        current.fill_(value)
    else:
        group[key] = value


def _set_beta1(group: dict[str, Any], value: float) -> None:
    betas = group["betas"]
    if isinstance(betas[0], _Tensor):
        betas[0].fill_(value)
    else:
        group["betas"] = (value, *tuple(betas)[1:])


class LRScheduler(_TorchLRScheduler):
    """Set each param group's LR to ``schedule(last_epoch)`` at every ``step()``.

    Args:
        optimizer: the torch optimizer to drive.
        schedule: an lrpulse ``Schedule`` for every param group, or a list with one per group.
        momentum: optional schedule(s) for momentum: SGD-style ``momentum``, or ``betas[0]`` for
            Adam-family optimizers (what ``OneCycleLR`` calls ``cycle_momentum``). ``None`` entries
            leave a group alone. Values are absolute.
        weight_decay: optional schedule(s) for each group's ``weight_decay`` (absolute values;
            ``None`` entries, e.g. for bias/norm groups, leave a group alone).
        scale_by_initial_lr: the schedule gives a factor: group ``i`` gets
            ``base_lrs[i] * schedule(t)`` (``base_lrs`` are the groups' LRs when the scheduler was
            created, as in torch's ``LambdaLR``).
        chainable: multiply this scheduler's factor into whatever LR the group has, as torch's
            chainable schedulers do, instead of setting it; needed inside ``ChainedScheduler``. The
            factor is ``schedule(t) / base_lr`` (or ``schedule(t)`` when scaled) and must not be 0.
        last_epoch: as in torch: ``-1`` for a new run.

    Steps count from 0: after ``t`` calls to ``step()`` the LR is ``schedule(t)``, the same
    convention as torch's closed forms, so ``lrpulse.from_torch(native)`` reproduces ``native``.

    Example::

        >>> import torch, lrpulse, lrpulse.torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
        >>> sched = lrpulse.torch.LRScheduler(opt, lrpulse.step_decay(lr=0.1, step_size=2, gamma=0.5),
        ...                                   momentum=lrpulse.linear(lr=1.0, steps=4, start_factor=0.95,
        ...                                                           end_factor=0.85))
        >>> opt.step(); sched.step(); opt.step(); sched.step()
        >>> sched.get_last_lr(), round(opt.param_groups[0]["momentum"], 6)
        ([0.05], 0.9)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: PerGroup,
        *,
        momentum: PerGroup | None = None,
        weight_decay: PerGroup | None = None,
        scale_by_initial_lr: bool = False,
        chainable: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise DTypeError(f"optimizer must be a torch.optim.Optimizer, got optimizer={optimizer!r}")
        for flag, value in (("scale_by_initial_lr", scale_by_initial_lr), ("chainable", chainable)):
            if not isinstance(value, bool):
                raise DTypeError(f"{flag} must be True or False, got {flag}={value!r}")
        n = len(optimizer.param_groups)
        self._lr_schedules: list[Schedule | None] = _per_group("schedule", schedule, n, allow_none=False)
        self._momentum: list[Schedule | None] = _per_group("momentum", momentum, n, allow_none=True)
        self._weight_decay: list[Schedule | None] = _per_group("weight_decay", weight_decay, n, allow_none=True)
        self._check_targets(optimizer)
        self.scale_by_initial_lr: bool = scale_by_initial_lr
        self.chainable: bool = chainable
        # In chainable mode: the factor of ours currently multiplied into each group's LR.
        self._factors: list[float] = [1.0] * n
        self._scales: list[float] = [1.0] * n
        self._has_extras: bool = any(s is not None for s in self._momentum + self._weight_decay)
        # torch's constructor records base_lrs and performs the first step (which calls our step()).
        self._ready = False
        super().__init__(optimizer, last_epoch)

    # ---- stepping -------------------------------------------------------------------------------

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (or jump to ``epoch``, deprecated in torch) and set the new values."""
        if self._step_count != 1 and epoch is None:
            # The hot path: everything torch's step() does, minus its per-step bookkeeping layers.
            self._step_count += 1
            self.last_epoch += 1
            self._apply()
        else:
            # torch's own path: its warnings about step order, then our _update_lr.
            super().step(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        # Called by torch's step() and by SequentialLR (``_update_lr(0)`` at a milestone).
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._apply()

    def _apply(self) -> None:
        """Write the values for ``last_epoch`` into the optimizer."""
        if not self._ready:
            self._scales = [float(b) for b in self.base_lrs] if self.scale_by_initial_lr else [1.0] * len(self.base_lrs)
            self._ready = True
        if self.chainable:
            self._apply_chained()
        else:
            t = self.last_epoch
            last: list[float | _Tensor] = []
            shared, value = None, 0.0
            # Non-strict zips over param groups, here and below: a group added with add_param_group
            # after this scheduler was built has no schedule and is left as it is.
            for group, sched, scale in zip(self.optimizer.param_groups, self._lr_schedules, self._scales, strict=False):
                if sched is not shared:  # one schedule for all groups is evaluated once
                    shared, value = sched, sched(t)  # type: ignore[misc]
                lr = value * scale
                current = group["lr"]
                if isinstance(current, _Tensor):
                    current.fill_(lr)
                    last.append(current.clone())
                else:
                    group["lr"] = lr
                    last.append(lr)
            self._last_lr = last
        if self._has_extras:
            self._apply_extras()

    def _apply_chained(self) -> None:
        t = self.last_epoch
        for i, (group, sched) in enumerate(zip(self.optimizer.param_groups, self._lr_schedules, strict=False)):
            value = sched(t)  # type: ignore[misc]
            factor = value if self.scale_by_initial_lr else value / float(self.base_lrs[i])
            previous = self._factors[i]
            if previous == 0.0 or not math.isfinite(factor):
                raise ParameterError(
                    f"chainable=True needs a nonzero schedule factor; param group {i} has factor "
                    f"{previous} before step={t}"
                )
            current = group["lr"]
            _set(group, "lr", float(current) * (factor / previous))
            self._factors[i] = factor
        groups = self.optimizer.param_groups
        self._last_lr = [g["lr"].clone() if isinstance(g["lr"], _Tensor) else g["lr"] for g in groups]

    def _apply_extras(self) -> None:
        t = self.last_epoch
        for group, m, wd in zip(self.optimizer.param_groups, self._momentum, self._weight_decay, strict=False):
            if m is not None:
                if "betas" in group:
                    _set_beta1(group, m(t))
                else:
                    _set(group, "momentum", m(t))
            if wd is not None:
                _set(group, "weight_decay", wd(t))

    def _check_targets(self, optimizer: Optimizer) -> None:
        groups = zip(optimizer.param_groups, self._momentum, self._weight_decay, strict=False)
        for i, (group, m, wd) in enumerate(groups):
            if m is not None and "betas" not in group and "momentum" not in group:
                raise ParameterError(
                    f"momentum: {type(optimizer).__name__} param_groups[{i}] has neither 'momentum' nor 'betas'"
                )
            if wd is not None and "weight_decay" not in group:
                raise ParameterError(
                    f"weight_decay: {type(optimizer).__name__} param_groups[{i}] has no 'weight_decay'"
                )

    def get_lr(self) -> list[float | _Tensor]:
        """The closed-form LRs for ``last_epoch`` (what ``step()`` writes in the default mode)."""
        t = self.last_epoch
        scales = [float(b) for b in self.base_lrs] if self.scale_by_initial_lr else [1.0] * len(self.base_lrs)
        return [s(t) * k for s, k in zip(self._lr_schedules, scales, strict=False)]  # type: ignore[misc]

    _get_closed_form_lr = get_lr

    # ---- re-planning ----------------------------------------------------------------------------

    def replan(self, schedule: PerGroup, *, switch_at: int | None = None) -> None:
        """Change the LR plan mid-run, e.g. to train longer than planned.

        Without ``switch_at`` the new schedule replaces the old one for every step: from now on the
        LR is ``schedule(last_epoch)`` (it may jump; ``lrpulse.lint`` shows by how much). With
        ``switch_at=k`` the old plan is kept for steps before ``k`` and ``schedule`` runs from its own
        step 0 at step ``k`` (an ``lrpulse.sequence``), so ``switch_at=sched.last_epoch`` means
        "continue from here with this plan". The new values are applied at once and saved by
        ``state_dict()``.

        >>> import torch, lrpulse, lrpulse.torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        >>> sched = lrpulse.torch.LRScheduler(opt, lrpulse.cosine(lr=0.1, decay_steps=100))
        >>> sched.replan(lrpulse.constant(lr=0.01), switch_at=0)
        >>> sched.get_last_lr()
        [0.01]
        """
        new = _per_group("schedule", schedule, len(self.optimizer.param_groups), allow_none=False)
        if switch_at is not None:
            if isinstance(switch_at, bool) or not isinstance(switch_at, numbers.Integral) or switch_at < 0:
                raise ParameterError(f"switch_at must be an integer >= 0, got switch_at={switch_at!r}")
            if switch_at > 0:
                pairs = zip(self._lr_schedules, new, strict=False)
                new = [sequence([old, s], boundaries=[int(switch_at)]) for old, s in pairs]
        self._lr_schedules = new
        self._apply()

    @property
    def schedules(self) -> list[Schedule]:
        """The LR schedule of each param group (after any ``replan``)."""
        return list(self._lr_schedules)  # type: ignore[arg-type]

    # ---- checkpointing --------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Plain data only (numbers, strings, lists, dicts): loads with ``torch.load(weights_only=True)``.

        Schedules are stored as their ``to_dict()`` specs, so the checkpoint carries the plan.
        """
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "base_lrs": [float(b) for b in self.base_lrs],
            "_last_lr": [float(v) for v in self._last_lr],
            "schedule": _specs(self._lr_schedules),
            "momentum": _specs(self._momentum),
            "weight_decay": _specs(self._weight_decay),
            "scale_by_initial_lr": self.scale_by_initial_lr,
            "chainable": self.chainable,
            "_factors": list(self._factors),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the checkpoint's plan replaces the one given to the constructor.

        The values for the restored step are written into the optimizer at once, so it does not
        matter whether the optimizer's own state is loaded before or after this (or at all).
        """
        if not isinstance(state_dict, Mapping) or state_dict.get("format") != _FORMAT:
            raise ParameterError(f"not an {_FORMAT} state_dict: {state_dict!r:.200}")
        if state_dict.get("version") != _VERSION:
            raise ParameterError(f"state_dict version must be {_VERSION}, got version={state_dict.get('version')!r}")
        n = len(self.optimizer.param_groups)
        lr_schedules = _from_specs("schedule", state_dict["schedule"])
        if len(lr_schedules) != n or any(s is None for s in lr_schedules):
            raise ParameterError(f"state_dict has {len(lr_schedules)} LR schedules, the optimizer has {n} param groups")
        self._lr_schedules = lr_schedules
        self._momentum = _from_specs("momentum", state_dict["momentum"])
        self._weight_decay = _from_specs("weight_decay", state_dict["weight_decay"])
        self._has_extras = any(s is not None for s in self._momentum + self._weight_decay)
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict["_step_count"])
        self.base_lrs = [float(b) for b in state_dict["base_lrs"]]
        self.scale_by_initial_lr = bool(state_dict["scale_by_initial_lr"])
        self.chainable = bool(state_dict["chainable"])
        self._factors = [float(f) for f in state_dict["_factors"]]
        self._last_lr = list(state_dict["_last_lr"])
        self._ready = False
        if not self.chainable:
            # A chained LR is a product with other schedulers' state, which lives in the optimizer.
            self._apply()
