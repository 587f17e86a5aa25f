//! The kernels against the platform libm: at most one ulp apart over the arguments schedules produce
//! (dense sweeps, random and log-uniform samples, and hard cases), and bit-identical across the SIMD
//! levels this CPU has.

use super::simd::{self, map_at, Isa, Kernel};
use super::*;
use proptest::prelude::*;

/// Distance in units in the last place between two finite floats of the same sign (or zeros).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    key(a).abs_diff(key(b))
}

/// A deterministic stream of uniform floats in [0, 1) (no dev-dependency needed for bulk sweeps).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Check `kernel(x) == reference(x)` within `max` ulps for every x; report the worst.
fn within(what: &str, xs: impl IntoIterator<Item = f64>, kernel: impl Fn(f64) -> f64, reference: impl Fn(f64) -> f64, max: u64) -> u64 {
    let mut worst = (0, 0.0);
    for x in xs {
        let (k, r) = (kernel(x), reference(x));
        let d = ulps(k, r);
        assert!(d <= max, "{what}: at x={x:e} kernel={k:e} libm={r:e}, {d} ulps apart");
        if d > worst.0 {
            worst = (d, x);
        }
    }
    worst.0
}

#[test]
fn cos_within_one_ulp_on_schedule_arguments() {
    // pi * s / n for the s/n every non-periodic schedule produces, n up to 10^6.
    let mut rng = Lcg(1);
    let sched = (0..200_000).map(|_| {
        let n = (rng.next() * 1e6).floor() + 1.0;
        std::f64::consts::PI * (rng.next() * n).floor() / n
    });
    within("cos pi*s/n", sched, cos, f64::cos, 1);
    let dense = (0..=2_000_000).map(|i| std::f64::consts::PI * i as f64 / 2_000_000.0);
    within("cos [0, pi]", dense, cos, f64::cos, 1);
}

#[test]
fn cos_within_one_ulp_up_to_its_limit() {
    let mut rng = Lcg(2);
    // Log-uniform over [2^-30, 2^28]: periodic cosines far past their first period.
    let wide = (0..300_000).map(|_| (2f64).powf(rng.next() * 58.0 - 30.0));
    within("cos log-uniform", wide, cos, f64::cos, 1);
    let negative = (0..50_000).map(|_| -rng.next() * 1e4);
    within("cos negative", negative, cos, f64::cos, 1);
    within("cos limit", [COS_MAX, 0.0, -0.0, 1e-300, f64::MIN_POSITIVE], cos, f64::cos, 1);
}

#[test]
fn cos_within_one_ulp_next_to_multiples_of_half_pi() {
    // The hardest reductions: doubles nearest k*pi/2, where cos is tiny and cancellation is worst.
    let mut xs = Vec::new();
    for k in (1..200_000u64).chain((0..2000).map(|i| 170_000_000 - i * 7919)) {
        let x = k as f64 * std::f64::consts::FRAC_PI_2;
        let mut y = x;
        for _ in 0..3 {
            y = f64::from_bits(y.to_bits() - 1);
        }
        for _ in 0..7 {
            xs.push(y);
            y = f64::from_bits(y.to_bits() + 1);
        }
    }
    within("cos near k*pi/2", xs, cos, f64::cos, 1);
}

#[test]
fn cos_refuses_what_it_cannot_reduce() {
    for x in [COS_MAX * 1.0000001, 1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        assert!(cos(x).is_nan(), "{x}");
    }
}

#[test]
fn exp_within_one_ulp_over_the_whole_range() {
    let mut rng = Lcg(3);
    let ys = (0..400_000).map(|_| rng.next() * 1460.0 - 750.0);
    within("exp", ys, |y| exp_dd(y, 0.0), f64::exp, 1);
    let small = (0..100_000).map(|_| (rng.next() - 0.5) * 1e-3);
    within("exp small", small, |y| exp_dd(y, 0.0), f64::exp, 1);
    assert_eq!(exp_dd(0.0, 0.0), 1.0);
    assert_eq!(exp_dd(-800.0, 0.0), 0.0);
    assert_eq!(exp_dd(710.0, 0.0), f64::INFINITY);
    assert_eq!(exp_dd(f64::NEG_INFINITY, 0.0), 0.0);
    assert!(exp_dd(f64::NAN, 0.0).is_nan());
}

#[test]
fn const_pow_within_one_ulp_of_libm_pow() {
    let mut rng = Lcg(4);
    for _ in 0..300 {
        let base = rng.next() * 1.5 + 0.01;
        let p = ConstPow::new(base);
        // Real exponents (exponential decay) and integer ones (step decay), up to 1e5.
        let real = (0..300).map(|_| rng.next() * 10f64.powf(rng.next() * 5.0));
        within("const pow real", real, |e| p.pow(e), |e| base.powf(e), 1);
        let int = (0..300).map(|_| (rng.next() * 2000.0).floor());
        within("const pow int", int, |e| p.pow(e), |e| base.powf(e), 1);
    }
}

#[test]
fn const_pow_is_exact_where_the_power_is() {
    for (base, k, want) in [(0.5, 3.0, 0.125), (2.0, 10.0, 1024.0), (0.25, 0.5, 0.5), (10.0, 3.0, 1000.0), (7.0, 0.0, 1.0)] {
        assert_eq!(ConstPow::new(base).pow(k), want, "{base}^{k}");
    }
    assert_eq!(ConstPow::new(1.0).pow(12345.678), 1.0);
    for x in [0.3, std::f64::consts::FRAC_1_SQRT_2, 1e-200, 0.9999999999999999] {
        assert_eq!(pow(x, 2.0), x * x, "{x}^2 is the correctly rounded square");
        assert_eq!(pow(x, 1.0), x);
    }
    assert_eq!(ConstPow::new(0.5).pow(1100.0), 0.0);
}

#[test]
fn huge_exponents_saturate_like_libm_at_every_simd_level() {
    // `c ln x` far past the float64 range: step decay with a tiny step size and gamma near 0 gave -1e23.
    let cases = [(1.8e-308, 1e24), (1.8e-308, 9.7e29), (0.5, 3e20), (2.0, 1e30), (0.5, -1e300), (1.0000001, 1e20), (3.0, -4e18)];
    for (x, c) in cases {
        assert_eq!(pow(x, c).to_bits(), x.powf(c).to_bits(), "{x}^{c}");
        assert_eq!(ConstPow::new(x).pow(c).to_bits(), x.powf(c).to_bits(), "{x}^{c}");
    }
    struct Pow(ConstPow);
    impl Kernel<f64> for Pow {
        #[inline(always)]
        fn at(&self, c: f64) -> f64 {
            self.0.pow(c)
        }
    }
    let exponents: Vec<f64> = (0..4096).map(|i| 1e20 * (1.0 + i as f64)).collect();
    for isa in simd::available() {
        let mut out = vec![1.0; exponents.len()];
        map_at(isa, &exponents, &mut out, &Pow(ConstPow::new(1.8e-308)));
        assert!(out.iter().all(|&v| v == 0.0), "{isa:?}");
    }
}

#[test]
#[allow(clippy::approx_constant)] // reference values typed from mpmath, ln 2 and sqrt 2 among them
fn ln_dd_is_a_double_double_to_2_pow_minus_62() {
    // (b, hi, lo) with ln(b) = hi + lo, computed with mpmath at 300 bits.
    let cases = [
        (0.1, -2.3025850929940455, -1.7150243628057985e-16),
        (0.5, -0.6931471805599453, -2.3190468138462996e-17),
        (0.9, -0.10536051565782628, 4.81014917638444e-18),
        (0.999, -0.0010005003335835344, -2.5644777003677798e-20),
        (3.0, 1.0986122886681098, -9.07129723500153e-17),
        (1e-300, -690.7755278982137, -2.3670096176709832e-14),
        (1.0000001, 9.999999505838704e-08, 1.5249709528441489e-24),
        (7.5e-320, -734.8123378704316, -7.648214876994079e-15),
        (1.4142135623730951, 0.3465735902799727, 2.4442169414592898e-17),
    ];
    for (b, hi, lo) in cases {
        let (h, l) = ln_dd(b);
        let err = ((h - hi) + (l - lo)).abs();
        assert!(err <= 2f64.powi(-62) * hi.abs(), "ln({b}) = {h} + {l}, want {hi} + {lo}: rel err {:e}", err / hi.abs());
    }
    assert!(ln_dd(-1.0).0.is_nan() && ln_dd(f64::NAN).0.is_nan() && ln_dd(f64::INFINITY).0.is_nan());
}

#[test]
fn ln_dd_within_one_ulp_and_pow_within_one_ulp() {
    let mut rng = Lcg(5);
    let xs: Vec<f64> = (0..200_000).map(|_| (2f64).powf(rng.next() * 2000.0 - 1070.0)).collect();
    within("ln", xs.iter().copied(), |x| { let (h, l) = ln_dd(x); h + l }, f64::ln, 1);
    // x^c on [0, 1]: polynomial decay (1 - s/n)^power and cosine ((1 + cos)/2)^exponent.
    for _ in 0..200 {
        let c = rng.next() * 8.0 + 0.05;
        let bases = (0..1000).map(|_| rng.next());
        within("pow", bases, |x| pow(x, c), |x| x.powf(c), 1);
    }
    assert_eq!(pow(0.0, 2.5), 0.0);
    assert_eq!(pow(1.0, 2.5), 1.0);
    assert_eq!(pow(0.25, 0.5), 0.5);
    assert_eq!(ln_dd(0.0).0, f64::NEG_INFINITY);
}

/// glibc documents up to 2 ulps for its own tanh (the kernel is the closer one in the cases checked
/// with mpmath, e.g. x = -0.3989424130106194), so the bound against it is 2.
#[test]
fn tanh_within_two_ulps_of_glibc() {
    let mut rng = Lcg(6);
    let xs = (0..400_000).map(|_| rng.next() * 60.0 - 30.0);
    within("tanh", xs, tanh, f64::tanh, 2);
    let small = (0..100_000).map(|_| (rng.next() - 0.5) * 0.6);
    within("tanh small", small, tanh, f64::tanh, 2);
    // Correctly rounded reference values from mpmath (300 bits).
    assert_eq!(tanh(-0.3989424130106194), -0.3790436863787983);
    assert_eq!(tanh(0.0), 0.0);
    assert_eq!(tanh(40.0), 1.0);
    assert_eq!(tanh(-40.0), -1.0);
}

#[test]
fn every_simd_level_gives_the_same_bits() {
    let mut rng = Lcg(7);
    let xs: Vec<f64> = (0..10_007).map(|_| rng.next() * 40.0).collect();
    let p = ConstPow::new(0.93);
    struct All(ConstPow, usize);
    impl Kernel<f64> for All {
        #[inline(always)]
        fn at(&self, x: f64) -> f64 {
            match self.1 {
                0 => cos(x),
                1 => self.0.pow(x),
                2 => pow(x / 40.0, 1.7),
                _ => tanh(x - 20.0),
            }
        }
    }
    for (i, name) in ["cos", "const pow", "pow", "tanh"].into_iter().enumerate() {
        let kernel = All(p, i);
        let mut reference = vec![0.0; xs.len()];
        map_at(Isa::Generic, &xs, &mut reference, &kernel);
        for isa in simd::available() {
            let mut out = vec![0.0; xs.len()];
            map_at(isa, &xs, &mut out, &kernel);
            let same = out.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{name} differs at {isa:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn cos_matches_libm(x in -1e6f64..1e6) {
        prop_assert!(ulps(cos(x), x.cos()) <= 1, "{x}");
    }

    #[test]
    fn const_pow_matches_libm(base in 0.3f64..3.0, p in 0.0f64..600.0) {
        let want = base.powf(p);
        prop_assume!(want.is_normal());
        prop_assert!(ulps(ConstPow::new(base).pow(p), want) <= 1, "{base}^{p}");
    }

    #[test]
    fn pow_matches_libm(x in 0.0f64..=1.0, c in 0.01f64..16.0) {
        let want = x.powf(c);
        prop_assume!(want == 0.0 || want.is_normal());
        prop_assert!(ulps(pow(x, c), want) <= 1, "{x}^{c}");
    }

    #[test]
    fn tanh_matches_libm(x in -40.0f64..40.0) {
        prop_assert!(ulps(tanh(x), x.tanh()) <= 2, "{x}");
    }
}
