//! `lrpulse.Schedule`: a frozen value object around a core [`Schedule`].

use super::arrays::{borrow_numbers, maybe_detach, with_view};
use super::errors::{raise, IntoPyResult};
use crate::schedule::{eval_into, finite_value, trajectory_into, Schedule};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyTuple};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// A learning-rate schedule: a pure function of the step count.
///
/// Build one with the factory functions (``lrpulse.cosine(...)``, ``lrpulse.step_decay(...)``...) or
/// from a spec with ``lrpulse.schedule_from_dict``. Call it on a step (a float comes back) or on a
/// 1-D numpy array of steps (int32/int64/uint32/uint64/float32/float64, strided views included, read in
/// place without a copy; a new float64 array comes back, or pass ``out=`` to fill a float64 array in
/// place). A list is converted with ``numpy.asarray`` first, which copies it. Arrays give exactly the
/// values of scalar calls; large ones are evaluated with the GIL released, on several cores.
///
/// Example::
///
///     >>> import lrpulse, numpy as np
///     >>> s = lrpulse.step_decay(lr=0.1, step_size=30, gamma=0.5)
///     >>> s(65)
///     0.025
///     >>> s(np.array([0, 30, 60])).tolist()
///     [0.1, 0.05, 0.025]
#[pyclass(frozen, eq, name = "Schedule", module = "lrpulse")]
#[derive(PartialEq)]
pub struct PySchedule {
    pub inner: Schedule,
}

/// Build a schedule from its JSON spec (what ``Schedule.to_json()`` returns).
#[pyfunction]
pub fn schedule_from_json(py: Python<'_>, text: &str) -> PyResult<PySchedule> {
    Ok(PySchedule { inner: Schedule::from_json(text).py_err(py)? })
}

fn bad_step(py: Python<'_>, t: f64) -> PyErr {
    raise(py, "InputError", format!("step must be finite and >= 0, got step={t}"))
}

#[pymethods]
impl PySchedule {
    /// The LR at ``steps``: a float for a scalar step (int, float, numpy scalar, 0-d array); a new
    /// float64 array for a 1-D array of steps (int32/int64/uint32/uint64/float32/float64, read in place,
    /// strided views included); or, with ``out=`` (a writeable, C-contiguous float64 array of the same
    /// length that does not overlap ``steps``), ``out`` filled in place and returned. A list is
    /// converted with ``numpy.asarray`` first (a copy). Large inputs are evaluated with the GIL
    /// released and split across cores; results are identical bit for bit to scalar calls.
    ///
    /// Example::
    ///
    ///     >>> import lrpulse, numpy as np
    ///     >>> s = lrpulse.cosine(lr=0.1, decay_steps=100)
    ///     >>> s(np.arange(0, 101, 50)).tolist()
    ///     [0.1, 0.05, 0.0]
    #[pyo3(signature = (steps, /, out=None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        steps: &Bound<'py, PyAny>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if out.is_none() {
            if let Some(t) = scalar(steps)? {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(bad_step(py, t));
                }
                return Ok(PyFloat::new(py, finite_value(&self.inner, t).py_err(py)?).into_any());
            }
        }
        let converted;
        let numbers = match borrow_numbers(steps, "steps")? {
            Some(n) => n,
            None => {
                converted = py.import("numpy")?.call_method1("asarray", (steps,))?;
                match borrow_numbers(&converted, "steps")? {
                    Some(n) => n,
                    None => return Err(raise(py, "DTypeError", "steps must be a number or an array of numbers".into())),
                }
            }
        };
        let views = numbers.views();
        let n = views.len();
        let out_obj = match out {
            Some(o) => o.clone(),
            None => new_values(py, n).into_any(),
        };
        let schedule = &self.inner;
        let mut guard = writable_out(&out_obj)?;
        let slice = guard.as_slice_mut().map_err(|_| raise(py, "InputError", "out must be C-contiguous".into()))?;
        maybe_detach(py, n, || with_view!(views, v => eval_into(schedule, v, slice))).py_err(py)?;
        drop(guard);
        Ok(out_obj)
    }

    /// The LR at every step ``start, start + 1, ..., start + n - 1`` as a new float64 array.
    ///
    /// Example::
    ///
    ///     >>> lrpulse.constant(lr=0.1).trajectory(3).tolist()
    ///     [0.1, 0.1, 0.1]
    #[pyo3(signature = (n, start = 0))]
    fn trajectory<'py>(&self, py: Python<'py>, n: usize, start: u64) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let schedule = &self.inner;
        let values = new_values(py, n);
        {
            let mut guard = writable_out(values.as_any())?;
            let slice = guard.as_slice_mut().map_err(|_| raise(py, "InputError", "out must be C-contiguous".into()))?;
            maybe_detach(py, n, || trajectory_into(schedule, start, slice)).py_err(py)?;
        }
        Ok(values)
    }

    /// The family name, e.g. ``"cosine"``.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The spec as a JSON string; ``lrpulse.schedule_from_json`` reads it back.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The spec as plain data (dicts, lists, numbers, strings) for config files;
    /// ``lrpulse.schedule_from_dict`` reads it back.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (self.inner.to_json(),))
    }

    fn __repr__(&self) -> String {
        format!("lrpulse.{}", self.inner.repr())
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.inner.to_json().hash(&mut h);
        h.finish()
    }

    /// Pickle by spec, so a pickle stays readable across lrpulse versions that keep the spec.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rebuild = py.import("lrpulse._core")?.getattr("schedule_from_json")?;
        PyTuple::new(py, [rebuild, PyTuple::new(py, [self.inner.to_json()])?.into_any()])
    }
}

/// A Python number (int, float, numpy scalar, 0-d array) as a step, or `None` for anything else.
fn scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(Some(f.value()));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(i) => Ok(Some(i as f64)),
            Err(_) => Err(raise(obj.py(), "InputError", format!("step {obj} does not fit in int64"))),
        };
    }
    if let Ok(untyped) = obj.cast::<numpy::PyUntypedArray>() {
        use numpy::PyUntypedArrayMethods;
        if untyped.ndim() != 0 {
            return Ok(None);
        }
    } else if obj.hasattr("__len__")? {
        return Ok(None);
    }
    Ok(obj.extract::<f64>().ok())
}

/// A fresh float64 array for `n` results, allocated by numpy: its allocator advises huge pages for
/// large buffers, which makes first-touch page faults (most of the cost of a bare fill in a VM) rare.
fn new_values(py: Python<'_>, n: usize) -> Bound<'_, PyArray1<f64>> {
    PyArray1::zeros(py, n, false)
}

/// Borrow `out` for writing: a float64 numpy array (else DTypeError), 1-D, writeable and not
/// overlapping `steps` (else InputError).
fn writable_out<'py>(out: &Bound<'py, PyAny>) -> PyResult<numpy::PyReadwriteArray1<'py, f64>> {
    let py = out.py();
    let Ok(untyped) = out.cast::<numpy::PyUntypedArray>() else {
        let kind = out.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(raise(py, "DTypeError", format!("out must be a float64 numpy array, got {kind}")));
    };
    use numpy::PyUntypedArrayMethods;
    if untyped.ndim() != 1 {
        return Err(raise(py, "InputError", format!("out must be a 1-D array, got ndim={}", untyped.ndim())));
    }
    let Ok(typed) = out.cast::<PyArray1<f64>>() else {
        let dtype = untyped.dtype().str().map(|s| s.to_string()).unwrap_or_else(|_| "?".into());
        return Err(raise(py, "DTypeError", format!("out must have dtype float64, got dtype {dtype}")));
    };
    typed
        .try_readwrite()
        .map_err(|e| raise(py, "InputError", format!("out must be writeable and must not overlap steps ({e})")))
}
