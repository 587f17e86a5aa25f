//! Composition: warmup in front of any schedule, sequences of schedules, and products of schedules.

use super::fastmath::{Math, Scalar};
use super::{Family, Schedule};
use crate::error::{check, Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmupShape {
    Linear,
    Cos,
    /// Geometric ramp `start_lr * (target / start_lr)^p`; needs `start_lr > 0`.
    Exponential,
}

/// `warmup_steps` steps ramping from `start_lr` to the wrapped schedule's first value, then the wrapped
/// schedule, which sees its own local step (`t - warmup_steps`), as HF's `*_with_warmup` and Keras'
/// `warmup_target` do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warmup {
    pub schedule: Box<Schedule>,
    pub warmup_steps: f64,
    pub start_lr: f64,
    pub shape: WarmupShape,
}

/// A warmup's LR at `t < warmup_steps`, ramping from `start_lr` toward `target`, the wrapped schedule's
/// first LR (shared by `Warmup::value` and the array path).
#[inline(always)]
pub(crate) fn ramp<M: Math>(shape: WarmupShape, start_lr: f64, warmup_steps: f64, t: f64, target: f64) -> f64 {
    let p = t / warmup_steps;
    // An if-chain, not a `match`: LLVM does not vectorise a loop holding a switch.
    if shape == WarmupShape::Linear {
        start_lr + (target - start_lr) * p
    } else if shape == WarmupShape::Cos {
        start_lr + (target - start_lr) * 0.5 * (1.0 - M::cos(PI * p))
    } else {
        start_lr * M::pow(target / start_lr, p)
    }
}

impl Family for Warmup {
    fn value(&self, t: f64) -> f64 {
        if t >= self.warmup_steps {
            return self.schedule.value(t - self.warmup_steps);
        }
        ramp::<Scalar>(self.shape, self.start_lr, self.warmup_steps, t, self.schedule.value(0.0))
    }
    fn validate(&self) -> Result<()> {
        self.schedule.validate()?;
        check::positive("warmup_steps", self.warmup_steps)?;
        check::lr("start_lr", self.start_lr)?;
        let target = self.schedule.value(0.0);
        if self.start_lr > target {
            return Err(Error::param(
                "start_lr",
                &format!("must be <= the wrapped schedule's first LR ({target}) for a warmup"),
                self.start_lr,
            ));
        }
        if self.shape == WarmupShape::Exponential && self.start_lr <= 0.0 {
            return Err(Error::param("start_lr", "must be > 0 for an exponential warmup", self.start_lr));
        }
        Ok(())
    }
}

/// `schedules[i]` from `boundaries[i-1]` (inclusive) to `boundaries[i]`, each seeing its own local
/// step `t - boundaries[i-1]` (optax `join_schedules`, torch `SequentialLR`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    pub schedules: Vec<Schedule>,
    pub boundaries: Vec<f64>,
}

impl Family for Sequence {
    fn value(&self, t: f64) -> f64 {
        let i = self.boundaries.partition_point(|&b| b <= t);
        let start = if i == 0 { 0.0 } else { self.boundaries[i - 1] };
        self.schedules[i].value(t - start)
    }
    fn validate(&self) -> Result<()> {
        check::increasing("boundaries", &self.boundaries)?;
        if self.schedules.len() != self.boundaries.len() + 1 {
            return Err(Error::LengthMismatch {
                what: "schedules".into(),
                expected: self.boundaries.len() + 1,
                got: self.schedules.len(),
            });
        }
        self.schedules.iter().try_for_each(Schedule::validate)
    }
}

/// The product of the schedules' values at every step (torch `ChainedScheduler` of multiplicative
/// schedulers: express each as a factor schedule starting at 1 and one `constant(base_lr)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub schedules: Vec<Schedule>,
}

impl Family for Product {
    fn value(&self, t: f64) -> f64 {
        self.schedules.iter().map(|s| s.value(t)).product()
    }
    fn validate(&self) -> Result<()> {
        if self.schedules.is_empty() {
            return Err(Error::param("schedules", "must not be empty", "[]"));
        }
        self.schedules.iter().try_for_each(Schedule::validate)
    }
}
