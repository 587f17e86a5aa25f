"""One real training run: a torch optimizer, a torch LR scheduler and a task, logged like a user would.

The loop records the minibatch training loss of every update together with the LR that update used
(read from the optimizer, so it is what torch actually applied), optionally a validation loss every
``val_every`` updates, and keeps logging NaN after a blow-up the way a plain loop does (or stops, as
trainers with a NaN check do). ``log_every`` > 1 averages the per-update losses over the window, as
Lightning's ``log_every_n_steps`` with mean reduction does.

>>> from corpus.torch_tasks import make_task
>>> log = train(make_task("gmm", seed=0), Config(opt="sgd", lr=0.1, steps=20))
>>> len(log["loss"]), log["steps"][:3].tolist()
(20, [0, 1, 2])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Config:
    opt: str = "sgd"  # sgd | momentum | adam | adamw
    lr: float = 0.01
    steps: int = 1000
    sched: str = "constant"  # constant | cosine | warmup_cosine | step | cut_half | onecycle | cyclic | warmup_to
    batch: int = 64
    seed: int = 0
    log_every: int = 1
    val_every: int = 0
    bad_batches: tuple = ()  # (update index, strength) pairs
    nan_policy: str = "continue"  # continue (keep logging NaN for a while) | stop
    warmup: int = 0
    weight_decay: float = 0.0
    clip: float = 0.0  # gradient-norm clipping (0: off); keeps a too-large LR thrashing instead of NaN


def _optimizer(cfg: Config, params):
    if cfg.opt == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.opt == "momentum":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    if cfg.opt == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.opt == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay or 0.01)
    raise ValueError(f"unknown optimizer {cfg.opt!r}")


def _scheduler(cfg: Config, opt):
    lrs = torch.optim.lr_scheduler
    n, w = cfg.steps, max(cfg.warmup, 1)
    if cfg.sched == "constant":
        return None
    if cfg.sched == "cosine":
        return lrs.CosineAnnealingLR(opt, T_max=n, eta_min=cfg.lr * 1e-3)
    if cfg.sched == "warmup_cosine":
        warm = lrs.LinearLR(opt, start_factor=0.01, total_iters=w)
        return lrs.SequentialLR(opt, [warm, lrs.CosineAnnealingLR(opt, T_max=n - w, eta_min=cfg.lr * 1e-3)], [w])
    if cfg.sched == "cut_half":
        # The plateau remedy: the same run with its LR cut 10x at half-time.
        return lrs.MultiStepLR(opt, milestones=[n // 2], gamma=0.1)
    if cfg.sched == "step":
        return lrs.MultiStepLR(opt, milestones=[n // 2, 3 * n // 4], gamma=0.1)
    if cfg.sched == "onecycle":
        return lrs.OneCycleLR(opt, max_lr=cfg.lr, total_steps=n + 1, cycle_momentum=False)
    if cfg.sched == "cyclic":
        return lrs.CyclicLR(opt, base_lr=cfg.lr * 0.05, max_lr=cfg.lr, step_size_up=max(n // 12, 4),
                            cycle_momentum=False)
    if cfg.sched == "warmup_to":
        # A long linear warmup to a peak that is too high: sound at first, unstable later.
        return lrs.LinearLR(opt, start_factor=0.01, total_iters=n)
    raise ValueError(f"unknown schedule {cfg.sched!r}")


def train(task, cfg: Config) -> dict:
    """Train ``task`` under ``cfg``; returns the logged arrays (loss, steps, lr, val_loss, val_steps)."""
    torch.manual_seed(cfg.seed)
    model = task.model()
    opt = _optimizer(cfg, model.parameters())
    sched = _scheduler(cfg, opt)
    gen = torch.Generator().manual_seed(cfg.seed + 1000)
    bad = dict(cfg.bad_batches)
    losses, lrs, val, val_steps = [], [], [], []
    nan_budget = None
    for t in range(cfg.steps):
        xb, yb = task.batch(gen, cfg.batch)
        if t in bad:
            xb, yb = task.corrupt(xb, yb, gen, bad[t])
        loss = task.loss(model, xb, yb)
        value = loss.item()
        losses.append(value)
        lrs.append(opt.param_groups[0]["lr"])
        if not math.isfinite(value):
            if cfg.nan_policy == "stop":
                break
            nan_budget = 40 * cfg.log_every if nan_budget is None else nan_budget - 1
            if nan_budget <= 0:
                break
        if cfg.val_every and t % cfg.val_every == 0:
            model.eval()
            val.append(task.val_loss(model))
            val_steps.append(t)
            model.train()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        if sched is not None:
            sched.step()
    return _aggregate(cfg, np.asarray(losses), np.asarray(lrs), val, val_steps)


def _aggregate(cfg: Config, losses, lrs, val, val_steps) -> dict:
    k = cfg.log_every
    if k > 1:
        m = len(losses) // k * k
        tail = losses[m:]
        losses = np.concatenate([losses[:m].reshape(-1, k).mean(axis=1), [tail.mean()] if len(tail) else []])
        lrs = np.concatenate([lrs[:m].reshape(-1, k)[:, -1], lrs[m:][-1:]])
        steps = np.concatenate([np.arange(k - 1, m, k), [m + len(tail) - 1] if len(tail) else []])
    else:
        steps = np.arange(len(losses))
    with np.errstate(over="ignore"):  # a blow-up past float32's range is logged as inf, as torch would
        loss32 = losses.astype(np.float32)
    out = {"loss": loss32, "steps": steps.astype(np.int64), "lr": lrs.astype(np.float64)}
    if val:
        out["val_loss"] = np.asarray(val, dtype=np.float32)
        out["val_steps"] = np.asarray(val_steps, dtype=np.int64)
    return out
