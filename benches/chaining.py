#!/usr/bin/env python3
"""Chaining cost: tcg86 (JIT, interpreter) and qemu-system-i386, each with and without
`-d nochain`, on the same benchmark kernels, side by side; writes docs/chaining-perf.md.

Driven by chaining.mk (`make chaining-perf`), which builds the quick benchmark kernels
(bench.mk, QUICK=1) and the release tcg86. For every program and configuration this script runs
the kernel once to check its exit status and checksum (tcg86 also writes --stats-json, for the
TB counters), then times it with hyperfine (no shell, --runs N, medians). Net time is the median
minus the same configuration's empty-kernel median (start-up, and QEMU's firmware, removed).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone

# Shared with the main benchmark harness (this directory is on sys.path when run as a script).
from run import cpu_model, cpu_of, loadavg, median_of, ms, ratio

QEMU_ARGS = ["-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
TCG86_ARGS = ["-serial", "stdio", "-display", "none", "-no-reboot"]
KERNEL_EXIT = 1
TIMEOUT = 600
CHECKSUM_RE = re.compile(r"^checksum:\s*([0-9a-fA-F]+)\s*$", re.M)

# (name, engine, extra arguments); pairs below are (chained, unchained).
CONFIGS = [
    ("tcg86 jit", "tcg86", ["-accel", "tcg,backend=jit"]),
    ("tcg86 jit nochain", "tcg86", ["-accel", "tcg,backend=jit", "-d", "nochain"]),
    ("tcg86 interp", "tcg86", ["-accel", "tcg,backend=interp"]),
    ("tcg86 interp nochain", "tcg86", ["-accel", "tcg,backend=interp", "-d", "nochain"]),
    ("qemu", "qemu", []),
    ("qemu nochain", "qemu", ["-d", "nochain"]),
]
PAIRS = [("tcg86 jit", "tcg86 jit nochain"), ("tcg86 interp", "tcg86 interp nochain"), ("qemu", "qemu nochain")]


def argv(a, engine, extra, kernel):
    if engine == "tcg86":
        return [a.tcg86, "-kernel", kernel] + TCG86_ARGS + extra
    return [a.qemu] + QEMU_ARGS + extra + ["-kernel", kernel]


def sh(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT, **kw)
    except (OSError, subprocess.SubprocessError) as e:
        return subprocess.CompletedProcess(cmd, 127, "", str(e))


def check_run(a, prog, name, engine, cmd):
    """One run: exit status, checksum and (tcg86) the --stats-json counters."""
    stats_path = os.path.join(a.dir, "chaining", f"{prog}.{name.replace(' ', '-')}.json")
    extra = ["--stats-json", stats_path] if engine == "tcg86" else []
    t0 = time.monotonic()
    r = sh(cmd + extra)
    m = CHECKSUM_RE.findall(r.stdout)
    res = {"status": r.returncode, "checksum": m[-1].lower() if m else None, "check_wall": time.monotonic() - t0}
    if r.returncode != KERNEL_EXIT or not m:
        res["error"] = f"exit status {r.returncode}, checksum {res['checksum']}: {r.stderr.strip()[-200:]}"
    elif engine == "tcg86":
        with open(stats_path) as f:
            res["stats"] = json.load(f)
    return res


def runs_for(a, check_wall):
    """At least --runs; short runs get more (up to 4x), as many as fit in --budget seconds: the
    short ones (QEMU's, whose start-up varies most, and the empty kernel's) need them most."""
    return max(a.runs, min(4 * a.runs, int(a.budget / max(check_wall, 1e-3))))


def hyperfine(a, cmd, slug, runs):
    path = os.path.join(a.dir, "chaining", slug + ".hyperfine.json")
    r = sh(["hyperfine", "-N", "-i", "--style", "none", "--warmup", "0", "--runs", str(runs),
            "--export-json", path, subprocess.list2cmdline(cmd)])
    if r.returncode != 0:
        return {"error": "hyperfine failed: " + r.stderr.strip()[:200]}
    with open(path) as f:
        res = json.load(f)["results"][0]
    return {"median": res["median"], "min": res["min"], "max": res["max"], "user": res["user"],
            "system": res["system"], "runs": len(res["times"])}


def measure(a, progs):
    os.makedirs(os.path.join(a.dir, "chaining"), exist_ok=True)
    results, failures = {}, []
    for prog in progs:
        kernel = os.path.join(a.dir, prog + ".kernel")
        results[prog] = row = {}
        for name, engine, extra in CONFIGS:
            cmd = argv(a, engine, extra, kernel)
            res = check_run(a, prog, name, engine, cmd)
            if "error" not in res:
                res.update(hyperfine(a, cmd, f"{prog}.{name.replace(' ', '-')}", runs_for(a, res["check_wall"])))
            row[name] = res
            print(f"  {prog:<8} {name:<21} " + (f"FAILED: {res['error']}" if "error" in res
                                              else f"{res['median'] * 1e3:9.1f} ms  checksum {res['checksum']}  "
                                              f"({res['runs']} runs)"),
                  flush=True)
        sums = {r["checksum"] for r in row.values() if "error" not in r}
        failures += [f"{prog}: {n}: {r['error']}" for n, r in row.items() if "error" in r]
        if len(sums) > 1:
            failures.append(f"{prog}: checksums differ between configurations: {sorted(sums)}")
    return results, failures


def qemu_nochain_cflags(a, progs):
    """The cflags QEMU prints for its kernel TBs under -d exec,nochain (behavioural evidence)."""
    log = os.path.join(a.dir, "chaining", "qemu-nochain-exec.log")
    kernel = os.path.join(a.dir, ("empty" if "empty" in progs else progs[0]) + ".kernel")
    sh([a.qemu] + QEMU_ARGS + ["-d", "exec,nochain", "-dfilter", "0x100000..0x1fffff", "-D", log, "-kernel", kernel])
    try:
        with open(log) as f:
            m = re.search(r"^Trace \d+: \S+ \[[0-9a-f]+/[0-9a-f]+/[0-9a-f]+/([0-9a-f]+)\]", f.read(), re.M)
    except OSError:
        return None
    return m.group(1) if m else None


# ---------------------------------------------------------------- figures


# Wall-clock median and user + system CPU seconds (hyperfine's means over the runs, all threads)
# of a (program, configuration) result: run.py's readers.
median, WALL, CPU = median_of, median_of, cpu_of


def net(results, prog, name, measure=WALL):
    """The time minus the empty kernel's; None when that is within the start-up noise: a tenth
    of the empty kernel's time or, for wall-clock time, the spread of its runs if larger."""
    t, t0 = measure(results, prog, name), measure(results, "empty", name)
    if t is None or t0 is None:
        return None
    e = results["empty"][name]
    spread = e.get("max", t0) - e.get("min", t0) if measure is WALL else 0.0
    return t - t0 if t - t0 > max(spread, 0.1 * t0) else None


def diff(x, y):
    return None if x is None or y is None else x - y


def fr(r):
    return "n/a" if r is None else f"{r:.2f}x"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(out + ["| " + " | ".join("" if c is None else str(c) for c in r) + " |" for r in rows])


def table_times(results, progs, fn):
    hdr = ["program"] + [n for n, _, _ in CONFIGS]
    return table(hdr, [[p] + [ms(fn(results, p, n)) or "—" for n, _, _ in CONFIGS] for p in progs])


def nochain_ratio(results, prog, pair, measure):
    return ratio(net(results, prog, pair[1], measure), net(results, prog, pair[0], measure))


def added(results, prog, pair, measure):
    """Seconds `-d nochain` adds to the net time."""
    return diff(net(results, prog, pair[1], measure), net(results, prog, pair[0], measure))


def table_ratios(results, progs):
    hdr = ["program"] + [f"{c} → nochain ({m})" for c, _ in PAIRS for m in ("wall", "CPU")]
    hdr.append("time nochain adds, qemu / tcg86 jit (CPU)")
    rows = []
    for p in progs:
        if p == "empty":
            continue
        rs = [fr(nochain_ratio(results, p, pair, m)) for pair in PAIRS for m in (WALL, CPU)]
        cross = ratio(added(results, p, PAIRS[2], CPU), added(results, p, PAIRS[0], CPU))
        rows.append([p] + rs + [fr(cross)])
    return table(hdr, rows)


def stat(results, prog, name, key):
    return results.get(prog, {}).get(name, {}).get("stats", {}).get(key)


def loop_entry_ns(results, prog, measure):
    """tcg86 JIT: the time nochain adds over the loop entries it adds, in ns."""
    ec, en = stat(results, prog, "tcg86 jit", "tbs_executed"), stat(results, prog, "tcg86 jit nochain", "tbs_executed")
    d = added(results, prog, PAIRS[0], measure)
    return None if d is None or ec is None or not en or en <= ec else d / (en - ec) * 1e9


def table_counters(results, progs):
    """Where the extra time goes: TB entries from the loop, chained or not."""
    hdr = ["program", "guest insns", "loop entries (chained)", "links", "loop entries (nochain)",
           "guest insns per loop entry (nochain)", "jump-cache hits (nochain)",
           "extra ns per loop entry, JIT (wall / CPU)", "extra ns per TB transition, QEMU approx. (CPU)"]
    rows = []
    ns = lambda x: "n/a" if x is None else f"{x:.0f}"
    for p in progs:
        if p == "empty":
            continue
        g = stat(results, p, "tcg86 jit", "guest_insns")
        ec, en = stat(results, p, "tcg86 jit", "tbs_executed"), stat(results, p, "tcg86 jit nochain", "tbs_executed")
        links, jc = stat(results, p, "tcg86 jit", "links"), stat(results, p, "tcg86 jit nochain", "jump_cache_hits")
        dq = added(results, p, PAIRS[2], CPU)
        rows.append([p, g, ec, links, en, f"{g / en:.1f}" if g and en else "", jc,
                     f"{ns(loop_entry_ns(results, p, WALL))} / {ns(loop_entry_ns(results, p, CPU))}",
                     ns(dq / en * 1e9 if dq is not None and en else None)])
    return table(hdr, rows)


def table_expansion(results, progs):
    hdr = ["program", "TBs translated", "guest insns translated", "host bytes / guest insn (JIT)",
           "IR ops / guest insn"]
    rows = []
    for p in progs:
        s = results.get(p, {}).get("tcg86 jit", {}).get("stats", {})
        rows.append([p, s.get("tbs_translated"), s.get("guest_insns_translated"),
                     s.get("host_bytes_per_guest_insn"), s.get("ir_ops_per_guest_insn")])
    return table(hdr, rows)


def span(values, fmt):
    vs = [v for v in values if v is not None]
    if len(vs) == 1:
        return f"{fmt(vs[0])} (one program; the others are within the start-up noise)"
    return f"{fmt(min(vs))} to {fmt(max(vs))}" if vs else "n/a"


def summary(results, progs):
    """One line per engine: the range of its nochain/chain ratios over the programs."""
    work = [p for p in progs if p != "empty"]
    lines = []
    for pair in PAIRS:
        w = span([nochain_ratio(results, p, pair, WALL) for p in work], fr)
        c = span([nochain_ratio(results, p, pair, CPU) for p in work], fr)
        note = " (it never chains: this is the measurement noise)" if pair[0] == "tcg86 interp" else ""
        lines.append(f"- **{pair[0]}**: `-d nochain` multiplies the net time by {w} (wall-clock), "
                     f"{c} (CPU time){note}")
    cost = span([loop_entry_ns(results, p, CPU) for p in work], lambda x: f"{x:.0f}")
    lines.append(f"- one return to `cpu_exec` and back costs tcg86's JIT {cost} ns of CPU time "
                 "(extra net CPU time / extra loop entries)")
    return "\n".join(lines)


# ---------------------------------------------------------------- report

EXPLANATION = """
## Where the time goes without chaining

**tcg86, JIT.** Chained, a `goto_tb` exit whose target is known is a patched `jmp rel32` straight
into the next TB's code, and one back to the TB's own start under the same key is a loop inside
the TB that only charges the budget; indirect jumps (`ret`, `jmp *%eax`) probe the jump cache
from generated code (inline when the key is static, else through the `lookup_tb_ptr` helper) and
jump to the TB found (`lookup_and_goto_ptr`). What remains per TB is its entry check: every TB subtracts its instruction count from the budget in
`env` and leaves if it would go negative (QEMU's icount/exit-request check at TB start). With
`-d nochain` tcg86 never patches a jump and `lookup_tb_ptr` always answers 0 (QEMU's
`CF_NO_GOTO_TB | CF_NO_GOTO_PTR`), so every TB ends with a return to `cpu_exec`:

1. TB exit: the goto_tb fallback stores eip and the `exit_tb` value, the shared epilogue restores
   six callee-saved registers and returns the packed exit word to Rust;
2. the loop: decode the exit word, count instructions and the TSC, check for pending exceptions
   and the `--max-insns` limit;
3. `tb_lookup`: compute the TB key (eip + CS base, hflags, and the physical pc through the code
   TLB), probe the per-CPU jump cache, compare the physical pc;
4. TB entry: the prologue saves the registers, sets up the frame, pins `env` and jumps in; the TB
   reloads from `env` the guest registers it uses (chained TBs pay this too: globals are synced
   to `env` at every TB boundary).

The "extra ns per loop entry" column divides the extra net time by the extra loop entries counted
by `--stats-json` (`tbs_executed`), so it is the price of one trip through steps 1 to 4.

**tcg86, interpreter.** The interpreter never chains: `goto_tb` falls through to the `exit_tb`
after it and `lookup_and_goto_ptr` returns to the loop, so every TB already comes back to
`cpu_exec` and `-d nochain` changes nothing but a flag; its ratio is the noise floor of the
measurement.

**QEMU 7.2.** QEMU's `-d nochain` only sets `CF_NO_GOTO_TB` in `curr_cflags()`. It used to add
`CF_NO_GOTO_PTR` as well, but "accel/tcg: Drop CF_NO_GOTO_PTR from -d nochain" (Richard Henderson,
July 2021, QEMU 6.1) removed it, since `helper_lookup_tb_ptr` now does the `-d exec`/`-d cpu`
logging itself. Without goto_tb, `translator_use_goto_tb()` is false and the i386 frontend
(`gen_jmp_rel`) ends a direct jump with `lookup_and_goto_ptr` instead: every TB transition becomes
a call to `helper_lookup_tb_ptr` (recompute the TB flags from `env`, probe the jump cache and,
on a miss, the hash table, compare pc/cs_base/flags/cflags, log if asked) and an indirect jump;
only a TB not translated yet sends it back to the main loop. The behaviour agrees: {cflags_note} So QEMU without chaining still stays in
generated code across most TB boundaries, unlike tcg86 with `-d nochain`; what it pays per
transition is the helper call instead of a patched direct jump. The "QEMU approx." column divides
QEMU's extra net CPU time by the number of TB entries tcg86 counts without chaining on the same
kernel (the same guest code, and both translators end a TB at every branch), so it is only an
estimate.
"""

QUICK_NOTE = """
The programs are the quick benchmark kernels (`SCALE=1`) and each configuration is timed only a
few times (QUICK mode), because the machine has 2 cores shared with other work: QEMU's start-up (SeaBIOS and
the multiboot option ROM: {qemu_empty} ms here, {qemu_empty_nochain} ms with `-d nochain`, which
runs the firmware unchained too) is large against its work and varies by tens of ms, so QEMU's
net times and the ratios derived from them are rough. Rerun with more runs (`make chaining-perf CHAIN_RUNS=10`) on
an idle machine for firmer numbers.
"""


def report(a, progs, results, failures, cflags, env, elapsed):
    head = sh(["git", "rev-parse", "--short=12", "HEAD"]).stdout.strip() or "unknown"
    qemu = (sh([a.qemu, "--version"]).stdout.strip().splitlines() or ["not found"])[0]
    cflags_note = (f"on this machine `qemu-system-i386 -d exec,nochain` prints cflags `{cflags}` for the kernel's "
                   f"TBs: `CF_NO_GOTO_TB` (0x200) is set, `CF_NO_GOTO_PTR` (0x400) is not."
                   if cflags else "(QEMU's `-d exec,nochain` trace could not be read on this machine.)")
    work = [p for p in progs if p != "empty"]
    cmds = "\n".join(f"- **{n}**: `{' '.join(argv(a, e, x, '<prog>.kernel'))}`" for n, e, x in CONFIGS)
    fail_md = "\n".join(f"- **FAILED** {f}" for f in failures) or "Every configuration printed the same checksum."
    return f"""# Chaining: tcg86 and QEMU with and without `-d nochain`

Generated by `make chaining-perf` (benches/chaining.py); do not edit by hand.

- Date: {env['date']}; whole run {elapsed:.0f} s
- Machine: {cpu_model()} ({os.cpu_count()} logical CPUs, shared); load average {env['load']} at the
  start, {loadavg()} at the end
- tcg86: commit {head} (`{a.tcg86}`); QEMU: {qemu}
- Timing: hyperfine, no shell, medians of wall-clock time and means of CPU time over {a.runs} to
  {4 * a.runs} runs per configuration (short ones get more runs, up to {a.budget:.0f} s each)
{QUICK_NOTE.format(qemu_empty=ms(median(results, "empty", "qemu")) or "?",
                   qemu_empty_nochain=ms(median(results, "empty", "qemu nochain")) or "?")}
## Summary

{summary(results, progs)}

## Configurations

{cmds}

Programs (benches/progs, see benches/README.md): {', '.join(f'`{p}`' for p in progs)}. {fail_md}

## Wall-clock medians (ms)

{table_times(results, progs, median)}

## Net time (ms): minus the same configuration's empty kernel

Wall-clock medians minus the empty kernel's median. "—": within the start-up noise (less than
the spread of the empty kernel's runs, or a tenth of its median); such cells get no ratio below.

{table_times(results, work, net)}

CPU time (user + system, all threads; hyperfine's mean over the runs) minus the empty kernel's:
less disturbed by other work on the machine than wall-clock time. "—": less than a tenth of the
empty kernel's.

{table_times(results, work, lambda r, p, n: net(r, p, n, CPU))}

## Cost of turning chaining off (net time ratios)

`X → nochain` is the net time with `-d nochain` over the net time with chaining, from wall-clock
medians and from CPU time. The last column compares what `-d nochain` adds to QEMU's CPU time with
what it adds to tcg86's JIT.

{table_ratios(results, progs)}

## tcg86 counters (`--stats-json`)

From the check runs of the JIT. A "loop entry" is a TB entered from `cpu_exec` (`tbs_executed`);
with chaining most TB transitions happen inside generated code and are not counted.

{table_counters(results, progs)}

Code size of the same runs (the expansion ratio, `host_bytes_per_guest_insn`):

{table_expansion(results, progs)}
{EXPLANATION.replace('{cflags_note}', cflags_note)}"""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True, help="where bench.mk built the kernels")
    p.add_argument("--tcg86", default="target/release/tcg86")
    p.add_argument("--qemu", default="qemu-system-i386")
    p.add_argument("--progs", default="compute calls memory smc empty")
    p.add_argument("--runs", type=int, default=5, help="timed runs per configuration, at least")
    p.add_argument("--budget", type=float, default=4.0, help="seconds a short configuration may take")
    p.add_argument("--out", default="docs/chaining-perf.md")
    a = p.parse_args()
    progs = a.progs.split()
    env = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "load": loadavg()}
    t0 = time.monotonic()
    results, failures = measure(a, progs)
    cflags = qemu_nochain_cflags(a, progs)
    text = report(a, progs, results, failures, cflags, env, time.monotonic() - t0)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    with open(os.path.join(a.dir, "chaining", "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {a.out}")
    for msg in failures:
        print(f"!!! {msg}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
