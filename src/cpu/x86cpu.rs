//! `X86Cpu`: the guest CPU with everything its helpers reach (QEMU's `X86CPU` + `CPUState`).
//!
//! Generated code and helpers receive only the `env` pointer; because `env` is the first field of
//! this `#[repr(C)]` struct, a helper recovers the whole CPU from it (QEMU's `env_archcpu`). While a
//! TB runs, that pointer is the only way anything touches the CPU.

use super::jmp_cache::TbJmpCache;
use super::state::{offsets, CpuState, EXCP_EXIT};
use crate::hw::Bus;
use crate::softmmu::code_pages::CodePages;
use crate::softmmu::tlb::PAGE_BITS;
use crate::softmmu::{PhysMem, Tlb};
use crate::tcg::ir::{HelperRet, HELPER_EXIT};
use crate::tcg::x64::emit::host_has_bmi2;
use crate::tcg::x64::JitLayout;
use alloc::vec::Vec;
use core::mem::offset_of;

#[repr(C)]
pub struct X86Cpu {
    /// Must stay the first field (see the module comment).
    pub env: CpuState,
    pub tlb: Tlb,
    pub mem: PhysMem,
    pub bus: Bus,
    /// Set when the machine must stop with this host exit status.
    pub exit_status: Option<i32>,
    /// Counts cycles for `rdtsc` (advanced by the exec loop).
    pub tsc: u64,
    /// TLB hits counted by the JIT's inline fast path (the slow path counts in `tlb.stats`).
    pub jit_tlb_hits: u64,
    /// Guest instructions generated code may still run before returning to `cpu_exec` (each TB
    /// entry subtracts its size; see `JitLayout::budget_off`).
    pub icount_budget: i32,
    /// Per-vCPU TB jump cache, also read by `lookup_and_goto_ptr`.
    pub tb_jmp_cache: TbJmpCache,
    /// False with `-d nochain`: generated code never jumps to another TB directly.
    pub chaining: bool,
    /// True with `-d exec` or `-d cpu`: `lookup_and_goto_ptr` returns to `cpu_exec`, which logs
    /// every TB it enters.
    pub log_tb_entry: bool,
    /// Physical pages holding translated code, and which TB covers which bytes.
    pub code_pages: CodePages,
    /// With `EXCP_SMC`: the physical bytes a store from generated code was about to overwrite.
    pub smc_store: Option<(u32, u32)>,
    /// Code bytes overwritten by stores outside generated code (helpers, interrupt delivery);
    /// the exec loop invalidates the TBs on them when it next gets control.
    pub smc_pending: Vec<(u32, u32)>,
}

const _: () = assert!(core::mem::offset_of!(X86Cpu, env) == 0);

impl X86Cpu {
    pub fn new(ram_size: usize, tlb_bits: u32, bus: Bus) -> X86Cpu {
        let tlb = Tlb::new(tlb_bits);
        let mem = PhysMem::new(ram_size);
        X86Cpu {
            env: CpuState::new(),
            tlb,
            mem,
            bus,
            exit_status: None,
            tsc: 0,
            jit_tlb_hits: 0,
            icount_budget: 0,
            tb_jmp_cache: TbJmpCache::new(),
            chaining: true,
            log_tb_entry: false,
            code_pages: CodePages::new(),
            smc_store: None,
            smc_pending: Vec::new(),
        }
    }

    /// Where the JIT's inline TLB lookup finds its tables, relative to `env`. With
    /// `count_tlb_hits` the fast path also counts its hits (for `--stats`).
    pub fn jit_layout(&self, count_tlb_hits: bool) -> JitLayout {
        let tables = offset_of!(X86Cpu, tlb) as i32;
        JitLayout {
            tlb_table_off: [0, 1].map(|m| tables + Tlb::table_offset(m) as i32),
            count_tlb_hits,
            bmi2: host_has_bmi2(),
            tlb_bits: self.tlb.bits,
            tlb_hits_off: offset_of!(X86Cpu, jit_tlb_hits) as i32,
            page_bits: PAGE_BITS,
            budget_off: offset_of!(X86Cpu, icount_budget) as i32,
            eip_off: (offset_of!(X86Cpu, env) + offsets::EIP as usize) as i32,
            jmp_cache_off: (offset_of!(X86Cpu, tb_jmp_cache) + offset_of!(TbJmpCache, table)) as i32,
        }
    }

    /// TLB hits from both the inline fast path and the slow path.
    pub fn tlb_hits(&self) -> u64 {
        self.tlb.stats.hits + self.jit_tlb_hits
    }

    /// The pointer generated code gets.
    pub fn env_ptr(&mut self) -> *mut u8 {
        self as *mut X86Cpu as *mut u8
    }

    /// Recover the CPU from the `env` pointer a helper received.
    ///
    /// # Safety
    /// `env` must come from [`X86Cpu::env_ptr`] of a live CPU that nothing else references while the
    /// returned borrow is used.
    pub unsafe fn from_env<'a>(env: *mut u8) -> &'a mut X86Cpu {
        // SAFETY: per the contract, `env` points at a live `X86Cpu` (env is its first field).
        unsafe { &mut *(env as *mut X86Cpu) }
    }

    /// Record a guest exception and ask generated code to leave the TB; the exec loop restores eip
    /// and `cc_op` of the faulting instruction and delivers it.
    pub fn raise_exception(&mut self, vector: u8, error_code: u32) -> HelperRet {
        self.env.exception_index = vector as i32;
        self.env.error_code = error_code;
        self.env.exception_is_int = 0;
        HELPER_EXIT
    }

    /// Stop the machine with a host exit status.
    pub fn request_exit(&mut self, status: i32) -> HelperRet {
        self.exit_status = Some(status);
        self.env.exception_index = EXCP_EXIT;
        HELPER_EXIT
    }
}
