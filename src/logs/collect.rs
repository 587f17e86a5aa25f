//! Where readers put the points they find: one growable column triple per tag, in order of first
//! appearance, holding only the tags the caller asked for (every tag seen is still remembered, so a
//! missing tag can be reported with the list of tags that do exist).

use crate::{hugepages, parallel};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Points a series makes room for when it first grows: small, because a hostile log can hold tens of
/// thousands of tags with a point each (1024 points a tag made a 650 KB JSON line take 556 MB).
const MIN_GROWTH: usize = 8;

/// One tag's points in file order (not sorted, duplicates kept: a resumed run may repeat steps).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub tag: String,
    pub steps: Vec<i64>,
    pub values: Vec<f64>,
    /// Seconds since the epoch of each point; only event files record it (empty otherwise).
    pub wall_times: Vec<f64>,
}

impl Series {
    /// Room for `extra` more points (on huge pages when large), reserved outside the push loop.
    #[cold]
    fn grow(&mut self, extra: usize, with_wall: bool) {
        hugepages::reserve(&mut self.steps, extra);
        hugepages::reserve(&mut self.values, extra);
        if with_wall {
            hugepages::reserve(&mut self.wall_times, extra);
        }
    }
}

/// Which tags to keep: all, or a fixed set.
#[derive(Debug, Clone, Default)]
pub struct TagFilter(Option<Arc<HashSet<String>>>);

impl TagFilter {
    pub fn all() -> Self {
        TagFilter(None)
    }

    pub fn only<I: IntoIterator<Item = String>>(tags: I) -> Self {
        TagFilter(Some(Arc::new(tags.into_iter().collect())))
    }

    pub fn wants(&self, tag: &str) -> bool {
        self.0.as_ref().is_none_or(|set| set.contains(tag))
    }

    pub fn requested(&self) -> Option<&HashSet<String>> {
        self.0.as_deref()
    }
}

/// A tag's name from the bytes a log holds: the text itself when it is UTF-8, else with each invalid
/// byte written as `\xNN` (Python's `backslashreplace`). Not U+FFFD: two tags that differ only in
/// their invalid bytes would become one name, and their points would be merged into one series.
pub fn tag_name(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut name = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        name.push_str(chunk.valid());
        for b in chunk.invalid() {
            name.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(name)
}

/// A tag's slot in a [`Collector`]: the series index when the tag is kept.
pub type Slot = Option<usize>;

#[derive(Debug, Clone, Default)]
pub struct Collector {
    filter: TagFilter,
    /// Keyed with foldhash: a tag is looked up for every point of an event or JSON file, and std's
    /// SipHash was 8% of an event-file read. foldhash's per-process seed still spreads hostile tags.
    index: HashMap<String, Slot, foldhash::fast::RandomState>,
    /// Every tag seen, kept or not, in order of first appearance.
    pub seen: Vec<String>,
    pub series: Vec<Series>,
    /// Whether points carry wall times (event files).
    with_wall: bool,
    /// Points held across all series.
    pub points: usize,
}

impl Collector {
    pub fn new(filter: TagFilter, with_wall: bool) -> Self {
        Collector { filter, with_wall, ..Default::default() }
    }

    /// An empty collector with the same filter, for a piece read on another thread.
    pub fn sibling(&self) -> Self {
        Collector::new(self.filter.clone(), self.with_wall)
    }

    /// The slot of `tag`, registering it on first sight.
    #[inline]
    pub fn slot(&mut self, tag: &str) -> Slot {
        if let Some(slot) = self.index.get(tag) {
            return *slot;
        }
        self.register(tag)
    }

    fn register(&mut self, tag: &str) -> Slot {
        let slot = if self.filter.wants(tag) {
            self.series.push(Series { tag: tag.to_owned(), ..Default::default() });
            Some(self.series.len() - 1)
        } else {
            None
        };
        self.index.insert(tag.to_owned(), slot);
        self.seen.push(tag.to_owned());
        slot
    }

    #[inline]
    pub fn push(&mut self, slot: usize, step: i64, value: f64) {
        if let Some(s) = self.series.get_mut(slot) {
            if s.values.len() == s.values.capacity() {
                s.grow(s.values.len().max(MIN_GROWTH), self.with_wall);
            }
            s.steps.push(step);
            s.values.push(value);
            self.points += 1;
        }
    }

    #[inline]
    pub fn push_timed(&mut self, slot: usize, step: i64, value: f64, wall_time: f64) {
        if let Some(s) = self.series.get_mut(slot) {
            if s.values.len() == s.values.capacity() {
                s.grow(s.values.len().max(MIN_GROWTH), self.with_wall);
            }
            s.steps.push(step);
            s.values.push(value);
            if self.with_wall {
                s.wall_times.push(wall_time);
            }
            self.points += 1;
        }
    }

    /// Move the points of `pieces` (read from consecutive parts of the file) after ours, matching tags
    /// by name (new tags keep their order). The copying runs on the thread pool, a tag per task. The
    /// pieces keep their tag tables and the capacity of their buffers, so scratch collectors are reused
    /// chunk after chunk without allocating (and page-faulting) fresh memory.
    pub fn append(&mut self, pieces: &mut [Collector]) {
        // For each of our series, the (piece, series) pairs to copy from, in file order.
        let mut sources: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.series.len()];
        for (p, piece) in pieces.iter().enumerate() {
            for tag in &piece.seen {
                let mine = self.slot(tag);
                let theirs = piece.index.get(tag).copied().flatten();
                if let (Some(mine), Some(theirs)) = (mine, theirs) {
                    sources.resize(self.series.len(), Vec::new());
                    sources[mine].push((p, theirs));
                }
            }
        }
        let shared: &[Collector] = pieces;
        let copy = |(dst, from): (&mut Series, &Vec<(usize, usize)>)| {
            let extra = from.iter().map(|&(p, t)| shared[p].series[t].values.len()).sum();
            dst.grow(extra, !dst.wall_times.is_empty() || from.iter().any(|&(p, t)| !shared[p].series[t].wall_times.is_empty()));
            for &(p, t) in from {
                let src = &shared[p].series[t];
                dst.steps.extend_from_slice(&src.steps);
                dst.values.extend_from_slice(&src.values);
                dst.wall_times.extend_from_slice(&src.wall_times);
            }
        };
        let points: usize = shared.iter().map(|p| p.points).sum();
        if points >= 1 << 16 && self.series.len() > 1 && parallel::available() {
            parallel::install(|| self.series.par_iter_mut().zip(sources.par_iter()).for_each(copy));
        } else {
            self.series.iter_mut().zip(sources.iter()).for_each(copy);
        }
        self.points += points;
        for piece in pieces {
            for s in &mut piece.series {
                s.steps.clear();
                s.values.clear();
                s.wall_times.clear();
            }
            piece.points = 0;
        }
    }

    /// Grow every series' capacity to `factor` times its length: a whole-file read that has seen a
    /// fraction of the file reserves for the rest once, instead of reallocating as it goes.
    pub fn reserve_scaled(&mut self, factor: f64) {
        for s in &mut self.series {
            let extra = (s.steps.len() as f64 * (factor - 1.0)).max(0.0) as usize;
            s.grow(extra, self.with_wall);
        }
    }

    /// Hand out the points gathered so far and start empty again, keeping the tag table (streaming).
    pub fn take_series(&mut self) -> Vec<Series> {
        self.points = 0;
        self.series
            .iter_mut()
            .map(|s| Series {
                tag: s.tag.clone(),
                steps: std::mem::take(&mut s.steps),
                values: std::mem::take(&mut s.values),
                wall_times: std::mem::take(&mut s.wall_times),
            })
            .collect()
    }

    /// Requested tags that never appeared.
    pub fn missing(&self) -> Vec<String> {
        let Some(requested) = self.filter.requested() else { return Vec::new() };
        let mut missing: Vec<String> = requested.iter().filter(|t| !self.index.contains_key(*t)).cloned().collect();
        missing.sort();
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_keep_invalid_bytes_apart() {
        assert_eq!(tag_name(b"train/loss"), "train/loss");
        assert_eq!(tag_name(b"lo\xffss"), "lo\\xffss");
        assert_ne!(tag_name(b"lo\xffss"), tag_name(b"lo\xfess"));
        assert_eq!(tag_name("d\u{e9}j\u{e0}".as_bytes()), "d\u{e9}j\u{e0}");
    }
}
