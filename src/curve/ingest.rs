//! Reading user arrays into a [`Series`]: gather blocks of [`BLOCK`] points (any float dtype, strided
//! views included, no copy of the whole array), check the steps, evaluate the LR, and split large inputs
//! across threads (exact sums make the split invisible in the result).

use super::kernel::BLOCK;
use super::series::{Block, Series};
use crate::error::{Error, Result};
use crate::parallel;
use crate::schedule::{finite_value, Schedule, StepValue};
use ndarray::{s, ArrayView1};
use rayon::prelude::*;

/// Largest step accepted: steps must be exact in float64.
pub const MAX_STEP: u64 = 1 << 53;
/// Inputs at least this long are split across threads.
const PARALLEL_MIN: usize = 1 << 17;

/// Where the LR of each point comes from.
#[derive(Clone, Copy)]
pub enum Lr<'a> {
    None,
    Values(ArrayView1<'a, f64>),
    Schedule(&'a Schedule),
}

impl<'a> Lr<'a> {
    fn slice(&self, lo: usize, hi: usize) -> Lr<'a> {
        match self {
            Lr::Values(v) => Lr::Values(v.slice_move(s![lo..hi])),
            other => *other,
        }
    }
}

/// One array of points: values, optional steps (else consecutive from `implicit_start`), optional LR.
#[derive(Clone, Copy)]
pub struct Input<'a, X, S> {
    pub values: ArrayView1<'a, X>,
    pub steps: Option<ArrayView1<'a, S>>,
    pub lr: Lr<'a>,
    pub implicit_start: u64,
    /// Names in error messages ("loss", "steps", "lr") and the index of `values[0]` in the user's array.
    pub what: &'a str,
    pub steps_what: &'a str,
    pub offset: usize,
}

impl<'a, X: StepValue, S: StepValue> Input<'a, X, S> {
    pub fn check_lengths(&self) -> Result<()> {
        let n = self.values.len();
        if let Some(st) = &self.steps {
            if st.len() != n {
                return Err(Error::LengthMismatch { what: self.steps_what.into(), expected: n, got: st.len() });
            }
        }
        if let Lr::Values(v) = &self.lr {
            if v.len() != n {
                return Err(Error::LengthMismatch { what: "lr".into(), expected: n, got: v.len() });
            }
        }
        Ok(())
    }

    fn slice(&self, lo: usize, hi: usize) -> Self {
        Input {
            values: self.values.slice_move(s![lo..hi]),
            steps: self.steps.map(|st| st.slice_move(s![lo..hi])),
            lr: self.lr.slice(lo, hi),
            implicit_start: self.implicit_start + lo as u64,
            offset: self.offset + lo,
            ..*self
        }
    }

    /// Append every point to `series` (steps already past its last step are the caller's check).
    pub fn append_to(&self, series: &mut Series) -> Result<()> {
        let n = self.values.len();
        let mut xs = [0f64; BLOCK];
        let mut ts = [0u64; BLOCK];
        let mut lrs = [0f64; BLOCK];
        let mut prev: Option<u64> = None;
        let contiguous = self.values.as_slice();
        for lo in (0..n).step_by(BLOCK) {
            let m = BLOCK.min(n - lo);
            match contiguous {
                Some(c) => xs[..m].iter_mut().zip(&c[lo..lo + m]).for_each(|(o, v)| *o = v.to_step()),
                None => xs[..m].iter_mut().zip(self.values.slice(s![lo..lo + m])).for_each(|(o, v)| *o = v.to_step()),
            }
            self.fill_steps(lo, &mut ts[..m], &mut prev)?;
            let has_lr = self.fill_lr(lo, &ts[..m], &mut lrs[..m])?;
            let blk = Block {
                ts: &ts[..m],
                xs: &xs[..m],
                lrs: has_lr.then_some(&lrs[..m]),
                offset: self.offset + lo,
                what: self.what,
            };
            series.append(&blk)?;
        }
        Ok(())
    }

    fn fill_steps(&self, lo: usize, ts: &mut [u64], prev: &mut Option<u64>) -> Result<()> {
        let Some(steps) = &self.steps else {
            let first = self.implicit_start + lo as u64;
            if first + ts.len() as u64 > MAX_STEP {
                return Err(Error::InvalidInput {
                    what: self.steps_what.into(),
                    index: self.offset + lo,
                    value: first as f64,
                    requirement: "must be < 2^53".into(),
                });
            }
            ts.iter_mut().enumerate().for_each(|(i, t)| *t = first + i as u64);
            return Ok(());
        };
        let m = ts.len();
        for (i, (t, v)) in ts.iter_mut().zip(steps.slice(s![lo..lo + m])).enumerate() {
            let x = v.to_step();
            let bad = |req: String| Error::InvalidInput { what: self.steps_what.into(), index: self.offset + lo + i, value: x, requirement: req };
            if !(x >= 0.0 && x < MAX_STEP as f64 && x.fract() == 0.0) {
                return Err(bad("must be a whole number in [0, 2^53)".into()));
            }
            let step = x as u64;
            if let Some(p) = *prev {
                if step <= p {
                    return Err(bad(format!(
                        "must be greater than the step before it ({p}): steps must be strictly increasing \
                         (a resumed run that rewound? keep only the last occurrence of each step)"
                    )));
                }
            }
            *prev = Some(step);
            *t = step;
        }
        Ok(())
    }

    fn fill_lr(&self, lo: usize, ts: &[u64], out: &mut [f64]) -> Result<bool> {
        match &self.lr {
            Lr::None => return Ok(false),
            Lr::Values(v) => {
                let m = out.len();
                out.iter_mut().zip(v.slice(s![lo..lo + m])).for_each(|(o, &x)| *o = x)
            }
            Lr::Schedule(sch) => {
                for (o, &t) in out.iter_mut().zip(ts) {
                    *o = finite_value(sch, t as f64)?;
                }
            }
        }
        for (i, &x) in out.iter().enumerate() {
            if !(x.is_finite() && x >= 0.0) {
                return Err(Error::InvalidInput { what: "lr".into(), index: self.offset + lo + i, value: x, requirement: "must be finite and >= 0".into() });
            }
        }
        Ok(true)
    }

    /// A new series (starting at `level`) holding every point, built in parallel for large inputs.
    pub fn to_series(&self, cap: usize, level: u32) -> Result<Series> {
        self.check_lengths()?;
        let n = self.values.len();
        // n distinct steps occupy at least ceil(n / 2^L) buckets at level L, so the final level is at
        // least this: starting there skips the fine levels (and their short runs) without changing
        // the result, which is the smallest level >= the start holding at most `cap` buckets.
        let mut level = level;
        while n.div_ceil(1usize << level.min(62)) > cap {
            level += 1;
        }
        let threads = parallel::threads();
        if n < PARALLEL_MIN || threads < 2 {
            let mut series = Series::new(cap, level);
            self.append_to(&mut series)?;
            return Ok(series);
        }
        let pieces = (threads * 2).min(n / (PARALLEL_MIN / 2)).max(2);
        let size = n.div_ceil(pieces);
        let parts: Vec<Result<Series>> = parallel::install(|| {
            (0..pieces)
                .into_par_iter()
                .map(|p| {
                    let (lo, hi) = ((p * size).min(n), ((p + 1) * size).min(n));
                    let mut series = Series::new(cap, level);
                    self.slice(lo, hi).append_to(&mut series).map(|_| series)
                })
                .collect()
        });
        let mut whole = Series::new(cap, level);
        for (p, part) in parts.into_iter().enumerate() {
            // Errors are reported in index order: the seam before piece p, then piece p itself.
            if let (true, Some(steps)) = (p > 0, &self.steps) {
                let (before, at) = (steps[p * size - 1].to_step(), steps[p * size].to_step());
                if at <= before {
                    return Err(Error::InvalidInput {
                        what: self.steps_what.into(),
                        index: self.offset + p * size,
                        value: at,
                        requirement: format!("must be greater than the step before it ({before}): steps must be strictly increasing"),
                    });
                }
            }
            whole.merge_after(part?, self.steps_what)?;
        }
        Ok(whole)
    }
}
