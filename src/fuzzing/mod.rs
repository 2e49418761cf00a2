//! Fuzz target bodies: the one function per target that both the `cargo fuzz` targets (fuzz/,
//! nightly, libFuzzer) and the stable replay test (`tests/fuzz_replay.rs`) call with arbitrary bytes.
//!
//! [`guest_code`] runs the bytes as 32-bit guest code; [`kernel_image`] boots them as a multiboot
//! kernel through the loader the command line uses. Each input runs on a fresh [`Machine`] under
//! every [`Backend`], bounded by [`MAX_INSNS`] guest instructions (the `--max-insns` of the command
//! line). The contract checked here is the one DESIGN.md gives every guest: whatever the bytes, the
//! host does not panic, the run ends with an [`ExitReason`] within the budget, and every host
//! address the softmmu hands to generated code lies inside guest RAM ([`check_tlb`]). A failed
//! check panics, which is what a fuzzer reports.
//!
//! Needs the `std` feature only for the JIT's executable memory (`sys::host`); the code is
//! `no_std` + `alloc` like the rest of the core.

pub mod guest_code;
pub mod kernel_image;

pub use guest_code::guest_code;
pub use kernel_image::kernel_image;

use crate::cpu::X86Cpu;
use crate::exec::log::{Logger, NoLog};
use crate::exec::{ExecOptions, ExitReason, Machine};
use crate::hw::pc::pc_bus;
use crate::hw::NullSink;
use crate::softmmu::tlb::{PAGE_SIZE, TLB_INVALID, TLB_MMIO};
use crate::softmmu::PhysAddr;
use crate::sys::host::{alloc_code_region, free_code_region};
use crate::tcg::x64::CodeRegion;
use alloc::boxed::Box;

/// Guest instructions per input and backend (the `--max-insns` bound). A rep string instruction
/// counts once per batch of `frontend::string::REP_BATCH` iterations, so the work per input is
/// bounded by about this times 1024 memory accesses.
pub const MAX_INSNS: u64 = 2_000;
/// The JIT's code buffer: small, so that long inputs also exercise the flush on a full buffer.
pub const JIT_REGION_SIZE: usize = 1 << 20;

/// The backend a fuzz input runs under.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Interp,
    Jit,
}

pub const BACKENDS: [Backend; 2] = [Backend::Interp, Backend::Jit];

/// A CPU with `ram` bytes of RAM and the PC's devices, their output discarded.
pub fn new_cpu(ram: usize) -> Box<X86Cpu> {
    let bus = pc_bus(Box::new(NullSink), Box::new(NullSink));
    Box::new(X86Cpu::new(ram, crate::softmmu::tlb::DEFAULT_TLB_BITS, bus))
}

/// An executable mapping for one machine's JIT, unmapped when dropped.
struct JitRegion(CodeRegion);

impl JitRegion {
    fn map() -> JitRegion {
        JitRegion(alloc_code_region(JIT_REGION_SIZE).expect("fuzzing: could not map executable memory for the JIT"))
    }

    fn region(&self) -> CodeRegion {
        self.0
    }
}

impl Drop for JitRegion {
    fn drop(&mut self) {
        // SAFETY: the region came from `alloc_code_region`; `run` drops the machine that used it
        // first (see there).
        unsafe { free_code_region(self.region()) };
    }
}

/// Run `cpu` under `backend` until it stops, check the contract and return why it stopped.
pub fn run(cpu: Box<X86Cpu>, backend: Backend) -> ExitReason {
    // Declared before the machine, so dropped after it.
    let region = (backend == Backend::Jit).then(JitRegion::map);
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(MAX_INSNS), ..ExecOptions::default() };
    let mut m = Machine::new(cpu, opts, log);
    if let Some(r) = region.as_ref() {
        // SAFETY: a fresh mapping used by this machine only, unmapped after the machine is dropped.
        let ok = unsafe { m.enable_jit(r.region()) };
        assert!(ok, "fuzzing: JIT region too small");
    }
    let reason = m.cpu_exec();
    let (insns, exceptions) = (m.stats.insns, m.stats.exceptions);
    assert!(insns <= MAX_INSNS, "ran {insns} guest instructions, over the budget of {MAX_INSNS}");
    assert!(exceptions <= MAX_INSNS, "delivered {exceptions} exceptions, over the budget of {MAX_INSNS}");
    check_tlb(&m.cpu);
    drop(m);
    reason
}

/// Every valid RAM entry of the TLB, the table generated code indexes inline, maps a guest page
/// wholly inside guest RAM (the invariant of `softmmu/tlb.rs`, checked on the final state).
pub fn check_tlb(cpu: &X86Cpu) {
    let ram_len = cpu.mem.ram_size();
    let start = cpu.mem.slice(PhysAddr(0), ram_len).map_or(0, |s| s.as_ptr() as usize);
    let end = start + ram_len;
    for e in cpu.tlb.entries() {
        for tag in [e.addr_read, e.addr_write, e.addr_code] {
            if tag & (TLB_INVALID | TLB_MMIO) != 0 {
                continue;
            }
            let host = e.host;
            let inside = host >= start && host.checked_add(PAGE_SIZE as usize).is_some_and(|h| h <= end);
            assert!(inside, "TLB entry {tag:#x} maps host {host:#x}, outside guest RAM {start:#x}..{end:#x}");
        }
    }
}
