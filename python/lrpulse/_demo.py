"""``lrpulse demo``: a walk-through of what lrpulse does, printed and plotted, with no input needed.

The demo is a list of :class:`DemoStep`; each prints its section and adds :class:`Panel` s to the
figure. Adding a section means writing one step function and appending it to :data:`DEMO_STEPS`;
the plot grows a panel per panel added. The sections: lint four LR plans
(:func:`_schedules_step`), then diagnose a small simulated sweep written in five log formats
(:mod:`lrpulse._demo_diagnosis`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TextIO

import numpy as np

from . import schedules as lr
from ._lint import lint
from .cli import count_findings, format_lr, new_figure, print_findings, save_figure

__all__ = ["DEMO_STEPS", "Curve", "DemoContext", "DemoStep", "Panel", "run_demo"]


class Curve(NamedTuple):
    label: str
    x: np.ndarray
    y: np.ndarray
    color: str | None = None  # None: the next colour of matplotlib's cycle


@dataclass
class Panel:
    """One axes of the demo figure: curves, marked points (x, y, label) and labelled vertical lines."""

    title: str
    xlabel: str
    ylabel: str
    log_y: bool = False
    legend_outside: bool = False  # right of the axes, for panels whose curves fill every corner
    curves: list[Curve] = field(default_factory=list)
    marks: list[tuple[float, float, str]] = field(default_factory=list)
    vlines: list[tuple[float, str]] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class DemoContext:
    """What the steps share: the text output, the figure's panels, where the figure goes (other plots
    are written next to it) and the folder to keep generated logs in (None: a temporary one)."""

    out: TextIO
    plot_path: str = "lrpulse-demo.png"
    keep: str | None = None
    panels: list[Panel] = field(default_factory=list)


@dataclass(frozen=True)
class DemoStep:
    title: str
    run: Callable[[DemoContext], None]


@dataclass(frozen=True)
class _Plan:
    title: str
    label: str
    schedule: lr.Schedule
    total_steps: int
    finetune: bool


def _plans() -> list[_Plan]:
    n = 10_000
    return [
        _Plan("From scratch: linear warmup to 0.01, cosine decay to 1e-5 (a sound plan)", "warmup + cosine",
              lr.warmup(lr.cosine(lr=0.01, decay_steps=n - 500, min_lr=1e-5), warmup_steps=500), n, False),
        _Plan("Fine-tuning a pretrained model, HF-style warmup + linear decay, but at 1e-3",
              "fine-tuning at 1e-3",
              lr.warmup(lr.linear(lr=1e-3, steps=n - 100), warmup_steps=100), n, True),
        _Plan("torch CosineAnnealingLR(T_max=10000): fine for 10000 steps, periodic past them",
              "torch periodic cosine",
              lr.cosine(lr=0.01, decay_steps=n, min_lr=1e-5, periodic=True), n, False),
        _Plan("MultiStepLR with gamma=0.01: two 100x cuts", "MultiStepLR, gamma=0.01",
              lr.multi_step(lr=0.01, milestones=[5_000, 8_000], gamma=0.01), n, False),
    ]


def _schedules_step(ctx: DemoContext) -> None:
    plans = _plans()
    horizon = max(p.total_steps for p in plans) * 13 // 10  # draw a bit past the end: tails matter
    panel = Panel("LR plans and their lint findings (x: where a finding points)", "step", "learning rate",
                  log_y=True)
    panel.vlines.append((plans[0].total_steps, "end of plan"))
    panel.hlines.append((1e-4, "fine-tuning limit 1e-4"))
    for i, plan in enumerate(plans, 1):
        findings = lint(plan.schedule, plan.total_steps, finetune=plan.finetune)
        print(f"\n[{i}/{len(plans)}] {plan.title}", file=ctx.out)
        print(f"  {plan.schedule}", file=ctx.out)
        _print_values(plan.schedule, plan.total_steps, ctx.out)
        mode = "fine-tuning" if plan.finetune else "from scratch"
        print(f"  lint ({plan.total_steps} steps, {mode}): {count_findings(findings)}", file=ctx.out)
        print_findings(findings, ctx.out, indent="    ")
        steps = np.unique(np.linspace(0, horizon, 4_000).round())
        codes = ", ".join(dict.fromkeys(f.code for f in findings)) or "no findings"
        panel.curves.append(Curve(f"{i}. {plan.label}: {codes}", steps, plan.schedule(steps)))
        for f in findings:
            if f.step is not None and f.severity == "warning":
                panel.marks.append((f.step, float(plan.schedule(f.step)), f.code))
    ctx.panels.append(panel)


def _print_values(schedule: lr.Schedule, n: int, out: TextIO) -> None:
    steps = [0, n // 20, n // 4, n // 2, 3 * n // 4, n - 1, n * 5 // 4]
    values = schedule(np.array(steps)).tolist()
    print("  " + "step".rjust(6) + "".join(f"{t:>10}" for t in steps[:-1]) + f"{steps[-1]:>9}*", file=out)
    print("  " + "LR".rjust(6) + "".join(f"{format_lr(v):>10}" for v in values), file=out)
    print("  " + " " * 6 + "  (*: past the end of the plan)", file=out)


def _diagnosis_step(ctx: DemoContext) -> None:
    from ._demo_diagnosis import diagnosis_step

    diagnosis_step(ctx)


# The demo's sections, in order.
DEMO_STEPS: list[DemoStep] = [
    DemoStep("Schedule lint: four LR plans checked against the rules of thumb before training", _schedules_step),
    DemoStep("Loss-log diagnosis: a simulated sweep of six runs, logged the way common tools log them",
             _diagnosis_step),
]


def run_demo(path: str, out: TextIO, keep: str | None = None) -> int:
    """Run every demo step, then draw their panels to ``path``; returns the exit code (0).
    ``keep``: write the demo's training logs to this folder and leave them there."""
    ctx = DemoContext(out, plot_path=path, keep=keep)
    for i, step in enumerate(DEMO_STEPS, 1):
        print(f"{'' if i == 1 else chr(10)}== {i}. {step.title}", file=out)
        step.run(ctx)
    print(file=out)
    try:
        figure, axes = new_figure(len(ctx.panels))
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install 'lrpulse[plot]')", file=out)
        return 0
    for panel, ax in zip(ctx.panels, axes, strict=True):
        _draw(panel, ax)
    save_figure(figure, path)
    print(f"plot written to {path}", file=out)
    return 0


def _draw(panel: Panel, ax) -> None:
    for curve in panel.curves:
        ax.plot(curve.x, curve.y, label=curve.label, linewidth=1.6, color=curve.color)
    for x, y, label in panel.marks:
        ax.plot([x], [y], marker="x", markersize=9, markeredgewidth=2, color="black", linestyle="none")
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 6), fontsize=8)
    for at, label in panel.vlines:
        ax.axvline(at, color="grey", linestyle="--", linewidth=1)
        ax.annotate(label, (at, 1), xycoords=("data", "axes fraction"), xytext=(4, -12),
                    textcoords="offset points", fontsize=8, color="grey")
    for level, label in panel.hlines:
        ax.axhline(level, color="grey", linestyle=":", linewidth=1)
        ax.annotate(label, (1, level), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", fontsize=8, color="grey", ha="right")
    if panel.log_y:
        from ._plot import plain_log_ticks

        ax.set_yscale("log", nonpositive="mask")  # LR 0 (a warmup's first step) has no place on a log axis
        low, high = ax.get_ylim()
        plain_log_ticks(ax, high / low)
    ax.set(title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel)
    ax.grid(alpha=0.3, which="both" if not panel.log_y else "major")
    if panel.legend_outside:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    else:
        ax.legend(fontsize=8, loc="lower left")
