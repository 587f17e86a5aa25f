//! The tsv reader, format forced: see `lrpulse_fuzz::check_forced` for what is asserted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lrpulse::logs::Format;

fuzz_target!(|data: &[u8]| lrpulse_fuzz::check_forced(data, Format::Tsv));
