//! Reading scalar series out of the training logs people already have: TensorBoard event files,
//! CSV/TSV (Lightning, Keras), JSON lines, Hugging Face `trainer_state.json` and plain text.
//!
//! Files are streamed through a fixed-size buffer ([`source`]), so memory is the buffer plus the points
//! kept (only the tags asked for), whatever the file's size; [`LogReader::next_chunk`] hands points out
//! as they come for consumers that keep even less. Line formats parse each chunk on the thread pool;
//! [`read_many`] reads whole runs in parallel.
//!
//! ```
//! use lrpulse::logs::{read, Options};
//! let dir = std::env::temp_dir().join("lrpulse-doc-logs");
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("metrics.csv");
//! std::fs::write(&path, "step,loss,lr\n0,2.5,0.1\n1,2.25,\n").unwrap();
//! let log = read(&path, &Options::default()).unwrap();
//! assert_eq!(log.series[0].tag, "loss");
//! assert_eq!(log.series[0].values, vec![2.5, 2.25]);
//! assert_eq!(log.series[1].steps, vec![0]); // the empty cell is skipped
//! ```

pub mod collect;
pub mod csv;
mod csv_cells;
#[cfg(test)]
mod csv_tests;
pub mod detect;
pub mod error;
pub mod json;
pub mod jsonl;
pub mod lines;
pub mod protobuf;
pub mod scan;
pub mod source;
pub mod text;
pub mod tfevents;
pub mod tfrecord;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use collect::{Collector, Series, TagFilter};
pub use detect::Format;
pub use error::{LogError, LogResult};
pub use scan::{find_runs, read_many, read_run, Run};
pub use text::Pattern;

use lines::Lines;
use source::{Driver, Source};
use std::path::Path;
use std::sync::Arc;

/// Longest line of a text log (a longer one is an error, not an unbounded allocation).
const MAX_LINE: usize = 256 << 20;
/// Longest event record or `trainer_state.json` (a graph can be large).
const MAX_RECORD: usize = 1 << 30;

/// How to read a log.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub tags: TagFilter,
    /// `None`: detect from the name and content.
    pub format: Option<Format>,
    /// Skip damaged records and malformed lines (counting them) instead of failing.
    pub lenient: bool,
    /// The CSV column or JSON key holding the step (default: `step`, `global_step`, ..., `epoch`).
    pub step: Option<String>,
    /// Text logs: the pattern (default: [`Pattern::default_pattern`]).
    pub pattern: Option<Arc<Pattern>>,
    /// Bytes read at a time (default [`source::CHUNK`]); results do not depend on it.
    pub chunk_bytes: Option<usize>,
}

/// Everything read from one run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalarLog {
    pub path: String,
    pub format: Format,
    /// The kept tags, in order of first appearance.
    pub series: Vec<Series>,
    /// Every tag the log holds, kept or not.
    pub tags: Vec<String>,
    /// Whether a file ended inside a record (a run still writing, or killed): all complete records
    /// before it are in `series`.
    pub truncated: bool,
    /// Damaged records, malformed lines or cells skipped (lenient mode).
    pub skipped: u64,
}

/// A log being read chunk by chunk.
pub struct LogReader {
    pub format: Format,
    driver: Driver,
}

impl LogReader {
    pub fn open(path: &Path, options: &Options) -> LogResult<LogReader> {
        source::check_regular(path)?;
        let format = detect::detect(path, options.format)?;
        let src = Source::open(path, options.chunk_bytes.unwrap_or(source::CHUNK))?;
        let p = path.to_owned();
        let lenient = options.lenient;
        let step = options.step.clone();
        let (parser, max): (Box<dyn source::Parser>, usize) = match format {
            Format::Events => (Box::new(tfrecord::Events::new(p, lenient, MAX_RECORD)), MAX_RECORD),
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Tsv { b'\t' } else { csv_delimiter(path)? };
                (Box::new(Lines::new(csv::Csv::new(p, delimiter, lenient, step))), MAX_LINE)
            }
            Format::Jsonl => (Box::new(Lines::new(jsonl::JsonLines::new(p, lenient, step))), MAX_LINE),
            Format::TrainerState => (Box::new(jsonl::TrainerState::new(p, lenient, step)), MAX_RECORD),
            Format::Text => {
                let pattern = match &options.pattern {
                    Some(pattern) => pattern.clone(),
                    None => Pattern::default_pattern()?,
                };
                (Box::new(Lines::new(text::Text::new(p, lenient, pattern))), MAX_LINE)
            }
        };
        Ok(LogReader { format, driver: Driver::new(src, parser, max) })
    }

    /// A collector suited to this log (event files keep wall times).
    pub fn collector(&self, options: &Options) -> Collector {
        Collector::new(options.tags.clone(), self.format == Format::Events)
    }

    /// Parse into `out` until it holds `min_points` points or the file ends; false once it has ended.
    pub fn read_into(&mut self, out: &mut Collector, min_points: usize) -> LogResult<bool> {
        if self.driver.done() {
            return Ok(false);
        }
        self.driver.run(out, min_points)?;
        Ok(true)
    }

    pub fn done(&self) -> bool {
        self.driver.done()
    }

    pub fn path(&self) -> &Path {
        self.driver.path()
    }

    pub fn truncated(&self) -> bool {
        self.driver.truncated()
    }

    pub fn skipped(&self) -> u64 {
        self.driver.skipped()
    }
}

/// The delimiter of a `.csv` (a comma, unless its header uses only semicolons or tabs).
fn csv_delimiter(path: &Path) -> LogResult<u8> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| LogError::io(path, &e))?;
    let mut head = Vec::new();
    file.take(64 << 10).read_to_end(&mut head).map_err(|e| LogError::io(path, &e))?;
    // The header is the first line that is not blank, as `Csv::start` takes it.
    let header = lines::numbered_lines(&head, 1).map(|(_, l)| l).find(|l| !l.trim_ascii().is_empty());
    Ok(csv::sniff_delimiter(header.unwrap_or(b"")))
}

/// The run at `path`: the file itself, or the one run a folder holds (a TensorBoard run directory).
pub fn resolve(path: &Path, format: Option<Format>) -> LogResult<Run> {
    let meta = std::fs::metadata(path).map_err(|e| LogError::io(path, &e))?;
    if !meta.is_dir() {
        return Ok(Run::single(path, format));
    }
    let mut runs = find_runs(path)?;
    if runs.len() == 1 {
        return Ok(runs.remove(0));
    }
    let names: Vec<&str> = runs.iter().take(5).map(|r| r.name.as_str()).collect();
    let more = if runs.len() > 5 { ", ..." } else { "" };
    let what = format!(
        "a folder holding {} runs ({}{more}): read one of them, or scan the folder",
        runs.len(),
        names.join(", ")
    );
    Err(LogError::format(path, what))
}

/// Read every point of the log at `path` (a file, or a folder holding one run) into memory.
pub fn read(path: &Path, options: &Options) -> LogResult<ScalarLog> {
    read_run(&resolve(path, options.format)?, options)
}
