"""Streaming a log's chunks into a :class:`lrpulse.CurveMonitor` the way :func:`lrpulse.scan` reads the
whole log: steps made strictly increasing with later writes superseding earlier ones (TensorBoard's
rule for a restarted run), the LR put on the loss steps.

Why two passes can be needed: a point is kept only if every *later* point has a larger step, so a
restart that reaches back past points already fed to the monitor would need to take them out again,
which a monitor cannot do. The first pass feeds optimistically and notes every place a key's steps go
down (one entry per restart: memory stays bounded). Only if a restart reached back past fed points is
the log streamed again with that list, which tells each point, as it comes, whether a later one
supersedes it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._log_tags import lr_on_steps

Series = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def increasing(steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> Series:
    """Make steps strictly increasing the way TensorBoard treats a restarted run: a point is dropped when
    a later point has the same or an earlier step (the later write supersedes it)."""
    if len(steps) < 2 or bool(np.all(steps[1:] > steps[:-1])):
        return steps, values
    later_min = np.minimum.accumulate(steps[::-1])[::-1]
    keep = np.ones(len(steps), dtype=bool)
    keep[:-1] = steps[:-1] < later_min[1:]
    return steps[keep], values[keep]


class Restarts:
    """Where one key's steps go down, by position in the key's stream, and for each such place the
    smallest step from there on: a point is superseded when a later restart's step is <= its own."""

    def __init__(self, positions: list[int], steps: list[int]) -> None:
        self.positions = np.asarray(positions, dtype=np.int64)
        # Suffix minimum: the lowest step any restart at or after each entry goes back to.
        self.lowest_after = np.minimum.accumulate(np.asarray(steps, dtype=np.int64)[::-1])[::-1]

    def keep(self, first: int, steps: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of ``steps`` (at positions ``first, first + 1, ...``) no later point supersedes. Between
        restarts steps rise, so the next point never supersedes; only the restarts after a point can."""
        later = np.searchsorted(self.positions, first + np.arange(len(steps)), side="right")
        bound = np.full(len(steps), np.iinfo(np.int64).max)
        inside = later < len(self.positions)
        bound[inside] = self.lowest_after[later[inside]]
        keep: npt.NDArray[np.bool_] = steps < bound
        return keep


class Feed:
    """Streams chunks of one run into a CurveMonitor, keeping steps increasing across chunks and putting
    the LR on the loss steps. Once the LR tag is known, loss points wait until its first point is read
    (they take that first LR), at most ``hold`` of them; the LR last read carries into the next chunk.

    Without ``restarts`` (the first pass), a restart reaching back past points already fed keeps those
    and sets ``exact`` to False; :meth:`restarts` then gives what a second pass needs."""

    def __init__(self, hold: int, restarts: dict[str, Restarts] | None = None) -> None:
        from .diagnosis import CurveMonitor

        self.monitor = CurveMonitor()
        self.hold = hold
        self.plan = restarts
        self.exact = True
        self._seen: dict[str, int] = {}  # points of each key read so far
        self._prev: dict[str, int] = {}  # the step of each key's last point read
        self._drops: dict[str, tuple[list[int], list[int]]] = {}  # positions and steps where steps go down
        self._last: dict[str, int] = {}  # the last step fed, first pass only
        self.waiting: list[Series] = []  # loss points read before the first LR point
        self.lr: Series | None = None  # the LR points of this chunk, after the last one carried over

    def restarts(self) -> dict[str, Restarts]:
        return {key: Restarts(*drops) for key, drops in self._drops.items()}

    def _note_drops(self, key: str, first: int, s: npt.NDArray[np.int64]) -> None:
        if not len(s):
            return
        before = np.empty(len(s), dtype=np.int64)
        before[0] = self._prev.get(key, np.iinfo(np.int64).min)
        before[1:] = s[:-1]
        down = np.flatnonzero(s <= before)
        if len(down):
            positions, steps = self._drops.setdefault(key, ([], []))
            positions.extend((first + down).tolist())
            steps.extend(s[down].tolist())
        self._prev[key] = int(s[-1])

    def _fresh(self, key: str, first: int, s: npt.NDArray[np.int64], v: npt.NDArray[np.float64]) -> Series:
        """The points of ``key`` (read from position ``first`` on) that go to the monitor."""
        if self.plan is not None:
            if key not in self.plan:  # its steps never go down
                return s, v
            keep = self.plan[key].keep(first, s)
            return s[keep], v[keep]
        s, v = increasing(s, v)
        if key in self._last:  # a restart reaching back past this chunk: keep what was already fed
            after = s > self._last[key]
            if not after.all():
                self.exact = False
                s, v = s[after], v[after]
        if len(s):
            self._last[key] = int(s[-1])
        return s, v

    def _add_lr(self, s: npt.NDArray[np.int64], v: npt.NDArray[np.float64]) -> None:
        finite = np.isfinite(v)
        s, v = s[finite], v[finite]
        if self.lr is not None:  # the LR in force before this chunk, then the points logged after it
            later = s > self.lr[0][-1]
            s, v = np.concatenate([self.lr[0][-1:], s[later]]), np.concatenate([self.lr[1][-1:], v[later]])
        if len(s):
            self.lr = (s, v)

    def _feed(self, s: npt.NDArray[np.int64], v: npt.NDArray[np.float64], val: Series | None) -> None:
        lr = lr_on_steps(s, *self.lr) if self.lr is not None and len(s) else None
        vs, vv = val if val is not None else (None, None)
        if len(s) or (vv is not None and len(vv)):
            self.monitor.update(v, steps=s, lr=lr, val_loss=vv, val_steps=vs)

    def update(self, chunk: dict[str, Series], tag: str | None, val_tag: str | None, lr_tag: str | None,
               lr_known: bool) -> None:
        """Feed one chunk (``{tag: (steps, values)}``, every tag read) for the loss ``tag`` with its
        validation loss and LR tags (``None``: not known yet, or none)."""
        # Every tag's points are counted and its restarts noted, picked or not, so positions agree
        # between the passes whenever a tag comes to be picked.
        firsts = {}
        for key, (s, _) in chunk.items():
            firsts[key] = self._seen.get(key, 0)
            self._seen[key] = firsts[key] + len(s)
            if self.plan is None:
                self._note_drops(key, firsts[key], s)

        def fresh(key: str | None) -> Series | None:
            return self._fresh(key, firsts[key], *chunk[key]) if key is not None and key in chunk else None

        loss = fresh(tag)
        s, v = loss if loss is not None else (np.zeros(0, np.int64), np.zeros(0))
        fresh_val = fresh(val_tag)
        lr = fresh(lr_tag)
        if lr is not None:
            self._add_lr(*lr)
        held = sum(len(w[0]) for w in self.waiting) + len(s)
        if lr_known and self.lr is None and len(s) and held <= self.hold:
            self.waiting.append((s, v))
            self._feed(s[:0], v[:0], fresh_val)
            return
        self.flush()
        self._feed(s, v, fresh_val)

    def flush(self) -> None:
        """Feed the loss points still waiting for an LR (with the first LR if one came, else without)."""
        waiting, self.waiting = self.waiting, []
        for s, v in waiting:
            self._feed(s, v, None)
