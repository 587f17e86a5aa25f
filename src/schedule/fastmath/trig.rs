//! `cos`, branch-free so a loop of it vectorises, within one ulp of the platform libm.
//!
//! Range reduction: `|x| = k * pi/2 + r` with `k = round(|x| * 2/pi)`. `pi/2` is carried in three
//! floats (159 bits). The first step `|x| - k * PIO2_1` is exact under a fused multiply-add (the
//! difference is below 1 and a multiple of `min(ulp(x), 2^-52)`); the rest is kept as a double-double
//! `rh + rl`. For `|x| <= COS_MAX` the reduced argument's absolute error is below `k * 2^-159 <=
//! 2^-131`, far under the closest any double comes to a multiple of pi/2 (about 2^-61), so the
//! reduction adds no visible error. Larger arguments (only a `periodic` cosine after 85 million
//! periods produces them) return NaN, and the caller recomputes those few elements with libm.
//!
//! On `|r| <= pi/4`: `sin r = r + r^3 S(r^2)`, `cos r = 1 - r^2/2 + r^4 C(r^2)`; the first two terms of
//! `cos` are summed exactly, so the only rounding of size is the last addition. S and C are minimax
//! fits of degree 6 in `r^2` (relative fit error 2^-63.6 and 2^-65.8), computed with mpmath.

use super::dd::{two_prod, two_sum};

/// Largest `|x|` the kernel reduces itself (`2^28`).
pub const COS_MAX: f64 = 268_435_456.0;

const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;
/// `pi/2 = PIO2_1 + PIO2_2 + PIO2_3` to 159 bits.
const PIO2_1: f64 = std::f64::consts::FRAC_PI_2;
const PIO2_2: f64 = 6.123233995736766e-17;
const PIO2_3: f64 = -1.4973849048591698e-33;
/// `1.5 * 2^52`: adding it rounds a float below 2^51 to an integer, which lands in the low mantissa bits.
pub(crate) const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `(sin(r) / r - 1) / r^2` as a polynomial in `z = r^2`, `|r| <= pi/4`.
const SIN_POLY: [f64; 7] = [
    -0.16666666666666666,
    0.008333333333333331,
    -0.00019841269841265027,
    2.7557319219313375e-06,
    -2.5052106224390935e-08,
    1.605853045875861e-10,
    -7.586634452497333e-13,
];
/// `(cos(r) - 1 + r^2/2) / r^4` as a polynomial in `z = r^2`, `|r| <= pi/4`.
const COS_POLY: [f64; 7] = [
    0.041666666666666664,
    -0.0013888888888888887,
    2.4801587301584632e-05,
    -2.7557319221393486e-07,
    2.0876755788162617e-09,
    -1.1470460467288604e-11,
    4.7458491938876224e-14,
];

/// Horner's rule with fused multiply-adds, lowest coefficient first.
#[inline(always)]
pub(crate) fn horner<const N: usize>(z: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = acc.mul_add(z, c[i]);
    }
    acc
}

/// `cos(x)` for `|x| <= COS_MAX`, NaN beyond (and for NaN). Within 1 ulp of a correctly rounded cos.
#[inline(always)]
pub fn cos(x: f64) -> f64 {
    let a = x.abs();
    let shifted = a.mul_add(TWO_OVER_PI, ROUND_MAGIC);
    let quadrant = shifted.to_bits() & 3;
    let k = shifted - ROUND_MAGIC;
    // a - k*pi/2 as rh + rl.
    let r1 = (-k).mul_add(PIO2_1, a);
    let (p, p_err) = two_prod(k, PIO2_2);
    let (s, s_err) = two_sum(r1, -p);
    let (rh, rl) = two_sum(s, (s_err - p_err) - k * PIO2_3);
    let z = rh * rh;

    // sin(rh + rl) = rh + rh*z*S(z) + rl*(1 - z/2)
    let sin_tail = (rh * z).mul_add(horner(z, &SIN_POLY), rl - 0.5 * z * rl);
    let sin_r = rh + sin_tail;

    // cos(rh + rl) = 1 - rh^2/2 + z^2*C(z) - rh*rl, with 1 - rh^2/2 carried exactly.
    let half = 0.5 * rh;
    let h = half * rh;
    let h_err = half.mul_add(rh, -h);
    let w = 1.0 - h;
    let w_err = (1.0 - w) - h;
    let cos_tail = w_err + ((z * z).mul_add(horner(z, &COS_POLY), -h_err) - rh * rl);
    let cos_r = w + cos_tail;

    // Quadrants 0..3 give cos r, -sin r, -cos r, sin r.
    let v = if quadrant & 1 == 0 { cos_r } else { sin_r };
    let flip = ((quadrant + 1) & 2) << 62;
    let v = f64::from_bits(v.to_bits() ^ flip);
    if a <= COS_MAX {
        v
    } else {
        f64::NAN
    }
}
