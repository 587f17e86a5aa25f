"""Which series of a log is the training loss, the validation loss and the learning rate, chosen from
the tag names (:mod:`lrpulse.logs` re-exports the ``pick_*`` functions), and the LR put on the loss steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# Per-step names first: an epoch-level loss (Keras' ``epoch_loss``) has a handful of points, too few
# to diagnose, so it is only taken when the log has no per-step loss.
_LOSS_NAMES = (
    "loss", "train_loss", "train/loss", "training_loss", "loss/train", "train_loss_step", "train/loss_step",
    "trainer/loss", "batch_loss", "train/batch_loss", "losses/train", "epoch_loss", "train/epoch_loss",
)  # fmt: skip
_VAL_NAMES = ("val_loss", "eval_loss", "val/loss", "eval/loss", "validation_loss", "valid_loss", "loss/val",
              "loss/validation", "validation/loss", "val_loss_epoch", "epoch_val_loss")  # fmt: skip
_NOT_TRAIN = ("val", "eval", "test", "valid")


def _pick(tags: Sequence[str], names: Sequence[str], accept: Any) -> str | None:
    """The first of ``names`` present (case-insensitively), else the first tag ``accept`` takes, tags not
    naming ``epoch`` before those that do (a per-epoch series is the coarsest)."""
    lower = {t.lower(): t for t in reversed(tags)}  # first occurrence wins
    for name in names:
        if name in lower:
            return lower[name]
    accepted = [t for t in tags if accept(t.lower())]
    return next((t for t in accepted if "epoch" not in t.lower()), accepted[0] if accepted else None)


def pick_loss_tag(tags: Sequence[str]) -> str | None:
    """The training-loss tag among ``tags``, ``None`` when there is none.

    The rule: a well-known per-step name (``loss``, ``train_loss``, ``train/loss``, Lightning's
    ``train_loss_step``, Keras' ``batch_loss``...), else a well-known epoch-level one (Keras'
    ``epoch_loss``), else the first tag mentioning ``loss`` that is not a validation/eval/test loss,
    preferring one that does not mention ``epoch``. Per-step series come first because a per-epoch one
    has too few points to diagnose.

    >>> pick_loss_tag(["epoch", "val_loss", "train_loss_epoch", "train_loss_step"])
    'train_loss_step'
    >>> pick_loss_tag(["epoch_loss", "batch_loss", "epoch_learning_rate"])  # Keras' TensorBoard callback
    'batch_loss'

    Failing all of those, a tag named ``value``: the series of a text-log regex without a ``tag`` group,
    or the ``Value`` column of a scalar exported from TensorBoard's web page as CSV.

    >>> pick_loss_tag(["Wall time", "Value"])
    'Value'
    """
    picked = _pick(tags, _LOSS_NAMES, lambda t: "loss" in t and not any(w in t for w in _NOT_TRAIN))
    return picked or next((t for t in tags if t.lower() == "value"), None)


def pick_val_tag(tags: Sequence[str]) -> str | None:
    """The validation-loss tag among ``tags`` (``val_loss``, ``eval_loss``, ``val/loss``...), or ``None``.

    >>> pick_val_tag(["loss", "eval_loss", "eval_runtime"])
    'eval_loss'
    """
    return _pick(tags, _VAL_NAMES, lambda t: "loss" in t and any(w in t for w in _NOT_TRAIN))


# Lightning's LearningRateMonitor writes ``lr-<Optimizer>`` (``lr-AdamW/pg1`` per parameter group),
# Hugging Face ``learning_rate`` (``train/learning_rate`` through wandb), Keras ``epoch_learning_rate``.
_LR_NAMES = (
    "lr", "learning_rate", "train/lr", "train/learning_rate", "trainer/lr", "trainer/learning_rate", "lr/train",
    "optimizer/lr", "lr-adamw", "lr-adam", "lr-sgd", "batch_learning_rate", "epoch_learning_rate",
)  # fmt: skip


def _names_an_lr(tag: str) -> bool:
    named = "learning_rate" in tag or "learning-rate" in tag
    return "loss" not in tag and (named or any(p == "lr" or p.startswith(("lr-", "lr_")) for p in tag.split("/")))


def pick_lr_tag(tags: Sequence[str], loss_tag: str | None = None) -> str | None:
    """The learning-rate tag among ``tags``, ``None`` when there is none.

    The rule, as for :func:`pick_loss_tag`: a well-known name (``lr``, ``learning_rate``, ``train/lr``,
    ``train/learning_rate``, Lightning's ``lr-AdamW``...), else the first tag with a path part that is
    ``lr`` or starts with ``lr-``/``lr_``, or that mentions ``learning_rate``, preferring one that does not
    mention ``epoch``. Given the ``loss_tag`` it goes with, an epoch-level LR (Keras'
    ``epoch_learning_rate``, whose steps count epochs) is not picked for a loss that is not epoch-level.

    >>> pick_lr_tag(["train/loss", "lr-SGD/pg1", "lr-SGD/pg2"])  # Lightning, two parameter groups
    'lr-SGD/pg1'
    >>> pick_lr_tag(["loss", "train/learning_rate", "train/epoch"])
    'train/learning_rate'
    >>> pick_lr_tag(["batch_loss", "epoch_learning_rate"], loss_tag="batch_loss") is None
    True
    """
    picked = _pick(tags, _LR_NAMES, _names_an_lr)
    coarser = (
        picked is not None and loss_tag is not None and "epoch" in picked.lower() and "epoch" not in loss_tag.lower()
    )
    return None if coarser else picked


def lr_on_steps(
    steps: npt.NDArray[np.int64], lr_steps: npt.NDArray[np.int64], lr: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64] | None:
    """The LR in force at each of ``steps`` (increasing): the last finite LR logged at or before the
    step (an LR holds until the next is logged), or the first LR for steps before any was logged;
    ``None`` when no finite LR was logged. ``lr_steps`` must be increasing.

    >>> lr_on_steps(np.array([0, 5, 10, 20]), np.array([2, 10]), np.array([0.1, 0.01])).tolist()
    [0.1, 0.1, 0.01, 0.01]
    """
    finite = np.isfinite(lr)
    lr_steps, lr = lr_steps[finite], lr[finite]
    if len(lr) == 0:
        return None
    at = np.searchsorted(lr_steps, steps, side="right") - 1
    return lr[np.maximum(at, 0)]
