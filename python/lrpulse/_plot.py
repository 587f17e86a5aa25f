"""Loss-curve plots for ``lrpulse diagnose --plot`` and the demo: one PNG per run and an overview grid.

The smoothed curve is coloured by the diagnosis' segments in the classic LR-tuning colours (green
healthy, red rising_early, purple plateau, yellow slow) plus black diverged, orange spiky, blue
oscillating and grey insufficient_data; the raw minibatch loss is drawn thin and grey behind it. The
engine labels segments by their local slope (falling, flat, rising), which cannot say "falling too
slowly" or "noise throughout": for a run whose verdict is ``slow``, ``oscillating`` or
``insufficient_data`` (statements about the whole run) the whole curve takes the verdict's colour.

matplotlib is imported only inside the drawing functions (``pip install 'lrpulse[plot]'``); the
:class:`RunCurve` summaries are numpy-only, so a scan keeps a few KB per run for the overview
however long the logs are.

>>> import numpy as np
>>> curve = RunCurve.from_series("run", "loss", np.arange(10_000), np.linspace(2.5, 1, 10_000))
>>> len(curve.steps) <= 2 * MAX_POINTS, curve.log_scale
(True, False)
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .diagnosis import Diagnosis

__all__ = ["LABEL_COLORS", "MAX_POINTS", "RunCurve", "plain_log_ticks", "plot_overview", "plot_run"]

LABEL_COLORS = {
    "healthy": "#2ca02c",
    "rising_early": "#d62728",
    "plateau": "#9467bd",
    "slow": "#e6b400",
    "diverged": "#111111",
    "spiky": "#ff7f0e",
    "oscillating": "#1f77b4",
    "insufficient_data": "#9a9a9a",
}
_WHOLE_RUN_VERDICTS = ("slow", "oscillating", "insufficient_data")
_RAW_COLOR = "#c4c4c4"
MAX_POINTS = 2_000  # raw points drawn per run (min and max of each bucket, so spikes survive)
THUMB_POINTS = 250  # per run in the overview
OVERVIEW_MAX_RUNS = 48


@dataclass(frozen=True)
class RunCurve:
    """What a plot needs of one run: decimated raw points and a smoothed curve (same step units)."""

    name: str
    tag: str | None
    steps: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    smooth_steps: npt.NDArray[np.float64]
    smooth_values: npt.NDArray[np.float64]
    log_scale: bool
    first_non_finite: float | None

    @classmethod
    def from_series(cls, name: str, tag: str | None, steps: Any, values: Any, max_points: int = MAX_POINTS) -> RunCurve:
        steps = np.asarray(steps, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        bad = np.flatnonzero(~finite)
        first_bad = float(steps[bad[0]]) if len(bad) else None
        positive = bool(finite.any() and np.all(values[finite] > 0))
        shown = values[finite]
        log_scale = positive and len(shown) > 1 and float(shown.max() / shown.min()) >= 3.0
        smooth_steps, smooth_values = _smoothed(steps[finite], shown, positive, max_points // 2)
        raw_steps, raw_values = _min_max_buckets(steps, values, max_points)
        return cls(name, tag, raw_steps, raw_values, smooth_steps, smooth_values, log_scale, first_bad)

    def thumbnail(self) -> RunCurve:
        """A smaller copy for the overview grid."""
        steps, values = _min_max_buckets(self.steps, self.values, THUMB_POINTS)
        every = max(1, len(self.smooth_steps) // THUMB_POINTS)
        return RunCurve(self.name, self.tag, steps, values, self.smooth_steps[::every], self.smooth_values[::every],
                        self.log_scale, self.first_non_finite)


def _min_max_buckets(steps: npt.NDArray[np.float64], values: npt.NDArray[np.float64], max_points: int):
    """At most ``max_points`` points: each of ``max_points // 2`` buckets keeps its lowest and highest
    value in step order (non-finite values become NaN gaps), so spikes and explosions stay visible."""
    if len(values) <= max_points:
        return steps, np.where(np.isfinite(values), values, np.nan)
    buckets = max_points // 2
    starts = np.linspace(0, len(values), buckets + 1).astype(np.int64)[:-1]
    with np.errstate(invalid="ignore"):
        lows = np.fmin.reduceat(np.where(np.isfinite(values), values, np.nan), starts)
        highs = np.fmax.reduceat(np.where(np.isfinite(values), values, np.nan), starts)
    ends = np.append(starts[1:], len(values)) - 1
    xs = np.column_stack([steps[starts], steps[ends]]).ravel()
    ys = np.column_stack([lows, highs]).ravel()
    return xs, ys


def _bucket_medians(steps: npt.NDArray[np.float64], y: npt.NDArray[np.float64], buckets: int):
    size = math.ceil(len(y) / buckets)
    if size == 1:
        return steps, y
    padded = np.full(math.ceil(len(y) / size) * size, np.nan)
    padded[: len(y)] = y
    return steps[::size], np.nanmedian(padded.reshape(-1, size), axis=1)


def _rolling(y: npt.NDArray[np.float64], half: int, reduce: Any) -> npt.NDArray[np.float64]:
    """``reduce`` (nanmedian or nanmean) over a centred window of ``2 * half + 1``; near the ends the
    window shrinks symmetrically, so the first and last points stay where the run starts and ends."""
    n = len(y)
    half = min(half, (n - 1) // 2)
    if half <= 0:
        return y
    out = np.empty(n)
    out[half : n - half] = reduce(np.lib.stride_tricks.sliding_window_view(y, 2 * half + 1), axis=1)
    for i in range(half):
        out[i] = reduce(y[: 2 * i + 1])
        out[n - 1 - i] = reduce(y[n - 1 - 2 * i :])
    return out


def _smoothed(steps: npt.NDArray[np.float64], values: npt.NDArray[np.float64], in_log: bool, points: int):
    """The trend under the noise: bucket medians (of log-loss when positive), then a rolling median
    over ~1/50 of the run (isolated spikes vanish) and a short rolling mean; at most ``points``."""
    if len(values) == 0:
        return steps, values
    xs, ys = _bucket_medians(steps, np.log(values) if in_log else values, points)
    half = len(ys) // 100
    ys = _rolling(_rolling(ys, half, np.nanmedian), half // 2, np.nanmean)
    return xs, np.exp(ys) if in_log else ys


def _segment_color(segment_label: str, verdict: str | None) -> str:
    if verdict in _WHOLE_RUN_VERDICTS:
        return LABEL_COLORS[verdict]
    return LABEL_COLORS.get(segment_label, LABEL_COLORS["insufficient_data"])


def _y_limits(curve: RunCurve, first_bad_step: int | None) -> tuple[float, float, float | None]:
    """Axis limits that keep the run readable when it explodes: the top stops at 30x the level before
    the first bad step (log axis) and the clipped maximum is returned, to be noted on the plot."""
    ok = np.isfinite(curve.values)
    finite = curve.values[ok]
    if not len(finite):
        return 0.0, 1.0, None
    low, high = float(finite.min()), float(finite.max())
    before = ok & (curve.steps < first_bad_step) if first_bad_step is not None else ok
    reference = curve.values[before] if before.sum() >= 2 else finite
    if curve.log_scale:
        top = min(high, 30 * float(np.percentile(reference, 95)))
        return low / 1.15, top * 1.15, high if high > top * 1.15 else None
    spread = float(np.percentile(reference, 99) - np.percentile(reference, 1))
    top = min(high, float(np.percentile(reference, 99)) + 3 * spread)
    pad = 0.05 * max(top - low, abs(top) * 1e-3, 1e-12)
    return low - pad, top + pad, high if high > top + pad else None


def _draw_curve(ax: Any, curve: RunCurve, diagnosis: Diagnosis | None, linewidth: float) -> set[str]:
    """Raw and segment-coloured smoothed loss on ``ax``; returns the labels whose colour was used."""
    ax.plot(curve.steps, curve.values, color=_RAW_COLOR, linewidth=0.6, zorder=1)
    verdict = diagnosis.label if diagnosis else None
    segments: list[tuple[float, float, str]] = [
        (s.start_step, s.end_step, s.label) for s in diagnosis.segments] if diagnosis else []
    if not segments:
        segments = [(-math.inf, math.inf, verdict or "insufficient_data")]
    used = set()
    xs, ys = curve.smooth_steps, curve.smooth_values
    for start, end, label in segments:
        inside = np.flatnonzero((xs >= start) & (xs <= end))
        if not len(inside):
            continue
        stop = min(inside[-1] + 2, len(xs))  # one point into the next segment: no gap between colours
        color = _segment_color(label, verdict)
        ax.plot(xs[inside[0] : stop], ys[inside[0] : stop], color=color, linewidth=linewidth, zorder=3)
        used.add(verdict if verdict in _WHOLE_RUN_VERDICTS else label)
    bad = diagnosis.first_bad_step if diagnosis else None
    low, high, clipped = _y_limits(curve, bad)
    if curve.log_scale:
        ax.set_yscale("log")
        plain_log_ticks(ax, high / low)
    ax.set_ylim(low, high)
    if clipped is not None:
        ax.annotate(f"off scale: up to {clipped:.3g}", (0.01, 0.98), xycoords="axes fraction", ha="left", va="top",
                    fontsize=7, color="#555555")
    if bad is not None:
        ax.axvline(bad, color=LABEL_COLORS["diverged"], linestyle="--", linewidth=1.2, zorder=4)
    shade_from = bad if bad is not None else curve.first_non_finite
    if shade_from is not None and len(curve.steps):
        # Shade what follows the first bad step: NaN/inf (nothing to draw) or values off the scale.
        right = max(float(np.nanmax(curve.steps)), float(shade_from))
        ax.axvspan(shade_from, right, color=LABEL_COLORS["rising_early"], alpha=0.07, zorder=0)
        what = "NaN / inf" if curve.first_non_finite is not None else "off scale" if clipped is not None else ""
        if what and right > shade_from:
            ax.annotate(what, ((shade_from + right) / 2, 0.5), xycoords=("data", "axes fraction"), ha="center",
                        fontsize=8, color=LABEL_COLORS["rising_early"])
    return used


def plain_log_ticks(ax: Any, span: float) -> None:
    """Log-axis tick labels as plain numbers (``4``, ``0.03``, not ``4x10^0``) when the axis spans
    ``span`` (top / bottom) of less than 1000; below ~1.5 decades the ticks between powers of ten are
    labelled too: all of them on a short axis, else 2, 3 and 5."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if span >= 1000:
        return

    def minor(y: float, _: Any) -> str:
        lead = round(y / 10 ** math.floor(math.log10(y) + 1e-9))
        return f"{y:.3g}" if span < 3 or lead in (2, 3, 5) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.3g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor) if span < 30 else NullFormatter())


def _badge(ax: Any, diagnosis: Diagnosis | None, fontsize: float) -> None:
    if diagnosis is None:
        return
    color = LABEL_COLORS.get(diagnosis.label, "#999999")
    text_color = "black" if diagnosis.label in ("slow", "insufficient_data", "spiky") else "white"
    ax.text(0.99, 0.97, f"{diagnosis.label}  {diagnosis.confidence:.0%}", transform=ax.transAxes, ha="right", va="top",
            fontsize=fontsize, color=text_color, fontweight="bold", zorder=6,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": color, "edgecolor": "none", "alpha": 0.9})


def _legend_handles(used: set[str], with_first_bad: bool, with_spikes: bool) -> list[Any]:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=_RAW_COLOR, linewidth=1, label="logged loss")]
    handles += [Line2D([], [], color=LABEL_COLORS[k], linewidth=2.4, label=k) for k in LABEL_COLORS if k in used]
    if with_first_bad:
        handles.append(Line2D([], [], color=LABEL_COLORS["diverged"], linestyle="--", label="first bad step"))
    if with_spikes:
        handles.append(Line2D([], [], color=LABEL_COLORS["spiky"], marker="v", linestyle="none", label="spike"))
    return handles


def _mark_spikes(ax: Any, curve: RunCurve, diagnosis: Diagnosis | None) -> bool:
    spikes = [f["step"] for f in diagnosis.findings if f.get("kind") == "spike"] if diagnosis else []
    if not spikes or not len(curve.steps):
        return False
    # The marker sits on the highest raw point near the spike (the bucket holding it).
    idx = np.clip(np.searchsorted(curve.steps, spikes), 0, len(curve.steps) - 1)
    ys = [np.nanmax(curve.values[max(0, i - 2) : i + 3]) for i in idx]
    ax.plot(spikes, ys, linestyle="none", marker="v", markersize=7, color=LABEL_COLORS["spiky"],
            markeredgecolor="black", markeredgewidth=0.5, zorder=5)
    return True


def plot_run(path: str, curve: RunCurve, diagnosis: Diagnosis | None) -> None:
    """One run's PNG: the curve, the verdict badge, the first bad step and spikes, advice as subtitle.

    The layout is fixed (no constrained layout, which costs half the drawing time) with room for a
    name, three lines of advice, the axis labels and the legend: a sweep of hundreds of runs plots
    at ~0.15 s per run.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.5, 5.4))
    figure.subplots_adjust(left=0.085, right=0.975, top=0.8, bottom=0.16)
    ax = figure.add_subplot()
    used = _draw_curve(ax, curve, diagnosis, linewidth=2.2)
    spikes = _mark_spikes(ax, curve, diagnosis)
    _badge(ax, diagnosis, fontsize=10)
    figure.text(0.01, 0.975, curve.name, ha="left", va="top", fontsize=11, fontweight="bold")
    if diagnosis is not None:
        advice = textwrap.shorten(diagnosis.advice, 3 * 125, placeholder=" ...")
        figure.text(0.01, 0.925, textwrap.fill(advice, 125), ha="left", va="top", fontsize=8.5, color="#333333")
    ax.set(xlabel="step", ylabel=curve.tag or "loss")
    ax.grid(alpha=0.25, which="major")
    handles = _legend_handles(used, diagnosis is not None and diagnosis.first_bad_step is not None, spikes)
    figure.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False)
    figure.savefig(path, dpi=100)


def plot_overview(path: str, runs: Sequence[tuple[RunCurve, Diagnosis | None]], title: str) -> None:
    """Small multiples of up to :data:`OVERVIEW_MAX_RUNS` runs (in the order given), one shared legend."""
    from matplotlib.figure import Figure

    shown = list(runs[:OVERVIEW_MAX_RUNS])
    cols = 1 if len(shown) == 1 else 2 if len(shown) <= 4 else 3 if len(shown) <= 9 else 4
    rows = max(1, math.ceil(len(shown) / cols))
    figure = Figure(figsize=(4.3 * cols, 2.7 * rows + 0.9), layout="constrained")
    used: set[str] = set()
    any_bad = False
    for i, (curve, diagnosis) in enumerate(shown):
        ax = figure.add_subplot(rows, cols, i + 1)
        used |= _draw_curve(ax, curve, diagnosis, linewidth=1.6)
        any_bad |= diagnosis is not None and diagnosis.first_bad_step is not None
        _badge(ax, diagnosis, fontsize=7)
        name = curve.name if len(curve.name) <= 48 else "..." + curve.name[-45:]
        ax.set_title(name, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    if len(runs) > len(shown):
        title += f" (first {len(shown)} shown)"
    figure.suptitle(title, fontsize=12, fontweight="bold")
    handles = _legend_handles(used, any_bad, False)
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    figure.savefig(path, dpi=90)
