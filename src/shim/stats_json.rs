//! `--stats-json FILE`: the `--stats` numbers as one flat JSON object (one key per line), written
//! at exit to FILE, or to stdout for `-`. The file is created before the guest runs, so a bad path
//! fails at once; failing to create or write it is an emulator error (status 2).
//!
//! Keys (also in README.md): `backend` ("jit" or "interp"), `chaining` (false with `-d nochain`),
//! `guest_insns` (executed), `tbs_translated`, `guest_insns_translated`, `tbs_executed` (entered
//! from the loop; chained entries are not counted), `links`, `jump_cache_hits`,
//! `jump_cache_misses`, `hash_hits`, `hash_misses`, `invalidations`, `flushes`, `exceptions`,
//! `host_code_bytes`, `host_bytes_per_guest_insn` (over the TBs the JIT compiled; null under the
//! interpreter), `ir_ops` (after optimization, `insn_start` excluded), `ir_ops_per_guest_insn`
//! (both backends; null if nothing was translated), `tlb_hits` (inline JIT hits included),
//! `tlb_misses`, `tlb_fills`, `tlb_flushes`, `tlb_page_flushes`, `tlb_hit_rate` (percent).
//! Ratios have three decimals. The serializer is hand-written: the values are numbers, booleans,
//! null and two fixed strings, so nothing needs escaping.

use super::stats::{backend, host_bytes_per_insn, ir_ops_per_insn, tlb_hit_rate, tlb_hits};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use tcg86::exec::Machine;

/// A JSON value of the statistics object.
enum Value {
    Int(u64),
    Ratio(Option<f64>),
    Bool(bool),
    Str(&'static str),
}

/// The key/value pairs, in output order.
fn fields(m: &Machine) -> Vec<(&'static str, Value)> {
    use Value::*;
    let (e, tb, tlb) = (&m.stats, &m.tbs.stats, &m.cpu.tlb.stats);
    vec![
        ("backend", Str(backend(m))),
        ("chaining", Bool(m.cpu.chaining)),
        ("guest_insns", Int(e.insns)),
        ("tbs_translated", Int(e.tbs_translated)),
        ("guest_insns_translated", Int(e.guest_insns_translated)),
        ("tbs_executed", Int(e.tbs_executed)),
        ("links", Int(tb.links)),
        ("jump_cache_hits", Int(tb.jc_hits)),
        ("jump_cache_misses", Int(tb.jc_misses)),
        ("hash_hits", Int(tb.ht_hits)),
        ("hash_misses", Int(tb.ht_misses)),
        ("invalidations", Int(tb.invalidations)),
        ("flushes", Int(tb.flushes)),
        ("exceptions", Int(e.exceptions)),
        ("host_code_bytes", Int(e.host_code_bytes)),
        ("host_bytes_per_guest_insn", Ratio(host_bytes_per_insn(m))),
        ("ir_ops", Int(e.ir_ops)),
        ("ir_ops_per_guest_insn", Ratio(ir_ops_per_insn(m))),
        ("tlb_hits", Int(tlb_hits(m))),
        ("tlb_misses", Int(tlb.misses)),
        ("tlb_fills", Int(tlb.fills)),
        ("tlb_flushes", Int(tlb.flushes)),
        ("tlb_page_flushes", Int(tlb.page_flushes)),
        ("tlb_hit_rate", Ratio(Some(tlb_hit_rate(m)))),
    ]
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Ratio(Some(r)) if r.is_finite() => format!("{r:.3}"),
        Value::Ratio(_) => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => format!("\"{s}\""),
    }
}

/// The statistics object, one key per line, ending with a newline.
pub fn to_json(m: &Machine) -> String {
    let lines: Vec<String> = fields(m).iter().map(|(k, v)| format!("  \"{k}\": {}", value_text(v))).collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

/// Where the object goes, opened before the guest runs.
pub struct JsonOut {
    path: String,
    out: Box<dyn Write>,
}

/// Create FILE (or take stdout for `-`); `Err` is the message for status 2.
pub fn open(path: &str) -> Result<JsonOut, String> {
    let out: Box<dyn Write> = match path {
        "-" => Box::new(io::stdout()),
        _ => Box::new(BufWriter::new(File::create(path).map_err(|e| format!("--stats-json {path}: {e}"))?)),
    };
    Ok(JsonOut { path: path.to_string(), out })
}

/// Write the statistics; `Err` is the message for status 2.
pub fn write(mut j: JsonOut, m: &Machine) -> Result<(), String> {
    let r = j.out.write_all(to_json(m).as_bytes()).and_then(|_| j.out.flush());
    r.map_err(|e| format!("--stats-json {}: {e}", j.path))
}
