//! Differential testing of tcg86 against the host CPU ("correctness oracle").
//!
//! Random integer instruction sequences ([`gen`], [`families`]) run natively in a static i386
//! process ([`native`]) and in tcg86 under every backend ([`emu`]); registers, the compared
//! EFLAGS bits (architecturally undefined flags masked) and the scratch/stack memory must agree
//! ([`compare`]). A mismatch is reduced to its shortest failing prefix.

pub mod compare;
pub mod elf;
pub mod emu;
pub mod families;
pub mod gen;
pub mod layout;
pub mod native;
pub mod rng;

use gen::{GenFn, Sequence};
use std::time::Instant;

/// What to run: from `DIFFTEST_N`, `DIFFTEST_SEED`, `DIFFTEST_MAX_LEN`, `DIFFTEST_FAMILIES`,
/// `DIFFTEST_MAX_FAIL`, `DIFFTEST_BACKENDS` (a comma list of [`emu::BACKENDS`] names).
pub struct Config {
    pub n: u64,
    pub seed: u64,
    pub max_len: u32,
    pub families: Vec<&'static str>,
    pub max_fail: usize,
    pub backends: Vec<&'static str>,
    /// Run every sequence on every listed backend (ignore the strides).
    pub all_on_each: bool,
}

fn env_num(name: &str, default: u64) -> u64 {
    let Ok(v) = std::env::var(name) else { return default };
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("{name}={v}: not a number"))
}

impl Config {
    pub fn from_env(default_n: u64) -> Config {
        let families = match std::env::var("DIFFTEST_FAMILIES") {
            Ok(list) if list == "all" => families::FAMILIES.iter().map(|f| f.0).collect(),
            Ok(list) => families::FAMILIES.iter().map(|f| f.0).filter(|n| list.split(',').any(|x| x == *n)).collect(),
            Err(_) => families::FAMILIES.iter().map(|f| f.0).filter(|n| !families::UNSUPPORTED.contains(n)).collect(),
        };
        Config {
            n: env_num("DIFFTEST_N", default_n),
            seed: env_num("DIFFTEST_SEED", 0x7c86_d1ff),
            max_len: env_num("DIFFTEST_MAX_LEN", 24) as u32,
            families,
            max_fail: env_num("DIFFTEST_MAX_FAIL", 5) as usize,
            all_on_each: std::env::var_os("DIFFTEST_BACKENDS").is_some(),
            backends: match std::env::var("DIFFTEST_BACKENDS") {
                Ok(list) => emu::BACKENDS.iter().map(|b| b.name).filter(|n| list.split(',').any(|x| x == *n)).collect(),
                Err(_) => emu::BACKENDS.iter().map(|b| b.name).collect(),
            },
        }
    }

    fn gen_fns(&self) -> Vec<GenFn> {
        families::FAMILIES.iter().filter(|f| self.families.contains(&f.0)).map(|f| f.1).collect()
    }
}

/// The result of a run.
pub struct Summary {
    pub sequences: u64,
    pub instructions: u64,
    pub faulted: u64,
    pub mismatches: Vec<String>,
    pub text: String,
}

/// Seed of sequence `i` of a run with seed `seed`.
fn seq_seed(seed: u64, i: u64) -> u64 {
    seed.wrapping_mul(0x1000_0000_01b3) ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

const BATCH: u64 = 2000;

pub fn run(cfg: &Config) -> Summary {
    let start = Instant::now();
    let fns = cfg.gen_fns();
    let mut s = Summary { sequences: 0, instructions: 0, faulted: 0, mismatches: Vec::new(), text: String::new() };
    let mut i = 0;
    while i < cfg.n && s.mismatches.len() < cfg.max_fail {
        let count = BATCH.min(cfg.n - i);
        let seqs: Vec<Sequence> = (i..i + count)
            .map(|k| gen::generate(seq_seed(cfg.seed, k), cfg.max_len, &fns).expect("generator encodes"))
            .collect();
        run_batch(cfg, &seqs, &mut s);
        i += count;
    }
    s.text = format!(
        "difftest: {} sequences ({} instructions, {} ended in an exception) on backends {} (strided: {}), \
         {} mismatches, \
         {:.1} s; families: {}",
        s.sequences,
        s.instructions,
        s.faulted,
        cfg.backends.join(" "),
        !cfg.all_on_each,
        s.mismatches.len(),
        start.elapsed().as_secs_f64(),
        cfg.families.join(" ")
    );
    s
}

fn run_batch(cfg: &Config, seqs: &[Sequence], s: &mut Summary) {
    let natives = native::run(seqs).unwrap_or_else(|e| panic!("{e}"));
    for (seq, nat) in seqs.iter().zip(&natives) {
        let index = s.sequences;
        s.sequences += 1;
        s.instructions += seq.insns.len() as u64;
        s.faulted += nat.fault.is_some() as u64;
        let wanted =
            |b: &&emu::Backend| cfg.backends.contains(&b.name) && (cfg.all_on_each || index.is_multiple_of(b.stride));
        for b in emu::BACKENDS.iter().filter(wanted) {
            if s.mismatches.len() >= cfg.max_fail {
                return;
            }
            if let Some(r) = check(seq, nat, b) {
                s.mismatches.push(reduce(seq, b).unwrap_or(r));
            }
        }
    }
}

/// `Some(report)` if `seq` disagrees under `backend`.
fn check(seq: &Sequence, nat: &layout::Outcome, backend: &emu::Backend) -> Option<String> {
    let what = match emu::run(seq, backend) {
        Ok(e) => compare::diff(seq, nat, &e),
        Err(msg) => vec![msg],
    };
    (!what.is_empty()).then(|| compare::report(seq, backend.name, &what))
}

/// The report for the shortest failing prefix of `seq`.
fn reduce(seq: &Sequence, backend: &emu::Backend) -> Option<String> {
    let prefixes: Vec<Sequence> = (1..=seq.insns.len()).map(|n| seq.prefix(n)).collect();
    let natives = native::run(&prefixes).ok()?;
    prefixes
        .iter()
        .zip(&natives)
        .find_map(|(p, nat)| check(p, nat, backend))
        .map(|r| format!("{r}  (shortest failing prefix of a {}-instruction sequence)\n", seq.insns.len()))
}
