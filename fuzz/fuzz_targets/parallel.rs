//! The readers' thread-pool paths (files over 1 MiB) against single-threaded reads: see
//! `lrpulse_fuzz::check_parallel`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lrpulse_fuzz::check_parallel(data));
