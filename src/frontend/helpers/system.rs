//! Helpers for system instructions: software interrupts, EFLAGS as a whole (PUSHF/POPF), CPUID,
//! RDTSC, control register writes, the IOPL check and INVLPG.

use super::cpu;
use crate::cpu::excp::EXCP_GP;
use crate::cpu::far::eflags_write_mask;
use crate::cpu::state::{cr0, eflags, R_EAX, R_EBX, R_ECX, R_EDX};
use crate::cpu::X86Cpu;
use crate::tcg::ir::{HelperFlags, HelperInfo, HelperRet, HELPER_EXIT};

helper!(RAISE_INTERRUPT, "raise_interrupt", helper_raise_interrupt, 2, false, CAN_EXIT);
/// `int n`/`int3`/`into`: (vector, eip of the next instruction). Delivered by the exec loop as a
/// software interrupt (gate DPL checked, returns to the next instruction).
unsafe extern "C" fn helper_raise_interrupt(env: *mut u8, vector: u32, next_eip: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    cpu.raise_exception(vector as u8, 0);
    cpu.env.exception_is_int = 1;
    cpu.env.exception_next_eip = next_eip;
    HELPER_EXIT
}

helper!(READ_EFLAGS, "read_eflags", helper_read_eflags, 0, true, READS_GLOBALS);
/// The EFLAGS image PUSHF stores: VM and RF read as 0 (SDM Vol. 2, PUSHF).
unsafe extern "C" fn helper_read_eflags(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    (cpu.env.get_eflags() & !(eflags::VM | eflags::RF)) as u64
}

helper!(WRITE_EFLAGS, "write_eflags", helper_write_eflags, 2, false, WRITES_GLOBALS);
/// POPF: (value, operand size in bytes); IOPL and IF change only as CPL and IOPL allow.
unsafe extern "C" fn helper_write_eflags(env: *mut u8, value: u32, size: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let mask = eflags_write_mask(cpu.env.cpl(), cpu.env.eflags, size);
    cpu.env.set_eflags(value, mask);
    0
}

/// CPUID leaf values (eax, ebx, ecx, edx): a plain P6-class "GenuineIntel" like QEMU's `qemu32`.
pub fn cpuid_leaf(leaf: u32) -> [u32; 4] {
    const FPU: u32 = 1 << 0;
    const TSC: u32 = 1 << 4;
    const CX8: u32 = 1 << 8;
    const CMOV: u32 = 1 << 15;
    match leaf {
        0 => [1, 0x756e_6547, 0x6c65_746e, 0x4965_6e69],
        0x8000_0000 => [0x8000_0000, 0, 0, 0],
        // Family 6, model 6, stepping 3.
        _ => [0x0000_0663, 0, 0, FPU | TSC | CX8 | CMOV],
    }
}

helper!(CPUID, "cpuid", helper_cpuid, 0, false, READS_GLOBALS | WRITES_GLOBALS);
unsafe extern "C" fn helper_cpuid(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let [a, b, c, d] = cpuid_leaf(cpu.env.regs[R_EAX]);
    cpu.env.regs[R_EAX] = a;
    cpu.env.regs[R_EBX] = b;
    cpu.env.regs[R_ECX] = c;
    cpu.env.regs[R_EDX] = d;
    0
}

/// CR4.TSD: RDTSC is privileged.
const CR4_TSD: u32 = 1 << 2;

helper!(RDTSC, "rdtsc", helper_rdtsc, 0, false, CAN_EXIT | WRITES_GLOBALS);
/// EDX:EAX = the time-stamp counter; #GP(0) at CPL > 0 when CR4.TSD is set.
unsafe extern "C" fn helper_rdtsc(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    if cpu.env.cr[4] & CR4_TSD != 0 && cpu.env.cpl() != 0 {
        return cpu.raise_exception(EXCP_GP, 0);
    }
    cpu.env.regs[R_EAX] = cpu.tsc as u32;
    cpu.env.regs[R_EDX] = (cpu.tsc >> 32) as u32;
    0
}

/// Write control register `n` (0, 2, 3, 4): CR0 keeps ET set; PG without PE is #GP(0). Mode bits
/// go to `hflags`; CR0, CR3 and CR4 writes flush the TLB.
pub fn write_cr(cpu: &mut X86Cpu, n: usize, value: u32) -> HelperRet {
    match n {
        0 => {
            if value & cr0::PG != 0 && value & cr0::PE == 0 {
                return cpu.raise_exception(EXCP_GP, 0);
            }
            cpu.env.cr[0] = value | cr0::ET;
            if value & cr0::PE == 0 {
                cpu.env.hflags &= !crate::cpu::state::hflags::CPL_MASK;
            }
            cpu.env.update_hflags();
        }
        2 => cpu.env.cr[2] = value,
        3 | 4 => cpu.env.cr[n] = value,
        _ => return cpu.raise_exception(crate::frontend::disas::EXCP_UD, 0),
    }
    if n != 2 {
        cpu.tlb.flush();
    }
    0
}

helper!(WRITE_CR, "write_crN", helper_write_cr, 2, false, CAN_EXIT);
/// MOV to CRn: (n, value).
unsafe extern "C" fn helper_write_cr(env: *mut u8, n: u32, value: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    write_cr(unsafe { cpu(env) }, n as usize, value)
}

helper!(CHECK_IOPL, "check_iopl", helper_check_iopl, 0, false, CAN_EXIT);
/// #GP(0) unless CPL <= IOPL (IN/OUT/INS/OUTS, CLI/STI in protected mode; the TSS I/O permission
/// bitmap is not consulted).
unsafe extern "C" fn helper_check_iopl(env: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    let cpu = unsafe { cpu(env) };
    let iopl = (cpu.env.eflags & eflags::IOPL) >> 12;
    if cpu.env.cpl() > iopl {
        return cpu.raise_exception(EXCP_GP, 0);
    }
    0
}

helper!(INVLPG, "invlpg", helper_invlpg, 1, false, CAN_EXIT);
unsafe extern "C" fn helper_invlpg(env: *mut u8, addr: u32, _: u32, _: u32, _: u32) -> HelperRet {
    // SAFETY: called from generated code.
    unsafe { cpu(env) }.tlb.flush_page(addr);
    0
}
