//! `--stats`: the counters of the exec loop, the TB cache and the TLB, printed at exit.

use std::fmt::Write;
use tcg86::exec::Machine;

/// The statistics block.
pub fn format(m: &Machine) -> String {
    let (e, tb, tlb) = (&m.stats, &m.tbs.stats, &m.cpu.tlb.stats);
    let mut s = String::from("tcg86 statistics:\n");
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
    line("TLB hits / misses", format!("{} / {}", tlb.hits, tlb.misses));
    line("TLB fills / flushes", format!("{} / {} (+{} page flushes)", tlb.fills, tlb.flushes, tlb.page_flushes));
    line("TLB hit rate", format!("{:.2}%", tlb.hit_rate()));
    s
}
