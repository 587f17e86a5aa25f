//! Borrowing numpy arrays without copying them: dtype dispatch, shape checks and the GIL helper.

use super::errors::raise;
use ndarray::ArrayView1;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// Work smaller than this runs with the GIL held: releasing and re-taking it costs more.
pub const DETACH_MIN: usize = 4096;

/// A borrowed 1-D array of one of the accepted step/value dtypes.
pub enum Numbers<'py> {
    I32(PyReadonlyArray1<'py, i32>),
    I64(PyReadonlyArray1<'py, i64>),
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

/// The borrowed data as plain `ndarray` views: `Send`, so it can cross into a GIL-free closure.
pub enum Views<'a> {
    I32(ArrayView1<'a, i32>),
    I64(ArrayView1<'a, i64>),
    U32(ArrayView1<'a, u32>),
    U64(ArrayView1<'a, u64>),
    F32(ArrayView1<'a, f32>),
    F64(ArrayView1<'a, f64>),
}

/// Run `$body` with `$view` bound to the `ArrayView1` of whatever dtype `$views` holds.
macro_rules! with_view {
    ($views:expr, $view:ident => $body:expr) => {
        match $views {
            $crate::python::arrays::Views::I32($view) => $body,
            $crate::python::arrays::Views::I64($view) => $body,
            $crate::python::arrays::Views::U32($view) => $body,
            $crate::python::arrays::Views::U64($view) => $body,
            $crate::python::arrays::Views::F32($view) => $body,
            $crate::python::arrays::Views::F64($view) => $body,
        }
    };
}
pub(crate) use with_view;

impl Numbers<'_> {
    pub fn views(&self) -> Views<'_> {
        match self {
            Numbers::I32(a) => Views::I32(a.as_array()),
            Numbers::I64(a) => Views::I64(a.as_array()),
            Numbers::U32(a) => Views::U32(a.as_array()),
            Numbers::U64(a) => Views::U64(a.as_array()),
            Numbers::F32(a) => Views::F32(a.as_array()),
            Numbers::F64(a) => Views::F64(a.as_array()),
        }
    }
}

impl Views<'_> {
    pub fn len(&self) -> usize {
        with_view!(self, v => v.len())
    }
}

fn borrow<'py, T: numpy::Element>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Option<PyReadonlyArray1<'py, T>>> {
    match obj.cast::<PyArray1<T>>() {
        Ok(a) => a
            .try_readonly()
            .map(Some)
            .map_err(|e| raise(obj.py(), "InputError", format!("{what} cannot be read: {e}"))),
        Err(_) => Ok(None),
    }
}

/// Borrow `obj` if it is a numpy array (`Ok(None)` if it is not one). Wrong dtype or rank is an error.
pub fn borrow_numbers<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Option<Numbers<'py>>> {
    let Ok(untyped) = obj.cast::<PyUntypedArray>() else {
        return Ok(None);
    };
    if untyped.ndim() != 1 {
        let msg = format!("{what} must be a 1-D array, got ndim={} (use .ravel())", untyped.ndim());
        return Err(raise(obj.py(), "InputError", msg));
    }
    if let Some(a) = borrow::<f64>(obj, what)? {
        return Ok(Some(Numbers::F64(a)));
    }
    if let Some(a) = borrow::<f32>(obj, what)? {
        return Ok(Some(Numbers::F32(a)));
    }
    if let Some(a) = borrow::<i64>(obj, what)? {
        return Ok(Some(Numbers::I64(a)));
    }
    if let Some(a) = borrow::<i32>(obj, what)? {
        return Ok(Some(Numbers::I32(a)));
    }
    if let Some(a) = borrow::<u64>(obj, what)? {
        return Ok(Some(Numbers::U64(a)));
    }
    if let Some(a) = borrow::<u32>(obj, what)? {
        return Ok(Some(Numbers::U32(a)));
    }
    let dtype = untyped.dtype().str().map(|s| s.to_string()).unwrap_or_else(|_| "?".into());
    let msg = format!(
        "{what} must have dtype int32, int64, uint32, uint64, float32 or float64 (native byte order), got dtype {dtype}"
    );
    Err(raise(obj.py(), "DTypeError", msg))
}

/// Run `f` with the GIL released when `n` is large enough to be worth it.
pub fn maybe_detach<T: Send, F: FnOnce() -> T + Send>(py: Python<'_>, n: usize, f: F) -> T {
    if n >= DETACH_MIN {
        py.detach(f)
    } else {
        f()
    }
}
