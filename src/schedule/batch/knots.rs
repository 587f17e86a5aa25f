//! Batch forms of the knot-based schedules: one-cycle, piecewise constant and interpolated.

use super::search::{with_breaks, Breaks, Table};
use super::{is_sorted, run, Isa, Kernel};
use crate::schedule::fastmath::Vector;
use crate::schedule::piecewise::interpolate;
use crate::schedule::{Anneal, Family, Interpolation, OneCycle, PiecewiseConstant, PiecewiseInterpolate, Side};

/// `piecewise::interpolate_knots` over at most `N` knots (`M = N + 1` table entries), branch-free.
/// `COS` fixes the shape at compile time so a linear curve computes no cosine.
struct KnotsK<const N: usize, const M: usize, const COS: bool> {
    breaks: Breaks<N>,
    steps: Table<M>,
    values: Table<M>,
    n: usize,
}

impl<const N: usize, const M: usize, const COS: bool> Kernel<f64> for KnotsK<N, M, COS> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        let i = self.breaks.count_le(t);
        // The interval's two knots (any pair when i is 0 or n: that result is not used).
        let j = i.clamp(1, self.n.max(2) - 1);
        let (s0, s1) = (self.steps.get(j - 1), self.steps.get(j));
        let pct = (t - s0) / (s1 - s0);
        let shape = if COS { Interpolation::Cos } else { Interpolation::Linear };
        let inside = interpolate::<Vector>(shape, self.values.get(j - 1), self.values.get(j), pct);
        if i == 0 {
            self.values.get(0)
        } else if i == self.n {
            self.values.get(self.n - 1)
        } else {
            inside
        }
    }
}

/// Steps known to lie between knots `(s0, v0)` and `(s1, v1)`: `KnotsK` without the search.
struct SegmentK<const COS: bool> {
    s0: f64,
    s1: f64,
    v0: f64,
    v1: f64,
}

impl<const COS: bool> Kernel<f64> for SegmentK<COS> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        let pct = (t - self.s0) / (self.s1 - self.s0);
        let shape = if COS { Interpolation::Cos } else { Interpolation::Linear };
        interpolate::<Vector>(shape, self.v0, self.v1, pct)
    }
}

/// Non-decreasing steps (a trajectory block): one run per interval between knots.
fn sorted_runs<const COS: bool>(isa: Isa, steps: &[f64], values: &[f64], ts: &[f64], out: &mut [f64]) {
    let n = steps.len();
    let mut lo = 0;
    while lo < ts.len() {
        let i = steps.partition_point(|&k| k <= ts[lo]);
        let hi = if i == n { ts.len() } else { lo + ts[lo..].partition_point(|&t| t < steps[i]) };
        if i == 0 || i == n {
            out[lo..hi].fill(values[i.min(n - 1)]);
        } else {
            let k = SegmentK::<COS> { s0: steps[i - 1], s1: steps[i], v0: values[i - 1], v1: values[i] };
            run(isa, &ts[lo..hi], &mut out[lo..hi], k);
        }
        lo = hi;
    }
}

/// The curve through `(steps[i], values[i])`; `value` (the scalar path) for more than 64 knots.
fn knots(isa: Isa, steps: &[f64], values: &[f64], cos: bool, ts: &[f64], out: &mut [f64], value: impl Fn(f64) -> f64) {
    let n = steps.len();
    if is_sorted(ts) {
        return if cos {
            sorted_runs::<true>(isa, steps, values, ts, out)
        } else {
            sorted_runs::<false>(isa, steps, values, ts, out)
        };
    }
    with_breaks!(
        steps,
        |breaks, table| {
            let (steps, values) = (table(steps), table(values));
            if cos {
                run(isa, ts, out, KnotsK::<_, _, true> { breaks, steps, values, n })
            } else {
                run(isa, ts, out, KnotsK::<_, _, false> { breaks, steps, values, n })
            }
        },
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = value(t);
        }
    )
}

pub fn one_cycle(isa: Isa, f: &OneCycle, ts: &[f64], out: &mut [f64]) {
    let (steps, values) = f.knots();
    knots(isa, &steps, &values, f.anneal == Anneal::Cos, ts, out, |t| f.value(t));
}

pub fn piecewise_interpolate(isa: Isa, f: &PiecewiseInterpolate, ts: &[f64], out: &mut [f64]) {
    knots(isa, &f.steps, &f.values, f.shape == Interpolation::Cos, ts, out, |t| f.value(t));
}

pub fn piecewise_constant(isa: Isa, f: &PiecewiseConstant, ts: &[f64], out: &mut [f64]) {
    let right = f.side == Side::Right;
    with_breaks!(
        &f.boundaries,
        |breaks, table| {
            let values = table(&f.values);
            if right {
                run(isa, ts, out, |t: f64| values.get(breaks.count_le(t)))
            } else {
                run(isa, ts, out, |t: f64| values.get(breaks.count_lt(t)))
            }
        },
        super::scalar_family(f, ts, out)
    )
}
