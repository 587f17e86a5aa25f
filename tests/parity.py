"""Tolerances for comparing lrpulse against reference libraries, in one place.

float64 references (torch closed forms, HF): ``|ours - ref| <= 1e-12 * |ref| + 2**-50 * peak``. The
absolute floor (4 ulps of the schedule's peak LR) only matters where the value is within ~1e-4 of
zero: there ``1 + cos(x)`` and ``1 - p`` cancel, so the reference itself carries an absolute error of
about one ulp of its peak and no relative bound is meaningful.

float32 references (Keras, optax under jax): within float32 rounding of their result,
``|ours - ref| <= 8 * eps32 * (|ref| + peak)`` (a handful of float32 operations, each rounding).
"""

from __future__ import annotations

import numpy as np

F64_RTOL = 1e-12
F32_EPS = float(np.finfo(np.float32).eps)


def max_rel_error(ours, ref) -> float:
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    denom = np.maximum(np.abs(ref), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(ours - ref) / denom)) if ref.size else 0.0


def assert_f64_close(ours, ref, *, peak: float | None = None, what: str = "") -> float:
    """Assert float64 parity; return the max relative error for reporting."""
    ours, ref, peak = _as_f64(ours, ref, peak, what)
    return _assert_within(ours, ref, F64_RTOL * np.abs(ref) + 2.0**-50 * peak, what)


def assert_f32_close(ours, ref, *, peak: float | None = None, ulps: float = 8.0, what: str = "") -> float:
    """Assert parity with a float32 reference; return the max relative error for reporting."""
    ours, ref, peak = _as_f64(ours, ref, peak, what)
    return _assert_within(ours, ref, ulps * F32_EPS * (np.abs(ref) + peak), what)


def _as_f64(ours, ref, peak: float | None, what: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Both sides as float64 arrays of one shape, and the peak the absolute tolerance scales with."""
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, (what, ours.shape, ref.shape)
    if peak is None:  # a NaN in ref fails on its own; it must not make every other tolerance NaN too
        peak = float(np.max(np.abs(ref), where=~np.isnan(ref), initial=0.0))
    return ours, ref, peak


def _assert_within(ours: np.ndarray, ref: np.ndarray, tolerance: np.ndarray, what: str) -> float:
    # `not <=` rather than `>`: a NaN on either side compares False both ways and must count as a miss.
    bad = ~(np.abs(ours - ref) <= tolerance)
    if bad.any():
        i = int(np.argmax(bad))
        first, theirs = ours.flat[i], ref.flat[i]
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {ref.size} values differ; first at index {i}: ours={first!r} ref={theirs!r}"
        )
    return max_rel_error(ours, ref)
