"""Check a learning-rate plan against the practitioner's rules of thumb before training starts.

:func:`lint` walks the whole plan with the Rust engine, one bounded chunk at a time (a 10^8-step plan
needs a few megabytes, not 800), then looks a plan length past its end. Every finding is a warning or
a note with its reason and the rule behind it, never an error: the rules are rules of thumb.

>>> import lrpulse
>>> plan = lrpulse.warmup(lrpulse.cosine(lr=0.01, decay_steps=9_500, min_lr=1e-5), warmup_steps=500)
>>> lrpulse.lint(plan, total_steps=10_000)
[]
>>> [f.code for f in lrpulse.lint(lrpulse.cosine(lr=1e-3, decay_steps=10_000), 10_000, finetune=True)]
['finetune_lr_high']
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import DTypeError, ParameterError
from .schedules import Schedule

__all__ = ["Finding", "lint"]

# Steps evaluated per engine call: 2 MiB of float64, large enough that the per-call overhead vanishes.
_CHUNK = 1 << 18
# Past the plan's end: every step of the first stretch, then this many samples over one more plan length.
_TAIL_DENSE = 4096
_TAIL_SAMPLES = 1 << 16
# Float noise allowance when comparing LRs against a threshold, so 0.1 * 0.1 counts as exactly 10x.
_REL_TOL = 1e-9
# A dip or ramp counts only if it loses more than this fraction of the LR it started from.
_MATERIAL_DROP = 0.9
# The post-plan tail counts as rising once it climbs this fraction of the plan's own range.
_MATERIAL_RISE = 0.01
# Zero-LR steps are worth a note once they make up this fraction of the plan.
_IDLE_SHARE = 0.01


@dataclass(frozen=True)
class Finding:
    """One lint result: ``code`` (stable identifier), ``severity`` ("warning" or "info"), a
    ``message`` with the reason and the rule of thumb behind it, and the ``step`` it refers to (or
    None for the plan as a whole).

    >>> Finding("weak_decay", "warning", "the LR ends only 10x below its peak", 999).to_dict()["step"]
    999
    """

    code: str
    severity: str
    message: str
    step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain data, e.g. for ``json.dumps`` (the CLI's ``lint --json``).

        >>> sorted(Finding("zero_lr", "warning", "the LR is 0 at every step", 0).to_dict())
        ['code', 'message', 'severity', 'step']
        """
        return asdict(self)


def lint(schedule: Schedule, total_steps: int, finetune: bool = False, *,
         lr_range: tuple[float, float] = (1e-3, 1e-2), min_decay: float = 100.0,
         finetune_max_lr: float = 1e-4, jump_factor: float = 10.0, max_jumps: int = 10) -> list[Finding]:
    """The findings for ``schedule`` run for ``total_steps`` updates (steps 0 .. total_steps - 1),
    sorted by step.

    Rules (thresholds are parameters):

    - ``peak_lr_high`` / ``peak_lr_low``: training from scratch, the peak LR (the LR training starts
      at once any warmup is over) is outside ``lr_range``, the 1e-3..1e-2 that suits SGD-style training.
    - ``weak_decay``: the last step's LR is less than ``min_decay`` (100x) below the peak.
    - ``finetune_lr_high``: with ``finetune=True``, the first step whose LR exceeds ``finetune_max_lr``.
    - ``tail_rise``: past ``total_steps`` the LR climbs again (torch's periodic cosine tail).
    - ``warmup_ends_below_start``: a warmup ramp that runs downhill, or a plan that dips below its
      starting LR before climbing to its peak.
    - ``lr_jump``: the LR changes more than ``jump_factor`` times in a single step (at most
      ``max_jumps`` reported; ``more_jumps`` counts the rest). A smooth ramp to or from zero is not a jump.
    - ``idle_steps`` (info): at least 1% of the steps after step 0 have LR 0. ``zero_lr``: all of them.
    - ``overflow``: the LR overflows float64 within the plan (it grows without bound).

    >>> import lrpulse
    >>> [(f.code, f.step) for f in lint(lrpulse.multi_step(lr=0.01, milestones=[500], gamma=0.01), 1000)]
    [('lr_jump', 500)]
    """
    if not isinstance(schedule, Schedule):
        raise DTypeError(f"schedule must be an lrpulse Schedule, got schedule={schedule!r}")
    total = _count("total_steps", total_steps, minimum=1)
    if not isinstance(finetune, bool):
        raise DTypeError(f"finetune must be True or False, got finetune={finetune!r}")
    low, high = _lr_range(lr_range)
    min_decay = _positive("min_decay", min_decay, above=1.0)
    finetune_max_lr = _positive("finetune_max_lr", finetune_max_lr, above=0.0)
    jump_factor = _positive("jump_factor", jump_factor, above=1.0)
    max_jumps = _count("max_jumps", max_jumps, minimum=0)

    scan = _Scan(schedule, total, jump_factor, max_jumps, finetune_max_lr if finetune else math.inf)
    scan.run()
    findings = list(scan.jump_findings())
    if scan.overflow_step is not None:
        findings.append(Finding("overflow", "warning", (
            f"the LR overflows float64 at step {scan.overflow_step}: the schedule's parameters make it grow "
            "without bound, so the plan cannot run that far. A decay factor above 1 is the usual cause."),
            scan.overflow_step))
        return _sorted(findings)
    if scan.peak == 0.0:
        findings.append(Finding("zero_lr", "warning", (
            f"the LR is 0 at every one of the {total} steps: the optimizer would never move the weights."), 0))
        return _sorted(findings)
    if not finetune:
        findings += _peak_findings(scan, low, high)
    findings += _decay_findings(scan, total, min_decay)
    if finetune and scan.finetune_step is not None:
        t = scan.finetune_step
        findings.append(Finding("finetune_lr_high", "warning", (
            f"fine-tuning, the LR passes {_g(finetune_max_lr)} at step {t} ({_g(scan.finetune_lr)} there) and "
            f"peaks at {_g(scan.peak)}: a model already converged on other data is usually fine-tuned at "
            "<= 1e-4, since a larger LR can wipe out what it learned before it adapts."), t))
    findings += _idle_findings(scan, total)
    findings += _warmup_findings(schedule, scan, total)
    findings += _tail_findings(schedule, scan, total)
    return _sorted(findings)


class _Scan:
    """Running statistics over the plan's steps, fed chunk by chunk."""

    def __init__(self, schedule: Schedule, total: int, jump_factor: float, max_jumps: int,
                 finetune_max_lr: float) -> None:
        self.schedule, self.total = schedule, total
        self.jump_factor, self.max_jumps, self.finetune_max_lr = jump_factor, max_jumps, finetune_max_lr
        self.first = self.final = math.nan
        self.peak, self.peak_step = -math.inf, 0
        self.low_before_peak, self.low_before_peak_step = math.inf, 0  # the lowest LR up to the peak
        self.low, self.low_step = math.inf, 0  # the lowest LR so far
        self.finetune_step: int | None = None
        self.finetune_lr = math.nan
        self.idle, self.idle_step = 0, 0  # steps >= 1 with LR exactly 0
        self.jumps: list[tuple[int, float, float]] = []
        self.jump_count = 0
        self.overflow_step: int | None = None

    def run(self) -> None:
        for lo in range(0, self.total, _CHUNK):
            hi = min(lo + _CHUNK, self.total)
            # Two steps of history for the jump test's previous change, one step ahead for its next.
            start = max(lo - 2, 0)
            window, failed_at = _finite_trajectory(self.schedule, start, hi + 1 - start)
            if failed_at is not None and failed_at < self.total:
                self.overflow_step = failed_at
                hi = failed_at
            self._levels(window[lo - start:hi - start], lo)
            self._jumps(window, start, max(lo, 1), hi)
            if self.overflow_step is not None:
                return
        self.final = float(window[self.total - 1 - start])

    def _levels(self, v: np.ndarray, lo: int) -> None:
        if v.size == 0:
            return
        if lo == 0:
            self.first = float(v[0])
        top = int(np.argmax(v))
        if v[top] > self.peak:
            # The peak moved: the lowest LR before it is the lowest seen so far or in this chunk up to it.
            before = int(np.argmin(v[:top + 1]))
            if v[before] < self.low:
                self.low_before_peak, self.low_before_peak_step = float(v[before]), lo + before
            else:
                self.low_before_peak, self.low_before_peak_step = self.low, self.low_step
            self.peak, self.peak_step = float(v[top]), lo + top
        bottom = int(np.argmin(v))
        if v[bottom] < self.low:
            self.low, self.low_step = float(v[bottom]), lo + bottom
        if self.finetune_step is None and v[top] > self.finetune_max_lr * (1 + _REL_TOL):
            i = int(np.argmax(v > self.finetune_max_lr * (1 + _REL_TOL)))
            self.finetune_step, self.finetune_lr = lo + i, float(v[i])
        zeros = np.flatnonzero(v[1:] == 0.0) + 1 if lo == 0 else np.flatnonzero(v == 0.0)
        if zeros.size:
            if self.idle == 0:
                self.idle_step = lo + int(zeros[0])
            self.idle += int(zeros.size)

    def _jumps(self, window: np.ndarray, start: int, first: int, stop: int) -> None:
        """Record steps t in [first, stop) whose LR differs from step t-1's by more than the factor."""
        if stop <= first:
            return
        before, after = window[:-1], window[1:]  # pair i is (t-1, t) with t = start + 1 + i
        f = self.jump_factor * (1 + _REL_TOL)
        span = slice(first - start - 1, stop - start - 1)
        pairs = np.flatnonzero((before[span] > f * after[span]) | (after[span] > f * before[span]))
        if pairs.size == 0:
            return
        i = pairs + (first - start - 1)
        change = np.diff(window)
        prev = np.where(i >= 1, np.abs(change[np.maximum(i - 1, 0)]), 0.0)
        nxt = np.where(i + 1 < change.size, np.abs(change[np.minimum(i + 1, change.size - 1)]), 0.0)
        # A jump is abrupt: far larger than the change on its smooth side (before a drop, after a
        # rise). A linear decay to 0 or a warmup from 0 has a huge ratio but steady changes.
        drop = change[i] < 0
        abrupt = np.abs(change[i]) > self.jump_factor * np.where(drop, prev, nxt)
        i = i[abrupt]
        self.jump_count += int(i.size)
        for k in i[:max(self.max_jumps - len(self.jumps), 0)]:
            self.jumps.append((start + 1 + int(k), float(window[k]), float(window[k + 1])))

    def jump_findings(self) -> list[Finding]:
        out = []
        for t, a, b in self.jumps:
            if b < a:
                how = f"drops {_ratio(a, b)} at step {t} ({_g(a)} -> {_g(b)})"
                why = ("classic step schedules cut 2-10x at a time (StepLR halves, MultiStepLR's gamma is 0.1); "
                       "a bigger single cut skips the in-between LRs at which the loss keeps improving. Split "
                       "it into several cuts or decay smoothly.")
            else:
                up = "from 0" if a == 0 else _ratio(b, a)
                how = f"jumps up {up} at step {t} ({_g(a)} -> {_g(b)})"
                why = ("a sudden rise can make the loss spike or diverge. Ramp up over a few hundred steps "
                       "(a warmup), unless this is a deliberate warm restart (SGDR).")
            out.append(Finding("lr_jump", "warning", (
                f"the LR {how}, more than {_g(self.jump_factor)}x in one step: {why}"), t))
        hidden = self.jump_count - len(self.jumps)
        if hidden > 0:
            last = self.jumps[-1][0] if self.jumps else None
            out.append(Finding("more_jumps", "info", (
                f"{hidden} more steps change the LR by more than {_g(self.jump_factor)}x in one step; only the "
                f"first {len(self.jumps)} are listed (max_jumps={self.max_jumps})."), last))
        return out


def _peak_findings(scan: _Scan, low: float, high: float) -> list[Finding]:
    where = f"peak LR {_g(scan.peak)} (step {scan.peak_step})"
    rule = (f"training from scratch, {_g(low)}..{_g(high)} is the usual sound starting LR for SGD-style "
            "training (reached once any warmup is over)")
    if scan.peak > high * (1 + _REL_TOL):
        return [Finding("peak_lr_high", "warning", (
            f"{where} is above {_g(high)}: {rule}; a larger LR tends to make the loss oscillate or explode "
            "early on. Lower it, or lengthen the warmup and clip gradients."), scan.peak_step)]
    if scan.peak < low * (1 - _REL_TOL):
        return [Finding("peak_lr_low", "warning", (
            f"{where} is below {_g(low)}: {rule}; this low, training converges slowly. Adam-style "
            "optimizers do often peak at 1e-4..1e-3: if so, pass lr_range to match."), scan.peak_step)]
    return []


def _decay_findings(scan: _Scan, total: int, min_decay: float) -> list[Finding]:
    if scan.final * min_decay <= scan.peak * (1 + _REL_TOL):
        return []
    ratio = "no lower than" if scan.final >= scan.peak else f"only {_ratio(scan.peak, scan.final)} below"
    return [Finding("weak_decay", "warning", (
        f"the LR ends at {_g(scan.final)} (step {total - 1}), {ratio} its peak {_g(scan.peak)}: by the end "
        f"of training the LR should have decayed {_g(min_decay)}x or more, so the last steps settle "
        "into a minimum instead of bouncing around it."), total - 1)]


def _idle_findings(scan: _Scan, total: int) -> list[Finding]:
    if scan.idle == 0 or scan.idle < _IDLE_SHARE * total:
        return []
    return [Finding("idle_steps", "info", (
        f"the LR is 0 at {scan.idle} of the {total} steps, from step {scan.idle_step}: those updates do "
        "nothing. Shorten the plan or let the decay end at the last step."), scan.idle_step)]


def _warmup_findings(schedule: Schedule, scan: _Scan, total: int) -> list[Finding]:
    out = []
    for begin, end in _ramps(schedule.to_dict(), 0, math.inf):
        begin, end = math.ceil(begin), math.ceil(end)
        if end >= total or end <= begin:
            continue
        a, b = float(schedule(begin)), float(schedule(end))
        if b < a * _MATERIAL_DROP:
            out.append(Finding("warmup_ends_below_start", "warning", (
                f"the warmup from step {begin} to {end} ends at LR {_g(b)}, below the {_g(a)} it starts "
                "from: a warmup should climb to the peak LR so early, noisy updates stay small."), end))
    if not out and scan.peak_step > 0 and scan.low_before_peak < scan.first * _MATERIAL_DROP:
        out.append(Finding("warmup_ends_below_start", "warning", (
            f"the LR first falls from {_g(scan.first)} at step 0 to {_g(scan.low_before_peak)} at step "
            f"{scan.low_before_peak_step}, then climbs to its peak {_g(scan.peak)} at step {scan.peak_step}: "
            "the warmup runs downhill and ends below where it started (knots or values in the wrong "
            "order?). A warmup should climb steadily to the peak."), scan.low_before_peak_step))
    return out


def _ramps(spec: dict[str, Any], offset: float, limit: float) -> Iterator[tuple[float, float]]:
    """(first step, last step) of every explicit warmup ramp in a spec, in plan steps."""
    kind = spec["kind"]
    ramp = {"wsd": "warmup_steps", "warmup": "warmup_steps", "inverse_sqrt": "warmup_steps",
            "cosine_restarts": "cycle_warmup"}.get(kind)
    length = spec[ramp] if ramp else spec["pct_start"] * spec["total_steps"] if kind == "one_cycle" else 0
    if length > 0 and offset + length < limit:
        yield offset, offset + length
    if kind == "warmup":
        yield from _ramps(spec["schedule"], offset + spec["warmup_steps"], limit)
    elif kind == "product":
        for child in spec["schedules"]:
            yield from _ramps(child, offset, limit)
    elif kind == "sequence":
        starts = [0.0, *spec["boundaries"]]
        ends = [*spec["boundaries"], math.inf]
        for child, b, e in zip(spec["schedules"], starts, ends, strict=True):
            yield from _ramps(child, offset + b, min(limit, offset + e))


def _tail_findings(schedule: Schedule, scan: _Scan, total: int) -> list[Finding]:
    dense = np.arange(total, total + min(total, _TAIL_DENSE), dtype=np.int64)
    sampled = np.linspace(total, 2 * total, _TAIL_SAMPLES, dtype=np.int64)
    steps = np.unique(np.concatenate([dense, sampled]))
    values, failed_at = _finite_values(schedule, steps)
    material = scan.final + _MATERIAL_RISE * (scan.peak - scan.final)
    if failed_at is None and not (values.size and values.max() > material and values.max() > scan.final):
        return []
    # Report where the climb starts: the first step above the final LR, exact even between samples.
    rising = scan.final * (1 + _REL_TOL)
    k = int(np.argmax(values > rising)) if values.size and values.max() > rising else values.size
    t = int(steps[k]) if k < values.size else int(failed_at or steps[-1])  # no climb seen: the overflow
    if 0 < k < values.size and steps[k] - steps[k - 1] > 1:
        gap, _ = _finite_values(schedule, np.arange(steps[k - 1] + 1, t + 1, dtype=np.int64))
        t = int(steps[k - 1]) + 1 + int(np.argmax(gap > rising))
    reach = f"reaching {_g(float(values.max()))} within one more plan length" if values.size else ""
    if failed_at is not None:
        reach += f"{', and ' if reach else ''}overflowing float64 at step {failed_at}"
    return [Finding("tail_rise", "warning", (
        f"past the end of the plan the LR climbs again from step {t}, {reach}, after ending at "
        f"{_g(scan.final)}: a run that goes on longer than planned (extra epochs, a resume, a miscounted "
        "steps-per-epoch) would train at a rising LR and undo the annealing. torch's CosineAnnealingLR "
        "does this past T_max; hold the final LR instead (e.g. cosine(..., periodic=False))."), t)]


def _finite_trajectory(schedule: Schedule, start: int, n: int) -> tuple[np.ndarray, int | None]:
    """``schedule.trajectory(n, start)``, or the values before the first step that overflows and that step."""
    try:
        return schedule.trajectory(n, start=start), None
    except ParameterError:
        return _finite_values(schedule, np.arange(start, start + n, dtype=np.int64))


def _finite_values(schedule: Schedule, steps: np.ndarray) -> tuple[np.ndarray, int | None]:
    """``schedule(steps)`` up to the first step that overflows float64, and that step (or None)."""
    try:
        return schedule(steps), None
    except ParameterError:
        pass
    lo, hi = 0, steps.size - 1  # the first failing index is in [lo, hi]: halve, keeping the left half
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            schedule(steps[lo:mid + 1])
            lo = mid + 1
        except ParameterError:
            hi = mid
    return schedule(steps[:lo]), int(steps[lo])


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.step is None, f.step or 0))


def _count(name: str, v: Any, minimum: int) -> int:
    if isinstance(v, bool):
        raise DTypeError(f"{name} must be an integer, got {name}={v!r}")
    try:
        n = operator.index(v)
    except TypeError:
        raise DTypeError(f"{name} must be an integer, got {name}={v!r}") from None
    if n < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {name}={n}")
    return n


def _positive(name: str, v: Any, above: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
        raise DTypeError(f"{name} must be a number, got {name}={v!r}")
    x = float(v)
    if not (math.isfinite(x) and x > above):
        raise ParameterError(f"{name} must be finite and > {_g(above)}, got {name}={x}")
    return x


def _lr_range(r: Any) -> tuple[float, float]:
    if isinstance(r, (str, bytes)) or not hasattr(r, "__len__") or len(r) != 2:
        raise DTypeError(f"lr_range must be a (low, high) pair, got lr_range={r!r}")
    low, high = _positive("lr_range[0]", r[0], 0.0), _positive("lr_range[1]", r[1], 0.0)
    if low > high:
        raise ParameterError(f"lr_range must have low <= high, got lr_range={tuple(r)!r}")
    return low, high


def _g(x: float) -> str:
    """A compact LR: 0.01, 1e-05, 3e-4 style."""
    return f"{x:.3g}"


def _ratio(big: float, small: float) -> str:
    if small == 0:
        return "to 0"
    r = big / small
    return f"{r:.3g}x" if r < 1e3 else f"{r:,.0f}x" if r < 1e7 else f"{r:.0e}x"
