"""The real training runs of the corpus: which task, optimizer, LR and schedule produce each label.

Every entry of ``PLAN`` is a recipe a practitioner could have run by mistake or on purpose, with the
label its production implies: an LR ~100x below a good one (slow), a good LR with decay (healthy),
a large LR held constant (plateau), far too large with gradient clipping (rising_early: it thrashes
instead of producing NaN), too large with momentum (diverged: NaN/Inf, or a collapse to a stuck
level far above the best loss), a cyclic LR whose peak is far too high (oscillating), and bad
batches injected into sound runs (spiky). Each run is checked after training (``checks.py``) and by
eye from the contact sheet; ``REVIEW`` records what that review decided for individual runs.

>>> sorted({spec.label for spec in PLAN}) == sorted(LABELS - {"insufficient_data"})
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .torch_train import Config

LABELS = {"healthy", "rising_early", "plateau", "slow", "diverged", "spiky", "oscillating", "insufficient_data"}


@dataclass(frozen=True)
class Spec:
    label: str
    task: str
    cfg: Config
    why: str
    task_kwargs: dict = field(default_factory=dict)
    overfitting: bool | None = None  # set when the run records a validation loss

    @property
    def name(self) -> str:
        c = self.cfg
        bits = [self.task, c.opt, f"lr{c.lr:g}", c.sched, f"s{c.seed}"]
        if self.task_kwargs:
            bits.insert(1, "small" if "n_train" in self.task_kwargs else "x")
        if c.bad_batches:
            bits.append("bad")
        if c.clip:
            bits.append("clip")
        if c.log_every > 1:
            bits.append(f"avg{c.log_every}")
        return "torch_" + "_".join(bits)


def _runs(label, task, why, seeds=(0,), task_kwargs=None, overfitting=None, **cfg):
    kw = task_kwargs or {}
    return [Spec(label, task, Config(seed=s, **cfg), why, kw, overfitting) for s in seeds]


BAD3 = ((0.25, 8.0), (0.5, 15.0), (0.8, 30.0))  # (fraction of the run, input blow-up factor)


def _bad(steps, plan=BAD3, scale=1.0):
    return tuple((int(f * steps), s * scale) for f, s in plan)


PLAN: list[Spec] = [
    # healthy: a good LR, decayed (or constant where the run is still improving at its end).
    *_runs("healthy", "teacher", "good LR, cosine decay", (0, 1, 2), opt="momentum", lr=0.05, sched="cosine", steps=1500),
    *_runs("healthy", "teacher", "good LR, cosine decay, logged as 5-step means", (3,), opt="momentum", lr=0.05, sched="cosine", steps=3000, log_every=5),
    *_runs("healthy", "teacher", "good Adam LR, cosine", (0, 1), opt="adam", lr=3e-3, sched="cosine", steps=1500, val_every=50, overfitting=False),
    *_runs("healthy", "teacher", "good Adam LR, constant, still improving", (2,), opt="adam", lr=0.01, steps=1500),
    *_runs("healthy", "spirals", "good LR, cosine", (0, 1), opt="momentum", lr=0.05, sched="cosine", steps=1500),
    *_runs("healthy", "spirals", "good Adam LR, warmup then cosine", (0, 1), opt="adam", lr=3e-3, sched="warmup_cosine", warmup=100, steps=1500, log_every=2),
    *_runs("healthy", "gmm", "good SGD LR, constant, still improving (convex)", (0, 1), opt="sgd", lr=0.01, steps=1500),
    *_runs("healthy", "gmm", "good SGD LR, cosine (convex)", (2,), opt="sgd", lr=0.02, sched="cosine", steps=2000, log_every=4),
    *_runs("healthy", "shapes", "good LR, cosine", (0,), opt="momentum", lr=0.05, sched="cosine", steps=1000),
    *_runs("healthy", "shapes", "good Adam LR, cosine", (1,), opt="adam", lr=3e-3, sched="cosine", steps=1000, val_every=50, overfitting=False),
    *_runs("healthy", "shapes", "one-cycle", (0,), opt="momentum", lr=0.2, sched="onecycle", steps=800),
    *_runs("healthy", "charlm", "good AdamW LR, warmup then cosine", (0, 1), opt="adamw", lr=3e-3, sched="warmup_cosine", warmup=50, steps=1000, batch=32, val_every=50, overfitting=False),
    *_runs("healthy", "charlm", "good Adam LR, constant, still improving", (2,), opt="adam", lr=0.01, steps=900, batch=32),
    *_runs("healthy", "spirals", "overfitting: 150 examples, wide net, Adam, cosine", (0, 1, 2), task_kwargs={"n_train": 150, "width": 256}, overfitting=True, opt="adam", lr=3e-3, sched="cosine", steps=2000, batch=32, val_every=25),
    *_runs("healthy", "gmm", "overfitting: 150 examples, 1300 weights", (0, 1), task_kwargs={"n_train": 150}, overfitting=True, opt="adam", lr=0.01, sched="cosine", steps=1500, batch=32, val_every=25),
    *_runs("healthy", "teacher", "step decay (x0.1 at 50% and 75%)", (4,), opt="momentum", lr=0.05, sched="step", steps=1500),
    # slow: an LR one to three orders of magnitude below a good one, constant.
    *_runs("slow", "teacher", "SGD LR ~1000x below a good momentum LR", (0, 1), opt="sgd", lr=3e-4, steps=1500),
    *_runs("slow", "teacher", "Adam LR 1e-5 (300x too small)", (2,), opt="adam", lr=1e-5, steps=1500, log_every=5),
    *_runs("slow", "gmm", "SGD LR 1e-3 (20x too small)", (0, 1), opt="sgd", lr=1e-3, steps=1500),
    *_runs("slow", "gmm", "SGD LR 5e-4, logged as 10-step means", (2,), opt="sgd", lr=5e-4, steps=3000, log_every=10),
    *_runs("slow", "charlm", "SGD LR 1e-3 on a transformer", (0, 1), opt="sgd", lr=1e-3, steps=900, batch=32),
    *_runs("slow", "shapes", "SGD LR 0.01 without momentum on a CNN", (0, 1), opt="sgd", lr=0.01, steps=1000),
    *_runs("slow", "charlm", "Adam LR 1e-4 (30x too small)", (2,), opt="adam", lr=1e-4, steps=800, batch=32),
    *_runs("slow", "shapes", "SGD LR 0.005 without momentum on a CNN", (2,), opt="sgd", lr=0.005, steps=1000, log_every=2),
    *_runs("slow", "teacher", "momentum SGD at 1e-4", (3,), opt="momentum", lr=1e-4, steps=1200),
    # plateau: a large LR held constant: fast drop, then flat at a noise floor well above what the
    # same run reaches with decay (the companion check measures how far above).
    *_runs("plateau", "teacher", "Adam LR 0.05 constant", (0, 1, 2, 3), opt="adam", lr=0.05, steps=1500),
    *_runs("plateau", "teacher", "Adam LR 0.3 constant", (0, 1, 2), opt="adam", lr=0.3, steps=1500),
    *_runs("plateau", "teacher", "AdamW LR 0.1 constant, 5-step means", (4,), opt="adamw", lr=0.1, steps=2000, log_every=5),
    *_runs("plateau", "gmm", "momentum LR 0.5 constant", (0, 1, 2), opt="momentum", lr=0.5, steps=1500),
    *_runs("plateau", "gmm", "Adam LR 0.05 constant", (0, 1, 2), opt="adam", lr=0.05, steps=1500, log_every=5),
    *_runs("plateau", "charlm", "Adam LR 0.05 constant", (0, 1), opt="adam", lr=0.05, steps=900, batch=32),
    *_runs("plateau", "charlm", "momentum LR 0.5 constant", (0,), opt="momentum", lr=0.5, steps=900, batch=32),

    # rising_early: far too large from the first step, clipped so it thrashes rather than NaNs.
    *_runs("rising_early", "teacher", "momentum LR 2 with clipping", (0, 1), opt="momentum", lr=2.0, clip=1.0, steps=1200),
    *_runs("rising_early", "teacher", "momentum LR 5 with clipping", (2,), opt="momentum", lr=5.0, clip=1.0, steps=1200),
    *_runs("rising_early", "gmm", "momentum LR 10 with clipping", (0, 1), opt="momentum", lr=10.0, clip=1.0, steps=1000),
    *_runs("rising_early", "shapes", "momentum LR 10 with clipping", (0,), opt="momentum", lr=10.0, clip=1.0, steps=800),
    *_runs("rising_early", "charlm", "momentum LR 10 with clipping", (1,), opt="momentum", lr=10.0, clip=1.0, steps=700, batch=32),
    *_runs("rising_early", "charlm", "Adam LR 1.0, no warmup", (0,), opt="adam", lr=1.0, steps=900, batch=32),
    *_runs("rising_early", "spirals", "momentum LR 10 with clipping", (0, 1), opt="momentum", lr=10.0, clip=1.0, steps=1200),
    # diverged: NaN/Inf, or a collapse far above the best loss reached.
    *_runs("diverged", "teacher", "momentum LR 0.5 (NaN within tens of steps), logging NaN after", (0,), opt="momentum", lr=0.5, steps=1000),
    *_runs("diverged", "teacher", "momentum LR 0.5, trainer stops at the first NaN", (1,), opt="momentum", lr=0.5, steps=1000, nan_policy="stop"),
    *_runs("diverged", "teacher", "cyclic LR peaking at 0.3: sound, then blows up", (0, 1), opt="momentum", lr=0.3, sched="cyclic", steps=1000),
    *_runs("diverged", "teacher", "linear warmup to a peak of 1.0: sound, then blows up", (0, 1), opt="momentum", lr=1.0, sched="warmup_to", steps=1500),
    *_runs("diverged", "shapes", "Adam LR 0.3 constant: collapses to a stuck level", (0,), opt="adam", lr=0.3, steps=1200),
    *_runs("diverged", "shapes", "cyclic LR peaking at 2: collapses to a stuck level", (0,), opt="momentum", lr=2.0, sched="cyclic", steps=1000),
    *_runs("diverged", "shapes", "warmup to 3.0: collapses to a stuck level", (1,), opt="momentum", lr=3.0, sched="warmup_to", steps=1000),
    *_runs("diverged", "charlm", "warmup to 3.0 with momentum: NaN", (0,), opt="momentum", lr=3.0, sched="warmup_to", steps=900, batch=32, nan_policy="stop"),
    *_runs("diverged", "gmm", "warmup to 3.0 with momentum: climbs to many times its best", (0, 1), opt="momentum", lr=3.0, sched="warmup_to", steps=1000),
    *_runs("diverged", "charlm", "momentum LR 2.0: NaN", (1,), opt="momentum", lr=2.0, steps=600, batch=32),
    *_runs("diverged", "teacher", "momentum LR 0.2 constant: climbs, then NaN", (0, 1), opt="momentum", lr=0.2, steps=1500),
    # oscillating: too large to make progress, bouncing around the starting level.
    *_runs("oscillating", "spirals", "momentum LR 0.5 constant", (0, 1, 2), opt="momentum", lr=0.5, steps=1500),
    *_runs("oscillating", "spirals", "momentum LR 2 with clipping", (0, 1), opt="momentum", lr=2.0, clip=1.0, steps=1500),
    *_runs("oscillating", "spirals", "momentum LR 2 with clipping, 5-step means", (2,), opt="momentum", lr=2.0, clip=1.0, steps=3000, log_every=5),
    *_runs("oscillating", "spirals", "cyclic LR peaking at 2", (0, 1, 2), opt="momentum", lr=2.0, sched="cyclic", steps=1000),
    *_runs("oscillating", "gmm", "cyclic LR peaking at 2", (0, 1, 2), opt="momentum", lr=2.0, sched="cyclic", steps=1000),
    *_runs("oscillating", "gmm", "momentum LR 2 with clipping, 10-step means", (0, 1), opt="momentum", lr=2.0, clip=1.0, steps=2000, log_every=10),
    *_runs("oscillating", "spirals", "momentum LR 5 with clipping", (2,), opt="momentum", lr=5.0, clip=1.0, steps=1500),
    # spiky: sound runs hit by a few bad batches (inputs blown up, or garbage text).
    *_runs("spiky", "teacher", "good LR, cosine, 3 bad batches", (0, 1, 2), opt="momentum", lr=0.05, sched="cosine", steps=1500, bad_batches=_bad(1500)),
    *_runs("spiky", "gmm", "good SGD LR, 3 bad batches", (0, 1), opt="sgd", lr=0.01, steps=1500, bad_batches=_bad(1500)),
    *_runs("spiky", "gmm", "momentum cosine, 3 bad batches", (2,), opt="momentum", lr=0.05, sched="cosine", steps=1000, bad_batches=_bad(1000)),
    *_runs("spiky", "spirals", "good LR, cosine, 3 bad batches", (0, 1, 2), opt="momentum", lr=0.05, sched="cosine", steps=1500, bad_batches=_bad(1500, scale=0.5)),
    *_runs("spiky", "shapes", "good LR, cosine, 2 mild bad batches", (0,), opt="momentum", lr=0.05, sched="cosine", steps=1000, bad_batches=((300, 3.0), (650, 5.0))),
    *_runs("spiky", "charlm", "AdamW warmup-cosine, 3 garbage-text batches", (0, 1, 2), opt="adamw", lr=3e-3, sched="warmup_cosine", warmup=50, steps=900, batch=32, bad_batches=_bad(900)),
    *_runs("spiky", "teacher", "Adam constant, 4 bad batches", (2,), opt="adam", lr=0.01, steps=1500, bad_batches=((200, 10.0), (600, 5.0), (900, 20.0), (1300, 8.0))),
]

# Decisions from reviewing the contact sheet and the checks, by run name: a new label, or None to
# drop the run, with the reason (kept in the run's notes).
REVIEW: dict[str, tuple[str | None, str]] = {
    "torch_gmm_momentum_lr3_warmup_to_s0": (None, "a dip in the first 5%, then a steady climb to 30x: rising_early or diverged, ambiguous"),
    "torch_gmm_momentum_lr3_warmup_to_s1": (None, "a dip in the first 5%, then a steady climb to 30x: rising_early or diverged, ambiguous"),
    "torch_teacher_adamw_lr0.1_constant_s4_avg5": (None, "U-shaped: climbs back to 2x its minimum, neither flat nor an explosion"),
    "torch_charlm_adam_lr0.0001_constant_s2": (None, "LR 30x too small, yet the curve decelerates like a healthy one"),
    "torch_shapes_sgd_lr0.005_constant_s2_avg2": (None, "progress (1.40 -> 1.38) is lost in the noise: slow or oscillating"),
    "torch_gmm_momentum_lr2_constant_s0_clip_avg10": ("rising_early", "the thrash level sits ~1.7x above the first logged value: it rose at once"),
    "torch_gmm_momentum_lr2_constant_s1_clip_avg10": ("rising_early", "the thrash level sits ~1.7x above the first logged value: it rose at once"),
    "torch_shapes_momentum_lr0.05_cosine_s0_bad": ("diverged", "the first bad batch knocked the run to a level 20x above its best, where it stays"),
    "torch_charlm_adam_lr0.05_constant_s0": ("plateau", "cutting the LR at half-time no longer helps (stuck near the unigram level, ~3.0) but a good-LR run reaches 2.4 in the same steps"),
    "torch_charlm_adam_lr0.05_constant_s1": ("plateau", "cutting the LR at half-time no longer helps (stuck near the unigram level, ~3.0) but a good-LR run reaches 2.4 in the same steps"),
    "torch_charlm_momentum_lr0.5_constant_s0": ("plateau", "drops, bottoms out and creeps up while the LR stays high; an LR cut at half-time ends 1.4x lower"),
    "torch_charlm_adam_lr1_constant_s0": ("rising_early", "jumps from 3.4 to ~70 within the first steps and needs most of the run to come back: hard"),
    "torch_gmm_momentum_lr0.5_constant_s0": ("plateau", "the drop takes only the first ~3 steps, then noisy flat; an LR cut ends 1.8x lower: hard"),
    "torch_gmm_momentum_lr0.5_constant_s1": ("plateau", "the drop takes only the first ~3 steps, then noisy flat; an LR cut ends 1.8x lower: hard"),
}

# Real runs cut to their first few logged points: a run killed early (insufficient_data).
TRUNCATIONS = [(3, 0), (5, 7), (8, 13), (4, 21), (10, 29), (6, 37), (7, 45), (9, 53), (2, 61), (5, 69), (6, 80), (8, 90)]
