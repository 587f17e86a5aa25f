//! Learning-rate schedules: pure functions of the step count.
//!
//! Every family is a plain-data struct (its serde form is the `to_dict()` spec users keep in config
//! files) with a `value(step)` and a `validate()`. [`Schedule`] is the closed set of families; the
//! composition families (`warmup`, `sequence`, `product`) hold other schedules.
//!
//! Native step convention: `value(t)` is the LR used for the update numbered `t`, counting from 0, i.e.
//! the LR torch reports after `t` calls to `scheduler.step()`. Framework-specific conventions (milestone
//! at b vs b+1, peak at 0.3N-1 vs 0.3N, periodic vs clamped tails) are parameters of the families, set
//! by the `from_torch` / `from_keras` / `compat` converters on the Python side.

mod basic;
mod compose;
mod cosine;
mod cyclic;
mod batch;
mod eval;
pub mod fastmath;
mod piecewise;
mod repr;
mod transformer;

pub use basic::{Constant, Exponential, InverseTime, Linear, MultiStep, Polynomial, StepDecay};
pub use compose::{Product, Sequence, Warmup, WarmupShape};
pub use cosine::{Cosine, CosineRestarts, Tanh};
pub use cyclic::{Anneal, Cyclic, CyclicMode, OneCycle};
pub use eval::{eval_into, finite_value, trajectory_into, StepValue};
pub use piecewise::{Interpolation, PiecewiseConstant, PiecewiseInterpolate, Side};
pub use transformer::{DecayShape, InverseSqrt, Wsd};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A family's closed form, generic over where its elementary functions come from, so `value` and the
/// vectorised array path (`batch`) share one formula; see `fastmath::Math`.
pub(crate) trait Formula {
    fn formula<M: fastmath::Math>(&self, t: f64) -> f64;
}

/// What every family implements.
pub trait Family {
    /// The learning rate at step `t` (finite, >= 0).
    fn value(&self, t: f64) -> f64;
    /// Reject parameters outside the family's domain with a message naming parameter and value.
    fn validate(&self) -> Result<()>;
}

/// One learning-rate schedule. The serde tag `kind` names the family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    Constant(Constant),
    StepDecay(StepDecay),
    MultiStep(MultiStep),
    Exponential(Exponential),
    InverseTime(InverseTime),
    Polynomial(Polynomial),
    Linear(Linear),
    Cosine(Cosine),
    CosineRestarts(CosineRestarts),
    Tanh(Tanh),
    Cyclic(Cyclic),
    OneCycle(OneCycle),
    PiecewiseConstant(PiecewiseConstant),
    PiecewiseInterpolate(PiecewiseInterpolate),
    InverseSqrt(InverseSqrt),
    Wsd(Wsd),
    Warmup(Warmup),
    Sequence(Sequence),
    Product(Product),
}

macro_rules! dispatch {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Schedule::Constant($s) => $e,
            Schedule::StepDecay($s) => $e,
            Schedule::MultiStep($s) => $e,
            Schedule::Exponential($s) => $e,
            Schedule::InverseTime($s) => $e,
            Schedule::Polynomial($s) => $e,
            Schedule::Linear($s) => $e,
            Schedule::Cosine($s) => $e,
            Schedule::CosineRestarts($s) => $e,
            Schedule::Tanh($s) => $e,
            Schedule::Cyclic($s) => $e,
            Schedule::OneCycle($s) => $e,
            Schedule::PiecewiseConstant($s) => $e,
            Schedule::PiecewiseInterpolate($s) => $e,
            Schedule::InverseSqrt($s) => $e,
            Schedule::Wsd($s) => $e,
            Schedule::Warmup($s) => $e,
            Schedule::Sequence($s) => $e,
            Schedule::Product($s) => $e,
        }
    };
}

impl Schedule {
    /// The LR at step `t`. `t` must be finite and >= 0 (the array entry points check this).
    #[inline]
    pub fn value(&self, t: f64) -> f64 {
        dispatch!(self, s => s.value(t))
    }

    pub fn validate(&self) -> Result<()> {
        dispatch!(self, s => s.validate())
    }

    /// The family name, as in the spec's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Schedule::Constant(_) => "constant",
            Schedule::StepDecay(_) => "step_decay",
            Schedule::MultiStep(_) => "multi_step",
            Schedule::Exponential(_) => "exponential",
            Schedule::InverseTime(_) => "inverse_time",
            Schedule::Polynomial(_) => "polynomial",
            Schedule::Linear(_) => "linear",
            Schedule::Cosine(_) => "cosine",
            Schedule::CosineRestarts(_) => "cosine_restarts",
            Schedule::Tanh(_) => "tanh",
            Schedule::Cyclic(_) => "cyclic",
            Schedule::OneCycle(_) => "one_cycle",
            Schedule::PiecewiseConstant(_) => "piecewise_constant",
            Schedule::PiecewiseInterpolate(_) => "piecewise_interpolate",
            Schedule::InverseSqrt(_) => "inverse_sqrt",
            Schedule::Wsd(_) => "wsd",
            Schedule::Warmup(_) => "warmup",
            Schedule::Sequence(_) => "sequence",
            Schedule::Product(_) => "product",
        }
    }

    /// Parse and validate a JSON spec, e.g. `{"kind": "step_decay", "lr": 0.1, "step_size": 30, "gamma": 0.5}`.
    pub fn from_json(text: &str) -> Result<Schedule> {
        let s: Schedule = serde_json::from_str(text).map_err(|e| Error::InvalidSpec(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        // Serialising plain structs of f64/bool/String/Vec cannot fail; NaN is rejected by validate().
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// A constructor-like rendering, e.g. `step_decay(lr=0.1, step_size=30.0, gamma=0.5)`.
    pub fn repr(&self) -> String {
        repr::render(&serde_json::to_value(self).unwrap_or(serde_json::Value::Null))
    }
}

/// `base^k` with the vectorisable kernel (within one ulp of C `pow`, exact where the power is, e.g.
/// `0.5^3`), so array evaluation reproduces every scalar value bit for bit (see `fastmath`).
#[inline]
pub(crate) fn pow(base: f64, k: f64) -> f64 {
    fastmath::scalar::pow(base, k)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
