//! CSV and TSV logs with a header row: Lightning's `CSVLogger` (`metrics.csv`, sparse rows with empty
//! cells), Keras' `CSVLogger`, and hand-written ones.
//!
//! The step column is chosen by name (`step=` or the first of [`STEP_NAMES`]; without one, the data row
//! index is the step); every other column is a tag named by its header. Empty cells and `NA` markers
//! are skipped (a Lightning row holds only the metrics logged at that step; Keras writes `NA`). Columns
//! whose first data row holds text (a date, a phase name) are not numeric and are left out. Quoted
//! cells may hold delimiters and line breaks (a notes column in an exported table).

use super::collect::{tag_name, Collector};
pub use super::csv_cells::parse_step;
use super::csv_cells::{fast_row, is_missing, split_record, Cell, SplitError};
use super::error::{LogError, LogResult};
use super::lines::{numbered_lines, LineFormat};
use std::path::PathBuf;

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
    /// Line number of the header (data rows are numbered from the line after it).
    header_line: u64,
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
        Csv { path, delimiter, lenient, step_name, columns: Vec::new(), step_col: None, skip: Vec::new(), header_line: 1 }
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

    /// Leave out the columns whose cell in the first data row holds text.
    fn skip_text_columns(&mut self, cells: &[&[u8]]) {
        if cells.len() == self.columns.len() {
            for (i, cell) in cells.iter().enumerate() {
                if !is_missing(cell) && fast_float2::parse::<f64, _>(cell).is_err() {
                    self.skip[i] = true;
                }
            }
        }
    }

    /// One row's cells into points.
    fn row(&self, cells: &[&[u8]], line: u64, plan: &[Cell], out: &mut Collector, skipped: &mut u64) -> LogResult<()> {
        if cells.len() != self.columns.len() {
            if cells.iter().all(|c| c.is_empty()) {
                return Ok(()); // a blank line
            }
            let what = format!("{} cells, the header has {}", cells.len(), self.columns.len());
            return self.bad_row(line, what, skipped);
        }
        let step = match self.step_col {
            None => (line - self.header_line - 1) as i64,
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

    /// The step of a row that the fast path read: its step cell, or its index.
    #[inline]
    fn row_step(&self, cell: Option<i64>, line: u64) -> i64 {
        cell.unwrap_or_else(|| (line - self.header_line - 1) as i64)
    }
}

impl LineFormat for Csv {
    fn start(&mut self, text: &[u8], eof: bool) -> LogResult<Option<(usize, u64)>> {
        let bom_len = if text.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 }; // a UTF-8 byte order mark
        let text = &text[bom_len..];
        let mut lines = numbered_lines(text, 1).skip_while(|(_, l)| l.trim_ascii().is_empty());
        let Some((header_line, header)) = lines.next() else {
            return if eof { Err(LogError::format(&self.path, "no header row: the file holds only blank lines")) } else { Ok(None) };
        };
        let first_row = lines.find(|(_, l)| !l.trim_ascii().is_empty());
        if first_row.is_none() && !eof {
            return Ok(None);
        }
        let mut cells = Vec::new();
        split_record(header, self.delimiter, &mut cells).map_err(|e| LogError::line(&self.path, header_line, e.message()))?;
        self.columns = cells.iter().map(|c| tag_name(c).into_owned()).collect();
        self.step_col = step_index(&self.columns, self.step_name.as_deref());
        if let (Some(name), None) = (&self.step_name, self.step_col) {
            let what = format!("no step column {name:?}; columns: {}", self.columns.join(", "));
            return Err(LogError::format(&self.path, what));
        }
        self.skip = (0..self.columns.len()).map(|i| Some(i) == self.step_col).collect();
        if let Some((_, row)) = first_row {
            let from = row.as_ptr() as usize - text.as_ptr() as usize;
            match split_record(&text[from..], self.delimiter, &mut cells) {
                Err(SplitError::Unclosed) if !eof => return Ok(None), // the first row goes on past this chunk
                Ok(_) => self.skip_text_columns(&cells.clone()),
                Err(_) => {} // the row is reported when it is parsed
            }
        }
        self.header_line = header_line;
        let header_end = header.as_ptr() as usize + header.len() - text.as_ptr() as usize;
        let used = memchr::memchr(b'\n', &text[header_end..]).map_or(text.len(), |i| header_end + i + 1);
        Ok(Some((used + bom_len, header_line)))
    }

    fn needs_line_numbers(&self) -> bool {
        self.step_col.is_none() // the row index is the step
    }

    /// Text with quotes is read record by record on one thread: a quoted cell may hold line breaks, so
    /// a piece cannot be cut at any line break.
    fn parse_records(&self, text: &[u8], first_line: u64, eof: bool, out: &mut Collector, skipped: &mut u64) -> Option<LogResult<(usize, u64)>> {
        memchr::memchr(b'"', text)?;
        Some(self.parse_quoted(text, first_line, eof, out, skipped))
    }

    fn parse_piece(&self, text: &[u8], first_line: u64, out: &mut Collector, skipped: &mut u64) -> LogResult<u64> {
        let plan = self.plan(out);
        let mut values = Vec::with_capacity(plan.len());
        let mut cells = Vec::with_capacity(plan.len());
        let (mut pos, mut line) = (0, first_line);
        while pos < text.len() {
            if let Some((cell, next)) = fast_row(text, pos, self.delimiter, &plan, &mut values) {
                let step = self.row_step(cell, line);
                for &(slot, v) in &values {
                    out.push(slot, step, v);
                }
                pos = next;
            } else {
                let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i + 1);
                // No quotes in this text (see `parse_records`), so the record is the line.
                match split_record(&text[pos..end], self.delimiter, &mut cells) {
                    Ok(_) => self.row(&cells, line, &plan, out, skipped)?,
                    Err(e) => self.bad_row(line, e.message().to_owned(), skipped)?,
                }
                pos = end;
            }
            line += 1;
        }
        Ok(line - first_line)
    }
}

impl Csv {
    fn parse_quoted(&self, text: &[u8], first_line: u64, eof: bool, out: &mut Collector, skipped: &mut u64) -> LogResult<(usize, u64)> {
        let plan = self.plan(out);
        let mut cells = Vec::with_capacity(plan.len());
        let (mut pos, mut line) = (0, first_line);
        while pos < text.len() {
            let used = match split_record(&text[pos..], self.delimiter, &mut cells) {
                Ok(used) => {
                    self.row(&cells, line, &plan, out, skipped)?;
                    used
                }
                Err(SplitError::Unclosed) if !eof => break, // the record goes on in the next chunk
                Err(e) => {
                    self.bad_row(line, e.message().to_owned(), skipped)?;
                    memchr::memchr(b'\n', &text[pos..]).map_or(text.len() - pos, |i| i + 1)
                }
            };
            line += lines_in(&text[pos..pos + used]);
            pos += used;
        }
        Ok((pos, line - first_line))
    }
}

fn lossy(cell: &[u8]) -> String {
    String::from_utf8_lossy(&cell[..cell.len().min(40)]).into_owned()
}
