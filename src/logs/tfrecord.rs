//! TFRecord framing of TensorBoard event files, and the parser that drives [`decode_event`] over it.
//!
//! Each record is `u64 length | u32 masked_crc32c(length) | payload | u32 masked_crc32c(payload)`, all
//! little-endian. A chunk is read in two passes: one thread walks the framing (a header check per
//! record, cheap), then the records found are checked and decoded on the thread pool, a run of
//! records per thread, into collectors appended in file order; so the result, and the first error
//! reported, are the same for any number of threads.

use super::collect::Collector;
use super::error::{LogError, LogResult};
use super::source::Parser;
use super::tfevents::decode_event;
use crate::parallel;
use rayon::prelude::*;
use std::path::PathBuf;

const HEADER: usize = 12;
const FOOTER: usize = 4;

/// Records per chunk below which decoding stays on the calling thread.
const PARALLEL_RECORDS: usize = 4096;

/// TFRecord's CRC mask: rotate right by 15 and add a constant, so a CRC of data that holds CRCs is not
/// degenerate.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The payload length of the record header at the start of `data`, if its checksum holds.
pub fn record_length(data: &[u8]) -> Option<u64> {
    let header = data.get(..HEADER)?;
    (masked_crc(&header[..8]) == le_u32(&header[8..])).then(|| le_u64(header))
}

/// Where a framing walk stopped.
enum Stop {
    /// Every byte is used (at the end of the file) or the rest is an incomplete record.
    End,
    /// A header whose checksum fails, at the walk's position.
    BadHeader,
    /// A header claiming more than the record limit.
    TooLong(u64),
}

/// Damaged records a run of records held (lenient mode counts them), and the first one: its offset
/// in the chunk and what is wrong.
#[derive(Default)]
struct Damage {
    count: u64,
    first: Option<(usize, String)>,
}

impl Damage {
    fn add(&mut self, at: usize, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((at, what()));
        }
    }
}

pub struct Events {
    path: PathBuf,
    lenient: bool,
    max_record: usize,
    truncated: bool,
    skipped: u64,
    /// Lenient mode after a bad length checksum: sliding byte by byte to the next valid header.
    resyncing: bool,
    /// Complete records found by the framing walk: offset in the chunk and total length.
    spans: Vec<(usize, usize)>,
    /// One collector per extra thread, reused from chunk to chunk.
    scratch: Vec<Collector>,
}

impl Events {
    pub fn new(path: PathBuf, lenient: bool, max_record: usize) -> Self {
        Events { path, lenient, max_record, truncated: false, skipped: 0, resyncing: false, spans: Vec::new(), scratch: Vec::new() }
    }

    /// Walk the framing from `*pos`, collecting complete records into `self.spans`.
    fn frame(&mut self, data: &[u8], pos: &mut usize, eof: bool) -> Stop {
        while *pos < data.len() {
            let rest = &data[*pos..];
            let Some(len) = record_length(rest) else {
                if rest.len() < HEADER {
                    self.truncated |= eof;
                    return Stop::End;
                }
                if self.resyncing {
                    *pos += 1;
                    continue;
                }
                return Stop::BadHeader;
            };
            let total = usize::try_from(len).ok().and_then(|n| n.checked_add(HEADER + FOOTER));
            let Some(total) = total.filter(|&t| t <= self.max_record) else { return Stop::TooLong(len) };
            if rest.len() < total {
                self.truncated |= eof;
                return Stop::End;
            }
            self.resyncing = false;
            self.spans.push((*pos, total));
            *pos += total;
        }
        Stop::End
    }

    /// Check and decode the records in `self.spans` into `out`, on the thread pool when there are many.
    fn decode(&mut self, data: &[u8], offset: u64, out: &mut Collector) -> LogResult<()> {
        let threads = parallel::threads();
        let spans = &self.spans;
        let damage = if spans.len() < PARALLEL_RECORDS || threads < 2 {
            decode_records(data, spans, self.lenient, out)
        } else {
            let runs: Vec<&[(usize, usize)]> = spans.chunks(spans.len().div_ceil(threads)).collect();
            while self.scratch.len() + 1 < runs.len() {
                self.scratch.push(out.sibling());
            }
            let scratch = &mut self.scratch[..runs.len() - 1];
            let lenient = self.lenient;
            let (head, tail): (Damage, Vec<Damage>) = parallel::install(|| {
                rayon::join(
                    || decode_records(data, runs[0], lenient, out),
                    || scratch.par_iter_mut().zip(&runs[1..]).map(|(local, run)| decode_records(data, run, lenient, local)).collect(),
                )
            });
            let mut damage = head;
            for d in tail {
                damage.count += d.count;
                damage.first = damage.first.or(d.first);
            }
            out.append(&mut self.scratch[..runs.len() - 1]);
            damage
        };
        match damage.first {
            Some((at, what)) if !self.lenient => Err(LogError::corrupt(&self.path, offset + at as u64, what)),
            _ => {
                self.skipped += damage.count;
                Ok(())
            }
        }
    }
}

/// Check and decode a run of records; strict mode stops at the first damaged one.
fn decode_records(data: &[u8], spans: &[(usize, usize)], lenient: bool, out: &mut Collector) -> Damage {
    let mut damage = Damage::default();
    for &(at, total) in spans {
        let record = &data[at..at + total];
        let payload = &record[HEADER..total - FOOTER];
        if masked_crc(payload) != le_u32(&record[total - FOOTER..]) {
            damage.add(at, || "bad payload checksum: a damaged record".to_owned());
        } else if let Err(e) = decode_event(payload, out) {
            damage.add(at + HEADER, || e.to_string());
        }
        if damage.count > 0 && !lenient {
            break;
        }
    }
    damage
}

impl Parser for Events {
    fn parse(&mut self, data: &[u8], offset: u64, eof: bool, out: &mut Collector) -> LogResult<usize> {
        let mut pos = 0usize;
        loop {
            self.spans.clear();
            let stop = self.frame(data, &mut pos, eof);
            // Records before a damaged header come first: their errors are earlier in the file.
            self.decode(data, offset, out)?;
            match stop {
                // At the end of the file every byte is used (a partial record is truncation).
                Stop::End => return Ok(if eof { data.len() } else { pos }),
                Stop::BadHeader => {
                    let at = offset + pos as u64;
                    if !self.lenient {
                        let what = "bad length checksum: not an event file, or a damaged record";
                        return Err(LogError::corrupt(&self.path, at, what.to_owned()));
                    }
                    self.skipped += 1;
                    self.resyncing = true;
                    pos += 1;
                }
                Stop::TooLong(len) => {
                    let what = format!("a record claims {len} bytes, more than the limit");
                    return Err(LogError::corrupt(&self.path, offset + pos as u64, what));
                }
            }
        }
    }

    fn truncated(&self) -> bool {
        self.truncated
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}
