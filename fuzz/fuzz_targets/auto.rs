//! Format detection (by file name, then content) followed by the chosen reader: see
//! `lrpulse_fuzz::check_auto`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lrpulse_fuzz::check_auto(data));
