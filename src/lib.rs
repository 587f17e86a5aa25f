//! lrpulse: learning-rate schedules and loss-curve diagnosis.
//!
//! The core (everything but `python`) is plain Rust with no Python in it; `cargo test` exercises it
//! alone. The `python` feature adds the PyO3 binding layer that maturin builds into `lrpulse._core`.

pub mod curve;
pub mod error;
mod hugepages;
pub mod logs;
pub mod parallel;
pub mod schedule;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
pub use schedule::Schedule;
