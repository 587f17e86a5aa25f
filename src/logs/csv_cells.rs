//! Cutting CSV text into records and cells, and reading the numbers in them.
//!
//! Two ways through a row. [`fast_row`] reads an unquoted row of plain numbers in one pass, parsing each
//! number where it stands instead of finding the delimiters first; it gives up on anything unusual
//! (spaces, text, missing markers other than an empty cell, a wrong cell count) and leaves that row to
//! [`split_record`], the general splitter, so that errors and odd rows are handled in one place.
//! [`split_record`] follows RFC 4180: a cell that starts with `"` runs to its closing quote (`""` is a
//! quote inside it) and may hold delimiters and line breaks.

use std::collections::{HashMap, HashSet};

/// What a column of the header becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The step column.
    Step,
    /// A numeric column kept, with its collector slot.
    Value(usize),
    /// A column left out: text, or a tag not asked for.
    Skip,
}

/// Why a record could not be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A quoted cell runs to the end of the text: an error at the end of the file, else the record
    /// continues in bytes not read yet.
    Unclosed,
    /// Something other than a delimiter or line break follows a closing quote.
    TextAfterQuote,
}

impl SplitError {
    pub fn message(self) -> &'static str {
        match self {
            SplitError::Unclosed => "a quoted cell is not closed",
            SplitError::TextAfterQuote => "text after a quoted cell",
        }
    }
}

/// Split the record at the start of `text` into `cells` (cleared first), unquoting quoted cells and
/// trimming spaces. Returns the bytes the record spans, its line break included.
pub fn split_record<'a>(text: &'a [u8], delimiter: u8, cells: &mut Vec<&'a [u8]>) -> Result<usize, SplitError> {
    cells.clear();
    let mut pos = 0;
    loop {
        let rest = &text[pos..];
        let lead = rest.iter().take_while(|&&b| b == b' ' || b == b'\t' && delimiter != b'\t').count();
        if rest.get(lead) == Some(&b'"') {
            let inner_start = pos + lead + 1;
            let close = closing_quote(&text[inner_start..]).ok_or(SplitError::Unclosed)? + inner_start;
            cells.push(&text[inner_start..close]);
            pos = close + 1;
            let spaces = text[pos..].iter().take_while(|&&b| b == b' ' || b == b'\r').count();
            match text.get(pos + spaces) {
                None => return Ok(text.len()),
                Some(b'\n') => return Ok(pos + spaces + 1),
                Some(&d) if d == delimiter => pos += spaces + 1,
                Some(_) => return Err(SplitError::TextAfterQuote),
            }
        } else {
            match memchr::memchr2(delimiter, b'\n', rest) {
                Some(i) if rest[i] == delimiter => {
                    cells.push(trim(&rest[..i]));
                    pos += i + 1;
                }
                Some(i) => {
                    cells.push(trim(&rest[..i]));
                    return Ok(pos + i + 1);
                }
                None => {
                    cells.push(trim(rest));
                    return Ok(text.len());
                }
            }
        }
    }
}

/// The index of the quote closing a quoted cell whose text starts `inner` (`""` is an escaped quote).
fn closing_quote(inner: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let j = i + memchr::memchr(b'"', &inner[i..])?;
        if inner.get(j + 1) == Some(&b'"') {
            i = j + 2;
        } else {
            return Some(j);
        }
    }
}

/// Read the unquoted row at `text[pos..]` in one pass: the step (when a column holds it) and the values
/// into `values` (cleared first), returning the offset after the row's line break. `None` leaves the
/// row to [`split_record`] and the careful path, which accepts or rejects it.
#[inline]
pub fn fast_row(
    text: &[u8],
    mut pos: usize,
    delimiter: u8,
    plan: &[Cell],
    values: &mut Vec<(usize, f64)>,
) -> Option<(Option<i64>, usize)> {
    values.clear();
    let mut step = None;
    for (i, cell) in plan.iter().enumerate() {
        match *cell {
            Cell::Step => {
                let (s, n) = int_prefix(&text[pos..])?;
                step = Some(s);
                pos += n;
            }
            Cell::Value(slot) => match text.get(pos) {
                None | Some(b'\n' | b'\r') => {}
                Some(&b) if b == delimiter => {}
                Some(_) => {
                    let (v, n) = fast_float2::parse_partial::<f64, _>(&text[pos..]).ok()?;
                    values.push((slot, v));
                    pos += n;
                }
            },
            Cell::Skip => pos += memchr::memchr2(delimiter, b'\n', &text[pos..]).unwrap_or(text.len() - pos),
        }
        if i + 1 < plan.len() {
            if text.get(pos) != Some(&delimiter) {
                return None;
            }
            pos += 1;
        }
    }
    match &text[pos..] {
        [] => Some((step, pos)),
        [b'\n', ..] => Some((step, pos + 1)),
        [b'\r', b'\n', ..] => Some((step, pos + 2)),
        _ => None,
    }
}

/// An integer at the start of `text` (an optional sign, then digits) and its length; `None` without
/// digits or when it does not fit an `i64`. Checked, so every step of the `i64` range is exact (a
/// 19-digit step read as a float lost its last digits).
#[inline]
fn int_prefix(text: &[u8]) -> Option<(i64, usize)> {
    let (negative, start) = match text.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut magnitude = 0u64;
    let mut end = start;
    // Nineteen digits fit a u64 unchecked; only a longer run needs checking.
    let unchecked_end = text.len().min(start + 19);
    while end < unchecked_end && text[end].is_ascii_digit() {
        magnitude = magnitude * 10 + u64::from(text[end] - b'0');
        end += 1;
    }
    while let Some(digit) = text.get(end).filter(|b| b.is_ascii_digit()) {
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
        end += 1;
    }
    if end == start {
        return None;
    }
    let value = if negative { 0i64.checked_sub_unsigned(magnitude)? } else { i64::try_from(magnitude).ok()? };
    Some((value, end))
}

/// An empty cell or a not-available marker (Keras' CSVLogger writes `NA` for a metric it lacks): no
/// point. `nan` is not one of them: it is a value, the loss of a diverged run.
pub fn is_missing(cell: &[u8]) -> bool {
    matches!(cell, b"" | b"NA" | b"N/A" | b"n/a" | b"NULL" | b"null" | b"None" | b"<NA>" | b"#N/A")
}

pub fn trim(cell: &[u8]) -> &[u8] {
    cell.trim_ascii()
}

/// A step cell: an integer, or a float with no fractional part (some loggers write `10.0` or `1e3`).
/// Integers, with or without a zero fraction, are read exactly; one out of the `i64` range is not a step.
pub fn parse_step(cell: &[u8]) -> Option<i64> {
    let whole = match cell.iter().position(|&b| b == b'.') {
        Some(dot) if cell[dot + 1..].iter().all(|&b| b == b'0') => &cell[..dot],
        _ => cell,
    };
    let digits = whole.strip_prefix(b"-").or_else(|| whole.strip_prefix(b"+")).unwrap_or(whole);
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return int_prefix(whole).map(|(v, _)| v);
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let f = fast_float2::parse::<f64, _>(cell).ok()?;
    (f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f)).then_some(f as i64)
}

/// Header names made unique as pandas does: a repeated `loss` becomes `loss.1`, then `loss.2`, ...,
/// passing over a name that another column has.
pub fn unique_names(names: Vec<String>) -> Vec<String> {
    let header: HashSet<String> = names.iter().cloned().collect();
    if header.len() == names.len() {
        return names;
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut unique = Vec::with_capacity(names.len());
    for name in names {
        let mut count = counts.get(&name).copied().unwrap_or(0);
        let mut renamed = name.clone();
        if count > 0 {
            loop {
                renamed = format!("{name}.{count}");
                count += 1;
                if !header.contains(&renamed) && !counts.contains_key(&renamed) {
                    break;
                }
            }
            counts.insert(name, count);
        }
        *counts.entry(renamed.clone()).or_insert(0) += 1;
        unique.push(renamed);
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<(Vec<String>, usize), SplitError> {
        let mut cells = Vec::new();
        let n = split_record(text.as_bytes(), b',', &mut cells)?;
        Ok((cells.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect(), n))
    }

    #[test]
    fn records_split_at_unquoted_line_breaks_only() {
        assert_eq!(split("1, 2 ,3\nnext").unwrap(), (vec!["1".into(), "2".into(), "3".into()], 8));
        assert_eq!(split("\"a,\nb\",2\r\nnext").unwrap(), (vec!["a,\nb".into(), "2".into()], 10));
        assert_eq!(split("\"say \"\"hi\"\"\" ,x").unwrap(), (vec!["say \"\"hi\"\"".into(), "x".into()], 15));
        assert_eq!(split("5\"x,3\n").unwrap(), (vec!["5\"x".into(), "3".into()], 6), "a stray quote inside a cell is text");
        assert_eq!(split("1,\"open\n2,3\n"), Err(SplitError::Unclosed));
        assert_eq!(split("\"a\"b,1\n"), Err(SplitError::TextAfterQuote));
        assert_eq!(split("").unwrap(), (vec![String::new()], 0));
    }

    #[test]
    fn the_fast_row_reads_plain_numbers_and_declines_the_rest() {
        let plan = [Cell::Step, Cell::Value(0), Cell::Skip, Cell::Value(1)];
        let mut values = Vec::new();
        let row = |text: &str, values: &mut Vec<(usize, f64)>| fast_row(text.as_bytes(), 0, b',', &plan, values);
        assert_eq!(row("7,0.5,abc,1e-3\r\nx", &mut values), Some((Some(7), 16)));
        assert_eq!(values, vec![(0, 0.5), (1, 1e-3)]);
        assert_eq!(row("8,,,nan", &mut values), Some((Some(8), 7)));
        assert!(values.len() == 1 && values[0].1.is_nan());
        for declined in ["8, 0.5,a,1\n", "8,NA,a,1\n", "8,0.5,a\n", "8,0.5,a,1,2\n", "8.0,1,a,1\n", "\n", "8,1x,a,1\n"] {
            assert_eq!(row(declined, &mut values), None, "{declined:?}");
        }
    }

    #[test]
    fn steps_are_integers_or_whole_floats() {
        assert_eq!(parse_step(b"-12"), Some(-12));
        assert_eq!(parse_step(b"10.0"), Some(10));
        assert_eq!(parse_step(b"1e3"), Some(1000));
        assert_eq!(parse_step(b"1.5"), None);
        assert_eq!(parse_step(b""), None);
        assert_eq!(parse_step(b"-"), None);
        assert_eq!(parse_step(b"123456789012345678"), Some(123_456_789_012_345_678));
    }

    #[test]
    fn steps_are_exact_over_the_whole_i64_range() {
        // Both were 1000000000000000000: the 19th digit went through a float.
        assert_eq!(parse_step(b"1000000000000000001"), Some(1_000_000_000_000_000_001));
        assert_eq!(parse_step(b"1000000000000000002"), Some(1_000_000_000_000_000_002));
        assert_eq!(parse_step(b"1000000000000000003.00"), Some(1_000_000_000_000_000_003));
        assert_eq!(parse_step(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_step(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_step(b"+0009223372036854775807"), Some(i64::MAX));
        for out_of_range in [&b"9223372036854775808"[..], b"-9223372036854775809", b"99999999999999999999", b"1e19", b"-1e19"] {
            assert_eq!(parse_step(out_of_range), None, "{}", String::from_utf8_lossy(out_of_range));
        }
        assert_eq!(parse_step(b"-9.223372036854775808e18"), Some(i64::MIN));
        let plan = [Cell::Step, Cell::Value(0)];
        let mut values = Vec::new();
        let row = |text: &str, values: &mut Vec<(usize, f64)>| fast_row(text.as_bytes(), 0, b',', &plan, values);
        assert_eq!(row("9223372036854775807,1\n", &mut values), Some((Some(i64::MAX), 22)));
        assert_eq!(row("1000000000000000001,1\n", &mut values), Some((Some(1_000_000_000_000_000_001), 22)));
        assert_eq!(row("-9223372036854775808,1\n", &mut values), Some((Some(i64::MIN), 23)));
        assert_eq!(row("+3,1\n", &mut values), Some((Some(3), 5)));
        assert_eq!(row("9223372036854775808,1\n", &mut values), None, "out of range: left to the careful path");
    }
}
