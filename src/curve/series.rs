//! A stream of (step, loss) points as a bounded set of time buckets whose boundaries are fixed by the
//! step number, not by when the points arrived.
//!
//! Buckets at `level` cover `[k * 2^level, (k + 1) * 2^level)`. The level is always the smallest one
//! (from where the stream started) at which at most `cap` buckets are occupied; when an append or a
//! merge exceeds `cap`, aligned pairs of buckets are merged and the level goes up. That rule makes the
//! level, and with exact sums the whole state, a function of the set of points alone: appending in any
//! chunks, or merging adjacent pieces in any grouping, gives the identical state.
//!
//! The first and last two finite points are kept so that merging two adjacent pieces can add the
//! first differences and sign changes that straddle the seam.

use super::bucket::{coarsen, Bucket};
use super::kernel::{add_point_sums, fold_run};
use super::quant;
use crate::error::{Error, Result};

/// A finite point, kept at the edges of a piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: u64,
    pub yq: i64,
}

/// Raw finite points kept exactly from the start of the run.
pub const HEAD_POINTS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub cap: usize,
    pub level: u32,
    /// Occupied buckets, sorted by index.
    pub buckets: Vec<Bucket>,
    /// The first [`HEAD_POINTS`] and the last two finite points (the head gives the start level of a
    /// run that rises within its first buckets, and the seam differences when merging).
    pub head: Vec<Point>,
    pub tail: Vec<Point>,
    /// First and last step of any point (finite or not), and the number of points.
    pub first_step: Option<u64>,
    pub last_step: Option<u64>,
    pub count: u64,
}

/// One block of points to append: steps, values and (optionally) the LR at each point.
pub struct Block<'a> {
    pub ts: &'a [u64],
    pub xs: &'a [f64],
    pub lrs: Option<&'a [f64]>,
    /// Index of `xs[0]` in the caller's array, for error messages.
    pub offset: usize,
    /// Name of the value array in error messages.
    pub what: &'a str,
}

impl Series {
    pub fn new(cap: usize, level: u32) -> Self {
        Series { cap, level, buckets: Vec::new(), head: Vec::new(), tail: Vec::new(), first_step: None, last_step: None, count: 0 }
    }

    /// The step an implicit-step point appended next would get.
    pub fn next_step(&self) -> u64 {
        self.last_step.map_or(0, |s| s + 1)
    }

    /// Bytes held by this series (its structs and heap buffers).
    pub fn nbytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.buckets.capacity() * std::mem::size_of::<Bucket>()
            + (self.head.capacity() + self.tail.capacity()) * std::mem::size_of::<Point>()
    }

    fn last_delta(&self) -> Option<i64> {
        match self.tail.as_slice() {
            [a, b] => Some(b.yq - a.yq),
            _ => None,
        }
    }

    /// Record the finite points `(ts[i], ys[i])` (in order) at the edges.
    fn note_edges(&mut self, ts: &[u64], ys: &[i64]) {
        for (&t, &yq) in ts.iter().zip(ys).take(HEAD_POINTS.saturating_sub(self.head.len())) {
            self.head.push(Point { t, yq });
        }
        let m = ts.len();
        for i in m.saturating_sub(2)..m {
            if self.tail.len() == 2 {
                self.tail.remove(0);
            }
            self.tail.push(Point { t: ts[i], yq: ys[i] });
        }
    }

    /// Index of the bucket holding step `t`, which must not precede the last occupied bucket;
    /// created (and the level raised if that overflows `cap`) when missing.
    fn bucket_for(&mut self, t: u64) -> usize {
        let idx = t >> self.level;
        if self.buckets.last().is_none_or(|b| b.idx != idx) {
            self.buckets.push(Bucket::empty(idx));
            while self.buckets.len() > self.cap {
                coarsen(&mut self.buckets, self.level);
                self.level += 1;
            }
        }
        self.buckets.len() - 1
    }

    /// The bucket holding step `t`, if occupied.
    pub fn find_bucket(&mut self, t: u64) -> Option<&mut Bucket> {
        let idx = t >> self.level;
        let i = self.buckets.binary_search_by_key(&idx, |b| b.idx).ok()?;
        self.buckets.get_mut(i)
    }

    /// Append one block of points, steps strictly increasing and after `last_step` (the caller
    /// checked). Values must be positive or non-finite; a finite value <= 0 is an error.
    pub fn append(&mut self, blk: &Block<'_>) -> Result<()> {
        let m = blk.xs.len();
        if m == 0 {
            return Ok(());
        }
        let mut ys = [0i64; super::kernel::BLOCK];
        if !quant::quantise_block(blk.xs, &mut ys[..m]) {
            return self.append_slow(blk);
        }
        self.first_step.get_or_insert(blk.ts[0]);
        let ys = &ys[..m];
        let mut a = 0;
        while a < m {
            let t = blk.ts[a];
            let prev_point = self.tail.last().copied();
            let prev_delta = self.last_delta();
            let bi = self.bucket_for(t);
            let level = self.level;
            let b = &mut self.buckets[bi];
            // Steps increase, so the run ends at the first step past this bucket.
            let e = if blk.ts[m - 1] >> level == b.idx { m } else { a + 1 + blk.ts[a + 1..].partition_point(|&t| t >> level == b.idx) };
            if let Some(p) = prev_point {
                let d = ys[a] - p.yq;
                b.add_delta(d, t, prev_delta);
                if e - a >= 2 {
                    b.add_pair(d, ys[a + 1] - ys[a]);
                }
            }
            fold_run(b, b.idx << level, &blk.ts[a..e], &ys[a..e]);
            if let Some(lrs) = blk.lrs {
                fold_lr(b, &lrs[a..e]);
            }
            self.note_edges(&blk.ts[a..e], &ys[a..e]);
            a = e;
        }
        self.count += m as u64;
        self.last_step = Some(blk.ts[m - 1]);
        Ok(())
    }

    /// Point by point, exact: blocks holding NaN/Inf, zeros, negatives or subnormals.
    fn append_slow(&mut self, blk: &Block<'_>) -> Result<()> {
        for (i, &x) in blk.xs.iter().enumerate() {
            if x.is_finite() && x <= 0.0 {
                return Err(Error::InvalidInput {
                    what: blk.what.to_owned(),
                    index: blk.offset + i,
                    value: x,
                    requirement: "must be > 0 (the diagnosis reads log-loss; NaN/Inf mark divergence)".into(),
                });
            }
        }
        self.first_step.get_or_insert(blk.ts[0]);
        for (i, (&x, &t)) in blk.xs.iter().zip(blk.ts).enumerate() {
            let bi = self.bucket_for(t);
            let level = self.level;
            if !x.is_finite() {
                let b = &mut self.buckets[bi];
                b.nbad += 1;
                b.t_bad = b.t_bad.min(t);
                continue;
            }
            let y = quant::quantise(x);
            let prev_point = self.tail.last().copied();
            let prev_delta = self.last_delta();
            let b = &mut self.buckets[bi];
            add_point_sums(b, b.idx << level, t, y);
            b.ymin = b.ymin.min(y);
            b.ymax = b.ymax.max(y);
            b.t_first = b.t_first.min(t);
            b.t_last = b.t_last.max(t);
            if let Some(p) = prev_point {
                b.add_delta(y - p.yq, t, prev_delta);
            }
            if let Some(lrs) = blk.lrs {
                fold_lr(b, &lrs[i..i + 1]);
            }
            self.note_edges(&[t], &[y]);
        }
        self.count += blk.xs.len() as u64;
        self.last_step = blk.ts.last().copied().or(self.last_step);
        Ok(())
    }
}

fn fold_lr(b: &mut Bucket, lrs: &[f64]) {
    for &lr in lrs {
        b.nlr += 1;
        b.lr_min = b.lr_min.min(lr);
        b.lr_max = b.lr_max.max(lr);
        if lr > 0.0 {
            b.nlr_pos += 1;
            b.slr += quant::quantise(lr) as i128;
        }
    }
}
