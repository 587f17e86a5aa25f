"""How closely lrpulse.compat reproduces optax and Hugging Face schedules: max errors per function.

For typical configurations (written as users write them, e.g. ``decay_rate=0.9``) every step from 0
to past the end is evaluated by the real library and by lrpulse, and two numbers are printed:

- ``max rel``: the largest ``|ours - ref| / |ref|`` (large where ``ref`` is near 0, e.g. the first
  warmup steps in float32 or the last steps of a cosine);
- ``max abs / peak``: the largest ``|ours - ref|`` over the schedule's peak LR.

optax runs in float32 under jax (its default), so its errors are float32 rounding (eps32 = 1.2e-7),
parameter rounding included; HF runs in float64. Run: ``python benches/parity_compat.py``.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch
from parity import max_rel_error
from transformers import optimization as hf_opt

from lrpulse.compat import optax as ox
from lrpulse.compat import transformers as hf

OPTAX_CASES = {
    "constant_schedule": [dict(value=3e-4)],
    "polynomial_schedule": [dict(init_value=1e-3, end_value=1e-5, power=2.0, transition_steps=10_000,
                                 transition_begin=500), dict(init_value=0.1, end_value=0.0, power=0.5,
                                                             transition_steps=777)],
    "linear_schedule": [dict(init_value=0.0, end_value=1e-3, transition_steps=2000)],
    "piecewise_constant_schedule": [dict(init_value=0.1, boundaries_and_scales={3000: 0.1, 6000: 0.1, 9000: 0.5})],
    "exponential_decay": [dict(init_value=1e-3, transition_steps=1000, decay_rate=0.9),
                          dict(init_value=1e-3, transition_steps=250, decay_rate=0.5, transition_begin=1000,
                               staircase=True, end_value=1e-6)],
    "cosine_decay_schedule": [dict(init_value=1e-3, decay_steps=100_000, alpha=0.01),
                              dict(init_value=0.1, decay_steps=5000, exponent=2.0)],
    "warmup_cosine_decay_schedule": [dict(init_value=0.0, peak_value=3e-4, warmup_steps=2000,
                                          decay_steps=200_000, end_value=3e-6)],
    "warmup_exponential_decay_schedule": [dict(init_value=1e-5, peak_value=1e-3, warmup_steps=500,
                                               transition_steps=1000, decay_rate=0.8, end_value=1e-5)],
    "warmup_constant_schedule": [dict(init_value=0.0, peak_value=5e-4, warmup_steps=4000)],
    "sgdr_schedule": [dict(cosine_kwargs=[dict(init_value=1e-4, peak_value=1e-3, warmup_steps=100,
                                               decay_steps=1000 * 2**i) for i in range(4)])],
    "cosine_onecycle_schedule": [dict(transition_steps=20_000, peak_value=0.1)],
    "linear_onecycle_schedule": [dict(transition_steps=20_000, peak_value=0.1)],
    "piecewise_interpolate_schedule": [dict(interpolate_type="cosine", init_value=0.1,
                                            boundaries_and_scales={1000: 0.5, 5000: 0.1})],
}

HF_CASES = {
    "get_constant_schedule": [dict()],
    "get_constant_schedule_with_warmup": [dict(num_warmup_steps=500)],
    "get_linear_schedule_with_warmup": [dict(num_warmup_steps=500, num_training_steps=100_000)],
    "get_cosine_schedule_with_warmup": [dict(num_warmup_steps=500, num_training_steps=100_000),
                                        dict(num_warmup_steps=0, num_training_steps=30_000, num_cycles=2.5)],
    "get_cosine_with_hard_restarts_schedule_with_warmup": [dict(num_warmup_steps=500, num_training_steps=100_000,
                                                                num_cycles=4),
                                                           dict(num_warmup_steps=0, num_training_steps=4900,
                                                                num_cycles=49)],
    "get_polynomial_decay_schedule_with_warmup": [dict(num_warmup_steps=500, num_training_steps=100_000,
                                                       lr_end=1e-6, power=2.0)],
    "get_inverse_sqrt_schedule": [dict(num_warmup_steps=4000)],
    "get_cosine_with_min_lr_schedule_with_warmup": [dict(num_warmup_steps=500, num_training_steps=100_000,
                                                         min_lr=1e-5)],
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": [dict(num_warmup_steps=500, num_training_steps=100_000,
                                                                 min_lr_rate=0.1, warmup_lr_rate=0.01),
                                                            dict(num_warmup_steps=0, num_training_steps=100_000,
                                                                 min_lr_rate=0.1)],
    "get_wsd_schedule": [dict(num_warmup_steps=500, num_decay_steps=10_000, num_training_steps=100_000,
                              decay_type=t, warmup_type=w) for t, w in [("cosine", "linear"),
                                                                        ("1-sqrt", "cosine"), ("linear", "1-sqrt")]]
                        + [dict(num_warmup_steps=500, num_decay_steps=10_000, num_stable_steps=50_000,
                                num_cycles=1.5, min_lr_ratio=0.1)],
}


def horizon(kwargs: dict) -> int:
    keys = ("num_training_steps", "decay_steps", "transition_steps", "num_warmup_steps", "warmup_steps")
    found = [v for k, v in kwargs.items() if k in keys and isinstance(v, (int, float))]
    scales = kwargs.get("boundaries_and_scales") or {}
    cycles = kwargs.get("cosine_kwargs") or []
    return int(max(found + list(scales) + [sum(c["decay_steps"] for c in cycles), 10_000]))


def errors(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    peak = float(np.max(np.abs(ref)))
    return max_rel_error(ours, ref), float(np.max(np.abs(ours - ref))) / peak


def optax_rows():
    for name, cases in OPTAX_CASES.items():
        for kwargs in cases:
            steps = np.arange(0, 2 * horizon(kwargs) + 1)
            ref = np.asarray(jax.vmap(getattr(optax, name)(**kwargs))(jnp.asarray(steps, dtype=jnp.int32)))
            yield f"optax.{name}", errors(getattr(ox, name)(**kwargs)(steps), ref.astype(np.float64))


def hf_rows():
    for name, cases in HF_CASES.items():
        for kwargs in cases:
            steps = np.arange(0, 2 * horizon(kwargs) + 1)
            opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
            scheduler = getattr(hf_opt, name)(opt, **kwargs)
            lam, base = scheduler.lr_lambdas[0], scheduler.base_lrs[0]
            ref = np.array([base * lam(int(t)) for t in steps])
            yield f"transformers.{name}", errors(getattr(hf, name)(1e-3, **kwargs)(steps), ref)


def main() -> None:
    print(f"{'function (worst case over its configurations)':<64} {'max rel':>10} {'max abs / peak':>15}")
    worst: dict[str, tuple[float, float]] = {}
    for name, (rel, absolute) in [*optax_rows(), *hf_rows()]:
        prev = worst.get(name, (0.0, 0.0))
        worst[name] = (max(prev[0], rel), max(prev[1], absolute))
    for name, (rel, absolute) in worst.items():
        print(f"{name:<64} {rel:>10.2e} {absolute:>15.2e}")


if __name__ == "__main__":
    main()
