//! Golden IR tests: every `tests/ir/*.ir` file holds an input and the expected IR, as text.
//!
//! File layout (sections start with a line `NAME:` at column 0; `#` lines before them are notes):
//! ```text
//! # what the test shows
//! guest: b8 00 00 00 00 40        (guest bytes, translated at 0x100000 in 32-bit flat protected mode)
//! cc_op: 0x16                      (optional: the TB's entry cc_op, part of its key; default 0 = dynamic)
//! OP:                              (the frontend's IR, for guest inputs)
//!  ...
//! OP_OPT:                          (after tcg::optimize)
//!  ...
//! ```
//! or an `IR:` section with raw IR text instead of the `guest:` line (parsed with the fixed global
//! and helper tables below, so these files do not move when the frontend changes). A mismatch prints
//! a unified-style diff; `TCG86_BLESS=1 cargo test --test ir_golden` rewrites the expectations.
//! Every IR also goes through print → parse → print and the verifier, and guest TBs run once
//! before and after optimization from the same state, which must end identical.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tcg86::cpu::X86Cpu;
use tcg86::frontend::{self, TranslateOptions};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;
use tcg86::tcg::interp::{self, InterpCode};
use tcg86::tcg::ir::{GlobalDef, HelperFlags, HelperInfo, HelperRet};
use tcg86::tcg::parse::parse_ops;
use tcg86::tcg::print::dump_ops;
use tcg86::tcg::verify::verify;
use tcg86::tcg::{optimize, TbExit, TcgContext};

const CODE_BASE: u32 = 0x100000;
const RAM: usize = 4 << 20;

/// The globals raw-IR files are written against (the i386 guest's, frozen here).
const IR_GLOBALS: [GlobalDef; 16] = [
    GlobalDef { name: "eax", offset: 0 },
    GlobalDef { name: "ecx", offset: 4 },
    GlobalDef { name: "edx", offset: 8 },
    GlobalDef { name: "ebx", offset: 12 },
    GlobalDef { name: "esp", offset: 16 },
    GlobalDef { name: "ebp", offset: 20 },
    GlobalDef { name: "esi", offset: 24 },
    GlobalDef { name: "edi", offset: 28 },
    GlobalDef { name: "cc_dst", offset: 40 },
    GlobalDef { name: "cc_src", offset: 44 },
    GlobalDef { name: "cc_src2", offset: 48 },
    GlobalDef { name: "cc_op", offset: 52 },
    GlobalDef { name: "es_base", offset: 56 },
    GlobalDef { name: "cs_base", offset: 60 },
    GlobalDef { name: "ss_base", offset: 64 },
    GlobalDef { name: "ds_base", offset: 68 },
];

unsafe extern "C" fn helper_never_called(_: *mut u8, _: u32, _: u32, _: u32, _: u32) -> HelperRet {
    0
}

macro_rules! ir_helper {
    ($info:ident, $name:literal, $nargs:literal, $out:literal, $flags:expr) => {
        static $info: HelperInfo =
            HelperInfo { name: $name, func: helper_never_called, nb_iargs: $nargs, has_out: $out, flags: $flags };
    };
}

ir_helper!(RAISE_EXCEPTION, "raise_exception", 1, false, HelperFlags::CAN_EXIT);
ir_helper!(CC_COMPUTE_ALL, "cc_compute_all", 4, true, HelperFlags::NO_SIDE_EFFECTS);
ir_helper!(OUT, "out", 3, false, HelperFlags::CAN_EXIT);
ir_helper!(READ_GLOBALS, "read_globals", 0, true, HelperFlags::READS_GLOBALS);
ir_helper!(WRITE_GLOBALS, "write_globals", 0, false, HelperFlags::WRITES_GLOBALS);

static IR_HELPERS: &[&HelperInfo] = &[&RAISE_EXCEPTION, &CC_COMPUTE_ALL, &OUT, &READ_GLOBALS, &WRITE_GLOBALS];

/// The input of a golden file.
enum Input {
    /// Guest bytes and the entry `cc_op` the TB is specialised on.
    Guest(Vec<u8>, u32),
    Ir(String),
}

/// A golden file split into its header (kept verbatim), input and expected sections.
struct Golden {
    header: String,
    input: Input,
    op: Option<String>,
    op_opt: Option<String>,
}

fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![(String::new(), String::new())];
    for line in text.lines() {
        if let Some(name) =
            line.strip_suffix(':').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        {
            out.push((name.to_string(), String::new()));
            continue;
        }
        let body = &mut out.last_mut().unwrap().1;
        body.push_str(line);
        body.push('\n');
    }
    out
}

fn parse_golden(path: &Path) -> Golden {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
    let mut g = Golden { header: String::new(), input: Input::Ir(String::new()), op: None, op_opt: None };
    let mut have_input = false;
    for (name, body) in sections(&text) {
        match name.as_str() {
            "" => {
                g.header = body.trim_end().to_string();
                if let Some(hex) = body.lines().find_map(|l| l.strip_prefix("guest:")) {
                    let cc_op = body.lines().find_map(|l| l.strip_prefix("cc_op:")).map_or(0, |v| {
                        let v = v.trim().trim_start_matches("0x");
                        u32::from_str_radix(v, 16).unwrap_or_else(|_| panic!("{}: bad cc_op {}", path.display(), v))
                    });
                    g.input = Input::Guest(parse_hex(hex, path), cc_op);
                    have_input = true;
                }
            }
            "IR" => {
                g.header = format!("{}\nIR:\n{}", g.header, body.trim_matches('\n'));
                g.input = Input::Ir(body);
                have_input = true;
            }
            "OP" => g.op = Some(body),
            "OP_OPT" => g.op_opt = Some(body),
            other => panic!("{}: unknown section {}:", path.display(), other),
        }
    }
    assert!(have_input, "{}: needs a `guest:` line or an `IR:` section", path.display());
    g
}

fn parse_hex(s: &str, path: &Path) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{}: bad hex byte {}", path.display(), b)))
        .collect()
}

/// A CPU in 32-bit flat protected mode with `code` at `CODE_BASE` and recognisable registers.
fn guest_cpu(code: &[u8], cc_op: u32) -> Box<X86Cpu> {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(RAM, 8, bus));
    cpu.mem.load(PhysAddr(CODE_BASE), code).unwrap();
    cpu.env.reset_multiboot(CODE_BASE, 0x9000);
    for (i, r) in cpu.env.regs.iter_mut().enumerate() {
        *r = 0x1000 * (i as u32 + 1) + 0x10;
    }
    cpu.env.regs[4] = 0x200000;
    cpu.env.cc_op = cc_op;
    cpu
}

fn translate(code: &[u8], cc_op: u32) -> TcgContext {
    let mut cpu = guest_cpu(code, cc_op);
    let flags = cpu.env.tb_flags();
    let opts = TranslateOptions { max_insns: 512, want_in_asm: false };
    frontend::translate(&mut cpu, CODE_BASE, flags, opts).ir
}

/// Print → parse → print must be the identity; the helpers are those the IR itself calls.
fn check_round_trip(ctx: &TcgContext, globals: &[GlobalDef], what: &str) -> Result<(), String> {
    let text = dump_ops(ctx);
    let mut helpers: Vec<&'static HelperInfo> = ctx.ops.iter().filter_map(|op| op.helper).collect();
    helpers.extend_from_slice(IR_HELPERS);
    let parsed =
        parse_ops(&text, globals, &helpers).map_err(|e| format!("{}: reparse failed: {}\n{}", what, e, text))?;
    let again = dump_ops(&parsed);
    if again != text {
        return Err(format!("{}: print/parse/print differs:\n{}", what, diff(&text, &again)));
    }
    verify(ctx).map_err(|e| format!("{}: verifier: {}\n{}", what, e, text))
}

/// Run `ctx` once from a fresh guest state; describe everything the TB can change.
fn run_once(code: &[u8], cc_op: u32, ctx: &TcgContext) -> String {
    let mut cpu = guest_cpu(code, cc_op);
    let rt = tcg86::exec::cpu_exec::runtime();
    let interp_code = InterpCode::new(ctx);
    // SAFETY: `env` is the live CPU's, nothing else touches it while the TB runs; `rt` is its runtime.
    let exit: TbExit = unsafe { interp::exec(&interp_code, cpu.env_ptr(), &rt) };
    let ram = cpu.mem.slice(PhysAddr(0), RAM).unwrap();
    let sum = ram.iter().enumerate().fold(0u64, |h, (i, &b)| h.wrapping_mul(31).wrapping_add((b as u64) ^ i as u64));
    format!("{:?}\n{:?}\nexit_status {:?}\nram {:#x}", exit, cpu.env, cpu.exit_status, sum)
}

/// Line diff (longest common subsequence), unified style: ` ` common, `-` expected, `+` got.
fn diff(expected: &str, got: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::from("--- expected\n+++ got\n"));
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, " {}", a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let _ = writeln!(out, "-{}", a[i]);
            i += 1;
        } else {
            let _ = writeln!(out, "+{}", b[j]);
            j += 1;
        }
    }
    out
}

fn compare(path: &Path, section: &str, expected: Option<&String>, got: &str, errors: &mut Vec<String>) {
    let norm = |s: &str| s.trim_matches('\n').to_string();
    let exp = expected.map(|e| norm(e)).unwrap_or_default();
    if expected.is_none() || exp != norm(got) {
        errors.push(format!("{} {}:\n{}", path.display(), section, diff(&exp, &norm(got))));
    }
}

/// Check one golden file (or rewrite its expectations when blessing). Returns failures.
fn check_file(path: &Path, bless: bool) -> Vec<String> {
    let g = parse_golden(path);
    let mut errors = Vec::new();
    let (raw, globals): (TcgContext, &[GlobalDef]) = match &g.input {
        Input::Guest(code, cc_op) => (translate(code, *cc_op), &frontend::GLOBALS),
        Input::Ir(text) => match parse_ops(text, &IR_GLOBALS, IR_HELPERS) {
            Ok(ctx) => (ctx, &IR_GLOBALS),
            Err(e) => return vec![format!("{}: IR: {}", path.display(), e)],
        },
    };
    let mut opt = raw.clone();
    optimize(&mut opt);
    for (ctx, what) in [(&raw, "OP"), (&opt, "OP_OPT")] {
        if let Err(e) = check_round_trip(ctx, globals, &format!("{} {}", path.display(), what)) {
            errors.push(e);
        }
    }
    if let Input::Guest(code, cc_op) = &g.input {
        let (before, after) = (run_once(code, *cc_op, &raw), run_once(code, *cc_op, &opt));
        if before != after {
            errors.push(format!("{}: optimized TB ends differently:\n{}", path.display(), diff(&before, &after)));
        }
    }
    let (raw_text, opt_text) = (dump_ops(&raw), dump_ops(&opt));
    if bless {
        write_golden(path, &g, &raw_text, &opt_text);
        return errors;
    }
    if let Input::Guest(..) = g.input {
        compare(path, "OP", g.op.as_ref(), &raw_text, &mut errors);
    }
    compare(path, "OP_OPT", g.op_opt.as_ref(), &opt_text, &mut errors);
    errors
}

fn write_golden(path: &Path, g: &Golden, raw: &str, opt: &str) {
    let mut s = format!("{}\n", g.header);
    if let Input::Guest(..) = g.input {
        let _ = write!(s, "\nOP:\n{}\n", raw.trim_matches('\n'));
    }
    let _ = write!(s, "\nOP_OPT:\n{}\n", opt.trim_matches('\n'));
    std::fs::write(path, s).unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
}

fn golden_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ir");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {}", dir.display(), e))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    files.sort();
    files
}

#[test]
fn ir_golden_files() {
    let bless = std::env::var_os("TCG86_BLESS").is_some_and(|v| v == "1");
    let files = golden_files();
    assert!(!files.is_empty(), "no tests/ir/*.ir files");
    let errors: Vec<String> = files.iter().flat_map(|p| check_file(p, bless)).collect();
    assert!(
        errors.is_empty(),
        "{} golden mismatch(es) (TCG86_BLESS=1 rewrites the expectations):\n\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn diff_marks_changed_lines() {
    let d = diff(" a\n b\n c\n", " a\n x\n c\n");
    assert_eq!(d, "--- expected\n+++ got\n  a\n- b\n+ x\n  c\n");
}
