//! Streaming a file through a format parser in fixed-size chunks.
//!
//! Why streamed reads and not a memory map: a mapped file that another process truncates (a log being
//! rotated or rewritten) turns a read into SIGBUS, which no amount of checking prevents, and every page
//! touched counts towards the reader's resident memory until the kernel drops it. Reading into one
//! reusable buffer keeps memory at the buffer size plus the points kept, whatever the file's size, and
//! costs one `memcpy` from the page cache, small next to the parsing.

use super::collect::Collector;
use super::error::{LogError, LogResult};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// Bytes read per chunk.
pub const CHUNK: usize = 8 << 20;

/// What a format parser does with the bytes it is given.
pub trait Parser: Send {
    /// Parse as many complete records of `data` (which starts at byte `offset` of the file) as it holds,
    /// into `out`, and return how many bytes were used. At `eof` the parser must use all of `data`,
    /// recording a trailing partial record as truncation. Returning 0 before `eof` asks for more bytes.
    fn parse(&mut self, data: &[u8], offset: u64, eof: bool, out: &mut Collector) -> LogResult<usize>;

    /// Whether the file ended inside a record (a run still writing, or killed).
    fn truncated(&self) -> bool {
        false
    }

    /// Records (or cells) skipped as malformed in lenient mode.
    fn skipped(&self) -> u64 {
        0
    }
}

/// Refuse anything but a regular file (or a symlink to one) before opening it. A FIFO blocks on open
/// or yields its bytes once while a log is opened up to three times (format, delimiter, data), and a
/// device never ends: both would hang or silently read the wrong bytes.
pub fn check_regular(path: &Path) -> LogResult<()> {
    let meta = std::fs::metadata(path).map_err(|e| LogError::io(path, &e))?;
    if meta.is_dir() {
        // A folder that cannot be listed (found by a scan) says why; one that can is not a log file.
        return Err(match std::fs::read_dir(path) {
            Err(e) => LogError::io(path, &e),
            Ok(_) => LogError::format(path, "is a directory"),
        });
    }
    if !meta.is_file() {
        return Err(LogError::format(path, "not a regular file (a pipe, socket or device): save the log to a file and read that"));
    }
    Ok(())
}

/// A file read chunk by chunk; `buf[lo..hi]` holds the bytes not yet parsed.
pub struct Source {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    /// File offset of `buf[lo]`.
    offset: u64,
    eof: bool,
    /// Bytes read per chunk.
    chunk: usize,
    /// File size when opened (a hint: the file may still grow).
    len: u64,
}

impl Source {
    pub fn open(path: &Path, chunk: usize) -> LogResult<Source> {
        let file = File::open(path).map_err(|e| LogError::io(path, &e))?;
        let meta = file.metadata().map_err(|e| LogError::io(path, &e))?;
        if meta.is_dir() {
            return Err(LogError::format(path, "is a directory"));
        }
        let chunk = chunk.max(1);
        let len = meta.len();
        Ok(Source { path: path.to_owned(), file, buf: Vec::new(), lo: 0, hi: 0, offset: 0, eof: false, chunk, len })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read until the unparsed bytes number at least `want` or the file ends.
    fn fill(&mut self, want: usize) -> LogResult<()> {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        let size = want.max(self.chunk);
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        while self.hi < self.buf.len() && !self.eof {
            match self.file.read(&mut self.buf[self.hi..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.hi += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(LogError::io(&self.path, &e)),
            }
        }
        Ok(())
    }
}

/// Drives a [`Parser`] over a [`Source`], a chunk at a time.
pub struct Driver {
    src: Source,
    parser: Box<dyn Parser>,
    /// Longest record or line accepted: a corrupt length field must not make us allocate gigabytes.
    max_record: usize,
    /// Bytes the parser asked for on the last round (it could not finish a record with fewer).
    want: usize,
    done: bool,
    reserved: bool,
}

impl Driver {
    pub fn new(src: Source, parser: Box<dyn Parser>, max_record: usize) -> Self {
        let want = src.chunk;
        Driver { src, parser, max_record, want, done: false, reserved: false }
    }

    pub fn done(&self) -> bool {
        self.done
    }

    pub fn truncated(&self) -> bool {
        self.parser.truncated()
    }

    pub fn skipped(&self) -> u64 {
        self.parser.skipped()
    }

    pub fn path(&self) -> &Path {
        self.src.path()
    }

    /// Parse chunks into `out` until it holds at least `min_points` points or the file ends.
    pub fn run(&mut self, out: &mut Collector, min_points: usize) -> LogResult<()> {
        while !self.done {
            self.src.fill(self.want)?;
            let src = &mut self.src;
            let data = &src.buf[src.lo..src.hi];
            let used = self.parser.parse(data, src.offset, src.eof, out)?.min(data.len());
            src.lo += used;
            src.offset += used as u64;
            if src.eof {
                self.done = true;
            } else if used == 0 {
                let pending = src.hi - src.lo;
                if pending >= self.max_record {
                    let mib = self.max_record >> 20;
                    return Err(LogError::corrupt(&src.path, src.offset, format!("a record or line longer than {mib} MiB")));
                }
                self.want = pending.saturating_mul(2).min(self.max_record);
            } else {
                self.want = src.chunk;
            }
            if out.points >= min_points {
                break;
            }
            if min_points == usize::MAX && !self.reserved && !self.done && src.offset > 0 {
                // Reading the whole file: size the series for all of it from the first chunk.
                self.reserved = true;
                out.reserve_scaled(1.02 * src.len as f64 / src.offset as f64);
            }
        }
        Ok(())
    }
}
