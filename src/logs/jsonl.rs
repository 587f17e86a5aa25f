//! JSON logs: JSON lines (one object per line, any key names) and Hugging Face's `trainer_state.json`
//! (its `log_history` array of objects).
//!
//! Each record's numbers become points, tagged by their keys; nested objects are flattened to
//! `outer/inner` tags; strings, booleans, nulls and arrays are not values. A key repeated in a record,
//! or a nested key flattened onto a literal one (`{"a/b": 1, "a": {"b": 2}}`), takes its last value,
//! as Python's `json.loads` and pandas' `json_normalize` do: one point per tag per record.
//!
//! The step is read from one key for the whole file, chosen before any record is parsed: the key
//! named by `step=`, else the first of [`STEP_NAMES`] held at the top level, with a value of any type,
//! by the records looked at (the first 1000 lines or first MiB of JSON lines, all of `log_history`).
//! Then, record by record:
//! - a step that is not an integer (a string, even `"10"`: JSON loggers write numbers, and a string
//!   step is more likely a label than a count; `null`, a boolean, a fraction, a number beyond `i64`)
//!   is an error naming the line and showing the value;
//! - a record holding values but not the key (a record with only `epoch` where the file's key is
//!   `step` included) is an error naming the line: its index, used as a step, would land among real
//!   steps that count something else;
//! - a record with neither values nor the key (a config or header line) is passed over;
//! - only when no record looked at holds a step key is a record's index its step (its 0-based line
//!   number, or its place in `log_history`); a later record holding one is then an error;
//! - `step=` naming a key no record looked at holds is an error listing the keys they hold.
//!
//! In lenient mode the records in error are skipped and counted instead. The choice is made once, from
//! the start of the file, because JSON lines are parsed in parallel pieces: a rule that depended on the
//! records "before" one would depend on where the file happened to be cut.

use super::collect::Collector;
use super::csv::{parse_step, STEP_NAMES};
use super::error::{LogError, LogResult};
use super::json::{number_value, replaced, JsonError, JsonResult, Kind, Leaf, Scanner};
use super::lines::{numbered_lines, LineFormat, Pos};
use super::source::Parser;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Lines of a JSON-lines file the step key is chosen from: room for header lines and for each kind of
/// record a logger writes early (train, eval), while staying well inside the first chunk.
const LOOK_LINES: u64 = 1000;
/// The chosen-from lines start within this many bytes (a file of very wide records).
const LOOK_BYTES: usize = 1 << 20;
/// Keys listed when `step=` names one that no record holds.
const LISTED_KEYS: usize = 20;
/// Longest value shown in a message.
const SHOWN: usize = 40;
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Where every record of a file takes its step from.
#[derive(Debug, Clone)]
enum StepKey {
    /// No record looked at holds a step key: a record's index is its step. `looked_at` names those
    /// records, for the error a later one holding a step key gets.
    Index { looked_at: String },
    /// The key as first written; `exact` when named by `step=` (else compared like [`STEP_NAMES`],
    /// ignoring case). `first` is where it was first seen, cited when a record lacks it.
    Key { name: String, exact: bool, first: String },
}

impl StepKey {
    fn matches(&self, key: &str) -> bool {
        match self {
            StepKey::Index { .. } => false,
            StepKey::Key { name, exact: true, .. } => key == name,
            StepKey::Key { name, exact: false, .. } => key.eq_ignore_ascii_case(name),
        }
    }
}

/// Picks the step key from the first records of a file.
struct StepChoice<'w> {
    wanted: Option<&'w str>,
    /// The best key so far: its rank in [`STEP_NAMES`] (0 for `wanted`), its name, where it was seen.
    best: Option<(usize, String, String)>,
    /// Top-level keys seen, for the error when `wanted` is not among them.
    keys: Vec<String>,
    more_keys: bool,
}

impl<'w> StepChoice<'w> {
    fn new(wanted: Option<&'w str>) -> Self {
        StepChoice { wanted, best: None, keys: Vec::new(), more_keys: false }
    }

    /// Take in one record; true once no later record can change the choice.
    fn see(&mut self, leaves: &[Leaf<'_>], place: impl FnOnce() -> String) -> bool {
        let mut found: Option<(usize, &str)> = None;
        for leaf in leaves.iter().filter(|l| l.top_level) {
            let rank = match self.wanted {
                Some(w) => (leaf.key == w).then_some(0),
                None => STEP_NAMES.iter().position(|s| leaf.key.eq_ignore_ascii_case(s)),
            };
            if let Some(rank) = rank.filter(|&r| found.is_none_or(|(best, _)| r < best)) {
                found = Some((rank, &leaf.key));
            }
            if self.wanted.is_some() && !self.keys.iter().any(|k| *k == leaf.key) {
                if self.keys.len() < LISTED_KEYS {
                    self.keys.push(leaf.key.to_string());
                } else {
                    self.more_keys = true;
                }
            }
        }
        if let Some((rank, name)) = found.filter(|&(r, _)| self.best.as_ref().is_none_or(|b| r < b.0)) {
            self.best = Some((rank, name.to_owned(), place()));
        }
        self.best.as_ref().is_some_and(|b| b.0 == 0)
    }

    /// The choice; `looked_at` names the records seen when they are not the whole file.
    fn finish(self, path: &Path, looked_at: Option<String>) -> LogResult<StepKey> {
        match (self.best, self.wanted) {
            (Some((_, name, first)), wanted) => Ok(StepKey::Key { name, exact: wanted.is_some(), first }),
            (None, None) => Ok(StepKey::Index { looked_at: looked_at.unwrap_or_else(|| "the records".into()) }),
            (None, Some(wanted)) => {
                let within = looked_at.map_or(String::new(), |l| format!(" in {l}"));
                let keys = match (self.keys.is_empty(), self.more_keys) {
                    (true, _) => "the records hold no keys".to_owned(),
                    (false, false) => format!("keys: {}", self.keys.join(", ")),
                    (false, true) => format!("keys: {}, ...", self.keys.join(", ")),
                };
                Err(LogError::format(path, format!("no step key {wanted:?}{within}; {keys}")))
            }
        }
    }
}

/// A value for a message: its text as written, shortened.
fn shown(text: &[u8]) -> String {
    let more = if text.len() > SHOWN { "..." } else { "" };
    format!("{}{more}", String::from_utf8_lossy(&text[..text.len().min(SHOWN)]))
}

fn step_value(leaf: &Leaf<'_>) -> Result<i64, String> {
    let step = if leaf.kind == Kind::Number { parse_step(leaf.text) } else { None };
    step.ok_or_else(|| format!("step {:?} is {}, not an integer", leaf.key, shown(leaf.text)))
}

/// Add one record's points, or say why it is unusable (the caller adds where it is). A record in error
/// adds nothing, so lenient mode skips it whole. `values` is scratch space.
fn push_record(leaves: &[Leaf<'_>], key: &StepKey, index: i64, values: &mut Vec<f64>, out: &mut Collector) -> Result<(), String> {
    let gone = replaced(leaves);
    let live = |i: usize| gone.as_ref().is_none_or(|g| !g[i]);
    // After `replaced`, a key is live once at most (only spellings differing in case can both match).
    let step_leaf = (0..leaves.len()).find(|&i| leaves[i].top_level && key.matches(&leaves[i].key) && live(i));
    let is_value = |i: usize, leaf: &Leaf<'_>| leaf.kind == Kind::Number && Some(i) != step_leaf && live(i);
    let step = match (key, step_leaf) {
        (_, Some(i)) => step_value(&leaves[i])?,
        (StepKey::Index { looked_at }, None) => {
            let step_name = |l: &&Leaf<'_>| l.top_level && STEP_NAMES.iter().any(|s| l.key.eq_ignore_ascii_case(s));
            if let Some(leaf) = leaves.iter().find(step_name) {
                return Err(format!("has step key {:?}, but {looked_at} have none (their index is their step)", leaf.key));
            }
            index
        }
        (StepKey::Key { name, first, .. }, None) => {
            if leaves.iter().enumerate().any(|(i, l)| is_value(i, l)) {
                return Err(format!("no {name:?} ({first} has one)"));
            }
            return Ok(()); // nothing to place: a config or header record
        }
    };
    values.clear();
    for (_, leaf) in leaves.iter().enumerate().filter(|&(i, l)| is_value(i, l)) {
        let v = number_value(leaf.text).ok_or_else(|| format!("{:?} is {}, not a number", leaf.key, shown(leaf.text)))?;
        values.push(v);
    }
    let points = leaves.iter().enumerate().filter(|&(i, l)| is_value(i, l)).zip(values.iter());
    for ((_, leaf), &v) in points {
        if let Some(slot) = out.slot(&leaf.key) {
            out.push(slot, step, v);
        }
    }
    Ok(())
}

/// One line's object into `leaves`.
fn parse_line<'a>(record: &'a [u8], leaves: &mut Vec<Leaf<'a>>) -> JsonResult<()> {
    let mut scanner = Scanner::new(record);
    scanner.skip_ws();
    scanner.object(leaves)?;
    if scanner.at_end() {
        Ok(())
    } else {
        Err(JsonError { at: scanner.pos, what: "text after the object" })
    }
}

pub struct JsonLines {
    path: PathBuf,
    lenient: bool,
    step_name: Option<String>,
    /// Set by `start`, before any record is parsed.
    step: StepKey,
}

impl JsonLines {
    pub fn new(path: PathBuf, lenient: bool, step_name: Option<String>) -> Self {
        JsonLines { path, lenient, step_name, step: StepKey::Index { looked_at: String::new() } }
    }
}

fn json_what(e: &JsonError) -> String {
    format!("not a JSON object ({} at column {})", e.what, e.at + 1)
}

impl LineFormat for JsonLines {
    /// Choose the step key from the first lines (see the module doc), asking for more of the file until
    /// they are all in `text`, so that the choice does not depend on the chunk size.
    fn start(&mut self, text: &[u8], eof: bool) -> LogResult<Option<(usize, u64)>> {
        // Consumed here rather than stripped from line 1: pieces that need no line numbers are all
        // numbered from 1.
        let bom = if text.starts_with(BOM) { BOM.len() } else { 0 };
        let body = &text[bom..];
        let by_lines = || format!("the first {LOOK_LINES} lines");
        let by_bytes = || format!("the lines in the first {} MiB", LOOK_BYTES >> 20);
        let mut choice = StepChoice::new(self.step_name.as_deref());
        let mut leaves = Vec::new();
        let (mut looked_at, mut seen, mut decided) = (None, 0, false);
        for (line, record) in numbered_lines(body, 1) {
            if line > LOOK_LINES {
                looked_at = Some(by_lines());
                break;
            }
            if record.as_ptr() as usize - body.as_ptr() as usize >= LOOK_BYTES {
                looked_at = Some(by_bytes());
                break;
            }
            seen = line;
            leaves.clear();
            // A malformed line has no say; it is reported (or skipped) when parsed.
            if parse_line(record, &mut leaves).is_ok() && choice.see(&leaves, || format!("line {line}")) {
                decided = true;
                break;
            }
        }
        if !decided && looked_at.is_none() && !eof {
            // `text` ends at a line break: the next line is the first one past these.
            if seen >= LOOK_LINES {
                looked_at = Some(by_lines());
            } else if body.len() >= LOOK_BYTES {
                looked_at = Some(by_bytes());
            } else {
                return Ok(None);
            }
        }
        self.step = choice.finish(&self.path, looked_at)?;
        Ok(Some((bom, 0)))
    }

    fn needs_line_numbers(&self) -> bool {
        matches!(self.step, StepKey::Index { .. })
    }

    fn parse_piece(&self, text: &[u8], at: Pos, out: &mut Collector, skipped: &mut u64) -> LogResult<Pos> {
        let mut lines = 0;
        let mut leaves = Vec::new();
        let mut values = Vec::new();
        for (line, record) in numbered_lines(text, at.line) {
            lines += 1;
            if record.trim_ascii().is_empty() {
                continue;
            }
            leaves.clear();
            // Without a step key the record's index is its step: the line number, from 0.
            let result = parse_line(record, &mut leaves)
                .map_err(|e| json_what(&e))
                .and_then(|_| push_record(&leaves, &self.step, line as i64 - 1, &mut values, out));
            if let Err(what) = result {
                if !self.lenient {
                    return Err(LogError::line(&self.path, line, what));
                }
                *skipped += 1;
            }
        }
        Ok(Pos { line: lines, record: lines })
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

/// A `log_history` entry that parsed: its index, where it starts, its leaves.
struct Entry {
    index: usize,
    at: usize,
    leaves: Range<usize>,
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
        let offset = if text.starts_with(BOM) { BOM.len() } else { 0 };
        let mut s = Scanner::new(&text[offset..]);
        s.skip_ws();
        let found = s
            .find_key("log_history")
            .map_err(|e| self.error(text, e.at + offset, format!("not a trainer_state.json ({})", e.what)))?;
        if !found {
            return Err(LogError::format(&self.path, "no \"log_history\" key: not a trainer_state.json"));
        }
        s.open_array().map_err(|e| self.error(text, e.at + offset, "\"log_history\" is not an array".into()))?;
        // Every entry is read before any is used: the step key is chosen from all of them. A malformed
        // entry ends the reading; the entries before it are still used first, so that errors come in
        // document order.
        let mut leaves = Vec::new();
        let mut entries = Vec::new();
        let mut broken = None;
        let mut index = 0;
        let mut first = true;
        loop {
            match s.next_element(first) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    broken = Some(self.error(text, e.at + offset, json_what(&e)));
                    break;
                }
            }
            first = false;
            s.skip_ws(); // so that an entry's errors name the line it starts on
            let (at, from) = (s.pos, leaves.len());
            match s.object(&mut leaves) {
                Ok(()) => entries.push(Entry { index, at, leaves: from..leaves.len() }),
                Err(e) => {
                    leaves.truncate(from);
                    let what = format!("log_history[{index}]: not valid JSON ({})", e.what);
                    if !self.lenient || s.pos == at {
                        broken = Some(self.error(text, e.at + offset, what));
                        break;
                    }
                    // Lenient: skip the rest of a malformed entry only if the document still parses.
                    self.skipped += 1;
                    s.pos = at;
                    if let Err(e) = s.skip_value(1) {
                        broken = Some(self.error(text, e.at + offset, json_what(&e)));
                        break;
                    }
                }
            }
            index += 1;
        }
        let mut choice = StepChoice::new(self.step_key.as_deref());
        for entry in &entries {
            if choice.see(&leaves[entry.leaves.clone()], || format!("log_history[{}]", entry.index)) {
                break;
            }
        }
        let key = match choice.finish(&self.path, None) {
            Ok(key) => key,
            Err(e) => return Err(broken.unwrap_or(e)),
        };
        let mut values = Vec::new();
        for entry in &entries {
            if let Err(what) = push_record(&leaves[entry.leaves.clone()], &key, entry.index as i64, &mut values, out) {
                if !self.lenient {
                    return Err(self.error(text, entry.at + offset, format!("log_history[{}]: {what}", entry.index)));
                }
                self.skipped += 1;
            }
        }
        broken.map_or(Ok(()), Err)
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

#[cfg(test)]
#[path = "jsonl_tests.rs"]
mod tests;
