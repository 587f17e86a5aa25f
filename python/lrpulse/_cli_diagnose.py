"""``lrpulse diagnose PATH...``: read every training log under the paths, diagnose each run's loss curve,
print one row per run with the problems first, optionally plot them.

Exit status: 0 when no run has an LR problem (every run ``healthy``, or ``insufficient_data``, which
is an abstention, not a finding), 1 when at least one run has one, 2 when the input is unusable (a
path that does not exist, a folder without logs, a bad option) or some run could not be read; like
``grep``, an error wins over a finding. Runs that cannot be read are rows of their own
(label ``error``) and never stop the others.

``--json`` prints one document: ``{"runs": [...], "summary": {...}}``. Each run, in report order, has
``run`` (its name: the path), ``path``, ``format``, ``tag``, ``points``, ``first_step``,
``last_step``, ``truncated``, ``skipped``, the diagnosis (``label``, ``confidence``, ``advice``,
``first_bad_step``, ``segments``, ``findings``, ``evidence``: all ``None``/empty for an unreadable
run), ``problem``, ``error`` and ``error_type`` (``None`` when read), and ``plot`` (its PNG, or
``None``). The summary counts ``runs``, ``problems``, ``errors`` and each label, and repeats the
``exit_code``. Non-finite numbers (an infinite deceleration) are written as ``null``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from .cli import UsageError
from .errors import LrpulseError

if TYPE_CHECKING:
    from ._plot import RunCurve
    from .diagnosis import Diagnosis
    from .logs import RunResult

__all__ = ["LABEL_ORDER", "PROBLEMS", "PlotWriter", "Progress", "RunRow", "diagnose_paths", "exit_code", "print_table",
           "run", "summary", "terminal_width", "write_json"]

PROBLEMS = ("diverged", "rising_early", "plateau", "slow", "oscillating", "spiky")
# Rows are sorted by this (then by confidence, most certain first, then by name); unreadable runs last.
LABEL_ORDER = (*PROBLEMS, "healthy", "insufficient_data", "error")


@dataclass
class RunRow:
    """One run's line in the report: where it is, what was read, and the verdict or the error."""

    name: str
    path: str
    format: str | None
    tag: str | None
    points: int
    first_step: int | None
    last_step: int | None
    diagnosis: Diagnosis | None
    error: str | None = None
    error_type: str | None = None
    truncated: bool = False
    skipped: int = 0
    plot: str | None = None

    @property
    def label(self) -> str:
        return self.diagnosis.label if self.diagnosis is not None else "error"

    @property
    def is_problem(self) -> bool:
        return self.label in PROBLEMS

    def sort_key(self) -> tuple[int, float, str]:
        confidence = self.diagnosis.confidence if self.diagnosis is not None else 0.0
        return LABEL_ORDER.index(self.label) if self.label in LABEL_ORDER else len(LABEL_ORDER), -confidence, self.name

    def note(self) -> str:
        """What the row's advice column says: the advice, prefixed by how complete the log was."""
        if self.diagnosis is None:
            prefix = self.path + ": "
            if not self.error or not self.error.startswith(prefix):
                return self.error or ""
            # The row names the run; a file inside a run folder (one event file of several) keeps its name.
            inside = os.path.isdir(self.name) and os.path.abspath(self.path) != os.path.abspath(self.name)
            return (os.path.relpath(self.path, self.name) + ": " if inside else "") + self.error[len(prefix):]
        flags = ["log ends mid-record"] if self.truncated else []
        flags += [f"{self.skipped} damaged records skipped"] if self.skipped else []
        return (f"[{'; '.join(flags)}] " if flags else "") + self.diagnosis.advice

    def to_dict(self) -> dict[str, Any]:
        d = self.diagnosis.to_dict() if self.diagnosis is not None else {
            "label": None, "confidence": None, "advice": None, "first_bad_step": None,
            "segments": [], "findings": [], "evidence": {}}  # fmt: skip
        return {"run": self.name, "path": self.path, "format": self.format, "tag": self.tag, "points": self.points,
                "first_step": self.first_step, "last_step": self.last_step, "truncated": self.truncated,
                "skipped": self.skipped, **d, "problem": self.is_problem, "error": self.error,
                "error_type": self.error_type, "plot": self.plot}


def _run_name(arg: str, result: RunResult) -> str:
    """The run's name as a path the user can paste: the argument joined with the name ``scan`` found."""
    if not os.path.isdir(arg):
        return arg
    joined = os.path.normpath(os.path.join(arg, result.name))
    # A TensorBoard run whose event files sit directly in `arg` is named after `arg` itself by scan.
    return joined if os.path.exists(joined) else os.path.normpath(arg)


def _row(name: str, result: RunResult) -> RunRow:
    steps = result.steps
    span = (int(steps[0]), int(steps[-1])) if steps is not None and len(steps) else (None, None)
    error = result.error
    return RunRow(name=name, path=result.path, format=result.format, tag=result.tag,
                  points=0 if steps is None else len(steps), first_step=span[0], last_step=span[1],
                  diagnosis=result.diagnosis, error=None if error is None else _one_line(error),
                  error_type=None if error is None else type(error).__name__, truncated=result.truncated,
                  skipped=result.skipped)


def _one_line(error: BaseException) -> str:
    """An exception as one line; OSError subclasses as ``path: reason`` (not ``[Errno 2] ...``)."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    # The readers speak Python (`tag=`); on the command line the option is --tag.
    return " ".join(str(error).split()).replace("(pass tag=...)", "(pick one with --tag NAME)")


def count_runs(paths: Sequence[str]) -> int:
    """How many runs the paths hold; a path that is missing or holds no logs is a usage error."""
    from .logs import find_runs

    total = 0
    for path in paths:
        try:
            total += len(find_runs(path))
        except LrpulseError as e:
            raise UsageError(_one_line(e)) from None
    return total


def diagnose_paths(paths: Sequence[str], *, progress: Progress | None = None, plots: PlotWriter | None = None,
                   relative_to: str | None = None, **read: Any) -> list[RunRow]:
    """Every run under ``paths`` diagnosed, in report order. ``plots`` draws each run as it is read;
    ``relative_to`` names the runs relative to that folder instead of as the paths were given; ``read``
    holds :func:`lrpulse.scan`'s options (``tag``, ``format``, ``lenient``, ``lr_tag``, ``pattern``...)."""
    from .logs import scan

    rows: list[RunRow] = []
    seen: set[str] = set()
    for arg in paths:
        for result in scan(arg, **read):
            name = _run_name(arg, result)
            if relative_to is not None:
                name = os.path.relpath(name, relative_to)
            key = os.path.realpath(result.path)
            if key not in seen:  # the same run reached through two of the paths
                seen.add(key)
                row = _row(name, result)
                if plots is not None and row.diagnosis is not None:
                    plots.add(row, result.steps, result.values)
                rows.append(row)
            if progress is not None:
                progress.advance()
    rows.sort(key=RunRow.sort_key)
    return rows


def exit_code(rows: Sequence[RunRow]) -> int:
    if any(r.diagnosis is None for r in rows):
        return 2
    return 1 if any(r.is_problem for r in rows) else 0


def summary(rows: Sequence[RunRow]) -> str:
    """``6 runs: 1 diverged, 1 rising_early, ..., 1 healthy`` in report order.

    >>> from lrpulse.diagnosis import Diagnosis
    >>> rows = [RunRow("a.csv", "a.csv", "csv", "loss", 500, 0, 499, Diagnosis("healthy", 0.9, "Keep it.")),
    ...         RunRow("b.log", "b.log", "text", "loss", 80, 0, 79, Diagnosis("slow", 0.8, "Raise it."))]
    >>> summary(sorted(rows, key=RunRow.sort_key)), exit_code(rows)
    ('2 runs: 1 slow, 1 healthy', 1)
    """
    counts = Counter(r.label for r in rows)
    parts = [f"{counts[label]} {label}" for label in LABEL_ORDER if counts[label]]
    return f"{len(rows)} run{'s' * (len(rows) != 1)}: " + ", ".join(parts)


def print_table(rows: Sequence[RunRow], out: TextIO, width: int | None = None) -> None:
    """The report: a header, one row per run, a summary line. Without ``width`` each run stays on one
    line (for grep, sort and awk). With ``width`` (a terminal) long advice wraps under its own column,
    or, when the names leave that column too narrow, on indented lines below its row."""
    header = ("RUN", "LABEL", "CONF", "BAD STEP", "ADVICE")
    cells = [(r.name, r.label, "-" if r.diagnosis is None else f"{r.diagnosis.confidence:.0%}",
              "-" if r.diagnosis is None or r.diagnosis.first_bad_step is None else str(r.diagnosis.first_bad_step),
              r.note()) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header[:-1])]
    indent = sum(widths) + 2 * len(widths)
    below = width is not None and width - indent < 40
    for line in [header, *cells]:
        lead = "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)) + "  "
        text = line[-1]
        if width is None:
            print(lead + text, file=out)
        elif below:
            print(lead.rstrip() if line is not header else lead + text, file=out)
            if line is not header:
                print(textwrap.fill(text, width=width - 1, initial_indent="    ", subsequent_indent="    "), file=out)
        else:
            wrapped = textwrap.fill(text, width=width - 1, initial_indent=" " * indent, subsequent_indent=" " * indent)
            print(lead + wrapped[indent:], file=out)
    print(summary(rows), file=out)


def _json_ready(value: Any) -> Any:
    """NaN and infinities (e.g. a deceleration of inf) are not JSON: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def write_json(rows: Sequence[RunRow], out: TextIO, plot_dir: str | None) -> None:
    labels = Counter(r.label for r in rows)
    document = {"runs": [r.to_dict() for r in rows],
                "summary": {"runs": len(rows), "problems": sum(r.is_problem for r in rows),
                            "errors": labels["error"], "labels": {k: labels[k] for k in LABEL_ORDER if labels[k]},
                            "exit_code": exit_code(rows), "plot_dir": plot_dir}}
    json.dump(_json_ready(document), out, indent=2, allow_nan=False)
    out.write("\n")


class Progress:
    """A one-line ``diagnosing [#####.....] 120/500 runs`` bar on ``stream``, redrawn with ``\\r``.

    Silent unless ``stream`` is a terminal, and only shown once the work has taken ``delay`` seconds,
    so quick runs and pipes never see it. ``close()`` erases it.
    """

    def __init__(self, total: int, stream: TextIO | None = None, delay: float = 0.5, what: str = "diagnosing") -> None:
        import time

        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.what = total, 0, what
        self.enabled = total > 1 and _isatty(self.stream)
        self._clock = time.monotonic
        self._start = self._clock()
        self._shown_at = -1.0
        self._delay = delay

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self._clock()
        if not self.enabled or now - self._start < self._delay or now - self._shown_at < 0.1:
            return
        self._shown_at = now
        filled = 30 * self.done // max(self.total, 1)
        self.stream.write(f"\r{self.what} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} runs")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown_at >= 0:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class PlotWriter:
    """Draws one PNG per run as the runs are read (their points are dropped after) and, at the end,
    an overview of every run's thumbnail in report order."""

    def __init__(self, folder: str, base: str | None = None) -> None:
        self.folder = folder
        self.base = base  # PNGs are named by the run's path relative to this folder
        self._curves: dict[str, RunCurve] = {}
        self._files: set[str] = set()

    def add(self, row: RunRow, steps: Any, values: Any) -> None:
        from ._plot import RunCurve, plot_run

        curve = RunCurve.from_series(row.name, row.tag, steps, values)
        path = os.path.join(self.folder, self._file_name(row.name))
        plot_run(path, curve, row.diagnosis)
        row.plot = path
        self._curves[row.name] = curve.thumbnail()

    def _file_name(self, name: str) -> str:
        """``runs/a/metrics.csv`` -> ``runs__a__metrics.csv.png``: flat, unique, safe on every OS."""
        if self.base is not None:
            name = os.path.relpath(os.path.abspath(name), self.base)
        parts = [p for p in name.replace(os.sep, "/").split("/") if p not in ("", ".", "..")]
        stem = "__".join("".join(c if c.isalnum() or c in "-_.=+" else "_" for c in p) for p in parts) or "run"
        candidate, n = f"{stem}.png", 1
        while candidate in self._files or candidate == "overview.png":
            n += 1
            candidate = f"{stem}-{n}.png"
        self._files.add(candidate)
        return candidate

    def overview(self, rows: Sequence[RunRow]) -> str | None:
        from ._plot import plot_overview

        runs = [(self._curves[r.name], r.diagnosis) for r in rows if r.name in self._curves]
        if not runs:
            return None
        path = os.path.join(self.folder, "overview.png")
        problems = sum(r.is_problem for r in rows)
        plot_overview(path, runs, f"{len(rows)} run{'s' * (len(rows) != 1)}, {problems} with an LR problem")
        return path


def _common_folder(paths: Sequence[str]) -> str:
    """The deepest folder holding every path (a file counts by its folder)."""
    folders = [os.path.abspath(p) if os.path.isdir(p) else os.path.dirname(os.path.abspath(p)) for p in paths]
    try:
        return os.path.commonpath(folders)
    except ValueError:  # different drives (Windows): keep full names
        return os.path.abspath(os.sep)


def open_plot_dir(folder: str, paths: Sequence[str], err: TextIO) -> PlotWriter | None:
    """A PlotWriter for ``folder`` (created if needed) naming PNGs relative to the common folder of
    ``paths``, or None with a note when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("lrpulse: note: --plot needs matplotlib (pip install 'lrpulse[plot]'); no plots written", file=err)
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create the plot folder {folder}: {e.strerror or e}") from None
    return PlotWriter(folder, _common_folder(paths))


def terminal_width(out: TextIO) -> int | None:
    """The terminal's width when ``out`` is one (tables then wrap their last column), else None."""
    return shutil.get_terminal_size().columns if _isatty(out) else None


def run(args: argparse.Namespace, out: TextIO) -> int:
    """The ``lrpulse diagnose`` command (arguments as configured in :mod:`lrpulse.cli`)."""
    err = sys.stderr
    total = count_runs(args.paths)
    plots = open_plot_dir(args.plot, args.paths, err) if args.plot else None
    progress = Progress(total, err)
    try:
        rows = diagnose_paths(args.paths, progress=progress, plots=plots, tag=args.tag, format=args.format,
                              lenient=args.lenient, val_tag=args.val_tag, lr_tag=args.lr_tag, step=args.step,
                              pattern=args.pattern)
        overview = plots.overview(rows) if plots is not None else None
    finally:
        progress.close()
    failed = [r for r in rows if r.diagnosis is None]
    if len(failed) == len(rows):  # nothing to report but the errors themselves
        for r in rows:
            print(f"lrpulse: error: {r.error}", file=err)
        return 2
    if args.json:
        write_json(rows, out, args.plot if plots is not None else None)
    else:
        print_table(rows, out, terminal_width(out))
        if overview is not None:
            print(f"plots written to {args.plot}{os.sep} (overview.png and one PNG per run)", file=out)
    if failed:
        print(f"lrpulse: error: {len(failed)} of {len(rows)} runs could not be read (label 'error')", file=err)
    return exit_code(rows)

