//! Which format a log is in: from its name first (`events.out.tfevents.*`, `metrics.csv`,
//! `trainer_state.json`, `*.jsonl`, `*.log`), else from its first bytes.

use super::error::{LogError, LogResult};
use super::tfrecord::record_length;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Bytes looked at to recognise a format.
const HEAD: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// TensorBoard event files.
    Events,
    Csv,
    Tsv,
    /// JSON lines.
    Jsonl,
    /// Hugging Face `trainer_state.json`.
    TrainerState,
    /// Plain text.
    Text,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Events, Format::Csv, Format::Tsv, Format::Jsonl, Format::TrainerState, Format::Text];

    pub fn name(self) -> &'static str {
        match self {
            Format::Events => "tfevents",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::TrainerState => "trainer_state",
            Format::Text => "text",
        }
    }

    /// The format named `name` (`"auto"` is `None`).
    pub fn parse(name: &str) -> LogResult<Option<Format>> {
        if name == "auto" {
            return Ok(None);
        }
        Format::ALL.into_iter().find(|f| f.name() == name).map(Some).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            LogError::option("format", format!("{name:?}"), &format!("must be \"auto\" or one of {}", names.join(", ")))
        })
    }

    /// The format a file name announces. `scan` is stricter: it only picks files that are surely logs
    /// (a `.txt` must say `log` in its name, a `.json` must be `trainer_state.json`).
    pub fn from_name(path: &Path, scan: bool) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        if name.contains("tfevents") {
            return Some(Format::Events);
        }
        if name == "trainer_state.json" {
            return Some(Format::TrainerState);
        }
        match ext {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "log" => Some(Format::Text),
            "txt" | "out" if !scan || name.contains("log") => Some(Format::Text),
            _ => None,
        }
    }
}

/// The first bytes of a file (up to 64 KiB).
fn head(path: &Path) -> LogResult<Vec<u8>> {
    let file = File::open(path).map_err(|e| LogError::io(path, &e))?;
    let mut head = Vec::with_capacity(HEAD);
    file.take(HEAD as u64).read_to_end(&mut head).map_err(|e| LogError::io(path, &e))?;
    Ok(head)
}

/// Whether `head` looks like text: no NUL byte, hardly any control characters, and UTF-8 apart from a
/// few stray bytes. A Latin-1 `é` in a notes column is still a log (readers keep such bytes as `\xNN`
/// in tag names, or report the line); a file of mostly invalid sequences is not.
fn is_text(head: &[u8]) -> bool {
    if memchr::memchr(0, head).is_some() {
        return false;
    }
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b)).count();
    let invalid: usize = head.utf8_chunks().map(|c| c.invalid().len()).sum();
    let few = |n: usize| n <= 8 || n * 100 <= head.len();
    few(controls) && few(invalid)
}

/// Text in UTF-16 (a Windows editor's "Unicode"), which has NUL bytes and so would look binary.
fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff")
}

/// The format of the file at `path`: `given`, else from its name, else from its content. Empty files and
/// binary garbage are errors here, with a one-line reason.
pub fn detect(path: &Path, given: Option<Format>) -> LogResult<Format> {
    let head = head(path)?;
    if head.is_empty() {
        return Err(LogError::format(path, "the file is empty"));
    }
    let format = match given.or_else(|| Format::from_name(path, false)) {
        Some(f) => f,
        None if record_length(&head).is_some() => Format::Events,
        None => sniff_text(&head),
    };
    if format != Format::Events && is_utf16(&head) {
        return Err(LogError::format(path, "UTF-16 text: save the log as UTF-8 and read that"));
    }
    if format != Format::Events && !is_text(&head) {
        let what = format!("binary data, not a {} log (and not a TensorBoard event file)", format.name());
        return Err(LogError::format(path, what));
    }
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head).trim_ascii_start();
    if format == Format::Text && given.is_none() && body.first() == Some(&b'{') {
        return Ok(sniff_text(&head)); // a `.txt`/`.log` that is really JSON
    }
    Ok(format)
}

/// A text format from content: JSON objects, a delimited table, or free text.
fn sniff_text(head: &[u8]) -> Format {
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head).trim_ascii_start();
    if body.first() == Some(&b'{') {
        let first_line = body.split(|&b| b == b'\n').next().unwrap_or(b"");
        let looks_like_state = memchr::memmem::find(head, b"\"log_history\"").is_some();
        let one_object_per_line = first_line.trim_ascii_end().ends_with(b"}");
        return if looks_like_state && !one_object_per_line { Format::TrainerState } else { Format::Jsonl };
    }
    let mut lines = body.split(|&b| b == b'\n').filter(|l| !l.trim_ascii().is_empty());
    let (Some(header), Some(row)) = (lines.next(), lines.next()) else { return Format::Text };
    for (delimiter, format) in [(b',', Format::Csv), (b'\t', Format::Tsv)] {
        let count = |l: &[u8]| l.iter().filter(|&&b| b == delimiter).count();
        if count(header) > 0 && count(header) == count(row) {
            return format;
        }
    }
    Format::Text
}
