//! The text form of the IR, in QEMU's `-d op` layout.
//!
//! ```text
//!  ---- 00100000 00000000
//!  mov_i32 eax,$0x0
//!  brcond_i32 eax,$0xa,ne,$L0
//! ```
//! Temps print as their global name, `env`, `tmpN`/`locN` or `$0x…` for constants; labels as `$LN`;
//! calls as `call NAME,$FLAGS,$NB_OUT,outs…,ins…`. The parser in `parse.rs` reads this back.

use super::ir::{Cond, MemOp, Op, TcgContext, Temp, TempKind};
use super::opcode::Opcode;
use alloc::format;
use alloc::string::String;
use core::fmt::Write;

/// The printed name of a temp.
pub fn temp_name(ctx: &TcgContext, t: Temp) -> String {
    let Some(info) = ctx.temps.get(t.0 as usize) else { return format!("bad{}", t.0) };
    match (info.kind, info.name) {
        (TempKind::Const(v), _) => format!("$0x{:x}", v),
        (_, Some(n)) => String::from(n),
        (TempKind::Local, None) => format!("loc{}", t.0),
        _ => format!("tmp{}", t.0),
    }
}

/// One op as a line (without the leading space and newline).
pub fn op_to_string(ctx: &TcgContext, op: &Op) -> String {
    let mut s = String::new();
    if op.opc == Opcode::InsnStart {
        let _ = write!(s, "---- {:08x} {:08x}", op.konst(0), op.konst(1));
        return s;
    }
    match op.helper {
        Some(h) => {
            let _ = write!(s, "call {},$0x{:x},${}", h.name, h.flags.bits(), op.nb_oargs);
        }
        None => s.push_str(op.opc.def().name),
    }
    let mut first = op.helper.is_none();
    let mut sep = |s: &mut String| {
        s.push_str(if first { " " } else { "," });
        first = false;
    };
    for &t in op.outputs().iter().chain(op.inputs()) {
        sep(&mut s);
        s.push_str(&temp_name(ctx, Temp(t)));
    }
    for (i, &c) in op.consts().iter().enumerate() {
        sep(&mut s);
        s.push_str(&const_arg_text(op.opc, i, c));
    }
    s
}

/// How constant argument `i` of `opc` prints: a condition, a label, a MemOp or a number.
fn const_arg_text(opc: Opcode, i: usize, c: u32) -> String {
    match (opc, i) {
        (Opcode::SetCond | Opcode::MovCond, 0) | (Opcode::BrCond, 0) => cond_name(c),
        (Opcode::BrCond, 1) | (Opcode::Br | Opcode::SetLabel, 0) => format!("$L{}", c),
        (Opcode::QemuLd | Opcode::QemuSt, 0) => String::from(MemOp(c).name()),
        (Opcode::QemuLd | Opcode::QemuSt, 1) => format!("{}", c),
        _ => format!("$0x{:x}", c),
    }
}

fn cond_name(c: u32) -> String {
    String::from(Cond::from_u32(c).map(|c| c.name()).unwrap_or("badcond"))
}

/// The whole op list in QEMU's `-d op` layout (one line per op, a blank line before each guest insn).
pub fn dump_ops(ctx: &TcgContext) -> String {
    let mut s = String::new();
    for op in &ctx.ops {
        if op.opc == Opcode::InsnStart {
            s.push('\n');
        }
        s.push(' ');
        s.push_str(&op_to_string(ctx, op));
        s.push('\n');
    }
    s
}
