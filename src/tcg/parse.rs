//! Reads the text form of the IR (what `print.rs` writes, QEMU's `-d op` layout) back into a
//! [`TcgContext`].
//!
//! The parser is guest-independent: the guest globals and the helpers a `call` may name are passed
//! in. Temps keep their printed identity: `tmpN`/`locN` become temp N (N must lie above the
//! globals), so printing the parsed context gives back the same text. Indices the text does not
//! name become unused `Normal` temps; constants (`$0x…`) are shared constant temps created after
//! them. Blank lines and lines starting with `#` are skipped. Errors are values with a line number.

use super::ir::{Cond, GlobalDef, HelperInfo, MemOp, Op, TcgContext, TempKind, MAX_OP_ARGS};
use super::opcode::Opcode;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A parse failure at a 1-based line of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

type PResult<T> = Result<T, String>;

/// One non-blank line: its number, op name and comma-separated arguments.
struct Line<'a> {
    no: usize,
    name: &'a str,
    args: Vec<&'a str>,
}

/// Parse IR text into a context whose temps `0..=globals.len()` are `env` and `globals`.
pub fn parse_ops(text: &str, globals: &[GlobalDef], helpers: &[&'static HelperInfo]) -> Result<TcgContext, ParseError> {
    let lines = split_lines(text);
    let mut ctx = TcgContext::new(globals);
    declare_temps(&mut ctx, &lines)?;
    let mut p = Parser { ctx, helpers };
    for l in &lines {
        let op = p.parse_line(l).map_err(|msg| ParseError { line: l.no, msg })?;
        p.ctx.emit(op);
    }
    let max_label = p.ctx.ops.iter().filter_map(label_of).max();
    p.ctx.nb_labels = max_label.map_or(0, |l| l + 1);
    Ok(p.ctx)
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let s = raw.trim();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        let (name, rest) = s.split_once(' ').unwrap_or((s, ""));
        let rest = rest.trim();
        let args = if rest.is_empty() { Vec::new() } else { rest.split(',').map(str::trim).collect() };
        out.push(Line { no: i + 1, name, args });
    }
    out
}

/// The label an op defines or references, if any.
fn label_of(op: &Op) -> Option<u32> {
    match op.opc {
        Opcode::SetLabel | Opcode::Br => Some(op.konst(0)),
        Opcode::BrCond => Some(op.konst(1)),
        _ => None,
    }
}

/// `tmpN` / `locN` → (N, kind).
fn numbered_temp(tok: &str) -> Option<(u32, TempKind)> {
    let (kind, num) = if let Some(n) = tok.strip_prefix("tmp") {
        (TempKind::Normal, n)
    } else {
        (TempKind::Local, tok.strip_prefix("loc")?)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((num.parse().ok()?, kind))
}

/// Create temps for every `tmpN`/`locN` the text names, at index N.
fn declare_temps(ctx: &mut TcgContext, lines: &[Line]) -> Result<(), ParseError> {
    let mut kinds: Vec<Option<TempKind>> = Vec::new();
    for l in lines {
        for (n, kind) in l.args.iter().filter_map(|a| numbered_temp(a)) {
            let err = |msg: String| ParseError { line: l.no, msg };
            if n < ctx.nb_globals {
                return Err(err(format!("temp {} collides with a global (there are {})", n, ctx.nb_globals)));
            }
            if n > 0xffff {
                return Err(err(format!("temp number {} too large", n)));
            }
            let i = (n - ctx.nb_globals) as usize;
            if kinds.len() <= i {
                kinds.resize(i + 1, None);
            }
            match kinds[i] {
                Some(k) if k != kind => return Err(err(format!("temp {} used both as tmp and loc", n))),
                _ => kinds[i] = Some(kind),
            }
        }
    }
    for k in kinds {
        ctx.new_temp(k.unwrap_or(TempKind::Normal));
    }
    Ok(())
}

struct Parser<'h> {
    ctx: TcgContext,
    helpers: &'h [&'static HelperInfo],
}

impl Parser<'_> {
    fn parse_line(&mut self, l: &Line) -> PResult<Op> {
        match l.name {
            "----" => self.parse_insn_start(l),
            "call" => self.parse_call(l),
            name => {
                let opc = Opcode::from_name(name).ok_or_else(|| format!("unknown op `{}`", name))?;
                self.parse_op(opc, &l.args)
            }
        }
    }

    /// ` ---- PC CC_OP` (two hex numbers without a prefix; the printer separates them by a space).
    fn parse_insn_start(&mut self, l: &Line) -> PResult<Op> {
        let words: Vec<&str> = l.args.iter().flat_map(|a| a.split_whitespace()).collect();
        let [pc, cc] = words[..] else { return Err(String::from("insn_start wants `---- PC CC_OP`")) };
        let hex = |s: &str| u32::from_str_radix(s, 16).map_err(|_| format!("bad hex number `{}`", s));
        Ok(Op::new(Opcode::InsnStart, &[hex(pc)?, hex(cc)?]))
    }

    fn parse_op(&mut self, opc: Opcode, args: &[&str]) -> PResult<Op> {
        let d = opc.def();
        let nb_temps = (d.nb_oargs + d.nb_iargs) as usize;
        let want = nb_temps + d.nb_cargs as usize;
        if args.len() != want {
            return Err(format!("{} wants {} arguments, got {}", d.name, want, args.len()));
        }
        let mut vals = [0u32; MAX_OP_ARGS];
        for (i, a) in args.iter().enumerate() {
            vals[i] = if i < nb_temps { self.temp(a)? } else { const_arg(opc, i - nb_temps, a)? };
        }
        Ok(Op::new(opc, &vals[..want]))
    }

    /// `call NAME,$0xFLAGS,$NB_OUT,outs…,ins…`
    fn parse_call(&mut self, l: &Line) -> PResult<Op> {
        let [name, flags, nout, rest @ ..] = &l.args[..] else {
            return Err(String::from("call wants `call NAME,$FLAGS,$NB_OUT,args…`"));
        };
        let h = *self.helpers.iter().find(|h| h.name == *name).ok_or_else(|| format!("unknown helper `{}`", name))?;
        if number(flags)? != h.flags.bits() as u32 {
            return Err(format!("helper {} has flags {:#x}, text says {}", h.name, h.flags.bits(), flags));
        }
        let nout = number(nout)? as usize;
        if nout > rest.len() || rest.len() > MAX_OP_ARGS {
            return Err(format!("call {}: bad argument count", h.name));
        }
        let mut temps = Vec::with_capacity(rest.len());
        for a in rest.iter() {
            temps.push(super::ir::Temp(self.temp(a)?));
        }
        Ok(Op::call(h, &temps[..nout], &temps[nout..]))
    }

    /// A temp argument: `env`, a global's name, `tmpN`, `locN` or a constant `$0x…`.
    fn temp(&mut self, tok: &str) -> PResult<u32> {
        if tok.starts_with('$') {
            return Ok(self.ctx.const_i32(number(tok)?).0);
        }
        if let Some((n, _)) = numbered_temp(tok) {
            return Ok(n);
        }
        let named = self.ctx.temps[..self.ctx.nb_globals as usize].iter().position(|t| t.name == Some(tok));
        named.map(|i| i as u32).ok_or_else(|| format!("unknown temp `{}`", tok))
    }
}

/// Constant argument `i` of `opc`, in the form `print.rs` gives it.
fn const_arg(opc: Opcode, i: usize, tok: &str) -> PResult<u32> {
    match (opc, i) {
        (Opcode::SetCond | Opcode::MovCond | Opcode::BrCond, 0) => {
            Cond::from_name(tok).map(|c| c as u32).ok_or_else(|| format!("unknown condition `{}`", tok))
        }
        (Opcode::BrCond, 1) | (Opcode::Br | Opcode::SetLabel, 0) => {
            let n = tok.strip_prefix("$L").ok_or_else(|| format!("expected a label `$LN`, got `{}`", tok))?;
            n.parse().map_err(|_| format!("bad label `{}`", tok))
        }
        (Opcode::QemuLd | Opcode::QemuSt, 0) => {
            MemOp::from_name(tok).map(|m| m.0).ok_or_else(|| format!("unknown memop `{}`", tok))
        }
        _ => number(tok),
    }
}

/// `$0x1f`, `0x1f`, `$12` or `12`.
fn number(tok: &str) -> PResult<u32> {
    let s = tok.strip_prefix('$').unwrap_or(tok);
    let r = match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("bad number `{}`", tok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::print::dump_ops;
    use crate::tcg::testing::{parse, HELPERS, TEST_GLOBALS};

    fn round_trip(text: &str) {
        let ctx = parse(text);
        assert_eq!(dump_ops(&ctx), text);
    }

    #[test]
    fn round_trips_every_argument_form() {
        round_trip(concat!(
            "\n ---- 00100000 00000003\n",
            " mov_i32 eax,$0x0\n",
            " ld_i32 tmp17,env,$0x20\n",
            " brcond_i32 eax,$0xa,ne,$L0\n",
            " set_label $L0\n",
            " qemu_ld_i32 tmp18,tmp17,leul,0\n",
            " qemu_st_i32 tmp18,ebx,sb,1\n",
            " deposit_i32 loc19,loc19,tmp18,$0x8,$0x8\n",
            " mulu2_i32 tmp20,tmp21,eax,$0xffffffff\n",
            " movcond_i32 ecx,eax,ebx,tmp20,tmp21,geu\n",
            " call test_pure,$0x8,$1,tmp22,eax,ebx\n",
            " call test_exit,$0x1,$0,$0x6\n",
            " goto_tb $0x1\n",
            " exit_tb $0x2\n",
        ));
    }

    #[test]
    fn round_trips_every_opcode() {
        use crate::tcg::opcode::ALL_OPS;
        let mut text = alloc::string::String::new();
        for &opc in ALL_OPS.iter().filter(|&&o| o != Opcode::Call) {
            let d = opc.def();
            let mut ctx = TcgContext::new(&TEST_GLOBALS);
            let mut args = alloc::vec::Vec::new();
            for _ in 0..d.nb_oargs {
                args.push(ctx.new_tmp().0);
            }
            for i in 0..d.nb_iargs {
                args.push(if i == 0 { 0 } else { ctx.const_i32(0x10 + u32::from(i)).0 });
            }
            for i in 0..d.nb_cargs as usize {
                args.push(match (opc, i) {
                    (Opcode::Deposit | Opcode::Extract | Opcode::Sextract, 1) => 8,
                    (Opcode::QemuLd | Opcode::QemuSt, 0) => MemOp::SW.0,
                    _ => 3,
                });
            }
            ctx.emit(Op::new(opc, &args));
            text.push_str(&crate::tcg::print::op_to_string(&ctx, &ctx.ops[0]));
            text.push('\n');
        }
        let printed = dump_ops(&parse(&text));
        let lines: alloc::vec::Vec<&str> = printed.lines().filter(|l| !l.is_empty()).map(str::trim).collect();
        assert_eq!(lines, text.lines().collect::<alloc::vec::Vec<_>>());
    }

    #[test]
    fn numbers_temps_by_their_printed_index() {
        let ctx = parse(" mov_i32 tmp20,$0x5\n mov_i32 loc18,tmp20\n exit_tb $0x0\n");
        assert_eq!(ctx.temps[20].kind, TempKind::Normal);
        assert_eq!(ctx.temps[18].kind, TempKind::Local);
        assert_eq!(ctx.temps[19].kind, TempKind::Normal);
        assert_eq!(ctx.const_value(crate::tcg::Temp(ctx.ops[0].args[1])), Some(5));
    }

    #[test]
    fn errors_carry_the_line_number() {
        let e = |text: &str| parse_ops(text, &TEST_GLOBALS, HELPERS).unwrap_err();
        assert_eq!(e(" mov_i32 eax,$0x0\n\n frob_i32 eax\n").line, 3);
        assert!(e(" add_i32 eax,ebx\n").msg.contains("wants 3 arguments"));
        assert!(e(" mov_i32 tmp3,eax\n").msg.contains("collides with a global"));
        assert!(e(" mov_i32 xyz,eax\n").msg.contains("unknown temp"));
        assert!(e(" brcond_i32 eax,ebx,sometimes,$L0\n").msg.contains("unknown condition"));
        assert!(e(" qemu_ld_i32 eax,ebx,lequ,0\n").msg.contains("unknown memop"));
        assert!(e(" call nope,$0x0,$0\n").msg.contains("unknown helper"));
        assert!(e(" call test_exit,$0x2,$0,eax\n").msg.contains("has flags"));
        assert!(e(" mov_i32 tmp20,eax\n mov_i32 loc20,eax\n").msg.contains("both as tmp and loc"));
        assert!(e(" ---- 100\n").msg.contains("insn_start"));
    }
}
