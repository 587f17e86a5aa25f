//! The core's one error type. It knows nothing of Python: the binding layer maps each variant to the
//! matching `lrpulse` exception class.

use std::fmt;

/// Everything the core can reject. Every message names the offending parameter or element and its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A schedule parameter outside its domain, e.g. `decay_steps must be > 0, got decay_steps=0`.
    InvalidParameter { name: String, requirement: String, value: String },
    /// A schedule spec that is not well formed (unknown kind, missing field, wrong JSON type).
    InvalidSpec(String),
    /// An element of an input array that cannot be used, e.g. a NaN step.
    InvalidInput { what: String, index: usize, value: f64, requirement: String },
    /// A schedule whose parameters overflow float64 at some step (e.g. a growth factor to a huge power).
    NonFiniteValue { step: f64, value: f64 },
    /// Two inputs whose lengths must agree but do not.
    LengthMismatch { what: String, expected: usize, got: usize },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn param(name: &str, requirement: &str, value: impl fmt::Display) -> Self {
        Error::InvalidParameter {
            name: name.to_owned(),
            requirement: requirement.to_owned(),
            value: value.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParameter { name, requirement, value } => {
                write!(f, "{name} {requirement}, got {name}={value}")
            }
            Error::InvalidSpec(msg) => write!(f, "invalid schedule spec: {msg}"),
            Error::InvalidInput { what, index, value, requirement } => {
                write!(f, "{what}[{index}] {requirement}, got {what}[{index}]={value}")
            }
            Error::NonFiniteValue { step, value } => write!(
                f,
                "the schedule's LR at step {step} is {value}: its parameters overflow float64 there"
            ),
            Error::LengthMismatch { what, expected, got } => {
                write!(f, "{what} must have length {expected}, got length {got}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Parameter checks shared by every schedule family; each returns the optax-style message.
pub mod check {
    use super::{Error, Result};

    pub fn finite(name: &str, v: f64) -> Result<()> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Error::param(name, "must be finite", v))
        }
    }

    pub fn positive(name: &str, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(Error::param(name, "must be > 0", v))
        }
    }

    pub fn non_negative(name: &str, v: f64) -> Result<()> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(Error::param(name, "must be >= 0", v))
        }
    }

    /// Learning rates: finite and >= 0.
    pub fn lr(name: &str, v: f64) -> Result<()> {
        non_negative(name, v)
    }

    pub fn in_open_unit(name: &str, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 && v < 1.0 {
            Ok(())
        } else {
            Err(Error::param(name, "must be in (0, 1)", v))
        }
    }

    /// Boundaries or milestones: finite, >= 0 and strictly increasing.
    pub fn increasing(name: &str, xs: &[f64]) -> Result<()> {
        for (i, &x) in xs.iter().enumerate() {
            if !x.is_finite() || x < 0.0 {
                return Err(Error::param(&format!("{name}[{i}]"), "must be finite and >= 0", x));
            }
            if i > 0 && x <= xs[i - 1] {
                return Err(Error::param(
                    name,
                    "must be strictly increasing (sorted, no duplicates)",
                    format!("{xs:?}"),
                ));
            }
        }
        Ok(())
    }
}
