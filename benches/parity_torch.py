"""How close ``lrpulse.from_torch`` is to torch, per scheduler, over long horizons.

For each torch scheduler and a few representative configurations, prints a markdown table:

- **closed form**: lrpulse against torch's ``_get_closed_form_lr()`` (``last_epoch`` set to every step),
  where torch has one; ``same`` is the share of steps that agree to the bit.
- **stepped**: lrpulse against torch's ``get_last_lr()`` after every ``scheduler.step()``: the LRs
  training actually uses, which for chainable schedulers drift from torch's own closed form.

Errors: max relative error ``|ours - torch| / |torch|`` over the steps where torch is not 0, and max
absolute error as a fraction of the peak LR. Run: ``python benches/parity_torch.py [--quick]``.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import torch

import lrpulse

L = torch.optim.lr_scheduler
QUICK = "--quick" in sys.argv


def optimizer(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def stepped(sched, n: int) -> np.ndarray:
    out = np.empty(n)
    out[0] = sched.get_last_lr()[0]
    sched.optimizer.step()
    for t in range(1, n):
        sched.step()
        out[t] = sched.get_last_lr()[0]
    return out


def closed_form(sched, n: int) -> np.ndarray | None:
    if not hasattr(sched, "_get_closed_form_lr"):
        return None
    out = np.empty(n)
    for t in range(n):
        sched.last_epoch = t
        out[t] = sched._get_closed_form_lr()[0]
    return out


def errors(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float, float]:
    diff = np.abs(ours - ref)
    nonzero = ref != 0
    rel = float(np.max(diff[nonzero] / np.abs(ref[nonzero]))) if nonzero.any() else 0.0
    return rel, float(np.max(diff) / np.max(np.abs(ref))), float(np.mean(ours == ref))


CASES = [
    ("StepLR", "step_size=30, gamma=0.1", 10_000, lambda o: L.StepLR(o, 30, 0.1)),
    ("StepLR", "step_size=1000, gamma=0.5", 100_000, lambda o: L.StepLR(o, 1000, 0.5)),
    ("MultiStepLR", "milestones=[30, 80], gamma=0.1", 10_000, lambda o: L.MultiStepLR(o, [30, 80])),
    ("MultiStepLR", "every 1000 + repeats, gamma=0.9", 100_000,
     lambda o: L.MultiStepLR(o, [*range(0, 100_000, 1000), 500, 500], 0.9)),
    ("ConstantLR", "factor=1/3, total_iters=5", 10_000, lambda o: L.ConstantLR(o)),
    ("LinearLR", "start_factor=0.05, total_iters=40", 10_000, lambda o: L.LinearLR(o, 0.05, total_iters=40)),
    ("LinearLR", "1.0 -> 0.0 over 10000", 12_000, lambda o: L.LinearLR(o, 1.0, 0.0, total_iters=10_000)),
    ("ExponentialLR", "gamma=0.95", 10_000, lambda o: L.ExponentialLR(o, 0.95)),
    ("ExponentialLR", "gamma=0.9999", 100_000, lambda o: L.ExponentialLR(o, 0.9999)),
    ("PolynomialLR", "total_iters=10000, power=0.9", 12_000, lambda o: L.PolynomialLR(o, 10_000, 0.9)),
    ("PolynomialLR", "total_iters=10000, power=2", 12_000, lambda o: L.PolynomialLR(o, 10_000, 2.0)),
    ("CosineAnnealingLR", "T_max=100", 100_000, lambda o: L.CosineAnnealingLR(o, 100)),
    ("CosineAnnealingLR", "T_max=10000, eta_min=1e-4", 100_000, lambda o: L.CosineAnnealingLR(o, 10_000, 1e-4)),
    ("CosineAnnealingLR", "T_max=100000, eta_min=1e-3", 100_000, lambda o: L.CosineAnnealingLR(o, 100_000, 1e-3)),
    ("CyclicLR", "triangular, 2000 up", 100_000, lambda o: L.CyclicLR(o, 1e-3, 0.1, 2000)),
    ("CyclicLR", "triangular2, 500 up / 1500 down", 100_000,
     lambda o: L.CyclicLR(o, 1e-3, 0.1, 500, 1500, mode="triangular2")),
    ("CyclicLR", "exp_range, gamma=0.99994", 100_000,
     lambda o: L.CyclicLR(o, 1e-3, 0.1, 2000, mode="exp_range", gamma=0.99994)),
    ("OneCycleLR", "total_steps=10000, cos", 10_000, lambda o: L.OneCycleLR(o, 0.1, total_steps=10_000)),
    ("OneCycleLR", "three_phase, linear", 10_000,
     lambda o: L.OneCycleLR(o, 0.1, total_steps=10_000, anneal_strategy="linear", three_phase=True)),
    ("OneCycleLR", "pct_start=0.0", 10_000, lambda o: L.OneCycleLR(o, 0.1, total_steps=10_000, pct_start=0.0)),
    ("CosineAnnealingWarmRestarts", "T_0=10, T_mult=2", 100_000,
     lambda o: L.CosineAnnealingWarmRestarts(o, 10, 2, 1e-5)),
    ("CosineAnnealingWarmRestarts", "T_0=500", 100_000, lambda o: L.CosineAnnealingWarmRestarts(o, 500)),
    ("SequentialLR", "LinearLR 500 -> CosineAnnealingLR 9500", 10_000,
     lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, total_iters=500), L.CosineAnnealingLR(o, 9500)], [500])),
    ("SequentialLR", "ConstantLR -> ExponentialLR -> StepLR", 100_000,
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, 0.1, 20), L.ExponentialLR(o, 0.999), L.StepLR(o, 5000, 0.5)],
                              [20, 20_000])),
    ("ChainedScheduler", "ConstantLR x ExponentialLR", 10_000,
     lambda o: L.ChainedScheduler([L.ConstantLR(o, 0.1, 20), L.ExponentialLR(o, 0.999)])),
    ("ChainedScheduler", "LinearLR x CosineAnnealingLR (restarts)", 100_000,
     lambda o: L.ChainedScheduler([L.LinearLR(o, 0.1, total_iters=100), L.CosineAnnealingLR(o, 1000)])),
    ("nested", "SequentialLR[Chained[Constant, Exp], Step]", 10_000,
     lambda o: L.SequentialLR(o, [L.ChainedScheduler([L.ConstantLR(o, 0.5, 50), L.ExponentialLR(o, 0.999)]),
                                  L.StepLR(o, 100, 0.5)], [2000])),
    ("nested", "SequentialLR[SequentialLR[Poly, Step], Cos]", 10_000,
     lambda o: L.SequentialLR(o, [L.SequentialLR(o, [L.PolynomialLR(o, 300, 2.0), L.StepLR(o, 50)], [300]),
                                  L.CosineAnnealingLR(o, 2000)], [5000])),
]


def main() -> None:
    warnings.simplefilter("ignore", UserWarning)  # torch's step-order warnings for nested constructors
    print(f"torch {torch.__version__}, lrpulse {lrpulse.__version__}\n")
    print("| scheduler | config | steps | closed form: max rel | closed: max abs/peak | closed: same | "
          "stepped: max rel | stepped: max abs/peak | stepped: same |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    start = time.perf_counter()
    for name, config, n, make in CASES:
        n = min(n, 10_000) if QUICK else n
        sched = make(optimizer())
        ours = lrpulse.from_torch(sched).trajectory(n)
        if isinstance(sched, L.OneCycleLR):
            n = min(n, sched.total_steps)  # torch raises past total_steps
            ours = ours[:n]
        closed = closed_form(make(optimizer()), n)
        cols = ["n/a (step() is one)" if name in ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts")
                else "n/a", "", ""]
        if closed is not None:
            rel, peak, same = errors(ours, closed)
            cols = [f"{rel:.2e}", f"{peak:.2e}", f"{same:.1%}"]
        rel, peak, same = errors(ours, stepped(sched, n))
        print(f"| {name} | {config} | {n} | {' | '.join(cols)} | {rel:.2e} | {peak:.2e} | {same:.1%} |")
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
