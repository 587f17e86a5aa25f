"""``lrpulse diagnose`` and the diagnosis half of ``lrpulse demo``: every log format through the command,
the report order, exit codes, the ``--json`` document, ``--plot`` PNGs, unreadable runs as rows of their
own, and the demo end to end as a real process.

The logs come from the demo's writers (:mod:`lrpulse._demo_logs`), whose files are checked against
TensorBoard's own reader; expected values are what was written, never what the command printed."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrpulse
from lrpulse import _cli_diagnose as diag
from lrpulse import cli
from lrpulse._demo_logs import write_demo_logs
from lrpulse._demo_runs import DEMO_RUNS
from lrpulse._demo_tfevents import write_events
from lrpulse.diagnosis import Diagnosis

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The reader format of each demo run's log, and how the writer rounds the loss it writes.
FORMATS = {
    "healthy": ("tfevents", lambda v: v.astype(np.float32).astype(np.float64)),
    "slow": ("csv", lambda v: v),
    "rising_early": ("jsonl", lambda v: v),
    "plateau": ("trainer_state", lambda v: np.array([round(x, 4) for x in v.tolist()])),
    "diverged": ("text", lambda v: np.array([float(f"{x:.4f}") for x in v.tolist()])),
    "spiky": ("tfevents", lambda v: v.astype(np.float32).astype(np.float64)),
}

# How each demo writer rounds the LR it logs (every writer logs it at every loss step).
LR_WRITTEN = {
    "healthy": FORMATS["healthy"][1],
    "slow": lambda v: v,
    "rising_early": lambda v: v,
    "plateau": lambda v: v,
    "diverged": lambda v: np.array([float(f"{x:.2e}") for x in v.tolist()]),
    "spiky": FORMATS["spiky"][1],
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    return root, {w.run.expected: w for w in write_demo_logs(root)}


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = cli.main(["diagnose", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in --json output"))


def assert_one_line_error(capsys, *fragments: str) -> str:
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("lrpulse: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return captured.out


def assert_png(path: Path) -> None:
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(path).shape
    assert width > 400 and height > 200


def healthy_curve(n: int = 600, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 3.0 * (1 + np.arange(n)) ** -0.3 * np.exp(0.03 * rng.standard_normal(n))


def write_csv(path: Path, loss, steps=None, column: str = "loss") -> Path:
    steps = np.arange(len(loss)) if steps is None else steps
    path.write_text(f"step,{column}\n" + "".join(f"{s},{v!r}\n" for s, v in zip(steps, np.asarray(loss).tolist(),
                                                                                 strict=True)))
    return path


# ---- every format through the command -------------------------------------------------------------

@pytest.mark.parametrize("expected", list(FORMATS))
def test_every_format_is_read_and_diagnosed_like_the_library_on_the_written_values(sweep, capsys, expected):
    _, written = sweep
    w = written[expected]
    reader_format, rounded = FORMATS[expected]
    code, doc = run_json(capsys, str(w.path))
    assert code in (0, 1)
    (run,) = doc["runs"]
    steps, loss = w.log.steps, rounded(w.log.loss)
    if expected == "plateau":  # the HF Trainer logs after its first logging interval, not at step 0
        steps, loss = steps[1:], loss[1:]
    assert run["format"] == reader_format and run["run"] == str(w.path)
    assert (run["points"], run["first_step"], run["last_step"]) == (len(steps), int(steps[0]), int(steps[-1]))
    lr = LR_WRITTEN[expected](w.log.lr)[-len(steps) :]  # the readers pass the logged LR on to diagnose
    want = lrpulse.diagnose(loss, steps=steps, lr=lr)
    assert (run["label"], run["first_bad_step"], run["advice"]) == (want.label, want.first_bad_step, want.advice)
    assert run["confidence"] == pytest.approx(want.confidence, rel=1e-12)


def test_our_event_files_read_the_same_in_tensorboard(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from tensorboard.util import tensor_util

    steps = np.arange(0, 500, 5)
    values = 2.0 + np.sin(steps / 30.0)
    for tensor in (False, True):
        folder = tmp_path / f"tensor{tensor}"
        folder.mkdir()
        write_events(folder / "events.out.tfevents.1.host", {"loss": (steps, values)}, tensor=tensor)
        acc = accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        if tensor:
            got = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors("loss")]
        else:
            got = [(e.step, e.value) for e in acc.Scalars("loss")]
        assert [s for s, _ in got] == steps.tolist()
        assert np.array_equal([v for _, v in got], values.astype(np.float32).astype(np.float64))


def test_our_trainer_state_loads_in_transformers(sweep):
    trainer_callback = pytest.importorskip("transformers.trainer_callback")
    _, written = sweep
    w = written["plateau"]
    state = trainer_callback.TrainerState.load_from_json(str(w.path))
    train = [h for h in state.log_history if "loss" in h]
    assert [h["step"] for h in train] == w.log.steps[1:].tolist()
    assert [h["loss"] for h in train] == [round(x, 4) for x in w.log.loss[1:].tolist()]
    assert [h["step"] for h in state.log_history if "eval_loss" in h] == [999, 1999, 2999, 3999, 4999, 5999]
    assert state.global_step == state.max_steps == 6000


def test_demo_logs_are_byte_for_byte_reproducible(tmp_path):
    first, second = write_demo_logs(tmp_path / "a"), write_demo_logs(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()


# ---- the report ---------------------------------------------------------------------------------

def test_rows_sort_problems_first_in_the_documented_order():
    order = ["diverged", "rising_early", "plateau", "slow", "oscillating", "spiky", "healthy", "insufficient_data"]
    rows = [diag.RunRow(f"run-{label}-{c}", "p", "csv", "loss", 100, 0, 99, Diagnosis(label, c, "advice"))
            for label in reversed(order) for c in (0.6, 0.9)]
    rows.append(diag.RunRow("broken", "p", None, None, 0, None, None, None, error="bad"))
    rows.reverse()
    rows.sort(key=diag.RunRow.sort_key)
    assert [r.label for r in rows] == [label for label in order for _ in range(2)] + ["error"]
    assert [r.diagnosis.confidence for r in rows[:2]] == [0.9, 0.6]  # most certain first within a label


def test_table_rows_follow_the_report_order_and_name_runs_by_path(sweep, capsys):
    root, written = sweep
    code = cli.main(["diagnose", str(root)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["RUN", "LABEL", "CONF", "BAD", "STEP", "ADVICE"]
    rows = [line.split()[:2] for line in lines[1:-1]]
    assert len(rows) == len(written)
    labels = [label for _, label in rows]
    assert labels == sorted(labels, key=diag.LABEL_ORDER.index)
    names = {name for name, _ in rows}
    for w in written.values():
        rel = w.path.relative_to(root)
        # Event files name their run by the folder holding them; other logs by their own path.
        expect = root / (rel.parent if "tfevents" in w.path.name else rel)
        assert str(expect) in names
    assert lines[-1].startswith(f"{len(written)} runs: ")
    assert code == (1 if any(label in diag.PROBLEMS for label in labels) else 0)


def test_a_run_reached_through_two_paths_is_one_row_named_by_the_first(sweep, capsys):
    root, written = sweep
    events = written["healthy"].path
    _, doc = run_json(capsys, str(events.parent), str(events), str(root))
    names = [r["run"] for r in doc["runs"]]
    assert len(names) == len(written) and str(events.parent) in names  # a TensorBoard folder names its run


def test_first_bad_step_is_where_the_written_loss_first_stops_being_finite(sweep, capsys):
    _, written = sweep
    w = written["diverged"]
    first_nan = int(w.log.steps[np.flatnonzero(~np.isfinite(w.log.loss))[0]])
    _, doc = run_json(capsys, str(w.path))
    assert doc["runs"][0]["first_bad_step"] == first_nan
    assert cli.main(["diagnose", str(w.path)]) == 1
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[1] == "diverged" and row[3] == str(first_nan)


@pytest.mark.parametrize("width, short_names", [(110, True), (200, False), (100, False)])
def test_terminal_width_wraps_advice_and_keeps_every_word(sweep, width, short_names):
    root, _ = sweep
    rows = diag.diagnose_paths([str(root)], relative_to=str(root) if short_names else None)
    out = io.StringIO()
    diag.print_table(rows, out, width=width)
    text = out.getvalue()
    lines = text.splitlines()
    # A row can only be as short as its run's name; the advice always fits.
    fits = lines[1:] if short_names else [line for line in lines if line.startswith(" ")]
    assert fits and all(len(line) < width for line in fits)
    assert " ".join(text.split()).count(" ".join(rows[0].note().split())) == 1  # wrapped, not cut
    names = [line.split()[0] for line in text.splitlines()[1:-1] if not line.startswith(" ")]
    assert names == [r.name for r in rows]


# ---- exit codes and errors ------------------------------------------------------------------------

def test_exit_0_when_no_run_has_a_problem(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", healthy_curve(seed=1))
    write_csv(tmp_path / "b.csv", [2.0, 1.9, 1.8])  # 3 points: insufficient_data abstains, not a problem
    assert cli.main(["diagnose", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "healthy" in out and "insufficient_data" in out


def test_exit_1_when_a_run_has_a_problem(tmp_path, capsys):
    write_csv(tmp_path / "ok.csv", healthy_curve())
    loss = healthy_curve()
    loss[400:] = np.nan
    write_csv(tmp_path / "nan.csv", loss)
    assert cli.main(["diagnose", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == [str(tmp_path / "nan.csv"), "diverged"]


def test_broken_runs_are_error_rows_and_the_rest_is_diagnosed(tmp_path, capsys):
    write_csv(tmp_path / "good.csv", healthy_curve())
    (tmp_path / "broken.csv").write_text("step,loss\n0,2.0\n1,abc\n2,1.5\n")
    (tmp_path / "empty.jsonl").write_text("")
    sub = tmp_path / "tb"
    sub.mkdir()
    (sub / "events.out.tfevents.1.host").write_bytes(bytes(range(256)) * 8)
    assert cli.main(["diagnose", str(tmp_path)]) == 2
    out = assert_one_line_error(capsys, "3 of 4 runs could not be read")
    lines = out.splitlines()
    assert lines[1].split()[1] == "healthy"
    errors = {line.split()[0]: line for line in lines[2:5]}
    assert all(line.split()[1] == "error" for line in errors.values())
    assert "line 3" in errors[str(tmp_path / "broken.csv")] and "abc" in errors[str(tmp_path / "broken.csv")]
    assert "empty" in errors[str(tmp_path / "empty.jsonl")]
    assert "byte 0" in errors[str(tmp_path / "tb")]
    assert lines[-1] == "4 runs: 1 healthy, 3 error"


def test_a_tensorboard_run_with_an_unflushed_or_a_damaged_file(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    loss = healthy_curve()
    write_events(run / "events.out.tfevents.1700000000.host", {"loss": (list(range(len(loss))), loss.tolist())})
    (run / "events.out.tfevents.1700000900.host").write_bytes(b"")  # created, nothing flushed yet
    code, doc = run_json(capsys, str(run))
    (row,) = doc["runs"]
    assert (code, row["label"], row["truncated"], row["points"]) == (0, "healthy", True, len(loss))
    with pytest.warns(lrpulse.errors.LogWarning, match="ends inside a record"):
        assert lrpulse.diagnose_file(run).label == "healthy"
    (run / "events.out.tfevents.1700000900.host").write_bytes(b"\x05" * 40)  # damaged
    write_csv(tmp_path / "good.csv", loss)
    assert cli.main(["diagnose", str(tmp_path)]) == 2
    out = assert_one_line_error(capsys, "1 of 2 runs could not be read")
    # The row names the run folder; its note names the file inside it that is damaged.
    row = out.splitlines()[2].split()
    assert row[:5] == [str(run), "error", "-", "-", "events.out.tfevents.1700000900.host:"], out
    assert " ".join(row[5:8]) == "at byte 0:", out


def test_data_the_diagnosis_refuses_is_an_error_naming_the_file(tmp_path, capsys):
    # A negative loss (a Gaussian NLL, say) cannot be read in log-loss: say which file and tag it is.
    path = write_csv(tmp_path / "nll.csv", healthy_curve() - 1.0)
    assert cli.main(["diagnose", str(path)]) == 2
    assert_one_line_error(capsys, f"{path}: tag 'loss': ", "must be > 0")
    with pytest.raises(lrpulse.errors.InputError, match=re.escape(f"{path}: tag 'loss': ")) as info:
        lrpulse.diagnose_file(path)
    assert info.value.path == str(path)


def test_lenient_skips_the_bad_line_and_says_so(tmp_path, capsys):
    loss = healthy_curve()
    text = "step,loss\n" + "".join(f"{i},{v!r}\n" for i, v in enumerate(loss.tolist()))
    (tmp_path / "run.csv").write_text(text.replace("\n7,", "\n7,oops", 1))
    assert cli.main(["diagnose", str(tmp_path / "run.csv")]) == 2
    assert_one_line_error(capsys, "line 9")
    assert cli.main(["diagnose", str(tmp_path / "run.csv"), "--lenient"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "healthy" in row and "[1 damaged records skipped]" in row


def test_a_truncated_event_file_is_diagnosed_and_flagged(sweep, tmp_path, capsys):
    _, written = sweep
    data = written["healthy"].path.read_bytes()
    cut = tmp_path / "events.out.tfevents.2.host"
    cut.write_bytes(data[:-7])  # a run killed while writing its last record
    code, doc = run_json(capsys, str(cut))
    (run,) = doc["runs"]
    assert code in (0, 1) and run["truncated"] and run["points"] == len(written["healthy"].log.steps) - 1
    cli.main(["diagnose", str(cut)])
    assert "[log ends mid-record]" in capsys.readouterr().out


def test_every_run_unreadable_prints_only_errors(tmp_path, capsys):
    (tmp_path / "a.csv").write_text("step,loss\n0,1.5\n1,x\n")
    assert cli.main(["diagnose", str(tmp_path / "a.csv")]) == 2
    out = assert_one_line_error(capsys, "a.csv: line 3")
    assert out == ""


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: None, "no training logs found"),
    (lambda p: (p / "notes.md").write_text("hello"), "no training logs found"),
])
def test_a_folder_without_logs_is_one_line(tmp_path, capsys, setup, fragment):
    setup(tmp_path)
    assert cli.main(["diagnose", str(tmp_path)]) == 2
    assert assert_one_line_error(capsys, fragment, str(tmp_path)) == ""


def test_a_missing_path_is_one_line_and_nothing_is_read(tmp_path, capsys):
    write_csv(tmp_path / "a.csv", healthy_curve())
    assert cli.main(["diagnose", str(tmp_path / "a.csv"), str(tmp_path / "nope")]) == 2
    assert assert_one_line_error(capsys, "nope", "No such file") == ""


def test_a_missing_tag_names_the_tags_that_exist(tmp_path, capsys):
    path = write_csv(tmp_path / "run.csv", healthy_curve())
    assert cli.main(["diagnose", str(path), "--tag", "val_loss"]) == 2
    assert_one_line_error(capsys, "no tag 'val_loss'", "tags present: 'loss'")
    acc = write_csv(tmp_path / "acc.csv", healthy_curve(), column="accuracy")
    assert cli.main(["diagnose", str(acc)]) == 2
    assert_one_line_error(capsys, "no training-loss tag", "'accuracy'", "--tag NAME")
    assert cli.main(["diagnose", str(acc), "--tag", "accuracy"]) == 0


def test_format_option_reads_an_unnamed_file(tmp_path, capsys):
    path = tmp_path / "stdout.txt"  # a .txt without "log" in its name is not picked by name
    path.write_text("".join(f"iter {i} loss {v:.5f}\n" for i, v in enumerate(healthy_curve().tolist())))
    assert cli.main(["diagnose", str(path), "--format", "text"]) == 0
    assert cli.main(["diagnose", str(path), "--format", "parquet"]) == 2
    assert_one_line_error(capsys, "invalid choice")


def test_pattern_option_reads_a_text_log_the_default_does_not(tmp_path, capsys):
    loss = healthy_curve()
    path = tmp_path / "worker0.log"
    path.write_text("".join(f"[w0] #{10 * i} train-loss {v:.6f} (0.1s)\n" for i, v in enumerate(loss.tolist())))
    assert cli.main(["diagnose", str(path)]) == 2
    assert_one_line_error(capsys, "no training-loss tag found")
    code, doc = run_json(capsys, str(path), "--pattern", r"#(?P<step>\d+) train-loss (?P<value>\S+)")
    (run,) = doc["runs"]
    want = lrpulse.diagnose(np.round(loss, 6), steps=10 * np.arange(len(loss)))
    assert (code, run["tag"], run["points"], run["last_step"]) == (0, "value", len(loss), 10 * (len(loss) - 1))
    assert (run["label"], run["advice"]) == (want.label, want.advice)
    assert cli.main(["diagnose", str(path), "--pattern", "#(?P<step>\\d+"]) == 2
    assert_one_line_error(capsys, "pattern must be a valid regex")


def test_a_scalar_exported_from_tensorboard_as_csv_is_diagnosed(tmp_path, capsys):
    loss = healthy_curve()
    path = tmp_path / "run-train-tag-loss.csv"  # TensorBoard's "download CSV": Wall time, Step, Value
    path.write_text("Wall time,Step,Value\n" + "".join(f"{1.7e9 + i},{i},{v!r}\n" for i, v in enumerate(loss.tolist())))
    code, doc = run_json(capsys, str(path))
    (run,) = doc["runs"]
    assert (code, run["tag"], run["label"]) == (0, "Value", lrpulse.diagnose(loss).label)


def test_lr_and_validation_tags_by_name(tmp_path, capsys):
    # Neither column is found by name, so only the options pass them to the diagnosis.
    n = 2000
    t = np.arange(n)
    lr = 3e-3 * 0.5 * (1 + np.cos(np.pi * t / n))
    loss = healthy_curve(n)
    holdout = np.where(t % 100 == 99, 1.0 + (t / n) ** 2, np.nan)  # falls behind: rises over the run
    path = tmp_path / "metrics.csv"
    rows = "".join(f"{i},{v!r},{r!r},{'' if np.isnan(h) else repr(h)}\n"
                   for i, v, r, h in zip(t.tolist(), loss.tolist(), lr.tolist(), holdout.tolist(), strict=True))
    path.write_text("step,loss,sched_value,holdout\n" + rows)
    _, plain = run_json(capsys, str(path))
    _, named = run_json(capsys, str(path), "--lr-tag", "sched_value", "--val-tag", "holdout")
    kept = ~np.isnan(holdout)
    want = lrpulse.diagnose(loss, steps=t, lr=lr, val_loss=holdout[kept], val_steps=t[kept])
    (run,) = named["runs"]
    assert (run["label"], run["advice"], run["findings"]) == (want.label, want.advice, want.findings)
    assert "overfitting" in [f["kind"] for f in run["findings"]]
    assert "overfitting" not in [f["kind"] for f in plain["runs"][0]["findings"]]
    assert run["evidence"] != plain["runs"][0]["evidence"]


# ---- --json -------------------------------------------------------------------------------------

def test_json_document_has_every_field_and_matches_the_library(sweep, capsys):
    root, written = sweep
    code, doc = run_json(capsys, str(root))
    runs = doc["runs"]
    assert len(runs) == len(written) and doc["summary"]["runs"] == len(written)
    keys = {"run", "path", "format", "tag", "points", "first_step", "last_step", "truncated", "skipped", "label",
            "confidence", "advice", "first_bad_step", "segments", "findings", "evidence", "problem", "error",
            "error_type", "plot"}
    for run in runs:
        assert set(run) == keys
        assert run["error"] is None and run["plot"] is None
        assert run["problem"] == (run["label"] in diag.PROBLEMS)
        for seg in run["segments"]:
            assert set(seg) == {"start_step", "end_step", "label", "confidence"}
            assert seg["start_step"] <= seg["end_step"]
    assert [r["label"] for r in runs] == sorted((r["label"] for r in runs), key=diag.LABEL_ORDER.index)
    assert doc["summary"]["problems"] == sum(r["problem"] for r in runs)
    assert doc["summary"]["exit_code"] == code
    # The command and the streaming file API agree on every run.
    for run in runs:
        want = lrpulse.diagnose_file(run["path"])
        assert (run["label"], run["first_bad_step"], run["advice"]) == (want.label, want.first_bad_step, want.advice)


def test_json_with_error_rows(tmp_path, capsys):
    write_csv(tmp_path / "good.csv", healthy_curve())
    (tmp_path / "bad.csv").write_text("step,loss\n0,1\n1,?\n")
    code, doc = run_json(capsys, str(tmp_path))
    assert code == 2 and doc["summary"]["errors"] == 1
    bad = doc["runs"][-1]
    assert bad["label"] is None and bad["error_type"] == "LogFormatError" and "line 3" in bad["error"]


# ---- --plot -------------------------------------------------------------------------------------

def test_plot_writes_one_png_per_run_and_an_overview(sweep, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    root, written = sweep
    plots = tmp_path / "plots"
    code, doc = run_json(capsys, str(root), "--plot", str(plots))
    assert code in (0, 1)
    files = sorted(p.name for p in plots.iterdir())
    assert "overview.png" in files and len(files) == len(written) + 1
    for run in doc["runs"]:
        assert Path(run["plot"]).parent == plots
        assert_png(Path(run["plot"]))
    assert_png(plots / "overview.png")
    assert doc["summary"]["plot_dir"] == str(plots)
    cli.main(["diagnose", str(root), "--plot", str(plots)])
    assert f"plots written to {plots}" in capsys.readouterr().out


def test_plot_handles_an_explosion_to_huge_values(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    loss = healthy_curve()
    loss[450:] *= np.exp(np.arange(150) * 2.0)  # reaches 1e130: a log axis must not try to span it all
    write_csv(tmp_path / "boom.csv", loss)
    assert cli.main(["diagnose", str(tmp_path), "--plot", str(tmp_path / "plots")]) == 1
    assert_png(tmp_path / "plots" / "boom.csv.png")


def test_plot_without_matplotlib_notes_it_and_still_diagnoses(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_csv(tmp_path / "a.csv", healthy_curve())
    assert cli.main(["diagnose", str(tmp_path), "--plot", str(tmp_path / "plots")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "lrpulse: note: --plot needs matplotlib (pip install 'lrpulse[plot]'); no plots written\n"
    assert "healthy" in captured.out and not (tmp_path / "plots").exists()


def test_plot_folder_that_cannot_be_created(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    write_csv(tmp_path / "a.csv", healthy_curve())
    (tmp_path / "file").write_text("in the way")
    assert cli.main(["diagnose", str(tmp_path / "a.csv"), "--plot", str(tmp_path / "file" / "plots")]) == 2
    assert_one_line_error(capsys, "cannot create the plot folder")


# ---- progress -----------------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_and_erases_itself():
    stream = FakeTerminal()
    bar = diag.Progress(4, stream, delay=0.0)
    for _ in range(4):
        bar._shown_at = -1.0  # draw on every step, not at most every 0.1 s
        bar.advance()
    bar.close()
    text = stream.getvalue()
    assert "\rdiagnosing [" in text and "4/4 runs" in text and "[" + "#" * 30 + "]" in text
    assert text.endswith("\r" + " " * 70 + "\r")


def test_progress_bar_is_silent_off_a_terminal():
    stream = io.StringIO()
    bar = diag.Progress(100, stream, delay=0.0)
    for _ in range(100):
        bar.advance()
    bar.close()
    assert stream.getvalue() == ""


# ---- real processes -----------------------------------------------------------------------------

def test_diagnose_as_a_real_process(sweep):
    root, written = sweep
    run = subprocess.run([sys.executable, "-m", "lrpulse", "diagnose", str(root)], capture_output=True, text=True,
                         timeout=120)
    assert run.stderr == ""  # no progress bar: stderr is not a terminal
    assert run.returncode == 1
    assert len(run.stdout.splitlines()) == len(written) + 2


def test_a_file_name_that_is_not_utf8_prints_under_a_strict_locale(tmp_path):
    path = tmp_path / os.fsdecode(b"bad\xffname.csv")
    write_csv(path, healthy_curve())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    run = subprocess.run([sys.executable, "-m", "lrpulse", "diagnose", str(path)], capture_output=True,
                         timeout=120, env=env)
    assert (run.returncode, run.stderr) == (0, b"")
    assert b"healthy" in run.stdout and os.fsencode(path) in run.stdout, run.stdout


def test_diagnose_error_as_a_real_process(tmp_path):
    run = subprocess.run([sys.executable, "-m", "lrpulse", "diagnose", str(tmp_path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == ""
    assert re.fullmatch(r"lrpulse: error: .*no training logs found.*\n", run.stderr)


def test_demo_end_to_end_in_a_fresh_directory(tmp_path):
    pytest.importorskip("matplotlib")
    run = subprocess.run([sys.executable, "-m", "lrpulse", "demo"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert_png(tmp_path / "lrpulse-demo.png")
    runs_dir = tmp_path / "lrpulse-demo-runs"
    assert_png(runs_dir / "overview.png")
    assert len(list(runs_dir.glob("*.png"))) == len(DEMO_RUNS) + 1
    # Each clear-cut simulated run gets the label it was built to show.
    table = {line.split()[0].split("/")[0]: line.split()[1] for line in run.stdout.splitlines()
             if line.startswith("  lr") and len(line.split()) > 2 and line.split()[1] in diag.LABEL_ORDER}
    assert table == {r.name: r.expected for r in DEMO_RUNS}
    assert f"{len(DEMO_RUNS)} of {len(DEMO_RUNS)} verdicts match" in run.stdout
    # The logs went to a temporary folder, removed at the end.
    folder = re.search(r"written to (\S+) \(temporary", run.stdout).group(1)
    assert not Path(folder).exists()


def test_demo_keep_leaves_logs_that_diagnose_reads(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    keep = tmp_path / "logs"
    assert cli.main(["demo", "--out", str(tmp_path / "demo.png"), "--keep", str(keep)]) == 0
    assert f"try: lrpulse diagnose {keep}" in capsys.readouterr().out
    code, doc = run_json(capsys, str(keep))
    assert code == 1 and len(doc["runs"]) == len(DEMO_RUNS)
    assert {r["format"] for r in doc["runs"]} == {"tfevents", "csv", "jsonl", "trainer_state", "text"}


def test_ctrl_c_during_a_scan_stops_quietly(tmp_path, monkeypatch, capsys):
    write_csv(tmp_path / "a.csv", healthy_curve())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(diag, "diagnose_paths", interrupted)
    assert cli.main(["diagnose", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "lrpulse: interrupted\n"
