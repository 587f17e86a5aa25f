"""Read the training logs people already have, fast, and diagnose them.

Formats (detected from the name, else the content; or pass ``format=``):

- ``tfevents``: TensorBoard event files (torch ``SummaryWriter``, tensorboardX, TF/Keras), scalars
  stored as ``simple_value`` or as one-element float tensors;
- ``csv`` / ``tsv``: a header row, e.g. Lightning's ``metrics.csv`` (sparse rows) or Keras'
  ``CSVLogger``; the step column is ``step=`` or the first of ``step``, ``global_step``,
  ``iteration``, ``iter``, ``trainer/global_step``, wandb's ``_step``, ``epoch`` (else the row index,
  blank lines not counted); a column is text (left out) only when none of its cells in the first MiB
  holds a number, so a stray text cell in a numeric column is an error naming its line; repeated
  header names become ``name.1``, ``name.2`` (as pandas names them);
- ``jsonl``: one JSON object per line, any keys (nested objects become ``outer/inner``; Python's
  ``NaN``/``Infinity`` accepted; a repeated key keeps its last value), the step key chosen as for
  CSV from the first records: a record without it, or whose step is not an integer, is an error
  naming its line (only a file without any step key is stepped by line number);
  ``trainer_state``: Hugging Face's ``trainer_state.json``;
- ``text``: lines like ``step 100 ... loss 2.31``, ``step=100 loss=2.31``, ``[100] loss: 2.31``, or
  your own regex with named groups ``step``, ``value`` and optionally ``tag``.

Files are streamed (memory: a buffer plus the points kept), line formats are parsed on all cores and
folders are read in parallel, all with the GIL released.

>>> import lrpulse, pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.csv"
>>> _ = path.write_text("step,train_loss,val_loss\\n0,2.5,\\n1,2.25,2.4\\n")
>>> log = lrpulse.read_scalars(path)
>>> steps, values = log["train_loss"]
>>> steps.tolist(), values.tolist()
([0, 1], [2.5, 2.25])
>>> log["val_loss"][0].tolist(), log.format
([1], 'csv')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from . import _core
from ._log_feed import Feed, increasing
from ._log_tags import lr_on_steps, pick_loss_tag, pick_lr_tag, pick_val_tag
from .errors import DTypeError, InputError, LogWarning, LrpulseError, ParameterError, TagNotFoundError

if TYPE_CHECKING:
    from .diagnosis import Diagnosis

__all__ = ["Run", "Scalars", "RunResult", "read_scalars", "diagnose_file", "scan", "find_runs", "pick_loss_tag",
           "pick_val_tag", "pick_lr_tag"]  # fmt: skip

PathLike = str | os.PathLike[str]
Series = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


class Scalars(dict[str, Series]):
    """What :func:`read_scalars` returns: ``{tag: (steps, values)}`` plus what was learnt reading.

    ``steps`` are int64, ``values`` float64, in file order (a resumed run may repeat steps).
    Attributes: ``path``, ``format``, ``tags`` (every tag in the log, also those not asked for),
    ``truncated`` (the file ended inside a record: a run still writing, or killed), ``skipped``
    (records or cells skipped in lenient mode), ``wall_times`` (``{tag: seconds}``, event files only).
    """

    path: str
    format: str
    tags: list[str]
    truncated: bool
    skipped: int
    wall_times: dict[str, npt.NDArray[np.float64]]

    @classmethod
    def _from_core(cls, raw: tuple[Any, ...]) -> Scalars:
        path, fmt, truncated, skipped, tags, series = raw
        out = cls((tag, (steps, values)) for tag, steps, values, _ in series)
        out.path, out.format, out.truncated, out.skipped, out.tags = path, fmt, truncated, skipped, tags
        out.wall_times = {tag: wall for tag, _, _, wall in series if wall is not None}
        return out

    def __repr__(self) -> str:
        flags = (", truncated" if self.truncated else "") + (f", skipped={self.skipped}" if self.skipped else "")
        counts = ", ".join(f"{tag!r}: {len(v)} points" for tag, (_, v) in self.items())
        return f"<Scalars {self.format} {self.path!r}{flags}: {{{counts}}}>"


def _tag_list(tags: str | Sequence[str] | None) -> list[str] | None:
    if tags is None:
        return None
    if isinstance(tags, str):
        return [tags]
    names = list(tags) if isinstance(tags, Iterable) else None
    if names is None or not all(isinstance(t, str) for t in names):
        raise DTypeError(f"tags must be a tag name, a list of tag names or None, got tags={names or tags!r}")
    return names


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ParameterError(f"{name} must be a whole number > 0, got {name}={value!r}")


def _warn_if_incomplete(path: str, truncated: bool, skipped: int) -> None:
    if truncated:
        warnings.warn(
            f"{path}: the log ends inside a record (still being written, or the run was killed); "
            "every complete record was read",
            LogWarning,
            stacklevel=3,
        )
    if skipped:
        msg = f"{path}: {skipped} damaged or malformed records skipped (lenient=True)"
        warnings.warn(msg, LogWarning, stacklevel=3)


def read_scalars(
    path: PathLike,
    tags: str | Sequence[str] | None = None,
    format: str = "auto",
    lenient: bool = False,
    *,
    step: str | None = None,
    pattern: str | None = None,
) -> Scalars:
    """Read scalar series from a log file (or a folder holding one TensorBoard run).

    ``tags``: a tag or list of tags to keep (default all); a tag the log lacks raises
    :class:`lrpulse.errors.TagNotFoundError` listing the tags present. ``format``: ``"auto"`` or one of
    ``tfevents``, ``csv``, ``tsv``, ``jsonl``, ``trainer_state``, ``text``. ``lenient``: skip damaged
    records and malformed lines (counted in ``.skipped``) instead of raising
    :class:`lrpulse.errors.LogFormatError` (which names the byte offset or line). ``step``: the CSV
    column or JSON key holding the step. ``pattern``: a regex for text logs with named groups ``value``,
    ``step`` (else the line number) and ``tag`` (else the tag is ``value``).

    A log that ends inside a record, or had records skipped, is read and flagged (``.truncated``,
    ``.skipped``) with a :class:`lrpulse.errors.LogWarning`. The arrays own the buffers Rust filled: no copy.

    >>> import lrpulse, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "train.log"
    >>> _ = p.write_text("step 10 loss 2.5 lr 0.1\\nstep 20 loss 2.0 lr 0.1\\n")
    >>> lrpulse.read_scalars(p, "loss")["loss"][1].tolist()
    [2.5, 2.0]
    """
    raw = _core.read_log(os.fspath(path), _tag_list(tags), format, lenient, step, pattern)
    out = Scalars._from_core(raw)
    _warn_if_incomplete(out.path, out.truncated, out.skipped)
    return out


def _in_log(e: InputError, path: str, tag: str | None) -> InputError:
    """A diagnosis' complaint about the data (a negative step, a loss <= 0) as an error about the log."""
    err = InputError(f"{path}: " + (f"tag {tag!r}: " if tag else "") + str(e))
    err.path = path  # type: ignore[attr-defined]
    return err


def _missing(path: str, tag: str | None, tags: list[str], what: str) -> TagNotFoundError:
    present = ", ".join(repr(t) for t in tags[:20]) or "none"
    name = f"no tag {tag!r}" if tag else f"no {what} tag found (pass tag=...)"
    err = TagNotFoundError(f"{path}: {name}; tags present: {present}")
    err.path, err.missing, err.available = path, [tag] if tag else [], list(tags)
    return err


def diagnose_file(
    path: PathLike,
    tag: str | None = None,
    format: str = "auto",
    lenient: bool = False,
    *,
    val_tag: str | None = None,
    lr_tag: str | None = None,
    step: str | None = None,
    pattern: str | None = None,
    chunk_points: int = 1 << 18,
) -> Diagnosis:
    """Diagnose the loss curve in a log file (see :func:`lrpulse.diagnose` for the verdict).

    ``tag``: the training-loss tag (default: picked by :func:`pick_loss_tag`); ``val_tag``: the
    validation loss (default: :func:`pick_val_tag`, if any); ``lr_tag``: the learning rate (default:
    :func:`pick_lr_tag`, if any), put on each loss step as the LR last logged at or before it (the
    first LR for earlier steps; loss points wait up to ``4 * chunk_points`` for the first LR). The file
    is streamed through :class:`lrpulse.CurveMonitor` ``chunk_points`` points at a time, so memory
    stays bounded whatever its size. Steps that go back (a resumed run) supersede the earlier points, as in TensorBoard.
    Other arguments as in :func:`read_scalars`.

    >>> import lrpulse, pathlib, tempfile, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "run.jsonl"
    >>> loss = 3 * (1 + np.arange(400)) ** -0.3
    >>> _ = p.write_text("".join(f'{{"step": {i}, "loss": {x}}}\\n' for i, x in enumerate(loss)))
    >>> lrpulse.diagnose_file(p).label
    'healthy'
    """
    _positive("chunk_points", chunk_points)
    files, run_format = _core.run_files(os.fspath(path))
    fmt = run_format if format == "auto" and run_format else format
    read: dict[str, Any] = dict(format=fmt, lenient=lenient, step=step, pattern=pattern, chunk_points=chunk_points)
    feed = Feed(hold=4 * chunk_points)
    tags, (tag, val_tag, lr_tag), (truncated, skipped) = _stream(files, feed, (tag, val_tag, lr_tag), **read)
    if tag is None or tag not in tags:
        raise _missing(os.fspath(path), tag, tags, "training-loss")
    for optional, what in ((val_tag, "validation-loss"), (lr_tag, "learning-rate")):
        if optional is not None and optional not in tags:
            raise _missing(os.fspath(path), optional, tags, what)
    if not feed.exact:  # a restart reached back past points already fed: read again, knowing them
        feed = Feed(hold=4 * chunk_points, restarts=feed.restarts())
        _stream(files, feed, (tag, val_tag, lr_tag), **read)
    _warn_if_incomplete(os.fspath(path), truncated, skipped)
    return feed.monitor.diagnose()


def _stream(files: list[str], feed: Feed, picked: tuple[str | None, str | None, str | None], *, format: str,
            lenient: bool, step: str | None, pattern: str | None,
            chunk_points: int) -> tuple[list[str], tuple[str | None, str | None, str | None], tuple[bool, int]]:
    """Stream ``files`` (in order) into ``feed``, picking the tags not given as they appear. Returns every
    tag seen, the tags picked and the files' truncated and skipped flags."""
    tag, val_tag, lr_tag = picked
    tags: list[str] = []
    truncated, skipped = False, 0
    for file in files:  # several only for a TensorBoard run directory, in creation order
        if len(files) > 1 and os.path.getsize(file) == 0:
            truncated = True  # a newer event file its writer has not flushed yet (as the Rust reader)
            continue
        wanted = [tag, val_tag, lr_tag] if tag and val_tag and lr_tag else None  # else every tag, to pick from
        stream = _core.LogStream(os.fspath(file), wanted, format, lenient, step, pattern, chunk_points)
        for chunk in stream:
            tags = tags + [t for t in stream.tags if t not in tags]
            tag = tag or pick_loss_tag(tags)
            val_tag = val_tag or (pick_val_tag(tags) if tag else None)
            lr_tag = lr_tag or (pick_lr_tag(tags, tag) if tag else None)
            try:
                feed.update({t: (s, v) for t, s, v, _ in chunk}, tag, val_tag, lr_tag, lr_known=lr_tag in tags)
            except InputError as e:
                raise _in_log(e, os.fspath(file), tag) from None
        tags = tags + [t for t in stream.tags if t not in tags]
        truncated, skipped = truncated or stream.truncated, skipped + stream.skipped
    try:
        feed.flush()
    except InputError as e:
        raise _in_log(e, os.fspath(files[-1]), tag) from None
    return tags, (tag, val_tag, lr_tag), (truncated, skipped)


class Run(NamedTuple):
    """One run found by :func:`find_runs`: its ``name`` (path relative to the folder searched), its
    ``files`` (several only for a TensorBoard run directory, in reading order) and their ``format``
    (``None`` when only the content can tell)."""

    name: str
    files: list[str]
    format: str | None


def find_runs(path: PathLike) -> list[Run]:
    """The runs under ``path`` (searched recursively), sorted by name, without reading them: what
    :func:`scan` would read. A run is a log file or a directory of TensorBoard event files; a file
    ``path`` is one run. A missing path, or a folder without logs, raises
    :class:`lrpulse.errors.LogNotFoundError`.

    >>> import pathlib, tempfile
    >>> from lrpulse.logs import find_runs
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "b").mkdir(); _ = (root / "b" / "metrics.csv").write_text("step,loss\\n0,2\\n")
    >>> _ = (root / "a.jsonl").write_text('{"step": 0, "loss": 2}\\n')
    >>> [(run.name, run.format) for run in find_runs(root)]
    [('a.jsonl', 'jsonl'), ('b/metrics.csv', 'csv')]
    """
    return [Run(name, [os.fspath(f) for f in files], fmt) for name, files, fmt in _core.find_runs(os.fspath(path))]


@dataclass(frozen=True)
class RunResult:
    """One run found by :func:`scan`: its ``name`` (path relative to the folder), ``path``, ``format``,
    the loss ``tag`` and its ``steps``/``values``, the ``diagnosis`` (``None`` if not asked for or if
    reading failed), the ``error`` that run raised (``None`` if it was read), the ``truncated``
    and ``skipped`` flags of :class:`Scalars`, and the ``lr_tag`` whose LR the diagnosis was given."""

    name: str
    path: str
    format: str | None
    tag: str | None = None
    steps: npt.NDArray[np.int64] | None = None
    values: npt.NDArray[np.float64] | None = None
    diagnosis: Diagnosis | None = None
    error: LrpulseError | None = None
    truncated: bool = False
    skipped: int = 0
    lr_tag: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _lr_series(log: Scalars, lr_tag: str | None, steps: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
    """The LR of ``lr_tag`` put on the loss ``steps`` (see :func:`lr_on_steps`), or ``None``."""
    return lr_on_steps(steps, *increasing(*log[lr_tag])) if lr_tag is not None and lr_tag in log else None


def _result(name: str, raw: Any, tag: str | None, val_tag: str | None, lr_tag: str | None, diagnose: bool) -> RunResult:
    if isinstance(raw, BaseException):
        if not isinstance(raw, LrpulseError):
            raise raw
        path = getattr(raw, "path", None) or getattr(raw, "filename", None) or name
        return RunResult(name, path, None, tag, error=raw)
    log = Scalars._from_core(raw)
    loss_tag = tag or pick_loss_tag(log.tags)
    base = RunResult(name, log.path, log.format, loss_tag, truncated=log.truncated, skipped=log.skipped)
    if loss_tag is None or loss_tag not in log:
        return replace(base, error=_missing(log.path, loss_tag, log.tags, "training-loss"))
    steps, values = increasing(*log[loss_tag])
    base = replace(base, steps=steps, values=values)
    if not diagnose:
        return base
    vt = val_tag or pick_val_tag(log.tags)
    val_steps, val_values = increasing(*log[vt]) if vt is not None and vt in log else (None, None)
    lt = lr_tag or pick_lr_tag(log.tags, loss_tag)
    if lt is not None and lt not in log:
        return replace(base, error=_missing(log.path, lt, log.tags, "learning-rate"))
    lr = _lr_series(log, lt, steps)
    base = replace(base, lr_tag=lt if lr is not None else None)
    from .diagnosis import diagnose as run_diagnosis

    try:
        diagnosis = run_diagnosis(values, steps=steps, lr=lr, val_loss=val_values, val_steps=val_steps)
        return replace(base, diagnosis=diagnosis)
    except InputError as e:
        return replace(base, error=_in_log(e, log.path, loss_tag))
    except LrpulseError as e:
        return replace(base, error=e)


def scan(
    folder: PathLike,
    tag: str | None = None,
    format: str = "auto",
    lenient: bool = False,
    *,
    val_tag: str | None = None,
    lr_tag: str | None = None,
    step: str | None = None,
    pattern: str | None = None,
    diagnose: bool = True,
    batch: int | None = None,
) -> Iterator[RunResult]:
    """Find every run under ``folder`` (recursively) and yield a :class:`RunResult` per run, sorted by name.

    A run is a log file, named by its path relative to ``folder``, or a directory of TensorBoard event
    files. Runs are read ``batch`` at a time (default: 4 per thread) in parallel with the GIL released;
    a run that cannot be read yields a result with ``error`` set instead of stopping the scan. A folder
    without logs raises :class:`lrpulse.errors.LogNotFoundError`. ``diagnose=False`` only reads.
    ``tag``, ``val_tag`` and ``lr_tag`` as in :func:`diagnose_file` (the LR aligned on the loss steps).

    >>> import lrpulse, pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "a").mkdir(); _ = (root / "a" / "metrics.csv").write_text("step,loss\\n0,2\\n1,1.5\\n")
    >>> [(r.name, r.tag, r.values.tolist()) for r in lrpulse.scan(root, diagnose=False)]
    [('a/metrics.csv', 'loss', [2.0, 1.5])]
    """
    _positive("batch", batch)
    runs = find_runs(folder)
    # Read only the tags needed when they are known; otherwise all, to pick the tags per run.
    extra = [t for t in (val_tag, lr_tag) if t]
    wanted = None if tag is None or (diagnose and len(extra) < 2) else [tag] + (extra if diagnose else [])
    size = batch or 4 * max(1, _core.num_threads())
    for start in range(0, len(runs), size):
        part = runs[start : start + size]
        results = _core.read_runs(part, wanted, format, lenient, step, pattern)
        for (name, _, _), raw in zip(part, results, strict=True):
            yield _result(name, raw, tag, val_tag, lr_tag, diagnose)
