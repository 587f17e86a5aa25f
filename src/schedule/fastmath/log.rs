//! A vectorisable natural logarithm returning a double-double, the first half of `pow`.
//!
//! It writes `x = 2^e z` with `z` in `[sqrt(1/2), sqrt(2))`, so `ln x = e ln2 + 2 atanh(u)` with
//! `u = (z - 1) / (z + 1)`, `|u| <= 0.1716`. The vector kernel sums `2u + 2u^3 A(u^2)` (A: degree-8
//! minimax fit of `(atanh(u)/u - 1)/u^2`, relative fit error 2^-65.4, computed with mpmath) with `u`
//! itself a double-double. The leading term `2u` is exact and the correction (at most 1% of it) is
//! rounded a few times, so the relative error is below 2^-59 for every `x`; `e ln2` is carried to
//! 106 bits.

use super::dd::{fast_two_sum, two_prod, two_sum};
use super::exp::{LN2_HI, LN2_LO};
use super::trig::{horner, ROUND_MAGIC};

/// `(atanh(u)/u - 1 - u^2/3) / u^4` as a polynomial in `v = u^2`, `v <= 0.0295`.
const ATANH_POLY: [f64; 8] = [
    0.2,
    0.14285714285714685,
    0.11111111110827614,
    0.0909090916775974,
    0.07692297475475732,
    0.06667402616821555,
    0.058531119547106,
    0.05861645222366202,
];
/// `2/3 = TWO_THIRDS_HI + TWO_THIRDS_LO` to 106 bits.
const TWO_THIRDS_HI: f64 = 0.6666666666666666;
const TWO_THIRDS_LO: f64 = 3.700743415417188e-17;

/// Bits of `sqrt(1/2)`: subtracting them puts the mantissa's split point at sqrt(2).
const SQRT_HALF_BITS: u64 = 0x3fe6_a09e_667f_3bcd;
const TWO_54: f64 = 18_014_398_509_481_984.0;

/// `(e, z)` with `x = 2^e z`, `z` in `[sqrt(1/2), sqrt(2))`, for finite `x > 0` (subnormals included).
/// Only logical shifts and adds on the bits: AVX2 has no 64-bit arithmetic shift or int->float.
#[inline(always)]
fn split(x: f64) -> (f64, f64) {
    let subnormal = x < f64::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_54 } else { x };
    let bits = scaled.to_bits();
    // Biased by 1024 in the exponent field so it stays positive: (e + 1024) << 52 plus mantissa bits.
    let biased = bits.wrapping_sub(SQRT_HALF_BITS).wrapping_add(1024 << 52);
    let exponent_field = biased & (0xfff << 52);
    let z = f64::from_bits(bits.wrapping_sub(exponent_field).wrapping_add(1024 << 52));
    let e = f64::from_bits(ROUND_MAGIC.to_bits().wrapping_add(biased >> 52)) - (ROUND_MAGIC + 1024.0);
    (if subnormal { e - 54.0 } else { e }, z)
}

/// `ln(x)` as a double-double with relative error below 2^-62. `x = 0` gives `-inf`, `x < 0`, NaN
/// and inf give NaN.
#[inline(always)]
pub fn ln_dd(x: f64) -> (f64, f64) {
    let (e, z) = split(x);
    let f = z - 1.0; // exact: z is within a factor 2 of 1
    let (dh, dl) = fast_two_sum(2.0, f);
    // One division: u's high part need not be correctly rounded, its exact residual goes into ul.
    let inverse = 1.0 / dh;
    let uh = f * inverse;
    let ul = ((-uh).mul_add(dh, f) - uh * dl) * inverse;
    // ln z = 2u + 2u^3/3 + 2u^5 A(u^2): the first two terms in double-double, the rest (at most
    // 2^-12 of the total) in plain floats.
    let (v, v_err) = two_prod(uh, uh);
    let (cube, cube_err) = two_prod(uh, v);
    let cube_lo = cube_err + uh * v_err;
    let (third, third_err) = two_prod(cube, TWO_THIRDS_HI);
    let third_lo = third_err + (cube * TWO_THIRDS_LO + cube_lo * TWO_THIRDS_HI);
    let fifth = 2.0 * (cube * v) * horner(v, &ATANH_POLY);
    let from_ul = 2.0 * (ul + ul * v);
    let (ph, pl) = two_prod(e, LN2_HI);
    let (s1, s1_err) = two_sum(ph, 2.0 * uh);
    let (s2, s2_err) = two_sum(s1, third);
    let lo = (s1_err + s2_err) + (pl + e.mul_add(LN2_LO, third_lo + (fifth + from_ul)));
    let (hi, lo) = fast_two_sum(s2, lo);
    if x == 0.0 {
        (f64::NEG_INFINITY, 0.0)
    } else if x > 0.0 && x < f64::INFINITY {
        (hi, lo)
    } else {
        (f64::NAN, f64::NAN)
    }
}
