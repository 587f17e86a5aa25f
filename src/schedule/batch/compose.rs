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
    let mut local = scratch.take(ts.len());
    run(isa, ts, &mut local, |t: f64| if t >= w { t - w } else { 0.0 });
    let mut inner = scratch.take(ts.len());
    eval_at(isa, &f.schedule, &local, &mut inner, scratch);
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
    let piece = |t: f64| f.boundaries.partition_point(|&b| b <= t);
    let first = ts.first().map_or(0, |&t| piece(t));
    let start_of = |i: usize| if i == 0 { 0.0 } else { f.boundaries[i - 1] };
    if ts.iter().all(|&t| piece(t) == first) {
        // The common case for trajectories and sorted steps: one piece for the whole block.
        let start = start_of(first);
        let mut local = scratch.take(ts.len());
        run(isa, ts, &mut local, |t: f64| t - start);
        eval_at(isa, &f.schedules[first], &local, out, scratch);
        scratch.give(local);
        return;
    }
    // Mixed pieces: gather each piece's steps, evaluate them together, scatter the values back.
    let pieces: Vec<usize> = ts.iter().map(|&t| piece(t)).collect();
    let mut local = scratch.take(0);
    let mut values = scratch.take(0);
    for (i, schedule) in f.schedules.iter().enumerate() {
        let start = start_of(i);
        local.clear();
        local.extend(ts.iter().zip(&pieces).filter(|(_, &p)| p == i).map(|(&t, _)| t - start));
        if local.is_empty() {
            continue;
        }
        values.clear();
        values.resize(local.len(), 0.0);
        eval_at(isa, schedule, &local, &mut values, scratch);
        let targets = out.iter_mut().zip(&pieces).filter(|(_, &p)| p == i);
        for ((o, _), &v) in targets.zip(&values) {
            *o = v;
        }
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
