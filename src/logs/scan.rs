//! Finding the runs in a folder and reading many of them in parallel.
//!
//! A run is one log file named by its path relative to the folder, except TensorBoard's convention:
//! every event file directly in one directory belongs to the run named by that directory, read in
//! file-name order (a restarted job appends a new file next to the old one).

use super::error::{shown, LogError, LogResult};
use super::{Format, LogReader, Options, ScalarLog};
use crate::parallel;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One run: its name, its files (several only for TensorBoard runs) and their format (`None`: detect).
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub name: String,
    pub files: Vec<PathBuf>,
    pub format: Option<Format>,
}

impl Run {
    pub fn single(path: &Path, format: Option<Format>) -> Run {
        let name = path.file_name().map_or_else(|| shown(path), |n| n.to_string_lossy().into_owned());
        Run { name, files: vec![path.to_owned()], format }
    }
}

/// Directories never descended into: caches and version control, not runs.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name == "node_modules"
}

/// What a folder walk finds: log files with their format, and subfolders it could not list.
#[derive(Default)]
struct Found {
    files: Vec<(PathBuf, Format)>,
    unreadable: Vec<PathBuf>,
}

fn walk(dir: &Path, found: &mut Found, top: bool) -> LogResult<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if top => return Err(LogError::io(dir, &e)),
        Err(_) => {
            // Not a reason to fail the whole scan, but not silent either: it becomes a run whose
            // reading fails with the reason (permission denied), a row of its own in a report.
            found.unreadable.push(dir.to_owned());
            return Ok(());
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // Symlinked folders are not followed (they can loop); symlinked files are read.
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !skipped_dir(&entry.file_name().to_string_lossy()) {
                walk(&path, found, false)?;
            }
        } else if let Some(format) = Format::from_name(&path, true) {
            if kind.is_file() || path.is_file() {
                found.files.push((path, format));
            }
        }
    }
    Ok(())
}

fn relative(path: &Path, root: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => {
            root.file_name().map_or_else(|| ".".to_owned(), |n| n.to_string_lossy().into_owned())
        }
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => shown(path),
    }
}

/// Where an event file goes in its run: by the creation time its name carries
/// (`events.out.tfevents.<seconds>.<host>...`) as a number, so `...tfevents.10.x` (an odd clock or
/// writer) does not come before `...tfevents.9.x` as it would by name; then by name.
fn event_file_order(path: &Path) -> (u64, String) {
    let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let digits = name.split_once("tfevents.").map_or("", |(_, rest)| {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        &rest[..end]
    });
    (digits.parse().unwrap_or(u64::MAX), name)
}

/// The runs under `root` (recursively), sorted by name. A file is a run of its own.
pub fn find_runs(root: &Path) -> LogResult<Vec<Run>> {
    let meta = std::fs::metadata(root).map_err(|e| LogError::io(root, &e))?;
    if !meta.is_dir() {
        return Ok(vec![Run::single(root, None)]);
    }
    let mut found = Found::default();
    walk(root, &mut found, true)?;
    let mut tensorboard: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut runs: Vec<Run> =
        found.unreadable.iter().map(|dir| Run { name: relative(dir, root), files: vec![dir.clone()], format: None }).collect();
    for (path, format) in found.files {
        match (format, path.parent()) {
            (Format::Events, Some(parent)) => tensorboard.entry(parent.to_owned()).or_default().push(path),
            _ => runs.push(Run { name: relative(&path, root), files: vec![path], format: Some(format) }),
        }
    }
    for (dir, mut files) in tensorboard {
        files.sort_by_cached_key(|f| event_file_order(f));
        runs.push(Run { name: relative(&dir, root), files, format: Some(Format::Events) });
    }
    if runs.is_empty() {
        return Err(LogError::NoLogs { path: shown(root) });
    }
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(runs)
}

/// Read all of a run's files into one [`ScalarLog`] (series of later files appended).
pub fn read_run(run: &Run, options: &Options) -> LogResult<ScalarLog> {
    let mut out = None;
    let mut format = run.format.unwrap_or(Format::Text);
    let (mut truncated, mut skipped) = (false, 0);
    let options = Options { format: options.format.or(run.format), ..options.clone() };
    for file in &run.files {
        if run.files.len() > 1 && std::fs::metadata(file).is_ok_and(|m| m.len() == 0) {
            truncated = true; // a newer event file its writer has not flushed yet: nothing to read so far
            continue;
        }
        let mut reader = LogReader::open(file, &options)?;
        format = reader.format;
        let out = out.get_or_insert_with(|| reader.collector(&options));
        while reader.read_into(out, usize::MAX)? {}
        truncated |= reader.truncated();
        skipped += reader.skipped();
    }
    let path = match run.files.as_slice() {
        [one] => shown(one),
        files => files.first().and_then(|f| f.parent()).map_or_else(String::new, shown),
    };
    let out = out.unwrap_or_default();
    let missing = out.missing();
    if !missing.is_empty() {
        return Err(LogError::MissingTags { path, missing, available: out.seen });
    }
    Ok(ScalarLog { path, format, series: out.series, tags: out.seen, truncated, skipped })
}

/// Read `runs` in parallel on the thread pool; each result stands alone (one bad file does not stop
/// the others).
pub fn read_many(runs: &[Run], options: &Options) -> Vec<LogResult<ScalarLog>> {
    if runs.len() < 2 || !parallel::available() {
        return runs.iter().map(|run| read_run(run, options)).collect();
    }
    parallel::install(|| runs.par_iter().map(|run| read_run(run, options)).collect())
}
