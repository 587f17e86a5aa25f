//! The classic decays: constant, step ("halve every N epochs"), multi-step, exponential, 1/t
//! (inverse time), polynomial and linear.

use super::fastmath::{Math, Scalar};
use super::{pow, Family, Formula};
use crate::error::{check, Result};
use serde::{Deserialize, Serialize};

/// `lr` at every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    pub lr: f64,
}

impl Family for Constant {
    fn value(&self, _t: f64) -> f64 {
        self.lr
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)
    }
}

/// `lr * gamma^floor(t / step_size)`: the classic "halve every N epochs" when `gamma = 0.5`
/// (torch `StepLR`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDecay {
    pub lr: f64,
    pub step_size: f64,
    pub gamma: f64,
}

impl Formula for StepDecay {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        self.lr * M::pow(self.gamma, (t / self.step_size).floor())
    }
}

impl Family for StepDecay {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::positive("step_size", self.step_size)?;
        check::positive("gamma", self.gamma)
    }
}

/// `lr * gamma^(number of milestones <= t)` (torch `MultiStepLR`: the drop happens at the milestone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStep {
    pub lr: f64,
    pub milestones: Vec<f64>,
    pub gamma: f64,
}

impl Family for MultiStep {
    fn value(&self, t: f64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        self.lr * pow(self.gamma, passed as f64)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::increasing("milestones", &self.milestones)?;
        check::positive("gamma", self.gamma)
    }
}

/// `lr * decay_rate^((t - begin) / decay_steps)`, the exponent floored when `staircase`; `lr` before
/// `begin`; optionally clipped at `end_lr` (optax `exponential_decay`, Keras `ExponentialDecay`,
/// torch `ExponentialLR` with `decay_steps = 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exponential {
    pub lr: f64,
    pub decay_rate: f64,
    pub decay_steps: f64,
    pub staircase: bool,
    pub begin: f64,
    pub end_lr: Option<f64>,
}

impl Formula for Exponential {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let count = t - self.begin;
        if count <= 0.0 {
            return self.lr;
        }
        let mut p = count / self.decay_steps;
        if self.staircase {
            p = p.floor();
        }
        let v = self.lr * M::pow(self.decay_rate, p);
        match self.end_lr {
            Some(end) if self.decay_rate < 1.0 => v.max(end),
            Some(end) => v.min(end),
            None => v,
        }
    }
}

impl Family for Exponential {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::positive("decay_rate", self.decay_rate)?;
        check::positive("decay_steps", self.decay_steps)?;
        check::non_negative("begin", self.begin)?;
        if let Some(end) = self.end_lr {
            check::lr("end_lr", end)?;
        }
        Ok(())
    }
}

/// The 1/t decay `lr / (1 + decay_rate * t / decay_steps)`, the ratio floored when `staircase`
/// (Keras `InverseTimeDecay`; `lr0 / (1 + k t)` with `decay_steps = 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseTime {
    pub lr: f64,
    pub decay_rate: f64,
    pub decay_steps: f64,
    pub staircase: bool,
}

impl Formula for InverseTime {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let mut p = t / self.decay_steps;
        if self.staircase {
            p = p.floor();
        }
        self.lr / (1.0 + self.decay_rate * p)
    }
}

impl Family for InverseTime {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::non_negative("decay_rate", self.decay_rate)?;
        check::positive("decay_steps", self.decay_steps)
    }
}

/// `(lr - end_lr) * (1 - s / decay_steps)^power + end_lr` with `s = clamp(t - begin, 0, decay_steps)`.
/// With `cycle` (Keras), the horizon instead grows to the next multiple of `decay_steps` and the
/// decay restarts from there (torch `PolynomialLR`, optax `polynomial_schedule`, Keras `PolynomialDecay`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Polynomial {
    pub lr: f64,
    pub end_lr: f64,
    pub decay_steps: f64,
    pub power: f64,
    pub cycle: bool,
    pub begin: f64,
}

impl Formula for Polynomial {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let count = (t - self.begin).max(0.0);
        let (s, horizon) = if self.cycle {
            let mult = if count == 0.0 { 1.0 } else { (count / self.decay_steps).ceil() };
            (count, self.decay_steps * mult)
        } else {
            (count.min(self.decay_steps), self.decay_steps)
        };
        (self.lr - self.end_lr) * M::pow(1.0 - s / horizon, self.power) + self.end_lr
    }
}

impl Family for Polynomial {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::lr("end_lr", self.end_lr)?;
        check::positive("decay_steps", self.decay_steps)?;
        check::positive("power", self.power)?;
        check::non_negative("begin", self.begin)
    }
}

/// `lr * (start_factor + (end_factor - start_factor) * min(t - begin, steps) / steps)`, `lr *
/// start_factor` before `begin` (torch `LinearLR`; a linear warmup or decay between two factors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    pub lr: f64,
    pub start_factor: f64,
    pub end_factor: f64,
    pub steps: f64,
    pub begin: f64,
}

impl Formula for Linear {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let s = (t - self.begin).clamp(0.0, self.steps);
        self.lr * (self.start_factor + (self.end_factor - self.start_factor) * s / self.steps)
    }
}

impl Family for Linear {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::non_negative("start_factor", self.start_factor)?;
        check::non_negative("end_factor", self.end_factor)?;
        check::positive("steps", self.steps)?;
        check::non_negative("begin", self.begin)
    }
}
