//! Text dumps of CPU state in QEMU's layouts (`-d cpu`, `-d int`).

use crate::cpu::state::{eflags as fl, CpuState, R_CS, R_ESP, R_SS};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;

/// `-d out_asm`: QEMU's `OUT: [size=N]` block, host code disassembled, each guest instruction's
/// code introduced by `  -- guest addr 0x… + 0`.
pub fn out_asm(bytes: &[u8], c: &crate::tcg::x64::Compiled, insns: &[(u32, u32)]) -> String {
    use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter};
    let mut s = format!("OUT: [size={}]\n", c.code.size);
    let mut dec = Decoder::with_ip(64, bytes, c.code.addr as u64, DecoderOptions::NONE);
    let mut fmt = GasFormatter::new();
    let mut text = String::new();
    while dec.can_decode() {
        let off = (dec.ip() - c.code.addr as u64) as u32;
        if let Some(i) = c.insn_offsets.iter().position(|&o| o == off) {
            let pc = insns.get(i).map(|x| x.0).unwrap_or(0);
            let _ = writeln!(s, "  -- guest addr 0x{:08x} + 0", pc);
        }
        let insn = dec.decode();
        text.clear();
        fmt.format(&insn, &mut text);
        let _ = writeln!(s, "0x{:016x}:  {}", insn.ip(), text);
    }
    s.push('\n');
    s
}

const SEG_NAMES: [&str; 6] = ["ES", "CS", "SS", "DS", "FS", "GS"];

/// QEMU's `x86_cpu_dump_state` for a 32-bit guest.
pub fn cpu_dump_state(env: &CpuState) -> String {
    let r = &env.regs;
    let ef = env.get_eflags();
    let mut s = String::new();
    let _ = writeln!(s, "EAX={:08x} EBX={:08x} ECX={:08x} EDX={:08x}", r[0], r[3], r[1], r[2]);
    let _ = writeln!(s, "ESI={:08x} EDI={:08x} EBP={:08x} ESP={:08x}", r[6], r[7], r[5], r[4]);
    let flag = |bit: u32, c: char| if ef & bit != 0 { c } else { '-' };
    let _ = writeln!(
        s,
        "EIP={:08x} EFL={:08x} [{}{}{}{}{}{}{}] CPL={} II={} A20=1 SMM=0 HLT=0",
        env.eip,
        ef,
        flag(fl::DF, 'D'),
        flag(fl::OF, 'O'),
        flag(fl::SF, 'S'),
        flag(fl::ZF, 'Z'),
        flag(fl::AF, 'A'),
        flag(fl::PF, 'P'),
        flag(fl::CF, 'C'),
        env.cpl(),
        u32::from(env.hflags & crate::cpu::state::hflags::INHIBIT_IRQ != 0),
    );
    for (i, name) in SEG_NAMES.iter().enumerate() {
        let sc = &env.segs[i];
        let _ = writeln!(s, "{:<3}={:04x} {:08x} {:08x} {:08x}", name, sc.selector, sc.base, sc.limit, sc.flags);
    }
    let _ =
        writeln!(s, "LDT={:04x} {:08x} {:08x} {:08x}", env.ldt.selector, env.ldt.base, env.ldt.limit, env.ldt.flags);
    let _ = writeln!(s, "TR ={:04x} {:08x} {:08x} {:08x}", env.tr.selector, env.tr.base, env.tr.limit, env.tr.flags);
    let _ = writeln!(s, "GDT=     {:08x} {:08x}", env.gdt.base, env.gdt.limit);
    let _ = writeln!(s, "IDT=     {:08x} {:08x}", env.idt.base, env.idt.limit);
    let c = &env.cr;
    let _ = writeln!(s, "CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x}", c[0], c[2], c[3], c[4]);
    let _ = writeln!(s, "CCS={:08x} CCD={:08x} CCO={}", env.cc_src, env.cc_dst, cc_op_name(env.cc_op));
    s
}

fn cc_op_name(op: u32) -> String {
    match crate::cpu::CcOp::from_u32(op) {
        Some(c) => String::from(c.name()).to_uppercase(),
        None => format!("{}", op),
    }
}

/// QEMU's `-d int` line: `   N: v=0d e=0000 i=0 cpl=0 IP=0010:00100005 pc=00100005 SP=0018:...`.
pub fn int_line(count: u64, vector: u8, is_int: bool, env: &CpuState) -> String {
    let cs = &env.segs[R_CS];
    let ss = &env.segs[R_SS];
    format!(
        "{:>6}: v={:02x} e={:04x} i={} cpl={} IP={:04x}:{:08x} pc={:08x} SP={:04x}:{:08x} EAX={:08x}\n",
        count,
        vector,
        env.error_code,
        u32::from(is_int),
        env.cpl(),
        cs.selector,
        env.eip,
        env.eip.wrapping_add(cs.base),
        ss.selector,
        env.regs[R_ESP],
        env.regs[0]
    )
}
