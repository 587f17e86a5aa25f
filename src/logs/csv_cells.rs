//! Cutting CSV text into records and cells, and reading the numbers in them.
//!
//! Two ways through a row. [`fast_row`] reads an unquoted row of plain numbers in one pass, parsing each
//! number where it stands instead of finding the delimiters first; it gives up on anything unusual
//! (spaces, text, missing markers other than an empty cell, a wrong cell count) and leaves that row to
//! [`split_record`], the general splitter, so that errors and odd rows are handled in one place.
//! [`split_record`] follows RFC 4180: a cell that starts with `"` runs to its closing quote (`""` is a
//! quote inside it) and may hold delimiters and line breaks.

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

/// A run of decimal digits (at most 18, so no overflow) at the start of `text`, and its length.
#[inline]
fn int_prefix(text: &[u8]) -> Option<(i64, usize)> {
    let n = text.iter().take(19).take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 18 {
        return None;
    }
    let v = text[..n].iter().fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
    Some((v, n))
}

/// An empty cell or a not-available marker (Keras' CSVLogger writes `NA` for a metric it lacks): no
/// point. `nan` is not one of them: it is a value, the loss of a diverged run.
pub fn is_missing(cell: &[u8]) -> bool {
    matches!(cell, b"" | b"NA" | b"N/A" | b"n/a" | b"NULL" | b"null" | b"None" | b"<NA>" | b"#N/A")
}

pub fn trim(cell: &[u8]) -> &[u8] {
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
    match int_prefix(digits) {
        Some((v, n)) if n == digits.len() => Some(if neg { -v } else { v }),
        _ => None,
    }
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
}
