//! Line-oriented logs (CSV/TSV, JSON lines, text): the chunk of complete lines is cut into pieces at
//! line breaks, the pieces are parsed on the thread pool into their own collectors, and the collectors
//! are appended in file order, so the result is the same for any number of threads.
//!
//! A last line without a line break that does not parse is a record cut short (a run still writing, or
//! killed): like a cut event record, it is dropped and the file reported truncated, neither an error nor
//! a skipped line. A last line that parses is read.

use super::collect::Collector;
use super::error::{LogError, LogResult};
use super::source::Parser;
use crate::parallel;
use rayon::prelude::*;

/// Chunks at least this large are split across threads.
const PARALLEL_MIN: usize = 1 << 20;

/// A place in a line log: the 1-based number of a line and the records before it; or, added to one,
/// the lines and records a piece spans. Records differ from lines where a record spans lines (a quoted
/// CSV cell) or a line holds none (a blank CSV line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub record: u64,
}

impl Pos {
    /// The place `span` further on.
    pub fn plus(self, span: Pos) -> Pos {
        Pos { line: self.line + span.line, record: self.record + span.record }
    }
}

/// One line format: turns a run of lines into points.
pub trait LineFormat: Send + Sync {
    /// Consume a preamble (a CSV header) from the first lines of the file; `text` holds whole lines
    /// (all of the file's text at `eof`). Returns the bytes used and the lines they span.
    fn start(&mut self, _text: &[u8], _eof: bool) -> LogResult<Option<(usize, u64)>> {
        Ok(Some((0, 0)))
    }

    /// Parse whole lines starting at `at` (`at.line` is the 1-based number of the first). Adds lenient
    /// skips to `skipped`; returns the lines and records the piece spans. Pieces are placed by counting
    /// lines ahead, taking every line for a record; a format whose pieces may hold fewer records than
    /// lines (blank CSV lines) must make every step a record index, so that the driver can move the
    /// steps of the pieces after one back by the difference.
    fn parse_piece(&self, text: &[u8], at: Pos, out: &mut Collector, skipped: &mut u64) -> LogResult<Pos>;

    /// For formats whose records may span lines (quoted CSV cells): parse the whole records at the
    /// start of `text` on this thread, returning the bytes and the lines and records they span. `None`,
    /// the default, means records are lines here, and `text` is cut into pieces for
    /// [`Self::parse_piece`].
    fn parse_records(
        &self,
        _text: &[u8],
        _at: Pos,
        _eof: bool,
        _out: &mut Collector,
        _skipped: &mut u64,
    ) -> Option<LogResult<(usize, Pos)>> {
        None
    }

    /// Whether points depend on line numbers (a line index used as the step). When not, pieces are
    /// parsed before their line numbers are known and only an error's line is corrected afterwards.
    fn needs_line_numbers(&self) -> bool {
        true
    }
}

/// Iterate over the lines of `text` with their numbers, without the line break (`\n` or `\r\n`).
pub fn numbered_lines(text: &[u8], first_line: u64) -> impl Iterator<Item = (u64, &[u8])> {
    let mut start = 0;
    let breaks = memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len()));
    let lines = breaks.filter_map(move |end| {
        let line = text.get(start..end).filter(|l| end < text.len() || !l.is_empty())?;
        start = end + 1;
        Some(line)
    });
    lines.zip(first_line..).map(|(line, n)| (n, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// Newlines in `text`, with memchr's SIMD count (ten times faster than a byte loop, which the compiler
/// left scalar).
fn count_lines(text: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', text).count() as u64
}

pub struct Lines<F: LineFormat> {
    format: F,
    /// One collector per piece, reused from chunk to chunk.
    scratch: Vec<Collector>,
    started: bool,
    /// The next line to parse.
    next: Pos,
    skipped: u64,
    /// Whether the last line was cut short.
    truncated: bool,
}

impl<F: LineFormat> Lines<F> {
    pub fn new(format: F) -> Self {
        let next = Pos { line: 1, record: 0 };
        Lines { format, scratch: Vec::new(), started: false, next, skipped: 0, truncated: false }
    }

    /// Parse the whole records of `text` into `out`; returns the bytes used.
    fn parse_pieces(&mut self, text: &[u8], eof: bool, out: &mut Collector) -> LogResult<usize> {
        if let Some(done) = self.format.parse_records(text, self.next, eof, out, &mut self.skipped) {
            let (used, span) = done?;
            self.next = self.next.plus(span);
            return Ok(used);
        }
        let threads = parallel::threads();
        if text.len() < PARALLEL_MIN || threads < 2 {
            let span = self.format.parse_piece(text, self.next, out, &mut self.skipped)?;
            self.next = self.next.plus(span);
            return Ok(text.len());
        }
        let pieces = split_at_lines(text, threads);
        let format = &self.format;
        // Where known in advance (counted in parallel), pieces get their true first line numbers, and
        // as many records before them as lines (corrected below where that was too many).
        let firsts: Option<Vec<Pos>> = format.needs_line_numbers().then(|| {
            let counts: Vec<u64> = parallel::install(|| pieces.par_iter().map(|p| count_lines(p)).collect());
            let span = |n: u64| Pos { line: n, record: n };
            counts.iter().scan(self.next, |next, &n| Some(std::mem::replace(next, next.plus(span(n))))).collect()
        });
        // The first piece is parsed straight into `out` (no copy); the others into scratch collectors
        // appended after it.
        while self.scratch.len() + 1 < pieces.len() {
            self.scratch.push(out.sibling());
        }
        let scratch = &mut self.scratch[..pieces.len() - 1];
        let first = |i: usize| firsts.as_ref().map_or(Pos { line: 1, record: 0 }, |f| f[i]);
        let parse = |i: usize, local: &mut Collector| {
            let mut skipped = 0;
            (format.parse_piece(pieces[i], first(i), local, &mut skipped), skipped)
        };
        let (head, tail): (PieceResult, Vec<PieceResult>) = parallel::install(|| {
            rayon::join(
                || parse(0, out),
                || scratch.par_iter_mut().enumerate().map(|(i, local)| parse(i + 1, local)).collect(),
            )
        });
        for (i, (span, skipped)) in std::iter::once(head).chain(tail).enumerate() {
            let span = match (span, &firsts) {
                (Ok(span), _) => span,
                (Err(e), Some(_)) => return Err(e),
                (Err(e), None) => return Err(renumber(e, self.next.line - 1)),
            };
            // Blank lines before this piece: it was placed after more records than there are.
            let back = firsts.as_ref().map_or(0, |f| f[i].record.wrapping_sub(self.next.record) as i64);
            if let Some(piece) = i.checked_sub(1).and_then(|j| self.scratch.get_mut(j)).filter(|_| back != 0) {
                for series in &mut piece.series {
                    series.steps.iter_mut().for_each(|s| *s = s.wrapping_sub(back));
                }
            }
            self.skipped += skipped;
            self.next = self.next.plus(span);
        }
        out.append(&mut self.scratch[..pieces.len() - 1]);
        Ok(text.len())
    }

    /// The last record of a file that does not end with a line break: kept if it parses, else taken as
    /// cut short while being written, its points dropped.
    fn parse_last(&mut self, text: &[u8], out: &mut Collector) {
        let mut local = out.sibling();
        let mut skipped = 0;
        let parsed = match self.format.parse_records(text, self.next, true, &mut local, &mut skipped) {
            Some(done) => done.map(|(_, span)| span),
            None => self.format.parse_piece(text, self.next, &mut local, &mut skipped),
        };
        match parsed {
            Ok(span) if skipped == 0 => {
                out.append(std::slice::from_mut(&mut local));
                self.next = self.next.plus(span);
            }
            _ => self.truncated = true,
        }
    }
}

/// An error found in a piece numbered from 1, moved to the piece's place in the file.
fn renumber(e: LogError, before: u64) -> LogError {
    match e {
        LogError::Line { path, line, what } => LogError::Line { path, line: line + before, what },
        other => other,
    }
}

/// What a piece spans (or its error) and the lines it skipped in lenient mode.
type PieceResult = (LogResult<Pos>, u64);

/// Cut `text` into about `n` pieces, each ending at a line break.
fn split_at_lines(text: &[u8], n: usize) -> Vec<&[u8]> {
    let target = text.len().div_ceil(n.max(1)).max(1);
    let mut pieces = Vec::with_capacity(n);
    let mut rest = text;
    while !rest.is_empty() {
        let cut = if rest.len() <= target {
            rest.len()
        } else {
            memchr::memchr(b'\n', &rest[target..]).map_or(rest.len(), |i| target + i + 1)
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

impl<F: LineFormat> Parser for Lines<F> {
    fn parse(&mut self, data: &[u8], _offset: u64, eof: bool, out: &mut Collector) -> LogResult<usize> {
        let end = if eof {
            data.len()
        } else {
            match memchr::memrchr(b'\n', data) {
                Some(i) => i + 1,
                None => return Ok(0),
            }
        };
        let mut text = &data[..end];
        let mut used = 0;
        if !self.started {
            let Some((n, lines)) = self.format.start(text, eof)? else {
                return Ok(0); // the preamble needs more lines than this chunk holds
            };
            self.started = true;
            self.next.line += lines;
            text = &text[n..];
            used = n;
        }
        let whole = if eof { memchr::memrchr(b'\n', text).map_or(0, |i| i + 1) } else { text.len() };
        if whole == text.len() {
            return Ok(used + self.parse_pieces(text, eof, out)?);
        }
        // The whole lines are parsed as if more followed, so that a record left open in them (a quoted
        // cell) goes on into the last line and is judged with it.
        let parsed = self.parse_pieces(&text[..whole], false, out)?;
        self.parse_last(&text[parsed..], out);
        Ok(used + text.len())
    }

    fn truncated(&self) -> bool {
        self.truncated
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_stripped_of_line_breaks() {
        let lines: Vec<_> = numbered_lines(b"a\r\nb\n\nc", 5).collect();
        assert_eq!(lines, vec![(5, &b"a"[..]), (6, b"b"), (7, b""), (8, b"c")]);
        assert_eq!(numbered_lines(b"", 1).count(), 0);
        assert_eq!(numbered_lines(b"x\n", 1).count(), 1);
    }

    #[test]
    fn pieces_end_at_line_breaks_and_cover_the_text() {
        let text = b"one\ntwo\nthree\nfour\nfive\n";
        for n in 1..8 {
            let pieces = split_at_lines(text, n);
            assert_eq!(pieces.concat(), text.to_vec());
            assert!(pieces.iter().all(|p| p.ends_with(b"\n")));
        }
    }
}
