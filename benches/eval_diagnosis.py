"""Accuracy of lrpulse's loss-curve diagnosis on the labelled corpus (benches/corpus/).

    python benches/eval_diagnosis.py                 # lrpulse.diagnose on the holdout split
    python benches/eval_diagnosis.py --split tune    # ... on the split the thresholds were fixed on
    python benches/eval_diagnosis.py --baseline      # a naive heuristic, as a reference point
    python benches/eval_diagnosis.py --json out.json # also write every number and verdict as JSON
    python benches/eval_diagnosis.py --plot-errors /tmp/errs  # contact sheets of the misclassified runs

Prints the confusion matrix (rows: true label, columns: predicted), precision/recall/F1 per label,
macro-F1 over the eight labels, accuracy by source and hardness, precision/recall of the
``overfitting`` finding on runs that carry a validation loss, and every misclassified run. Only
``Diagnosis.label``, ``.confidence`` and ``.findings`` are read.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus.load import iter_split, load_index

LABELS = ["healthy", "rising_early", "plateau", "slow", "diverged", "spiky", "oscillating", "insufficient_data"]


def engine_classifier():
    """``lrpulse.diagnose`` wrapped to take a run's arrays; passes the LR and validation curve
    when the run has them and the engine's signature accepts them."""
    import lrpulse

    params = inspect.signature(lrpulse.diagnose).parameters

    def classify(arrays: dict):
        kwargs = {"steps": arrays["steps"]}
        if "lr" in arrays and "lr" in params:
            kwargs["lr"] = arrays["lr"]
        if "val_loss" in arrays and "val_loss" in params:
            kwargs["val_loss"] = arrays["val_loss"]
            if "val_steps" in params:
                kwargs["val_steps"] = arrays["val_steps"]
        d = lrpulse.diagnose(arrays["loss"], **kwargs)
        return d.label, float(d.confidence), _has_overfitting(d.findings)

    return classify


def _has_overfitting(findings) -> bool:
    for f in findings or ():
        for attr in ("code", "kind", "label", "name"):
            if getattr(f, attr, None) == "overfitting":
                return True
        if f == "overfitting" or (isinstance(f, dict) and "overfitting" in f.values()):
            return True
    return False


def baseline_classify(arrays: dict):
    """What a user might write in numpy: medians of run segments, a noise estimate from first
    differences and a spike count against a rolling median. No LR, no statistics of the trend's
    uncertainty; thresholds picked by hand on the tune split."""
    loss = np.asarray(arrays["loss"], dtype=np.float64)
    n = len(loss)
    if n < 20:
        return "insufficient_data", 1.0, False
    if not np.all(np.isfinite(loss)) or np.any(loss <= 0):
        return "diverged", 1.0, False
    y = np.log(loss)
    q = max(n // 10, 2)
    first, early = np.median(y[:q]), np.median(y[q : 3 * q])
    mid, last = np.median(y[4 * q : 6 * q]), np.median(y[-2 * q :])
    noise = np.median(np.abs(np.diff(y))) / 0.954  # MAD of differences -> sigma of white noise
    overfit = _baseline_overfit(arrays, first, last)
    if np.median(y[-q:]) - np.min(y) > np.log(10):
        return "diverged", 0.9, overfit
    if early - first > np.log(1.2):
        return "rising_early", 0.7, overfit
    if abs(first - last) < 2 * noise:
        return "oscillating", 0.6, overfit
    win = 25
    pad = np.pad(y, (win, 0), mode="edge")
    rolling = np.median(np.lib.stride_tricks.sliding_window_view(pad, win)[:n], axis=1)
    spikes = int(np.sum(y - rolling > max(8 * noise, np.log(1.5))))
    if 1 <= spikes <= max(3, n // 50):
        return "spiky", 0.6, overfit
    d1, d2 = first - mid, mid - last
    if d2 < 0.1 * d1:
        return "plateau", 0.6, overfit
    if d2 > 0.6 * d1:
        return "slow", 0.6, overfit
    return "healthy", 0.6, overfit


def _baseline_overfit(arrays, first, last) -> bool:
    val = arrays.get("val_loss")
    if val is None or len(val) < 4:
        return False
    return bool(val[-1] > 1.1 * np.min(val) and last < first)


def evaluate(classify, split: str) -> dict:
    rows = []
    t0 = time.perf_counter()
    for entry, arrays in iter_split(split, load_index()):
        try:
            label, confidence, overfit = classify(arrays)
        except Exception as exc:  # an engine error is a wrong answer, reported, not a crash
            label, confidence, overfit = f"error:{type(exc).__name__}", 0.0, False
            entry = {**entry, "notes": f"{exc}; {entry['notes']}"}
        rows.append({
            "name": entry["name"], "true": entry["label"], "pred": label, "confidence": confidence,
            "source": entry["source"], "family": entry.get("family"), "hard": entry["hard"],
            "n_points": entry["n_points"],
            "overfitting_true": entry.get("overfitting"), "overfitting_pred": overfit, "notes": entry["notes"],
        })
    return {"split": split, "seconds": time.perf_counter() - t0, "runs": rows, **scores(rows)}


def scores(rows: list[dict]) -> dict:
    per = {}
    for lab in LABELS:
        tp = sum(r["true"] == lab and r["pred"] == lab for r in rows)
        fp = sum(r["true"] != lab and r["pred"] == lab for r in rows)
        fn = sum(r["true"] == lab and r["pred"] != lab for r in rows)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per[lab] = {"precision": p, "recall": r, "f1": f1, "support": tp + fn}
    labelled = [r for r in rows if r["overfitting_true"] is not None]
    otp = sum(r["overfitting_true"] and r["overfitting_pred"] for r in labelled)
    ofp = sum((not r["overfitting_true"]) and r["overfitting_pred"] for r in labelled)
    ofn = sum(r["overfitting_true"] and not r["overfitting_pred"] for r in labelled)
    return {
        "per_label": per,
        "macro_f1": float(np.mean([per[lab]["f1"] for lab in LABELS])),
        "accuracy": sum(r["true"] == r["pred"] for r in rows) / max(len(rows), 1),
        "overfitting": {"runs_with_val": len(labelled), "tp": otp, "fp": ofp, "fn": ofn},
    }


def report(res: dict, name: str) -> None:
    rows = res["runs"]
    preds = LABELS + sorted({r["pred"] for r in rows} - set(LABELS))
    abbrev = {lab: lab[:8] for lab in preds}
    print(f"\n{name} on the {res['split']} split: {len(rows)} runs in {res['seconds']:.1f}s")
    print("confusion (rows true, columns predicted):")
    print(" " * 18 + " ".join(f"{abbrev[p]:>8s}" for p in preds))
    for t in LABELS:
        counts = [sum(r["true"] == t and r["pred"] == p for r in rows) for p in preds]
        print(f"{t:18s}" + " ".join(f"{c:8d}" for c in counts))
    print(f"\n{'label':18s} precision recall     f1 support")
    for lab in LABELS:
        s = res["per_label"][lab]
        print(f"{lab:18s} {s['precision']:9.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:7d}")
    print(f"macro-F1 {res['macro_f1']:.3f}   accuracy {res['accuracy']:.3f}")
    for key, values in (("source", ("synthetic", "torch")), ("hard", (False, True))):
        parts = []
        for v in values:
            sub = [r for r in rows if r[key] == v]
            if sub:
                acc = sum(r["true"] == r["pred"] for r in sub) / len(sub)
                parts.append(f"{key}={v}: {acc:.3f} of {len(sub)}")
        print("accuracy by " + ", ".join(parts))
    families = sorted({r["family"] for r in rows if r["family"]})
    by_family = []
    for fam in families:
        sub = [r for r in rows if r["family"] == fam]
        by_family.append(f"{fam} {sum(r['true'] == r['pred'] for r in sub)}/{len(sub)}")
    print("correct by family: " + ", ".join(by_family))
    o = res["overfitting"]
    print(f"overfitting finding on {o['runs_with_val']} runs with val_loss: tp {o['tp']} fp {o['fp']} fn {o['fn']}")
    wrong = [r for r in rows if r["true"] != r["pred"]]
    print(f"\nmisclassified ({len(wrong)}):")
    for r in sorted(wrong, key=lambda r: (r["true"], r["pred"], r["name"])):
        tag = " hard" if r["hard"] else ""
        print(f"  {r['name']:48s} true {r['true']:17s} pred {r['pred']:17s} conf {r['confidence']:.2f}{tag}  "
              f"[{r['notes'][:90]}]")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="holdout", choices=["holdout", "tune", "all"])
    ap.add_argument("--baseline", action="store_true", help="evaluate the naive baseline instead of lrpulse")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON ('-' for stdout)")
    ap.add_argument("--plot-errors", metavar="DIR",
                    help="write contact sheets of the misclassified runs (needs matplotlib)")
    args = ap.parse_args(argv)
    if args.baseline:
        classify, name = baseline_classify, "naive baseline"
    else:
        classify, name = engine_classifier(), "lrpulse.diagnose"
    res = evaluate(classify, args.split)
    res["classifier"] = name
    if args.json == "-":
        print(json.dumps(res, indent=1))
        return 0
    report(res, name)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    if args.plot_errors:
        plot_errors(res, Path(args.plot_errors))
    return 0


def plot_errors(res: dict, out: Path) -> None:
    """Contact sheets of the misclassified runs, titled ``true -> predicted`` (predicted in red)."""
    from corpus import sheet
    from corpus.load import load_run

    wrong = {r["name"]: r["pred"] for r in res["runs"] if r["true"] != r["pred"]}
    entries = [e for e in load_index() if e["name"] in wrong]
    runs = [{"name": e["name"], "label": e["label"], **load_run(e)} for e in entries]
    out.mkdir(parents=True, exist_ok=True)
    for path in sheet.write_sheets(runs, out / f"errors_{res['split']}", predicted=wrong):
        print("wrote", path)


if __name__ == "__main__":
    sys.exit(main())
