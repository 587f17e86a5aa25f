//! The streaming monitor: the training-loss series and the validation-loss series, updated with chunks
//! of any size, merged with monitors of adjacent pieces, diagnosed at any time.

use super::classify::classify;
use super::diagnosis::Diagnosis;
use super::ingest::Input;
use super::series::Series;
use crate::error::Result;
use crate::schedule::StepValue;

/// Buckets kept for the training loss (the classifier sees at most this many points).
pub const TRAIN_CAP: usize = 1024;
/// Buckets kept for the validation loss.
pub const VAL_CAP: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    pub train: Series,
    pub val: Series,
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Monitor {
    pub fn new() -> Self {
        Monitor { train: Series::new(TRAIN_CAP, 0), val: Series::new(VAL_CAP, 0) }
    }

    /// Bytes held: bounded by the bucket caps whatever the stream's length.
    pub fn nbytes(&self) -> usize {
        self.train.nbytes() + self.val.nbytes()
    }

    /// The most this monitor can ever hold: each series keeps at most `cap` buckets between calls
    /// (twice that for a moment inside a merge), plus its edge points.
    pub fn max_nbytes() -> usize {
        let bucket = std::mem::size_of::<super::bucket::Bucket>();
        let point = std::mem::size_of::<super::series::Point>();
        std::mem::size_of::<Self>() + 2 * (TRAIN_CAP + VAL_CAP + 2) * bucket + 8 * point
    }

    /// Add a chunk of training points (and optionally validation points). On error nothing changes.
    pub fn update<X, S, V, W>(&mut self, train: Input<'_, X, S>, val: Option<Input<'_, V, W>>) -> Result<()>
    where
        X: StepValue,
        S: StepValue,
        V: StepValue,
        W: StepValue,
    {
        let t = train.to_series(self.train.cap, self.train.level)?;
        let v = match val {
            Some(v) => Some(v.to_series(self.val.cap, self.val.level)?),
            None => None,
        };
        self.append_series(t, v)
    }

    /// Append pieces already read into series (read with the caps and levels of [`Monitor::train_start`] and [`Monitor::val_start`]). On error nothing changes.
    pub fn append_series(&mut self, train: Series, val: Option<Series>) -> Result<()> {
        // Check both before changing either, so a failed update leaves the monitor as it was.
        self.train.check_follows(&train, "steps")?;
        if let Some(v) = &val {
            self.val.check_follows(v, "val_steps")?;
        }
        self.train.merge_after(train, "steps")?;
        if let Some(v) = val {
            self.val.merge_after(v, "val_steps")?;
        }
        Ok(())
    }

    /// Cap, level and first implicit step for reading the next training chunk into a series.
    pub fn train_start(&self) -> (usize, u32, u64) {
        (self.train.cap, self.train.level, self.train.next_step())
    }

    /// The same for the validation series.
    pub fn val_start(&self) -> (usize, u32, u64) {
        (self.val.cap, self.val.level, self.val.next_step())
    }

    /// Append `other`, a monitor of the piece of the log right after this one.
    pub fn merge(&mut self, other: &Monitor) -> Result<()> {
        self.train.check_follows(&other.train, "the other monitor's steps")?;
        self.val.check_follows(&other.val, "the other monitor's val_steps")?;
        self.train.merge_after(other.train.clone(), "the other monitor's steps")?;
        self.val.merge_after(other.val.clone(), "the other monitor's val_steps")
    }

    pub fn diagnose(&self) -> Diagnosis {
        classify(&self.train, &self.val)
    }
}
