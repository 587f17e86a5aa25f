"""Hypothesis strategies for valid lrpulse schedules of every family, nested compositions included."""

from __future__ import annotations

from hypothesis import strategies as st

import lrpulse

lrs = st.floats(1e-6, 1.0)
small_lrs = st.floats(0.0, 1e-6)
spans = st.integers(1, 5000).map(float)
fracs = st.floats(0.05, 0.95)


def _increasing(n_min: int, n_max: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.integers(1, 20000), min_size=n_min, max_size=n_max, unique=True).map(
        lambda xs: [float(x) for x in sorted(xs)]
    )


leaf = st.one_of(
    st.builds(lrpulse.constant, lr=lrs),
    st.builds(lrpulse.step_decay, lr=lrs, step_size=spans, gamma=st.floats(0.01, 1.0)),
    st.builds(lrpulse.multi_step, lr=lrs, milestones=_increasing(0, 5), gamma=st.floats(0.01, 1.0)),
    st.builds(lrpulse.exponential, lr=lrs, decay_rate=st.floats(0.01, 1.0), decay_steps=spans,
              staircase=st.booleans(), begin=st.integers(0, 100).map(float)),
    st.builds(lrpulse.inverse_time, lr=lrs, decay_rate=st.floats(0.0, 10.0), decay_steps=spans,
              staircase=st.booleans()),
    st.builds(lrpulse.polynomial, lr=lrs, decay_steps=spans, end_lr=small_lrs, power=st.floats(0.1, 4.0),
              cycle=st.booleans()),
    st.builds(lrpulse.linear, lr=lrs, steps=spans, start_factor=st.floats(0.0, 1.0), end_factor=st.floats(0.0, 1.0)),
    st.builds(lrpulse.cosine, lr=lrs, decay_steps=spans, min_lr=small_lrs, exponent=st.floats(0.5, 3.0),
              periodic=st.booleans()),
    st.builds(lrpulse.cosine_restarts, lr=lrs, period=st.integers(2, 500).map(float), min_lr=small_lrs,
              period_mult=st.sampled_from([1.0, 1.5, 2.0]), decay=st.floats(0.3, 1.0), cycle_warmup=st.just(1.0)),
    st.builds(lrpulse.tanh, lr=lrs, total_steps=spans, min_lr=small_lrs),
    st.builds(lrpulse.cyclic, base_lr=small_lrs, max_lr=lrs, step_size_up=spans, step_size_down=spans,
              mode=st.sampled_from(["triangular", "triangular2", "exp_range"]), gamma=st.floats(0.99, 1.0)),
    st.builds(lrpulse.one_cycle, max_lr=lrs, total_steps=st.integers(10, 20000).map(float),
              pct_start=st.floats(0.05, 0.45), anneal=st.sampled_from(["cos", "linear"]),
              three_phase=st.booleans()),
    _increasing(0, 4).flatmap(
        lambda b: st.builds(lrpulse.piecewise_constant, boundaries=st.just(b),
                            values=st.lists(lrs, min_size=len(b) + 1, max_size=len(b) + 1),
                            side=st.sampled_from(["right", "left"]))
    ),
    _increasing(1, 5).flatmap(
        lambda k: st.builds(lrpulse.piecewise_interpolate, steps=st.just(k),
                            values=st.lists(lrs, min_size=len(k), max_size=len(k)),
                            shape=st.sampled_from(["linear", "cos"]))
    ),
    st.builds(lrpulse.inverse_sqrt, lr=lrs, warmup_steps=st.integers(0, 1000).map(float)),
    st.builds(lrpulse.wsd, lr=lrs, warmup_steps=spans, stable_steps=spans, decay_steps=spans, min_lr=small_lrs,
              warmup_shape=st.sampled_from(["linear", "cosine", "sqrt"]),
              decay_shape=st.sampled_from(["linear", "cosine", "sqrt"])),
)


def _compose(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(lambda s, w: lrpulse.warmup(s, warmup_steps=w), children, spans),
        _increasing(1, 3).flatmap(
            lambda b: st.builds(lrpulse.sequence, st.lists(children, min_size=len(b) + 1, max_size=len(b) + 1),
                                st.just(b))
        ),
        st.builds(lrpulse.product, st.lists(children, min_size=1, max_size=3)),
    )


schedules = st.recursive(leaf, _compose, max_leaves=5)
