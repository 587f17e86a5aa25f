//! The binding layer: converts Python arguments and numpy buffers to core types, releases the GIL
//! around heavy work and maps core errors to `lrpulse` exceptions. No schedule logic lives here.

mod arrays;
mod curve;
mod errors;
mod logs;
mod schedule;

use pyo3::prelude::*;

#[pymodule]
mod _core {
    use super::*;

    #[pymodule_export]
    use super::schedule::PySchedule;

    #[pymodule_export]
    use super::schedule::schedule_from_json;

    #[pymodule_export]
    use super::curve::{diagnose, PyCurveMonitor};

    #[pymodule_export]
    use super::logs::{find_runs, read_log, read_runs, run_files, PyLogStream};

    /// Number of threads large evaluations are split across (`LRPULSE_NUM_THREADS` sets it).
    #[pyfunction]
    fn num_threads() -> usize {
        crate::parallel::threads()
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
