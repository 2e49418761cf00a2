//! The tcg86 runner: one sequence in a fresh machine, under each backend of [`BACKENDS`].
//!
//! The sequence is followed by `jmp .+2; out %al,$0xf4` (isa-debug-exit: odd exit status). Exceptions go
//! through a real IDT: a flat GDT code segment and 32 interrupt gates, gate `v` pointing at a
//! `hlt` stub at `STUBS + 4v`; with IF clear `hlt` stops the machine, and the stub address gives
//! the vector, the exception frame the faulting EIP and EFLAGS.

use super::gen::{Sequence, COMPARED};
use super::layout::{Outcome, REGION_SIZE, SCRATCH};
use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;
use tcg86::tcg::x64::CodeRegion;

/// Code starts just below a page boundary, so longer sequences span two pages.
pub const CODE: u32 = 0x3_0000 - 0x30;
const GDT: u32 = 0x4_0000;
const IDT: u32 = 0x4_1000;
const STUBS: u32 = 0x4_2000;
const VECTORS: u32 = 32;
const RAM: usize = 1 << 20;

/// A backend: its name, the execution options that select it, JIT or interpreter, chaining.
pub struct Backend {
    pub name: &'static str,
    pub tb_max_insns: u32,
    pub jit: bool,
    pub chaining: bool,
    /// By default only every `stride`-th sequence runs here (whole-TB translation is slow in
    /// the debug test profile); `DIFFTEST_BACKENDS` runs every sequence on the listed backends.
    pub stride: u64,
}

/// Every backend the oracle runs. The `tb1` variants translate one instruction per TB, so the
/// lazy flags state crosses a TB boundary after every instruction.
pub const BACKENDS: &[Backend] = &[
    Backend { name: "interp", tb_max_insns: 512, jit: false, chaining: true, stride: 10 },
    Backend { name: "interp-tb1", tb_max_insns: 1, jit: false, chaining: true, stride: 1 },
    Backend { name: "jit", tb_max_insns: 512, jit: true, chaining: true, stride: 10 },
    Backend { name: "jit-tb1-nochain", tb_max_insns: 1, jit: true, chaining: false, stride: 1 },
];

/// Executable memory for the JIT, mapped once per thread and reused by each machine in turn.
fn jit_region() -> Option<CodeRegion> {
    thread_local! {
        static REGION: Option<CodeRegion> = tcg86::sys::host::alloc_code_region(4 << 20).ok();
    }
    REGION.with(|r| *r)
}

/// GDT with a flat 32-bit code (0x10) and data (0x18) segment; IDT with `hlt` stubs.
fn install_tables(cpu: &mut X86Cpu) -> Result<(), String> {
    let mut gdt = [0u8; 32];
    gdt[16..24].copy_from_slice(&0x00cf_9b00_0000_ffffu64.to_le_bytes());
    gdt[24..32].copy_from_slice(&0x00cf_9300_0000_ffffu64.to_le_bytes());
    let mut idt = Vec::with_capacity(8 * VECTORS as usize);
    let mut stubs = Vec::with_capacity(4 * VECTORS as usize);
    for v in 0..VECTORS {
        let stub = STUBS + 4 * v;
        idt.extend_from_slice(&((0x10 << 16) | (stub & 0xffff)).to_le_bytes());
        idt.extend_from_slice(&((stub & 0xffff_0000) | 0x8e00).to_le_bytes());
        stubs.extend_from_slice(&[0xf4, 0x90, 0x90, 0x90]);
    }
    let load = |cpu: &mut X86Cpu, at: u32, b: &[u8]| cpu.mem.load(PhysAddr(at), b).map_err(|e| format!("{e:?}"));
    load(cpu, GDT, &gdt)?;
    load(cpu, IDT, &idt)?;
    load(cpu, STUBS, &stubs)?;
    cpu.env.gdt.base = GDT;
    cpu.env.gdt.limit = 31;
    cpu.env.idt.base = IDT;
    cpu.env.idt.limit = 8 * VECTORS - 1;
    Ok(())
}

/// A machine with the sequence, its initial state and the tables loaded.
fn machine(seq: &Sequence, backend: &Backend) -> Result<Machine, String> {
    machine_limited(seq, backend, 10_000, backend.tb_max_insns)
}

/// [`machine`] stopping after `max_insns` guest instructions, with TBs of at most `tb_max`.
fn machine_limited(seq: &Sequence, backend: &Backend, max_insns: u64, tb_max: u32) -> Result<Machine, String> {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(RAM, 8, bus));
    let mut code = seq.code.clone();
    // `jmp .+2` ends the TB first: a helper exit inside a TB leaves env.cc_op stale.
    code.extend_from_slice(&[0xeb, 0x00, 0xe6, 0xf4]);
    cpu.mem.load(PhysAddr(CODE), &code).map_err(|e| format!("{e:?}"))?;
    cpu.mem.load(PhysAddr(SCRATCH), &seq.init.mem).map_err(|e| format!("{e:?}"))?;
    cpu.env.reset_multiboot(CODE, 0);
    install_tables(&mut cpu)?;
    cpu.env.regs = seq.init.regs;
    cpu.env.set_eflags(seq.init.eflags, COMPARED);
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(max_insns), tb_max_insns: tb_max, ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
    m.cpu.chaining = backend.chaining;
    if backend.jit {
        let region = jit_region().ok_or("no executable memory for the JIT")?;
        // SAFETY: the region is mapped for the life of the thread, and only the one machine
        // that exists at a time on this thread uses it (machines run one after the other).
        if !unsafe { m.enable_jit(region) } {
            return Err("enable_jit failed".into());
        }
    }
    Ok(m)
}

/// Run `seq` under `backend` for at most `max_insns` instructions, in TBs of at most that many
/// (the exec loop runs a TB whole only when the limit leaves room for it, so the backend itself
/// runs up to the stop); the whole state it stops in as text: exit, instruction count, eip,
/// registers, EFLAGS, the lazy flags, segments, pending exception, scratch and stack memory.
pub fn stop_state(seq: &Sequence, backend: &Backend, max_insns: u64) -> Result<String, String> {
    let tb_max = max_insns.min(backend.tb_max_insns as u64) as u32;
    let mut m = machine_limited(seq, backend, max_insns, tb_max)?;
    let exit = m.cpu_exec();
    let e = &m.cpu.env;
    let segs: Vec<(u32, u32)> = e.segs.iter().map(|s| (s.selector, s.base)).collect();
    let mem: Vec<u8> = (0..REGION_SIZE).map(|i| m.cpu.mem.read_u8(PhysAddr(SCRATCH + i))).collect();
    let stack: Vec<u8> =
        (0..64).map(|i| m.cpu.mem.read_u8(PhysAddr(e.regs[4].wrapping_sub(32).wrapping_add(i)))).collect();
    Ok(format!(
        "{exit:?} after {} insns, eip {:#x}, regs {:x?}, eflags {:#x}, cc_op {} dst {:#x} src {:#x} src2 {:#x}, \
         segs {segs:x?}, exception {}\nmem {mem:x?}\nstack {stack:x?}",
        m.stats.insns,
        e.eip,
        e.regs,
        e.get_eflags(),
        e.cc_op,
        e.cc_dst,
        e.cc_src,
        e.cc_src2,
        e.exception_index
    ))
}

/// Run `seq` under `backend`.
pub fn run(seq: &Sequence, backend: &Backend) -> Result<Outcome, String> {
    let mut m = machine(seq, backend)?;
    let exit = m.cpu_exec();
    let cpu = &m.cpu;
    let eip = cpu.env.eip;
    let mem = (0..REGION_SIZE).map(|i| cpu.mem.read_u8(PhysAddr(SCRATCH + i))).collect();
    let mut regs = cpu.env.regs;
    let end = CODE + seq.code.len() as u32 + 4;
    if (STUBS..STUBS + 4 * VECTORS).contains(&eip) {
        let vector = (eip - STUBS) / 4;
        let has_code = matches!(vector, 8 | 10..=14 | 17);
        let frame = regs[4] + if has_code { 4 } else { 0 };
        let rd = |a: u32| cpu.mem.read(PhysAddr(a), 4);
        let (fault_eip, eflags) = (rd(frame), rd(frame + 8));
        regs[4] = frame + 12;
        return Ok(Outcome { regs, eflags, fault: Some((vector, fault_eip.wrapping_sub(CODE))), mem });
    }
    match exit {
        // The exit helper leaves eip at the TB start: the odd status says `out` ran.
        ExitReason::Status(s) if s & 1 == 1 => Ok(Outcome { regs, eflags: cpu.env.get_eflags(), fault: None, mem }),
        other => Err(format!("tcg86 stopped with {other:?} at eip {eip:#x} (sequence ends at {end:#x})")),
    }
}
