//! Comparing a native outcome with a tcg86 outcome, and printing a mismatch.

use super::gen::{Sequence, COMPARED};
use super::layout::{Outcome, SCRATCH, STACK_LO};
use iced_x86::{Formatter, GasFormatter};
use std::fmt::Write;

const REG_NAMES: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];

/// Flags compared after the outcome `o` of `seq`: the undefined ones of the instructions that
/// ran are masked.
fn flag_mask(seq: &Sequence, o: &Outcome) -> u32 {
    let ran = match o.fault {
        Some((_, off)) => seq.index_of(off).unwrap_or(seq.insns.len()),
        None => seq.insns.len(),
    };
    if strict() {
        return COMPARED;
    }
    COMPARED & !seq.undef_at(ran)
}

/// `DIFFTEST_STRICT=1`: compare architecturally undefined flags too (shows where tcg86 and this
/// host CPU choose differently; not a correctness failure).
fn strict() -> bool {
    std::env::var_os("DIFFTEST_STRICT").is_some_and(|v| v == "1")
}

/// The differences between the two outcomes, one per line; empty if they agree.
pub fn diff(seq: &Sequence, native: &Outcome, emu: &Outcome) -> Vec<String> {
    let mut d = Vec::new();
    if native.fault != emu.fault {
        d.push(format!("fault: host {} tcg86 {}", fault_text(seq, native.fault), fault_text(seq, emu.fault)));
        return d;
    }
    for (i, name) in REG_NAMES.iter().enumerate() {
        if native.regs[i] != emu.regs[i] {
            d.push(format!("{name}: host {:08x} tcg86 {:08x}", native.regs[i], emu.regs[i]));
        }
    }
    let mask = flag_mask(seq, native);
    if (native.eflags ^ emu.eflags) & mask != 0 {
        d.push(format!(
            "eflags (compared {mask:03x}): host {} tcg86 {}",
            flags_text(native.eflags & mask),
            flags_text(emu.eflags & mask)
        ));
    }
    // After a fault tcg86 has pushed an exception frame below ESP; the host handler ran elsewhere.
    let live_from = if native.fault.is_some() { native.regs[4] } else { STACK_LO };
    for (i, (a, b)) in native.mem.iter().zip(&emu.mem).enumerate() {
        let addr = SCRATCH + i as u32;
        if a != b && !(addr >= STACK_LO && addr < live_from) {
            d.push(format!("mem[{addr:#x}]: host {a:02x} tcg86 {b:02x}"));
        }
    }
    d
}

fn fault_text(seq: &Sequence, f: Option<(u32, u32)>) -> String {
    match f {
        None => "none".into(),
        Some((v, off)) => format!("vector {v} at insn {:?} (offset {off:#x})", seq.index_of(off)),
    }
}

pub fn flags_text(f: u32) -> String {
    let names = [(0x800, "OF"), (0x400, "DF"), (0x80, "SF"), (0x40, "ZF"), (0x10, "AF"), (4, "PF"), (1, "CF")];
    let set: Vec<&str> = names.iter().filter(|(b, _)| f & b != 0).map(|(_, n)| *n).collect();
    format!("{f:03x} [{}]", set.join(" "))
}

/// The sequence in GAS syntax with its bytes and the flags left undefined after each line.
pub fn disassemble(seq: &Sequence) -> String {
    let mut fmt = GasFormatter::new();
    let mut out = String::new();
    for (i, insn) in seq.insns.iter().enumerate() {
        let start = seq.offsets[i] as usize;
        let end = seq.offsets.get(i + 1).map_or(seq.code.len(), |&o| o as usize);
        let bytes: String = seq.code[start..end].iter().map(|b| format!("{b:02x}")).collect();
        let mut text = String::new();
        fmt.format(insn, &mut text);
        let _ = writeln!(out, "  {i:3} {start:04x}: {bytes:<24} {text:<36} undef after: {:03x}", seq.undef_after[i]);
    }
    out
}

/// The initial state of a sequence.
pub fn state_text(seq: &Sequence) -> String {
    let mut out = String::new();
    for (i, name) in REG_NAMES.iter().enumerate() {
        let _ = write!(out, "{name}={:08x} ", seq.init.regs[i]);
    }
    let _ = writeln!(out, "eflags={}", flags_text(seq.init.eflags));
    let bytes: String = seq.init.mem.iter().map(|b| format!("{b:02x}")).collect();
    let _ = writeln!(out, "  memory at {SCRATCH:#x}: {bytes}");
    out
}

/// A full mismatch report.
pub fn report(seq: &Sequence, backend: &str, what: &[String]) -> String {
    let mut out = format!("MISMATCH (seed {:#018x}, backend {backend}, {} instructions):\n", seq.seed, seq.insns.len());
    out += &disassemble(seq);
    out += "  initial: ";
    out += &state_text(seq);
    for line in what {
        let _ = writeln!(out, "  {line}");
    }
    out
}
