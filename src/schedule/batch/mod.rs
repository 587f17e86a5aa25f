//! Evaluating a schedule over a block of steps with the vector kernels of [`super::fastmath`].
//!
//! Closed-form families run their one `Formula` with the vector kernels (the scalar `value` runs the
//! same formula with the same kernels one value at a time, so both agree bit for bit). Families that
//! search (milestones, knots, restart cycles) get branch-free searches over small tables whose
//! entries are computed exactly as the scalar code computes them. Where a
//! kernel cannot cover an element (a cosine argument past `COS_MAX`, a restart cycle past the table)
//! it yields NaN, and `eval` recomputes that element with the scalar `value`; which path an element
//! takes depends only on its step, never on how the array was split.

mod compose;
mod cosine;
mod decay;
mod knots;
pub(crate) mod search;

use super::fastmath::simd::{self, Isa, Kernel, Kernel2};
use super::{CyclicMode, Schedule};

/// Reusable buffers for composed schedules (a warmup's inner steps, a sequence's pieces).
#[derive(Default)]
pub struct Scratch {
    free: Vec<Vec<f64>>,
}

impl Scratch {
    /// A zeroed buffer of `n` floats, reusing an earlier allocation when possible.
    fn take(&mut self, n: usize) -> Vec<f64> {
        let mut v = self.free.pop().unwrap_or_default();
        v.clear();
        v.resize(n, 0.0);
        v
    }

    fn give(&mut self, v: Vec<f64>) {
        self.free.push(v);
    }
}

/// `out[i] = s(ts[i])` for finite `ts[i] >= 0`, through the kernels at the current SIMD level, or
/// through the scalar `value` where there is none. NaN marks elements the caller must recompute.
pub fn eval_block(s: &Schedule, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) {
    match simd::current() {
        Some(isa) => eval_at(isa, s, ts, out, scratch),
        None => scalar(s, ts, out),
    }
}

/// The scalar path: `value` per element (libm).
pub fn scalar(s: &Schedule, ts: &[f64], out: &mut [f64]) {
    for (o, &t) in out.iter_mut().zip(ts) {
        *o = s.value(t);
    }
}

/// The scalar path for one family (where a kernel form does not apply, e.g. more than 64 milestones).
pub fn scalar_family<F: super::Family>(f: &F, ts: &[f64], out: &mut [f64]) {
    for (o, &t) in out.iter_mut().zip(ts) {
        *o = f.value(t);
    }
}

/// [`eval_block`] at a given SIMD level (tests run every level the CPU has and compare bits).
pub fn eval_at(isa: Isa, s: &Schedule, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) {
    match s {
        Schedule::Constant(c) => out.fill(c.lr),
        Schedule::StepDecay(f) => decay::formula(isa, f, ts, out),
        Schedule::MultiStep(f) => decay::multi_step(isa, f, ts, out),
        Schedule::Exponential(f) => decay::formula(isa, f, ts, out),
        Schedule::InverseTime(f) => decay::formula(isa, f, ts, out),
        Schedule::Polynomial(f) => decay::formula_with_exponent(isa, f, f.power, ts, out),
        Schedule::Linear(f) => decay::formula(isa, f, ts, out),
        Schedule::InverseSqrt(f) => decay::formula(isa, f, ts, out),
        Schedule::Tanh(f) => decay::formula(isa, f, ts, out),
        Schedule::Cosine(f) => decay::formula_with_exponent(isa, f, f.exponent, ts, out),
        Schedule::CosineRestarts(f) => cosine::restarts(isa, f, ts, out),
        // Triangular cycles take no power (the other modes' arms are discarded).
        Schedule::Cyclic(f) if f.mode == CyclicMode::Triangular => decay::formula_unit_pow(isa, f, ts, out),
        Schedule::Cyclic(f) => decay::formula(isa, f, ts, out),
        Schedule::OneCycle(f) => knots::one_cycle(isa, f, ts, out),
        Schedule::PiecewiseConstant(f) => knots::piecewise_constant(isa, f, ts, out),
        Schedule::PiecewiseInterpolate(f) => knots::piecewise_interpolate(isa, f, ts, out),
        Schedule::Wsd(f) => decay::formula(isa, f, ts, out),
        Schedule::Warmup(f) => compose::warmup(isa, f, ts, out, scratch),
        Schedule::Sequence(f) => compose::sequence(isa, f, ts, out, scratch),
        Schedule::Product(f) => compose::product(isa, f, ts, out, scratch),
    }
}

/// Whether `ts` is non-decreasing (trajectory blocks and sorted arrays take run-by-run paths).
fn is_sorted(ts: &[f64]) -> bool {
    ts.len() < 2 || simd::all(&ts[..ts.len() - 1], &ts[1..], |a, b| a <= b)
}

#[inline(always)]
fn run<K: Kernel<f64>>(isa: Isa, ts: &[f64], out: &mut [f64], k: K) {
    simd::map_at(isa, ts, out, &k);
}

#[inline(always)]
fn run2<K: Kernel2<f64, f64>>(isa: Isa, a: &[f64], b: &[f64], out: &mut [f64], k: K) {
    simd::zip_at(isa, a, b, out, &k);
}

#[cfg(test)]
mod tests;
