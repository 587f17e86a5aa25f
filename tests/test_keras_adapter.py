"""lrpulse.keras.Schedule against real Keras 3: model.fit next to every built-in schedule, the
keras.ops closed forms, config/save/load, and compiled train steps on the jax and torch backends.

Keras fixes its backend at import (conftest.py picks jax for this process), so the per-backend checks
run this file as a script in a subprocess with KERAS_BACKEND set; see ``backend_report``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

# Keras 3.15 calls np.array() on its Variables, which numpy 2.4 flags (a Keras issue, not ours).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning"
)

from parity import assert_f32_close  # noqa: E402

import lrpulse  # noqa: E402
import lrpulse.keras as lk  # noqa: E402
from lrpulse.errors import DTypeError, ParameterError  # noqa: E402

schedules = keras.optimizers.schedules
RNG = np.random.default_rng(2024)
X = RNG.normal(size=(96, 4)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0], "float32") + 0.1 * RNG.normal(size=96).astype("float32"))[:, None]
STEPS = 24  # 2 epochs of 12 batches


class LRLog(keras.callbacks.Callback):
    """The LR the optimizer uses for each update, read before the update."""

    def __init__(self) -> None:
        super().__init__()
        self.lrs: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(float(self.model.optimizer.learning_rate))


def fit(learning_rate, *, jit_compile="auto", log: bool = True):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9), loss="mse",
                  jit_compile=jit_compile)
    callback = LRLog()
    model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[callback] if log else [])
    return model, callback.lrs


# Built-ins whose float32 values Keras computes exactly (powers of two, table lookups): LRs and weights
# must then agree bit for bit. The others agree to float32 rounding of Keras' own arithmetic.
BUILTINS = {
    "PiecewiseConstantDecay": (lambda: schedules.PiecewiseConstantDecay([5, 15], [0.05, 0.02, 0.005]), True),
    "ExponentialDecay-staircase": (lambda: schedules.ExponentialDecay(0.05, 6, 0.5, staircase=True), True),
    "PolynomialDecay-linear": (lambda: schedules.PolynomialDecay(0.0625, 16, end_learning_rate=0.0), True),
    "ExponentialDecay": (lambda: schedules.ExponentialDecay(0.05, 10, 0.7), False),
    "PolynomialDecay-cycle": (lambda: schedules.PolynomialDecay(0.05, 10, 0.001, power=2.0, cycle=True), False),
    "InverseTimeDecay": (lambda: schedules.InverseTimeDecay(0.05, 4, 0.5), False),
    "CosineDecay-warmup": (lambda: schedules.CosineDecay(0.01, 16, alpha=0.05, warmup_target=0.05,
                                                         warmup_steps=4), False),
    "CosineDecayRestarts": (lambda: schedules.CosineDecayRestarts(0.05, 6, t_mul=1.0, m_mul=0.8, alpha=0.1), False),
}


@pytest.mark.parametrize("name", list(BUILTINS))
def test_fit_with_converted_schedule_matches_the_builtin(name):
    make, exact = BUILTINS[name]
    builtin = make()
    ours = lk.Schedule(lrpulse.from_keras(builtin), total_steps=STEPS)
    model, lrs = fit(builtin)  # compiled train steps (jit on jax)
    our_model, our_lrs = fit(ours)
    assert len(lrs) == len(our_lrs) == STEPS
    assert_f32_close(our_lrs, lrs, ulps=4, what=name)
    # The LRs agree to float32 rounding of Keras' arithmetic, and the compiler may fuse the two graphs'
    # updates differently: an ulp of LR or rounding per step stays far below 1e-5 of the weights here.
    for w, v in zip(model.get_weights(), our_model.get_weights(), strict=True):
        np.testing.assert_allclose(v, w, rtol=1e-5, atol=1e-6)
    if exact:
        # Keras' float32 values are exact here, so the LRs match bit for bit, and so do the weights
        # when the steps run uncompiled (no fusion choices).
        assert our_lrs == lrs
        model, _ = fit(builtin, jit_compile=False, log=False)
        our_model, _ = fit(ours, jit_compile=False, log=False)
        for w, v in zip(model.get_weights(), our_model.get_weights(), strict=True):
            np.testing.assert_array_equal(v, w)


CLOSED_FORM_PLANS = [
    lrpulse.constant(lr=0.1),
    lrpulse.step_decay(lr=0.1, step_size=7, gamma=0.3),
    lrpulse.multi_step(lr=0.1, milestones=[3, 9, 40]),
    lrpulse.exponential(lr=0.1, decay_rate=0.5, decay_steps=10, staircase=True, begin=3, end_lr=0.01),
    lrpulse.exponential(lr=0.01, decay_rate=1.5, decay_steps=20, end_lr=0.05),
    lrpulse.inverse_time(lr=0.1, decay_rate=0.5, decay_steps=3),
    lrpulse.polynomial(lr=0.1, decay_steps=20, end_lr=0.001, power=2.0, cycle=True, begin=2),
    lrpulse.polynomial(lr=0.1, decay_steps=20, end_lr=0.001, power=0.5),
    lrpulse.linear(lr=0.1, steps=10, start_factor=0.1, end_factor=1.0, begin=2),
    lrpulse.cosine(lr=0.1, decay_steps=30, min_lr=0.001, exponent=2.0, periodic=True, begin=3),
    lrpulse.cosine(lr=0.1, decay_steps=30, min_lr=0.001),
    lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=30), warmup_steps=5, shape="cos"),
    lrpulse.warmup(lrpulse.exponential(lr=0.1, decay_rate=0.9), warmup_steps=5, start_lr=0.001, shape="exponential"),
    lrpulse.sequence([lrpulse.linear(lr=0.1, steps=7), lrpulse.cosine(lr=0.1, decay_steps=10)], boundaries=[7]),
    lrpulse.product([lrpulse.constant(lr=2.0), lrpulse.step_decay(lr=0.1, step_size=5)]),
]


@pytest.mark.parametrize("plan", CLOSED_FORM_PLANS, ids=lambda p: p.kind)
def test_unbounded_closed_form_matches_rust_in_float32(plan):
    sched = lk.Schedule(plan)  # total_steps=None: keras.ops closed form, no table
    steps = np.arange(200)
    got = np.array([float(sched(keras.ops.convert_to_tensor(int(t)))) for t in steps])
    assert_f32_close(got, plan(steps), what=repr(plan))
    # Far past any table: the closed form keeps following the schedule.
    assert_f32_close([float(sched(10**6))], [plan(10**6)], peak=float(np.max(plan(steps))))


def test_table_gathers_lrpulse_values_and_clamps_past_the_end():
    plan = lrpulse.one_cycle(max_lr=0.1, total_steps=50)
    sched = lk.Schedule(plan, total_steps=50)
    got = np.array([float(sched(keras.ops.convert_to_tensor(t))) for t in range(60)])
    np.testing.assert_array_equal(got[:51], plan.trajectory(51).astype("float32"))
    assert (got[51:] == np.float32(plan(50))).all()
    assert float(sched(10**12)) == np.float32(plan(50)) and float(sched(-3)) == np.float32(plan(0))


def test_families_without_closed_form_need_total_steps():
    with pytest.raises(ParameterError, match="total_steps=None needs a closed form, which 'one_cycle'"):
        lk.Schedule(lrpulse.one_cycle(max_lr=0.1, total_steps=50))
    with pytest.raises(ParameterError, match="'warmup' \\(or a part of it: cyclic\\)"):
        lk.Schedule(lrpulse.warmup(lrpulse.cyclic(base_lr=0.01, max_lr=0.1), warmup_steps=3))
    with pytest.raises(DTypeError, match=r"total_steps must be an integer or None, got total_steps=10\.5"):
        lk.Schedule(lrpulse.constant(lr=0.1), total_steps=10.5)
    with pytest.raises(ParameterError, match=r"total_steps must be in 0\.\.2147483646, got total_steps=-1"):
        lk.Schedule(lrpulse.constant(lr=0.1), total_steps=-1)
    with pytest.raises(DTypeError, match="schedule must be an lrpulse Schedule"):
        lk.Schedule(schedules.ExponentialDecay(0.1, 10, 0.5), total_steps=10)


def test_config_is_plain_data_and_round_trips():
    plan = lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=90), warmup_steps=10)
    sched = lk.Schedule(plan, total_steps=100)
    config = sched.get_config()
    assert json.loads(json.dumps(config)) == config
    again = lk.Schedule.from_config(config)
    assert again.schedule == plan and again.total_steps == 100
    serialized = keras.saving.serialize_keras_object(sched)
    assert serialized["registered_name"] == "lrpulse>Schedule"
    revived = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(revived, lk.Schedule) and revived.get_config() == config


def save_model(path: str) -> None:
    plan = lrpulse.warmup(lrpulse.cosine(lr=0.05, decay_steps=20, min_lr=1e-3), warmup_steps=4)
    model, _ = fit(lk.Schedule(plan, total_steps=STEPS), log=False)
    model.save(path)


def test_model_save_and_load_restores_the_schedule_without_custom_objects(tmp_path):
    path = str(tmp_path / "model.keras")
    save_model(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    sched = loaded.optimizer._learning_rate
    assert isinstance(sched, lk.Schedule) and sched.total_steps == STEPS
    assert int(loaded.optimizer.iterations) == STEPS
    assert float(loaded.optimizer.learning_rate) == np.float32(sched.schedule(STEPS))


# ---- per backend, in a subprocess ---------------------------------------------------------------


def backend_scenarios(saved_model: str) -> dict:
    """Run under the backend in KERAS_BACKEND; returns measurements for the parent to check."""
    builtin = schedules.CosineDecay(0.01, 16, alpha=0.05, warmup_target=0.05, warmup_steps=4)
    ours = lk.Schedule(lrpulse.from_keras(builtin), total_steps=STEPS)
    # Compiling is cheap on jax (where eager steps are slow) and slow on torch (eager is cheap there):
    # compare with the built-in in the cheap mode, and check ours compiled against ours in that mode.
    cheap = keras.backend.backend() != "torch"
    eager_builtin, _ = fit(builtin, jit_compile=cheap, log=False)
    eager_ours, _ = fit(ours, jit_compile=cheap, log=False)
    compiled_ours = eager_ours if cheap else fit(ours, jit_compile=True, log=False)[0]
    loaded = keras.models.load_model(saved_model)  # written by the parent under jax
    steps = range(STEPS + 3)
    return {
        "backend": keras.backend.backend(),
        "lr_ours": [float(ours(keras.ops.convert_to_tensor(t))) for t in steps],
        "lr_builtin": [float(builtin(keras.ops.convert_to_tensor(t))) for t in steps],
        "weights_builtin": [w.tolist() for w in eager_builtin.get_weights()],
        "weights_eager": [w.tolist() for w in eager_ours.get_weights()],
        "weights_compiled": [w.tolist() for w in compiled_ours.get_weights()],
        "iterations": int(compiled_ours.optimizer.iterations),
        "loaded_schedule": type(loaded.optimizer._learning_rate).__module__ + "."
        + type(loaded.optimizer._learning_rate).__name__,
        "loaded_lr": float(loaded.optimizer.learning_rate),
        "loaded_expected": float(np.float32(loaded.optimizer._learning_rate.schedule(STEPS))),
    }


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("keras") / "model.keras")
    save_model(path)
    return path


_reports: dict[str, dict] = {}


def backend_report(backend: str, saved_model: str) -> dict:
    if backend not in _reports:
        env = {**os.environ, "KERAS_BACKEND": backend}
        done = subprocess.run([sys.executable, __file__, saved_model], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-4000:]
        _reports[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    return _reports[backend]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_compiled_fit_and_loading(backend, saved_model):
    pytest.importorskip(backend)
    r = backend_report(backend, saved_model)
    assert r["backend"] == backend
    assert_f32_close(r["lr_ours"], r["lr_builtin"], ulps=4, what=f"{backend}: LR per step")
    for b, e, c in zip(r["weights_builtin"], r["weights_eager"], r["weights_compiled"], strict=True):
        np.testing.assert_allclose(e, b, rtol=1e-4, atol=1e-5)  # ours vs the built-in, same backend
        np.testing.assert_allclose(c, e, rtol=1e-5, atol=1e-6)  # compiled steps read the same LRs
    assert r["iterations"] == STEPS
    assert r["loaded_schedule"] == "lrpulse.keras.Schedule"
    assert r["loaded_lr"] == r["loaded_expected"]


if __name__ == "__main__":
    # Subprocess entry: the registration in lrpulse.keras is all load_model needs (no custom_objects).
    print(json.dumps(backend_scenarios(sys.argv[1])))
