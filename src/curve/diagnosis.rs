//! What a diagnosis says: the label, how sure, what to do, where, and the evidence.

use std::fmt;

/// The shape of a run. The names are part of the API (`label` strings downstream tools match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Healthy,
    RisingEarly,
    Plateau,
    Slow,
    Diverged,
    Spiky,
    Oscillating,
    InsufficientData,
}

impl Label {
    pub const ALL: [Label; 8] = [
        Label::Healthy,
        Label::RisingEarly,
        Label::Plateau,
        Label::Slow,
        Label::Diverged,
        Label::Spiky,
        Label::Oscillating,
        Label::InsufficientData,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Label::Healthy => "healthy",
            Label::RisingEarly => "rising_early",
            Label::Plateau => "plateau",
            Label::Slow => "slow",
            Label::Diverged => "diverged",
            Label::Spiky => "spiky",
            Label::Oscillating => "oscillating",
            Label::InsufficientData => "insufficient_data",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stretch of the run with its own shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_step: u64,
    pub end_step: u64,
    pub label: Label,
    pub confidence: f64,
}

/// Something found at a point of the run: `kind` is "spike", "divergence", "overfitting" or
/// "change_point"; `size` is a loss factor (spike height, val rise) where one applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    pub step: u64,
    pub size: Option<f64>,
    pub recovery_steps: Option<u64>,
    pub message: String,
}

/// One named statistic: a number or a list of numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    Num(f64),
    List(Vec<f64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub label: Label,
    pub confidence: f64,
    pub advice: String,
    pub first_bad_step: Option<u64>,
    pub segments: Vec<Segment>,
    pub findings: Vec<Finding>,
    pub evidence: Vec<(&'static str, Evidence)>,
}

/// A logistic map from a margin (in units where 1 is "clearly past the threshold") to (0.5, 1).
pub fn sureness(margin: f64) -> f64 {
    if margin.is_nan() {
        return 0.5;
    }
    1.0 / (1.0 + (-2.5 * margin).exp())
}

/// `x` with 3 significant digits, like Python's `{:.3g}`.
pub fn g3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        return format!("{x:.2e}");
    }
    let decimals = (2 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}
