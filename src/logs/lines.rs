//! Line-oriented logs (CSV/TSV, JSON lines, text): the chunk of complete lines is cut into pieces at
//! line breaks, the pieces are parsed on the thread pool into their own collectors, and the collectors
//! are appended in file order, so the result is the same for any number of threads.

use super::collect::Collector;
use super::error::{LogError, LogResult};
use super::source::Parser;
use crate::parallel;
use rayon::prelude::*;

/// Chunks at least this large are split across threads.
const PARALLEL_MIN: usize = 1 << 20;

/// One line format: turns a run of lines into points.
pub trait LineFormat: Send + Sync {
    /// Consume a preamble (a CSV header) from the first lines of the file; `text` holds whole lines
    /// (all of the file's text at `eof`). Returns the bytes used and the lines they span.
    fn start(&mut self, _text: &[u8], _eof: bool) -> LogResult<Option<(usize, u64)>> {
        Ok(Some((0, 0)))
    }

    /// Parse whole lines; `first_line` is the 1-based number of the first. Adds lenient skips to
    /// `skipped`; returns the number of lines.
    fn parse_piece(&self, text: &[u8], first_line: u64, out: &mut Collector, skipped: &mut u64) -> LogResult<u64>;

    /// For formats whose records may span lines (quoted CSV cells): parse the whole records at the
    /// start of `text` on this thread, returning the bytes and lines they span. `None`, the default,
    /// means records are lines here, and `text` is cut into pieces for [`Self::parse_piece`].
    fn parse_records(
        &self,
        _text: &[u8],
        _first_line: u64,
        _eof: bool,
        _out: &mut Collector,
        _skipped: &mut u64,
    ) -> Option<LogResult<(usize, u64)>> {
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

/// Newlines in `text` (a loop the compiler vectorises).
fn count_lines(text: &[u8]) -> u64 {
    text.iter().filter(|&&b| b == b'\n').count() as u64
}

pub struct Lines<F: LineFormat> {
    format: F,
    /// One collector per piece, reused from chunk to chunk.
    scratch: Vec<Collector>,
    started: bool,
    /// Number of the next line to parse.
    next_line: u64,
    skipped: u64,
}

impl<F: LineFormat> Lines<F> {
    pub fn new(format: F) -> Self {
        Lines { format, scratch: Vec::new(), started: false, next_line: 1, skipped: 0 }
    }

    /// Parse the whole records of `text` into `out`; returns the bytes used.
    fn parse_pieces(&mut self, text: &[u8], eof: bool, out: &mut Collector) -> LogResult<usize> {
        if let Some(done) = self.format.parse_records(text, self.next_line, eof, out, &mut self.skipped) {
            let (used, lines) = done?;
            self.next_line += lines;
            return Ok(used);
        }
        let threads = parallel::threads();
        if text.len() < PARALLEL_MIN || threads < 2 {
            let lines = self.format.parse_piece(text, self.next_line, out, &mut self.skipped)?;
            self.next_line += lines;
            return Ok(text.len());
        }
        let pieces = split_at_lines(text, threads);
        let format = &self.format;
        // Where known in advance (counted in parallel), pieces get their true first line numbers.
        let firsts: Option<Vec<u64>> = format.needs_line_numbers().then(|| {
            let counts: Vec<u64> = parallel::install(|| pieces.par_iter().map(|p| count_lines(p)).collect());
            counts.iter().scan(self.next_line, |next, &n| Some(std::mem::replace(next, *next + n))).collect()
        });
        // The first piece is parsed straight into `out` (no copy); the others into scratch collectors
        // appended after it.
        while self.scratch.len() + 1 < pieces.len() {
            self.scratch.push(out.sibling());
        }
        let scratch = &mut self.scratch[..pieces.len() - 1];
        let first_line = |i: usize| firsts.as_ref().map_or(1, |f| f[i]);
        let parse = |i: usize, local: &mut Collector| {
            let mut skipped = 0;
            (format.parse_piece(pieces[i], first_line(i), local, &mut skipped), skipped)
        };
        let (head, tail): (PieceResult, Vec<PieceResult>) = parallel::install(|| {
            rayon::join(
                || parse(0, out),
                || scratch.par_iter_mut().enumerate().map(|(i, local)| parse(i + 1, local)).collect(),
            )
        });
        for (lines, skipped) in std::iter::once(head).chain(tail) {
            let lines = match (lines, &firsts) {
                (Ok(n), _) => n,
                (Err(e), Some(_)) => return Err(e),
                (Err(e), None) => return Err(renumber(e, self.next_line - 1)),
            };
            self.skipped += skipped;
            self.next_line += lines;
        }
        out.append(&mut self.scratch[..pieces.len() - 1]);
        Ok(text.len())
    }
}

/// An error found in a piece numbered from 1, moved to the piece's place in the file.
fn renumber(e: LogError, before: u64) -> LogError {
    match e {
        LogError::Line { path, line, what } => LogError::Line { path, line: line + before, what },
        other => other,
    }
}

/// A piece's line count (or error) and the lines it skipped in lenient mode.
type PieceResult = (LogResult<u64>, u64);

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
            self.next_line += lines;
            text = &text[n..];
            used = n;
        }
        Ok(used + self.parse_pieces(text, eof, out)?)
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
