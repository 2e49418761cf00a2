//! `--stats`: the counters of the exec loop, the TB cache and the TLB, printed at exit; and the
//! derived numbers (`--stats-json` reports the same ones, see `stats_json.rs`).
//!
//! The expansion ratio is host code bytes per guest instruction over the TBs the JIT compiled;
//! the interpreter emits no host code, so it has none (IR ops per guest instruction, reported for
//! both backends, measures what the interpreter runs instead).

use std::fmt::Write;
use tcg86::exec::Machine;

/// `a / b`, or `None` when nothing was counted.
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

/// Host code bytes per guest instruction compiled by the JIT; `None` under the interpreter.
pub fn host_bytes_per_insn(m: &Machine) -> Option<f64> {
    m.jit.as_ref().and_then(|_| ratio(m.stats.host_code_bytes, m.stats.jit_guest_insns))
}

/// Optimized IR ops (without `insn_start`) per guest instruction translated.
pub fn ir_ops_per_insn(m: &Machine) -> Option<f64> {
    ratio(m.stats.ir_ops, m.stats.guest_insns_translated)
}

/// TLB hits, the JIT's inline fast-path hits included.
pub fn tlb_hits(m: &Machine) -> u64 {
    m.cpu.tlb_hits()
}

/// TLB hit rate in percent (100 when nothing was accessed).
pub fn tlb_hit_rate(m: &Machine) -> f64 {
    ratio(tlb_hits(m) * 100, tlb_hits(m) + m.cpu.tlb.stats.misses).unwrap_or(100.0)
}

/// The backend's name, as `-accel tcg,backend=` spells it.
pub fn backend(m: &Machine) -> &'static str {
    if m.jit.is_some() {
        "jit"
    } else {
        "interp"
    }
}

/// The statistics block.
pub fn format(m: &Machine) -> String {
    let (e, tb, tlb) = (&m.stats, &m.tbs.stats, &m.cpu.tlb.stats);
    let mut s = format!("tcg86 statistics ({}, chaining {}):\n", backend(m), on_off(m.cpu.chaining));
    let mut line = |name: &str, value: String| {
        let _ = writeln!(s, "  {name:<30}{value}");
    };
    line("guest instructions", e.insns.to_string());
    line("TBs translated", format!("{} ({} guest instructions)", e.tbs_translated, e.guest_insns_translated));
    line("TBs executed (from the loop)", e.tbs_executed.to_string());
    line("jump cache hits / misses", format!("{} / {}", tb.jc_hits, tb.jc_misses));
    line("TB hash hits / misses", format!("{} / {}", tb.ht_hits, tb.ht_misses));
    line("TB links (chained jumps)", tb.links.to_string());
    line("TB invalidations / flushes", format!("{} / {}", tb.invalidations, tb.flushes));
    line("exceptions delivered", e.exceptions.to_string());
    line("host bytes / guest insn", expansion(m));
    line("IR ops / guest insn", ir_ops_per_insn(m).map_or("n/a".into(), |r| format!("{r:.2} ({} ops)", e.ir_ops)));
    line("TLB hits / misses", format!("{} / {}", tlb_hits(m), tlb.misses));
    line("TLB fills / flushes", format!("{} / {} (+{} page flushes)", tlb.fills, tlb.flushes, tlb.page_flushes));
    line("TLB hit rate", format!("{:.2}%", tlb_hit_rate(m)));
    s
}

fn expansion(m: &Machine) -> String {
    let e = &m.stats;
    match host_bytes_per_insn(m) {
        Some(r) => format!("{r:.2} ({} bytes for {} guest instructions)", e.host_code_bytes, e.jit_guest_insns),
        None if m.jit.is_none() => "n/a (interpreter: no host code)".into(),
        None => "n/a (nothing compiled)".into(),
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}
