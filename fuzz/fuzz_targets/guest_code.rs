//! Arbitrary bytes as 32-bit guest code must never crash the host (see `tcg86::fuzzing::guest_code`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcg86::fuzzing::guest_code(data));
