//! Running a loop body compiled for the best vector instruction set this CPU has.
//!
//! The wheel targets baseline x86-64 (SSE2), so AVX2+FMA and AVX-512 copies of each loop are compiled
//! with `#[target_feature]` and chosen at run time. Every copy executes the same IEEE operations (Rust
//! never contracts `a * b + c`; fused operations appear only as explicit `mul_add`), so results are
//! bit-identical whichever copy runs; only the speed differs.
//!
//! Loop bodies are [`Kernel`]s whose `at` is `#[inline(always)]`, so they inline into the
//! feature-enabled copy (a closure that LLVM declines to inline would be compiled for baseline x86-64,
//! turning every `mul_add` into a libm call). Without FMA in hardware (x86-64 before 2013) there is
//! no fast path: [`current`] returns `None` and callers use libm.
//!
//! `LRPULSE_SIMD=off|generic|avx2|avx512` caps the choice, for tests and benchmarks.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level a loop can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// No target features beyond the build's: fast only where FMA is baseline (aarch64).
    Generic = 1,
    Avx2 = 2,
    Avx512 = 3,
}

/// The body of an element-wise loop over one input.
pub trait Kernel<A: Copy> {
    fn at(&self, a: A) -> f64;
}

/// The body of an element-wise loop over two inputs.
pub trait Kernel2<A: Copy, B: Copy> {
    fn at(&self, a: A, b: B) -> f64;
}

/// Small closures inline on their own; big bodies should be structs with an `#[inline(always)]` `at`.
impl<A: Copy, F: Fn(A) -> f64> Kernel<A> for F {
    #[inline(always)]
    fn at(&self, a: A) -> f64 {
        self(a)
    }
}

impl<A: Copy, B: Copy, F: Fn(A, B) -> f64> Kernel2<A, B> for F {
    #[inline(always)]
    fn at(&self, a: A, b: B) -> f64 {
        self(a, b)
    }
}

/// The best level this CPU runs, or `None` where `mul_add` would be a slow libm call.
fn detect() -> Option<Isa> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("fma")
        {
            return Some(Isa::Avx512);
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some(Isa::Avx2);
        }
    }
    if cfg!(any(target_arch = "aarch64", target_feature = "fma")) {
        Some(Isa::Generic)
    } else {
        None
    }
}

/// Levels this CPU can run (for tests), lowest first; `Generic` always runs, if slowly.
pub fn available() -> Vec<Isa> {
    let best = detect().unwrap_or(Isa::Generic);
    [Isa::Generic, Isa::Avx2, Isa::Avx512].into_iter().filter(|&i| i <= best).collect()
}

/// The level loops run at, capped by `LRPULSE_SIMD`; `None` means "use libm". Detected once.
pub fn current() -> Option<Isa> {
    static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);
    let decode = |v: u8| match v {
        1 => Some(Isa::Generic),
        2 => Some(Isa::Avx2),
        3 => Some(Isa::Avx512),
        _ => None,
    };
    let cached = LEVEL.load(Ordering::Relaxed);
    if cached != u8::MAX {
        return decode(cached);
    }
    let best = detect();
    let level = match std::env::var("LRPULSE_SIMD").as_deref().map(str::trim) {
        Ok("off") => None,
        Ok("generic") => Some(Isa::Generic),
        Ok("avx2") => best.map(|b| b.min(Isa::Avx2)),
        _ => best,
    };
    LEVEL.store(level.map_or(0, |l| l as u8), Ordering::Relaxed);
    level
}

fn supported(isa: Isa) -> bool {
    detect().is_some_and(|best| isa <= best)
}

/// `out[i] = k.at(a[i])` at the current level (generic where there is none: for bodies without
/// `mul_add`, such as conversions, that is still fast).
#[inline(always)]
pub fn map<A: Copy, K: Kernel<A>>(a: &[A], out: &mut [f64], k: &K) {
    map_at(current().unwrap_or(Isa::Generic), a, out, k)
}

/// `out[i] = k.at(a[i])` compiled for `isa` (an unsupported level runs the generic copy).
#[inline(always)]
pub fn map_at<A: Copy, K: Kernel<A>>(isa: Isa, a: &[A], out: &mut [f64], k: &K) {
    debug_assert_eq!(a.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && supported(isa) {
            // SAFETY: the CPU has every feature `map_avx512` is compiled with.
            return unsafe { map_avx512(a, out, k) };
        }
        if isa == Isa::Avx2 && supported(isa) {
            // SAFETY: as above, for AVX2 and FMA.
            return unsafe { map_avx2(a, out, k) };
        }
    }
    let _ = supported(isa);
    map_body(a, out, k)
}

/// `out[i] = k.at(a[i], b[i])` compiled for `isa`.
#[inline(always)]
pub fn zip_at<A: Copy, B: Copy, K: Kernel2<A, B>>(isa: Isa, a: &[A], b: &[B], out: &mut [f64], k: &K) {
    debug_assert!(a.len() == out.len() && b.len() == out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && supported(isa) {
            // SAFETY: as in `map_at`.
            return unsafe { zip_avx512(a, b, out, k) };
        }
        if isa == Isa::Avx2 && supported(isa) {
            // SAFETY: as in `map_at`.
            return unsafe { zip_avx2(a, b, out, k) };
        }
    }
    zip_body(a, b, out, k)
}

/// Whether `pred(a[i], b[i])` holds for every `i`, at the current level. No short-circuit, so the
/// loop vectorises; for the checks that run over every block (valid steps, finite values, sorted).
#[inline(always)]
pub fn all<A: Copy, B: Copy, P: Fn(A, B) -> bool>(a: &[A], b: &[B], pred: P) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let isa = current().unwrap_or(Isa::Generic);
        if isa == Isa::Avx512 && supported(isa) {
            // SAFETY: as in `map_at`.
            return unsafe { all_avx512(a, b, pred) };
        }
        if isa == Isa::Avx2 && supported(isa) {
            // SAFETY: as in `map_at`.
            return unsafe { all_avx2(a, b, pred) };
        }
    }
    all_body(a, b, pred)
}

#[inline(always)]
fn all_body<A: Copy, B: Copy, P: Fn(A, B) -> bool>(a: &[A], b: &[B], pred: P) -> bool {
    a.iter().zip(b).fold(true, |ok, (&x, &y)| ok & pred(x, y))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn all_avx2<A: Copy, B: Copy, P: Fn(A, B) -> bool>(a: &[A], b: &[B], pred: P) -> bool {
    all_body(a, b, pred)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn all_avx512<A: Copy, B: Copy, P: Fn(A, B) -> bool>(a: &[A], b: &[B], pred: P) -> bool {
    all_body(a, b, pred)
}

#[inline(always)]
fn map_body<A: Copy, K: Kernel<A>>(a: &[A], out: &mut [f64], k: &K) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = k.at(x);
    }
}

#[inline(always)]
fn zip_body<A: Copy, B: Copy, K: Kernel2<A, B>>(a: &[A], b: &[B], out: &mut [f64], k: &K) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = k.at(x, y);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_avx2<A: Copy, K: Kernel<A>>(a: &[A], out: &mut [f64], k: &K) {
    map_body(a, out, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn map_avx512<A: Copy, K: Kernel<A>>(a: &[A], out: &mut [f64], k: &K) {
    map_body(a, out, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn zip_avx2<A: Copy, B: Copy, K: Kernel2<A, B>>(a: &[A], b: &[B], out: &mut [f64], k: &K) {
    zip_body(a, b, out, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn zip_avx512<A: Copy, B: Copy, K: Kernel2<A, B>>(a: &[A], b: &[B], out: &mut [f64], k: &K) {
    zip_body(a, b, out, k)
}
