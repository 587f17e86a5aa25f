"""Drop-in constructors with the names and arguments of optax's and Hugging Face's schedules.

Each returns an lrpulse :class:`~lrpulse.Schedule` (a native family, or a composition of them) with the
values the original computes at every step, so a config written for optax or ``transformers`` can be
evaluated, linted and plotted by lrpulse without either library installed:

- :mod:`lrpulse.compat.optax`: ``warmup_cosine_decay_schedule``, ``exponential_decay``,
  ``join_schedules``, ... (optax computes in float32; lrpulse in float64, so values agree to float32
  rounding).
- :mod:`lrpulse.compat.transformers`: ``get_linear_schedule_with_warmup``, ``get_wsd_schedule``, ...
  They take ``optimizer_or_lr`` first: a base LR, or a torch optimizer (read, never modified), in which
  case they return one schedule per param group when there are several.

>>> from lrpulse.compat import transformers as hf
>>> s = hf.get_linear_schedule_with_warmup(1e-3, num_warmup_steps=100, num_training_steps=1000)
>>> float(s(100)), float(s(550))
(0.001, 0.0005)

Neither module imports optax, jax, transformers or torch.
"""

__all__ = ["optax", "transformers"]


def __getattr__(name: str) -> object:
    # `lrpulse.compat.optax` without an explicit submodule import; both submodules are light.
    if name in __all__:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lrpulse.compat' has no attribute {name!r}")
