//! Batch forms of the closed-form families: their shared `Formula` run through the vector kernels.

use super::search::with_breaks;
use super::{run, Isa, Kernel};
use crate::schedule::fastmath::{Math, Vector, VectorSquarePow, VectorUnitPow};
use crate::schedule::{pow, Formula, MultiStep};
use std::marker::PhantomData;

/// A family's formula with the elementary functions of `M`, as a loop body. It owns a copy of the
/// family's parameters: behind a second reference the compiler could not prove the output writes leave
/// them alone, and would recompute loop invariants (like `ln(gamma)`) for every element.
pub struct ByFormula<F, M>(pub F, pub PhantomData<M>);

impl<F: Formula, M: Math> Kernel<f64> for ByFormula<F, M> {
    #[inline(always)]
    fn at(&self, t: f64) -> f64 {
        self.0.formula::<M>(t)
    }
}

/// `out[i] = f.formula(ts[i])` with the vector kernels.
pub fn formula<F: Formula + Clone>(isa: Isa, f: &F, ts: &[f64], out: &mut [f64]) {
    run(isa, ts, out, ByFormula::<F, Vector>(f.clone(), PhantomData));
}

/// As [`formula`] where every power the formula takes for these parameters has exponent 1 (or is
/// discarded), so computing it can be skipped without changing a bit.
pub fn formula_unit_pow<F: Formula + Clone>(isa: Isa, f: &F, ts: &[f64], out: &mut [f64]) {
    run(isa, ts, out, ByFormula::<F, VectorUnitPow>(f.clone(), PhantomData));
}

/// As [`formula`] for a family whose only power is `x^exponent`: exponents 1 and 2 take the exact
/// shortcuts the kernel itself takes for them (`x`, `x * x`), so no logarithm is computed.
pub fn formula_with_exponent<F: Formula + Clone>(isa: Isa, f: &F, exponent: f64, ts: &[f64], out: &mut [f64]) {
    if exponent == 1.0 {
        formula_unit_pow(isa, f, ts, out)
    } else if exponent == 2.0 {
        run(isa, ts, out, ByFormula::<F, VectorSquarePow>(f.clone(), PhantomData));
    } else {
        formula(isa, f, ts, out)
    }
}

pub fn multi_step(isa: Isa, f: &MultiStep, ts: &[f64], out: &mut [f64]) {
    // One value per number of milestones passed, each exactly as the scalar code computes it.
    let values: Vec<f64> = (0..=f.milestones.len()).map(|k| f.lr * pow(f.gamma, k as f64)).collect();
    with_breaks!(
        &f.milestones,
        |breaks, table| {
            let table = table(&values);
            run(isa, ts, out, |t: f64| table.get(breaks.count_le(t)))
        },
        super::scalar_family(f, ts, out)
    )
}
