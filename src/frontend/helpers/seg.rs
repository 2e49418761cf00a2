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
    exit_on_fault(cpu.load_seg((seg as usize).min(crate::cpu::state::R_GS), selector))
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

/// A descriptor query: the result, with `env.scratch[0]` = 1 when it succeeded (ZF), else 0.
///
/// # Safety
/// `env` must come from `X86Cpu::env_ptr` (true of every call from generated code).
unsafe fn query(env: *mut u8, selector: u32, q: crate::cpu::seg::DescQuery) -> HelperRet {
    // SAFETY: per the contract.
    let cpu = unsafe { cpu(env) };
    match cpu.query_descriptor(selector, q) {
        Ok(r) => {
            cpu.env.scratch[0] = u32::from(r.is_some());
            r.unwrap_or(0) as u64
        }
        Err(_) => crate::tcg::ir::HELPER_EXIT,
    }
}

helper!(LAR, "lar", helper_lar, 1, true, CAN_EXIT);
unsafe extern "C" fn helper_lar(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { query(env, selector, crate::cpu::seg::DescQuery::Lar) }
}

helper!(LSL, "lsl", helper_lsl, 1, true, CAN_EXIT);
unsafe extern "C" fn helper_lsl(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { query(env, selector, crate::cpu::seg::DescQuery::Lsl) }
}

helper!(VERR, "verr", helper_verr, 1, true, CAN_EXIT);
unsafe extern "C" fn helper_verr(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { query(env, selector, crate::cpu::seg::DescQuery::Verr) }
}

helper!(VERW, "verw", helper_verw, 1, true, CAN_EXIT);
unsafe extern "C" fn helper_verw(env: *mut u8, selector: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { query(env, selector, crate::cpu::seg::DescQuery::Verw) }
}
