//! Helpers for segment register loads and far control transfers: the checks and descriptor reads
//! live in `cpu::seg` and `cpu::far`; these are the entry points generated code calls.
//!
//! All of them may raise an exception (`CAN_EXIT`) and change segment bases, ESP or EIP in `env`.

use super::{cpu, exit_on_fault};
use crate::tcg::ir::{HelperFlags, HelperInfo, HelperRet};

helper!(LOAD_SEG, "load_seg", helper_load_seg, 2, false, CAN_EXIT | WRITES_GLOBALS);
/// `load_seg`: (segment register number, selector).
unsafe extern "C" fn helper_load_seg(env: *mut u8, seg: u32, selector: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.load_seg(seg as usize & 7, selector))
}

helper!(FAR_JMP, "ljmp", helper_far_jmp, 2, false, CAN_EXIT | READS_GLOBALS | WRITES_GLOBALS);
/// Far JMP: (selector, offset); sets CS and EIP.
unsafe extern "C" fn helper_far_jmp(env: *mut u8, selector: u32, offset: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.far_jmp(selector & 0xffff, offset))
}

helper!(FAR_CALL, "lcall", helper_far_call, 4, false, CAN_EXIT | READS_GLOBALS | WRITES_GLOBALS);
/// Far CALL: (selector, offset, operand size in bytes, return eip).
unsafe extern "C" fn helper_far_call(env: *mut u8, selector: u32, offset: u32, size: u32, next: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.far_call(selector & 0xffff, offset, size, next))
}

helper!(FAR_RET, "lret", helper_far_ret, 2, false, CAN_EXIT | READS_GLOBALS | WRITES_GLOBALS);
/// Far RET: (operand size in bytes, bytes of parameters to release).
unsafe extern "C" fn helper_far_ret(env: *mut u8, size: u32, imm: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.far_ret(size, imm))
}

helper!(IRET, "iret", helper_iret, 1, false, CAN_EXIT | READS_GLOBALS | WRITES_GLOBALS);
/// IRET: (operand size in bytes).
unsafe extern "C" fn helper_iret(env: *mut u8, size: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.iret(size))
}

helper!(LLDT, "lldt", helper_lldt, 1, false, CAN_EXIT);
unsafe extern "C" fn helper_lldt(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.lldt(selector))
}

helper!(LTR, "ltr", helper_ltr, 1, false, CAN_EXIT);
unsafe extern "C" fn helper_ltr(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    exit_on_fault(cpu.ltr(selector))
}
