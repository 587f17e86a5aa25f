"""The ``lrpulse`` command line: ``demo``, ``diagnose``, ``schedule`` and ``lint``.

Each subcommand is one :class:`Command` in :data:`COMMANDS`; adding one (e.g. ``diagnose``) means
writing its ``configure`` and ``run`` functions and appending it there. Bad input (a missing file,
broken JSON, an invalid spec) prints one ``lrpulse: error: ...`` line and exits with status 2.

>>> main(["lint", "--help"])  # doctest: +ELLIPSIS
usage: lrpulse lint ...
0
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .errors import LrpulseError
from .schedules import Schedule, schedule_from_dict

__all__ = ["Command", "COMMANDS", "UsageError", "main"]


class UsageError(Exception):
    """Input the command cannot use; ``main`` prints it as one line and returns 2."""


@dataclass(frozen=True)
class Command:
    """One subcommand: ``configure`` adds its arguments, ``run`` does the work and returns the exit code."""

    name: str
    summary: str
    examples: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, TextIO], int]


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error format every other lrpulse error uses."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"lrpulse: error: {message} (see '{self.prog} --help')\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lrpulse`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    # A file name that is not UTF-8 (kept by Python as surrogate escapes) must print, not raise, under a
    # strict locale encoding: write the name's own bytes, as ls does, so it can be pasted or piped back.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help and usage errors: hand back the status instead of exiting
        return stop.code if isinstance(stop.code, int) else 0
    try:
        return args.command.run(args, sys.stdout)
    except (UsageError, LrpulseError) as e:
        print(f"lrpulse: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path given on the command line that cannot be written or created
        where = f"{e.filename}: " if e.filename else ""
        print(f"lrpulse: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C during a long scan: stop quietly, with the shell's status for SIGINT
        print("lrpulse: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `lrpulse schedule ... --json | head`: the reader left early, nothing is wrong. Point stdout at
        # devnull so the interpreter's final flush does not fail too (Python docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="lrpulse",
        description="Learning rates: diagnose training logs, lint an LR plan, print its trajectory, or run the demo.",
        epilog="examples:\n" + "\n".join(f"  lrpulse {c.name} --help" for c in COMMANDS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"lrpulse {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.summary, description=command.summary,
                           epilog="examples:\n" + command.examples,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        command.configure(p)
        p.set_defaults(command=command)
    return parser


# ---- shared helpers -----------------------------------------------------------------------------

def positive_int(text: str) -> int:
    """argparse type for step counts: a whole number > 0 (``10000``, ``1e4`` and ``10_000`` all work)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {text!r}") from None
    if not (value.is_integer() and value > 0):
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {text!r}")
    return int(value)


def load_schedule(path: str) -> Schedule:
    """The schedule in a JSON spec file (``Schedule.to_dict()`` format); ``-`` reads stdin."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {name}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{name}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise UsageError(f"{name}: JSON nested too deeply") from None
    except ValueError as e:  # e.g. an integer longer than Python's int-conversion limit
        raise UsageError(f"{name}: invalid JSON: {e}") from None
    try:
        return schedule_from_dict(spec)
    except LrpulseError as e:
        message = str(e)
        prefix = "" if message.startswith("invalid schedule spec") else "invalid schedule spec: "
        raise UsageError(f"{name}: {prefix}{message}") from None


def save_figure(figure: Any, path: str) -> None:
    try:
        figure.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as e:
        raise UsageError(f"cannot write the plot to {path}: {e.strerror or e}") from None
    except ValueError as e:  # matplotlib: a file suffix it has no writer for
        raise UsageError(f"cannot write the plot to {path}: {e}") from None


def new_figure(rows: int) -> tuple[Any, list[Any]]:
    """A matplotlib Figure with ``rows`` stacked axes; no pyplot, so no GUI backend and no global state."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.6 * rows), layout="constrained")
    return figure, [figure.add_subplot(rows, 1, i + 1) for i in range(rows)]


def format_lr(x: float) -> str:
    return "0" if x == 0 else f"{x:.4g}"


def wrap(text: str, indent: str, width: int = 100) -> str:
    import textwrap

    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def print_findings(findings: list[Any], out: TextIO, indent: str = "  ") -> None:
    """Findings as ``step N  severity  code`` headers with the wrapped message below each."""
    for f in findings:
        where = "plan" if f.step is None else f"step {f.step}"
        print(f"{indent}{where}  {f.severity}  {f.code}", file=out)
        print(wrap(f.message, indent + "    "), file=out)


def count_findings(findings: list[Any]) -> str:
    warnings = sum(f.severity == "warning" for f in findings)
    notes = len(findings) - warnings
    parts = [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
    parts += [f"{notes} note{'s' * (notes != 1)}"] if notes else []
    return ", ".join(parts) or "no findings"


# ---- lrpulse schedule ---------------------------------------------------------------------------

def _configure_schedule(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC.json", help="schedule spec as Schedule.to_dict() writes it ('-': stdin)")
    p.add_argument("--steps", type=positive_int, required=True, metavar="N", help="number of training steps")
    p.add_argument("--plot", metavar="FILE", help="also draw the LR over the steps to FILE (PNG, SVG, PDF)")
    p.add_argument("--json", action="store_true", help="print every step's LR as JSON instead of a summary")


_CHUNK = 1 << 18  # steps evaluated per engine call, so memory stays flat for any --steps


def _run_schedule(args: argparse.Namespace, out: TextIO) -> int:
    schedule, n = load_schedule(args.spec), args.steps
    if args.plot:
        _plot_schedule(schedule, n, args.plot)
    if args.json:
        # Streamed chunk by chunk; repr of a finite float is valid JSON and round-trips exactly.
        out.write(f'{{"schedule": {schedule.to_json()}, "steps": {n}, "lr": [')
        for lo in range(0, n, _CHUNK):
            chunk = schedule.trajectory(min(_CHUNK, n - lo), start=lo).tolist()
            out.write((", " if lo else "") + ", ".join(map(repr, chunk)))
        out.write("]}\n")
        return 0
    peak, peak_at, low, low_at = -np.inf, 0, np.inf, 0
    for lo in range(0, n, _CHUNK):
        v = schedule.trajectory(min(_CHUNK, n - lo), start=lo)
        if v.max() > peak:
            peak, peak_at = float(v.max()), lo + int(v.argmax())
        if v.min() < low:
            low, low_at = float(v.min()), lo + int(v.argmin())
    print(schedule, file=out)
    print(f"{n} steps (0 .. {n - 1})", file=out)
    for label, lr, t in (("first", schedule(0), 0), ("peak", peak, peak_at), ("lowest", low, low_at),
                         ("last", schedule(n - 1), n - 1)):
        print(f"  {label:<7}LR {format_lr(lr):<11} at step {t}", file=out)
    steps = np.unique([i * n // 10 for i in range(10)] + [n - 1])  # every tenth of the run, and its last step
    print(f"  {'step':>12}  LR", file=out)
    for t, lr in zip(steps.tolist(), schedule(steps).tolist(), strict=True):
        print(f"  {t:>12}  {format_lr(lr)}", file=out)
    if args.plot:
        print(f"plot written to {args.plot}", file=out)
    return 0


def _plot_schedule(schedule: Schedule, n: int, path: str) -> None:
    try:
        figure, (ax,) = new_figure(1)
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'lrpulse[plot]'") from None
    steps = np.unique(np.linspace(0, n - 1, min(n, 20_000)).round())
    ax.plot(steps, schedule(steps))
    ax.set(title=str(schedule), xlabel="step", ylabel="learning rate")
    ax.title.set_fontsize(8)
    ax.grid(alpha=0.3)
    save_figure(figure, path)


# ---- lrpulse lint -------------------------------------------------------------------------------

def _configure_lint(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC.json", help="schedule spec as Schedule.to_dict() writes it ('-': stdin)")
    p.add_argument("--total-steps", type=positive_int, required=True, metavar="N",
                   help="how many steps the run trains for")
    p.add_argument("--finetune", action="store_true",
                   help="the run fine-tunes a pretrained model (LR should stay <= 1e-4)")
    p.add_argument("--jump-factor", type=float, default=10.0, metavar="X",
                   help="flag steps where the LR changes more than X times (default: 10)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def _run_lint(args: argparse.Namespace, out: TextIO) -> int:
    from ._lint import lint

    schedule = load_schedule(args.spec)
    findings = lint(schedule, args.total_steps, finetune=args.finetune, jump_factor=args.jump_factor)
    if args.json:
        json.dump({"schedule": schedule.to_dict(), "total_steps": args.total_steps, "finetune": args.finetune,
                   "findings": [f.to_dict() for f in findings]}, out, indent=2)
        out.write("\n")
    else:
        print(schedule, file=out)
        mode = "fine-tuning" if args.finetune else "from scratch"
        print(f"{count_findings(findings)} for {args.total_steps} steps ({mode})", file=out)
        print_findings(findings, out)
    return 1 if any(f.severity == "warning" for f in findings) else 0


# ---- lrpulse diagnose ----------------------------------------------------------------------------

_LOG_FORMATS = ("auto", "tfevents", "csv", "tsv", "jsonl", "trainer_state", "text")


def _configure_diagnose(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="log files or folders (searched recursively; each log file or TensorBoard folder is a run)")
    p.add_argument("--tag", metavar="NAME",
                   help="the training-loss tag, column or key (default: found by name: loss, train_loss, "
                        "train/loss...)")
    p.add_argument("--val-tag", metavar="NAME",
                   help="the validation-loss tag, for the overfitting check (default: found by name: val_loss...)")
    p.add_argument("--lr-tag", metavar="NAME",
                   help="the logged learning rate, so a flat end under a decayed LR is not called a plateau "
                        "(default: found by name: lr, learning_rate, lr-AdamW...)")
    p.add_argument("--step", metavar="NAME",
                   help="the CSV column or JSON key holding the step (default: step, global_step, ..., epoch)")
    p.add_argument("--pattern", metavar="REGEX",
                   help="text logs: a regex with named groups 'value' and optionally 'step' and 'tag' "
                        "(default: lines like 'step 100 ... loss 2.31')")
    p.add_argument("--format", choices=_LOG_FORMATS, default="auto",
                   help="read every file as this format (default: detect from name and content)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON document instead: {"runs": [every field of every run], "summary": {...}}')
    p.add_argument("--plot", metavar="DIR", help="write one PNG per run and overview.png to DIR (needs matplotlib)")
    p.add_argument("--lenient", action="store_true",
                   help="skip damaged records and malformed lines (counted) instead of failing the run")


def _run_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    from ._cli_diagnose import run

    return run(args, out)


# ---- the registry -------------------------------------------------------------------------------

def _configure_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="lrpulse-demo.png", metavar="FILE",
                   help="where to draw the plot (PNG, SVG or PDF; default: lrpulse-demo.png); the run plots go to "
                        "the folder FILE-without-suffix + '-runs' next to it")
    p.add_argument("--keep", metavar="DIR",
                   help="write the demo's training logs to DIR and keep them (default: a temporary folder)")


def _run_demo(args: argparse.Namespace, out: TextIO) -> int:
    from ._demo import run_demo

    return run_demo(args.out, out, keep=args.keep)


# Add a subcommand by appending a Command; `main` and `--help` pick it up from here.
COMMANDS: list[Command] = [
    Command("demo", "Lint a few built-in LR plans, then diagnose a simulated sweep of training logs in five "
            "formats; print and plot it all (no input needed).",
            "  lrpulse demo\n  lrpulse demo --out plans.png\n"
            "  lrpulse demo --keep demo-logs/ && lrpulse diagnose demo-logs/\n"
            "  python -m lrpulse demo --out /tmp/demo.svg",
            _configure_demo, _run_demo),
    Command("diagnose", "Diagnose training-loss logs: which runs have an LR problem and what to change. "
            "Exit 0: none, 1: some, 2: bad input or unreadable runs.",
            "  lrpulse diagnose runs/\n"
            "  lrpulse diagnose runs/ --plot plots/\n"
            "  lrpulse diagnose lightning_logs/version_0/metrics.csv --tag train_loss_step\n"
            "  lrpulse diagnose runs/ --json > report.json\n"
            "  lrpulse diagnose train.log --format text --lenient\n"
            "  lrpulse diagnose train.log --pattern 'it (?P<step>\\d+) .*loss=(?P<value>\\S+)'",
            _configure_diagnose, _run_diagnose),
    Command("schedule", "Print a schedule's LR over N steps: a summary, every value as JSON, or a plot.",
            "  lrpulse schedule plan.json --steps 10000\n"
            "  lrpulse schedule plan.json --steps 10000 --plot lr.png\n"
            "  lrpulse schedule plan.json --steps 1e6 --json > lr.json\n"
            "  python -c 'import lrpulse; print(lrpulse.cosine(lr=0.01, decay_steps=1000).to_json())' \\\n"
            "      | lrpulse schedule - --steps 1000",
            _configure_schedule, _run_schedule),
    Command("lint", "Check a schedule against LR rules of thumb; exit 0: sound, 1: warnings, 2: bad input.",
            "  lrpulse lint plan.json --total-steps 10000\n"
            "  lrpulse lint plan.json --total-steps 10000 --finetune\n"
            "  lrpulse lint plan.json --total-steps 1e8 --json",
            _configure_lint, _run_lint),
]
