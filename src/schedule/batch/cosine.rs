//! Batch forms of cosine annealing with warm restarts (SGDR): the cycle of each step is found without
//! the scalar code's loop, then `CosineRestarts::in_cycle` runs through the vector kernels.

use super::search::Table;
use super::{is_sorted, run, Isa, Kernel};
use crate::schedule::fastmath::{ln_dd, Math, Scalar, Vector, VectorUnitPow, ROUND_MAGIC};
use crate::schedule::CosineRestarts;
use std::marker::PhantomData;

/// (Kernels own copies of the parameters so the compiler can hoist loop invariants; see `ByFormula`.)
///
/// `CosineRestarts::in_cycle`; without a per-cycle warmup (`WARM` false) its ramp branch can never be
/// taken (the local step is >= 0), so only the cosine part is computed.
#[inline(always)]
fn in_cycle<C: Math, const WARM: bool>(f: &CosineRestarts, t: f64, start: f64, len: f64, amplitude: f64) -> f64 {
    if WARM {
        f.in_cycle::<C>(t, start, len, amplitude)
    } else {
        f.past_warmup::<C>((t - start).max(0.0), len, amplitude)
    }
}

/// Equal-length cycles: the cycle index is a floor division. `C` computes the cycle's shape, `A` the
/// peak heights (`VectorUnitPow` where the exponent or the decay is 1 and no power is used).
struct EqualCyclesK<C, A, const WARM: bool> {
    f: CosineRestarts,
    math: PhantomData<(C, A)>,
}

impl<C: Math, A: Math, const WARM: bool> Kernel<f64> for EqualCyclesK<C, A, WARM> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        let f = &self.f;
        let i = (t / f.period).floor();
        in_cycle::<C, WARM>(f, t, i * f.period, f.period, f.amplitude::<A>(i))
    }
}

/// Growing cycles: the first `CYCLES` cycles' starts, lengths and amplitudes, produced by the same
/// recurrence as `CosineRestarts::cycle`. A step's cycle is estimated from the closed form
/// `log(1 + t (m - 1) / period) / log(m)`, corrected by one against the tabulated starts and then
/// verified; a step whose cycle is past the table (or not pinned down) gives NaN. The tables are built
/// per block, only as far as the block's largest step needs.
const CYCLES: usize = 64;

struct GrowingCyclesK<C, const WARM: bool> {
    f: CosineRestarts,
    /// `(period_mult - 1) / period` and `1 / ln(period_mult)`.
    scale: f64,
    inverse_log_mult: f64,
    /// Cycle `i` runs from `starts[i]` to `starts[i + 1]`; entries past the table are NaN.
    starts: Table<{ CYCLES + 2 }>,
    lens: Table<{ CYCLES + 2 }>,
    amplitudes: Table<{ CYCLES + 2 }>,
    math: PhantomData<C>,
}

impl<C: Math, const WARM: bool> GrowingCyclesK<C, WARM> {
    /// Tables for the cycles up to the one holding `t_max` (at most `CYCLES`): each entry as the scalar
    /// recurrence computes it, so a step's value does not depend on which block it is in.
    fn new(f: &CosineRestarts, t_max: f64) -> Self {
        let (mut starts, mut lens, mut amplitudes) = (Vec::new(), Vec::new(), Vec::new());
        let (mut start, mut len) = (0.0, f.period);
        while starts.len() < CYCLES && start <= t_max {
            amplitudes.push(f.amplitude::<Scalar>(starts.len() as f64));
            starts.push(start);
            lens.push(len);
            start += len;
            len *= f.period_mult;
        }
        starts.extend([start, f64::NAN]);
        lens.extend([f64::NAN, f64::NAN]);
        amplitudes.extend([f64::NAN, f64::NAN]);
        GrowingCyclesK {
            f: f.clone(),
            scale: (f.period_mult - 1.0) / f.period,
            inverse_log_mult: 1.0 / f.period_mult.ln(),
            starts: Table::new(&starts),
            lens: Table::new(&lens),
            amplitudes: Table::new(&amplitudes),
            math: PhantomData,
        }
    }

    /// Non-decreasing steps (a trajectory block): one run per cycle, each with its cycle's constants.
    fn sorted(&self, isa: Isa, ts: &[f64], out: &mut [f64]) {
        let mut lo = 0;
        while lo < ts.len() {
            let i = self.starts.v.partition_point(|&s| s <= ts[lo]).saturating_sub(1);
            if i >= CYCLES || self.lens.v[i].is_nan() {
                out[lo..].fill(f64::NAN);
                return;
            }
            let end = self.starts.v[i + 1];
            let hi = lo + ts[lo..].partition_point(|&t| t < end);
            let (start, len, amplitude) = (self.starts.v[i], self.lens.v[i], self.amplitudes.v[i]);
            let cycle = OneCycleK::<C, WARM> { f: self.f.clone(), start, len, amplitude, math: PhantomData };
            run(isa, &ts[lo..hi], &mut out[lo..hi], cycle);
            lo = hi;
        }
    }
}

impl<C: Math, const WARM: bool> Kernel<f64> for GrowingCyclesK<C, WARM> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        let estimate = ln_dd(t.mul_add(self.scale, 1.0)).0 * self.inverse_log_mult;
        let guess = (estimate.floor().max(0.0).min((CYCLES - 1) as f64) + ROUND_MAGIC).to_bits();
        let guess = guess.wrapping_sub(ROUND_MAGIC.to_bits()) as usize;
        // One step down or up, then check the step really lies in that cycle.
        let up = (t >= self.starts.get(guess + 1)) as usize;
        let i = (guess + up).wrapping_sub((t < self.starts.get(guess)) as usize);
        let (start, end) = (self.starts.get(i), self.starts.get(i + 1));
        let v = in_cycle::<C, WARM>(&self.f, t, start, self.lens.get(i), self.amplitudes.get(i));
        if start <= t && t < end {
            v
        } else {
            f64::NAN
        }
    }
}

/// Steps known to lie in one restart cycle.
struct OneCycleK<C, const WARM: bool> {
    f: CosineRestarts,
    start: f64,
    len: f64,
    amplitude: f64,
    math: PhantomData<C>,
}

impl<C: Math, const WARM: bool> Kernel<f64> for OneCycleK<C, WARM> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        in_cycle::<C, WARM>(&self.f, t, self.start, self.len, self.amplitude)
    }
}

fn growing<C: Math, const WARM: bool>(isa: Isa, f: &CosineRestarts, ts: &[f64], out: &mut [f64]) {
    if is_sorted(ts) {
        let t_max = ts.last().copied().unwrap_or(0.0);
        GrowingCyclesK::<C, WARM>::new(f, t_max).sorted(isa, ts, out);
    } else {
        let t_max = ts.iter().fold(0.0, |m: f64, &t| m.max(t));
        run(isa, ts, out, GrowingCyclesK::<C, WARM>::new(f, t_max));
    }
}

fn by_cycles<C: Math, const WARM: bool>(isa: Isa, f: &CosineRestarts, ts: &[f64], out: &mut [f64]) {
    if f.period_mult != 1.0 {
        growing::<C, WARM>(isa, f, ts, out)
    } else if f.decay == 1.0 {
        run(isa, ts, out, EqualCyclesK::<C, VectorUnitPow, WARM> { f: f.clone(), math: PhantomData })
    } else {
        run(isa, ts, out, EqualCyclesK::<C, Vector, WARM> { f: f.clone(), math: PhantomData })
    }
}

pub fn restarts(isa: Isa, f: &CosineRestarts, ts: &[f64], out: &mut [f64]) {
    match (f.exponent == 1.0, f.cycle_warmup == 0.0) {
        (true, true) => by_cycles::<VectorUnitPow, false>(isa, f, ts, out),
        (true, false) => by_cycles::<VectorUnitPow, true>(isa, f, ts, out),
        (false, true) => by_cycles::<Vector, false>(isa, f, ts, out),
        (false, false) => by_cycles::<Vector, true>(isa, f, ts, out),
    }
}
