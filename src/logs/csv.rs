//! CSV and TSV logs with a header row: Lightning's `CSVLogger` (`metrics.csv`, sparse rows with empty
//! cells), Keras' `CSVLogger`, and hand-written ones.
//!
//! The step column is chosen by name (`step=` or the first of [`STEP_NAMES`]; without one, the data row
//! index is the step); every other column is a tag named by its header. Empty cells and `NA` markers
//! are skipped (a Lightning row holds only the metrics logged at that step; Keras writes `NA`). Columns whose first data row holds text
//! (a date, a phase name) are not numeric and are left out. Quoted cells are understood, but a quoted
//! cell may not span lines: training logs never hold multi-line cells.

use super::collect::{Collector, Slot};
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

/// Split one row into `cells` (cleared first), unquoting quoted cells. Errors on an unclosed quote.
fn split_row<'a>(line: &'a [u8], delimiter: u8, cells: &mut Vec<&'a [u8]>) -> Result<(), &'static str> {
    cells.clear();
    if memchr::memchr(b'"', line).is_none() {
        cells.extend(line.split(|&b| b == delimiter).map(trim));
        return Ok(());
    }
    let mut rest = line;
    loop {
        let trimmed = trim(rest);
        if let Some(inner) = trimmed.strip_prefix(b"\"") {
            // A quoted cell: up to the closing quote ("" is an escaped quote inside, kept as is).
            let mut i = 0;
            let close = loop {
                match memchr::memchr(b'"', &inner[i..]) {
                    None => return Err("a quoted cell is not closed"),
                    Some(j) if inner.get(i + j + 1) == Some(&b'"') => i += j + 2,
                    Some(j) => break i + j,
                }
            };
            cells.push(&inner[..close]);
            let after = trim(&inner[close + 1..]);
            match after.first() {
                None => return Ok(()),
                Some(&d) if d == delimiter => rest = &after[1..],
                Some(_) => return Err("text after a quoted cell"),
            }
        } else {
            match memchr::memchr(delimiter, rest) {
                Some(i) => {
                    cells.push(trim(&rest[..i]));
                    rest = &rest[i + 1..];
                }
                None => {
                    cells.push(trim(rest));
                    return Ok(());
                }
            }
        }
    }
}

/// An empty cell or a not-available marker (Keras' CSVLogger writes `NA` for a metric it lacks): no
/// point. `nan` is not one of them: it is a value, the loss of a diverged run.
fn is_missing(cell: &[u8]) -> bool {
    matches!(cell, b"" | b"NA" | b"N/A" | b"n/a" | b"NULL" | b"null" | b"None" | b"<NA>" | b"#N/A")
}

fn trim(cell: &[u8]) -> &[u8] {
    cell.trim_ascii()
}

/// A step cell: an integer, or a float with no fractional part (some loggers write `10.0`).
pub fn parse_step(cell: &[u8]) -> Option<i64> {
    if let Some(v) = parse_int(cell) {
        return Some(v);
    }
    let f = fast_float2::parse::<f64, _>(cell).ok()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

fn parse_int(cell: &[u8]) -> Option<i64> {
    let (neg, digits) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, cell),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(if neg { -v } else { v })
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
        split_row(header, self.delimiter, &mut cells).map_err(|e| LogError::line(&self.path, header_line, e))?;
        self.columns = cells.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        self.step_col = step_index(&self.columns, self.step_name.as_deref());
        if let (Some(name), None) = (&self.step_name, self.step_col) {
            let what = format!("no step column {name:?}; columns: {}", self.columns.join(", "));
            return Err(LogError::format(&self.path, what));
        }
        self.skip = (0..self.columns.len()).map(|i| Some(i) == self.step_col).collect();
        if let Some((_, row)) = first_row {
            if split_row(row, self.delimiter, &mut cells).is_ok() && cells.len() == self.columns.len() {
                for (i, cell) in cells.iter().enumerate() {
                    if !is_missing(cell) && fast_float2::parse::<f64, _>(cell).is_err() {
                        self.skip[i] = true;
                    }
                }
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

    fn parse_piece(&self, text: &[u8], first_line: u64, out: &mut Collector, skipped: &mut u64) -> LogResult<u64> {
        let slots: Vec<Slot> =
            self.columns.iter().zip(&self.skip).map(|(name, &skip)| if skip { None } else { out.slot(name) }).collect();
        let mut cells: Vec<&[u8]> = Vec::with_capacity(self.columns.len());
        let mut line = first_line;
        if memchr::memchr(b'"', text).is_some() {
            for (n, row) in numbered_lines(text, first_line) {
                line = n + 1;
                match split_row(row, self.delimiter, &mut cells) {
                    Ok(()) => self.row(&cells, n, &slots, out, skipped)?,
                    Err(e) => self.bad_row(n, e.to_owned(), skipped)?,
                }
            }
            return Ok(line - first_line);
        }
        // No quotes: one SIMD pass finds every delimiter and line break.
        let mut cell_start = 0;
        for pos in memchr::memchr2_iter(self.delimiter, b'\n', text) {
            cells.push(trim(&text[cell_start..pos]));
            cell_start = pos + 1;
            if text[pos] == b'\n' {
                self.row(&cells, line, &slots, out, skipped)?;
                cells.clear();
                line += 1;
            }
        }
        if cell_start < text.len() {
            cells.push(trim(&text[cell_start..]));
            self.row(&cells, line, &slots, out, skipped)?;
            line += 1;
        }
        Ok(line - first_line)
    }
}

impl Csv {
    /// One row's cells into points.
    fn row(&self, cells: &[&[u8]], line: u64, slots: &[Slot], out: &mut Collector, skipped: &mut u64) -> LogResult<()> {
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
        for ((cell, slot), name) in cells.iter().zip(slots).zip(&self.columns) {
            let (Some(slot), false) = (slot, is_missing(cell)) else { continue };
            match fast_float2::parse::<f64, _>(cell) {
                Ok(v) => out.push(*slot, step, v),
                Err(_) => {
                    let what = format!("column {name:?} holds {:?}, not a number", lossy(cell));
                    self.bad_row(line, what, skipped)?;
                }
            }
        }
        Ok(())
    }
}

fn lossy(cell: &[u8]) -> String {
    String::from_utf8_lossy(&cell[..cell.len().min(40)]).into_owned()
}
