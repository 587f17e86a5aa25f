//! Cosine annealing, cosine with warm restarts (SGDR) and tanh decay.

use super::fastmath::{Math, Scalar};
use super::{Family, Formula};
use crate::error::{check, Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Half-cosine from `lr` down to `min_lr` over `decay_steps` steps starting at `begin`:
/// `min_lr + (lr - min_lr) * ((1 + cos(pi * s / decay_steps)) / 2)^exponent`, `s = t - begin`.
/// Past the end it holds `min_lr`, or with `periodic` keeps following the cosine back up (what torch's
/// `CosineAnnealingLR` does past `T_max`). A negative `begin` means the decay is already under way at
/// step 0 (HF's `cosine_warmup_with_min_lr` evaluates its cosine one step ahead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosine {
    pub lr: f64,
    pub min_lr: f64,
    pub decay_steps: f64,
    pub exponent: f64,
    pub periodic: bool,
    pub begin: f64,
}

/// `((1 + cos(pi * s / n)) / 2)^exponent`, in the operation order torch uses (cos and pow are
/// lrpulse's kernels, within one ulp of libm, so arrays and scalars agree bit for bit).
#[inline(always)]
pub(crate) fn half_cosine<M: Math>(s: f64, n: f64, exponent: f64) -> f64 {
    let c = (1.0 + M::cos(PI * s / n)) / 2.0;
    if exponent == 1.0 {
        c
    } else {
        M::pow(c, exponent)
    }
}

impl Formula for Cosine {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let mut s = (t - self.begin).max(0.0);
        if !self.periodic {
            s = s.min(self.decay_steps);
        }
        self.min_lr + (self.lr - self.min_lr) * half_cosine::<M>(s, self.decay_steps, self.exponent)
    }
}

impl Family for Cosine {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::lr("min_lr", self.min_lr)?;
        check::positive("decay_steps", self.decay_steps)?;
        check::positive("exponent", self.exponent)?;
        check::finite("begin", self.begin)
    }
}

/// SGDR: cosine cycles from `lr` to `min_lr`, the first `period` steps long, each next one
/// `period_mult` times longer, each peak's height above `min_lr` multiplied by `decay` per cycle
/// (Keras `m_mul`), and an optional linear warmup of `cycle_warmup` steps from `min_lr` at the start of
/// every cycle (torch `CosineAnnealingWarmRestarts`, Keras `CosineDecayRestarts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineRestarts {
    pub lr: f64,
    pub min_lr: f64,
    pub period: f64,
    pub period_mult: f64,
    pub decay: f64,
    pub cycle_warmup: f64,
    pub exponent: f64,
}

impl CosineRestarts {
    /// (cycle index, cycle start, cycle length) of step `t`.
    pub fn cycle(&self, t: f64) -> (f64, f64, f64) {
        if self.period_mult == 1.0 {
            let i = (t / self.period).floor();
            return (i, i * self.period, self.period);
        }
        // Cycle lengths grow geometrically, so this loop runs O(log t) times.
        let (mut i, mut start, mut len) = (0.0, 0.0, self.period);
        while t >= start + len {
            start += len;
            len *= self.period_mult;
            i += 1.0;
        }
        (i, start, len)
    }
}

impl CosineRestarts {
    /// The height above `min_lr` of cycle `i`'s peak.
    #[inline(always)]
    pub(crate) fn amplitude<M: Math>(&self, i: f64) -> f64 {
        if self.decay == 1.0 {
            self.lr - self.min_lr
        } else {
            (self.lr - self.min_lr) * M::pow(self.decay, i)
        }
    }

    /// The LR at `t` in the cycle that starts at `start` and lasts `len` steps.
    #[inline(always)]
    pub(crate) fn in_cycle<M: Math>(&self, t: f64, start: f64, len: f64, amplitude: f64) -> f64 {
        // `i * period` can round a hair above `t` at a cycle boundary; the step is then the cycle's first.
        let local = (t - start).max(0.0);
        if local < self.cycle_warmup {
            return self.min_lr + amplitude * (local / self.cycle_warmup);
        }
        self.past_warmup::<M>(local, len, amplitude)
    }

    /// The LR `local >= cycle_warmup` steps into a cycle of `len` steps: the half cosine.
    #[inline(always)]
    pub(crate) fn past_warmup<M: Math>(&self, local: f64, len: f64, amplitude: f64) -> f64 {
        let shape = half_cosine::<M>(local - self.cycle_warmup, len - self.cycle_warmup, self.exponent);
        self.min_lr + amplitude * shape
    }
}

impl Family for CosineRestarts {
    fn value(&self, t: f64) -> f64 {
        let (i, start, len) = self.cycle(t);
        self.in_cycle::<Scalar>(t, start, len, self.amplitude::<Scalar>(i))
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::lr("min_lr", self.min_lr)?;
        check::positive("period", self.period)?;
        if !(self.period_mult.is_finite() && self.period_mult >= 1.0) {
            return Err(Error::param("period_mult", "must be >= 1", self.period_mult));
        }
        check::positive("decay", self.decay)?;
        check::non_negative("cycle_warmup", self.cycle_warmup)?;
        if self.cycle_warmup >= self.period {
            return Err(Error::param(
                "cycle_warmup",
                &format!("must be < period ({})", self.period),
                self.cycle_warmup,
            ));
        }
        check::positive("exponent", self.exponent)
    }
}

/// Tanh decay (Hsueh et al. 2019; timm `TanhLRScheduler`):
/// `min_lr + (lr - min_lr) / 2 * (1 - tanh(lower + (upper - lower) * min(t, total_steps) / total_steps))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tanh {
    pub lr: f64,
    pub min_lr: f64,
    pub total_steps: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Formula for Tanh {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let p = t.min(self.total_steps) / self.total_steps;
        let x = self.lower + (self.upper - self.lower) * p;
        self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 - M::tanh(x))
    }
}

impl Family for Tanh {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("lr", self.lr)?;
        check::lr("min_lr", self.min_lr)?;
        check::positive("total_steps", self.total_steps)?;
        check::finite("lower", self.lower)?;
        check::finite("upper", self.upper)?;
        if self.upper <= self.lower {
            return Err(Error::param("upper", &format!("must be > lower ({})", self.lower), self.upper));
        }
        Ok(())
    }
}
