//! `e^y` for a double-double argument, and what is built on it: `pow` (with a hoisted `ln(base)` for
//! the constant bases of exponential-type decays) and `tanh`.
//!
//! Reduction: `y = k ln2 + r`, `|r| <= ln2/2`, with `ln2` in two floats (106 bits) and `r` kept as a
//! double-double; the first step is exact under a fused multiply-add. Then `e^r = 1 + r + r^2/2 +
//! r^3 E(r)` with `1 + r + r^2/2` summed exactly, so the result carries one final rounding plus
//! about 2^-60 relative error. `E` is a degree-10 minimax fit (relative fit error 2^-60.6, computed
//! with mpmath). The scale `2^k` is applied in two halves so results that underflow to subnormals
//! round once and large arguments saturate to 0 and inf like libm.

use super::dd::{fast_two_sum, two_prod, two_sum};
use super::log::ln_dd;
use super::trig::{horner, ROUND_MAGIC};

const INV_LN2: f64 = std::f64::consts::LOG2_E;
/// `ln2 = LN2_HI + LN2_LO` to 106 bits.
pub(crate) const LN2_HI: f64 = std::f64::consts::LN_2;
pub(crate) const LN2_LO: f64 = 2.3190468138462996e-17;
/// Beyond this `|y|` the result is 0 or inf anyway; clamping keeps `k` in the two-step scale's range.
const Y_LIMIT: f64 = 1100.0;

/// `(e^r - 1 - r - r^2/2) / r^3`, `|r| <= ln2/2`.
const EXP_POLY: [f64; 11] = [
    0.16666666666666666,
    0.04166666666666667,
    0.008333333333333331,
    0.0013888888888883722,
    0.0001984126984128364,
    2.4801587325642207e-05,
    2.7557319199889906e-06,
    2.755727351831016e-07,
    2.5052116036347258e-08,
    2.0914740508441995e-09,
    1.6071692406176904e-10,
];

/// `e^(yh + yl)` as `(hi, lo, k)` with the value `(hi + lo) * 2^k`, `hi` in `[0.7, 1.42]`.
#[inline(always)]
fn exp_parts(yh: f64, yl: f64) -> (f64, f64, i64) {
    // Past the limit the low part goes too: `c ln x` for a huge `c` carries a low part that is itself
    // huge (1e10 beside 7e26), and added to the clamped high part it made pow(1.8e-308, 1e24) negative.
    // A select, not a branch; `clamp` keeps NaN a NaN.
    let yl = if yh.abs() <= Y_LIMIT { yl } else { 0.0 };
    let yh = yh.clamp(-Y_LIMIT, Y_LIMIT);
    let shifted = yh.mul_add(INV_LN2, ROUND_MAGIC);
    let k = shifted - ROUND_MAGIC;
    let k_int = (shifted.to_bits() as i64).wrapping_sub(ROUND_MAGIC.to_bits() as i64);
    let r1 = (-k).mul_add(LN2_HI, yh);
    let (p, p_err) = two_prod(k, LN2_LO);
    let (s, s_err) = two_sum(r1, -p);
    let (rh, rl) = two_sum(s, (s_err - p_err) + yl);

    let half = 0.5 * rh;
    let h = half * rh;
    let h_err = half.mul_add(rh, -h);
    let (one_r, one_r_err) = fast_two_sum(1.0, rh);
    let cube = rh * rh * rh;
    let tail = one_r_err + h_err + cube.mul_add(horner(rh, &EXP_POLY), rl * one_r);
    let (hi, lo) = fast_two_sum(one_r, h);
    let (hi, lo) = fast_two_sum(hi, lo + tail);
    (hi, lo, k_int)
}

/// `2^k` as two factors that are both normal floats for `|k| <= 2044`.
#[inline(always)]
fn scale_factors(k: i64) -> (f64, f64) {
    let k1 = k >> 1;
    let k2 = k.wrapping_sub(k1);
    (f64::from_bits((k1.wrapping_add(1023) as u64) << 52), f64::from_bits((k2.wrapping_add(1023) as u64) << 52))
}

/// `e^(yh + yl)`, within one ulp of a correctly rounded result (0 and inf past the range of float64).
#[inline(always)]
pub fn exp_dd(yh: f64, yl: f64) -> f64 {
    let (hi, lo, k) = exp_parts(yh, yl);
    let (s1, s2) = scale_factors(k);
    (hi + lo) * s1 * s2
}

/// `base^p` for a fixed `base > 0`, with `ln(base)` computed once: the same operations as [`pow`],
/// so `ConstPow::new(b).pow(p) == pow(b, p)` bit for bit.
#[derive(Debug, Clone, Copy)]
pub struct ConstPow {
    base: f64,
    ln: (f64, f64),
}

impl ConstPow {
    pub fn new(base: f64) -> Self {
        ConstPow { base, ln: ln_dd(base) }
    }

    /// `base^p`.
    #[inline(always)]
    pub fn pow(&self, p: f64) -> f64 {
        pow_from_ln(self.base, self.ln, p)
    }
}

/// `x^c` for `x >= 0`: `e^(c ln x)` with `c ln x` carried as a double-double. Exact for `c = 1`
/// (libm's `pow(x, 1)` is `x`) and correctly rounded `x * x` for `c = 2`, 0 for `x = 0 < c`, NaN
/// for `x < 0`. The error is at most 0.53 ulp
/// plus `|c ln x| 2^-62` relative from the logarithm (under 0.5 ulp even at the float64 range's
/// ends), so within one ulp of libm.
#[inline(always)]
pub fn pow(x: f64, c: f64) -> f64 {
    pow_from_ln(x, ln_dd(x), c)
}

#[inline(always)]
fn pow_from_ln(x: f64, (lh, ll): (f64, f64), c: f64) -> f64 {
    let (yh, err) = two_prod(c, lh);
    let v = exp_dd(yh, c.mul_add(ll, err));
    if c == 1.0 {
        x
    } else if c == 2.0 {
        x * x
    } else if x == 0.0 {
        if c == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        v // NaN for x < 0 or NaN (ln_dd's NaN)
    }
}

/// `(tanh(x) / x - 1) / x^2` for `|x| <= 1/8`.
const TANH_POLY: [f64; 7] = [
    -0.3333333333333333,
    0.13333333333333322,
    -0.05396825396815105,
    0.021869488496608705,
    -0.008863228290102828,
    0.0035914470280833995,
    -0.0014239969961958743,
];

/// `tanh(x)`, within one ulp of a correctly rounded result.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    // Small |x|: odd polynomial.
    let v = a * a;
    let small = (a * v).mul_add(horner(v, &TANH_POLY), a);
    // Otherwise (e^2a - 1) / (e^2a + 1) from a double-double e^2a. Past 25, tanh rounds to 1.
    let a2 = if a > 25.0 { 50.0 } else { 2.0 * a };
    let (hi, lo, k) = exp_parts(a2, 0.0);
    let scale = f64::from_bits((k.wrapping_add(1023) as u64) << 52);
    let (eh, el) = (hi * scale, lo * scale);
    let (mh, ml) = two_sum(eh, -1.0);
    let ml = ml + el;
    let (dh, dl) = two_sum(mh, 2.0);
    let dl = dl + ml;
    let q = mh / dh;
    let q = q + (((-q).mul_add(dh, mh) + ml) - q * dl) / dh;
    let big = if a < 0.125 { small } else { q };
    big.copysign(x)
}
