"""Regenerate the labelled loss-curve corpus in benches/corpus/ (deterministic; not run in CI).

    python benches/make_corpus.py            # everything: synthetic families + real torch runs
    python benches/make_corpus.py --sheets   # also write contact sheets (PNG, not committed)
    python benches/make_corpus.py --keep-torch  # rebuild the synthetic part, keep the torch runs

Writes ``corpus/index.json`` (one entry per run: name, file, label, split, source, notes, plus
family, hardness, sizes and the recipe or training config) and ``corpus/runs/<name>.npz`` with
``loss``, ``steps`` and, where recorded, ``lr``, ``val_loss``, ``val_steps``. Runs of more than
LONG points are not stored: their index entry carries the recipe that rebuilds them
(``corpus/load.py``). The split is stratified by label, source and hardness, ~50/50.
Takes about 3 minutes (1.5 min of CPU) on one core, most of it the torch runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import checks, synthetic
from corpus.load import ARRAYS, INDEX, checksum, load_index, load_run

ROOT = Path(__file__).resolve().parent / "corpus"
LONG = 20_000
SPLIT_SEED = 20240611

# family -> (typical count, hard count)
SYNTHETIC_PLAN = {
    "healthy_power": (24, 12),
    "healthy_lr": (16, 8),
    "slow": (30, 14),
    "plateau": (30, 14),
    "rising_early": (28, 12),
    "diverged": (30, 10),
    "spiky": (28, 12),
    "oscillating": (28, 12),
    "insufficient": (20, 0),
}


def _length(rng: np.random.Generator, family: str) -> int:
    if family == "insufficient":
        return int(rng.integers(1, 11))
    if rng.random() < 0.1:
        return int(np.exp(rng.uniform(np.log(LONG), np.log(100_000))))
    low = 100 if family == "spiky" else 50
    return int(np.exp(rng.uniform(np.log(low), np.log(5000))))


def synthetic_runs():
    """Yield (entry, arrays) for every synthetic run; arrays is None for recipe-only long runs."""
    for f_no, (family, (typical, hard)) in enumerate(SYNTHETIC_PLAN.items()):
        for i in range(typical + hard):
            is_hard = i >= typical
            seed = 1000 * f_no + i
            n = _length(np.random.default_rng([seed, 99]), family)
            run = synthetic.generate(family, seed, n, is_hard)
            name = f"syn_{family}_{i:03d}" + ("_hard" if is_hard else "")
            arrays = {k: getattr(run, k) for k in ARRAYS if getattr(run, k) is not None}
            entry = {
                "name": name, "label": run.label, "source": "synthetic", "family": family, "hard": is_hard,
                "notes": run.notes, "overfitting": run.overfitting,
                "recipe": {"family": family, "seed": seed, "n": n, "hard": is_hard},
                "checksum": checksum(run.loss),
                "has_lr": run.lr is not None, "has_val": run.val_loss is not None,
            }
            yield entry, (None if len(run.loss) > LONG else arrays)


def torch_runs():
    """Train every run of the torch plan (plus decayed companions of the plateau runs)."""
    import torch

    from corpus import torch_runs as plan
    from corpus.torch_tasks import make_task
    from corpus.torch_train import train

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tasks = {}

    def run(spec):
        key = (spec.task, spec.cfg.seed, tuple(sorted(spec.task_kwargs.items())))
        if key not in tasks:
            tasks[key] = make_task(spec.task, seed=spec.cfg.seed, **spec.task_kwargs)
        return train(tasks[key], spec.cfg)

    logs = []
    t0 = time.time()
    for k, spec in enumerate(plan.PLAN):
        log = run(spec)
        companion = None
        if spec.label == "plateau":
            companion = run(replace(spec, cfg=replace(spec.cfg, sched="cut_half")))["loss"]
        summary, doubts = checks.check(spec.label, log["loss"], companion)
        label, why = spec.label, ""
        if spec.name in plan.REVIEW:
            label, why = plan.REVIEW[spec.name]
        status = f"  DOUBT: {'; '.join(doubts)}" if doubts else ""
        print(f"[{time.time() - t0:6.1f}s] {k:3d} {spec.name} ({spec.label}) {summary}{status}", flush=True)
        logs.append((spec, log))
        if label is None:
            print(f"      dropped: {why}")
            continue
        notes = f"{spec.why}; task {spec.task}; {summary}" + (f"; review: {why}" if why else "")
        overfitting = None
        if "val_loss" in log:
            overfitting, val_note = checks.measured_overfitting(log)
            notes += f"; {val_note}"
            if spec.overfitting is not None and overfitting != spec.overfitting:
                notes += f" (produced {'to' if spec.overfitting else 'not to'} overfit; labelled by what happened)"
        if doubts and not why:
            notes += f"; check flagged: {'; '.join(doubts)} (kept after review)"
        entry = {
            "name": spec.name, "label": label, "source": "torch", "family": f"torch_{spec.task}",
            "hard": bool(why or doubts),
            "notes": notes, "overfitting": overfitting,
            "config": {"task": spec.task, "task_kwargs": spec.task_kwargs, **asdict(spec.cfg)},
        }
        yield entry, log
    for n_points, k in plan.TRUNCATIONS:
        spec, log = logs[k]
        cut = {key: log[key][:n_points] for key in ("loss", "steps", "lr")}
        name = f"torch_first{n_points}_{spec.name[len('torch_'):]}"
        entry = {
            "name": name, "label": "insufficient_data", "source": "torch", "family": "torch_truncated", "hard": False,
            "notes": f"the first {n_points} logged points of a real run ({spec.why}; produced as {spec.label}): "
                     "a run killed early",
            "overfitting": None, "config": {"task": spec.task, **asdict(spec.cfg), "truncated_to": n_points},
        }
        yield entry, cut


def assign_splits(entries: list[dict]) -> None:
    """Stratified ~50/50: within each (label, source, hard) group, a seeded shuffle alternates
    between the splits, starting with whichever split has fewer runs of that label and source so
    far (so odd-sized groups do not pile up on one side)."""
    rng = np.random.default_rng(SPLIT_SEED)
    groups: dict[tuple, list[dict]] = {}
    for e in entries:
        groups.setdefault((e["label"], e["source"], e["hard"]), []).append(e)
    taken: dict[tuple, list[int]] = {}
    for key in sorted(groups, key=str):
        members = sorted(groups[key], key=lambda e: e["name"])
        counts = taken.setdefault(key[:2], [0, 0])
        first = int(rng.integers(2)) if counts[0] == counts[1] else int(counts[1] < counts[0])
        for pos, e in enumerate(rng.permutation(len(members))):
            side = (pos + first) % 2
            members[e]["split"] = ("tune", "holdout")[side]
            counts[side] += 1


def first_bad_step(loss: np.ndarray, steps: np.ndarray) -> int | None:
    bad = np.flatnonzero(~np.isfinite(loss))
    return int(steps[bad[0]]) if len(bad) else None


def _finalize(entry: dict, arrays: dict | None) -> dict:
    entry["file"] = None if arrays is None else f"runs/{entry['name']}.npz"
    if arrays is not None and "first NaN/Inf" not in entry["notes"]:
        bad = first_bad_step(arrays["loss"], arrays["steps"])
        if bad is not None:
            entry["notes"] += f"; first NaN/Inf at step {bad}"
    if arrays is not None:
        entry["n_points"] = len(arrays["loss"])
        entry["has_lr"] = "lr" in arrays
        entry["has_val"] = "val_loss" in arrays
    else:
        entry["n_points"] = entry["recipe"]["n"]
    order = ["name", "file", "label", "split", "source", "notes", "family", "hard", "n_points", "has_lr", "has_val",
             "overfitting"]
    return {k: entry[k] for k in order if k in entry} | {k: v for k, v in entry.items() if k not in order}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", choices=["all", "torch", "synthetic"],
                    help="write contact sheets corpus/contact_sheet_NN.png")
    ap.add_argument("--keep-torch", action="store_true", help="reuse the torch runs already in the corpus")
    args = ap.parse_args(argv)

    pairs = list(synthetic_runs())
    if args.keep_torch:
        pairs += [(e, load_run(e)) for e in load_index() if e["source"] == "torch"]
    else:
        pairs += list(torch_runs())
    entries = [e for e, _ in pairs]
    assign_splits(entries)

    runs_dir = ROOT / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    for old in runs_dir.glob("*.npz"):
        old.unlink()
    index = []
    for entry, arrays in pairs:
        if arrays is not None:
            np.savez_compressed(runs_dir / f"{entry['name']}.npz", **arrays)
        index.append(_finalize(entry, arrays))
    INDEX.write_text(json.dumps(index, indent=1) + "\n")
    _report(index)
    if args.sheets:
        _sheets([e for e in index if args.sheets in ("all", e["source"])])
    return 0


def _report(index: list[dict]) -> None:
    labels = sorted({e["label"] for e in index})
    print(f"{len(index)} runs -> {INDEX}")
    print(f"{'label':18s} " + " ".join(f"{s}/{p:7s}" for s in ("syn", "torch") for p in ("tune", "holdout")))
    for lab in labels:
        counts = [sum(1 for e in index if e["label"] == lab and e["source"].startswith(s) and e["split"] == p)
                  for s in ("syn", "torch") for p in ("tune", "holdout")]
        print(f"{lab:18s} " + " ".join(f"{c:12d}" for c in counts))


def _sheets(index: list[dict]) -> None:
    from corpus import sheet

    runs = []
    for e in sorted(index, key=lambda e: (e["label"], e["source"], e["name"])):
        runs.append({"name": e["name"], "label": e["label"], **load_run(e)})
    for path in sheet.write_sheets(runs, ROOT / "contact_sheet"):
        print("wrote", path)


if __name__ == "__main__":
    sys.exit(main())
