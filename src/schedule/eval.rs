//! Evaluating a schedule over many steps: strided input read in place, steps checked, blocks of steps
//! run through the vector kernels (see `batch`), and large inputs split across cores.
//!
//! Work is cut into blocks of `BLOCK` steps at fixed offsets (multiples of `BLOCK` from the start of
//! the array), and every element's value depends only on its own step, so results are bit-identical
//! whatever the thread count. An element a kernel cannot cover (NaN from the block) is recomputed with
//! the scalar `value`, which is also where a schedule that overflows float64 is reported.

use super::batch::{self, Scratch};
use super::fastmath::simd;
use super::Schedule;
use crate::error::{Error, Result};
use crate::parallel;
use ndarray::{s, ArrayView1};
use rayon::prelude::*;

/// Element types accepted as step counts.
pub trait StepValue: Copy + Send + Sync {
    fn to_step(self) -> f64;
}

macro_rules! step_value {
    ($($t:ty),*) => {$(
        impl StepValue for $t {
            #[inline(always)]
            fn to_step(self) -> f64 {
                self as f64
            }
        }
    )*};
}
step_value!(i32, i64, u32, u64, f32, f64);

/// Below this many elements one thread is faster than waking the pool.
const PARALLEL_MIN: usize = 1 << 15;
/// Elements per parallel task (a multiple of `BLOCK`).
const TASK: usize = 1 << 14;
/// Elements per kernel call: the steps and values of a block stay in L1 cache.
const BLOCK: usize = 1 << 11;
/// Integers up to here are exact in float64.
const EXACT_INTEGERS: u64 = 1 << 53;
/// 0.0, 1.0, ..., BLOCK - 1 as floats: a trajectory block is `start + COUNT`.
static COUNT: [f64; BLOCK] = {
    let mut c = [0.0; BLOCK];
    let mut i = 0;
    while i < BLOCK {
        c[i] = i as f64;
        i += 1;
    }
    c
};

/// `out[i] = schedule(steps[i])`. Steps must be finite and >= 0; the error names the first bad index.
pub fn eval_into<T: StepValue>(schedule: &Schedule, steps: ArrayView1<T>, out: &mut [f64]) -> Result<()> {
    if steps.len() != out.len() {
        return Err(Error::LengthMismatch { what: "out".into(), expected: steps.len(), got: out.len() });
    }
    let constant = match schedule {
        Schedule::Constant(c) => Some(c.lr),
        _ => None,
    };
    for_each_block(out, |lo, block, ts, scratch| {
        load_steps(steps.slice(s![lo..lo + block.len()]), ts);
        check_steps(ts, lo)?;
        match constant {
            Some(lr) => {
                block.fill(lr);
                Ok(())
            }
            None => evaluate(schedule, ts, block, scratch),
        }
    })
}

/// `out[i] = schedule(start + i)`: the whole trajectory of a run.
pub fn trajectory_into(schedule: &Schedule, start: u64, out: &mut [f64]) -> Result<()> {
    if start.checked_add(out.len() as u64).is_none() {
        return Err(Error::param("start", &format!("must leave room for {} steps below 2^64", out.len()), start));
    }
    if let Schedule::Constant(c) = schedule {
        // Nothing to compute: a parallel fill (the value is validated finite).
        return for_each_block(out, |_, block, _, _| {
            block.fill(c.lr);
            Ok(())
        });
    }
    for_each_block(out, |lo, block, ts, scratch| {
        let base = start + lo as u64;
        ts.clear();
        if base + block.len() as u64 <= EXACT_INTEGERS {
            // Exact integers: base + i as a float add, no int->float conversion per element.
            let b = base as f64;
            ts.extend(COUNT[..block.len()].iter().map(|&i| b + i));
        } else {
            ts.extend((0..block.len() as u64).map(|i| (base + i) as f64));
        }
        evaluate(schedule, ts, block, scratch)
    })
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

/// Run `work(offset, block, steps buffer, scratch)` over `out` in blocks, in parallel when large.
/// With several errors, the one at the lowest offset wins, so the message does not depend on timing.
fn for_each_block<W>(out: &mut [f64], work: W) -> Result<()>
where
    W: Fn(usize, &mut [f64], &mut Vec<f64>, &mut Scratch) -> Result<()> + Sync,
{
    let run_task = |lo: usize, task: &mut [f64]| -> Result<()> {
        let mut ts = Vec::with_capacity(BLOCK.min(task.len()));
        let mut scratch = Scratch::default();
        for (b, block) in task.chunks_mut(BLOCK).enumerate() {
            work(lo + b * BLOCK, block, &mut ts, &mut scratch)?;
        }
        Ok(())
    };
    if out.len() < PARALLEL_MIN || !parallel::available() {
        return run_task(0, out);
    }
    let results: Vec<Result<()>> = parallel::install(|| {
        out.par_chunks_mut(TASK).enumerate().map(|(c, task)| run_task(c * TASK, task)).collect()
    });
    results.into_iter().collect()
}

/// Convert a block of steps to float64 (contiguous blocks through the vector loop).
fn load_steps<T: StepValue>(steps: ArrayView1<T>, ts: &mut Vec<f64>) {
    ts.clear();
    match steps.as_slice() {
        Some(contiguous) => {
            ts.resize(contiguous.len(), 0.0);
            simd::map(contiguous, ts, &|x: T| x.to_step());
        }
        None => ts.extend(steps.iter().map(|x| x.to_step())),
    }
}

/// Every step finite and >= 0, else an error naming the first bad one by its index in the array.
fn check_steps(ts: &[f64], offset: usize) -> Result<()> {
    // A non-short-circuiting fold vectorises; the bad index is searched only on failure.
    let valid = 0.0..=f64::MAX;
    if simd::all(ts, ts, |t, _| valid.contains(&t)) {
        return Ok(());
    }
    let (i, &t) = ts.iter().enumerate().find(|(_, t)| !valid.contains(*t)).unwrap_or((0, &f64::NAN));
    Err(Error::InvalidInput {
        what: "steps".into(),
        index: offset + i,
        value: t,
        requirement: "must be finite and >= 0".into(),
    })
}

/// One block through the kernels, then the scalar path for any element they left non-finite.
fn evaluate(schedule: &Schedule, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) -> Result<()> {
    batch::eval_block(schedule, ts, out, scratch);
    if simd::all(out, out, |v: f64, _| v.is_finite()) {
        return Ok(());
    }
    for (o, &t) in out.iter_mut().zip(ts) {
        if !o.is_finite() {
            *o = finite_value(schedule, t)?;
        }
    }
    Ok(())
}
