//! Shared fixtures for the compiler's unit tests: a guest-like global table, a few helpers with
//! each combination of flags that matters to the passes, and text-in/text-out pass runners.

use super::ir::{GlobalDef, HelperFlags, HelperInfo, HelperRet, TcgContext};
use super::parse::parse_ops;
use super::print::dump_ops;
use super::verify::verify;
use alloc::string::String;

/// Globals named like the i386 guest's (temps 1..=16), so tests read like real IR.
pub const TEST_GLOBALS: [GlobalDef; 16] = [
    GlobalDef { name: "eax", offset: 0 },
    GlobalDef { name: "ecx", offset: 4 },
    GlobalDef { name: "edx", offset: 8 },
    GlobalDef { name: "ebx", offset: 12 },
    GlobalDef { name: "esp", offset: 16 },
    GlobalDef { name: "ebp", offset: 20 },
    GlobalDef { name: "esi", offset: 24 },
    GlobalDef { name: "edi", offset: 28 },
    GlobalDef { name: "cc_dst", offset: 40 },
    GlobalDef { name: "cc_src", offset: 44 },
    GlobalDef { name: "cc_src2", offset: 48 },
    GlobalDef { name: "cc_op", offset: 52 },
    GlobalDef { name: "es_base", offset: 56 },
    GlobalDef { name: "cs_base", offset: 60 },
    GlobalDef { name: "ss_base", offset: 64 },
    GlobalDef { name: "ds_base", offset: 68 },
];

unsafe extern "C" fn helper_nop(_: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    0
}

macro_rules! test_helper {
    ($info:ident, $name:literal, $nargs:literal, $out:literal, $flags:expr) => {
        pub static $info: HelperInfo =
            HelperInfo { name: $name, func: helper_nop, nb_iargs: $nargs, has_out: $out, flags: $flags };
    };
}

test_helper!(TEST_PURE, "test_pure", 2, true, HelperFlags::NO_SIDE_EFFECTS);
test_helper!(TEST_EXIT, "test_exit", 1, false, HelperFlags::CAN_EXIT);
test_helper!(TEST_RW, "test_rw", 1, true, HelperFlags::READS_GLOBALS.union(HelperFlags::WRITES_GLOBALS));
test_helper!(TEST_PLAIN, "test_plain", 0, false, HelperFlags::empty());

pub static HELPERS: &[&HelperInfo] = &[&TEST_PURE, &TEST_EXIT, &TEST_RW, &TEST_PLAIN];

/// Parse test IR, panicking with the parser's message.
pub fn parse(text: &str) -> TcgContext {
    match parse_ops(text, &TEST_GLOBALS, HELPERS) {
        Ok(ctx) => ctx,
        Err(e) => panic!("{}\n{}", e, text),
    }
}

/// Parse, verify, run `pass`, verify again and print.
pub fn run_pass(text: &str, pass: impl FnOnce(&mut TcgContext) -> bool) -> String {
    let mut ctx = parse(text);
    if let Err(e) = verify(&ctx) {
        panic!("test input does not verify: {}\n{}", e, text);
    }
    pass(&mut ctx);
    if let Err(e) = verify(&ctx) {
        panic!("pass output does not verify: {}\n{}", e, dump_ops(&ctx));
    }
    dump_ops(&ctx)
}

/// Assert that `pass` turns `input` into `expected` (both in printed form).
pub fn check_pass(input: &str, expected: &str, pass: impl FnOnce(&mut TcgContext) -> bool) {
    let got = run_pass(input, pass);
    assert_eq!(got, expected, "\n--- input\n{}--- got\n{}--- expected\n{}", input, got, expected);
}
