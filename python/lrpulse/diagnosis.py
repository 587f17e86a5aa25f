"""Loss-curve diagnosis: what a run's learning rate is doing wrong, from its loss log.

``diagnose`` reads a whole log at once; ``CurveMonitor`` reads one chunk at a time, in bounded memory,
and gives the same verdict whatever the chunking (its state is exact integer sums in time buckets fixed
by the step number, so chunking, merging and threads cannot change a single bit).

>>> import numpy as np, lrpulse
>>> u = np.linspace(0, 1, 2000)
>>> rng = np.random.default_rng(0)
>>> loss = 2.5 * (1 + 300 * u) ** -0.5 * np.exp(0.05 * rng.standard_normal(2000))
>>> d = lrpulse.diagnose(loss)
>>> d.label
'healthy'
>>> m = lrpulse.CurveMonitor()
>>> for chunk in np.array_split(loss, 7):
...     m.update(chunk)
>>> m.diagnose().label == d.label and m.diagnose().evidence == d.evidence
True

Labels: ``healthy``, ``rising_early``, ``plateau``, ``slow``, ``diverged``, ``spiky``, ``oscillating``,
``insufficient_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import _core

__all__ = ["LABELS", "CurveMonitor", "Diagnosis", "Segment", "diagnose"]

LABELS = ("healthy", "rising_early", "plateau", "slow", "diverged", "spiky", "oscillating", "insufficient_data")


class Segment(NamedTuple):
    """A stretch of the run with its own shape: steps ``start_step..end_step`` (inclusive)."""

    start_step: int
    end_step: int
    label: str
    confidence: float


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on a run.

    ``label`` is one of :data:`LABELS`; ``confidence`` is in [0, 1] (low values mean the evidence is
    weak: treat the label as a guess); ``advice`` says what to do with the LR; ``first_bad_step`` is
    the step where the run diverged (NaN/Inf or an explosion), if it did; ``segments`` split the run at
    its change points; ``findings`` are dicts (``kind``: ``spike``, ``divergence``, ``overfitting``,
    ``change_point``, with ``step``, ``size``, ``recovery_steps``, ``message``); ``evidence`` holds the
    statistics behind the verdict (log-loss units, slopes per run fraction unless named per step).
    """

    label: str
    confidence: float
    advice: str
    first_bad_step: int | None = None
    segments: list[Segment] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _from_core(cls, d: dict[str, Any]) -> Diagnosis:
        return cls(
            label=d["label"],
            confidence=d["confidence"],
            advice=d["advice"],
            first_bad_step=d["first_bad_step"],
            segments=[Segment(*s) for s in d["segments"]],
            findings=d["findings"],
            evidence=d["evidence"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): segments become dicts."""
        return {
            "label": self.label,
            "confidence": self.confidence,
            "advice": self.advice,
            "first_bad_step": self.first_bad_step,
            "segments": [s._asdict() for s in self.segments],
            "findings": [dict(f) for f in self.findings],
            "evidence": dict(self.evidence),
        }

    def __str__(self) -> str:
        return f"{self.label} ({self.confidence:.0%}): {self.advice}"


def diagnose(loss: Any, steps: Any = None, lr: Any = None, val_loss: Any = None, val_steps: Any = None) -> Diagnosis:
    """Diagnose a whole loss log.

    ``loss``: 1-D float32/float64 array (read in place, strided views too; a list is converted).
    ``steps``: the step of each value (whole numbers, strictly increasing); default 0, 1, 2, ...
    ``lr``: the LR at each step, as an array or an :class:`lrpulse.Schedule` (evaluated at ``steps``).
    ``val_loss``: validation loss, either aligned with ``loss`` (NaN where none was measured) or at its
    own ``val_steps``; adds an ``overfitting`` finding when it turns up while training keeps falling.

    NaN/Inf in ``loss`` make the verdict ``diverged`` at the first such step; values <= 0, rewound
    steps, or mismatched lengths raise :class:`lrpulse.InputError` naming the element.

    >>> import numpy as np, lrpulse
    >>> lrpulse.diagnose(np.array([1.0, 0.9, float("nan")] + [1.0] * 30)).first_bad_step
    2
    """
    return Diagnosis._from_core(_core.diagnose(loss, steps, lr, val_loss, val_steps))


class CurveMonitor:
    """Streaming diagnosis: feed chunks of a loss log with :meth:`update`, ask :meth:`diagnose` any time.

    Memory stays bounded (:attr:`nbytes`, at most :meth:`max_nbytes`) however long the stream; the
    verdict and evidence are identical to :func:`diagnose` on the concatenated log, for any chunking.
    :meth:`merge` appends the monitor of the next piece of the same log (e.g. from another process).
    ``state_dict()`` is plain data (dicts, lists, ints, floats) that survives
    ``torch.load(weights_only=True)``; pickling goes through it.

    >>> import lrpulse
    >>> m = lrpulse.CurveMonitor()
    >>> m.update([2.0, 1.8, 1.7], steps=[0, 10, 20])
    >>> m.count
    3
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state = _core._CurveMonitor()

    def update(
        self, values: Any, steps: Any = None, lr: Any = None, val_loss: Any = None, val_steps: Any = None
    ) -> None:
        """Add the next chunk (same arguments as :func:`diagnose`); steps must follow those seen so far.
        Without ``steps``, the chunk continues from the last step + 1. A failed update changes nothing."""
        self._state.update(values, steps, lr, val_loss, val_steps)

    def diagnose(self) -> Diagnosis:
        """The verdict on everything seen so far."""
        return Diagnosis._from_core(self._state.diagnose())

    def merge(self, other: CurveMonitor) -> None:
        """Append ``other``, the monitor of the piece of the log right after this one's."""
        if not isinstance(other, CurveMonitor):
            from .errors import DTypeError

            raise DTypeError(f"other must be a CurveMonitor, got {type(other).__name__}")
        self._state.merge(other._state)

    @property
    def count(self) -> int:
        """Points seen so far."""
        return self._state.count

    @property
    def nbytes(self) -> int:
        """Bytes the state holds now."""
        return self._state.nbytes

    @staticmethod
    def max_nbytes() -> int:
        """The most bytes a monitor's state can ever hold, however long the stream."""
        return _core._CurveMonitor.max_nbytes()

    def state_dict(self) -> dict[str, Any]:
        """The state as versioned plain data."""
        return self._state.state_dict()

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> CurveMonitor:
        """Rebuild a monitor from :meth:`state_dict` output (checked: a damaged state raises InputError)."""
        m = cls.__new__(cls)
        m._state = _core._CurveMonitor.from_state_dict(state)
        return m

    def __getstate__(self) -> dict[str, Any]:
        return self.state_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._state = _core._CurveMonitor.from_state_dict(state)

    def __repr__(self) -> str:
        return f"lrpulse.CurveMonitor(<{self.count} points, {self.nbytes} bytes>)"
