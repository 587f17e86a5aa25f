"""Small learning problems for real torch training runs on CPU, with generated data.

Each task owns its data (drawn from a seed), builds a fresh model, draws minibatches from a
``torch.Generator`` and can corrupt a batch (the "bad batch" that makes a real loss spike). No
dataset is downloaded: spirals, a teacher network, a Gaussian mixture, shapes drawn into 12x12
images and text sampled from a random grammar.

>>> import torch
>>> task = make_task("spirals", seed=0)
>>> xb, yb = task.batch(torch.Generator().manual_seed(0), 8)
>>> tuple(xb.shape), float(task.loss(task.model(), xb, yb)) > 0
((8, 2), True)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Task:
    """A dataset (train and validation tensors), a model factory and a loss."""

    name = "task"
    x: torch.Tensor
    y: torch.Tensor
    xv: torch.Tensor
    yv: torch.Tensor

    def model(self) -> nn.Module:
        raise NotImplementedError

    def loss(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(xb), yb)

    def batch(self, gen: torch.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(self.x), (size,), generator=gen)
        return self.x[idx], self.y[idx]

    def corrupt(self, xb, yb, gen: torch.Generator, strength: float):
        """A bad batch: inputs blown up by ``strength`` (a unit or preprocessing bug upstream)."""
        return xb * strength, yb

    @torch.no_grad()
    def val_loss(self, model: nn.Module) -> float:
        return float(self.loss(model, self.xv, self.yv))


class Spirals(Task):
    """Three interleaved spiral arms in 2-D; an MLP classifier."""

    name = "spirals"

    def __init__(self, seed: int, n_train: int = 3000, width: int = 64):
        g = torch.Generator().manual_seed(seed)
        self.width = width
        self.x, self.y = self._draw(g, n_train)
        self.xv, self.yv = self._draw(g, 1500)

    @staticmethod
    def _draw(g, n):
        arm = torch.randint(0, 3, (n,), generator=g)
        r = torch.rand(n, generator=g)
        angle = 1.6 * math.tau * r + arm * (math.tau / 3) + 0.15 * torch.randn(n, generator=g)
        x = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1) * 2.0
        # 10% flipped labels: a loss floor well above zero, as real classification data has.
        flip = torch.rand(n, generator=g) < 0.1
        arm = torch.where(flip, torch.randint(0, 3, (n,), generator=g), arm)
        return x, arm

    def model(self):
        w = self.width
        return nn.Sequential(nn.Linear(2, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 3))


class Teacher(Task):
    """Teacher-student regression: a random tanh network labels Gaussian inputs (plus noise)."""

    name = "teacher"

    def __init__(self, seed: int, n_train: int = 4000, width: int = 64, dim: int = 20):
        g = torch.Generator().manual_seed(seed)
        w1 = torch.randn(dim, 32, generator=g) / math.sqrt(dim)
        w2 = torch.randn(32, 1, generator=g) * 2.0 / math.sqrt(32)
        self.dim, self.width = dim, width

        def draw(n):
            x = torch.randn(n, dim, generator=g)
            return x, torch.tanh(x @ w1) @ w2 + 0.1 * torch.randn(n, 1, generator=g)

        self.x, self.y = draw(n_train)
        self.xv, self.yv = draw(2000)

    def model(self):
        w = self.width
        return nn.Sequential(nn.Linear(self.dim, w), nn.Tanh(), nn.Linear(w, w), nn.Tanh(), nn.Linear(w, 1))

    def loss(self, model, xb, yb):
        return F.mse_loss(model(xb), yb)


class GaussMix(Task):
    """Ten overlapping Gaussian classes in 32-D; softmax (logistic) regression, a convex problem."""

    name = "gmm"

    def __init__(self, seed: int, n_train: int = 5000, dim: int = 64, classes: int = 20):
        g = torch.Generator().manual_seed(seed)
        means = 0.35 * torch.randn(classes, dim, generator=g)
        self.dim, self.classes = dim, classes

        def draw(n):
            y = torch.randint(0, classes, (n,), generator=g)
            return means[y] + torch.randn(n, dim, generator=g), y

        self.x, self.y = draw(n_train)
        self.xv, self.yv = draw(2000)

    def model(self):
        return nn.Linear(self.dim, self.classes)


class Shapes(Task):
    """12x12 noisy images of bars, diagonals and box outlines at random places; a small CNN."""

    name = "shapes"

    def __init__(self, seed: int, n_train: int = 3000):
        g = torch.Generator().manual_seed(seed)
        self.x, self.y = self._draw(g, n_train)
        self.xv, self.yv = self._draw(g, 1000)

    @staticmethod
    def _draw(g, n):
        img = 0.35 * torch.randn(n, 1, 12, 12, generator=g)
        y = torch.randint(0, 4, (n,), generator=g)
        pos = torch.randint(2, 8, (n, 2), generator=g)
        for i in range(n):
            r, c = int(pos[i, 0]), int(pos[i, 1])
            k = int(y[i])
            if k == 0:
                img[i, 0, r, c - 2 : c + 4] += 1.0
            elif k == 1:
                img[i, 0, r - 2 : r + 4, c] += 1.0
            elif k == 2:
                for d in range(-2, 3):
                    img[i, 0, r + d, c + d] += 1.0
            else:
                img[i, 0, r - 2 : r + 3, c - 2] += 1.0
                img[i, 0, r - 2 : r + 3, c + 2] += 1.0
                img[i, 0, r - 2, c - 2 : c + 3] += 1.0
                img[i, 0, r + 2, c - 2 : c + 3] += 1.0
        return img, y

    def model(self):
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(16, 4),
        )


class CharLM(Task):
    """Next-character prediction on text sampled from a random word-bigram grammar; a one-layer
    causal transformer with a 16-character context."""

    name = "charlm"
    context = 16

    def __init__(self, seed: int, n_chars: int = 60000):
        g = torch.Generator().manual_seed(seed)
        letters = "abcdefghijklmnopqrstuvwxyz"
        words = []
        for _ in range(400):
            length = int(torch.randint(2, 8, (1,), generator=g))
            words.append("".join(letters[int(i)] for i in torch.randint(0, 26, (length,), generator=g)))
        nxt = torch.rand(400, 400, generator=g) ** 6  # a skewed word-bigram table
        text, w = [], 0
        while sum(len(t) + 1 for t in text) < n_chars:
            w = int(torch.multinomial(nxt[w], 1, generator=g))
            text.append(words[w])
        data = " ".join(text) + "."
        self.vocab = sorted(set(data))
        ids = torch.tensor([self.vocab.index(ch) for ch in data])
        cut = int(0.9 * len(ids))
        self.train_ids, self.val_ids = ids[:cut], ids[cut:]
        self.x = self.train_ids  # batch() indexes windows of it
        vg = torch.Generator().manual_seed(seed + 7)
        starts = torch.randint(0, len(self.val_ids) - self.context - 1, (256,), generator=vg)
        self.xv, self.yv = self._windows(self.val_ids, starts)

    def _windows(self, ids, starts):
        offs = torch.arange(self.context + 1)
        win = ids[starts[:, None] + offs[None, :]]
        return win[:, :-1], win[:, 1:]

    def batch(self, gen, size):
        starts = torch.randint(0, len(self.train_ids) - self.context - 1, (size,), generator=gen)
        return self._windows(self.train_ids, starts)

    def corrupt(self, xb, yb, gen, strength):
        # Garbage text (a corrupted shard): random targets, which the model confidently mispredicts.
        return xb, torch.randint(0, len(self.vocab), yb.shape, generator=gen)

    def model(self):
        return _TinyTransformer(len(self.vocab), self.context)

    def loss(self, model, xb, yb):
        logits = model(xb)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))


class _TinyTransformer(nn.Module):
    def __init__(self, vocab: int, context: int, dim: int = 32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(context, dim))
        self.block = nn.TransformerEncoderLayer(dim, 2, 64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

    def forward(self, ids):
        h = self.embed(ids) + self.pos[: ids.shape[1]]
        return self.head(self.block(h, src_mask=self.mask, is_causal=True))


TASKS = {"spirals": Spirals, "teacher": Teacher, "gmm": GaussMix, "shapes": Shapes, "charlm": CharLM}


def make_task(name: str, seed: int, **kwargs) -> Task:
    return TASKS[name](seed, **kwargs)
