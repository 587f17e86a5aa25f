"""Per-step overhead of ``scheduler.step()``: lrpulse.torch.LRScheduler vs torch's own schedulers.

Both run in this process on the same kind of optimizer; each timing is the best of several repeats of
many ``step()`` calls (the optimizer itself is not stepped inside the timed loop). Prints the time per
call and the ratio lrpulse / torch (target: <= 1.0, aim <= 0.5).

    python benches/bench_adapters.py [--calls 200000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import timeit
import warnings

import torch
from torch.optim import lr_scheduler as native

import lrpulse
import lrpulse.torch as lt

BIG = 10**8  # horizons longer than any timed run, so no scheduler runs off its end


def optimizer(groups: int) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(4))], "lr": 0.1} for _ in range(groups)]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    opt.step()  # torch warns if a scheduler steps before its optimizer ever did
    return opt


# name -> (torch scheduler on opt, the equivalent lrpulse plan)
CASES = {
    "StepLR": (lambda o: native.StepLR(o, step_size=30, gamma=0.5),
               lambda: lrpulse.step_decay(lr=0.1, step_size=30, gamma=0.5)),
    "CosineAnnealingLR": (lambda o: native.CosineAnnealingLR(o, T_max=BIG),
                          lambda: lrpulse.cosine(lr=0.1, decay_steps=BIG, periodic=True)),
    "OneCycleLR": (lambda o: native.OneCycleLR(o, max_lr=0.1, total_steps=BIG, cycle_momentum=False),
                   lambda: lrpulse.one_cycle(max_lr=0.1, total_steps=BIG)),
    "SequentialLR(LinearLR, CosineAnnealingLR)": (
        lambda o: native.SequentialLR(o, [native.LinearLR(o, start_factor=0.01, total_iters=1000),
                                          native.CosineAnnealingLR(o, T_max=BIG)], milestones=[1000]),
        lambda: lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=BIG), warmup_steps=1000, start_lr=0.001)),
}


def per_call(step, calls: int, repeats: int) -> float:
    return min(timeit.repeat(step, number=calls, repeat=repeats)) / calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # SequentialLR's internal step order notice
    print(f"torch {torch.__version__}, lrpulse {lrpulse.__version__}; best of {args.repeats} x {args.calls} calls\n")
    print(f"{'scheduler.step()':44s} {'groups':>6s} {'torch ns':>9s} {'lrpulse ns':>11s} {'ratio':>6s}")
    ratios = []
    for groups in (1, 4):
        for name, (make_native, make_plan) in CASES.items():
            theirs = per_call(make_native(optimizer(groups)).step, args.calls, args.repeats)
            ours = per_call(lt.LRScheduler(optimizer(groups), make_plan()).step, args.calls, args.repeats)
            ratios.append(ours / theirs)
            print(f"{name:44s} {groups:6d} {theirs * 1e9:9.0f} {ours * 1e9:11.0f} {ours / theirs:6.2f}")
    print(f"\nworst ratio {max(ratios):.2f} (target <= 1.0, aim <= 0.5); best {min(ratios):.2f}")


if __name__ == "__main__":
    main()
