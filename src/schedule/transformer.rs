//! Schedules from transformer training: inverse square root and warmup-stable-decay (WSD).

use super::fastmath::{Math, Scalar};
use super::{Family, Formula};
use crate::error::{check, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Linear warmup from 0 over `warmup_steps`, then `lr / sqrt((t + timescale - warmup_steps) /
/// timescale)`, which equals `lr` at the end of warmup (HF `get_inverse_sqrt_schedule`; "Attention is
/// all you need" with `timescale = warmup_steps`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseSqrt {
    pub lr: f64,
    pub warmup_steps: f64,
    pub timescale: f64,
}

impl Formula for InverseSqrt {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        if t < self.warmup_steps {
            return self.lr * (t / self.warmup_steps.max(1.0));
        }
        let shift = self.timescale - self.warmup_steps;
        self.lr * (1.0 / ((t + shift) / self.timescale).sqrt())
    }
}

impl Family for InverseSqrt {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::non_negative("warmup_steps", self.warmup_steps)?;
        check::positive("timescale", self.timescale)
    }
}

/// Shape of a WSD ramp, as a fraction `p` of the ramp goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayShape {
    Linear,
    Cosine,
    /// `1 - sqrt(p)` on the way down (HF "1-sqrt"), `1 - sqrt(1 - p)` on the way up.
    Sqrt,
}

impl DecayShape {
    /// Fraction of the way from the low to the high value, rising as `p` goes 0 -> 1.
    #[inline(always)]
    fn up<M: Math>(self, p: f64) -> f64 {
        // If-chains, not `match`: LLVM does not vectorise a loop holding a switch.
        if self == DecayShape::Linear {
            p
        } else if self == DecayShape::Cosine {
            0.5 * (1.0 - M::cos(PI * p))
        } else {
            1.0 - (1.0 - p).sqrt()
        }
    }
    /// Fraction of the way from the low to the high value, falling as `p` goes 0 -> 1.
    #[inline(always)]
    fn down<M: Math>(self, p: f64) -> f64 {
        if self == DecayShape::Linear {
            1.0 - p
        } else if self == DecayShape::Cosine {
            0.5 * (1.0 + M::cos(PI * p))
        } else {
            1.0 - p.sqrt()
        }
    }
}

/// Warmup-stable-decay ("trapezoidal"): `min_lr -> lr` over `warmup_steps`, `lr` for `stable_steps`,
/// `lr -> min_lr` over `decay_steps`, then `min_lr` (HF `get_wsd_schedule`, MiniCPM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wsd {
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: f64,
    pub stable_steps: f64,
    pub decay_steps: f64,
    pub warmup_shape: DecayShape,
    pub decay_shape: DecayShape,
}

impl Formula for Wsd {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let span = self.lr - self.min_lr;
        let decay_start = self.warmup_steps + self.stable_steps;
        // Each phase's value computed, then one chosen: selects, so a loop of this vectorises.
        let warm = self.min_lr + span * self.warmup_shape.up::<M>(t / self.warmup_steps.max(1.0));
        let cool = self.min_lr + span * self.decay_shape.down::<M>((t - decay_start) / self.decay_steps.max(1.0));
        if t < self.warmup_steps {
            warm
        } else if t < decay_start {
            self.lr
        } else if t < decay_start + self.decay_steps {
            cool
        } else {
            self.min_lr
        }
    }
}

impl Family for Wsd {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::lr("min_lr", self.min_lr)?;
        check::non_negative("warmup_steps", self.warmup_steps)?;
        check::non_negative("stable_steps", self.stable_steps)?;
        check::non_negative("decay_steps", self.decay_steps)
    }
}
