"""Log readers against the real writers and readers: torch's SummaryWriter files read back by
tensorboard's EventAccumulator, Keras' CSVLogger and a Lightning-style metrics.csv read back by the
csv module, transformers' TrainerState.save_to_json and json-module JSON lines, Python's re on text
logs; plus bad and hostile input (truncation, bad checksums, garbage, permissions) and hypothesis
fuzzing with mutated real files."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrpulse
from lrpulse.errors import (
    LogFormatError,
    LogNotFoundError,
    LogPermissionError,
    LogWarning,
    LrpulseError,
    ParameterError,
    TagNotFoundError,
)

N_STEPS = 60


def write_torch_events(folder, n=N_STEPS):
    """A real event file from torch's SummaryWriter: simple scalars, tensor scalars (float and double),
    and non-scalar summaries that must be ignored."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    rng = np.random.default_rng(0)
    for step in range(n):
        writer.add_scalar("train/loss", float(2.0 / (1 + step) ** 0.5 + 0.01 * rng.standard_normal()), step)
        writer.add_scalar("lr", 0.1 * 0.97**step, step, new_style=True)
        writer.add_scalar("grad_norm", 1.0 + step / 7, step, new_style=True, double_precision=True)
        if step % 20 == 0:
            writer.add_histogram("weights", rng.standard_normal(50), step)
            writer.add_text("note", f"step {step}", step)
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    return write_torch_events(tmp_path_factory.mktemp("tb"))


def tensorboard_scalars(path):
    """What tensorboard's own reader sees: ``{tag: (steps, values, wall_times)}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = ([e.step for e in events], [e.value for e in events], [e.wall_time for e in events])
    for tag in acc.Tags()["tensors"]:
        events = acc.Tensors(tag)
        arrays = [tensor_util.make_ndarray(e.tensor_proto) for e in events]
        if all(a.size == 1 and a.dtype.kind == "f" for a in arrays):
            out[tag] = ([e.step for e in events], [float(a.item()) for a in arrays], [e.wall_time for e in events])
    return out


def test_event_files_match_tensorboards_reader(events_file):
    ours = lrpulse.read_scalars(events_file)
    theirs = tensorboard_scalars(events_file)
    assert ours.format == "tfevents" and not ours.truncated and ours.skipped == 0
    assert set(ours) == set(theirs) == {"train/loss", "lr", "grad_norm"}
    for tag, (steps, values, wall) in theirs.items():
        assert ours[tag][0].dtype == np.int64 and ours[tag][1].dtype == np.float64
        assert not ours[tag][1].flags.owndata  # numpy wraps the buffer Rust filled: no copy
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(ours[tag][1], values)  # exact: the same stored float32/float64
        np.testing.assert_array_equal(ours.wall_times[tag], wall)
    assert ours.tags == ["train/loss", "lr", "grad_norm"]  # histogram and text hold no scalar


def test_tags_filter_and_a_missing_tag_lists_the_tags_present(events_file):
    only = lrpulse.read_scalars(events_file, "lr")
    assert list(only) == ["lr"] and "train/loss" in only.tags
    with pytest.raises(TagNotFoundError) as info:
        lrpulse.read_scalars(events_file, ["train/los"])
    assert "train/los" in str(info.value) and '"train/loss"' in str(info.value)
    assert info.value.available == ["train/loss", "lr", "grad_norm"]
    assert isinstance(info.value, KeyError) and "\n" not in str(info.value)


def test_a_truncated_event_file_keeps_its_complete_records_and_warns(events_file, tmp_path):
    data = events_file.read_bytes()
    full = lrpulse.read_scalars(events_file)["train/loss"][0]
    for cut in (len(data) - 1, len(data) - 9, len(data) // 2, 60):
        part = tmp_path / f"events.out.tfevents.cut{cut}"
        part.write_bytes(data[:cut])
        with pytest.warns(LogWarning, match="ends inside a record"):
            log = lrpulse.read_scalars(part)
        assert log.truncated
        steps = log["train/loss"][0] if "train/loss" in log else np.array([], np.int64)
        np.testing.assert_array_equal(steps, full[: len(steps)])
        theirs = tensorboard_scalars(part).get("train/loss", ([], [], []))[0]
        np.testing.assert_array_equal(steps, theirs)  # tensorboard also stops at the last whole record


def test_a_bad_checksum_names_file_and_offset_and_lenient_skips(events_file, tmp_path):
    data = bytearray(events_file.read_bytes())
    where = data.index(b"train/loss", len(data) // 2)  # inside a scalar record's payload
    data[where] ^= 0x10
    bad = tmp_path / "events.out.tfevents.bad"
    bad.write_bytes(bytes(data))
    with pytest.raises(LogFormatError, match=r"events.out.tfevents.bad: at byte \d+: bad payload checksum") as info:
        lrpulse.read_scalars(bad)
    assert where - 200 < info.value.offset < where  # the start of the damaged record
    with pytest.warns(LogWarning, match="1 damaged"):
        log = lrpulse.read_scalars(bad, lenient=True)
    assert log.skipped == 1
    full = lrpulse.read_scalars(events_file)
    assert len(log["train/loss"][0]) == len(full["train/loss"][0]) - 1
    assert len(log["lr"][0]) == len(full["lr"][0])


def write_lightning_csv(path, n=30):
    """A Lightning CSVLogger-style metrics.csv: one row per log call, empty cells for metrics not logged
    at that step (written the way Lightning does, with csv.DictWriter)."""
    rows = []
    for step in range(n):
        rows.append({"epoch": step // 10, "step": step, "train_loss_step": 3.0 / (step + 1), "lr-AdamW": 1e-3})
        if step % 10 == 9:
            rows.append({"epoch": step // 10, "step": step, "val_loss": 2.0 - step / 100, "val_acc": step / 40})
    keys = ["epoch", "lr-AdamW", "step", "train_loss_step", "val_acc", "val_loss"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_module_columns(path, step_col, delimiter=","):
    """Per column, (steps, values) of the non-empty cells, read with the csv module."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=delimiter))
    out = {}
    for key in rows[0]:
        if key == step_col:
            continue
        cells = [(int(r[step_col]), float(r[key])) for r in rows if r[key] not in ("", "NA")]  # Keras: NA
        out[key] = ([s for s, _ in cells], [v for _, v in cells])
    return out


def test_lightning_style_sparse_metrics_csv_matches_the_csv_module(tmp_path):
    path = write_lightning_csv(tmp_path / "metrics.csv")
    ours = lrpulse.read_scalars(path)
    theirs = csv_module_columns(path, "step")
    assert set(ours) == set(theirs)
    for tag, (steps, values) in theirs.items():
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(ours[tag][1], values)
    assert lrpulse.logs.pick_loss_tag(ours.tags) == "train_loss_step"
    assert lrpulse.logs.pick_val_tag(ours.tags) == "val_loss"


def test_keras_csvlogger_file_matches_the_csv_module(tmp_path):
    import keras

    path = tmp_path / "training.csv"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x = np.random.default_rng(1).standard_normal((64, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])
    assert ",NA" in path.read_text()  # no validation data: Keras writes NA for val_loss
    ours = lrpulse.read_scalars(path)
    theirs = csv_module_columns(path, "epoch")
    assert "loss" in theirs and set(ours) == set(theirs)
    for tag, (steps, values) in theirs.items():
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(ours[tag][1], values)


def test_quoted_cells_with_line_breaks_match_the_csv_module(tmp_path):
    """An exported table with a free-text column: the csv module quotes cells holding commas, quotes and
    line breaks; every numeric column still reads as the csv module reads it, across read chunks."""
    path = tmp_path / "export.csv"
    rng = np.random.default_rng(7)
    notes = ["", "lr, halved", 'said "restart"', "line one\nline two", "a\r\nb, \"c\"\n"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "note", "loss", "lr"])
        for step in range(200_000):
            writer.writerow([step, notes[step % len(notes)] if step else "start", rng.random(), 1e-3])
    assert path.stat().st_size > 8 << 20  # more than one 8 MiB read chunk
    ours = lrpulse.read_scalars(path)
    assert set(ours) == {"loss", "lr"}  # the note column holds text
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for tag in ("loss", "lr"):
        steps, values = [int(r["step"]) for r in rows], [float(r[tag]) for r in rows]
        np.testing.assert_array_equal(ours[tag][0], steps)
        np.testing.assert_array_equal(ours[tag][1], values)


def test_tsv_and_a_named_step_column(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text("wall\tit\tloss\n1.5\t100\t2.5\n2.5\t200\t2.0\n")
    log = lrpulse.read_scalars(path, step="it")
    assert log.format == "tsv" and log["loss"][0].tolist() == [100, 200] and "it" not in log
    with pytest.raises(LogFormatError, match=r"no step column \"nope\""):
        lrpulse.read_scalars(path, step="nope")


def test_malformed_csv_and_json_lines_name_the_line_or_are_counted(tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("step,loss\n0,1.0\n1,2.0,3.0\n2,0.5\n")
    with pytest.raises(LogFormatError, match=r"bad.csv: line 3: 3 cells, the header has 2") as info:
        lrpulse.read_scalars(bad_csv)
    assert info.value.line == 3
    with pytest.warns(LogWarning):
        assert lrpulse.read_scalars(bad_csv, lenient=True)["loss"][0].tolist() == [0, 2]
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text('{"step": 0, "loss": 1}\n{"step": 1, "loss": \n{"step": 2, "loss": 0.5}\n')
    with pytest.raises(LogFormatError, match=r"bad.jsonl: line 2: not a JSON object"):
        lrpulse.read_scalars(bad_jsonl)
    with pytest.warns(LogWarning):
        log = lrpulse.read_scalars(bad_jsonl, lenient=True)
    assert log.skipped == 1 and log["loss"][0].tolist() == [0, 2]


def test_json_lines_match_the_json_module_including_nan(tmp_path):
    path = tmp_path / "metrics.jsonl"
    records = [{"step": i, "loss": 1.0 / (i + 1), "lr": 0.1, "tag": "x", "opt": {"m": i / 3}} for i in range(20)]
    records[7]["loss"] = float("nan")
    records[9]["loss"] = float("inf")
    path.write_text("".join(json.dumps(r) + "\n" for r in records))  # json.dumps writes NaN, Infinity
    log = lrpulse.read_scalars(path)
    parsed = [json.loads(line) for line in path.read_text().splitlines()]
    np.testing.assert_array_equal(log["loss"][1], [r["loss"] for r in parsed])
    np.testing.assert_array_equal(log["opt/m"][1], [r["opt"]["m"] for r in parsed])
    assert log["loss"][0].tolist() == list(range(20)) and "tag" not in log


@pytest.mark.parametrize("key", ["_step", "global_step", "trainer/global_step", "iteration"])
def test_json_lines_take_the_step_from_wandb_and_trainer_keys(tmp_path, key):
    path = tmp_path / "wandb.jsonl"
    records = [{key: 10 * i + 3, "loss": 2.0 - i / 10, "_runtime": 0.5 * i} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    log = lrpulse.read_scalars(path)
    assert log["loss"][0].tolist() == [r[key] for r in records]
    np.testing.assert_array_equal(log["loss"][1], [r["loss"] for r in records])
    assert key not in log.tags


def test_hf_trainer_state_matches_transformers_writer(tmp_path):
    from transformers import TrainerState

    history = [{"epoch": (i + 1) / 8, "grad_norm": 1.5 - i / 10, "learning_rate": 5e-5 * (1 - i / 8),
                "loss": 2.5 - i / 5, "step": 10 * (i + 1)} for i in range(8)]  # fmt: skip
    history.insert(4, {"epoch": 0.5, "eval_loss": 2.2, "eval_runtime": 1.25, "step": 40})
    history[2]["loss"] = float("nan")
    path = tmp_path / "checkpoint-80" / "trainer_state.json"
    path.parent.mkdir()
    TrainerState(global_step=80, max_steps=80, log_history=history).save_to_json(str(path))
    log = lrpulse.read_scalars(path)
    expected = [(h["step"], h["loss"]) for h in json.loads(path.read_text())["log_history"] if "loss" in h]
    assert log.format == "trainer_state"
    np.testing.assert_array_equal(log["loss"][0], [s for s, _ in expected])
    np.testing.assert_array_equal(log["loss"][1], [v for _, v in expected])
    assert log["eval_loss"][0].tolist() == [40]


def test_text_logs_default_pattern_and_a_user_regex_agree_with_re(tmp_path):
    path = tmp_path / "train.log"
    lines = ["loading data", "Epoch 1 | step 100/900 | loss 2.31 | lr 1e-3", "step=200 loss=1.9 acc=0.5",
             "[300] loss: 1.75, grad_norm: 0.9", "Step: 400 loss: nan"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    log = lrpulse.read_scalars(path)
    assert log.format == "text"
    assert log["loss"][0].tolist() == [100, 200, 300, 400]
    np.testing.assert_array_equal(log["loss"][1], [2.31, 1.9, 1.75, float("nan")])
    assert log["lr"][1].tolist() == [1e-3] and log["grad_norm"][0].tolist() == [300]
    pattern = r"it (?P<step>\d+): (?P<tag>\w+)=(?P<value>[-\d.e]+)"
    custom = tmp_path / "custom.txt"
    custom.write_text("".join(f"it {i}: loss={1 / (i + 1)} noise\nit {i}: acc={i / 10}\n" for i in range(12)))
    ours = lrpulse.read_scalars(custom, pattern=pattern, format="text")
    matches = [m.groupdict() for m in re.finditer(pattern, custom.read_text())]
    for tag in ("loss", "acc"):
        np.testing.assert_array_equal(ours[tag][0], [int(m["step"]) for m in matches if m["tag"] == tag])
        np.testing.assert_array_equal(ours[tag][1], [float(m["value"]) for m in matches if m["tag"] == tag])
    with pytest.raises(ParameterError, match=r"pattern must have a named group \(\?P<value>"):
        lrpulse.read_scalars(custom, pattern=r"(?P<step>\d+)")


def test_bad_arguments_name_the_parameter(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("step,loss\n0,2.5\n1,2.25\n")
    with pytest.raises(lrpulse.errors.DTypeError, match="tags must be a tag name, a list of tag names or None"):
        lrpulse.read_scalars(path, tags=5)
    with pytest.raises(lrpulse.errors.DTypeError, match=r"got tags=\['loss', 3\]"):
        lrpulse.read_scalars(path, tags=("loss", 3))
    with pytest.raises(ParameterError, match="chunk_points must be a whole number > 0, got chunk_points=-1"):
        lrpulse.diagnose_file(path, chunk_points=-1)
    with pytest.raises(ParameterError, match="batch must be a whole number > 0, got batch=0"):
        list(lrpulse.scan(tmp_path, batch=0))
    assert lrpulse.read_scalars(path, tags=iter(["loss"]))["loss"][1].tolist() == [2.5, 2.25]


def test_garbage_empty_files_missing_paths_and_empty_folders_are_one_line_errors(tmp_path):
    cases = {"garbage.csv": bytes(range(256)) * 4, "empty.jsonl": b"", "events.out.tfevents.x": b"hello world" * 9}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(LogFormatError) as info:
            lrpulse.read_scalars(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(LogNotFoundError) as info:
        lrpulse.read_scalars(tmp_path / "missing.csv")
    assert isinstance(info.value, FileNotFoundError) and info.value.filename.endswith("missing.csv")
    empty = tmp_path / "nothing"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(LogNotFoundError, match="no training logs found"):
        list(lrpulse.scan(empty))
    with pytest.raises(LogFormatError, match=r"unnamed: the file is empty"):
        (tmp_path / "unnamed").write_bytes(b"")
        lrpulse.read_scalars(tmp_path / "unnamed")
    with pytest.raises(ParameterError, match="format must be"):
        lrpulse.read_scalars(tmp_path / "garbage.csv", format="parquet")


def test_an_unreadable_file_is_a_permission_error(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("step,loss\n0,1\n")
    path.chmod(0)
    tmp_path.chmod(0o755)
    # Root reads anything, so the read runs in a child that drops to an unprivileged user when needed.
    # Everything is imported first: the interpreter's own files may not be readable by that user.
    code = (
        "import os, sys, warnings, lrpulse, lrpulse.logs\n"
        "from lrpulse.errors import LogPermissionError\n"
        "if os.geteuid() == 0: os.setgid(65534); os.setuid(65534)\n"
        "try:\n    lrpulse.read_scalars(sys.argv[1])\n"
        "except LogPermissionError as e:\n    print(type(e).__mro__[1].__name__, isinstance(e, PermissionError), e)\n"
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.startswith("LogFileError True [Errno 13]"), out.stdout + out.stderr
    assert issubclass(LogPermissionError, PermissionError)


def test_scan_names_runs_by_relative_path_and_keeps_going_past_bad_runs(tmp_path, events_file):
    (tmp_path / "tb" / "run_a").mkdir(parents=True)
    (tmp_path / "tb" / "run_a" / events_file.name).write_bytes(events_file.read_bytes())
    (tmp_path / "pl" / "version_0").mkdir(parents=True)
    write_lightning_csv(tmp_path / "pl" / "version_0" / "metrics.csv")
    (tmp_path / "broken.jsonl").write_text('{"step": 0, "loss": }\n')
    (tmp_path / "lr_only.log").write_text("step 1 lr 0.1\n")
    results = {r.name: r for r in lrpulse.scan(tmp_path)}
    assert list(results) == ["broken.jsonl", "lr_only.log", "pl/version_0/metrics.csv", "tb/run_a"]
    assert isinstance(results["broken.jsonl"].error, LogFormatError)
    assert isinstance(results["lr_only.log"].error, TagNotFoundError)
    good = results["tb/run_a"]
    assert good.ok and good.tag == "train/loss" and good.diagnosis is not None and good.lr_tag == "lr"
    lr_steps, lr, _ = tensorboard_scalars(tmp_path / "tb" / "run_a")["lr"]
    assert lr_steps == good.steps.tolist()  # logged at every loss step: the aligned LR is the LR itself
    direct = lrpulse.diagnose(good.values, steps=good.steps, lr=np.array(lr))
    assert good.diagnosis == direct
    assert lrpulse.diagnose_file(tmp_path / "tb" / "run_a") == direct
    assert results["pl/version_0/metrics.csv"].tag == "train_loss_step"


def test_find_runs_lists_what_scan_reads_without_reading(tmp_path, events_file):
    from lrpulse.logs import find_runs

    (tmp_path / "tb" / "run_a").mkdir(parents=True)
    (tmp_path / "tb" / "run_a" / events_file.name).write_bytes(events_file.read_bytes())
    (tmp_path / "pl").mkdir()
    write_lightning_csv(tmp_path / "pl" / "metrics.csv")
    (tmp_path / "broken.jsonl").write_text('{"step": 0, "loss": }\n')
    runs = find_runs(tmp_path)
    assert [r.name for r in runs] == [r.name for r in lrpulse.scan(tmp_path, diagnose=False)]
    assert [(r.name, r.format) for r in runs] == [
        ("broken.jsonl", "jsonl"),
        ("pl/metrics.csv", "csv"),
        ("tb/run_a", "tfevents"),
    ]
    assert runs[2].files == [str(tmp_path / "tb" / "run_a" / events_file.name)]
    assert find_runs(str(tmp_path / "pl" / "metrics.csv"))[0].files == [str(tmp_path / "pl" / "metrics.csv")]
    with pytest.raises(LogNotFoundError):
        find_runs(tmp_path / "missing")


def test_diagnose_file_streams_in_chunks_with_the_same_verdict(tmp_path):
    path = tmp_path / "long.csv"
    steps = np.arange(5000)
    loss = 3.0 * (1 + steps) ** -0.4 * np.exp(0.02 * np.random.default_rng(2).standard_normal(5000))
    path.write_text("step,loss\n" + "".join(f"{s},{float(v)!r}\n" for s, v in zip(steps, loss, strict=True)))
    whole = lrpulse.diagnose(loss, steps=steps)
    assert lrpulse.diagnose_file(path, chunk_points=333) == whole
    assert lrpulse.diagnose_file(path, "loss") == whole
    with pytest.raises(TagNotFoundError, match="no tag 'nope'"):
        lrpulse.diagnose_file(path, "nope")


def write_keras_style_events(folder, batches=400, epochs=4):
    """What Keras' TensorBoard callback (update_freq=1) writes to ``logdir/train``: ``batch_loss`` each
    update, ``epoch_loss`` and ``epoch_learning_rate`` each epoch (written with torch's SummaryWriter,
    since Keras needs TensorFlow to write them)."""
    from torch.utils.tensorboard import SummaryWriter

    loss = 3.0 * (1 + np.arange(batches)) ** -0.4 * np.exp(0.02 * np.random.default_rng(4).standard_normal(batches))
    with SummaryWriter(str(folder)) as w:
        for epoch in range(epochs):
            for b in range(epoch * batches // epochs, (epoch + 1) * batches // epochs):
                w.add_scalar("batch_loss", loss[b], b)
            w.add_scalar("epoch_loss", loss[b], epoch)
            w.add_scalar("epoch_learning_rate", 0.01, epoch)
    return loss


def test_keras_batch_loss_is_diagnosed_rather_than_its_few_epoch_points(tmp_path):
    from lrpulse.logs import pick_loss_tag

    loss = write_keras_style_events(tmp_path / "run" / "train")
    assert pick_loss_tag(["epoch_loss", "batch_loss"]) == "batch_loss"
    assert pick_loss_tag(["my_epoch_loss", "my_loss"]) == "my_loss"
    assert pick_loss_tag(["epoch_loss", "val_loss"]) == "epoch_loss"  # the only training loss
    expected = lrpulse.diagnose(loss.astype(np.float32).astype(np.float64), steps=np.arange(len(loss)))
    assert expected.label != "insufficient_data"
    assert lrpulse.diagnose_file(tmp_path / "run" / "train").label == expected.label
    (run,) = lrpulse.scan(tmp_path / "run")
    assert run.tag == "batch_loss" and len(run.values) == len(loss) and run.diagnosis.label == expected.label
    assert run.lr_tag is None  # epoch_learning_rate counts epochs: not put on batch steps


def test_pick_lr_tag_knows_the_trainers_names():
    from lrpulse.logs import pick_lr_tag

    for name in ("lr", "learning_rate", "lr-AdamW", "lr-SGD", "train/lr", "train/learning_rate", "LR"):
        assert pick_lr_tag(["step", "train/loss", "val_loss", name, "grad_norm"]) == name
    assert pick_lr_tag(["loss", "lr-AdamW/pg1", "lr-AdamW/pg2"]) == "lr-AdamW/pg1"
    assert pick_lr_tag(["epoch_learning_rate", "batch_learning_rate"]) == "batch_learning_rate"
    assert pick_lr_tag(["opt/lr_scale_loss", "loss", "grad_norm"]) is None
    assert pick_lr_tag(["epoch_loss", "epoch_learning_rate"], loss_tag="epoch_loss") == "epoch_learning_rate"
    assert pick_lr_tag(["batch_loss", "epoch_learning_rate"], loss_tag="batch_loss") is None


def lr_in_force(steps, lr_steps, lr):
    """The LR last logged at or before each step (the first LR before any), by a plain loop."""
    out = []
    for s in steps:
        earlier = [v for t, v in zip(lr_steps, lr, strict=True) if t <= s]
        out.append(earlier[-1] if earlier else lr[0])
    return np.array(out)


def test_the_logged_lr_is_put_on_the_loss_steps_and_diagnosed(tmp_path):
    steps = np.arange(0, 3000, 2)
    loss = 3.0 * (1 + steps) ** -0.4 * np.exp(0.02 * np.random.default_rng(5).standard_normal(len(steps)))
    lr_steps = np.arange(7, 3000, 50)  # logged less often than the loss, and first after it
    lr = 1e-3 * (0.2 + 0.8 * np.cos(np.pi * lr_steps / 6000))
    rows = [{"_step": int(s), "train/loss": float(v)} for s, v in zip(steps, loss, strict=True)]
    rows += [{"_step": int(s), "train/learning_rate": float(v)} for s, v in zip(lr_steps, lr, strict=True)]
    path = tmp_path / "run" / "wandb.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in sorted(rows, key=lambda r: r["_step"])))
    want = lrpulse.diagnose(loss, steps=steps, lr=lr_in_force(steps, lr_steps, lr))
    assert want != lrpulse.diagnose(loss, steps=steps)  # the LR shows in the verdict's advice
    assert lrpulse.diagnose_file(path) == want
    assert lrpulse.diagnose_file(path, chunk_points=97) == want  # the LR carried across chunks
    assert lrpulse.diagnose_file(path, chunk_points=2) == want  # the first loss points wait for an LR
    assert lrpulse.diagnose_file(path, "train/loss", lr_tag="train/learning_rate") == want
    (run,) = lrpulse.scan(tmp_path / "run")
    assert run.lr_tag == "train/learning_rate" and run.diagnosis == want
    with pytest.raises(TagNotFoundError, match="no tag 'lr'"):
        lrpulse.diagnose_file(path, lr_tag="lr")
    (run,) = lrpulse.scan(tmp_path / "run", lr_tag="lr")
    assert isinstance(run.error, TagNotFoundError)


# ---- fuzzing: mutated real files must give a result or an lrpulse error, never anything else ----


@pytest.fixture(scope="module")
def real_files(tmp_path_factory, events_file):
    folder = tmp_path_factory.mktemp("real")
    files = {"tfevents": events_file.read_bytes()}
    files["csv"] = write_lightning_csv(folder / "metrics.csv").read_bytes()
    records = [{"step": i, "loss": 1 / (i + 1), "o": {"lr": 0.1}} for i in range(20)]
    files["jsonl"] = "".join(json.dumps(r) + "\n" for r in records).encode()
    history = [{"loss": 1.5, "step": 1}, {"eval_loss": 2, "step": 2}]
    files["trainer_state"] = json.dumps({"log_history": history}).encode()
    files["text"] = b"".join(b"step %d loss %f lr 0.1\n" % (i, 1 / (i + 1)) for i in range(20))
    return files


NAMES = {"tfevents": "events.out.tfevents.fz", "csv": "metrics.csv", "jsonl": "run.jsonl",
         "trainer_state": "trainer_state.json", "text": "train.log"}  # fmt: skip


def read_or_none(path, **options):
    """Read a fuzzed file: any failure must be a one-line lrpulse error (then None); a result must be
    well-formed arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogWarning)
        try:
            log = lrpulse.read_scalars(path, **options)
        except LrpulseError as e:
            assert "\n" not in str(e)
            return None
    for steps, values in log.values():
        assert steps.dtype == np.int64 and values.dtype == np.float64 and len(steps) == len(values)
    return log


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(sorted(NAMES)),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 7)), max_size=3),
    insert=st.binary(max_size=16),
    lenient=st.booleans(),
)
def test_fuzz_mutated_real_files(real_files, tmp_path, fmt, cut, flips, insert, lenient):
    data = bytearray(real_files[fmt])
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    at = int(cut * len(data))
    data = bytes(data[:at]) + insert + bytes(data[at:]) if insert else bytes(data[: max(at, 1)])
    path = tmp_path / NAMES[fmt]
    path.write_bytes(data)
    log = read_or_none(path, lenient=lenient)
    if log is None:
        return
    if fmt == "tfevents" and not flips and not insert:  # a pure truncation keeps a prefix
        full = lrpulse.read_scalars(io_path(tmp_path, real_files[fmt]))
        for tag, (steps, _) in log.items():
            np.testing.assert_array_equal(steps, full[tag][0][: len(steps)])


def io_path(folder, content):
    path = folder / "events.out.tfevents.whole"
    path.write_bytes(content)
    return path


@settings(max_examples=40)
@given(st.binary(max_size=300), st.sampled_from(["auto", "tfevents", "csv", "tsv", "jsonl", "trainer_state", "text"]))
def test_fuzz_random_bytes(tmp_path_factory, data, fmt):
    path = tmp_path_factory.mktemp("rnd") / "blob"
    path.write_bytes(data)
    read_or_none(path, format=fmt)
