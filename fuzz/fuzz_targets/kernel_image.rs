//! Arbitrary bytes as a multiboot `-kernel` image must never crash the host (see
//! `tcg86::fuzzing::kernel_image`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tcg86::fuzzing::kernel_image(data));
