"""Write the demo's simulated runs as the logs real tools write, one format per run.

Each writer lays its file out the way the tool does (file names, folders, keys, columns, number
formatting), so ``lrpulse diagnose`` meets the demo logs exactly as it would meet a real sweep:

========================  ==========================================================================
run                       log
========================  ==========================================================================
about right               torch ``SummaryWriter`` event file (``train/loss``, ``train/lr`` scalars)
LR too small              Lightning ``CSVLogger``: ``lightning_logs/version_0/metrics.csv``, sparse rows
LR too large              JSON lines, one record per logging step
constant LR               Hugging Face ``checkpoint-N/trainer_state.json`` (``log_history``)
diverging                 a plain-text ``train.log`` from a logging-module training loop
bad batches               TF2 summary writer (e.g. Flax with clu): event file of rank-0 tensor scalars
========================  ==========================================================================

>>> import pathlib, tempfile
>>> written = write_demo_logs(pathlib.Path(tempfile.mkdtemp()))
>>> [w.format for w in written][:3]
['TensorBoard events (torch)', 'Lightning metrics.csv', 'JSON lines']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._demo_runs import DEMO_RUNS, DemoRun, SimulatedLog, simulate
from ._demo_tfevents import write_events

__all__ = ["WrittenRun", "write_demo_logs"]

_STEPS_PER_EPOCH = 1_000
_START_TIME = 1_714_550_400.0  # 2024-05-01 08:00 UTC: fixed, so the files are reproducible


@dataclass(frozen=True)
class WrittenRun:
    """A demo run on disk: the simulated ``run`` and its ``log``, the ``path`` written and its ``format``
    (for people)."""

    run: DemoRun
    log: SimulatedLog
    path: Path
    format: str


def _validation(log: SimulatedLog) -> dict[int, float]:
    """``{last step of an epoch: validation loss}``: the epoch's last train losses, smoothed, plus a small gap."""
    out = {}
    for end in range(_STEPS_PER_EPOCH, _run_length(log) + 1, _STEPS_PER_EPOCH):
        recent = log.loss[(log.steps < end) & (log.steps >= end - _STEPS_PER_EPOCH // 5)]
        out[end - 1] = float(np.exp(np.mean(np.log(recent)))) * 1.04 if np.all(np.isfinite(recent)) else float("nan")
    return out


def _run_length(log: SimulatedLog) -> int:
    """Steps trained: one logging interval past the last logged step."""
    return int(log.steps[-1] + log.steps[1] - log.steps[0])


def _epoch_ends(step: int, log: SimulatedLog, ends: dict[int, float]) -> list[int]:
    """The epoch ends logged right after the train point at ``step`` (before the next one)."""
    every = int(log.steps[1] - log.steps[0])
    return [end for end in ends if step <= end < step + every]


def _torch_events(folder: Path, log: SimulatedLog) -> Path:
    path = folder / "events.out.tfevents.1714550400.demo-host.4242.0"
    write_events(path, {"train/loss": (log.steps, log.loss), "train/lr": (log.steps, log.lr)}, start_time=_START_TIME)
    return path


def _lightning_csv(folder: Path, log: SimulatedLog) -> Path:
    # Lightning writes one row per logging call, the union of all metric names as columns (sorted),
    # and leaves the cells of metrics not logged in that call empty.
    path = folder / "lightning_logs" / "version_0" / "metrics.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    val = _validation(log)
    rows = ["epoch,lr-AdamW,step,train_loss_epoch,train_loss_step,val_loss"]
    for step, loss, lr in zip(log.steps.tolist(), log.loss.tolist(), log.lr.tolist(), strict=True):
        rows.append(f"{step // _STEPS_PER_EPOCH},{lr!r},{step},,{loss!r},")
        for end in _epoch_ends(step, log, val):
            epoch_loss = float(log.loss[(log.steps <= end) & (log.steps > end - _STEPS_PER_EPOCH)].mean())
            rows.append(f"{end // _STEPS_PER_EPOCH},,{end},{epoch_loss!r},,{val[end]!r}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _json_lines(folder: Path, log: SimulatedLog) -> Path:
    path = folder / "metrics.jsonl"
    with path.open("w") as f:
        for step, loss, lr in zip(log.steps.tolist(), log.loss.tolist(), log.lr.tolist(), strict=True):
            record = {"step": step, "epoch": round(step / _STEPS_PER_EPOCH, 3), "loss": loss, "lr": lr}
            f.write(json.dumps(record) + "\n")
    return path


def _trainer_state(folder: Path, log: SimulatedLog) -> Path:
    # HF's Trainer rounds the logged loss to 4 digits and appends eval records to the same history.
    last = _run_length(log)
    path = folder / f"checkpoint-{last}" / "trainer_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, object]] = []
    evals = _validation(log)
    for step, loss, lr in zip(log.steps.tolist(), log.loss.tolist(), log.lr.tolist(), strict=True):
        if step == 0:
            continue  # the Trainer logs after the first `logging_steps` updates, not at step 0
        history.append({"epoch": round(step / _STEPS_PER_EPOCH, 4), "grad_norm": round(1.0 + 0.1 * loss, 4),
                        "learning_rate": lr, "loss": round(loss, 4), "step": step})
        for at in _epoch_ends(step, log, evals):
            history.append({"epoch": round(at / _STEPS_PER_EPOCH, 4), "eval_loss": round(evals[at], 4),
                            "eval_runtime": 12.31, "eval_samples_per_second": 812.4, "eval_steps_per_second": 25.39,
                            "step": at})
    state = {"best_metric": None, "best_model_checkpoint": None, "epoch": last / _STEPS_PER_EPOCH,
             "eval_steps": _STEPS_PER_EPOCH, "global_step": last, "is_hyper_param_search": False,
             "is_local_process_zero": True, "is_world_process_zero": True, "log_history": history,
             "logging_steps": int(log.steps[1]), "max_steps": last, "num_train_epochs": last // _STEPS_PER_EPOCH,
             "save_steps": last, "total_flos": 1.2e16, "train_batch_size": 32, "trial_name": None, "trial_params": None}
    path.write_text(json.dumps(state, indent=2))
    return path


def _text_log(folder: Path, log: SimulatedLog) -> Path:
    path = folder / "train.log"
    last = _run_length(log)
    lines = [f"2024-05-01 08:00:00,000 INFO train: starting run: {last} steps, batch size 32"]
    for step, loss, lr in zip(log.steps.tolist(), log.loss.tolist(), log.lr.tolist(), strict=True):
        seconds = int(step * 0.25)
        clock = f"{8 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        speed = 128.0 + (step * 37 % 11)
        lines.append(f"2024-05-01 {clock},{step * 7 % 1000:03d} INFO train: step {step}/{last} | loss {loss:.4f} "
                     f"| lr {lr:.2e} | {speed:.1f} samples/s")
    path.write_text("\n".join(lines) + "\n")
    return path


def _tf2_events(folder: Path, log: SimulatedLog) -> Path:
    # A JAX/Flax loop writing through clu's metric writers (TF2 summaries): rank-0 tensors, a ".v2" file.
    path = folder / "events.out.tfevents.1714550400.demo-host.4243.0.v2"
    write_events(path, {"train_loss": (log.steps, log.loss), "learning_rate": (log.steps, log.lr)}, tensor=True,
                 start_time=_START_TIME)
    return path


_WRITERS: dict[str, tuple[str, Callable[[Path, SimulatedLog], Path]]] = {
    "healthy": ("TensorBoard events (torch)", _torch_events),
    "slow": ("Lightning metrics.csv", _lightning_csv),
    "rising_early": ("JSON lines", _json_lines),
    "plateau": ("HF trainer_state.json", _trainer_state),
    "diverged": ("text log", _text_log),
    "spiky": ("TensorBoard events (TF2 tensors)", _tf2_events),
}


def write_demo_logs(root: Path) -> list[WrittenRun]:
    """Simulate every demo run and write it under ``root/<run name>/`` in its format."""
    written = []
    for run in DEMO_RUNS:
        folder = root / run.name
        folder.mkdir(parents=True, exist_ok=True)
        name, writer = _WRITERS[run.expected]
        log = simulate(run)
        written.append(WrittenRun(run, log, writer(folder, log), name))
    return written
