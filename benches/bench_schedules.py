"""lrpulse schedule evaluation against its peers, side by side in one process.

Run: ``python benches/bench_schedules.py`` (about two minutes on two cores; ``--quick`` for a smoke run).

For every schedule family it times
- the whole trajectory of ``N = 10**7`` steps: ``s.trajectory(N)``;
- arrays of random, unsorted steps (``10**6`` and ``10**7``): ``s(steps)``;
against
- numpy: the family's closed form written with vectorised numpy (``np.cos``, ``np.power``, ... over the
  whole array, float64), checked here to give the same values (the ``agree`` column: max relative
  difference, with an absolute floor of 1e-12 of the peak LR);
- torch: stepping the equivalent ``torch.optim.lr_scheduler`` scheduler and reading its LR, the way a
  training loop produces the trajectory. It is timed on ``TORCH_STEPS`` steps and the per-step cost is
  extrapolated to ``N`` (marked ``~``); families torch has no class for use ``LambdaLR`` around the
  closed form, as Hugging Face does;
- optax under ``jax.jit`` (float32, jax's default): ``jax.jit(jax.vmap(schedule))`` over the whole array, compiled
  once before timing; ``-`` where optax has no such schedule.
Ratios are peer time / lrpulse time (higher is better for lrpulse). Then the cost of one scalar call.
Times are the best of several runs; the machine's load average is printed because other work on a
shared machine inflates every number.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

import lrpulse

LR, MIN_LR = 0.1, 1e-5
TORCH_STEPS = 20_000


@dataclass
class Case:
    name: str
    schedule: lrpulse.Schedule
    numpy: Callable[[np.ndarray], np.ndarray]
    torch: Callable[[Any], Any] | None = None  # optimizer -> scheduler
    optax: Callable[[], Any] | None = None


def cos_half(x):
    return (1.0 + np.cos(np.pi * x)) / 2.0


def cases(n: int) -> list[Case]:
    import optax
    from torch.optim import lr_scheduler as tl

    w = n // 100  # warmup
    period = max(n // 1000, 2)  # SGDR first cycle, doubling
    s = max(n // 10, 1)
    miles = [int(0.3 * n), int(0.6 * n), int(0.9 * n)]
    ds = n / 100
    lam = lambda f: (lambda opt: tl.LambdaLR(opt, lambda t: f(np.float64(t)) / LR))  # noqa: E731

    def sgdr_np(t):
        i = np.floor(np.log2(t / period + 1.0))
        start = period * (2.0**i - 1.0)
        i = i + (t >= start + period * 2.0**i) - (t < start)  # floating-point guard at cycle edges
        start, length = period * (2.0**i - 1.0), period * 2.0**i
        return MIN_LR + (LR - MIN_LR) * cos_half((t - start) / length)

    def onecycle_np(t):
        peak, initial = 0.3 * n, LR / 25
        end = initial / 1e4
        up = LR + (initial - LR) / 2 * (np.cos(np.pi * t / peak) + 1)
        pct = np.minimum((t - peak) / (n - peak), 1.0)
        down = end + (LR - end) / 2 * (np.cos(np.pi * pct) + 1)
        return np.where(t < peak, up, down)

    def wsd_np(t):
        decay0, decay = w + int(0.8 * n), n - w - int(0.8 * n)
        warm = MIN_LR + (LR - MIN_LR) * t / w
        cool = MIN_LR + (LR - MIN_LR) * cos_half(np.minimum((t - decay0) / decay, 1.0))
        return np.where(t < w, warm, np.where(t < decay0, LR, cool))

    def sequence_np(t):
        warm = LR * (0.01 + 0.99 * t / w)
        cos = MIN_LR + (LR - MIN_LR) * cos_half(np.minimum((t - n // 2) / (n // 2), 1.0))
        return np.where(t < w, warm, np.where(t < n // 2, LR, cos))

    def sgdr_optax():
        cycles, total, k = [], 0, 0
        while total < n:
            cycles.append(dict(init_value=LR, peak_value=LR, warmup_steps=0, decay_steps=period * 2**k,
                               end_value=MIN_LR))
            total += period * 2**k
            k += 1
        return optax.sgdr_schedule(cycles)

    pw_values = [LR, 0.05, 0.01, 0.001]
    knots, knot_values = [0, n // 10, n // 2, n], [0.0, LR, 0.03, MIN_LR]
    return [
        Case("constant", lrpulse.constant(lr=LR), lambda t: np.full(t.shape, LR),
             lambda o: tl.LambdaLR(o, lambda t: 1.0), lambda: optax.constant_schedule(LR)),
        Case("step_decay", lrpulse.step_decay(lr=LR, step_size=s, gamma=0.5),
             lambda t: LR * 0.5 ** np.floor(t / s), lambda o: tl.StepLR(o, s, 0.5),
             lambda: optax.exponential_decay(LR, s, 0.5, staircase=True)),
        Case("multi_step", lrpulse.multi_step(lr=LR, milestones=miles, gamma=0.1),
             lambda t: LR * 0.1 ** np.searchsorted(miles, t, side="right"), lambda o: tl.MultiStepLR(o, miles, 0.1),
             lambda: optax.piecewise_constant_schedule(LR, {m: 0.1 for m in miles})),
        Case("exponential", lrpulse.exponential(lr=LR, decay_rate=0.96, decay_steps=ds),
             lambda t: LR * 0.96 ** (t / ds), lambda o: tl.ExponentialLR(o, 0.96 ** (1 / ds)),
             lambda: optax.exponential_decay(LR, ds, 0.96)),
        Case("inverse_time", lrpulse.inverse_time(lr=LR, decay_rate=1.0, decay_steps=ds),
             lambda t: LR / (1 + t / ds), lam(lambda t: LR / (1 + t / ds))),
        Case("polynomial", lrpulse.polynomial(lr=LR, decay_steps=n, end_lr=MIN_LR, power=2.0),
             lambda t: (LR - MIN_LR) * (1 - np.minimum(t, n) / n) ** 2.0 + MIN_LR,
             lambda o: tl.PolynomialLR(o, total_iters=n, power=2.0),
             lambda: optax.polynomial_schedule(LR, MIN_LR, 2.0, n)),
        Case("linear", lrpulse.linear(lr=LR, steps=n, start_factor=1.0, end_factor=0.01),
             lambda t: LR * (1.0 - 0.99 * np.minimum(t, n) / n),
             lambda o: tl.LinearLR(o, start_factor=1.0, end_factor=0.01, total_iters=n),
             lambda: optax.linear_schedule(LR, LR * 0.01, n)),
        Case("cosine", lrpulse.cosine(lr=LR, decay_steps=n, min_lr=MIN_LR),
             lambda t: MIN_LR + (LR - MIN_LR) * cos_half(np.minimum(t, n) / n),
             lambda o: tl.CosineAnnealingLR(o, T_max=n, eta_min=MIN_LR),
             lambda: optax.cosine_decay_schedule(LR, n, alpha=MIN_LR / LR)),
        Case("warmup+cosine", lrpulse.warmup(lrpulse.cosine(lr=LR, decay_steps=n - w, min_lr=MIN_LR), warmup_steps=w),
             lambda t: np.where(t < w, LR * t / w,
                                MIN_LR + (LR - MIN_LR) * cos_half(np.clip(t - w, 0, n - w) / (n - w))),
             lambda o: tl.SequentialLR(o, [tl.LinearLR(o, 1e-8, 1.0, total_iters=w),
                                          tl.CosineAnnealingLR(o, T_max=n - w, eta_min=MIN_LR)], [w]),
             lambda: optax.warmup_cosine_decay_schedule(0.0, LR, w, n, end_value=MIN_LR)),
        Case("cosine_restarts", lrpulse.cosine_restarts(lr=LR, period=period, period_mult=2, min_lr=MIN_LR),
             sgdr_np, lambda o: tl.CosineAnnealingWarmRestarts(o, T_0=period, T_mult=2, eta_min=MIN_LR),
             sgdr_optax),
        Case("tanh", lrpulse.tanh(lr=LR, total_steps=n, min_lr=MIN_LR),
             lambda t: MIN_LR + 0.5 * (LR - MIN_LR) * (1 - np.tanh(-7 + 10 * np.minimum(t, n) / n)),
             lam(lambda t: MIN_LR + 0.5 * (LR - MIN_LR) * (1 - math.tanh(-7 + 10 * min(t, n) / n)))),
        Case("cyclic", lrpulse.cyclic(base_lr=MIN_LR, max_lr=LR, step_size_up=w),
             lambda t: MIN_LR + (LR - MIN_LR) * np.maximum(0, 1 - np.abs(t / w - 2 * np.floor(1 + t / (2 * w)) + 1)),
             lambda o: tl.CyclicLR(o, MIN_LR, LR, step_size_up=w, cycle_momentum=False)),
        Case("one_cycle", lrpulse.one_cycle(max_lr=LR, total_steps=n), onecycle_np,
             lambda o: tl.OneCycleLR(o, max_lr=LR, total_steps=n + 1, cycle_momentum=False),
             lambda: optax.cosine_onecycle_schedule(n, LR)),
        Case("piecewise_constant", lrpulse.piecewise_constant(boundaries=miles, values=pw_values),
             lambda t: np.asarray(pw_values)[np.searchsorted(miles, t, side="right")],
             lam(lambda t: pw_values[np.searchsorted(miles, t, side="right")]),
             lambda: optax.piecewise_constant_schedule(LR, {miles[0]: 0.5, miles[1]: 0.2, miles[2]: 0.1})),
        Case("piecewise_interpolate", lrpulse.piecewise_interpolate(steps=knots, values=knot_values),
             lambda t: np.interp(t, knots, knot_values), lam(lambda t: np.interp(t, knots, knot_values)),
             lambda: optax.piecewise_interpolate_schedule("linear", LR, {n // 10: 1.0, n // 2: 0.3, n: MIN_LR / 0.03})),
        Case("inverse_sqrt", lrpulse.inverse_sqrt(lr=LR, warmup_steps=w),
             lambda t: np.where(t < w, LR * t / w, LR / np.sqrt(np.maximum(t, w) / w)),
             lam(lambda t: LR * t / w if t < w else LR / math.sqrt(t / w))),
        Case("wsd", lrpulse.wsd(lr=LR, warmup_steps=w, stable_steps=int(0.8 * n), decay_steps=n - w - int(0.8 * n),
                                min_lr=MIN_LR, decay_shape="cosine"),
             wsd_np, lam(lambda t: float(wsd_np(np.float64(t))))),
        Case("sequence", lrpulse.sequence([lrpulse.linear(lr=LR, steps=w, start_factor=0.01, end_factor=1.0),
                                           lrpulse.constant(lr=LR),
                                           lrpulse.cosine(lr=LR, decay_steps=n // 2, min_lr=MIN_LR)],
                                          boundaries=[w, n // 2]),
             sequence_np,
             lambda o: tl.SequentialLR(o, [tl.LinearLR(o, 0.01, 1.0, total_iters=w), tl.ConstantLR(o, 1.0, 0),
                                           tl.CosineAnnealingLR(o, T_max=n // 2, eta_min=MIN_LR)], [w, n // 2]),
             lambda: optax.join_schedules([optax.linear_schedule(LR * 0.01, LR, w), optax.constant_schedule(LR),
                                           optax.cosine_decay_schedule(LR, n // 2, MIN_LR / LR)], [w, n // 2])),
        Case("product", lrpulse.product([lrpulse.cosine(lr=LR, decay_steps=n, min_lr=MIN_LR),
                                         lrpulse.step_decay(lr=1.0, step_size=n // 4, gamma=0.5)]),
             lambda t: (MIN_LR + (LR - MIN_LR) * cos_half(np.minimum(t, n) / n)) * 0.5 ** np.floor(t / (n // 4)),
             lambda o: tl.ChainedScheduler([tl.CosineAnnealingLR(o, T_max=n, eta_min=MIN_LR),
                                            tl.StepLR(o, n // 4, 0.5)])),
    ]


def best(f: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def rounds(fs: list[Callable[[], Any]], count: int) -> list[float]:
    """Best time of each `f`, over `count` rounds that each run every `f` once: a burst of other work
    on a shared machine then spoils one round, not all of one family's runs."""
    times = [math.inf] * len(fs)
    for _ in range(count):
        for i, f in enumerate(fs):
            times[i] = min(times[i], best(f, 1))
    return times


def torch_per_step(make: Callable[[Any], Any]) -> float:
    import torch

    torch.set_num_threads(1)  # stepping a scheduler is scalar Python work
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": no training here
        sched = make(opt)
        group = opt.param_groups[0]

        def run():
            for _ in range(TORCH_STEPS):
                _ = group["lr"]  # reading the LR is part of producing the trajectory
                sched.step()

        return best(run, 2) / TORCH_STEPS


def optax_time(make: Callable[[], Any], steps: np.ndarray | None, n: int, repeat: int) -> float:
    import jax
    import jax.numpy as jnp

    sched = make()
    if steps is None:  # trajectory: the step range is generated inside the compiled function
        f = jax.jit(lambda offset: jax.vmap(sched)(jnp.arange(n, dtype=jnp.int32) + offset))
        arg = jnp.int32(0)
    else:
        f = jax.jit(jax.vmap(sched))
        arg = jax.device_put(steps.astype(np.int32))
    f(arg).block_until_ready()  # compile once
    return best(lambda: f(arg).block_until_ready(), repeat)


def agreement(ours: np.ndarray, theirs: np.ndarray) -> float:
    floor = 1e-12 * float(np.max(np.abs(ours)))
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(ours), floor)))


def ratio(peer: float | None, ours: float) -> str:
    return "-" if peer is None else f"{peer / ours:8.1f}x"


def ms(t: float | None, approx: bool = False) -> str:
    return "-" if t is None else ("~" if approx else "") + (f"{t * 1e3:.1f}" if t < 100 else f"{t:.0f}s")


def table(title: str, rows: list[list[str]]) -> None:
    head = ["family", "lrpulse ms", "numpy ms", "vs numpy", "agree", "torch ms", "vs torch", "optax ms", "vs optax"]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n{title}")
    for r in [head, *rows]:
        print("  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in enumerate(zip(r, widths, strict=True))))


def run_trajectories(all_cases: list[Case], n: int, with_torch: bool, with_optax: bool) -> None:
    # lrpulse and numpy first for every family, the peers' runtimes after: jax and torch keep worker
    # threads spinning for a while after they run, which would steal the cores lrpulse uses.
    ours_t = rounds([lambda c=c: c.schedule.trajectory(n) for c in all_cases], 9)
    numpy_t = rounds([lambda c=c: c.numpy(np.arange(n, dtype=np.float64)) for c in all_cases], 5)
    agree = [agreement(c.schedule.trajectory(n), c.numpy(np.arange(n, dtype=np.float64))) for c in all_cases]
    timed = list(zip(all_cases, ours_t, numpy_t, agree, strict=True))
    torch_ts = [torch_per_step(c.torch) * n if with_torch and c.torch else None for c in all_cases]
    optax_ts = [optax_time(c.optax, None, n, 3) if with_optax and c.optax else None for c in all_cases]
    rows = [[c.name, ms(ours), ms(theirs), ratio(theirs, ours), f"{agree:.0e}", ms(torch_t, True),
             ratio(torch_t, ours), ms(optax_t), ratio(optax_t, ours)]
            for (c, ours, theirs, agree), torch_t, optax_t in zip(timed, torch_ts, optax_ts, strict=True)]
    table(f"Whole trajectory, {n:,} steps (torch: ~ per-step cost of {TORCH_STEPS:,} steps x {n:,})", rows)


def run_random(all_cases: list[Case], n: int, size: int, with_optax: bool) -> None:
    steps = np.random.default_rng(0).integers(0, n, size=size).astype(np.int64)
    as_float = steps.astype(np.float64)
    ours_t = rounds([lambda c=c: c.schedule(steps) for c in all_cases], 9)
    numpy_t = rounds([lambda c=c: c.numpy(steps.astype(np.float64)) for c in all_cases], 5)
    agree = [agreement(c.schedule(steps), c.numpy(as_float)) for c in all_cases]
    timed = list(zip(all_cases, ours_t, numpy_t, agree, strict=True))
    optax_ts = [optax_time(c.optax, steps, n, 3) if with_optax and c.optax else None for c in all_cases]
    rows = [[c.name, ms(ours), ms(theirs), ratio(theirs, ours), f"{agree:.0e}", "-", "-", ms(optax_t),
             ratio(optax_t, ours)] for (c, ours, theirs, agree), optax_t in zip(timed, optax_ts, strict=True)]
    table(f"Random unsorted int64 steps in [0, {n:,}), {size:,} of them (numpy time includes its float64 cast)", rows)


def run_scalar(all_cases: list[Case], n: int) -> None:
    print("\nOne scalar call s(t), ns (best of 5 x 200k calls); a plain Python math.cos formula for scale:")
    picks = {"constant", "step_decay", "cosine", "warmup+cosine", "cosine_restarts", "one_cycle", "sequence"}
    t = n // 3
    for c in all_cases:
        if c.name in picks:
            per = min(timeit.repeat(lambda c=c: c.schedule(t), number=200_000, repeat=5)) / 200_000
            print(f"  {c.name:18s} {per * 1e9:7.1f}")
    py = lambda t: MIN_LR + (LR - MIN_LR) * (1 + math.cos(math.pi * t / n)) / 2  # noqa: E731
    per = min(timeit.repeat(lambda: py(t), number=200_000, repeat=5)) / 200_000
    print(f"  {'python math.cos':18s} {per * 1e9:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^6-step trajectories, 10^5 random steps")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-optax", action="store_true")
    args = parser.parse_args()
    n = 10**6 if args.quick else 10**7
    sizes = [10**5] if args.quick else [10**6, 10**7]
    with_torch = not args.no_torch
    with_optax = not args.no_optax
    print(f"lrpulse {lrpulse.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs, lrpulse threads {lrpulse._core.num_threads()}, "
          f"LRPULSE_SIMD={os.environ.get('LRPULSE_SIMD', 'best available')}; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if with_torch:
        import torch

        print(f"torch {torch.__version__} (stepping {TORCH_STEPS:,} steps per family, extrapolated)")
    if with_optax:
        import jax
        import optax

        print(f"optax {optax.__version__}, jax {jax.__version__} ({jax.default_backend()}, float32), jit-compiled once")
    all_cases = cases(n)
    run_trajectories(all_cases, n, with_torch, with_optax)
    for size in sizes:
        run_random(all_cases, n, size, with_optax)
    run_scalar(all_cases, n)


if __name__ == "__main__":
    main()
