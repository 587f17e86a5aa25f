//! Cyclical learning rates (Smith 2017) and the one-cycle policy (Smith & Topin 2018).

use super::piecewise::{interpolate_knots, Interpolation};
use super::fastmath::{Math, Scalar};
use super::{Family, Formula};
use crate::error::{check, Error, Result};
use serde::{Deserialize, Serialize};

/// How the height of [`Cyclic`]'s triangle changes from cycle to cycle (torch `CyclicLR`'s `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// Constant amplitude.
    Triangular,
    /// Amplitude halved every cycle.
    Triangular2,
    /// Amplitude scaled by `gamma^t`.
    ExpRange,
}

/// Triangular cycles between `base_lr` and `max_lr`: up over `step_size_up` steps, down over
/// `step_size_down` (torch `CyclicLR`, same formula and operation order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cyclic {
    pub base_lr: f64,
    pub max_lr: f64,
    pub step_size_up: f64,
    pub step_size_down: f64,
    pub mode: CyclicMode,
    pub gamma: f64,
}

impl Formula for Cyclic {
    #[inline(always)]
    fn formula<M: Math>(&self, t: f64) -> f64 {
        let period = self.step_size_up + self.step_size_down;
        let up_share = self.step_size_up / period;
        // torch's expressions, kept as they are so values agree to the bit: `cycle` counts from 1
        // (triangular2 halves from the second cycle on) and `position` runs 0..1 through the cycle.
        let cycle = (1.0 + t / period).floor();
        let position = 1.0 + t / period - cycle;
        // Both sides computed, then chosen: a select, so a loop of this vectorises.
        let (rising, falling) = (position / up_share, (position - 1.0) / (up_share - 1.0));
        let rise = if position <= up_share { rising } else { falling };
        let height = (self.max_lr - self.base_lr) * rise;
        // An if-chain, not a `match`: LLVM does not vectorise a loop holding a switch.
        let amplitude = if self.mode == CyclicMode::Triangular {
            1.0
        } else if self.mode == CyclicMode::Triangular2 {
            1.0 / M::pow(2.0, cycle - 1.0)
        } else {
            M::pow(self.gamma, t)
        };
        self.base_lr + height * amplitude
    }
}

impl Family for Cyclic {
    fn value(&self, t: f64) -> f64 {
        self.formula::<Scalar>(t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("base_lr", self.base_lr)?;
        check::lr("max_lr", self.max_lr)?;
        check::positive("step_size_up", self.step_size_up)?;
        check::positive("step_size_down", self.step_size_down)?;
        check::positive("gamma", self.gamma)
    }
}

/// How [`OneCycle`] moves between its knots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anneal {
    /// Half a cosine from one knot's value to the next (torch `OneCycleLR`'s default).
    Cos,
    /// A straight line.
    Linear,
}

/// One cycle: from `max_lr / div_factor` up to `max_lr` at step `pct_start * total_steps`, then down to
/// `max_lr / (div_factor * final_div_factor)` at `total_steps`, held after. `three_phase` returns to the
/// initial LR at `2 * pct_start * total_steps` before the final anneal. Native convention: the peak is
/// *at* `pct_start * total_steps` (optax); torch's `OneCycleLR` puts it one step earlier, and
/// `from_torch` converts it to an exact `piecewise_interpolate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycle {
    pub max_lr: f64,
    pub total_steps: f64,
    pub pct_start: f64,
    pub anneal: Anneal,
    pub div_factor: f64,
    pub final_div_factor: f64,
    pub three_phase: bool,
}

impl OneCycle {
    /// The anneal as the interpolation `piecewise_interpolate` applies between knots.
    fn shape(&self) -> Interpolation {
        match self.anneal {
            Anneal::Cos => Interpolation::Cos,
            Anneal::Linear => Interpolation::Linear,
        }
    }
}

impl OneCycle {
    /// The knots `(steps, values)` the LR interpolates between (3, or 4 with `three_phase`).
    pub(crate) fn knots(&self) -> (Vec<f64>, Vec<f64>) {
        let (steps, values, n) = self.knot_array();
        (steps[..n].to_vec(), values[..n].to_vec())
    }

    fn knot_array(&self) -> ([f64; 4], [f64; 4], usize) {
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let peak = self.pct_start * self.total_steps;
        if self.three_phase {
            ([0.0, peak, 2.0 * peak, self.total_steps], [initial, self.max_lr, initial, min], 4)
        } else {
            ([0.0, peak, self.total_steps, 0.0], [initial, self.max_lr, min, 0.0], 3)
        }
    }
}

impl Family for OneCycle {
    fn value(&self, t: f64) -> f64 {
        let (steps, values, n) = self.knot_array();
        interpolate_knots(&steps[..n], &values[..n], self.shape(), t)
    }
    fn validate(&self) -> Result<()> {
        check::lr("max_lr", self.max_lr)?;
        check::positive("total_steps", self.total_steps)?;
        check::in_open_unit("pct_start", self.pct_start)?;
        if self.three_phase && self.pct_start >= 0.5 {
            return Err(Error::param("pct_start", "must be < 0.5 with three_phase=True", self.pct_start));
        }
        check::positive("div_factor", self.div_factor)?;
        check::positive("final_div_factor", self.final_div_factor)
    }
}
