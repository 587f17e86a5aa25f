//! Batch forms of the compositions: the wrapped schedules run as batches too.

use super::{eval_at, run, run2, Isa, Kernel2, Scratch};
use crate::schedule::fastmath::{Math, Vector, VectorUnitPow};
use crate::schedule::compose::ramp;
use crate::schedule::{Product, Sequence, Warmup, WarmupShape};
use std::marker::PhantomData;

/// The warmup's ramp before `warmup_steps`, the wrapped schedule's value after.
struct WarmupK<M> {
    shape: WarmupShape,
    start_lr: f64,
    warmup_steps: f64,
    target: f64,
    math: PhantomData<M>,
}

impl<M: Math> Kernel2<f64, f64> for WarmupK<M> {
    /// `t` and the wrapped schedule's value at `t - warmup_steps` (meaningless while warming up).
    #[inline(always)]
    fn at(&self, t: f64, inner: f64) -> f64 {
        let ramp = ramp::<M>(self.shape, self.start_lr, self.warmup_steps, t, self.target);
        if t >= self.warmup_steps {
            inner
        } else {
            ramp
        }
    }
}

pub fn warmup(isa: Isa, f: &Warmup, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) {
    let w = f.warmup_steps;
    let past = ts.iter().fold(0usize, |n, &t| n + (t >= w) as usize);
    let mut local = scratch.take(ts.len());
    run(isa, ts, &mut local, |t: f64| if t >= w { t - w } else { 0.0 });
    if past == ts.len() {
        // The whole block is past the warmup (most blocks of a trajectory): the wrapped schedule only.
        eval_at(isa, &f.schedule, &local, out, scratch);
        scratch.give(local);
        return;
    }
    let mut inner = scratch.take(ts.len());
    if past > 0 {
        eval_at(isa, &f.schedule, &local, &mut inner, scratch);
    }
    let target = f.schedule.value(0.0);
    // Only the exponential ramp takes a power.
    let (shape, start_lr, warmup_steps) = (f.shape, f.start_lr, f.warmup_steps);
    if shape == WarmupShape::Exponential {
        run2(isa, ts, &inner, out, WarmupK::<Vector> { shape, start_lr, warmup_steps, target, math: PhantomData });
    } else {
        run2(isa, ts, &inner, out, WarmupK::<VectorUnitPow> { shape, start_lr, warmup_steps, target, math: PhantomData });
    }
    scratch.give(inner);
    scratch.give(local);
}

pub fn sequence(isa: Isa, f: &Sequence, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) {
    let start_of = |i: usize| if i == 0 { 0.0 } else { f.boundaries[i - 1] };
    // Which piece each step falls in (`partition_point(|&b| b <= t)`), counted without branches.
    let pieces: Vec<u32> = if f.boundaries.len() <= 16 {
        ts.iter().map(|&t| f.boundaries.iter().map(|&b| (b <= t) as u32).sum()).collect()
    } else {
        ts.iter().map(|&t| f.boundaries.partition_point(|&b| b <= t) as u32).collect()
    };
    let first = pieces.first().copied().unwrap_or(0);
    if pieces.iter().all(|&p| p == first) {
        // The common case for trajectories and sorted steps: one piece for the whole block.
        let start = start_of(first as usize);
        let mut local = scratch.take(ts.len());
        run(isa, ts, &mut local, |t: f64| t - start);
        eval_at(isa, &f.schedules[first as usize], &local, out, scratch);
        scratch.give(local);
        return;
    }
    // Mixed pieces: a counting sort groups the steps by piece (no data-dependent branches, which
    // random steps would mispredict), each group is evaluated as one batch, values go back by index.
    let mut offsets = vec![0usize; f.schedules.len() + 1];
    for &p in &pieces {
        offsets[p as usize + 1] += 1;
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut next = offsets.clone();
    let mut order = vec![0u32; ts.len()];
    for (i, &p) in pieces.iter().enumerate() {
        order[next[p as usize]] = i as u32;
        next[p as usize] += 1;
    }
    let mut local = scratch.take(ts.len());
    for (l, &i) in local.iter_mut().zip(&order) {
        *l = ts[i as usize] - start_of(pieces[i as usize] as usize);
    }
    let mut values = scratch.take(ts.len());
    for (i, schedule) in f.schedules.iter().enumerate() {
        let (lo, hi) = (offsets[i], offsets[i + 1]);
        if lo < hi {
            eval_at(isa, schedule, &local[lo..hi], &mut values[lo..hi], scratch);
        }
    }
    for (&i, &v) in order.iter().zip(&values) {
        out[i as usize] = v;
    }
    scratch.give(values);
    scratch.give(local);
}

pub fn product(isa: Isa, f: &Product, ts: &[f64], out: &mut [f64], scratch: &mut Scratch) {
    let Some((first, rest)) = f.schedules.split_first() else {
        out.fill(1.0);
        return;
    };
    eval_at(isa, first, ts, out, scratch);
    let mut factor = scratch.take(ts.len());
    for s in rest {
        eval_at(isa, s, ts, &mut factor, scratch);
        for (o, &x) in out.iter_mut().zip(&factor) {
            *o *= x;
        }
    }
    scratch.give(factor);
}
