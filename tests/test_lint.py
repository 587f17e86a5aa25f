"""lrpulse.lint: each rule fires on the plan it describes, stays quiet on sound plans, and scans a
10^8-step plan in bounded memory."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from parity import assert_f64_close

import lrpulse
from lrpulse import Finding, lint
from lrpulse._lint import _CHUNK
from lrpulse.errors import DTypeError, ParameterError

T = 10_000


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


# ---- sound plans stay quiet ----------------------------------------------------------------------

SOUND_FROM_SCRATCH = {
    "warmup+cosine 0.01 -> 1e-5": lrpulse.warmup(lrpulse.cosine(lr=0.01, decay_steps=T - 500, min_lr=1e-5),
                                                 warmup_steps=500),
    "cosine warmup shape": lrpulse.warmup(lrpulse.cosine(lr=5e-3, decay_steps=T - 300), warmup_steps=300,
                                          shape="cos"),
    # torch MultiStepLR's classic plan: two 10x cuts, exactly 100x in total (float noise must not count).
    "MultiStepLR gamma=0.1": lrpulse.multi_step(lr=0.01, milestones=[5_000, 8_000], gamma=0.1),
    "one cycle": lrpulse.one_cycle(max_lr=0.01, total_steps=T),
    "warmup-stable-decay": lrpulse.wsd(lr=5e-3, warmup_steps=500, stable_steps=7_500, decay_steps=2_000,
                                       min_lr=1e-5),
    "linear decay to 0 at the last step": lrpulse.linear(lr=0.01, steps=T - 1),
    "polynomial power 4 to 0": lrpulse.polynomial(lr=0.01, decay_steps=T - 1, power=4.0),
}


@pytest.mark.parametrize("name", sorted(SOUND_FROM_SCRATCH))
def test_sound_plans_from_scratch_have_no_findings(name):
    assert lint(SOUND_FROM_SCRATCH[name], T) == []


def test_sound_finetuning_plan_has_no_findings():
    plan = lrpulse.warmup(lrpulse.cosine(lr=5e-5, decay_steps=T - 101, min_lr=5e-7), warmup_steps=100)
    assert lint(plan, T, finetune=True) == []
    # The from-scratch range does not apply to fine-tuning, but it does without the flag.
    assert codes(lint(plan, T)) == ["peak_lr_low"]


# ---- initial / peak LR ---------------------------------------------------------------------------

def test_peak_lr_above_range_from_scratch():
    plan = lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=T - 500, min_lr=1e-5), warmup_steps=500)
    (f,) = lint(plan, T)
    assert (f.code, f.severity, f.step) == ("peak_lr_high", "warning", 500)  # the LR after the warmup
    assert "0.1" in f.message and "0.001..0.01" in f.message


def test_peak_lr_below_range_and_custom_range():
    plan = lrpulse.cosine(lr=3e-4, decay_steps=T - 1, min_lr=1e-6)
    (f,) = lint(plan, T)
    assert (f.code, f.step) == ("peak_lr_low", 0)
    assert "converges slowly" in f.message
    assert lint(plan, T, lr_range=(1e-4, 1e-3)) == []  # e.g. an Adam run


def test_range_edges_are_inclusive():
    for lr in (1e-3, 1e-2):
        assert lint(lrpulse.cosine(lr=lr, decay_steps=T - 1, min_lr=lr / 1000), T) == []


# ---- decay by the end ----------------------------------------------------------------------------

def test_decay_of_only_10x_warns_at_the_last_step():
    plan = lrpulse.cosine(lr=0.01, decay_steps=T - 1, min_lr=1e-3)
    (f,) = lint(plan, T)
    assert (f.code, f.severity, f.step) == ("weak_decay", "warning", T - 1)
    assert "10x" in f.message and "100x" in f.message


def test_decay_threshold_is_100x_from_the_peak():
    assert lint(lrpulse.cosine(lr=0.01, decay_steps=T - 1, min_lr=1e-4), T) == []
    assert codes(lint(lrpulse.cosine(lr=0.01, decay_steps=T - 1, min_lr=1.01e-4), T)) == ["weak_decay"]
    # Measured from the peak, not from step 0 of a warmup that starts at 0.
    warm = lrpulse.warmup(lrpulse.cosine(lr=0.01, decay_steps=T - 100, min_lr=5e-4), warmup_steps=100)
    assert codes(lint(warm, T)) == ["weak_decay"]
    assert lint(lrpulse.cosine(lr=0.01, decay_steps=T - 1, min_lr=1e-3), T, min_decay=10) == []


def test_constant_plan_never_decays():
    (f,) = lint(lrpulse.constant(lr=0.005), T)
    assert f.code == "weak_decay" and "no lower than its peak" in f.message


# ---- fine-tuning ---------------------------------------------------------------------------------

def test_finetuning_at_1e3_reports_the_first_step_above_1e4():
    plan = lrpulse.warmup(lrpulse.linear(lr=1e-3, steps=T - 100), warmup_steps=100)
    (f,) = lint(plan, T, finetune=True)
    lrs = plan.trajectory(T)
    first = int(np.argmax(lrs > 1e-4))
    assert lrs[first - 1] <= 1e-4 < lrs[first]
    assert (f.code, f.severity, f.step) == ("finetune_lr_high", "warning", first)
    assert "1e-4" in f.message
    assert lint(plan, T) == []  # the same plan from scratch peaks at 1e-3: in range


def test_finetuning_exactly_at_the_limit_is_fine():
    plan = lrpulse.cosine(lr=1e-4, decay_steps=T - 1, min_lr=1e-6)
    assert lint(plan, T, finetune=True) == []
    assert codes(lint(plan, T, finetune=True, finetune_max_lr=5e-5)) == ["finetune_lr_high"]


# ---- past the end of the plan --------------------------------------------------------------------

def test_torch_periodic_cosine_tail_rises_past_the_plan():
    torch = pytest.importorskip("torch")
    n = 1_000
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n, eta_min=1e-5)
    torch_lrs = []
    for _ in range(2 * n):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    plan = lrpulse.cosine(lr=0.01, decay_steps=n, min_lr=1e-5, periodic=True)
    assert_f64_close(plan.trajectory(2 * n), torch_lrs, what="CosineAnnealingLR")
    # Real torch climbs back toward the peak once T_max is passed.
    assert max(torch_lrs[n:]) > 100 * torch_lrs[n - 1]

    (f,) = lint(plan, n)
    assert (f.code, f.severity) == ("tail_rise", "warning")
    lrs = plan.trajectory(2 * n)
    assert f.step >= n and lrs[f.step] > lrs[n - 1] and np.all(lrs[n:f.step] <= lrs[n - 1])
    assert f.step - n <= 2  # it starts climbing right after the minimum
    assert "CosineAnnealingLR" in f.message and "periodic=False" in f.message
    assert lint(lrpulse.cosine(lr=0.01, decay_steps=n, min_lr=1e-5), n) == []  # held: quiet


def test_tail_rise_found_between_samples_of_a_long_tail():
    # Flat for 10^6 steps past the end, then a rise: far beyond the dense part of the tail scan.
    n = 1_000_000
    plan = lrpulse.sequence([lrpulse.cosine(lr=0.01, decay_steps=n - 1, min_lr=1e-5), lrpulse.constant(1e-5),
                             lrpulse.constant(0.01)], boundaries=[n, n + 654_321])
    (f,) = lint(plan, n)
    assert (f.code, f.step) == ("tail_rise", n + 654_321)


# ---- jumps ---------------------------------------------------------------------------------------

def test_multi_step_gamma_001_jumps_at_each_milestone():
    plan = lrpulse.multi_step(lr=0.01, milestones=[3_000, 6_000], gamma=0.01)
    findings = lint(plan, T)
    assert [(f.code, f.step) for f in findings] == [("lr_jump", 3_000), ("lr_jump", 6_000)]
    assert "drops 100x" in findings[0].message and "0.01 -> 0.0001" in findings[0].message
    assert lint(plan, T, jump_factor=200) == []


def test_jump_up_is_reported_with_its_direction():
    plan = lrpulse.sequence([lrpulse.constant(1e-5), lrpulse.cosine(lr=0.01, decay_steps=T - 501)],
                            boundaries=[500])
    (f,) = lint(plan, T)
    assert (f.code, f.step) == ("lr_jump", 500)
    assert "jumps up" in f.message and "warmup" in f.message


def test_jump_to_zero_and_idle_steps():
    plan = lrpulse.piecewise_constant([9_000], [0.01, 0.0])
    assert [(f.code, f.severity, f.step) for f in lint(plan, T)] == [
        ("lr_jump", "warning", 9_000), ("idle_steps", "info", 9_000)]


def test_smooth_ramps_through_zero_are_not_jumps():
    # Huge step-to-step ratios at 0, but steady changes: a warmup from 0, a short linear decay to 0.
    assert codes(lint(lrpulse.linear(lr=0.01, steps=100), 1_000)) == ["idle_steps"]
    assert lint(lrpulse.warmup(lrpulse.cosine(lr=0.01, decay_steps=999, min_lr=1e-5), warmup_steps=5), 1_005) == []


def test_many_jumps_are_capped():
    plan = lrpulse.step_decay(lr=0.01, step_size=10, gamma=0.01)
    findings = lint(plan, 1_000, max_jumps=5)
    jumps = only(findings, "lr_jump")
    assert [f.step for f in jumps] == [10, 20, 30, 40, 50]
    (more,) = only(findings, "more_jumps")
    assert more.severity == "info" and more.message.startswith("94 more")


@pytest.mark.parametrize("at", [_CHUNK - 2, _CHUNK - 1, _CHUNK, _CHUNK + 1])
def test_jumps_at_chunk_edges_are_found_once(at):
    down = lrpulse.multi_step(lr=0.01, milestones=[at], gamma=0.001)
    assert [(f.code, f.step) for f in lint(down, _CHUNK + 10)] == [("lr_jump", at)]
    up = lrpulse.sequence([lrpulse.constant(1e-6), lrpulse.cosine(lr=0.01, decay_steps=5, min_lr=1e-6)], [at])
    assert [(f.code, f.step) for f in lint(up, _CHUNK + 10)] == [("lr_jump", at)]


# ---- warmups -------------------------------------------------------------------------------------

def test_warmup_ending_below_its_start_with_piecewise_interpolate():
    # Knots in the wrong order: "warm up" from 5e-3 down to 1e-4, then climb to the real peak.
    plan = lrpulse.piecewise_interpolate([0, 500, 600, T], [5e-3, 1e-4, 1e-2, 1e-5])
    (f,) = lint(plan, T)
    assert (f.code, f.severity, f.step) == ("warmup_ends_below_start", "warning", 500)
    assert "0.005" in f.message and "0.0001" in f.message


def test_wsd_warmup_that_ramps_down():
    plan = lrpulse.wsd(lr=1e-3, min_lr=5e-3, warmup_steps=500, stable_steps=T - 1_000, decay_steps=500)
    assert ("warmup_ends_below_start", 500) in [(f.code, f.step) for f in lint(plan, T)]


def test_restarts_are_not_broken_warmups():
    sgdr = lrpulse.cosine_restarts(lr=0.01, period=2_000, min_lr=1e-5)
    findings = lint(sgdr, T)
    assert "warmup_ends_below_start" not in codes(findings)
    assert [f.step for f in only(findings, "lr_jump")] == [2_000, 4_000, 6_000, 8_000]
    assert "warm restart" in only(findings, "lr_jump")[0].message


# ---- invariants: overflow, all-zero plans ----------------------------------------------------------

def test_overflowing_plan_is_a_finding_not_a_crash():
    plan = lrpulse.exponential(lr=0.01, decay_rate=1.1)
    (f,) = lint(plan, T)
    assert (f.code, f.severity) == ("overflow", "warning")
    float(plan(f.step - 1))
    with pytest.raises(ParameterError):
        plan(f.step)


def test_all_zero_plan():
    (f,) = lint(lrpulse.constant(lr=0.0), T)
    assert (f.code, f.step) == ("zero_lr", 0)


def test_tiny_plans():
    assert codes(lint(lrpulse.constant(lr=0.005), 1)) == ["weak_decay"]
    assert codes(lint(lrpulse.multi_step(lr=0.005, milestones=[1], gamma=0.001), 2)) == ["lr_jump"]


# ---- the 10^8-step plan -----------------------------------------------------------------------------

def test_hundred_million_steps_in_bounded_memory(tmp_path):
    # In a fresh process so the peak is lint's own (VmHWM: ru_maxrss would include the parent's
    # footprint at fork). The trajectory alone would take 800 MB.
    code = """
import json, lrpulse
n = 10**8
cuts = lrpulse.multi_step(lr=0.01, milestones=[n // 3, 2 * n // 3 + 1], gamma=0.01)
findings = [(f.code, f.step) for f in lrpulse.lint(cuts, n)]
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"findings": findings, "peak_mb": hwm_kb / 1024}))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["findings"] == [["lr_jump", 10**8 // 3], ["lr_jump", 2 * 10**8 // 3 + 1]]
    assert out["peak_mb"] < 200, out


# ---- API -----------------------------------------------------------------------------------------

def test_finding_is_a_frozen_value_with_plain_data():
    f = lint(lrpulse.multi_step(lr=0.01, milestones=[500], gamma=0.01), 1_000)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.step = 3  # type: ignore[misc]
    d = f.to_dict()
    assert set(d) == {"code", "severity", "message", "step"}
    assert Finding(**json.loads(json.dumps(d))) == f


def test_findings_are_sorted_by_step():
    plan = lrpulse.sequence([lrpulse.constant(0.5), lrpulse.constant(0.02)], boundaries=[7_000])
    findings = lint(plan, T)
    assert codes(findings) == ["peak_lr_high", "lr_jump", "weak_decay"]
    assert [f.step for f in findings] == sorted(f.step for f in findings)


def test_served_from_the_package():
    plan = lrpulse.multi_step(lr=0.01, milestones=[500], gamma=0.01)
    assert lrpulse.lint(plan, 1_000) == lint(plan, 1_000) == lrpulse.lint(plan, total_steps=1_000)
    assert lrpulse.Finding is Finding


def test_package_attribute_is_the_function_when_served_lazily():
    code = "import lrpulse, types; print(isinstance(lrpulse.lint, types.FunctionType), lrpulse.lint.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "lint"]


@pytest.mark.parametrize("kwargs, error, name", [
    ({"total_steps": 0}, ParameterError, "total_steps"),
    ({"total_steps": -5}, ParameterError, "total_steps"),
    ({"total_steps": 1.5}, DTypeError, "total_steps"),
    ({"total_steps": "100"}, DTypeError, "total_steps"),
    ({"total_steps": True}, DTypeError, "total_steps"),
    ({"finetune": "yes"}, DTypeError, "finetune"),
    ({"jump_factor": 1.0}, ParameterError, "jump_factor"),
    ({"jump_factor": float("nan")}, ParameterError, "jump_factor"),
    ({"min_decay": 0.5}, ParameterError, "min_decay"),
    ({"max_jumps": -1}, ParameterError, "max_jumps"),
    ({"lr_range": (1e-2, 1e-3)}, ParameterError, "lr_range"),
    ({"lr_range": 0.01}, DTypeError, "lr_range"),
    ({"finetune_max_lr": 0}, ParameterError, "finetune_max_lr"),
])
def test_bad_arguments_name_the_parameter(kwargs, error, name):
    args = {"total_steps": 100, **kwargs}
    with pytest.raises(error, match=name):
        lint(lrpulse.constant(lr=0.01), **args)


def test_numpy_integer_total_steps_are_accepted():
    assert lint(SOUND_FROM_SCRATCH["one cycle"], np.int64(T)) == []


@pytest.mark.parametrize("bad", [{"kind": "constant", "lr": 0.1}, lambda t: 0.1, None])
def test_non_schedule_is_a_dtype_error(bad):
    with pytest.raises(DTypeError, match="schedule"):
        lint(bad, 100)
