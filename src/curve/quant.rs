//! Log-loss as exact integers: `yq = round(ln(x) * 2^24)`.
//!
//! Every statistic the diagnosis keeps is a sum of integers derived from `yq`, so sums are exact and
//! associative: any chunking, merge order or thread count gives bit-identical state. The price is a
//! resolution of 2^-24 ≈ 6e-8 in log-loss (a relative resolution of the loss itself of 6e-8, float32's
//! own), far below any noise a training loss carries.
//!
//! `ln_fast` is a branch-free logarithm the compiler can vectorise; it is within 1e-9 of `f64::ln`,
//! a hundredth of the quantum.

/// Fixed-point scale of the quantised log-loss: one unit is 2^-24 in natural-log units.
pub const Q: f64 = (1u64 << 24) as f64;
/// 1.5 * 2^52: adding it rounds any |v| < 2^51 to an integer held in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// ln 2 split: the high part has its low 32 mantissa bits cleared, so `e * LN2_HI` is exact.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
const SQRT2: f64 = std::f64::consts::SQRT_2;

/// ln(x) for positive normal finite `x` (callers check [`is_usable`]); plain mul/add (no FMA) so every
/// build computes the same bits. Written without branches or int-to-float conversions so it vectorises.
#[inline(always)]
pub fn ln_fast(x: f64) -> f64 {
    let bits = x.to_bits();
    let m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    // Fold the mantissa into [sqrt(1/2), sqrt(2)) so the series argument stays below 0.172.
    let big = m > SQRT2;
    let m = if big { m * 0.5 } else { m };
    // The exponent as a float without a conversion instruction: 2^52 + k has k in its low bits.
    let biased = (bits >> 52) + big as u64;
    let e = f64::from_bits(0x4330_0000_0000_0000 | biased) - (4_503_599_627_370_496.0 + 1023.0);
    // ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m - 1)/(m + 1); |s| <= 0.1716.
    let s = (m - 1.0) / (m + 1.0);
    let z = s * s;
    // Truncated after s^9/9: the error (< 7e-10) is a hundredth of the 2^-24 quantum.
    let mut p = 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    let ln_m = 2.0 * s + 2.0 * s * (z * p);
    e * LN2_HI + (e * LN2_LO + ln_m)
}

/// Round to the nearest integer (ties to even) for |v| < 2^51 without a float-to-int conversion.
#[inline(always)]
pub fn round_to_i64(v: f64) -> i64 {
    ((v + ROUND_MAGIC).to_bits() as i64) - (ROUND_MAGIC.to_bits() as i64)
}

/// A loss value the fast path can take: finite, positive and normal (a range test on the bits).
#[inline(always)]
pub fn is_usable(x: f64) -> bool {
    x.to_bits().wrapping_sub(0x0010_0000_0000_0000) < 0x7FE0_0000_0000_0000
}

/// The quantised log of a usable value.
#[inline(always)]
pub fn quantise_fast(x: f64) -> i64 {
    round_to_i64(ln_fast(x) * Q)
}

/// The quantised log of any positive finite value (subnormals included): the slow path.
pub fn quantise(x: f64) -> i64 {
    if is_usable(x) {
        quantise_fast(x)
    } else {
        round_to_i64(x.ln() * Q)
    }
}

/// `ys[i] = quantise_fast(xs[i])`; false if some value is not usable (then `ys` is meaningless).
#[inline(always)]
fn quantise_block_body(xs: &[f64], ys: &mut [i64]) -> bool {
    let mut unusable = 0u64;
    for (y, &x) in ys.iter_mut().zip(xs) {
        let ok = is_usable(x);
        unusable += !ok as u64;
        *y = quantise_fast(if ok { x } else { 1.0 });
    }
    unusable == 0
}

super::simd::dispatch! {
    /// [`quantise_block_body`] compiled for the widest vector unit available.
    pub fn quantise_block(xs: &[f64], ys: &mut [i64]) -> bool = quantise_block_body;
}

/// Quantised log-loss back to natural-log units.
#[inline]
pub fn to_log(v: f64) -> f64 {
    v / Q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_fast_matches_std_ln() {
        let mut worst: f64 = 0.0;
        let mut x = f64::MIN_POSITIVE;
        while x < 1e300 {
            for k in 0..7 {
                let v = x * (1.0 + k as f64 * 0.137);
                worst = worst.max((ln_fast(v) - v.ln()).abs());
            }
            x *= 1.37;
        }
        for i in 1..100_000 {
            let v = 0.5 + i as f64 * 1.5e-5;
            worst = worst.max((ln_fast(v) - v.ln()).abs());
        }
        assert!(worst < 1e-9, "worst |ln_fast - ln| = {worst}");
    }

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(round_to_i64(2.5), 2);
        assert_eq!(round_to_i64(3.5), 4);
        assert_eq!(round_to_i64(-2.6), -3);
        assert_eq!(round_to_i64(12_345_678_901.4), 12_345_678_901);
    }

    #[test]
    fn subnormals_take_the_slow_path() {
        let tiny = 1e-310;
        assert!(!is_usable(tiny));
        assert_eq!(quantise(tiny), round_to_i64(tiny.ln() * Q));
        assert!(!is_usable(f64::NAN) && !is_usable(f64::INFINITY) && !is_usable(0.0) && !is_usable(-1.0));
    }
}
