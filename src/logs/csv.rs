//! CSV and TSV logs with a header row: Lightning's `CSVLogger` (`metrics.csv`, sparse rows with empty
//! cells), Keras' `CSVLogger`, and hand-written ones.
//!
//! The step column is chosen by name (`step=` or the first of [`STEP_NAMES`]; without one, the index of
//! the data row is the step, as pandas numbers rows: blank lines are no row, and a row spanning lines
//! is one). Every other column is a tag named by its header; a repeated name becomes `loss.1`,
//! `loss.2`, ... as in pandas. Empty cells and `NA` markers are skipped (a Lightning row holds only
//! the metrics logged at that step; Keras writes `NA`). Quoted cells may hold delimiters and line
//! breaks (a notes column in an exported table).
//!
//! Text columns (a date, a phase name) are left out. A column is text when the rows in the first
//! [`SCAN`] bytes hold a non-missing cell in it but no number; a column holding a number there is
//! numeric, so text in it is a malformed row (an error naming the line, or a skipped row) rather than
//! a column dropped without a word. A column empty throughout the scanned rows is numeric. Rows the
//! scan cannot split or whose cell count is wrong tell nothing. The scan covers fixed bytes, not the
//! first read chunk, so the result does not depend on the chunk size.

use super::collect::{tag_name, Collector};
pub use super::csv_cells::parse_step;
use super::csv_cells::{fast_row, is_missing, split_record, unique_names, Cell, SplitError};
use super::error::{LogError, LogResult};
use super::lines::{numbered_lines, LineFormat, Pos};
use std::path::PathBuf;

/// Bytes at the start of the file whose rows decide which columns hold text.
pub const SCAN: usize = 1 << 20;

/// Column or key names taken as the step, in order of preference (compared case-insensitively).
/// wandb's `_step` (its own log-call counter) comes after the trainers' step names, which count
/// optimizer updates when a run logs both.
pub const STEP_NAMES: [&str; 7] = ["step", "global_step", "iteration", "iter", "trainer/global_step", "_step", "epoch"];

pub struct Csv {
    path: PathBuf,
    delimiter: u8,
    lenient: bool,
    step_name: Option<String>,
    columns: Vec<String>,
    step_col: Option<usize>,
    /// Columns left out: the step column and text columns.
    skip: Vec<bool>,
}

/// The step column: the one named `wanted`, or the first of [`STEP_NAMES`] present.
pub fn step_index<S: AsRef<str>>(names: &[S], wanted: Option<&str>) -> Option<usize> {
    match wanted {
        Some(w) => names.iter().position(|n| n.as_ref() == w),
        None => STEP_NAMES.iter().find_map(|s| names.iter().position(|n| n.as_ref().eq_ignore_ascii_case(s))),
    }
}

/// The delimiter a header line uses: tab or semicolon when they appear and commas do not.
pub fn sniff_delimiter(header: &[u8]) -> u8 {
    let count = |d: u8| header.iter().filter(|&&b| b == d).count();
    match (count(b','), count(b'\t'), count(b';')) {
        (0, t, _) if t > 0 => b'\t',
        (0, 0, s) if s > 0 => b';',
        _ => b',',
    }
}

/// Lines a record spans: its line breaks, or one for a last record without a line break.
fn lines_in(record: &[u8]) -> u64 {
    let breaks = memchr::memchr_iter(b'\n', record).count() as u64;
    breaks + u64::from(!record.ends_with(b"\n"))
}

impl Csv {
    pub fn new(path: PathBuf, delimiter: u8, lenient: bool, step_name: Option<String>) -> Self {
        Csv { path, delimiter, lenient, step_name, columns: Vec::new(), step_col: None, skip: Vec::new() }
    }

    /// The end of the line at `text[pos..]` if it is blank: spaces only (tabs too, unless they are the
    /// delimiter: pandas reads a line of tabs in a TSV as a row of empty cells).
    #[inline]
    fn blank_line(&self, text: &[u8], pos: usize) -> Option<usize> {
        if !matches!(text.get(pos), Some(b' ' | b'\r' | b'\t' | b'\n')) {
            return None;
        }
        let space = |b: u8| b == b' ' || b == b'\r' || (b == b'\t' && self.delimiter != b'\t');
        let end = pos + text[pos..].iter().take_while(|&&b| space(b)).count();
        match text.get(end) {
            None => Some(end),
            Some(b'\n') => Some(end + 1),
            Some(_) => None,
        }
    }

    fn bad_row(&self, line: u64, what: String, skipped: &mut u64) -> LogResult<()> {
        if self.lenient {
            *skipped += 1;
            Ok(())
        } else {
            Err(LogError::line(&self.path, line, what))
        }
    }

    /// What each column becomes, registering the kept tags in `out`.
    fn plan(&self, out: &mut Collector) -> Vec<Cell> {
        let column = |(i, name): (usize, &String)| match (Some(i) == self.step_col, self.skip[i]) {
            (true, _) => Cell::Step,
            (false, true) => Cell::Skip,
            (false, false) => out.slot(name).map_or(Cell::Skip, Cell::Value),
        };
        self.columns.iter().enumerate().map(column).collect()
    }

    /// Which columns hold text in the whole records of `rows` (`ends_file`: `rows` runs to the end of
    /// the file, so the last record needs no line break), and whether every column holds a number
    /// there (then more rows would change nothing).
    fn text_columns(&self, rows: &[u8], ends_file: bool) -> (Vec<bool>, bool) {
        #[derive(Clone, Copy, PartialEq)]
        enum Seen {
            Nothing,
            Text,
            Number,
        }
        let mut seen = vec![Seen::Nothing; self.columns.len()];
        let mut numeric = 0;
        if let Some(c) = self.step_col {
            seen[c] = Seen::Number;
            numeric += 1;
        }
        let mut cells = Vec::new();
        let mut pos = 0;
        while pos < rows.len() && numeric < seen.len() {
            let rest = &rows[pos..];
            match split_record(rest, self.delimiter, &mut cells) {
                Ok(used) if ends_file || rest[..used].ends_with(b"\n") => {
                    if cells.len() == seen.len() {
                        for (seen, cell) in seen.iter_mut().zip(&cells) {
                            if *seen == Seen::Number || is_missing(cell) {
                                continue;
                            }
                            if fast_float2::parse::<f64, _>(cell).is_ok() {
                                *seen = Seen::Number;
                                numeric += 1;
                            } else {
                                *seen = Seen::Text;
                            }
                        }
                    }
                    pos += used;
                }
                Err(SplitError::TextAfterQuote) => pos += memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1),
                _ => break, // the record goes on past the rows scanned
            }
        }
        (seen.iter().map(|&s| s == Seen::Text).collect(), numeric == seen.len())
    }

    /// One row's cells into points; `index` is the row's, from 0.
    fn row(&self, cells: &[&[u8]], line: u64, index: u64, plan: &[Cell], out: &mut Collector, skipped: &mut u64) -> LogResult<()> {
        if cells.len() != self.columns.len() {
            if cells.iter().all(|c| c.is_empty()) {
                return Ok(()); // empty cells only, too few or too many (a spreadsheet's padding)
            }
            let what = format!("{} cells, the header has {}", cells.len(), self.columns.len());
            return self.bad_row(line, what, skipped);
        }
        let step = match self.step_col {
            None => index as i64,
            Some(c) => match parse_step(cells[c]) {
                Some(s) => s,
                None => {
                    let what = format!("step column {:?} holds {:?}, not an integer", self.columns[c], lossy(cells[c]));
                    return self.bad_row(line, what, skipped);
                }
            },
        };
        // Check every cell first, so a bad row adds nothing (lenient mode skips it whole).
        let mut values = Vec::with_capacity(cells.len());
        for ((cell, kind), name) in cells.iter().zip(plan).zip(&self.columns) {
            let (Cell::Value(slot), false) = (kind, is_missing(cell)) else { continue };
            match fast_float2::parse::<f64, _>(cell) {
                Ok(v) => values.push((*slot, v)),
                Err(_) => return self.bad_row(line, format!("column {name:?} holds {:?}, not a number", lossy(cell)), skipped),
            }
        }
        for (slot, v) in values {
            out.push(slot, step, v);
        }
        Ok(())
    }
}

impl LineFormat for Csv {
    fn start(&mut self, text: &[u8], eof: bool) -> LogResult<Option<(usize, u64)>> {
        let bom_len = if text.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 }; // a UTF-8 byte order mark
        let text = &text[bom_len..];
        let header = numbered_lines(text, 1).find(|(_, l)| !l.trim_ascii().is_empty());
        let Some((header_line, header)) = header else {
            return if eof { Err(LogError::format(&self.path, "no header row: the file holds only blank lines")) } else { Ok(None) };
        };
        if header.trim_ascii_end().contains(&b'\r') {
            let what = "the header line holds a carriage return not followed by a line feed (classic Mac OS line \
                        endings): convert the line endings to \\n or \\r\\n";
            return Err(LogError::format(&self.path, what));
        }
        let mut cells = Vec::new();
        split_record(header, self.delimiter, &mut cells).map_err(|e| LogError::line(&self.path, header_line, e.message()))?;
        self.columns = unique_names(cells.iter().map(|c| tag_name(c).into_owned()).collect());
        self.step_col = step_index(&self.columns, self.step_name.as_deref());
        if let (Some(name), None) = (&self.step_name, self.step_col) {
            let what = format!("no step column {name:?}; columns: {}", self.columns.join(", "));
            return Err(LogError::format(&self.path, what));
        }
        let header_end = header.as_ptr() as usize + header.len() - text.as_ptr() as usize;
        let used = memchr::memchr(b'\n', &text[header_end..]).map_or(text.len(), |i| header_end + i + 1);
        let scanned = text.len().min(SCAN);
        let (text_columns, all_numeric) = self.text_columns(&text[used.min(scanned)..scanned], eof && scanned == text.len());
        if !all_numeric && !eof && text.len() < SCAN {
            return Ok(None); // the rows to scan go on past this chunk
        }
        self.skip = text_columns.iter().enumerate().map(|(i, &is_text)| is_text || Some(i) == self.step_col).collect();
        Ok(Some((used + bom_len, header_line)))
    }

    fn needs_line_numbers(&self) -> bool {
        self.step_col.is_none() // the row index is the step (the driver corrects it for blank lines)
    }

    /// Text with quotes is read record by record on one thread: a quoted cell may hold line breaks, so
    /// a piece cannot be cut at any line break.
    fn parse_records(&self, text: &[u8], at: Pos, eof: bool, out: &mut Collector, skipped: &mut u64) -> Option<LogResult<(usize, Pos)>> {
        memchr::memchr(b'"', text)?;
        Some(self.parse_quoted(text, at, eof, out, skipped))
    }

    fn parse_piece(&self, text: &[u8], at: Pos, out: &mut Collector, skipped: &mut u64) -> LogResult<Pos> {
        let plan = self.plan(out);
        let mut values = Vec::with_capacity(plan.len());
        let mut cells = Vec::with_capacity(plan.len());
        // Lines are rows plus blank lines here (no quotes, so no row spans lines).
        let (mut pos, mut record, mut blanks) = (0, at.record, 0);
        while pos < text.len() {
            match fast_row(text, pos, self.delimiter, &plan, &mut values) {
                // A row without points may be a blank line (which a single column's plan accepts).
                Some((cell, next)) if !values.is_empty() || cell.is_some() || self.blank_line(text, pos).is_none() => {
                    let step = cell.unwrap_or(record as i64);
                    for &(slot, v) in &values {
                        out.push(slot, step, v);
                    }
                    pos = next;
                }
                _ => {
                    if let Some(next) = self.blank_line(text, pos) {
                        pos = next;
                        blanks += 1;
                        continue;
                    }
                    let line = at.line + (record - at.record) + blanks;
                    let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i + 1);
                    // No quotes in this text (see `parse_records`), so the record is the line.
                    match split_record(&text[pos..end], self.delimiter, &mut cells) {
                        Ok(_) => self.row(&cells, line, record, &plan, out, skipped)?,
                        Err(e) => self.bad_row(line, e.message().to_owned(), skipped)?,
                    }
                    pos = end;
                }
            }
            record += 1;
        }
        let records = record - at.record;
        Ok(Pos { line: records + blanks, record: records })
    }
}

impl Csv {
    /// Quoted text, record by record (see `parse_records`).
    fn parse_quoted(&self, text: &[u8], at: Pos, eof: bool, out: &mut Collector, skipped: &mut u64) -> LogResult<(usize, Pos)> {
        let plan = self.plan(out);
        let mut cells = Vec::with_capacity(plan.len());
        let (mut pos, mut line, mut record) = (0, at.line, at.record);
        while pos < text.len() {
            if let Some(next) = self.blank_line(text, pos) {
                pos = next;
                line += 1;
                continue;
            }
            let used = match split_record(&text[pos..], self.delimiter, &mut cells) {
                Ok(used) => {
                    self.row(&cells, line, record, &plan, out, skipped)?;
                    used
                }
                Err(SplitError::Unclosed) if !eof => break, // the record goes on in the next chunk
                Err(e) => {
                    self.bad_row(line, e.message().to_owned(), skipped)?;
                    memchr::memchr(b'\n', &text[pos..]).map_or(text.len() - pos, |i| i + 1)
                }
            };
            line += lines_in(&text[pos..pos + used]);
            record += 1;
            pos += used;
        }
        Ok((pos, Pos { line: line - at.line, record: record - at.record }))
    }
}

fn lossy(cell: &[u8]) -> String {
    String::from_utf8_lossy(&cell[..cell.len().min(40)]).into_owned()
}
