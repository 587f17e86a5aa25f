"""The demo's diagnosis section: simulate a small sweep, write each run in a different log format,
diagnose the folder exactly as ``lrpulse diagnose`` does, print its table, and plot the runs.

The runs and their loss model are in :mod:`lrpulse._demo_runs`, the log writers in
:mod:`lrpulse._demo_logs`. Each run was built to show one textbook LR problem; the section ends by
comparing the verdicts with what was simulated, so a wrong verdict is visible, not hidden.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._cli_diagnose import PlotWriter, diagnose_paths, print_table, terminal_width
from ._demo_logs import WrittenRun, write_demo_logs
from ._plot import LABEL_COLORS, RunCurve
from .cli import UsageError

if TYPE_CHECKING:
    from ._demo import DemoContext

__all__ = ["diagnosis_step", "run_plot_dir"]


def run_plot_dir(plot_path: str) -> str:
    """Where the per-run plots go: a folder next to the demo figure (``lrpulse-demo-runs/``)."""
    return os.path.splitext(plot_path)[0] + "-runs"


@contextlib.contextmanager
def _logs_folder(keep: str | None) -> Iterator[Path]:
    if keep is not None:
        os.makedirs(keep, exist_ok=True)
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory(prefix="lrpulse-demo-") as tmp:
        yield Path(tmp)


def _plot_writer(folder: str) -> PlotWriter | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None  # the demo's last line says the plots were skipped
    try:
        os.mkdir(folder)  # next to the demo figure, whose folder must exist already
    except FileExistsError:
        pass
    except OSError as e:
        raise UsageError(f"cannot write the plot to {folder}: {e.strerror or e}") from None
    return PlotWriter(folder)


def diagnosis_step(ctx: DemoContext) -> None:
    from ._demo import Curve, Panel

    out = ctx.out
    with _logs_folder(ctx.keep) as root:
        written = write_demo_logs(root)
        where = "kept" if ctx.keep else "temporary: keep the logs with --keep DIR"
        print(f"  One model trained {len(written)} times under different LR plans (a simulation: see "
              f"lrpulse/_demo_runs.py),\n  each run logged in a different format, written to {root} ({where}):",
              file=out)
        for w in written:
            print(f"    {w.path.relative_to(root)}", file=out)
            print(f"        {w.format}; {w.run.story}", file=out)
        plot_dir = run_plot_dir(ctx.plot_path)
        plots = _plot_writer(plot_dir)
        print(f"\n  $ lrpulse diagnose {root}", file=out)
        rows = diagnose_paths([str(root / w.run.name) for w in written], plots=plots, relative_to=str(root))
        table = io.StringIO()
        width = terminal_width(out)
        print_table(rows, table, None if width is None else width - 2)
        print(textwrap.indent(table.getvalue(), "  "), end="", file=out)
        verdicts = {Path(r.name).parts[0]: r.label for r in rows}  # by run folder
        _compare(verdicts, written, out)
        if plots is not None:
            plots.overview(rows)
            print(f"  run plots written to {plot_dir}{os.sep} (overview.png and one PNG per run)", file=out)
        if ctx.keep:
            print(f"  try: lrpulse diagnose {root} --plot plots/", file=out)
    panel = Panel("The simulated runs' loss (smoothed), coloured by lrpulse's verdict", "step", "training loss",
                  log_y=True, legend_outside=True)
    for w in written:
        label = verdicts.get(w.run.name, "error")
        curve = RunCurve.from_series(w.run.name, "loss", w.log.steps, w.log.loss)
        panel.curves.append(Curve(f"{w.run.name}: {label}", curve.smooth_steps, curve.smooth_values,
                                  LABEL_COLORS.get(label, "#999999")))
    ctx.panels.append(panel)


def _compare(verdicts: dict[str, str], written: list[WrittenRun], out: TextIO) -> None:
    """One line: how many verdicts match what each run was simulated to show; the misses by name."""
    misses = [f"{w.run.name} was simulated as {w.run.expected}, diagnosed {verdicts.get(w.run.name, 'error')}"
              for w in written if verdicts.get(w.run.name) != w.run.expected]
    print(f"\n  {len(written) - len(misses)} of {len(written)} verdicts match the problem each run was simulated with"
          + ("." if not misses else ": " + "; ".join(misses) + "."), file=out)
