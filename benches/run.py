#!/usr/bin/env python3
"""Benchmark harness: tcg86 vs qemu-system-i386 vs native, side by side in one run.

Driven by bench.mk (`make bench`, `make bench QUICK=1`), which builds every program in
benches/progs/ twice (multiboot kernel, static 32-bit Linux program) into --dir. For each program
and each engine this script

  1. runs the program once under `/usr/bin/time -v` (tcg86 also with --stats): the exit status
     and the "checksum:" line are checked against the native run (a mismatch fails the row loudly
     and the whole command at the end), peak RSS and the statistics are recorded;
  2. times it several times, without a shell: wall-clock time and the child's user and system
     CPU time (wait4). The timed runs are interleaved: round after round, every program under
     every engine runs once, so a host that speeds up or slows down during the run (a shared
     machine does) moves all engines alike instead of favouring whichever ran in a fast spell;

then derives the startup-corrected times, the ratios, the translation cost per guest instruction
and the state of the goals, and writes the Markdown report to --out.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

QEMU_ARGS = ["-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
TCG86_ARGS = ["-serial", "stdio", "-display", "none", "-no-reboot"]
# Exit status of a kernel that writes 0 to isa-debug-exit: (0 << 1) | 1.
KERNEL_EXIT = 1
CHECK_TIMEOUT = 600

PROG_TITLES = {
    "compute": "integer compute mix (CRC32, sieve, quicksort, matmul, search, Dhrystone-like)",
    "calls": "calls/returns, function pointers, recursion, switch jump tables",
    "memory": "memory bound, 6 MiB over 1536 pages (paging off)",
    "smc": "self-modifying code (immediate patched every 2000 iterations)",
    "empty": "empty kernel (startup cost)",
    "straight": "straight-line code run once (translation cost)",
}

GOALS = [
    ("compute mix: speed vs QEMU", ">= 1.5x (aim 2x)"),
    ("compute mix: time vs native", "<= 3x"),
    ("startup (empty kernel, wall)", "< 10 ms"),
    ("translation", "< 0.1 us per guest instruction"),
]


class Engine:
    """One way of running a program: a name, the command for a program, the expected status."""

    def __init__(self, name, kind, argv_fn, runs, stats=False):
        self.name, self.kind, self.argv_fn, self.runs, self.stats = name, kind, argv_fn, runs, stats

    def argv(self, d, prog):
        return self.argv_fn(os.path.join(d, prog + (".linux" if self.kind == "native" else ".kernel")))

    @property
    def expected_status(self):
        return 0 if self.kind == "native" else KERNEL_EXIT


def make_engines(a, tcg86_ok, qemu_ok):
    runs, few, slow = a.runs, a.nochain_runs, a.interp_runs
    engines = []
    if tcg86_ok:
        def t(extra):
            return lambda k: [a.tcg86, "-kernel", k] + TCG86_ARGS + extra
        engines += [
            Engine("tcg86 jit", "tcg86", t(["-accel", "tcg,backend=jit"]), runs, True),
            Engine("tcg86 jit nochain", "tcg86", t(["-accel", "tcg,backend=jit", "-d", "nochain"]), few, True),
            Engine("tcg86 interp", "tcg86", t(["-accel", "tcg,backend=interp"]), slow, True),
        ]
    if qemu_ok:
        def q(extra):
            return lambda k: [a.qemu] + QEMU_ARGS + extra + ["-kernel", k]
        engines += [Engine("qemu", "qemu", q([]), runs), Engine("qemu nochain", "qemu", q(["-d", "nochain"]), few)]
    engines.append(Engine("native", "native", lambda p: [p], runs))
    return engines


# ---------------------------------------------------------------- environment


def sh(argv, **kw):
    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace", **kw)
    except (OSError, subprocess.SubprocessError) as e:
        return subprocess.CompletedProcess(argv, 127, "", str(e))


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tcg86_commit(a):
    if a.tcg86_commit:
        return a.tcg86_commit
    head = sh(["git", "rev-parse", "--short=12", "HEAD"]).stdout.strip() or "unknown"
    # Only what the binary is built from counts (benches/ and docs/ do not).
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock"])
    return head + (" (with uncommitted changes to src/)" if dirty.stdout.strip() else "")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def environment(a):
    return {
        "load_start": loadavg(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "qemu": first_line(sh([a.qemu, "--version"]).stdout) or "not found",
        "tcg86": tcg86_commit(a),
        "tcg86_binary": a.tcg86,
        "mode": a.mode,
    }


def tcg86_usable(path):
    """The binary exists and has the QEMU-style command line (-kernel)."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return False, f"{path} not found (cargo build --release)"
    r = sh([path, "--help"], timeout=30)
    if "-kernel" not in r.stdout:
        return False, f"{path} --help has no -kernel option: command line not wired"
    return True, ""


def require_tools(a):
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("bench: missing time (/usr/bin/time): apt-get install -y time")


# ---------------------------------------------------------------- check run: output, status, RSS, stats

CHECKSUM_RE = re.compile(r"^checksum:\s*([0-9a-fA-F]+)\s*$", re.M)
RSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")
# /usr/bin/time -v lines are tab-indented "Name: value"; tcg86's statistics block is
# "tcg86 statistics:" followed by two-space-indented "name<padding>value" lines.
STAT_LINE_RE = re.compile(r"^  (\S.*?)(?:\s{2,}|:\s+)(\S.*)$")


def parse_stats(stderr):
    """tcg86 --stats: every "  name   value" line after the "statistics" header, as raw text."""
    stats, inside = {}, False
    for line in stderr.splitlines():
        if "statistics" in line.lower() and not line.startswith(" "):
            inside = True
            continue
        if inside:
            m = STAT_LINE_RE.match(line)
            if m:
                stats[m.group(1).strip().rstrip(":")] = m.group(2).strip()
            elif line.strip() and not line.startswith((" ", "\t")):
                inside = False
    return stats


def check_run(engine, argv):
    cmd = ["/usr/bin/time", "-v"] + argv + (["--stats"] if engine.stats else [])
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=CHECK_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CHECK_TIMEOUT} s", "wall": CHECK_TIMEOUT}
    m = CHECKSUM_RE.findall(r.stdout)
    rss = RSS_RE.search(r.stderr)
    res = {
        "status": r.returncode,
        "checksum": m[-1].lower() if m else None,
        "rss_kb": int(rss.group(1)) if rss else None,
        "stats": parse_stats(r.stderr) if engine.stats else {},
        "wall": time.monotonic() - t0,
        "stderr_tail": r.stderr.strip().splitlines()[-3:] if r.stderr.strip() else [],
    }
    if r.returncode != engine.expected_status:
        res["error"] = f"exit status {r.returncode}, expected {engine.expected_status}"
    elif res["checksum"] is None:
        res["error"] = "no 'checksum:' line on stdout"
    return res


# ---------------------------------------------------------------- timing


def time_once(argv):
    """One run without a shell: (wall seconds, user CPU seconds, system CPU seconds)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime, ru.ru_stime


def timing_fields(samples):
    walls = [w for w, _, _ in samples]
    return {
        "median": statistics.median(walls), "mean": statistics.mean(walls),
        "stddev": statistics.stdev(walls) if len(walls) > 1 else 0.0, "min": min(walls), "max": max(walls),
        "user": statistics.mean(u for _, u, _ in samples), "system": statistics.mean(y for _, _, y in samples),
        "runs": len(samples),
    }


def measure(a, engines, progs):
    """results[prog][engine] = check-run fields + timing fields. Check runs first; then the timed
    runs in interleaved rounds (each round runs every (program, engine) pair that still needs runs)."""
    results, failures = {}, []
    for prog in progs:
        results[prog] = {e.name: check_run(e, e.argv(a.dir, prog)) for e in engines}
    timed = [(p, e) for p in progs for e in engines if e.runs > 0 and "error" not in results[p][e.name]]
    samples = {(p, e.name): [] for p, e in timed}
    for r in range(max((e.runs for _, e in timed), default=0)):
        for p, e in timed:
            if r < e.runs:
                samples[(p, e.name)].append(time_once(e.argv(a.dir, p)))
    for prog in progs:
        row = results[prog]
        for e in engines:
            res = row[e.name]
            if "error" in res:
                pass
            elif e.runs > 0:
                res.update(timing_fields(samples[(prog, e.name)]))
            else:
                # Too slow to repeat: the check run is the one timed run.
                res.update({"median": res["wall"], "mean": res["wall"], "stddev": 0.0, "runs": 1})
            progress(prog, e, res)
        failures += verify_row(prog, row)
    return results, failures


def progress(prog, e, res):
    if "error" in res:
        print(f"  {prog:<9} {e.name:<18} FAILED: {res['error']}", flush=True)
        for line in res.get("stderr_tail", []):
            print(f"  {'':<9} {'':<18}   {line}", flush=True)
    else:
        print(f"  {prog:<9} {e.name:<18} {ms(res['median']):>10} ms  (checksum {res['checksum']}, "
              f"{res['runs']} runs)", flush=True)


def verify_row(prog, row):
    """Every engine must print the native checksum (or, without a native run, agree)."""
    ok = {n: r["checksum"] for n, r in row.items() if "error" not in r}
    ref = ok.get("native") or (statistics.mode(ok.values()) if ok else None)
    fails = [f"{prog}: {n}: {r['error']}" for n, r in row.items() if "error" in r]
    for n, c in ok.items():
        if c != ref:
            row[n]["error"] = f"checksum {c} != {ref} (native)"
            fails.append(f"{prog}: {n}: checksum {c}, expected {ref}")
    for f in fails:
        print(f"!!! CHECK FAILED: {f}", file=sys.stderr, flush=True)
    return fails


# ---------------------------------------------------------------- derived figures


def ms(seconds):
    return "" if seconds is None else f"{seconds * 1e3:.1f}" if seconds < 10 else f"{seconds * 1e3:.0f}"


def median_of(results, prog, eng):
    r = results.get(prog, {}).get(eng, {})
    return None if "error" in r else r.get("median")


def cpu_of(results, prog, eng):
    r = results.get(prog, {}).get(eng, {})
    return None if "error" in r or "user" not in r else r["user"] + r["system"]


def cpu_net(results, prog, eng):
    """user+system CPU seconds (means over the timed runs) minus the empty kernel's: less sensitive
    to a busy host."""
    t, t0 = cpu_of(results, prog, eng), cpu_of(results, "empty", eng)
    return None if t is None or t0 is None else max(t - t0, 1e-6)


def net(results, prog, eng):
    """Median minus the empty kernel's median on the same engine: time spent on the work."""
    t, t0 = median_of(results, prog, eng), median_of(results, "empty", eng)
    return None if t is None or t0 is None else max(t - t0, 1e-6)


def ratio(x, y):
    return None if x is None or y is None or y <= 0 else x / y


def fmt_ratio(r):
    return "" if r is None else f"{r:.2f}"


STAT_INT_RE = re.compile(r"\d+")


def stat_ints(stats, *keys):
    """The integers in the first statistics line whose name contains all keys (case-insensitive)."""
    for name, value in stats.items():
        if all(k.lower() in name.lower() for k in keys):
            return [int(x) for x in STAT_INT_RE.findall(value.replace(",", ""))]
    return []


def insns_translated(stats):
    """Guest instructions translated: "TBs translated  N (M guest instructions)" -> M."""
    v = stat_ints(stats, "translated")
    return v[1] if len(v) > 1 else None


def reported_translation_us(stats):
    """A translation time, if --stats reports one: total (with a unit) or per instruction."""
    for name, value in stats.items():
        low = name.lower()
        if "transl" not in low or "time" not in low and "cost" not in low:
            continue
        m = re.search(r"([\d.]+)\s*(ns|us|µs|ms|s)\b", value)
        if not m:
            continue
        scale = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "ms": 1e3, "s": 1e6}[m.group(2)]
        per = "insn" in low or "instruction" in low or "/" in value
        return float(m.group(1)) * scale, per
    return None


def translation_cost(results, a):
    """us per translated guest instruction, from straight-line vs empty kernel (per engine)."""
    out = {}
    stats = lambda p, e: results.get(p, {}).get(e, {}).get("stats", {})
    n_s, n_e = insns_translated(stats("straight", "tcg86 jit")), insns_translated(stats("empty", "tcg86 jit"))
    dn = (n_s - n_e) if n_s is not None and n_e is not None else a.straight_n
    for eng in ("tcg86 jit", "tcg86 interp", "qemu"):
        t, t0 = median_of(results, "straight", eng), median_of(results, "empty", eng)
        if t is not None and t0 is not None and dn > 0:
            out[eng] = {"us_per_insn": (t - t0) / dn * 1e6, "insns": dn}
        rep = reported_translation_us(stats("straight", eng))
        if rep and eng in out:
            us, per = rep
            out[eng]["reported_us_per_insn"] = us if per else us / max(n_s or dn, 1)
    return out


def both(wall, cpu, ok):
    """A goal judged on net wall-clock and net CPU time: met, not met, or met on one only."""
    w, c = wall is not None and ok(wall), cpu is not None and ok(cpu)
    if w == c or cpu is None:
        return w
    return "met on wall-clock time only" if w else "met on CPU time only"


def goal_status(results, tc):
    q = ratio(net(results, "compute", "qemu"), net(results, "compute", "tcg86 jit"))
    n = ratio(net(results, "compute", "tcg86 jit"), net(results, "compute", "native"))
    qc = ratio(cpu_net(results, "compute", "qemu"), cpu_net(results, "compute", "tcg86 jit"))
    nc = ratio(cpu_net(results, "compute", "tcg86 jit"), cpu_net(results, "compute", "native"))
    s = median_of(results, "empty", "tcg86 jit")
    t = tc.get("tcg86 jit", {})
    t_us = t.get("reported_us_per_insn", t.get("us_per_insn"))
    return [
        (q, f"{q:.2f}x QEMU's speed" + (f" (CPU time: {qc:.2f}x)" if qc else "") if q else "n/a",
         both(q, qc, lambda x: x >= 1.5)),
        (n, f"{n:.2f}x native time" + (f" (CPU time: {nc:.2f}x)" if nc else "") if n else "n/a",
         both(n, nc, lambda x: x <= 3.0)),
        (s, f"{s * 1e3:.1f} ms" if s is not None else "n/a", s is not None and s < 0.010),
        (t_us, f"{t_us:.2f} us/insn" if t_us is not None else "n/a", t_us is not None and t_us < 0.1),
    ]


# ---------------------------------------------------------------- report


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join("" if c is None else str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def cell_time(results, prog, eng):
    r = results.get(prog, {}).get(eng)
    if r is None:
        return "n/a"
    if "error" in r:
        return "**FAILED**"
    return ms(r["median"])


def table_medians(results, engines, progs):
    hdr = ["program"] + [e.name for e in engines] + ["jit/qemu", "jit/native"]
    rows = []
    for p in progs:
        rows.append([p] + [cell_time(results, p, e.name) for e in engines] + [
            fmt_ratio(ratio(median_of(results, p, "tcg86 jit"), median_of(results, p, "qemu"))),
            fmt_ratio(ratio(median_of(results, p, "tcg86 jit"), median_of(results, p, "native")))])
    return md_table(hdr, rows)


def table_net(results, engines, progs):
    hdr = ["program"] + [e.name for e in engines] + ["jit/qemu", "jit/native", "qemu/jit (speed-up)"]
    rows = []
    for p in progs:
        if p == "empty":
            continue
        nets = [net(results, p, e.name) for e in engines]
        j, q, n = (net(results, p, x) for x in ("tcg86 jit", "qemu", "native"))
        jn = fmt_ratio(ratio(j, n)) if p != "straight" else ""
        rows.append([p] + [ms(x) if x is not None else "" for x in nets]
                    + [fmt_ratio(ratio(j, q)), jn, fmt_ratio(ratio(q, j))])
    return md_table(hdr, rows)


def table_cpu(results, engines, progs):
    engs = [e for e in engines if e.runs > 0]
    hdr = ["program"] + [e.name for e in engs] + ["jit/qemu", "jit/native", "qemu/jit (speed-up)"]
    rows = []
    for p in progs:
        if p == "empty":
            continue
        j, q, n = (cpu_net(results, p, x) for x in ("tcg86 jit", "qemu", "native"))
        jn = fmt_ratio(ratio(j, n)) if p != "straight" else ""
        rows.append([p] + [ms(cpu_net(results, p, e.name)) for e in engs]
                    + [fmt_ratio(ratio(j, q)), jn, fmt_ratio(ratio(q, j))])
    return md_table(hdr, rows)


def table_stats(results, progs, engs):
    hdr = ["program", "engine", "guest insns", "TBs (guest insns) translated", "TB links",
           "invalidations / flushes", "TLB hits / misses", "JIT inline TLB hits", "TLB hit rate", "MIPS (net)"]
    rows = []
    for p in progs:
        for e in engs:
            r = results.get(p, {}).get(e, {})
            st = r.get("stats") or {}
            if not st:
                rows.append([p, e] + [""] * 8)
                continue
            insns = stat_ints(st, "guest instructions")
            t = net(results, p, e)
            mips = f"{insns[0] / t / 1e6:.0f}" if insns and t and p not in ("empty", "straight") else ""
            rows.append([p, e, insns[0] if insns else "", get_stat(st, "translated"), get_stat(st, "links"),
                         get_stat(st, "invalidations"), get_stat(st, "TLB hits"), get_stat(st, "inline") or get_stat(st, "jit tlb"),
                         get_stat(st, "hit rate"), mips])
    return md_table(hdr, rows)


def get_stat(stats, key):
    for name, value in stats.items():
        if key.lower() in name.lower():
            return value
    return ""


def table_rss(results, engines, progs):
    hdr = ["program"] + [e.name for e in engines] + ["jit/qemu"]
    rows = []
    for p in progs:
        rss = {e.name: results.get(p, {}).get(e.name, {}).get("rss_kb") for e in engines}
        rows.append([p] + [f"{v / 1024:.1f}" if v else "" for v in rss.values()]
                    + [fmt_ratio(ratio(rss.get("tcg86 jit"), rss.get("qemu")))])
    return md_table(hdr, rows)


def table_translation(tc):
    rows = []
    for eng, v in tc.items():
        rep = v.get("reported_us_per_insn")
        rows.append([eng, f"{v['us_per_insn']:.3f}", v["insns"], f"{rep:.3f}" if rep is not None else ""])
    return md_table(["engine", "us per guest insn (straight - empty)", "guest insns translated",
                     "us per guest insn (--stats)"], rows)


def status_text(ok):
    return ok if isinstance(ok, str) else "met" if ok else "**not met**"


def table_goals(goals):
    rows = [[name, target, text, status_text(ok)] for (name, target), (_, text, ok) in zip(GOALS, goals)]
    return md_table(["goal", "target", "measured", "status"], rows)


QUICK_NOTE = """
**Quick mode**: the programs are sized for a fast check, so QEMU's start-up (a few hundred ms,
varying by tens of ms) dwarfs its work and the net times and ratios against QEMU are rough; the
full run (`make bench`) is the one to quote.
"""


def spread(results, eng):
    r = results.get("empty", {}).get(eng, {})
    if "min" not in r:
        return "n/a"
    return f"{ms(r['min'])} to {ms(r['max'])} ms"


def runs_text(e):
    return f"{e.runs} timed runs after the check run" if e.runs else "timed once: the check run"


def report(a, env, engines, progs, results, failures, tc, goals, elapsed):
    eng_list = "\n".join(f"- **{e.name}**: `{' '.join(e.argv(a.dir, '<prog>'))}` ({runs_text(e)})" for e in engines)
    prog_list = "\n".join(f"- `{p}`: {PROG_TITLES.get(p, p)}" for p in progs)
    fail_md = "\n".join(f"- **FAILED** {f}" for f in failures) or "All engines printed the native checksum."
    stat_engs = [e.name for e in engines if e.stats]
    return f"""# Benchmarks: tcg86 vs qemu-system-i386 vs native

Generated by `make bench{' QUICK=1' if a.mode == 'quick' else ''}` (benches/run.py); do not edit by hand.

- Date: {env['date']}
- Mode: {a.mode} (SCALE={a.scale}; timed runs per engine below; whole run {elapsed:.0f} s)
- CPU: {env['cpu']} ({env['cores']} logical CPUs, shared; Linux {env['kernel']}); load average
  {env['load_start']} at the start, {env['load_end']} at the end
- QEMU: {env['qemu']}
- tcg86: commit {env['tcg86']} (`{env['tcg86_binary']}`)
- Timing: no shell; the timed runs interleaved in rounds (every program under every engine once
  per round), medians of wall-clock time, means of user + system CPU time (wait4)

## Programs and engines

Each program is one C source built twice with the same flags (`gcc -m32 -O2 -ffreestanding`):
as a multiboot kernel (COM1 output, isa-debug-exit) and as a static 32-bit Linux program (the
native baseline). Every run prints a checksum; each engine's is compared with the native one.

{prog_list}

{eng_list}

Checksums: {fail_md}
{QUICK_NOTE if a.mode == "quick" else ""}
## Wall-clock medians (ms)

Whole process: start-up (QEMU's includes its firmware, SeaBIOS and the multiboot option ROM),
loading, running, exit. Ratios are time ratios (below 1: tcg86 is faster).

{table_medians(results, engines, progs)}

## Net time (ms): median minus the same engine's empty-kernel median

The work itself, without start-up. `qemu/jit` is tcg86's speed-up over QEMU. The start-up being
subtracted varies from run to run ({spread(results, "qemu")} for QEMU's empty kernel), so
the net time of a short QEMU run is only as exact as that spread.

{table_net(results, engines, progs)}

## Net CPU time (ms): user + system, minus the same engine's empty kernel

Means over the timed runs of CPU time summed over all threads (QEMU runs its vCPU in a thread
of its own, beside the main loop). Less disturbed than wall-clock time when other work shares the
host; the interpreter (timed once, wall only) has no column.

{table_cpu(results, engines, progs)}

## Goals

Compute-mix goals use net times, wall-clock (medians) and CPU (user + system); on this shared
host the wall-clock figures move by tens of percent between runs, the CPU figures less. Startup is
the empty kernel's wall-clock median under the tcg86 JIT; translation is the JIT's cost per guest
instruction.

{table_goals(goals)}

## Translation cost

`straight` executes {a.straight_n} distinct straight-line guest instructions once; the
difference to `empty`, divided by the number of guest instructions translated (tcg86 `--stats`),
approximates the cost of translating one instruction (decode, IR, optimize, and for the JIT, host
code generation). QEMU is charged the same instruction count.

{table_translation(tc)}

## tcg86 statistics (`--stats`, one extra run)

With the JIT, "TLB hits / misses" counts the lookups that reach the slow path: the hits of the
inline fast path are not in it (nor in the hit rate) unless `--stats` reports them (the "JIT
inline TLB hits" column stays empty while it does not).

{table_stats(results, progs, stat_engs)}

## Peak RSS (MiB, `/usr/bin/time -v`)

{table_rss(results, engines, progs)}
"""


# ---------------------------------------------------------------- main


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("quick", "full"), default="full")
    p.add_argument("--dir", required=True, help="directory with the built <prog>.kernel / <prog>.linux")
    p.add_argument("--tcg86", default="target/release/tcg86")
    p.add_argument("--tcg86-commit", default=os.environ.get("TCG86_COMMIT"))
    p.add_argument("--qemu", default="qemu-system-i386")
    p.add_argument("--progs", default="compute calls memory smc empty straight")
    p.add_argument("--straight-n", type=int, default=100000)
    p.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "?"))
    p.add_argument("--runs", type=int)
    p.add_argument("--nochain-runs", type=int, help="timed runs of the -d nochain engines")
    p.add_argument("--interp-runs", type=int, help="timed runs of the interpreter (0: the check run only)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    a.runs = a.runs or (3 if a.mode == "quick" else 11)
    a.nochain_runs = a.nochain_runs or (2 if a.mode == "quick" else 3)
    a.interp_runs = 0 if a.interp_runs is None else a.interp_runs
    return a


def main():
    a = parse_args()
    started = time.monotonic()
    require_tools(a)
    env = environment(a)
    tcg86_ok, why = tcg86_usable(a.tcg86)
    qemu_ok = shutil.which(a.qemu) is not None
    if not tcg86_ok:
        print(f"!!! tcg86 rows skipped: {why}", file=sys.stderr)
    if not qemu_ok:
        print(f"!!! QEMU rows skipped: {a.qemu} not found", file=sys.stderr)
    engines = make_engines(a, tcg86_ok, qemu_ok)
    progs = a.progs.split()
    print(f"bench ({a.mode}): {len(progs)} programs x {len(engines)} engines", flush=True)
    results, failures = measure(a, engines, progs)
    tc = translation_cost(results, a)
    goals = goal_status(results, tc)
    env["load_end"] = loadavg()
    text = report(a, env, engines, progs, results, failures, tc, goals, time.monotonic() - started)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    with open(os.path.join(a.dir, "results.json"), "w") as f:
        json.dump({"env": env, "results": results, "translation": tc}, f, indent=1, default=str)
    print(summary(results, engines, progs, tc, goals, a.out), flush=True)
    if failures:
        print(f"!!! {len(failures)} check(s) FAILED (see above and {a.out})", file=sys.stderr)
        return 1
    return 0


def summary(results, engines, progs, tc, goals, out):
    lines = ["", "median wall ms: " + ", ".join(e.name for e in engines)]
    for p in progs:
        cells = [cell_time(results, p, e.name) for e in engines]
        lines.append(f"  {p:<9} " + "  ".join(f"{c:>10}" for c in cells))
    lines.append("goals:")
    for (name, target), (_, text, ok) in zip(GOALS, goals):
        lines.append(f"  {name:<30} {target:<18} {text:<42} {status_text(ok).replace('**', '').upper()}")
    lines.append(f"report: {out}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
