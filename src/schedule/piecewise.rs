//! Piecewise schedules: constant between boundaries, and linear or cosine interpolation between knots.

use super::fastmath::{Math, Scalar};
use super::Family;
use crate::error::{check, Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Which side of a boundary the new value starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The value changes *at* the boundary: step `b` already uses the next value (torch `MultiStepLR`).
    Right,
    /// The value changes *after* the boundary: step `b` still uses the previous value (Keras
    /// `PiecewiseConstantDecay`, where `step <= boundary` selects the earlier value).
    Left,
}

/// `values[i]` on the i-th interval between `boundaries` (`len(values) == len(boundaries) + 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiecewiseConstant {
    pub boundaries: Vec<f64>,
    pub values: Vec<f64>,
    pub side: Side,
}

impl Family for PiecewiseConstant {
    fn value(&self, t: f64) -> f64 {
        let i = match self.side {
            Side::Right => self.boundaries.partition_point(|&b| b <= t),
            Side::Left => self.boundaries.partition_point(|&b| b < t),
        };
        self.values[i]
    }
    fn validate(&self) -> Result<()> {
        check::increasing("boundaries", &self.boundaries)?;
        if self.values.len() != self.boundaries.len() + 1 {
            return Err(Error::LengthMismatch {
                what: "values".into(),
                expected: self.boundaries.len() + 1,
                got: self.values.len(),
            });
        }
        for (i, &v) in self.values.iter().enumerate() {
            check::lr(&format!("values[{i}]"), v)?;
        }
        Ok(())
    }
}

/// How to move between two knots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    Linear,
    Cos,
}

/// Interpolate `start -> end` at fraction `pct`, in the operation order of torch's `OneCycleLR`.
#[inline(always)]
pub(crate) fn interpolate<M: Math>(shape: Interpolation, start: f64, end: f64, pct: f64) -> f64 {
    match shape {
        Interpolation::Linear => (end - start) * pct + start,
        Interpolation::Cos => end + (start - end) / 2.0 * (M::cos(PI * pct) + 1.0),
    }
}

/// Value at `t` of the curve through `(steps[i], values[i])`; flat before the first and after the
/// last knot.
pub(crate) fn interpolate_knots(steps: &[f64], values: &[f64], shape: Interpolation, t: f64) -> f64 {
    let i = steps.partition_point(|&k| k <= t);
    if i == 0 {
        return values[0];
    }
    if i == steps.len() {
        return values[i - 1];
    }
    let pct = (t - steps[i - 1]) / (steps[i] - steps[i - 1]);
    interpolate::<Scalar>(shape, values[i - 1], values[i], pct)
}

/// Linear or cosine interpolation through knots `(steps[i], values[i])` (optax
/// `piecewise_interpolate_schedule`; torch's `OneCycleLR` phases). Knots may lie before step 0: torch's
/// `OneCycleLR` with `pct_start * total_steps < 1` ends its warmup phase at a negative step, so at step 0
/// it is already part-way down its anneal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiecewiseInterpolate {
    pub steps: Vec<f64>,
    pub values: Vec<f64>,
    pub shape: Interpolation,
}

impl Family for PiecewiseInterpolate {
    fn value(&self, t: f64) -> f64 {
        interpolate_knots(&self.steps, &self.values, self.shape, t)
    }
    fn validate(&self) -> Result<()> {
        if self.steps.is_empty() {
            return Err(Error::param("steps", "must have at least one knot", "[]"));
        }
        for (i, &k) in self.steps.iter().enumerate() {
            check::finite(&format!("steps[{i}]"), k)?;
        }
        if self.steps.windows(2).any(|w| w[1] <= w[0]) {
            let shown = format!("{:?}", self.steps);
            return Err(Error::param("steps", "must be strictly increasing (sorted, no duplicates)", shown));
        }
        if self.values.len() != self.steps.len() {
            return Err(Error::LengthMismatch {
                what: "values".into(),
                expected: self.steps.len(),
                got: self.values.len(),
            });
        }
        for (i, &v) in self.values.iter().enumerate() {
            check::lr(&format!("values[{i}]"), v)?;
        }
        Ok(())
    }
}
