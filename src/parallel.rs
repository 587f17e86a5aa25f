//! The thread pool behind large evaluations.
//!
//! One lazily built pool, sized by `LRPULSE_NUM_THREADS` (default: rayon's choice). A pool's worker
//! threads do not survive `fork()`, so a forked child (a torch DataLoader worker, multiprocessing)
//! must not wait on them: the pool remembers the pid that built it and work runs inline elsewhere.

use std::sync::OnceLock;

struct Pool {
    pid: u32,
    pool: Option<rayon::ThreadPool>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::env::var("LRPULSE_NUM_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok());
        let mut builder = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("lrpulse-{i}"));
        if let Some(n) = threads {
            builder = builder.num_threads(n.max(1));
        }
        Pool { pid: std::process::id(), pool: builder.build().ok() }
    })
}

/// Whether parallel work can run here (a pool exists, was built in this process, has > 1 thread).
pub fn available() -> bool {
    let p = pool();
    p.pid == std::process::id() && p.pool.as_ref().is_some_and(|tp| tp.current_num_threads() > 1)
}

/// Run `op` inside the pool (callers check [`available`] first; without a pool it runs inline).
pub fn install<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    match &pool().pool {
        Some(tp) if pool().pid == std::process::id() => tp.install(op),
        _ => op(),
    }
}

/// Number of threads large work is split across.
pub fn threads() -> usize {
    if available() {
        pool().pool.as_ref().map_or(1, |tp| tp.current_num_threads())
    } else {
        1
    }
}
