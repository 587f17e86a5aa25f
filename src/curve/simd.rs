//! Compiling the hot loops for the vector units this CPU has.
//!
//! The wheel targets baseline x86-64; `dispatch!` builds an AVX-512 and an AVX2 copy of a loop with
//! `#[target_feature]` next to the baseline one and picks one at run time. All copies compute the same
//! integers and the same IEEE operations (no fused multiply-add: Rust never contracts `a * b + c`), so
//! the state is bit-identical whichever runs.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Baseline,
    Avx2,
    Avx512,
}

/// The widest vector level this CPU supports (`LRPULSE_SIMD=baseline|avx2` caps it, for tests).
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = std::env::var("LRPULSE_SIMD").unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        {
            let avx512 = is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512dq") && is_x86_feature_detected!("avx512vl");
            let avx2 = is_x86_feature_detected!("avx2");
            if avx512 && cap != "baseline" && cap != "avx2" {
                return Level::Avx512;
            }
            if avx2 && cap != "baseline" {
                return Level::Avx2;
            }
        }
        let _ = cap;
        Level::Baseline
    })
}

/// `dispatch!(fn name(args) -> ret = body_fn);` defines `name` calling `body_fn` (an
/// `#[inline(always)]` function) compiled for the CPU's best level.
macro_rules! dispatch {
    ($(#[$m:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:path;) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2,popcnt")]
                fn wide($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,bmi2,popcnt")]
                fn mid($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                match $crate::curve::simd::level() {
                    // SAFETY: `level()` returned this level only after detecting its features.
                    $crate::curve::simd::Level::Avx512 => return unsafe { wide($($arg),*) },
                    // SAFETY: as above.
                    $crate::curve::simd::Level::Avx2 => return unsafe { mid($($arg),*) },
                    $crate::curve::simd::Level::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use dispatch;
