//! Joining two adjacent pieces of one stream: `a` followed by `b`.
//!
//! Both are brought to the higher of their levels, the bucket at the seam is merged, the first
//! difference across the seam (and the sign changes it takes part in) is added where its later point
//! lies, and the level is raised while more than `cap` buckets are occupied. With exact sums the result
//! is the state a single pass over both pieces would have built.

use super::bucket::coarsen;
use super::series::{Point, Series};
use crate::error::{Error, Result};

impl Series {
    /// Bring this series to `level` (>= its own).
    pub fn raise_to(&mut self, level: u32) {
        while self.level < level {
            coarsen(&mut self.buckets, self.level);
            self.level += 1;
        }
    }

    /// Append the piece `b`, whose steps all come after this series' steps.
    pub fn merge_after(&mut self, b: Series, what: &str) -> Result<()> {
        self.check_follows(&b, what)?;
        self.join(b);
        Ok(())
    }

    /// Whether `b` can be appended (same capacity, steps after ours); checked before any change.
    pub fn check_follows(&self, b: &Series, what: &str) -> Result<()> {
        if b.count == 0 {
            return Ok(());
        }
        if self.cap != b.cap {
            return Err(Error::InvalidInput {
                what: format!("{what} bucket capacity"),
                index: 0,
                value: b.cap as f64,
                requirement: format!("must match this monitor's ({})", self.cap),
            });
        }
        if let (Some(last), Some(first)) = (self.last_step, b.first_step) {
            if first <= last {
                return Err(Error::InvalidInput {
                    what: what.to_owned(),
                    index: 0,
                    value: first as f64,
                    requirement: format!(
                        "must come after the last step already seen ({last}): steps must be strictly increasing \
                         (a resumed run that rewound? keep only the last occurrence of each step)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Append `b` (checked with [`Series::check_follows`]).
    fn join(&mut self, mut b: Series) {
        if b.count == 0 {
            return;
        }
        if self.count == 0 {
            let level = self.level.max(b.level);
            b.raise_to(level);
            *self = b;
            return;
        }
        let level = self.level.max(b.level);
        self.raise_to(level);
        b.raise_to(level);
        let mut rest = b.buckets.into_iter();
        if let (Some(last), Some(first)) = (self.buckets.last_mut(), rest.as_slice().first()) {
            if last.idx == first.idx {
                last.absorb(first);
                rest.next();
            }
        }
        self.buckets.extend(rest);
        self.stitch(&b.head);
        let mut head = std::mem::take(&mut self.head);
        head.extend(b.head.iter().copied());
        head.truncate(super::series::HEAD_POINTS);
        self.head = head;
        let mut tail = std::mem::take(&mut self.tail);
        tail.extend(b.tail.iter().copied());
        let skip = tail.len().saturating_sub(2);
        self.tail = tail.split_off(skip);
        self.count += b.count;
        self.last_step = b.last_step;
        while self.buckets.len() > self.cap {
            coarsen(&mut self.buckets, self.level);
            self.level += 1;
        }
        // Keep the steady-state footprint at `cap` buckets whatever the merge needed for a moment.
        if self.buckets.capacity() > 2 * self.cap {
            self.buckets.shrink_to(self.cap + 1);
        }
    }

    /// Add the differences that straddle the seam between this series' tail and the next piece's head.
    fn stitch(&mut self, head: &[Point]) {
        let (Some(&last), Some(&first)) = (self.tail.last(), head.first()) else {
            return;
        };
        let prev = match self.tail.as_slice() {
            [a, b] => Some(b.yq - a.yq),
            _ => None,
        };
        let d = first.yq - last.yq;
        if let Some(bk) = self.find_bucket(first.t) {
            bk.add_delta(d, first.t, prev);
        }
        if let Some(&second) = head.get(1) {
            if let Some(bk) = self.find_bucket(second.t) {
                bk.add_pair(d, second.yq - first.yq);
            }
        }
    }
}
