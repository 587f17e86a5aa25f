//! One-value entry points for `Schedule::value`: the same kernels the array paths run, so a scalar
//! call and an array element agree bit for bit. On x86-64 they run through a copy compiled with FMA
//! when the CPU has it (in baseline x86-64 code each `mul_add` would be a libm call, 3-4x slower).

/// Call `$kernel($args)` through an FMA-enabled copy named `$copy` when the CPU has FMA.
macro_rules! with_fma {
    ($copy:ident, $kernel:path, $($arg:ident),*) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "fma")]
            fn $copy($($arg: f64),*) -> f64 {
                $kernel($($arg),*)
            }
            if std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has FMA, the only feature the copy is compiled with.
                unsafe { $copy($($arg),*) }
            } else {
                $kernel($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $kernel($($arg),*)
        }
    }};
}

/// `cos(x)` for any `x`: the kernel, or libm past [`super::COS_MAX`] where the kernel does not reduce.
#[inline]
pub fn cos(x: f64) -> f64 {
    let c = with_fma!(cos_fma, super::cos, x);
    if c.is_nan() {
        x.cos()
    } else {
        c
    }
}

/// `x^c` for `x >= 0` (see [`super::pow`]).
#[inline]
pub fn pow(x: f64, c: f64) -> f64 {
    with_fma!(pow_fma, super::pow, x, c)
}

/// `tanh(x)`.
#[inline]
pub fn tanh(x: f64) -> f64 {
    with_fma!(tanh_fma, super::tanh, x)
}

