"""The labelled loss-curve corpus (benches/corpus/) is consistent and reproducible.

The corpus is what the diagnosis accuracy is measured on (benches/eval_diagnosis.py), so a broken
file, a label outside the eight, a split missing a label, or generators that no longer rebuild the
committed data would make that measurement meaningless. The last test is that measurement: the
issue's target, macro-F1 >= 0.9 on the holdout split, computed by the evaluation script.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

BENCHES = Path(__file__).resolve().parents[1] / "benches"
CORPUS = BENCHES / "corpus"
LABELS = {"healthy", "rising_early", "plateau", "slow", "diverged", "spiky", "oscillating", "insufficient_data"}
REQUIRED = {"name", "file", "label", "split", "source", "notes", "hard", "n_points", "overfitting"}


@pytest.fixture(scope="module")
def corpus():
    sys.path.insert(0, str(BENCHES))
    try:
        from corpus import load
    finally:
        sys.path.remove(str(BENCHES))
    return load, load.load_index()


def test_index_entries_are_complete_and_unique(corpus):
    _, index = corpus
    assert 300 <= len(index) <= 600
    names = [e["name"] for e in index]
    assert len(set(names)) == len(names)
    for e in index:
        assert set(e) >= REQUIRED, e["name"]
        assert e["label"] in LABELS, e["name"]
        assert e["split"] in ("tune", "holdout"), e["name"]
        assert e["source"] in ("synthetic", "torch"), e["name"]
        assert e["notes"].strip(), e["name"]
        assert e["file"] is not None or (e["source"] == "synthetic" and "recipe" in e), e["name"]


def test_both_splits_cover_every_label_from_both_sources(corpus):
    _, index = corpus
    for split in ("tune", "holdout"):
        part = [e for e in index if e["split"] == split]
        assert {e["label"] for e in part} == LABELS
        for source in ("synthetic", "torch"):
            labels = Counter(e["label"] for e in part if e["source"] == source)
            assert set(labels) == LABELS, (split, source, labels)
            assert min(labels.values()) >= (10 if source == "synthetic" else 4), (split, source, labels)
    # Stratified: per label, the two splits differ by at most a couple of runs per source.
    for label in LABELS:
        for source in ("synthetic", "torch"):
            tune = sum(e["label"] == label and e["source"] == source and e["split"] == "tune" for e in index)
            hold = sum(e["label"] == label and e["source"] == source and e["split"] == "holdout" for e in index)
            assert abs(tune - hold) <= 2, (label, source, tune, hold)


def test_every_file_is_indexed_and_every_indexed_file_exists(corpus):
    _, index = corpus
    listed = {e["file"] for e in index if e["file"]}
    on_disk = {f"runs/{p.name}" for p in (CORPUS / "runs").glob("*.npz")}
    assert listed == on_disk


def test_stored_arrays_are_well_formed(corpus):
    load, index = corpus
    for e in index:
        if not e["file"]:
            continue
        run = load.load_run(e)
        loss, steps = run["loss"], run["steps"]
        name = e["name"]
        assert loss.ndim == 1 and loss.dtype in (np.float32, np.float64), name
        assert steps.dtype == np.int64 and steps.shape == loss.shape == (e["n_points"],), name
        assert np.all(np.diff(steps) > 0), name
        assert np.all(loss[np.isfinite(loss)] > 0), name
        if e["label"] != "diverged":
            assert np.all(np.isfinite(loss)), name
        elif not np.all(np.isfinite(loss)):
            # The notes name the first bad step, which the diagnosis must report.
            first_bad = int(steps[np.flatnonzero(~np.isfinite(loss))[0]])
            assert f"first NaN/Inf at step {first_bad}" in e["notes"], name
        if "lr" in run:
            assert run["lr"].dtype == np.float64 and run["lr"].shape == loss.shape, name
            assert np.all(np.isfinite(run["lr"]) & (run["lr"] > 0)), name
        assert ("lr" in run) == e["has_lr"] and ("val_loss" in run) == e["has_val"], name
        if "val_loss" in run:
            assert run["val_steps"].dtype == np.int64 and run["val_steps"].shape == run["val_loss"].shape, name
            assert np.all(np.diff(run["val_steps"]) > 0) and np.all(np.isfinite(run["val_loss"])), name
            assert e["overfitting"] in (True, False), name
        else:
            assert e["overfitting"] is None, name


def test_sizes_keep_a_gap_between_insufficient_and_the_rest(corpus):
    """insufficient_data runs have at most 10 points; every other run at least 50, except runs
    that end in NaN early (a NaN is decisive at any length)."""
    _, index = corpus
    for e in index:
        if e["label"] == "insufficient_data":
            assert 1 <= e["n_points"] <= 10, e["name"]
        elif e["n_points"] < 50:
            assert e["label"] == "diverged", e["name"]


def test_long_runs_rebuild_from_their_recipe_with_the_recorded_checksum(corpus):
    load, index = corpus
    long_runs = [e for e in index if not e["file"]]
    assert len(long_runs) >= 10
    assert max(e["n_points"] for e in long_runs) >= 50_000
    for e in long_runs:
        run = load.load_run(e)  # raises if the checksum differs
        assert len(run["loss"]) == e["n_points"]


def test_synthetic_generators_rebuild_stored_runs_exactly(corpus):
    """The generators still produce the committed arrays bit for bit (one run per family)."""
    load, index = corpus
    sys.path.insert(0, str(BENCHES))
    try:
        from corpus.synthetic import generate
    finally:
        sys.path.remove(str(BENCHES))
    seen = set()
    for e in index:
        if e["source"] != "synthetic" or not e["file"] or e["family"] in seen:
            continue
        seen.add(e["family"])
        stored = load.load_run(e)
        r = e["recipe"]
        fresh = generate(r["family"], r["seed"], r["n"], r["hard"])
        np.testing.assert_array_equal(fresh.loss, stored["loss"])
        np.testing.assert_array_equal(fresh.steps, stored["steps"])
        assert fresh.label == e["label"]
    assert len(seen) >= 8


def test_index_is_plain_json_that_round_trips():
    text = (CORPUS / "index.json").read_text()
    assert json.loads(json.dumps(json.loads(text))) == json.loads(text)


def _eval_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_diagnosis", BENCHES / "eval_diagnosis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagnosis_reaches_macro_f1_target_on_the_holdout_split_and_beats_the_naive_baseline():
    """The issue's accuracy target, measured on runs whose thresholds were never tuned on them,
    and the engine must do better than the heuristic a user would write in numpy."""
    ev = _eval_module()
    engine = ev.evaluate(ev.engine_classifier(), "holdout")
    baseline = ev.evaluate(ev.baseline_classify, "holdout")
    wrong = [f"{r['name']}: {r['true']} -> {r['pred']}" for r in engine["runs"] if r["true"] != r["pred"]]
    assert engine["macro_f1"] >= 0.9, wrong
    assert engine["macro_f1"] > baseline["macro_f1"]
