//! The optimizer preserves semantics: random well-formed IR (forward branches, locals, globals,
//! env loads and stores, guest memory that faults above 0x100, helpers of every flag kind) runs in
//! the interpreter before and after `optimize` from the same state; exits and `env` must agree.

use super::optimize::optimize;
use super::print::dump_ops;
use super::testing::{parse, run, FakeEnv, ENV_WORDS};
use super::verify::verify;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 33) as u32 % n
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u32) as usize]
    }
}

const GLOBALS: [&str; 8] = ["eax", "ecx", "edx", "ebx", "esi", "edi", "cc_dst", "cc_src"];
const LOCALS: [&str; 3] = ["loc17", "loc18", "loc19"];
const NB_TMPS: u32 = 10;
const FIRST_TMP: u32 = 20;
const CONDS: [&str; 12] = ["never", "always", "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu"];
const BINARY: [&str; 14] = [
    "add_i32", "sub_i32", "mul_i32", "and_i32", "or_i32", "xor_i32", "andc_i32", "shl_i32", "shr_i32", "sar_i32",
    "rotl_i32", "rotr_i32", "clz_i32", "ctz_i32",
];
const UNARY: [&str; 10] = [
    "mov_i32",
    "mov_i32",
    "neg_i32",
    "not_i32",
    "ext8s_i32",
    "ext8u_i32",
    "ext16s_i32",
    "ext16u_i32",
    "bswap16_i32",
    "bswap32_i32",
];
const MEMOPS: [&str; 5] = ["ub", "leuw", "leul", "sb", "lesw"];
/// eax, ecx and ebx's fields (globals) and two free words.
const ENV_OFFSETS: [&str; 5] = ["$0x0", "$0x4", "$0xc", "$0x80", "$0x84"];

struct Gen {
    rng: Rng,
    text: String,
    /// `Normal` temps written in the current basic block.
    written: Vec<u32>,
    /// Outputs of the op being generated: readable once it is emitted.
    pending: Vec<u32>,
    pc: u32,
}

impl Gen {
    fn input(&mut self) -> String {
        match self.rng.below(10) {
            0..=3 => String::from(self.rng.pick(&GLOBALS)),
            4 => String::from(self.rng.pick(&LOCALS)),
            5..=7 if !self.written.is_empty() => {
                format!("tmp{}", self.written[self.rng.below(self.written.len() as u32) as usize])
            }
            _ => {
                let c = [0, 1, u32::MAX, 31, 32, 0x80, 0x8000_0000, self.rng.next() as u32];
                format!("$0x{:x}", c[self.rng.below(c.len() as u32) as usize])
            }
        }
    }

    fn output(&mut self) -> String {
        match self.rng.below(10) {
            0..=3 => String::from(self.rng.pick(&GLOBALS)),
            4 => String::from(self.rng.pick(&LOCALS)),
            _ => {
                let t = FIRST_TMP + self.rng.below(NB_TMPS);
                self.pending.push(t);
                format!("tmp{}", t)
            }
        }
    }

    fn line(&mut self, s: &str) {
        self.written.append(&mut self.pending);
        self.text.push(' ');
        self.text.push_str(s);
        self.text.push('\n');
    }

    /// A guest address: an input masked to the fake memory (or, half the time, just above it).
    fn address(&mut self) -> String {
        let a = self.input();
        let t = FIRST_TMP + NB_TMPS;
        self.line(&format!("and_i32 tmp{},{},$0x1fc", t, a));
        format!("tmp{}", t)
    }

    fn op(&mut self) {
        let s = match self.rng.below(16) {
            0..=4 => format!("{} {},{},{}", self.rng.pick(&BINARY), self.output(), self.input(), self.input()),
            5..=6 => format!("{} {},{}", self.rng.pick(&UNARY), self.output(), self.input()),
            7 => format!("setcond_i32 {},{},{},{}", self.output(), self.input(), self.input(), self.rng.pick(&CONDS)),
            8 => {
                let (o, a, b, c, d) = (self.output(), self.input(), self.input(), self.input(), self.input());
                format!("movcond_i32 {},{},{},{},{},{}", o, a, b, c, d, self.rng.pick(&CONDS))
            }
            9 => self.bitfield(),
            10 => self.mul2(),
            11 => self.memory(),
            12 => self.env_access(),
            13 => self.call(),
            _ => {
                self.pc += 1 + self.rng.below(4);
                format!("---- {:08x} {:08x}", self.pc, self.rng.below(30))
            }
        };
        self.line(&s);
    }

    fn bitfield(&mut self) -> String {
        let len = 1 + self.rng.below(32);
        let pos = self.rng.below(33 - len);
        match self.rng.below(3) {
            0 => format!("deposit_i32 {},{},{},$0x{:x},$0x{:x}", self.output(), self.input(), self.input(), pos, len),
            1 => format!("extract_i32 {},{},$0x{:x},$0x{:x}", self.output(), self.input(), pos, len),
            _ => format!("sextract_i32 {},{},$0x{:x},$0x{:x}", self.output(), self.input(), pos, len),
        }
    }

    fn mul2(&mut self) -> String {
        let (a, b) = (self.input(), self.input());
        let lo = self.output();
        let mut hi = self.output();
        while hi == lo {
            hi = self.output();
        }
        let name = if self.rng.below(2) == 0 { "mulu2_i32" } else { "muls2_i32" };
        format!("{} {},{},{},{}", name, lo, hi, a, b)
    }

    fn memory(&mut self) -> String {
        let addr = self.address();
        let memop = self.rng.pick(&MEMOPS);
        if self.rng.below(2) == 0 {
            format!("qemu_ld_i32 {},{},{},0", self.output(), addr, memop)
        } else {
            format!("qemu_st_i32 {},{},{},0", self.input(), addr, memop)
        }
    }

    fn env_access(&mut self) -> String {
        let off = self.rng.pick(&ENV_OFFSETS);
        if self.rng.below(2) == 0 {
            format!("ld_i32 {},env,{}", self.output(), off)
        } else {
            format!("st_i32 {},env,{}", self.input(), off)
        }
    }

    fn call(&mut self) -> String {
        match self.rng.below(8) {
            0..=2 => format!("call test_pure,$0x8,$1,{},{},{}", self.output(), self.input(), self.input()),
            3..=5 => format!("call test_rw,$0x6,$1,{},{}", self.output(), self.input()),
            6 if self.rng.below(2) == 0 => String::from("call test_plain,$0x0,$0"),
            6 => {
                let arg = if self.rng.below(4) == 0 { "$0x1" } else { "$0x2" };
                format!("call test_check,$0x9,$1,{},{}", self.output(), arg)
            }
            // test_exit leaves when its argument is odd: keep that rare.
            _ => format!("call test_exit,$0x1,$0,{}", if self.rng.below(4) == 0 { "$0x1" } else { "$0x2" }),
        }
    }

    /// Basic blocks separated by labels; each may end with a branch forward.
    fn program(&mut self) {
        let nb_blocks = 1 + self.rng.below(5);
        self.line("---- 00100000 00000000");
        for b in 0..nb_blocks {
            for _ in 0..1 + self.rng.below(10) {
                self.op();
            }
            let target = b + self.rng.below(nb_blocks - b);
            match self.rng.below(4) {
                0 => {
                    let s =
                        format!("brcond_i32 {},{},{},$L{}", self.input(), self.input(), self.rng.pick(&CONDS), target);
                    self.line(&s);
                }
                1 => self.line(&format!("br $L{}", target)),
                2 => self.line(&format!("exit_tb $0x{:x}", b)),
                _ => {}
            }
            self.line(&format!("set_label $L{}", b));
            self.written.clear();
        }
        self.op();
        self.line("exit_tb $0x7");
    }
}

fn random_env(rng: &mut Rng) -> FakeEnv {
    let mut env: FakeEnv = [0; ENV_WORDS];
    for w in env.iter_mut() {
        *w = match rng.below(4) {
            0 => rng.below(0x200),
            1 => 0,
            _ => rng.next() as u32,
        };
    }
    env
}

/// Differences between two runs' `env` words, one line each.
fn env_diff(a: &FakeEnv, b: &FakeEnv) -> String {
    let mut d = String::new();
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate().filter(|(_, (x, y))| x != y) {
        let _ = writeln!(d, "  env word {} (offset {:#x}): {:#x} before, {:#x} after", i, i * 4, x, y);
    }
    d
}

/// Generate program `seed`, optimize it and compare three runs from random states.
fn check_seed(seed: u64) {
    let rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut g = Gen { rng, text: String::new(), written: Vec::new(), pending: Vec::new(), pc: 0x100000 };
    g.program();
    let raw = parse(&g.text);
    if let Err(e) = verify(&raw) {
        panic!("seed {}: generated IR does not verify: {}\n{}", seed, e, g.text);
    }
    let mut opt = raw.clone();
    optimize(&mut opt);
    for _ in 0..3 {
        let init = random_env(&mut g.rng);
        let (mut a, mut b) = (init, init);
        let (ea, eb) = (run(&raw, &mut a), run(&opt, &mut b));
        if ea != eb || a != b {
            let (d, r, o) = (env_diff(&a, &b), dump_ops(&raw), dump_ops(&opt));
            panic!(
                "seed {}: optimized IR differs: exit {:?} vs {:?}\n{}--- raw\n{}--- optimized\n{}",
                seed, ea, eb, d, r, o
            );
        }
    }
}

#[test]
fn optimize_preserves_semantics_on_random_ir() {
    // TCG86_OPT_SEEDS=N runs more programs (the default keeps `cargo test` quick).
    let seeds = std::env::var("TCG86_OPT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3000u64);
    for seed in 1..=seeds {
        check_seed(seed);
    }
}
