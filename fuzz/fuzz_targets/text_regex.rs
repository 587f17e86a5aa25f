//! Text logs read with a user regex (`Pattern::user`) taken from the input: see
//! `lrpulse_fuzz::check_user_regex`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lrpulse_fuzz::check_user_regex(data));
