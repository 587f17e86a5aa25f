//! JSON logs: JSON lines (one object per line, any key names) and Hugging Face's `trainer_state.json`
//! (its `log_history` array of objects).
//!
//! Each record's numeric leaves become points; the step is the leaf named by `step=`, or the first of
//! [`STEP_NAMES`] the record holds at its top level, or else its position (the 0-based line number in
//! JSON lines, the index in `log_history`). Nested
//! objects are flattened to `outer/inner` tags; strings, booleans, nulls and arrays are ignored.

use super::collect::Collector;
use super::csv::{parse_step, STEP_NAMES};
use super::error::{LogError, LogResult};
use super::json::{number_value, JsonError, Leaf, Scanner};
use super::lines::{numbered_lines, LineFormat};
use super::source::Parser;
use std::path::PathBuf;

/// Why a record is unusable (the caller adds where it is).
fn push_record(leaves: &[Leaf<'_>], step_key: Option<&str>, index: i64, out: &mut Collector) -> Result<(), String> {
    let step_leaf = match step_key {
        Some(k) => leaves.iter().position(|l| l.top_level && l.key == k),
        None => STEP_NAMES
            .iter()
            .find_map(|s| leaves.iter().position(|l| l.top_level && l.key.eq_ignore_ascii_case(s))),
    };
    let step = match step_leaf {
        Some(i) => parse_step(leaves[i].number).ok_or_else(|| {
            let text = String::from_utf8_lossy(leaves[i].number);
            format!("step {:?} is {text}, not an integer", leaves[i].key)
        })?,
        None => index,
    };
    // Check every number first, so a bad record adds nothing (lenient mode skips it whole).
    let mut values = Vec::with_capacity(leaves.len());
    for (i, leaf) in leaves.iter().enumerate() {
        if Some(i) == step_leaf {
            continue;
        }
        let v = number_value(leaf.number).ok_or_else(|| {
            format!("{:?} is {}, not a number", leaf.key, String::from_utf8_lossy(leaf.number))
        })?;
        values.push((leaf.key.as_ref(), v));
    }
    for (key, v) in values {
        if let Some(slot) = out.slot(key) {
            out.push(slot, step, v);
        }
    }
    Ok(())
}

pub struct JsonLines {
    path: PathBuf,
    lenient: bool,
    step_key: Option<String>,
}

impl JsonLines {
    pub fn new(path: PathBuf, lenient: bool, step_key: Option<String>) -> Self {
        JsonLines { path, lenient, step_key }
    }
}

fn json_what(e: &JsonError) -> String {
    format!("not a JSON object ({} at column {})", e.what, e.at + 1)
}

impl LineFormat for JsonLines {
    fn parse_piece(&self, text: &[u8], first_line: u64, out: &mut Collector, skipped: &mut u64) -> LogResult<u64> {
        let mut lines = 0;
        let mut leaves = Vec::new();
        for (line, record) in numbered_lines(text, first_line) {
            lines += 1;
            let record = if line == 1 { record.strip_prefix(b"\xef\xbb\xbf").unwrap_or(record) } else { record };
            if record.trim_ascii().is_empty() {
                continue;
            }
            leaves.clear();
            let mut scanner = Scanner::new(record);
            scanner.skip_ws();
            let parsed = scanner.object(&mut leaves).and_then(|_| {
                if scanner.at_end() {
                    Ok(())
                } else {
                    Err(JsonError { at: scanner.pos, what: "text after the object" })
                }
            });
            // Without a step key the record's index is its step: the line number, from 0.
            let result = parsed.map_err(|e| json_what(&e)).and_then(|_| {
                push_record(&leaves, self.step_key.as_deref(), line as i64 - 1, out)
            });
            if let Err(what) = result {
                if !self.lenient {
                    return Err(LogError::line(&self.path, line, what));
                }
                *skipped += 1;
            }
        }
        Ok(lines)
    }
}

/// `trainer_state.json`: one document, parsed once the whole file is in memory (they are small: a
/// record per logging step).
pub struct TrainerState {
    path: PathBuf,
    lenient: bool,
    step_key: Option<String>,
    skipped: u64,
}

impl TrainerState {
    pub fn new(path: PathBuf, lenient: bool, step_key: Option<String>) -> Self {
        TrainerState { path, lenient, step_key, skipped: 0 }
    }

    fn error(&self, text: &[u8], at: usize, what: String) -> LogError {
        let line = text[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        LogError::line(&self.path, line, what)
    }

    fn parse_document(&mut self, text: &[u8], out: &mut Collector) -> LogResult<()> {
        let offset = if text.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 }; // a byte order mark
        let mut s = Scanner::new(&text[offset..]);
        s.skip_ws();
        let found = s
            .find_key("log_history")
            .map_err(|e| self.error(text, e.at + offset, format!("not a trainer_state.json ({})", e.what)))?;
        if !found {
            return Err(LogError::format(&self.path, "no \"log_history\" key: not a trainer_state.json"));
        }
        s.open_array().map_err(|e| self.error(text, e.at + offset, "\"log_history\" is not an array".into()))?;
        let mut leaves = Vec::new();
        let mut index = 0i64;
        let mut first = true;
        while s.next_element(first).map_err(|e| self.error(text, e.at + offset, json_what(&e)))? {
            first = false;
            leaves.clear();
            let at = s.pos;
            let result = match s.object(&mut leaves) {
                Err(e) => Err((e.at, format!("not valid JSON ({})", e.what))),
                Ok(()) => push_record(&leaves, self.step_key.as_deref(), index, out).map_err(|w| (at, w)),
            };
            if let Err((where_, what)) = result {
                let what = format!("log_history[{index}]: {what}");
                if !self.lenient || s.pos == at {
                    return Err(self.error(text, where_ + offset, what));
                }
                // Lenient: skip the rest of a malformed entry only if the document still parses.
                self.skipped += 1;
                s.pos = at;
                s.skip_value(1).map_err(|e| self.error(text, e.at + offset, json_what(&e)))?;
            }
            index += 1;
        }
        Ok(())
    }
}

impl Parser for TrainerState {
    fn parse(&mut self, data: &[u8], _offset: u64, eof: bool, out: &mut Collector) -> LogResult<usize> {
        if !eof {
            return Ok(0); // ask for the whole file
        }
        self.parse_document(data, out)?;
        Ok(data.len())
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}
