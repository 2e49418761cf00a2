//! Fuzz target `guest_code`: arbitrary bytes as 32-bit protected-mode code.
//!
//! The bytes are loaded at [`CODE`] in a 4 MiB machine and entered in the multiboot state (flat
//! ring-0 segments, paging and interrupts off). So that faults, `int n`, `iret` and privilege
//! changes run guest code instead of ending in a triple fault at once, the machine also has a GDT
//! (flat ring-0 and ring-3 code and data, a 32-bit TSS), a TSS whose ring-0 stack is
//! [`STACK0_TOP`], and an IDT whose 256 gates (DPL 3, interrupt and trap gates alternating) point
//! back into the bytes: vector `v` enters at offset `4 * v` modulo their length.

use super::{new_cpu, run, BACKENDS};
use crate::cpu::state::{desc, SegmentCache};
use crate::cpu::X86Cpu;
use crate::softmmu::PhysAddr;
use alloc::vec::Vec;

pub const RAM: usize = 4 << 20;
/// Guest physical (= linear) address of the bytes.
pub const CODE: u32 = 0x10_0000;
/// Longest input run; longer ones are ignored (libFuzzer's default `-max_len` is 4096).
pub const MAX_LEN: usize = 64 << 10;
pub const STACK_TOP: u32 = 0x20_0000;
/// ESP0 in the TSS: the stack of interrupts taken from ring 3.
pub const STACK0_TOP: u32 = 0x1f_0000;
pub const GDT: u32 = 0x800;
pub const IDT: u32 = 0x1000;
pub const TSS: u32 = 0x2000;
/// Selectors of the GDT: ring-0 code (0x08 and 0x10, as the multiboot state has CS = 0x10),
/// ring-0 data, ring-3 code and data, TSS.
pub const GDT_ENTRIES: [u64; 7] = [
    0,
    0x00cf_9b00_0000_ffff,
    0x00cf_9b00_0000_ffff,
    0x00cf_9300_0000_ffff,
    0x00cf_fb00_0000_ffff,
    0x00cf_f300_0000_ffff,
    tss_descriptor(TSS, 0x67),
];
pub const TSS_SELECTOR: u32 = 0x30;

/// A present, available 32-bit TSS descriptor (SDM Vol. 3A, 7.2.2).
const fn tss_descriptor(base: u32, limit: u32) -> u64 {
    let low = ((base & 0xffff) << 16) | (limit & 0xffff);
    let high = (base & 0xff00_0000) | (limit & 0x000f_0000) | 0x8900 | ((base >> 16) & 0xff);
    ((high as u64) << 32) | low as u64
}

/// Run `data` as guest code under every backend.
pub fn guest_code(data: &[u8]) {
    if data.len() > MAX_LEN {
        return;
    }
    for backend in BACKENDS {
        run(machine(data), backend);
    }
}

/// The machine `data` runs on, ready to enter it.
pub fn machine(data: &[u8]) -> alloc::boxed::Box<X86Cpu> {
    let mut cpu = new_cpu(RAM);
    load(&mut cpu, CODE, data);
    cpu.env.reset_multiboot(CODE, 0);
    cpu.env.regs[4] = STACK_TOP;
    install_tables(&mut cpu, data.len() as u32);
    cpu
}

fn load(cpu: &mut X86Cpu, at: u32, bytes: &[u8]) {
    // Every caller's range lies inside RAM (constants above, `MAX_LEN`).
    let fits = cpu.mem.load(PhysAddr(at), bytes).is_ok();
    debug_assert!(fits, "fuzzing: {:#x}+{:#x} outside RAM", at, bytes.len());
}

/// GDT, TSS and IDT as described in the module documentation.
fn install_tables(cpu: &mut X86Cpu, len: u32) {
    let gdt: Vec<u8> = GDT_ENTRIES.iter().flat_map(|d| d.to_le_bytes()).collect();
    load(cpu, GDT, &gdt);
    cpu.env.gdt.base = GDT;
    cpu.env.gdt.limit = gdt.len() as u32 - 1;
    let mut tss = [0u8; 0x68];
    tss[4..8].copy_from_slice(&STACK0_TOP.to_le_bytes());
    tss[8..12].copy_from_slice(&0x18u32.to_le_bytes());
    load(cpu, TSS, &tss);
    cpu.env.tr =
        SegmentCache { selector: TSS_SELECTOR, base: TSS, limit: 0x67, flags: desc::P | (9 << desc::TYPE_SHIFT) };
    let idt: Vec<u8> = (0..256).flat_map(|v| gate(v, len).to_le_bytes()).collect();
    load(cpu, IDT, &idt);
    cpu.env.idt.base = IDT;
    cpu.env.idt.limit = idt.len() as u32 - 1;
}

/// The IDT gate of vector `v` (SDM Vol. 3A, 6.11): selector 0x10, DPL 3, even vectors interrupt
/// gates, odd ones trap gates, entering the code at `4 * v` modulo its length.
fn gate(v: u32, len: u32) -> u64 {
    let handler = CODE + (4 * v) % len.max(1);
    let kind = if v & 1 == 0 { 0xee00 } else { 0xef00 };
    let low = (0x10 << 16) | (handler & 0xffff);
    let high = (handler & 0xffff_0000) | kind;
    ((high as u64) << 32) | low as u64
}
