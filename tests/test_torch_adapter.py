"""lrpulse.torch.LRScheduler against real torch: the scheduler protocol, per-group plans, momentum and
weight-decay scheduling, tensor LRs under torch.compile, SequentialLR / ChainedScheduler, checkpoint
resume, and Hugging Face's Trainer."""

from __future__ import annotations

import io
import json
import math
import random

import pytest

torch = pytest.importorskip("torch")

from parity import assert_f64_close  # noqa: E402
from torch.optim import lr_scheduler as native  # noqa: E402

import lrpulse  # noqa: E402
import lrpulse.torch as lt  # noqa: E402
from lrpulse.errors import DTypeError, ParameterError  # noqa: E402

torch.set_num_threads(1)
GEN = torch.Generator().manual_seed(1234)
X = torch.randn(64, 4, generator=GEN)
Y = (X @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1 * torch.randn(64, generator=GEN)).unsqueeze(-1)


def make_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def two_groups(model: torch.nn.Module) -> list[dict]:
    return [{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters(), "lr": 0.02}]


def train(model, opt, sched, start: int, stop: int, lrs: list | None = None, extra: list | None = None) -> None:
    """Update ``start .. stop-1``; the batch depends on the step only, so a resumed run sees the same data."""
    for t in range(start, stop):
        if lrs is not None:
            lrs.append([float(g["lr"]) for g in opt.param_groups])
        if extra is not None:
            extra.append([(g.get("momentum"), g.get("betas"), g.get("weight_decay")) for g in opt.param_groups])
        i = (t * 8) % 64
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(X[i : i + 8]), Y[i : i + 8]).backward()
        opt.step()
        sched.step()


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), f"{name} differs by {float((p - q).abs().max().detach())}"


def test_is_a_native_scheduler_with_the_native_protocol():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lt.LRScheduler(opt, lrpulse.step_decay(lr=0.1, step_size=3, gamma=0.5))
    ref_opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
    ref = native.StepLR(ref_opt, step_size=3, gamma=0.5)
    assert isinstance(sched, native.LRScheduler)
    assert sched.base_lrs == ref.base_lrs and sched.last_epoch == ref.last_epoch == 0
    for _ in range(10):
        assert sched.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-15)
        assert opt.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-15)
        opt.step(), sched.step(), ref_opt.step(), ref.step()
    assert sched.last_epoch == ref.last_epoch == 10 and sched._step_count == ref._step_count


def test_warns_like_torch_when_stepped_before_the_optimizer():
    opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
    sched = lt.LRScheduler(opt, lrpulse.constant(lr=0.1))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_one_schedule_per_group_and_scaled_by_initial_lr_match_lambda_lr():
    factor = lrpulse.warmup(lrpulse.cosine(lr=1.0, decay_steps=20, min_lr=0.01), warmup_steps=5)
    model, ref_model = make_model(), make_model()
    opt = torch.optim.SGD(two_groups(model), lr=0.5)
    sched = lt.LRScheduler(opt, factor, scale_by_initial_lr=True)
    ref_opt = torch.optim.SGD(two_groups(ref_model), lr=0.5)
    ref = native.LambdaLR(ref_opt, lambda t: factor(t))
    lrs, ref_lrs = [], []
    train(model, opt, sched, 0, 30, lrs)
    train(ref_model, ref_opt, ref, 0, 30, ref_lrs)
    assert lrs == ref_lrs  # LambdaLR is a closed form too: bit-identical
    assert_same_weights(model, ref_model)

    per_group = [lrpulse.constant(lr=0.3), lrpulse.exponential(lr=0.2, decay_rate=0.9)]
    opt = torch.optim.SGD(two_groups(make_model()), lr=0.5)
    sched = lt.LRScheduler(opt, per_group)
    for t in range(1, 5):
        opt.step(), sched.step()
        assert sched.get_last_lr() == [0.3, per_group[1](t)]


def test_bad_arguments_raise_lrpulse_errors_naming_them():
    opt = torch.optim.SGD(two_groups(make_model()), lr=0.5)
    with pytest.raises(ParameterError, match="one entry per param group: the optimizer has 2, got 3"):
        lt.LRScheduler(opt, [lrpulse.constant(lr=0.1)] * 3)
    with pytest.raises(DTypeError, match="schedule\\[1\\] must be an lrpulse Schedule"):
        lt.LRScheduler(opt, [lrpulse.constant(lr=0.1), 0.1])
    with pytest.raises(DTypeError, match=r"optimizer must be a torch\.optim\.Optimizer"):
        lt.LRScheduler("sgd", lrpulse.constant(lr=0.1))
    with pytest.raises(ParameterError, match="momentum: Adagrad param_groups\\[0\\] has neither"):
        lt.LRScheduler(torch.optim.Adagrad(make_model().parameters()), lrpulse.constant(lr=0.1),
                       momentum=lrpulse.constant(lr=0.9))
    sched = lt.LRScheduler(opt, lrpulse.constant(lr=0.1))
    with pytest.raises(ParameterError, match=r"not an lrpulse\.torch\.LRScheduler state_dict"):
        sched.load_state_dict(native.StepLR(opt, 3).state_dict())
    with pytest.raises(ParameterError, match="switch_at must be an integer >= 0, got switch_at=-1"):
        sched.replan(lrpulse.constant(lr=0.1), switch_at=-1)


def test_schedule_specs_are_accepted_in_place_of_schedules():
    spec = {"kind": "step_decay", "lr": 0.1, "step_size": 2, "gamma": 0.5}
    opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
    sched = lt.LRScheduler(opt, spec)
    opt.step(), sched.step(), opt.step(), sched.step()
    assert sched.get_last_lr() == [0.05]


def plain(x) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, str) and plain(v) for k, v in x.items())
    if isinstance(x, list):
        return all(plain(v) for v in x)
    return x is None or isinstance(x, (bool, int, float, str))


def test_state_dict_is_plain_data_that_loads_with_weights_only():
    model = make_model()
    opt = torch.optim.AdamW(two_groups(model), lr=0.5, weight_decay=0.01)
    sched = lt.LRScheduler(opt, [lrpulse.cosine(lr=0.1, decay_steps=10), lrpulse.constant(lr=0.02)],
                           momentum=lrpulse.constant(lr=0.9), weight_decay=[lrpulse.linear(lr=0.01, steps=5), None])
    train(model, opt, sched, 0, 3)
    state = sched.state_dict()
    assert plain(state), state
    json.dumps(state)  # config-file friendly too
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=True) == state
    assert state["schedule"][0] == lrpulse.cosine(lr=0.1, decay_steps=10).to_dict()


@pytest.mark.parametrize("order", ["optimizer_first", "scheduler_first", "scheduler_only"])
def test_checkpoint_resume_equals_an_uninterrupted_run(tmp_path, order):
    total = 40
    stop = random.Random(f"resume-{order}").randrange(1, total)
    plan = lrpulse.warmup(lrpulse.cosine(lr=0.05, decay_steps=30, min_lr=1e-4), warmup_steps=8)
    momentum = lrpulse.piecewise_interpolate([0, 8, 40], [0.95, 0.85, 0.95], shape="cos")
    wd = lrpulse.linear(lr=1e-2, steps=total, end_factor=0.1)

    def build(seed: int, lr: float):
        model = make_model(seed)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-2)
        return model, opt, lt.LRScheduler(opt, plan, momentum=momentum, weight_decay=wd)

    model, opt, sched = build(0, 0.05)
    lrs, extras = [], []
    train(model, opt, sched, 0, total, lrs, extras)

    model_a, opt_a, sched_a = build(0, 0.05)
    lrs_a, extras_a = [], []
    train(model_a, opt_a, sched_a, 0, stop, lrs_a, extras_a)
    for name, obj in (("model", model_a), ("opt", opt_a), ("sched", sched_a)):
        torch.save(obj.state_dict(), tmp_path / f"{name}.pt")
    del model_a, opt_a, sched_a

    # A fresh process-like state: other init, other LR, other plan, loaded back in the given order.
    model_b, opt_b, _ = build(7, 0.3)
    sched_b = lt.LRScheduler(opt_b, lrpulse.constant(lr=0.3), momentum=lrpulse.constant(lr=0.5),
                             weight_decay=lrpulse.constant(lr=0.0))
    load = {name: torch.load(tmp_path / f"{name}.pt", weights_only=True) for name in ("model", "opt", "sched")}
    model_b.load_state_dict(load["model"])
    if order == "optimizer_first":
        opt_b.load_state_dict(load["opt"])
        sched_b.load_state_dict(load["sched"])
    elif order == "scheduler_first":
        sched_b.load_state_dict(load["sched"])
        opt_b.load_state_dict(load["opt"])
    else:
        # The optimizer's state comes back but its hyperparameters are left at the fresh run's values:
        # the scheduler alone must restore the right LR, momentum and weight decay.
        saved = load["opt"]
        for g, fresh in zip(saved["param_groups"], opt_b.state_dict()["param_groups"], strict=True):
            g.update({k: fresh[k] for k in ("lr", "momentum", "weight_decay", "initial_lr")})
        opt_b.load_state_dict(saved)
        sched_b.load_state_dict(load["sched"])
    train(model_b, opt_b, sched_b, stop, total, lrs_a, extras_a)
    assert lrs_a == lrs and extras_a == extras
    assert_same_weights(model_b, model)
    assert sched_b.last_epoch == sched.last_epoch and sched_b.get_last_lr() == sched.get_last_lr()


def test_momentum_schedule_matches_one_cycle_lr_cycle_momentum():
    """OneCycleLR is torch's only scheduler of momentum: lrpulse reproduces its momentum (SGD) and its
    Adam beta1 from a cosine-interpolated schedule, with the LR left constant."""
    n, peak = 20, 0.3 * 20 - 1  # torch's phase boundary is pct_start * total - 1
    momentum = lrpulse.piecewise_interpolate([0, peak, n - 1], [0.95, 0.85, 0.95], shape="cos")
    for make in (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.Adam(p, lr=0.1)):
        opt, ref_opt = make(make_model().parameters()), make(make_model().parameters())
        sched = lt.LRScheduler(opt, lrpulse.constant(lr=0.1), momentum=momentum)
        ref = native.OneCycleLR(ref_opt, max_lr=0.1, total_steps=n, base_momentum=0.85, max_momentum=0.95)
        key = "betas" if "betas" in opt.param_groups[0] else "momentum"
        for _ in range(n - 1):
            ours, theirs = opt.param_groups[0][key], ref_opt.param_groups[0][key]
            if key == "betas":
                assert ours[1] == theirs[1]
                ours, theirs = ours[0], theirs[0]
            assert ours == pytest.approx(theirs, rel=1e-14, abs=1e-15)
            opt.step(), sched.step(), ref_opt.step(), ref.step()


def test_weight_decay_schedule_trains_like_setting_it_by_hand():
    wd = lrpulse.cosine(lr=0.05, decay_steps=12)
    model, ref_model = make_model(), make_model()
    opt = torch.optim.AdamW(two_groups(model), weight_decay=0.0)
    sched = lt.LRScheduler(opt, [lrpulse.constant(lr=0.1), lrpulse.constant(lr=0.02)], weight_decay=[wd, None])
    ref_opt = torch.optim.AdamW(two_groups(ref_model), weight_decay=0.0)
    for t in range(15):
        ref_opt.param_groups[0]["weight_decay"] = wd(t)
        assert opt.param_groups[0]["weight_decay"] == wd(t) and opt.param_groups[1]["weight_decay"] == 0.0
        for m, o in ((model, opt), (ref_model, ref_opt)):
            o.zero_grad()
            torch.nn.functional.mse_loss(m(X[:8]), Y[:8]).backward()
            o.step()
        sched.step()
    assert_same_weights(model, ref_model)


def test_tensor_lr_is_filled_in_place_and_compiled_step_does_not_recompile():
    import torch._dynamo

    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01), capturable=True, foreach=False)
    lr_tensor = opt.param_groups[0]["lr"]
    plan = lrpulse.cosine(lr=0.01, decay_steps=10)
    sched = lt.LRScheduler(opt, plan)

    @torch.compile(backend="eager")
    def update():
        opt.step()

    with torch._dynamo.config.patch(error_on_recompile=True):
        for t in range(1, 7):
            opt.zero_grad()
            model(X[:8]).sum().backward()
            update()
            sched.step()
            assert opt.param_groups[0]["lr"] is lr_tensor
            assert float(lr_tensor) == pytest.approx(plan(t), rel=1e-6)  # float32 tensor
            last = sched.get_last_lr()[0]
            assert isinstance(last, torch.Tensor) and last is not lr_tensor  # a copy, as torch's


def test_inside_sequential_lr_matches_the_native_pieces():
    def run(second):
        opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
        warm = native.LinearLR(opt, start_factor=0.1, total_iters=5)
        seq = native.SequentialLR(opt, [warm, second(opt)], milestones=[5])
        out = []
        for _ in range(25):
            out.append(opt.param_groups[0]["lr"])
            opt.step(), seq.step()
        return out

    ours = run(lambda o: lt.LRScheduler(o, lrpulse.step_decay(lr=0.1, step_size=4, gamma=0.5)))
    theirs = run(lambda o: native.StepLR(o, step_size=4, gamma=0.5))
    assert_f64_close(ours, theirs, what="SequentialLR(LinearLR, ours) vs (LinearLR, StepLR)")


def test_inside_chained_scheduler_with_chainable_multiplies_in():
    def run(first):
        opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
        chain = native.ChainedScheduler([first(opt), native.ExponentialLR(opt, gamma=0.95)], optimizer=opt)
        out = []
        for _ in range(25):
            out.append(opt.param_groups[0]["lr"])
            opt.step(), chain.step()
        return out

    factor = lrpulse.step_decay(lr=1.0, step_size=4, gamma=0.5)
    ours = run(lambda o: lt.LRScheduler(o, factor, scale_by_initial_lr=True, chainable=True))
    absolute = run(lambda o: lt.LRScheduler(o, lrpulse.step_decay(lr=0.1, step_size=4, gamma=0.5), chainable=True))
    theirs = run(lambda o: native.StepLR(o, step_size=4, gamma=0.5))
    assert_f64_close(ours, theirs, what="ChainedScheduler(ours, ExponentialLR) vs (StepLR, ExponentialLR)")
    assert_f64_close(absolute, theirs, what="absolute schedule, chainable")


def test_chainable_refuses_a_zero_factor():
    opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
    sched = lt.LRScheduler(opt, lrpulse.linear(lr=0.1, steps=2, start_factor=1.0, end_factor=0.0), chainable=True)
    opt.step(), sched.step(), opt.step(), sched.step()
    with pytest.raises(ParameterError, match="chainable=True needs a nonzero schedule factor"):
        sched.step()


def test_replan_switches_plans_at_documented_steps_and_is_checkpointed():
    opt = torch.optim.SGD(make_model().parameters(), lr=0.1)
    old = lrpulse.cosine(lr=0.1, decay_steps=100)
    sched = lt.LRScheduler(opt, old)
    for _ in range(10):
        opt.step(), sched.step()
    longer = lrpulse.cosine(lr=0.1, decay_steps=200)
    sched.replan(longer)  # replaces the plan at every step, the current one included
    assert sched.get_last_lr() == [longer(10)] and opt.param_groups[0]["lr"] == longer(10)
    tail = lrpulse.linear(lr=longer(10), steps=20)
    sched.replan(tail, switch_at=10)  # "continue from here with this plan"
    assert sched.get_last_lr() == [tail(0)]
    for t in range(11, 16):
        opt.step(), sched.step()
        assert sched.get_last_lr() == [tail(t - 10)]
    restored = lt.LRScheduler(torch.optim.SGD(make_model().parameters(), lr=0.1), old)
    restored.load_state_dict(torch.load(io.BytesIO(_saved(sched.state_dict())), weights_only=True))
    assert [s(np) for s in restored.schedules for np in (3, 12, 40)] == [longer(3), tail(2), tail(30)]


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_hugging_face_trainer_drives_it_and_resumes_exactly(tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = make_model()

        def forward(self, x, y):
            return {"loss": torch.nn.functional.mse_loss(self.net(x), y)}

    data = [{"x": X[i], "y": Y[i]} for i in range(32)]
    plan = lrpulse.warmup(lrpulse.cosine(lr=0.05, decay_steps=6, min_lr=0.005), warmup_steps=2)

    def trainer(out: str):
        model = Tiny()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        args = transformers.TrainingArguments(
            output_dir=str(tmp_path / out), max_steps=8, per_device_train_batch_size=4, logging_steps=1,
            save_steps=3, report_to=[], use_cpu=True, disable_tqdm=True, seed=0)
        return model, transformers.Trainer(model=model, args=args, train_dataset=data,
                                           optimizers=(opt, lt.LRScheduler(opt, plan)))

    model, full = trainer("full")
    full.train()
    logged = [h["learning_rate"] for h in full.state.log_history if "learning_rate" in h]
    assert logged == pytest.approx(plan.trajectory(8).tolist(), rel=1e-15, abs=0)

    resumed_model, resumed = trainer("resumed")
    resumed.train(resume_from_checkpoint=str(tmp_path / "full" / "checkpoint-3"))
    relogged = [h["learning_rate"] for h in resumed.state.log_history if "learning_rate" in h]
    assert relogged[-5:] == logged[-5:]
    assert_same_weights(resumed_model, model)
    assert math.isclose(resumed.lr_scheduler.get_last_lr()[0], plan(8), rel_tol=1e-15)


# ---- every torch built-in scheduler, natively and through lrpulse.from_torch -------------------

N_STEPS = 40
NATIVES = {
    "StepLR": lambda o: native.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda o: native.MultiStepLR(o, milestones=[5, 12, 30], gamma=0.3),
    "ConstantLR": lambda o: native.ConstantLR(o, factor=0.25, total_iters=9),
    "LinearLR": lambda o: native.LinearLR(o, start_factor=0.05, end_factor=0.8, total_iters=15),
    "ExponentialLR": lambda o: native.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda o: native.PolynomialLR(o, total_iters=25, power=1.7),
    "CosineAnnealingLR": lambda o: native.CosineAnnealingLR(o, T_max=15, eta_min=1e-3),  # past T_max too
    "CyclicLR": lambda o: native.CyclicLR(o, base_lr=0.005, max_lr=0.05, step_size_up=6, step_size_down=4,
                                          mode="triangular2", cycle_momentum=False),
    "CyclicLR-exp_range": lambda o: native.CyclicLR(o, base_lr=0.005, max_lr=0.05, step_size_up=5, mode="exp_range",
                                                    gamma=0.97, cycle_momentum=False),
    "OneCycleLR": lambda o: native.OneCycleLR(o, max_lr=0.08, total_steps=N_STEPS + 1, cycle_momentum=False),
    "OneCycleLR-linear-3phase": lambda o: native.OneCycleLR(o, max_lr=0.08, total_steps=N_STEPS + 1,
                                                            anneal_strategy="linear", three_phase=True,
                                                            cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda o: native.CosineAnnealingWarmRestarts(o, T_0=6, T_mult=2, eta_min=1e-3),
    "SequentialLR": lambda o: native.SequentialLR(
        o, [native.LinearLR(o, start_factor=0.1, total_iters=5), native.CosineAnnealingLR(o, T_max=30)],
        milestones=[5]),
    "ChainedScheduler": lambda o: native.ChainedScheduler(
        [native.ConstantLR(o, factor=0.5, total_iters=6), native.ExponentialLR(o, gamma=0.95)], optimizer=o),
}


@pytest.mark.parametrize("groups", [1, 2], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name", list(NATIVES))
def test_native_and_from_torch_train_identically(name, groups):
    def optimizer(model):
        params = model.parameters() if groups == 1 else two_groups(model)
        return torch.optim.SGD(params, lr=0.05, momentum=0.9)

    model, ref_model = make_model(), make_model()
    ref_opt = optimizer(ref_model)
    ref = NATIVES[name](ref_opt)
    plan = lrpulse.from_torch(ref)  # converted before stepping: the plan from step 0
    opt = optimizer(model)
    sched = lt.LRScheduler(opt, plan)
    lrs, ref_lrs = [], []
    train(ref_model, ref_opt, ref, 0, N_STEPS, ref_lrs)
    train(model, opt, sched, 0, N_STEPS, lrs)
    # torch steps most of these by their chainable (ratio) form, which rounds differently from the
    # closed form: values agree to the parity tolerance (1e-12 relative), and the float32 weights
    # come out identical.
    assert_f64_close(lrs, ref_lrs, what=name)
    assert_same_weights(model, ref_model)
    assert sched.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
