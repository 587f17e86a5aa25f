//! Core errors to Python exceptions. The exception classes live in `lrpulse/errors.py` so they can
//! inherit from both `LrpulseError` and the matching builtin (`ValueError`, `TypeError`).

use crate::error::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// Build an `lrpulse.errors.<class_name>` with `msg`, or a builtin of the right family if the Python
/// package is not importable (the extension used on its own).
pub fn raise(py: Python<'_>, class_name: &str, msg: String) -> PyErr {
    let class = py
        .import("lrpulse.errors")
        .and_then(|m| m.getattr(class_name));
    match class {
        Ok(cls) => match cls.call1((msg.clone(),)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        Err(_) if class_name.ends_with("TypeError") => PyTypeError::new_err(msg),
        Err(_) => PyValueError::new_err(msg),
    }
}

pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let class = match &e {
        Error::InvalidParameter { .. } | Error::InvalidSpec(_) => "ParameterError",
        Error::InvalidInput { .. } | Error::LengthMismatch { .. } => "InputError",
        Error::NonFiniteValue { .. } => "ParameterError",
    };
    raise(py, class, e.to_string())
}

/// Extension trait: `core_result.py_err(py)?`.
pub trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for crate::error::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
