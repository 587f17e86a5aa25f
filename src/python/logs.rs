//! Bindings for the log readers: argument conversion, the GIL released around all file work, points
//! handed to numpy without copying (each `Vec` becomes the array's buffer), and `LogError` mapped to
//! the `lrpulse.errors` classes. The user-facing API is `lrpulse/logs.py`.

use crate::logs::error::IoKind;
use crate::logs::{self, Collector, Format, LogError, LogReader, Options, Pattern, Run, ScalarLog, Series, TagFilter};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use std::path::PathBuf;
use std::sync::Mutex;

/// Build the `lrpulse.errors` exception for a reader error, with its details as attributes.
pub fn log_error(py: Python<'_>, e: LogError) -> PyErr {
    match build_error(py, &e) {
        Ok(err) => err,
        Err(fallback) => fallback,
    }
}

fn build_error(py: Python<'_>, e: &LogError) -> PyResult<PyErr> {
    let errors = py.import("lrpulse.errors")?;
    let msg = e.to_string();
    let instance = match e {
        LogError::Io { path, kind, errno, detail } => {
            let class = match kind {
                IoKind::NotFound => "LogNotFoundError",
                IoKind::PermissionDenied => "LogPermissionError",
                IoKind::Other => "LogFileError",
            };
            // OSError's (errno, strerror, filename) form: `[Errno 13] Permission denied: 'path'`.
            let strerror = detail.split(" (os error").next().unwrap_or(detail).to_owned();
            match errno {
                Some(n) => errors.getattr(class)?.call1((*n, strerror, path))?,
                None => errors.getattr(class)?.call1((msg,))?,
            }
        }
        LogError::NoLogs { path } => {
            let strerror = msg.strip_prefix(&format!("{path}: ")).unwrap_or(&msg).to_owned();
            errors.getattr("LogNotFoundError")?.call1((2, strerror, path))?
        }
        LogError::MissingTags { path, missing, available } => {
            let err = errors.getattr("TagNotFoundError")?.call1((msg,))?;
            err.setattr("path", path)?;
            err.setattr("missing", missing.clone())?;
            err.setattr("available", available.clone())?;
            err
        }
        LogError::Option { .. } => errors.getattr("ParameterError")?.call1((msg,))?,
        LogError::Format { path, .. } | LogError::Corrupt { path, .. } | LogError::Line { path, .. } => {
            let err = errors.getattr("LogFormatError")?.call1((msg,))?;
            err.setattr("path", path)?;
            err.setattr("offset", if let LogError::Corrupt { offset, .. } = e { Some(*offset) } else { None })?;
            err.setattr("line", if let LogError::Line { line, .. } = e { Some(*line) } else { None })?;
            err
        }
    };
    Ok(PyErr::from_value(instance))
}

fn options(
    py: Python<'_>,
    tags: Option<Vec<String>>,
    format: &str,
    lenient: bool,
    step: Option<String>,
    pattern: Option<&str>,
) -> PyResult<Options> {
    let err = |e| log_error(py, e);
    let format = Format::parse(format).map_err(err)?;
    let pattern = pattern.map(Pattern::user).transpose().map_err(err)?;
    let tags = tags.map_or_else(TagFilter::all, TagFilter::only);
    Ok(Options { tags, format, lenient, step, pattern, chunk_bytes: None })
}

/// `(tag, steps, values, wall_times or None)`: the vectors become the arrays' buffers (no copy).
fn series_to_py<'py>(py: Python<'py>, s: Series) -> PyResult<Bound<'py, PyTuple>> {
    let wall: Bound<'py, PyAny> =
        if s.wall_times.is_empty() { py.None().into_bound(py) } else { s.wall_times.into_pyarray(py).into_any() };
    (s.tag, s.steps.into_pyarray(py), s.values.into_pyarray(py), wall).into_pyobject(py)
}

/// `(path, format, truncated, skipped, tags, [series...])`.
fn log_to_py<'py>(py: Python<'py>, log: ScalarLog) -> PyResult<Bound<'py, PyTuple>> {
    let series = log.series.into_iter().map(|s| series_to_py(py, s)).collect::<PyResult<Vec<_>>>()?;
    (log.path, log.format.name(), log.truncated, log.skipped, log.tags, PyList::new(py, series)?).into_pyobject(py)
}

/// Read every point of a log file (or a folder holding one run); see ``lrpulse.read_scalars``.
#[pyfunction]
#[pyo3(signature = (path, tags=None, format="auto", lenient=false, step=None, pattern=None))]
pub fn read_log<'py>(
    py: Python<'py>,
    path: PathBuf,
    tags: Option<Vec<String>>,
    format: &str,
    lenient: bool,
    step: Option<String>,
    pattern: Option<&str>,
) -> PyResult<Bound<'py, PyTuple>> {
    let options = options(py, tags, format, lenient, step, pattern)?;
    let log = py.detach(|| logs::read(&path, &options)).map_err(|e| log_error(py, e))?;
    log_to_py(py, log)
}

/// A run as Python sees it: ``(name, [files], format)``.
type RunTuple = (String, Vec<PathBuf>, Option<&'static str>);

/// The runs under a folder, sorted by name; see ``lrpulse.scan``.
#[pyfunction]
pub fn find_runs(py: Python<'_>, path: PathBuf) -> PyResult<Vec<RunTuple>> {
    let runs = py.detach(|| logs::find_runs(&path)).map_err(|e| log_error(py, e))?;
    Ok(runs.into_iter().map(|r| (r.name, r.files, r.format.map(Format::name))).collect())
}

/// The files of the run at ``path`` (a file, or a folder holding one run) and their format.
#[pyfunction]
pub fn run_files(py: Python<'_>, path: PathBuf) -> PyResult<(Vec<PathBuf>, Option<&'static str>)> {
    let run = py.detach(|| logs::resolve(&path, None)).map_err(|e| log_error(py, e))?;
    Ok((run.files, run.format.map(Format::name)))
}

/// Read many runs in parallel with the GIL released; each item is a result tuple (as ``read_log``) or
/// the exception that run raised, so one bad file does not stop a sweep.
#[pyfunction]
#[pyo3(signature = (runs, tags=None, format="auto", lenient=false, step=None, pattern=None))]
#[allow(clippy::too_many_arguments)]
pub fn read_runs<'py>(
    py: Python<'py>,
    runs: Vec<(String, Vec<PathBuf>, Option<String>)>,
    tags: Option<Vec<String>>,
    format: &str,
    lenient: bool,
    step: Option<String>,
    pattern: Option<&str>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let options = options(py, tags, format, lenient, step, pattern)?;
    let mut parsed = Vec::with_capacity(runs.len());
    for (name, files, format) in runs {
        let format = Format::parse(format.as_deref().unwrap_or("auto")).map_err(|e| log_error(py, e))?;
        parsed.push(Run { name, files, format });
    }
    let results = py.detach(|| logs::read_many(&parsed, &options));
    results
        .into_iter()
        .map(|r| match r {
            Ok(log) => log_to_py(py, log).map(Bound::into_any),
            Err(e) => Ok(log_error(py, e).into_value(py).into_bound(py).into_any()),
        })
        .collect()
}

struct StreamState {
    reader: LogReader,
    out: Collector,
    chunk_points: usize,
}

/// A log read in chunks of about ``chunk_points`` points, for logs too large to hold: iterate to get
/// lists of ``(tag, steps, values, wall_times)``. Memory stays at one chunk plus the read buffer.
#[pyclass(frozen, name = "LogStream", module = "lrpulse._core")]
pub struct PyLogStream {
    state: Mutex<StreamState>,
    format: &'static str,
}

#[pymethods]
impl PyLogStream {
    #[new]
    #[pyo3(signature = (path, tags=None, format="auto", lenient=false, step=None, pattern=None, chunk_points=1048576))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        tags: Option<Vec<String>>,
        format: &str,
        lenient: bool,
        step: Option<String>,
        pattern: Option<&str>,
        chunk_points: usize,
    ) -> PyResult<Self> {
        let options = options(py, tags, format, lenient, step, pattern)?;
        let reader = py.detach(|| LogReader::open(&path, &options)).map_err(|e| log_error(py, e))?;
        let out = reader.collector(&options);
        let format = reader.format.name();
        Ok(PyLogStream { state: Mutex::new(StreamState { reader, out, chunk_points: chunk_points.max(1) }), format })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        // The lock is taken with the GIL released: a thread holding the GIL must never wait for it.
        let chunk = py.detach(|| -> Result<Option<Vec<Series>>, LogError> {
            let mut st = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let StreamState { reader, out, chunk_points } = &mut *st;
            if reader.done() && out.points == 0 {
                return Ok(None);
            }
            reader.read_into(out, *chunk_points)?;
            if reader.done() {
                let missing = out.missing();
                if !missing.is_empty() {
                    let path = logs::error::shown(reader.path());
                    return Err(LogError::MissingTags { path, missing, available: out.seen.clone() });
                }
            }
            if reader.done() && out.points == 0 {
                return Ok(None);
            }
            Ok(Some(out.take_series()))
        });
        match chunk.map_err(|e| log_error(py, e))? {
            None => Ok(None),
            Some(series) => {
                let items = series.into_iter().map(|s| series_to_py(py, s)).collect::<PyResult<Vec<_>>>()?;
                Ok(Some(PyList::new(py, items)?))
            }
        }
    }

    /// The detected format's name.
    #[getter]
    fn format(&self) -> &'static str {
        self.format
    }

    /// Whether the file ended inside a record (known once the stream is exhausted).
    #[getter]
    fn truncated(&self, py: Python<'_>) -> bool {
        py.detach(|| self.state.lock().map(|st| st.reader.truncated()).unwrap_or(false))
    }

    /// Records or cells skipped in lenient mode so far.
    #[getter]
    fn skipped(&self, py: Python<'_>) -> u64 {
        py.detach(|| self.state.lock().map(|st| st.reader.skipped()).unwrap_or(0))
    }

    /// Every tag seen so far.
    #[getter]
    fn tags(&self, py: Python<'_>) -> Vec<String> {
        py.detach(|| self.state.lock().map(|st| st.out.seen.clone()).unwrap_or_default())
    }
}
