//! `lrpulse._core.diagnose` and `lrpulse._core.CurveMonitor`: argument conversion around the
//! `crate::curve` core. Arrays are borrowed (float32/float64 loss, any numeric steps, strided views
//! included), the GIL is released while the points are read, and verdicts come back as plain dicts that
//! `lrpulse/diagnosis.py` wraps.

use super::arrays::{borrow_numbers, maybe_detach, Numbers, Views};
use super::errors::{raise, IntoPyResult};
use super::schedule::PySchedule;
use crate::curve::state::{Plain, STATE_VERSION};
use crate::curve::{Diagnosis, Evidence, Input, Lr, Monitor, Series};
use crate::curve::monitor::{TRAIN_CAP, VAL_CAP};
use ndarray::ArrayView1;
use numpy::{PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::Mutex;

/// A numeric array argument, borrowed as-is when numpy already holds it in an accepted dtype, else
/// converted once with `numpy.asarray(obj, dtype)` (a copy, as for a Python list).
fn numbers<'py>(obj: &Bound<'py, PyAny>, what: &str, float_only: bool) -> PyResult<Numbers<'py>> {
    let py = obj.py();
    if let Some(n) = borrow_numbers(obj, what)? {
        if !float_only || matches!(n, Numbers::F32(_) | Numbers::F64(_)) {
            return Ok(n);
        }
    }
    let converted = py.import("numpy")?.call_method1("asarray", (obj, "float64")).map_err(|e| {
        raise(py, "DTypeError", format!("{what} must be a 1-D array of numbers: {e}"))
    })?;
    borrow_numbers(&converted, what)?.ok_or_else(|| raise(py, "DTypeError", format!("{what} must be a 1-D array of numbers")))
}

/// The LR argument: a Schedule (evaluated at each step) or an array (float64).
enum LrArg<'py> {
    None,
    Schedule(Bound<'py, PySchedule>),
    Values(PyReadonlyArray1<'py, f64>),
}

fn lr_arg<'py>(obj: Option<&Bound<'py, PyAny>>) -> PyResult<LrArg<'py>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(LrArg::None);
    };
    if let Ok(s) = obj.cast::<PySchedule>() {
        return Ok(LrArg::Schedule(s.clone()));
    }
    let py = obj.py();
    let arr = py.import("numpy")?.call_method1("asarray", (obj, "float64"))?;
    let arr = arr
        .cast_into::<numpy::PyArray1<f64>>()
        .map_err(|_| raise(py, "InputError", "lr must be a Schedule or a 1-D array of numbers".into()))?;
    Ok(LrArg::Values(arr.readonly()))
}

/// Read one array of points into a new series (GIL released for large inputs).
#[allow(clippy::too_many_arguments)]
fn read_series(
    py: Python<'_>,
    values: &Numbers<'_>,
    steps: Option<&Numbers<'_>>,
    lr: &LrArg<'_>,
    start: (usize, u32, u64),
    what: &str,
    steps_what: &str,
) -> PyResult<Series> {
    let (cap, level, implicit_start) = start;
    let schedule_guard = match lr {
        LrArg::Schedule(s) => Some(s.get()),
        _ => None,
    };
    let lr = match (lr, schedule_guard) {
        (LrArg::Values(a), _) => Lr::Values(a.as_array()),
        (LrArg::Schedule(_), Some(s)) => Lr::Schedule(&s.inner),
        _ => Lr::None,
    };
    let vviews = values.views();
    let sviews = steps.map(|s| s.views());
    let n = vviews.len();
    #[allow(clippy::too_many_arguments)]
    fn go<'a, X: crate::schedule::StepValue, S: crate::schedule::StepValue>(
        values: ArrayView1<'a, X>,
        steps: Option<ArrayView1<'a, S>>,
        lr: Lr<'a>,
        implicit_start: u64,
        what: &'a str,
        steps_what: &'a str,
        cap: usize,
        level: u32,
    ) -> crate::Result<Series> {
        Input { values, steps, lr, implicit_start, what, steps_what, offset: 0 }.to_series(cap, level)
    }
    macro_rules! with_steps {
        ($v:expr) => {
            match sviews {
                None => go::<_, u64>($v, None, lr, implicit_start, what, steps_what, cap, level),
                Some(Views::I32(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
                Some(Views::I64(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
                Some(Views::U32(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
                Some(Views::U64(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
                Some(Views::F32(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
                Some(Views::F64(s)) => go($v, Some(s), lr, implicit_start, what, steps_what, cap, level),
            }
        };
    }
    let result = maybe_detach(py, n, || match vviews {
        Views::F32(v) => with_steps!(v),
        Views::F64(v) => with_steps!(v),
        _ => Err(crate::Error::InvalidSpec(format!("{what} must be float32 or float64"))),
    });
    result.py_err(py)
}

/// Everything `diagnose` / `update` take, read into series.
struct Pieces {
    train: Series,
    val: Option<Series>,
}

#[allow(clippy::too_many_arguments)]
fn read_pieces(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    steps: Option<&Bound<'_, PyAny>>,
    lr: Option<&Bound<'_, PyAny>>,
    val_loss: Option<&Bound<'_, PyAny>>,
    val_steps: Option<&Bound<'_, PyAny>>,
    train_start: (usize, u32, u64),
    val_start: (usize, u32, u64),
) -> PyResult<Pieces> {
    let steps = steps.filter(|s| !s.is_none());
    let values = numbers(values, "loss", true)?;
    let steps = steps.map(|s| numbers(s, "steps", false)).transpose()?;
    let lr = lr_arg(lr)?;
    let train = read_series(py, &values, steps.as_ref(), &lr, train_start, "loss", "steps")?;
    let val = match val_loss.filter(|v| !v.is_none()) {
        None => None,
        Some(v) => {
            let vals = numbers(v, "val_loss", true)?;
            let vsteps = val_steps.filter(|s| !s.is_none()).map(|s| numbers(s, "val_steps", false)).transpose()?;
            let (vsteps_ref, vstart) = match (&vsteps, &steps) {
                (Some(vs), _) => (Some(vs), val_start),
                (None, st) => {
                    // No val_steps: val_loss lines up with loss (NaN where no validation ran).
                    if vals.views().len() != values.views().len() {
                        return Err(raise(
                            py,
                            "InputError",
                            format!(
                                "val_loss must have the length of loss ({}) when val_steps is not given, got length {}; pass val_steps= for a sparse validation curve",
                                values.views().len(),
                                vals.views().len()
                            ),
                        ));
                    }
                    (st.as_ref(), (val_start.0, val_start.1, train_start.2))
                }
            };
            Some(read_series(py, &vals, vsteps_ref, &LrArg::None, vstart, "val_loss", "val_steps")?)
        }
    };
    if val_loss.is_none_or(|v| v.is_none()) && val_steps.is_some_and(|s| !s.is_none()) {
        return Err(raise(py, "InputError", "val_steps given without val_loss".into()));
    }
    Ok(Pieces { train, val })
}

fn diagnosis_dict<'py>(py: Python<'py>, d: &Diagnosis) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("label", d.label.name())?;
    out.set_item("confidence", d.confidence)?;
    out.set_item("advice", &d.advice)?;
    out.set_item("first_bad_step", d.first_bad_step)?;
    let segs = PyList::empty(py);
    for s in &d.segments {
        segs.append((s.start_step, s.end_step, s.label.name(), s.confidence))?;
    }
    out.set_item("segments", segs)?;
    let findings = PyList::empty(py);
    for f in &d.findings {
        let fd = PyDict::new(py);
        fd.set_item("kind", f.kind)?;
        fd.set_item("step", f.step)?;
        fd.set_item("size", f.size)?;
        fd.set_item("recovery_steps", f.recovery_steps)?;
        fd.set_item("message", &f.message)?;
        findings.append(fd)?;
    }
    out.set_item("findings", findings)?;
    let ev = PyDict::new(py);
    for (k, v) in &d.evidence {
        match v {
            Evidence::Num(x) => ev.set_item(*k, *x)?,
            Evidence::List(xs) => ev.set_item(*k, xs.clone())?,
        }
    }
    out.set_item("evidence", ev)?;
    Ok(out)
}

/// Diagnose a whole loss log at once; returns the verdict as a dict (``lrpulse.diagnose`` wraps it).
#[pyfunction]
#[pyo3(signature = (loss, steps=None, lr=None, val_loss=None, val_steps=None))]
pub fn diagnose<'py>(
    py: Python<'py>,
    loss: &Bound<'py, PyAny>,
    steps: Option<&Bound<'py, PyAny>>,
    lr: Option<&Bound<'py, PyAny>>,
    val_loss: Option<&Bound<'py, PyAny>>,
    val_steps: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let fresh = Monitor::new();
    let p = read_pieces(py, loss, steps, lr, val_loss, val_steps, fresh.train_start(), fresh.val_start())?;
    let mut m = fresh;
    m.append_series(p.train, p.val).py_err(py)?;
    let d = m.diagnose();
    diagnosis_dict(py, &d)
}

/// The streaming state behind ``lrpulse.CurveMonitor`` (use that class).
#[pyclass(frozen, name = "_CurveMonitor", module = "lrpulse._core")]
pub struct PyCurveMonitor {
    inner: Mutex<Monitor>,
}

impl PyCurveMonitor {
    fn lock(&self) -> std::sync::MutexGuard<'_, Monitor> {
        // A panic cannot happen while the lock is held (no user code runs under it); recover anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyCurveMonitor {
    #[new]
    fn new() -> Self {
        PyCurveMonitor { inner: Mutex::new(Monitor::new()) }
    }

    #[pyo3(signature = (values, steps=None, lr=None, val_loss=None, val_steps=None))]
    fn update(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        steps: Option<&Bound<'_, PyAny>>,
        lr: Option<&Bound<'_, PyAny>>,
        val_loss: Option<&Bound<'_, PyAny>>,
        val_steps: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (ts, vs) = {
            let m = self.lock();
            (m.train_start(), m.val_start())
        };
        let p = read_pieces(py, values, steps, lr, val_loss, val_steps, ts, vs)?;
        let mut m = self.lock();
        if (m.train_start(), m.val_start()) != (ts, vs) {
            // Another thread updated in between: the implicit steps or levels may be stale; redo.
            drop(m);
            return self.update(py, values, steps, lr, val_loss, val_steps);
        }
        m.append_series(p.train, p.val).py_err(py)
    }

    fn merge(&self, py: Python<'_>, other: &Bound<'_, PyCurveMonitor>) -> PyResult<()> {
        if std::ptr::eq(self, other.get()) {
            return Err(raise(py, "InputError", "cannot merge a monitor with itself".into()));
        }
        let theirs = other.get().lock().clone();
        self.lock().merge(&theirs).py_err(py)
    }

    fn diagnose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.lock().clone();
        let d = py.detach(|| m.diagnose());
        diagnosis_dict(py, &d)
    }

    /// Bytes held by the state (bounded whatever the stream's length).
    #[getter]
    fn nbytes(&self) -> usize {
        self.lock().nbytes()
    }

    /// Points seen so far (finite or not).
    #[getter]
    fn count(&self) -> u64 {
        self.lock().train.count
    }

    #[staticmethod]
    fn max_nbytes() -> usize {
        Monitor::max_nbytes()
    }

    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.lock().clone();
        let out = PyDict::new(py);
        out.set_item("version", STATE_VERSION)?;
        out.set_item("train", plain_dict(py, &m.train.to_plain())?)?;
        out.set_item("val", plain_dict(py, &m.val.to_plain())?)?;
        Ok(out)
    }

    #[staticmethod]
    fn from_state_dict(py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let version: u64 = get(state, "version")?;
        if version != STATE_VERSION {
            return Err(raise(py, "InputError", format!("state_dict version must be {STATE_VERSION}, got version={version}")));
        }
        let part = |key: &str| {
            state.get_item(key).map_err(|_| raise(py, "InputError", format!("state_dict is missing {key:?}")))
        };
        let train = Series::from_plain(&plain_from(&part("train")?)?, TRAIN_CAP).py_err(py)?;
        let val = Series::from_plain(&plain_from(&part("val")?)?, VAL_CAP).py_err(py)?;
        Ok(PyCurveMonitor { inner: Mutex::new(Monitor { train, val }) })
    }
}

fn plain_dict<'py>(py: Python<'py>, p: &Plain) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("cap", p.cap)?;
    d.set_item("level", p.level)?;
    d.set_item("count", p.count)?;
    d.set_item("first_step", p.first_step)?;
    d.set_item("last_step", p.last_step)?;
    d.set_item("head", p.head.iter().map(|&(t, y)| vec![t as i128, y as i128]).collect::<Vec<_>>())?;
    d.set_item("tail", p.tail.iter().map(|&(t, y)| vec![t as i128, y as i128]).collect::<Vec<_>>())?;
    d.set_item("buckets", p.buckets.clone())?;
    d.set_item("bucket_lr", p.bucket_lr.iter().map(|&(a, b)| vec![a, b]).collect::<Vec<_>>())?;
    Ok(d)
}

fn get<'py, T: for<'a> FromPyObject<'a, 'py>>(d: &Bound<'py, PyAny>, key: &str) -> PyResult<T> {
    let py = d.py();
    let v = d.get_item(key).map_err(|_| raise(py, "InputError", format!("state_dict is missing {key:?}")))?;
    v.extract::<T>().map_err(|_| {
        let tname = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        raise(py, "InputError", format!("state_dict[{key:?}] has the wrong type or values (got a {tname})"))
    })
}

fn plain_from(d: &Bound<'_, PyAny>) -> PyResult<Plain> {
    let py = d.py();
    let pairs = |key: &str| -> PyResult<Vec<(u64, i64)>> {
        let v: Vec<Vec<i128>> = get(d, key)?;
        v.iter()
            .map(|p| match p.as_slice() {
                [t, y] => Ok((u64::try_from(*t).map_err(|_| bad_pair(py, key))?, i64::try_from(*y).map_err(|_| bad_pair(py, key))?)),
                _ => Err(bad_pair(py, key)),
            })
            .collect()
    };
    let lr: Vec<Vec<f64>> = get(d, "bucket_lr")?;
    let lr = lr
        .iter()
        .map(|p| match p.as_slice() {
            [a, b] => Ok((*a, *b)),
            _ => Err(bad_pair(py, "bucket_lr")),
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Plain {
        cap: get(d, "cap")?,
        level: get(d, "level")?,
        count: get(d, "count")?,
        first_step: get(d, "first_step")?,
        last_step: get(d, "last_step")?,
        head: pairs("head")?,
        tail: pairs("tail")?,
        buckets: get(d, "buckets")?,
        bucket_lr: lr,
    })
}

fn bad_pair(py: Python<'_>, key: &str) -> PyErr {
    raise(py, "InputError", format!("state_dict[{key:?}] must be a list of [number, number] pairs"))
}
