"""lrpulse: learning-rate schedules that match torch, Keras, optax and HF, evaluated in Rust.

>>> import lrpulse
>>> s = lrpulse.warmup(lrpulse.cosine(lr=0.1, decay_steps=900, min_lr=1e-4), warmup_steps=100)
>>> float(s(100))
0.1

``import lrpulse`` never imports torch, Keras, jax or matplotlib; the adapters load them on use.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _core
from .errors import ConversionError, DTypeError, InputError, LrpulseError, ParameterError
from .schedules import (
    Schedule,
    constant,
    cosine,
    cosine_restarts,
    cyclic,
    exponential,
    inverse_sqrt,
    inverse_time,
    linear,
    multi_step,
    one_cycle,
    piecewise_constant,
    piecewise_interpolate,
    polynomial,
    product,
    schedule_from_dict,
    schedule_from_json,
    sequence,
    step_decay,
    tanh,
    warmup,
    wsd,
)

__version__: str = _core.__version__

# Names served from submodules on first use, so `import lrpulse` stays light and never pulls in a
# framework: the converters only touch the objects they are given.
_LAZY = {
    "from_torch": "._from_torch",
    "from_keras": "._from_keras",
    "lint": "._lint",
    "Finding": "._lint",
    "diagnose": ".diagnosis",
    "Diagnosis": ".diagnosis",
    "Segment": ".diagnosis",
    "CurveMonitor": ".diagnosis",
    "read_scalars": ".logs",
    "diagnose_file": ".logs",
    "scan": ".logs",
}


def __getattr__(name: str) -> Any:
    if name == "compat":  # light: only the optax/HF-named constructors, no framework import
        return importlib.import_module(".compat", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrpulse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    "Schedule",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "inverse_sqrt",
    "inverse_time",
    "linear",
    "multi_step",
    "one_cycle",
    "piecewise_constant",
    "piecewise_interpolate",
    "polynomial",
    "product",
    "schedule_from_dict",
    "schedule_from_json",
    "sequence",
    "step_decay",
    "tanh",
    "warmup",
    "wsd",
    "LrpulseError",
    "ParameterError",
    "InputError",
    "DTypeError",
    "ConversionError",
    "from_torch",
    "from_keras",
    "lint",
    "Finding",
    "diagnose",
    "Diagnosis",
    "Segment",
    "CurveMonitor",
    "read_scalars",
    "diagnose_file",
    "scan",
]
