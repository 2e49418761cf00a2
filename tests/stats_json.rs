//! `--stats-json`: the counters of a run of [`boot_images::LOOP_AND_CALLS`] through the command
//! line, against the values worked out by hand from the kernel below, under the JIT with and
//! without chaining and under the interpreter; and the errors for a file that cannot be written.
//!
//! The kernel's code (TB starts A..G by address, see `boot_images`) and what runs:
//! - A `mov esp; mov ecx; inc; cmp; jne` (5) once: ecx = 1, jne taken to B (mid-A, a new TB).
//! - B `inc; cmp; jne` (3) three times (ecx = 2, 3, 4): 9 instructions.
//! - C `mov ebx; call f` (2) once (ebx = 3); D `ret` (1) three times; E `dec; jne` (2) three
//!   times; F `call f` (1) twice.
//! - G `mov al; out; ret` (3 translated: `out` does not end a TB) of which 2 run: `out` exits.
//!
//! Executed: 5 + 9 + 2 + 3 + 6 + 2 + 2 = 29.
//!
//! A TB's key includes the lazy-flags `cc_op` it is entered with (`CpuState::tb_flags`): B, C, D
//! and E are first entered after `cmp` (SUBL), F and G after `dec` (DECL), and D and E again
//! after `dec`, as D' and E'. Translated: A, B, C, D, E, F, D', E', G = 9 TBs with
//! 5+3+2+1+2+1+1+2+3 = 20 instructions. Each is looked up from the loop and missed once: 9
//! jump-cache and 9 hash misses, no hash hit, no invalidation, flush or exception.
//!
//! With chaining, B's `jne` back to itself (same TB key) loops inside B's code without leaving
//! it, and the loop links each other `goto_tb` exit the first time it is taken: A→B, B→C, C→D,
//! E→F, F→D', E'→F, E'→G = 7 links; and each `ret`'s indirect-jump link, unset the first time,
//! leaves to the loop, which links it to the TB it runs next: D→E, D'→E' = 9 links. The loop
//! enters A, B (its runs 2 and 3 are in-TB), C, D, E (D's `ret` is not linked yet: back to the
//! loop), F, D', E' (likewise), F (a jump-cache hit; it chains to D', whose `ret` now goes
//! straight to E' through its link, and E' exits to G), G: 10 entries, 1 jump-cache hit (F). Without chaining (and in the interpreter, which
//! never chains) every TB run comes from the loop: A, B×3, C, D, E, F, D', E', F, D', E', G = 14,
//! 5 jump-cache hits (B twice, F, D', E') and no links.
//!
//! TLB (paging off, TLB empty at start): the translator looks up each instruction's code page
//! once, so 20 code lookups, one miss (page 0x100000) and 19 hits; three calls push and three
//! rets pop on page 0x8f000: one miss, five hits (inline hits of the JIT included). 24 hits, 2
//! misses, 2 fills, whatever the backend.

mod boot_images;

use boot_images::{aout, LOOP_AND_CALLS};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stats_json");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn tcg86(name: &str, extra: &[&str]) -> Output {
    let k = scratch(&format!("{name}.bin"));
    std::fs::write(&k, aout(LOOP_AND_CALLS, 0)).expect("write kernel");
    let args = ["-kernel", k.to_str().unwrap(), "--max-insns", "1000"];
    Command::new(env!("CARGO_BIN_EXE_tcg86")).args(args).args(extra).output().expect("run tcg86")
}

/// The flat object `--stats-json` writes: key → value text.
fn parse(json: &str) -> HashMap<String, String> {
    let body = json.trim().strip_prefix('{').and_then(|b| b.strip_suffix('}')).expect("an object");
    let pair = |kv: &str| {
        let (k, v) = kv.split_once(':').expect("key: value");
        (k.trim().trim_matches('"').to_string(), v.trim().to_string())
    };
    body.split(',').map(pair).collect()
}

/// Run with `--stats-json FILE` and the given flags; the parsed statistics.
fn stats(name: &str, extra: &[&str]) -> HashMap<String, String> {
    let path = scratch(&format!("{name}.json"));
    let mut args = vec!["--stats-json", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = tcg86(name, &args);
    assert_eq!(o.status.code(), Some(1), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    parse(&std::fs::read_to_string(&path).expect("read stats"))
}

fn num(s: &HashMap<String, String>, key: &str) -> u64 {
    s.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key}: {:?}", s.get(key)))
}

/// The counters every backend agrees on.
fn check_common(name: &str, s: &HashMap<String, String>) {
    let expect = [
        ("guest_insns", 29),
        ("tbs_translated", 9),
        ("guest_insns_translated", 20),
        ("jump_cache_misses", 9),
        ("hash_hits", 0),
        ("hash_misses", 9),
        ("invalidations", 0),
        ("flushes", 0),
        ("exceptions", 0),
        ("tlb_hits", 24),
        ("tlb_misses", 2),
        ("tlb_fills", 2),
        ("tlb_flushes", 0),
    ];
    for (key, value) in expect {
        assert_eq!(num(s, key), value, "{name}: {key}");
    }
}

#[test]
fn counters_of_a_known_kernel() {
    let chain = stats("jit", &[]);
    let nochain = stats("jit_nochain", &["-d", "nochain"]);
    let interp = stats("interp", &["-accel", "tcg,backend=interp"]);
    for (name, s) in [("jit", &chain), ("jit_nochain", &nochain), ("interp", &interp)] {
        check_common(name, s);
    }
    let triple = |key: &str| [num(&chain, key), num(&nochain, key), num(&interp, key)];
    assert_eq!(triple("links"), [9, 0, 0]);
    assert_eq!(triple("tbs_executed"), [10, 14, 14]);
    assert_eq!(triple("jump_cache_hits"), [1, 5, 5]);
    assert_eq!([&chain["backend"], &interp["backend"]], ["\"jit\"", "\"interp\""]);
    assert_eq!([&chain["chaining"], &nochain["chaining"]], ["true", "false"]);
    // The same IR whatever runs it; host code only from the JIT.
    assert!(num(&chain, "ir_ops") > 0);
    assert_eq!(triple("ir_ops"), [num(&chain, "ir_ops"); 3]);
    assert_eq!(interp["host_code_bytes"], "0");
    assert_eq!(interp["host_bytes_per_guest_insn"], "null");
    let bytes = num(&chain, "host_code_bytes");
    assert!(bytes > 20, "{bytes} host bytes for 20 guest instructions");
    assert_eq!(chain["host_bytes_per_guest_insn"], format!("{:.3}", bytes as f64 / 20.0));
    assert_eq!(chain["tlb_hit_rate"], format!("{:.3}", 24.0 * 100.0 / 26.0));
}

#[test]
fn json_to_stdout() {
    let o = tcg86("stdout", &["--stats-json", "-", "-serial", "none"]);
    assert_eq!(o.status.code(), Some(1));
    let s = parse(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(num(&s, "guest_insns"), 29);
}

#[test]
fn unwritable_file_is_an_emulator_error() {
    let o = tcg86("bad", &["--stats-json", "/nonexistent/dir/stats.json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("tcg86: --stats-json /nonexistent/dir/stats.json: ") && err.lines().count() == 1);
}
