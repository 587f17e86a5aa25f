"""The ``lrpulse`` command: demo, schedule and lint, run in-process through ``main`` and as a real
``python -m lrpulse`` process; bad input exits 2 with one ``lrpulse: error:`` line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrpulse
from lrpulse import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLAN = lrpulse.warmup(lrpulse.cosine(lr=0.01, decay_steps=9_500, min_lr=1e-5), warmup_steps=500)
CUTS = lrpulse.multi_step(lr=0.01, milestones=[300, 600], gamma=0.01)


def write_spec(tmp_path: Path, schedule: lrpulse.Schedule, name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schedule.to_dict(), indent=2))
    return str(path)


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_MAGIC
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(path).shape
    assert width > 400 and height > 200


def assert_one_line_error(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lrpulse: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


# ---- demo ----------------------------------------------------------------------------------------

def test_demo_prints_each_plan_with_its_findings_and_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "demo.png"
    assert cli.main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    sections = text.split("\n[")[1:]
    assert len(sections) == 4
    # Each plan's printed lint is what lrpulse.lint says about it.
    expected = [[], ["finetune_lr_high"], ["tail_rise"], ["lr_jump", "lr_jump"]]
    for section, codes in zip(sections, expected, strict=True):
        for code in set(codes):
            assert section.count(f"warning  {code}") == codes.count(code), section
        if not codes:
            assert "no findings" in section
    assert "lrpulse.warmup(schedule=cosine(lr=0.01" in sections[0]
    assert f"plot written to {out}" in text
    assert_png(out)


def test_demo_as_a_real_process_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    run = subprocess.run([sys.executable, "-m", "lrpulse", "demo", "--out", "tmp.png"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "tail_rise" in run.stdout and "plot written to tmp.png" in run.stdout
    assert_png(tmp_path / "tmp.png")


def test_demo_default_output_is_in_the_current_directory(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo"]) == 0
    assert_png(tmp_path / "lrpulse-demo.png")


def test_demo_without_matplotlib_still_succeeds(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out = tmp_path / "demo.png"
    assert cli.main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "finetune_lr_high" in text
    assert text.strip().splitlines()[-1] == "plot skipped: matplotlib is not installed (pip install 'lrpulse[plot]')"
    assert not out.exists()


def test_demo_unwritable_output_is_a_usage_error(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["demo", "--out", str(tmp_path / "missing-dir" / "x.png")]) == 2
    assert_one_line_error(capsys, "cannot write the plot")


# ---- schedule ------------------------------------------------------------------------------------

def test_schedule_summary_shows_the_engine_values(tmp_path, capsys):
    assert cli.main(["schedule", write_spec(tmp_path, PLAN), "--steps", "10000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == repr(PLAN)
    table = [line.split() for line in lines if len(line.split()) == 2 and line.split()[0].isdigit()]
    assert [int(t) for t, _ in table] == [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 9999]
    for t, value in table:
        assert float(value) == pytest.approx(PLAN(int(t)), rel=1e-3)
    peak = next(line for line in lines if line.strip().startswith("peak"))
    assert peak.split()[-1] == "500" and "0.01" in peak


def test_schedule_json_is_every_value_exactly(tmp_path, capsys):
    n = (1 << 18) + 7  # crosses a chunk boundary of the streamed output
    assert cli.main(["schedule", write_spec(tmp_path, CUTS), "--steps", str(n), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"] == n
    assert lrpulse.schedule_from_dict(data["schedule"]) == CUTS
    assert np.array_equal(np.array(data["lr"]), CUTS.trajectory(n))


def test_schedule_reads_stdin_and_accepts_1e4_steps(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(CUTS.to_json()))
    assert cli.main(["schedule", "-", "--steps", "1e3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["lr"]) == 1000


def test_schedule_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "lr.png"
    assert cli.main(["schedule", write_spec(tmp_path, PLAN), "--steps", "10000", "--plot", str(out)]) == 0
    assert f"plot written to {out}" in capsys.readouterr().out
    assert_png(out)


def test_schedule_plot_without_matplotlib_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    spec = write_spec(tmp_path, PLAN)
    assert cli.main(["schedule", spec, "--steps", "100", "--plot", str(tmp_path / "x.png")]) == 2
    assert_one_line_error(capsys, "matplotlib")


# ---- lint ----------------------------------------------------------------------------------------

def test_lint_sound_plan_exits_0(tmp_path, capsys):
    assert cli.main(["lint", write_spec(tmp_path, PLAN), "--total-steps", "10000"]) == 0
    assert "no findings for 10000 steps (from scratch)" in capsys.readouterr().out


def test_lint_warnings_exit_1_and_match_the_library(tmp_path, capsys):
    spec = write_spec(tmp_path, CUTS)
    assert cli.main(["lint", spec, "--total-steps", "1000"]) == 1
    text = capsys.readouterr().out
    assert "2 warnings for 1000 steps" in text
    assert "step 300  warning  lr_jump" in text and "step 600  warning  lr_jump" in text

    assert cli.main(["lint", spec, "--total-steps", "1000", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == [f.to_dict() for f in lrpulse.lint(CUTS, 1000)]
    assert (data["total_steps"], data["finetune"]) == (1000, False)


def test_lint_finetune_and_jump_factor_options(tmp_path, capsys):
    spec = write_spec(tmp_path, PLAN)
    assert cli.main(["lint", spec, "--total-steps", "10000", "--finetune", "--json"]) == 1
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["finetune_lr_high"]
    cuts = write_spec(tmp_path, CUTS, "cuts.json")
    assert cli.main(["lint", cuts, "--total-steps", "1000", "--jump-factor", "1000"]) == 0


def test_lint_notes_alone_exit_0(tmp_path, capsys):
    early = lrpulse.linear(lr=0.01, steps=100)  # LR 0 for the last 900 steps: a note, not a warning
    assert cli.main(["lint", write_spec(tmp_path, early), "--total-steps", "1000"]) == 0
    assert "info  idle_steps" in capsys.readouterr().out


# ---- errors --------------------------------------------------------------------------------------

def test_missing_file(tmp_path, capsys):
    assert cli.main(["lint", str(tmp_path / "nope.json"), "--total-steps", "10"]) == 2
    assert_one_line_error(capsys, "cannot read", "nope.json", "No such file")


def test_bad_json_names_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"kind": "cosine",\n  "lr": 0.1,,\n}')
    assert cli.main(["schedule", str(path), "--steps", "10"]) == 2
    assert_one_line_error(capsys, "bad.json: invalid JSON at line 2, column 13")


@pytest.mark.parametrize("spec, fragment", [
    ({"kind": "cosine", "lr": -1, "decay_steps": 10}, "lr must be >= 0, got lr=-1"),
    ({"kind": "cosinus", "lr": 0.1}, "kind must be one of"),
    ({"kind": "cosine", "lr": 0.1}, "decay_steps"),
    ([1, 2], "must be a dict"),
    ({"kind": "warmup", "schedule": {"kind": "constant", "lr": "fast"}, "warmup_steps": 10}, "lr must be a number"),
])
def test_invalid_spec(tmp_path, capsys, spec, fragment):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert cli.main(["lint", str(path), "--total-steps", "10"]) == 2
    assert_one_line_error(capsys, "spec.json: invalid schedule spec", fragment)


def test_hostile_specs_and_outputs_are_one_line_errors(tmp_path, capsys):
    huge = tmp_path / "huge.json"  # an integer past Python's int-conversion limit
    huge.write_text('{"kind": "cosine", "lr": 0.1, "decay_steps": ' + "9" * 5000 + "}")
    assert cli.main(["schedule", str(huge), "--steps", "10"]) == 2
    assert_one_line_error(capsys, "huge.json: invalid JSON")
    deep = tmp_path / "deep.json"
    spec: dict = {"kind": "constant", "lr": 0.1}
    for _ in range(200):
        spec = {"kind": "warmup", "schedule": spec, "warmup_steps": 1}
    deep.write_text(json.dumps(spec))
    assert cli.main(["lint", str(deep), "--total-steps", "10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrpulse: error: ") and err.count("\n") == 1, err
    assert err.count("invalid schedule spec") == 1, err
    spec_path = write_spec(tmp_path, PLAN)
    assert cli.main(["schedule", spec_path, "--steps", "10", "--plot", str(tmp_path / "lr.notaformat")]) == 2
    assert_one_line_error(capsys, "cannot write the plot to", "lr.notaformat")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli.main(["demo", "--keep", str(blocker), "--out", str(tmp_path / "d.png")]) == 2
    assert_one_line_error(capsys, str(blocker))


@pytest.mark.parametrize("argv, fragment", [
    (["lint", "{spec}"], "--total-steps"),
    (["lint", "{spec}", "--total-steps", "0"], "whole number > 0"),
    (["schedule", "{spec}", "--steps", "ten"], "whole number > 0"),
    (["schedule", "{spec}", "--steps", "2.5"], "whole number > 0"),
    (["lint", "{spec}", "--total-steps", "10", "--jump-factor", "1"], "jump_factor"),
    (["frobnicate"], "invalid choice"),
    ([], "COMMAND"),
])
def test_usage_errors_exit_2_on_one_line(tmp_path, capsys, argv, fragment):
    spec = write_spec(tmp_path, PLAN)
    assert cli.main([a.format(spec=spec) for a in argv]) == 2
    assert_one_line_error(capsys, fragment)


def test_error_from_a_real_process_has_no_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-m", "lrpulse", "lint", "missing.json", "--total-steps", "10"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr == "lrpulse: error: cannot read missing.json: No such file or directory\n"


# ---- help and the command registry ---------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["diagnose", "--help"], ["schedule", "--help"],
                                  ["lint", "--help"]])
def test_help_everywhere_with_examples(capsys, argv):
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: lrpulse") and "examples:" in text


def test_a_registered_command_is_dispatched(monkeypatch, capsys):
    seen = []

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("--loss-log")

    def run(args: argparse.Namespace, out) -> int:
        seen.append(args.loss_log)
        print("diagnosed", file=out)
        return 1

    extra = cli.Command("probe", "Probe a loss log.", "  lrpulse probe --loss-log run.csv", configure, run)
    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, extra])
    assert cli.main(["probe", "--loss-log", "run.csv"]) == 1
    assert seen == ["run.csv"] and capsys.readouterr().out == "diagnosed\n"
    assert cli.main(["--help"]) == 0
    assert "probe" in capsys.readouterr().out


def test_importing_the_cli_pulls_in_no_plotting_or_framework():
    code = ("import sys, json, lrpulse.cli, lrpulse._lint, lrpulse._demo, lrpulse._cli_diagnose, lrpulse._plot,"
            " lrpulse._demo_diagnosis;"
            "print(json.dumps([m for m in ('matplotlib', 'torch', 'keras', 'jax') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
