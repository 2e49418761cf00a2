//! Shared harness of the library-level guest tests: raw 32-bit guest code loaded at 1 MiB, started
//! the way the multiboot loader leaves a kernel (flat protected mode, CS = 0x10, DS = 0x18), ESP at
//! 2 MiB, run through `Machine` until isa-debug-exit (port 0xf4), a triple fault or an instruction
//! limit. Guest snippets are GNU as source in doc comments with their bytes below; after editing
//! the source, `python3 tests/asm_bytes.py tests/<file>.rs` re-assembles them in place.
#![allow(dead_code)]

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{LogMask, LogSink, Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

pub const CODE_BASE: u32 = 0x100000;
pub const STACK_TOP: u32 = 0x200000;

/// `TCG86_TEST_LOG=int,in_asm` logs those `-d` items to stderr (for debugging a failing test).
fn test_logger() -> Logger {
    struct Stderr;
    impl LogSink for Stderr {
        fn log(&mut self, text: &str) {
            eprint!("{text}");
        }
    }
    match std::env::var("TCG86_TEST_LOG").ok().and_then(|v| LogMask::parse(&v).ok()) {
        Some(mask) => Logger { mask, sink: Box::new(Stderr) },
        None => Logger { mask: Default::default(), sink: Box::new(NoLog) },
    }
}

/// Run `code` after `setup` has adjusted the CPU.
pub fn run_with(code: &[u8], setup: impl FnOnce(&mut X86Cpu)) -> (ExitReason, Box<X86Cpu>) {
    run_limited(code, setup, 200_000)
}

/// Run `code` for at most `max_insns` guest instructions.
pub fn run_limited(code: &[u8], setup: impl FnOnce(&mut X86Cpu), max_insns: u64) -> (ExitReason, Box<X86Cpu>) {
    let m = run_on(code, setup, max_insns, false);
    (m.0, m.1)
}

/// Run `code` for at most `max_insns` guest instructions with the interpreter or (`jit`) the
/// JIT with chaining; also returns the number of guest instructions executed. TBs hold at most
/// `max_insns` instructions: the exec loop runs a TB whole only when the limit leaves room for
/// it (else it interprets single instructions), so the backend itself runs up to the stop.
pub fn run_on(
    code: &[u8],
    setup: impl FnOnce(&mut X86Cpu),
    max_insns: u64,
    jit: bool,
) -> (ExitReason, Box<X86Cpu>, u64) {
    let tb_max_insns = max_insns.min(ExecOptions::default().tb_max_insns as u64) as u32;
    let opts = ExecOptions { max_insns: Some(max_insns), tb_max_insns, ..Default::default() };
    run_with_options(code, setup, opts, jit)
}

/// `run_on` with these execution options (`count_tlb_hits`, say).
pub fn run_with_options(
    code: &[u8],
    setup: impl FnOnce(&mut X86Cpu),
    opts: ExecOptions,
    jit: bool,
) -> (ExitReason, Box<X86Cpu>, u64) {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(CODE_BASE), code).unwrap();
    cpu.env.reset_multiboot(CODE_BASE, 0x9000);
    cpu.env.regs[0] = 0;
    cpu.env.regs[4] = STACK_TOP;
    setup(&mut cpu);
    let log = test_logger();
    let mut m = Machine::new(cpu, opts, log);
    if jit {
        let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("executable memory for the JIT");
        // SAFETY: a fresh mapping used only by this machine and never unmapped.
        assert!(unsafe { m.enable_jit(region) }, "JIT code buffer");
    }
    let r = m.cpu_exec();
    (r, m.cpu, m.stats.insns)
}

pub fn run(code: &[u8]) -> (ExitReason, Box<X86Cpu>) {
    run_with(code, |_| {})
}

/// The exit status of `out %al,$0xf4` with this AL.
pub fn exit_al(al: u32) -> ExitReason {
    ExitReason::Status(((al as i32) << 1) | 1)
}

/// A 32-bit word of guest physical memory.
pub fn rd32(cpu: &X86Cpu, addr: u32) -> u32 {
    cpu.mem.read(PhysAddr(addr), 4)
}

/// Guest physical bytes.
pub fn bytes(cpu: &X86Cpu, addr: u32, len: usize) -> Vec<u8> {
    cpu.mem.slice(PhysAddr(addr), len).unwrap().to_vec()
}

pub const EAX: usize = 0;
pub const ECX: usize = 1;
pub const EDX: usize = 2;
pub const EBX: usize = 3;
pub const ESP: usize = 4;
pub const EBP: usize = 5;
pub const ESI: usize = 6;
pub const EDI: usize = 7;

pub const CF: u32 = 1;
pub const ZF: u32 = 1 << 6;
pub const SF: u32 = 1 << 7;
pub const DF: u32 = 1 << 10;
pub const IF: u32 = 1 << 9;

/// Put a flat GDT matching the multiboot state at 0x800 (0x08 and 0x10: code, 0x18: data) and
/// point GDTR at it, so segment registers can be reloaded.
pub fn flat_gdt(cpu: &mut X86Cpu) {
    let gdt: [u64; 4] = [0, 0x00cf_9b00_0000_ffff, 0x00cf_9b00_0000_ffff, 0x00cf_9300_0000_ffff];
    for (i, d) in gdt.iter().enumerate() {
        cpu.mem.load(PhysAddr(0x800 + 8 * i as u32), &d.to_le_bytes()).unwrap();
    }
    cpu.env.gdt.base = 0x800;
    cpu.env.gdt.limit = 31;
}
