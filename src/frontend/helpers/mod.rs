//! Helpers: the parts of guest instructions that generated code calls out for (QEMU's
//! `helper_*`). Each has a `HelperInfo` the IR names in `call` ops and the `extern "C"` function
//! both backends call with `env` first.
//!
//! Helpers report guest exceptions as values: they record the vector in `env` and return with
//! `HELPER_EXIT` (see `X86Cpu::raise_exception`).

use crate::cpu::cc::compute_eflags;
use crate::cpu::state::{eflags, EXCP_HLT};
use crate::cpu::X86Cpu;
use crate::hw::IoEffect;
use crate::tcg::ir::{HelperFlags, HelperInfo, HelperRet, HELPER_EXIT};

/// Exit status when the guest executes HLT with interrupts disabled (it could never wake up).
pub const EXIT_HALTED: i32 = 6;

/// Declare a helper's `HelperInfo`.
macro_rules! helper {
    ($info:ident, $name:literal, $func:ident, $nargs:literal, $out:literal, $($flag:ident)|*) => {
        pub static $info: HelperInfo = HelperInfo {
            name: $name,
            func: $func,
            nb_iargs: $nargs,
            has_out: $out,
            flags: HelperFlags::empty() $(.union(HelperFlags::$flag))*,
        };
    };
}

pub mod alu;

/// # Safety
/// `env` must come from `X86Cpu::env_ptr` (true of every call from generated code).
unsafe fn cpu<'a>(env: *mut u8) -> &'a mut X86Cpu {
    // SAFETY: per the contract.
    unsafe { X86Cpu::from_env(env) }
}

helper!(RAISE_EXCEPTION, "raise_exception", helper_raise_exception, 1, false, CAN_EXIT);
unsafe extern "C" fn helper_raise_exception(env: *mut u8, vector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { cpu(env) }.raise_exception(vector as u8, 0)
}

helper!(CC_COMPUTE_ALL, "cc_compute_all", helper_cc_compute_all, 4, true, NO_SIDE_EFFECTS);
unsafe extern "C" fn helper_cc_compute_all(_env: *mut u8, dst: u32, src: u32, src2: u32, op: u32) -> HelperRet {
    compute_eflags(op, dst, src, src2) as u64
}

helper!(IN, "in", helper_in, 2, true, CAN_EXIT);
/// `in`: (port, size in bytes).
unsafe extern "C" fn helper_in(env: *mut u8, port: u32, size: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    cpu.bus.read(port as u16, size as u8) as u64
}

helper!(OUT, "out", helper_out, 3, false, CAN_EXIT);
/// `out`: (port, value, size in bytes).
unsafe extern "C" fn helper_out(env: *mut u8, port: u32, value: u32, size: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    match cpu.bus.write(port as u16, size as u8, value) {
        IoEffect::None => 0,
        IoEffect::Exit(status) => cpu.request_exit(status),
    }
}

helper!(HLT, "hlt", helper_hlt, 0, false, CAN_EXIT);
/// `hlt` (eip already points past it): wait for an interrupt, or stop if none can come.
unsafe extern "C" fn helper_hlt(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    if cpu.env.eflags & eflags::IF == 0 {
        return cpu.request_exit(EXIT_HALTED);
    }
    cpu.env.exception_index = EXCP_HLT;
    HELPER_EXIT
}

pub mod seg;
pub mod system;

/// A helper's return word for a CPU operation that may fault (the fault is already recorded).
fn exit_on_fault(r: crate::cpu::mem_helper::MemResult<()>) -> HelperRet {
    match r {
        Ok(()) => 0,
        Err(_) => HELPER_EXIT,
    }
}
