//! Double-double building blocks: a value carried as an unevaluated sum `hi + lo` of two floats, which
//! holds about 106 bits. The kernels use them where one rounding would cost more than the final ulp
//! they promise (range reduction, `1 + r`, `p * ln(base)`).

/// `a + b` exactly, as `(rounded sum, rounding error)` (Knuth's two-sum; no ordering needed).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_virtual = s - a;
    let a_virtual = s - b_virtual;
    (s, (a - a_virtual) + (b - b_virtual))
}

/// `a + b` exactly when `|a| >= |b|` (or `a == 0`): Dekker's fast two-sum.
#[inline(always)]
pub fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a * b` exactly, as `(rounded product, rounding error)`; the fused multiply-add makes the error exact.
#[inline(always)]
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}
