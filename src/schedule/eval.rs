//! Evaluating a schedule over many steps: strided input without copies, checked steps, and a split
//! across cores for large inputs.

use super::Schedule;
use crate::error::{Error, Result};
use crate::parallel;
use ndarray::{s, ArrayView1};
use rayon::prelude::*;

/// Element types accepted as step counts.
pub trait StepValue: Copy + Send + Sync {
    fn to_step(self) -> f64;
}

impl StepValue for i32 {
    fn to_step(self) -> f64 {
        self as f64
    }
}
impl StepValue for i64 {
    fn to_step(self) -> f64 {
        self as f64
    }
}
impl StepValue for u32 {
    fn to_step(self) -> f64 {
        self as f64
    }
}
impl StepValue for u64 {
    fn to_step(self) -> f64 {
        self as f64
    }
}
impl StepValue for f32 {
    fn to_step(self) -> f64 {
        self as f64
    }
}
impl StepValue for f64 {
    fn to_step(self) -> f64 {
        self
    }
}

/// Below this many elements one thread is faster than waking the pool.
const PARALLEL_MIN: usize = 1 << 15;
const CHUNK: usize = 1 << 13;

/// `out[i] = schedule(steps[i])`. Steps must be finite and >= 0; the error names the first bad index.
pub fn eval_into<T: StepValue>(schedule: &Schedule, steps: ArrayView1<T>, out: &mut [f64]) -> Result<()> {
    if steps.len() != out.len() {
        return Err(Error::LengthMismatch { what: "out".into(), expected: steps.len(), got: out.len() });
    }
    if out.len() < PARALLEL_MIN || !parallel::available() {
        return fill(schedule, steps, out, 0);
    }
    // Chunks report their own errors; the lowest index wins so the message does not depend on timing.
    let results: Vec<Result<()>> = parallel::install(|| {
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let lo = c * CHUNK;
                fill(schedule, steps.slice(s![lo..lo + chunk.len()]), chunk, lo)
            })
            .collect()
    });
    results.into_iter().collect()
}

fn fill<T: StepValue>(schedule: &Schedule, steps: ArrayView1<T>, out: &mut [f64], offset: usize) -> Result<()> {
    let put = |i: usize, x: T, o: &mut f64| -> Result<()> {
        let t = x.to_step();
        if !(t.is_finite() && t >= 0.0) {
            return Err(Error::InvalidInput {
                what: "steps".into(),
                index: offset + i,
                value: t,
                requirement: "must be finite and >= 0".into(),
            });
        }
        *o = finite_value(schedule, t)?;
        Ok(())
    };
    match steps.as_slice() {
        Some(contiguous) => {
            for (i, (&x, o)) in contiguous.iter().zip(out.iter_mut()).enumerate() {
                put(i, x, o)?;
            }
        }
        None => {
            for (i, (&x, o)) in steps.iter().zip(out.iter_mut()).enumerate() {
                put(i, x, o)?;
            }
        }
    }
    Ok(())
}

/// `schedule.value(t)`, or an error if the parameters overflow float64 at `t`.
#[inline]
pub fn finite_value(schedule: &Schedule, t: f64) -> Result<f64> {
    let v = schedule.value(t);
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::NonFiniteValue { step: t, value: v })
    }
}

/// `out[i] = schedule(start + i)`: the whole trajectory of a run.
pub fn trajectory_into(schedule: &Schedule, start: u64, out: &mut [f64]) -> Result<()> {
    let fill_from = |lo: usize, chunk: &mut [f64]| -> Result<()> {
        let base = start + lo as u64;
        for (i, o) in chunk.iter_mut().enumerate() {
            *o = finite_value(schedule, (base + i as u64) as f64)?;
        }
        Ok(())
    };
    if out.len() < PARALLEL_MIN || !parallel::available() {
        return fill_from(0, out);
    }
    let results: Vec<Result<()>> = parallel::install(|| {
        out.par_chunks_mut(CHUNK).enumerate().map(|(c, chunk)| fill_from(c * CHUNK, chunk)).collect()
    });
    results.into_iter().collect()
}
