//! What can go wrong reading a training log. Every message is one line and names the file, and where it
//! applies the byte offset or line number, so a user scanning a folder of runs knows which file to look at.

use std::fmt;
use std::io;
use std::path::Path;

/// The kind of I/O failure, kept so the binding layer can raise the matching `OSError` subclass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoKind {
    NotFound,
    PermissionDenied,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogError {
    /// The file (or folder) cannot be opened or read.
    Io { path: String, kind: IoKind, errno: Option<i32>, detail: String },
    /// The file as a whole is not a log we can read: empty, binary garbage, unknown format.
    Format { path: String, what: String },
    /// A damaged record in a binary log (bad checksum, malformed protobuf) at a byte offset.
    Corrupt { path: String, offset: u64, what: String },
    /// A malformed line in a text log (CSV, JSON lines, trainer_state.json) with its 1-based number.
    Line { path: String, line: u64, what: String },
    /// Tags were asked for that the log does not hold; `available` lists what it does hold.
    MissingTags { path: String, missing: Vec<String>, available: Vec<String> },
    /// A folder holds no file that looks like a training log.
    NoLogs { path: String },
    /// A reader option is invalid (a bad regex, an unknown format name...).
    Option { name: String, value: String, requirement: String },
}

pub type LogResult<T> = std::result::Result<T, LogError>;

impl LogError {
    pub fn io(path: &Path, e: &io::Error) -> Self {
        let kind = match e.kind() {
            io::ErrorKind::NotFound => IoKind::NotFound,
            io::ErrorKind::PermissionDenied => IoKind::PermissionDenied,
            _ => IoKind::Other,
        };
        LogError::Io { path: shown(path), kind, errno: e.raw_os_error(), detail: e.to_string() }
    }

    pub fn format(path: &Path, what: impl Into<String>) -> Self {
        LogError::Format { path: shown(path), what: what.into() }
    }

    pub fn corrupt(path: &Path, offset: u64, what: impl Into<String>) -> Self {
        LogError::Corrupt { path: shown(path), offset, what: what.into() }
    }

    pub fn line(path: &Path, line: u64, what: impl Into<String>) -> Self {
        LogError::Line { path: shown(path), line, what: what.into() }
    }

    pub fn option(name: &str, value: impl fmt::Display, requirement: &str) -> Self {
        LogError::Option { name: name.to_owned(), value: value.to_string(), requirement: requirement.to_owned() }
    }

    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            LogError::Io { path, .. }
            | LogError::Format { path, .. }
            | LogError::Corrupt { path, .. }
            | LogError::Line { path, .. }
            | LogError::MissingTags { path, .. }
            | LogError::NoLogs { path } => Some(path),
            LogError::Option { .. } => None,
        }
    }
}

/// Paths are shown lossily: a log's name is for people, and a non-UTF-8 byte must not hide the error.
pub fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// At most this many tag names are listed in a missing-tag message (a log may hold thousands).
const LISTED_TAGS: usize = 20;

fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().take(LISTED_TAGS).map(|n| format!("{n:?}")).collect();
    let more = names.len().saturating_sub(LISTED_TAGS);
    if more > 0 {
        format!("{} and {more} more", quoted.join(", "))
    } else {
        quoted.join(", ")
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io { path, detail, .. } => write!(f, "{path}: {detail}"),
            LogError::Format { path, what } => write!(f, "{path}: {what}"),
            LogError::Corrupt { path, offset, what } => write!(f, "{path}: at byte {offset}: {what}"),
            LogError::Line { path, line, what } => write!(f, "{path}: line {line}: {what}"),
            LogError::MissingTags { path, missing, available } if available.is_empty() => {
                write!(f, "{path}: no tag {}; the log holds no scalar tags", list(missing))
            }
            LogError::MissingTags { path, missing, available } => {
                write!(f, "{path}: no tag {}; tags present: {}", list(missing), list(available))
            }
            LogError::NoLogs { path } => write!(
                f,
                "{path}: no training logs found (looked for events.out.tfevents.*, *.csv, *.tsv, *.jsonl, \
                 trainer_state.json, *.log)"
            ),
            LogError::Option { name, value, requirement } => write!(f, "{name} {requirement}, got {name}={value}"),
        }
    }
}

impl std::error::Error for LogError {}
