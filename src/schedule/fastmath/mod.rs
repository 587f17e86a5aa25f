//! Vectorisable elementary functions for evaluating schedules over many steps.
//!
//! Why: libm's `cos`, `exp`, `pow` and `tanh` are scalar calls (10-20 ns each), so a 10^7-step
//! cosine trajectory spends most of its time in `cos`. These kernels are branch-free straight-line
//! code (every branch is a select), so a loop of them compiles to SIMD (see [`simd`]), and accurate to
//! within one ulp of a correctly rounded result, hence within one ulp of glibc (proven by the tests in
//! `tests.rs`, including dense sweeps and hard cases). Scalar `Schedule::value` keeps libm; the array
//! paths use these, so an array entry may differ from the scalar call in the last bit or two.
//!
//! All kernels use `f64::mul_add`; on x86-64 without FMA (pre-2013 CPUs) that is a libm call, slower
//! but giving the same bits.

pub mod dd;
mod exp;
mod log;
pub mod scalar;
pub mod simd;
mod trig;

pub use exp::{exp_dd, pow, tanh, ConstPow};
pub use log::ln_dd;
pub use trig::{cos, COS_MAX};
pub(crate) use trig::ROUND_MAGIC;

/// Where a schedule formula gets its elementary functions, so one formula serves both paths:
/// [`Scalar`] for `Schedule::value` (FMA-dispatched calls; libm past the cosine kernel's range) and
/// [`Vector`] inside SIMD loops (inlined kernels; NaN past that range, recomputed by the caller).
/// Both run the same kernels, so they agree bit for bit wherever `Vector` gives a number.
pub trait Math {
    fn cos(x: f64) -> f64;
    fn pow(x: f64, c: f64) -> f64;
    fn tanh(x: f64) -> f64;
}

/// One value at a time.
pub enum Scalar {}

/// Inside a vectorised loop.
pub enum Vector {}

/// [`Vector`] for formulas whose only powers have exponent 1 (where `pow(x, 1)` is exactly `x`):
/// skips computing them.
pub enum VectorUnitPow {}

/// [`Vector`] for formulas whose only powers have exponent 2 (where `pow(x, 2)` is exactly `x * x`).
pub enum VectorSquarePow {}

impl Math for Scalar {
    #[inline]
    fn cos(x: f64) -> f64 {
        scalar::cos(x)
    }
    #[inline]
    fn pow(x: f64, c: f64) -> f64 {
        scalar::pow(x, c)
    }
    #[inline]
    fn tanh(x: f64) -> f64 {
        scalar::tanh(x)
    }
}

/// The vector `Math`s differ only in how they take powers.
macro_rules! vector_math {
    ($name:ident, |$x:ident, $c:ident| $pow:expr) => {
        impl Math for $name {
            #[inline(always)]
            fn cos(x: f64) -> f64 {
                cos(x)
            }
            #[inline(always)]
            fn pow($x: f64, $c: f64) -> f64 {
                $pow
            }
            #[inline(always)]
            fn tanh(x: f64) -> f64 {
                tanh(x)
            }
        }
    };
}

vector_math!(Vector, |x, c| pow(x, c));
vector_math!(VectorUnitPow, |x, _c| x);
vector_math!(VectorSquarePow, |x, _c| x * x);

#[cfg(test)]
mod tests;
