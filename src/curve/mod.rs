//! Streaming loss-curve diagnosis: read a run's loss log of any length in bounded memory and say what
//! its learning rate is doing wrong.
//!
//! Pipeline: [`ingest`] reads arrays block by block into a [`Series`] of time buckets with exact
//! integer sums ([`quant`], [`bucket`], [`kernel`], [`series`], [`merge`]); [`stats`] and [`features`]
//! turn the buckets into scale-free statistics; [`classify`] gives the verdict with [`advice`],
//! [`segments`] and findings ([`val`] for overfitting). [`Monitor`] is the streaming front end.
//!
//! Invariant the tests check: the state, hence every statistic and the verdict, is bit-identical for
//! any chunking of the input, any grouping of merges and any number of threads.

pub mod advice;
pub mod bucket;
pub mod classify;
pub mod diagnosis;
pub mod features;
pub mod ingest;
pub mod kernel;
pub mod merge;
pub mod monitor;
pub mod quant;
pub mod segments;
pub mod series;
pub mod simd;
pub mod state;
pub mod stats;
pub mod val;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use diagnosis::{Diagnosis, Evidence, Finding, Label, Segment};
pub use ingest::{Input, Lr};
pub use monitor::Monitor;
pub use series::Series;
