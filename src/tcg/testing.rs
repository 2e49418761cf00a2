//! Shared fixtures for the compiler's unit tests: a guest-like global table, a few helpers with
//! each combination of flags that matters to the passes, and text-in/text-out pass runners.

use super::interp::{exec, InterpCode};
use super::ir::{GlobalDef, HelperFlags, HelperInfo, HelperRet, MemOp, TcgContext, HELPER_EXIT};
use super::parse::parse_ops;
use super::print::dump_ops;
use super::verify::verify;
use super::{Runtime, TbExit};
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

/// `test_pure(a, b)`: a * 3 + b.
unsafe extern "C" fn helper_pure(_: *mut u8, a: u32, b: u32, _: u32, _: u32) -> HelperRet {
    a.wrapping_mul(3).wrapping_add(b) as u64
}

/// `test_exit(a)`: leave the TB when `a` is odd.
unsafe extern "C" fn helper_exit(_: *mut u8, a: u32, _: u32, _: u32, _: u32) -> HelperRet {
    if a & 1 != 0 {
        HELPER_EXIT
    } else {
        0
    }
}

/// `test_rw(a)`: ecx = eax + a in `env`; returns eax ^ a.
unsafe extern "C" fn helper_rw(env: *mut u8, a: u32, _: u32, _: u32, _: u32) -> HelperRet {
    let w = env as *mut u32;
    // SAFETY: test envs are `FakeEnv` buffers, with eax at word 0 and ecx at word 1.
    unsafe {
        let eax = w.read();
        w.add(1).write(eax.wrapping_add(a));
        (eax ^ a) as u64
    }
}

unsafe extern "C" fn helper_nop(_: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    0
}

macro_rules! test_helper {
    ($info:ident, $name:literal, $func:ident, $nargs:literal, $out:literal, $flags:expr) => {
        pub static $info: HelperInfo =
            HelperInfo { name: $name, func: $func, nb_iargs: $nargs, has_out: $out, flags: $flags };
    };
}

test_helper!(TEST_PURE, "test_pure", helper_pure, 2, true, HelperFlags::NO_SIDE_EFFECTS);
test_helper!(TEST_EXIT, "test_exit", helper_exit, 1, false, HelperFlags::CAN_EXIT);
test_helper!(TEST_RW, "test_rw", helper_rw, 1, true, HelperFlags::READS_GLOBALS.union(HelperFlags::WRITES_GLOBALS));
test_helper!(TEST_PLAIN, "test_plain", helper_nop, 0, false, HelperFlags::empty());

/// A fake `env` for running IR: globals at the `TEST_GLOBALS` offsets, free words up to
/// [`MEM_OFFSET`], then a 256-byte guest "memory". Guest addresses at or above 0x100 fault.
pub const ENV_WORDS: usize = 128;
pub const MEM_OFFSET: usize = 256;

pub type FakeEnv = [u32; ENV_WORDS];

fn fake_mem(env: *mut u8, addr: u32, memop: u32) -> Option<*mut u8> {
    let size = MemOp(memop).size() as usize;
    let a = addr as usize;
    // SAFETY: `a + size <= 0x100`, inside the memory part of a `FakeEnv`.
    (a + size <= 0x100).then(|| unsafe { env.add(MEM_OFFSET + a) })
}

unsafe extern "C" fn fake_qemu_ld(env: *mut u8, addr: u32, memop: u32, _: u32, _: u32) -> HelperRet {
    let Some(p) = fake_mem(env, addr, memop) else { return HELPER_EXIT };
    let mut v = 0u32;
    for i in 0..MemOp(memop).size() as usize {
        // SAFETY: `fake_mem` checked the whole access.
        v |= (unsafe { p.add(i).read() } as u32) << (8 * i);
    }
    v as u64
}

unsafe extern "C" fn fake_qemu_st(env: *mut u8, addr: u32, memop: u32, _: u32, v: u32) -> HelperRet {
    let Some(p) = fake_mem(env, addr, memop) else { return HELPER_EXIT };
    for i in 0..MemOp(memop).size() as usize {
        // SAFETY: `fake_mem` checked the whole access.
        unsafe { p.add(i).write((v >> (8 * i)) as u8) };
    }
    0
}

/// Run `ctx` on `env` with the fake guest memory.
pub fn run(ctx: &TcgContext, env: &mut FakeEnv) -> TbExit {
    let rt = Runtime { qemu_ld: fake_qemu_ld, qemu_st: fake_qemu_st, lookup_tb_ptr: fake_qemu_ld };
    let code = InterpCode::new(ctx);
    // SAFETY: `env` is a `FakeEnv`, which covers every global offset and env offset tests use.
    unsafe { exec(&code, env.as_mut_ptr() as *mut u8, &rt) }
}

/// No side effects, but may leave the TB (like a check that raises a guest exception).
pub static TEST_CHECK: HelperInfo = HelperInfo {
    name: "test_check",
    func: helper_exit,
    nb_iargs: 1,
    has_out: true,
    flags: HelperFlags::NO_SIDE_EFFECTS.union(HelperFlags::CAN_EXIT),
};

pub static HELPERS: &[&HelperInfo] = &[&TEST_PURE, &TEST_EXIT, &TEST_RW, &TEST_PLAIN, &TEST_CHECK];

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
