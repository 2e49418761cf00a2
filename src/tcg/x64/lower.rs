//! Lowering: IR ops of one TB → x86-64 code, following the register plan of `regalloc.rs`.
//!
//! Scratch registers rax, rcx, rdx and r11 are never allocated: each op may use them freely.
//! Between ops nothing is pushed (`push_depth` is 0), so stack slots sit at `[rsp + 8*i]`.
//! Out-of-line code (TLB slow paths, exception exits) is emitted after the TB body.

use super::codebuf::{CodeBuf, DynLabel};
use super::defer::{computable, deferrable_output, deferral, Deferral};
use super::emit::{x86_cc, AluOp, Emitter, Reg, ShiftOp, BUDGET_REG, ENV_REG, R11, R8, RAX, RCX, RDI, RDX, RSI, RSP};
use super::hoist::{self, Site};
use super::loop_defer::{loop_deferral, LoopDeferral};
use super::page_reuse::{self, Reuse, POISON};
use super::regalloc::{plan, surely_pinned, Home, Plan, MAX_SLOTS, POOL_REGS};
use super::{
    ret_word, CompileError, GotoTbSite, IndirectSite, JitLayout, TbInfo, EXIT_LINK_INDIRECT, EXIT_REQUESTED, RET_RAISED,
};
use crate::cpu::jmp_cache::{TbJmpCache, TB_JMP_CACHE_BITS, TB_JMP_CACHE_SIZE};
use crate::softmmu::TlbEntry;
use crate::tcg::ir::{Cond, HelperFlags, LookupKey, MemOp, Op, TcgContext, Temp, HELPER_EXIT};
use crate::tcg::opcode::{OpFlags, Opcode};
use crate::tcg::Runtime;
use alloc::vec;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};

/// A value operand after lookup.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Val {
    Reg(Reg),
    Imm(u32),
    /// `[base + disp]` (env field or stack slot).
    Mem(Reg, i32),
}

/// Where a TLB slow path comes from and goes back to, and what it moves.
struct SlowPathSite {
    entry: DynLabel,
    resume: DynLabel,
    is_store: bool,
    memop: u32,
    mmu_idx: u32,
    /// The address: where it is plus a displacement (a register and 0, except for an access
    /// whose fast path does not compute its address, `hoist::Site::addr_def`); for stores, the
    /// value (a register or a constant).
    addr: (Val, u32),
    value: Option<Val>,
    /// For loads: the register the fast path loads into, and the memory home to store it to when
    /// that register is the scratch rax.
    out: Option<(Reg, Option<Val>)>,
    /// A load paired with a store to the same address: the slow path clears r11 (the store
    /// then takes its own slow path).
    clears_r11: bool,
    /// The fast path turned the address register into `A - tag` (`Lower::tlb_lookup` in place):
    /// the slow path adds the tag back first, from `[env + rcx + this]` (rcx is still the
    /// entry's offset there).
    restore: Option<i32>,
    /// The page-offset register of a lookup later accesses reuse: the slow path leaves
    /// `page_reuse::POISON` in it, so they take their own slow paths.
    poison: Option<Reg>,
}

/// A TLB slow path to emit after the body.
struct SlowPath {
    site: SlowPathSite,
    /// Registers to save around the call.
    live: Vec<Reg>,
    insn: u32,
    /// The deferred ops it computes into `env` first (`defer.rs`).
    deferred: Vec<DeferredOp>,
    /// The loop-carried ones it computes in every pass but the first (`loop_defer.rs`).
    later_passes: Vec<DeferredOp>,
    /// Pinned globals not loaded at entry and not yet written (`Plan::late`), by env offset: not
    /// written back.
    unwritten: Vec<i32>,
}

/// An access whose lookup later accesses reuse (`page_reuse.rs`): the registers that keep its
/// host page and page offset from it to its last reuser.
#[derive(Copy, Clone)]
struct ReusedLookup {
    op: usize,
    host: Reg,
    offset: Reg,
    last: usize,
    /// Once its lookup is emitted: whether it checked the write tag.
    write: Option<bool>,
}

/// Where a guest access reaches host memory: `[base + index]` or `[base + disp]`.
#[derive(Copy, Clone)]
enum HostAddr {
    Indexed(Reg, Reg),
    Disp(Reg, i32),
}

/// The out-of-line lookup of an access that keeps its last page (`hoist.rs`): on a hit it fills the
/// page's two slots and goes back to the access with rcx = host page, rax = offset; on a miss it
/// goes to the access's slow path.
struct Refill {
    entry: DynLabel,
    back: DynLabel,
    slow: DynLabel,
    addr: Reg,
    /// Where the access's page offset goes: rax, or `addr` itself when nothing needs the
    /// address after the access (the refill first adds the page back).
    offset: Reg,
    size: u32,
    table: i32,
    /// Check the write tag (which implies the read tag), else the read tag.
    write: bool,
    cached: Cached,
}

/// The out-of-line lookup of a hoisted access whose slot is 0 (`Lower::emit_hoist_refill`): on
/// a hit it fills the slot and goes back to the access with r11 = host address; on a miss it goes
/// to the access's slow path.
struct HoistRefill {
    entry: DynLabel,
    back: DynLabel,
    slow: DynLabel,
    site: Site,
    slot: u32,
}

/// An access of a looping TB that keeps the page of its last lookup (`hoist.rs`).
#[derive(Copy, Clone, Debug)]
struct Cached {
    /// The `qemu_ld`/`qemu_st` op.
    op: usize,
    /// The first of two stack slots: the page's guest address, and its host address.
    slot: u32,
    /// A spare register holding the page's host address instead of slot `slot + 1`.
    host: Option<Reg>,
    /// A spare register holding the page's guest address negated, instead of slot `slot`.
    page: Option<Reg>,
    /// With `page`: the add computing the address as `base + disp`, which the access does itself
    /// (`hoist::fusable_address`): `(the add, base, disp)`.
    fused: Option<(usize, Temp, u32)>,
}

/// A deferred op as its slow path computes it: operands located where they were at the access.
struct DeferredOp {
    opc: Opcode,
    ins: [Val; 2],
    konst: [u32; 2],
    /// The env offset of its global; `None` for an op computing a temp only deferred ops read
    /// (`defer::defer_feeders`).
    global: Option<i32>,
    /// Where a slow path puts the value: the global's field in `env`, or the temp's home (where
    /// its readers find it).
    dest: Val,
}

struct Lower<'a, 'c> {
    e: Emitter<'a>,
    ctx: &'c TcgContext,
    ops: &'c [Op],
    /// The `qemu_st` paired with the last `qemu_ld` (see `rmw_store`), not yet lowered.
    rmw_store: Option<usize>,
    plan: Plan,
    /// Pool register currently holding each temp (for `Home::Pool` temps).
    reg_of: Vec<Option<Reg>>,
    /// Which pool registers are taken.
    /// The temp each pool register holds, if any.
    pool_used: [Option<u32>; 16],
    labels: Vec<DynLabel>,
    slow: Vec<SlowPath>,
    raised: Vec<(u32, DynLabel)>,
    insn: u32,
    starts: u32,
    /// Host offset of each guest instruction's code.
    insn_offsets: Vec<u32>,
    op_index: usize,
    rt: &'c Runtime,
    layout: &'c JitLayout,
    epilogue: usize,
    tb: TbInfo,
    jmp_offsets: [Option<GotoTbSite>; 2],
    /// The rel32 field of each `jcc` a brcond emitted, with its IR label.
    jcc_fields: Vec<(u32, usize)>,
    /// The IR label bound last, and where.
    bound: Option<(u32, usize)>,
    /// The patchable fields of this TB's indirect-jump link, if its `lookup_tb_ptr` has one.
    indirect: Option<IndirectSite>,
    /// Accesses whose lookup later accesses reuse (`page_reuse.rs`).
    reused: Vec<ReusedLookup>,
    /// The accesses that reuse an earlier lookup.
    reusers: Vec<Reuse>,
    budget_stop: Option<DynLabel>,
    /// The TB's body, after the entry code (the target of in-TB back edges).
    body: Option<DynLabel>,
    /// `goto_tb` slots that loop back inside the TB.
    self_slots: [bool; 2],
    lookup_key: LookupKey,
    /// `lookup_tb_ptr` called its helper, which wrote the pinned globals back.
    synced_for_goto_ptr: bool,
    deferral: Deferral,
    /// The address ops of hoisted accesses that only their fallbacks compute (`Site::addr_def`).
    sunk: Vec<bool>,
    /// Flag writes of a looping TB that wait for the exits and slow paths (`loop_defer.rs`).
    loop_deferral: LoopDeferral,
    /// The stack slot where the TB entry saves the budget register, when a slow path must tell
    /// the first pass from the others.
    first_pass_mark: Option<u32>,
    /// Accesses whose TLB lookup is done at TB entry, with the stack slot of their host address.
    hoisted: Vec<(Site, u32)>,
    /// Accesses that keep their last page.
    cached: Vec<Cached>,
    refills: Vec<Refill>,
    hoist_refills: Vec<HoistRefill>,
    /// The next op was folded into the current one (`fuse_add3`): skip it.
    skip_next: bool,
    /// Where the value the op before stored into `env`'s eip still is (a register or a constant),
    /// for an inline jump-cache probe right after it: no reload of what was just stored.
    eip_value: Option<Val>,
}

/// The result of lowering one TB.
pub struct Lowered {
    pub size: usize,
    pub insn_offsets: Vec<u32>,
    /// Buffer offsets of the `goto_tb` jumps.
    pub jmp_offsets: [Option<GotoTbSite>; 2],
    /// Host addresses of the indirect-jump link's fields.
    pub indirect: Option<IndirectSite>,
}

/// Compile one TB into `buf`.
pub fn compile(
    ctx: &TcgContext,
    buf: CodeBuf,
    rt: &Runtime,
    layout: &JitLayout,
    epilogue: usize,
    tb: TbInfo,
) -> Result<Lowered, CompileError> {
    let loops = tb.chain && ctx.goto_tb_self.contains(&true);
    let (sites, cached_ops) = if loops { hoist::accesses(ctx) } else { (Vec::new(), Vec::new()) };
    let across = if loops { loop_deferral(ctx) } else { LoopDeferral::none(ctx.ops.len()) };
    let (plan, mut deferral, sunk) = plan_tb(ctx, loops, &sites, &across.ops, true)?;
    let mut slots = plan.nb_slots..MAX_SLOTS as u32;
    let hoisted = sites.into_iter().zip(&mut slots).collect();
    let (loop_deferral, first_pass_mark) = defer_across_passes(across, &mut slots, &mut deferral);
    let mut spare = spare_pool_regs(&plan).into_iter();
    let cached = cached_ops.into_iter().map_while(|op| {
        let slot = slots.next()?;
        slots.next()?; // the page's host address, when no register holds it
        Some(Cached { op, slot, host: spare.next(), page: None, fused: None })
    });
    let mut cached: Vec<Cached> = cached.collect();
    let mut sunk = sunk;
    for c in cached.iter_mut().filter(|c| c.host.is_some()) {
        let Some(page) = spare.next() else { break };
        c.page = Some(page);
        c.fused = hoist::fusable_address(ctx, c.op).filter(|f| !deferral.skipped[f.0] && !sunk[f.0]);
        if let Some((def, ..)) = c.fused {
            sunk[def] = true;
        }
    }
    let (reused, reusers) = if loops { (Vec::new(), Vec::new()) } else { reuse_lanes(ctx, spare.collect()) };
    let mut e = Emitter::new(buf);
    let labels = (0..ctx.nb_labels).map(|_| e.buf.new_label()).collect();
    let n = ctx.temps.len();
    let mut l = Lower {
        e,
        ctx,
        ops: &ctx.ops,
        rmw_store: None,
        plan,
        reg_of: vec![None; n],
        pool_used: [None; 16],
        labels,
        slow: Vec::new(),
        raised: Vec::new(),
        insn: 0,
        starts: 0,
        insn_offsets: Vec::new(),
        op_index: 0,
        rt,
        layout,
        epilogue,
        tb,
        jmp_offsets: [None; 2],
        jcc_fields: Vec::new(),
        bound: None,
        indirect: None,
        reused,
        reusers,
        budget_stop: None,
        body: None,
        self_slots: ctx.goto_tb_self.map(|s| s && tb.chain),
        lookup_key: ctx.lookup_key,
        synced_for_goto_ptr: false,
        deferral,
        sunk,
        loop_deferral,
        first_pass_mark,
        hoisted,
        cached,
        refills: Vec::new(),
        hoist_refills: Vec::new(),
        eip_value: None,
        skip_next: false,
    };
    l.tb_entry();
    for (i, op) in ctx.ops.iter().enumerate() {
        l.op_index = i;
        if !matches!(op.opc, Opcode::InsnStart | Opcode::LookupTbPtr) {
            l.eip_value = None;
        }
        if !l.deferral.skipped[i] && !l.sunk[i] && !core::mem::take(&mut l.skip_next) {
            l.lower_op(op);
        } else if l.deferral.skipped[i] && deferrable_output(ctx, op).is_none() {
            // A deferred op computing a temp: its slow paths write the temp's register.
            l.out_reg(op.out(0));
        }
        l.free_dead();
    }
    // A TB may end in a helper that always leaves (raise_exception); never run off its end.
    l.exit_with(0);
    l.emit_out_of_line();
    let insn_offsets = core::mem::take(&mut l.insn_offsets);
    let (jmp_offsets, indirect) = (l.jmp_offsets, l.indirect);
    let size = l.e.buf.finish().map_err(|_| CompileError::BufferFull)?;
    Ok(Lowered { size, insn_offsets, jmp_offsets, indirect })
}

/// The register plan, the deferred ops and the sunk address ops (`Site::addr_def`) of a TB with
/// hoisted accesses `sites` and loop-carried deferred ops `across` (which, like the sunk ops, do
/// not count towards pinning). Nothing is sunk when the stack slots would not leave one for each
/// site (the sites beyond are not hoisted, and their address ops must run).
fn plan_tb(
    ctx: &TcgContext,
    loops: bool,
    sites: &[Site],
    across: &[usize],
    sink: bool,
) -> Result<(Plan, Deferral, Vec<bool>), CompileError> {
    let mut sunk = vec![false; ctx.ops.len()];
    for d in sites.iter().filter_map(|s| s.addr_def).filter(|_| sink) {
        sunk[d] = true;
    }
    let mut unused = sunk.clone();
    for &k in across {
        unused[k] = true;
    }
    let deferral = deferral(ctx, || surely_pinned(ctx, loops, &unused));
    // Ops the fast path skips do not count towards pinning either, except those that read their
    // own global: deferring them may have relied on it being pinned (`surely_pinned`), and
    // counting fewer uses of other globals keeps it so.
    let reads_own = |op: &Op| op.outputs().iter().any(|t| op.inputs().contains(t));
    let uncounted: Vec<bool> =
        ctx.ops.iter().enumerate().map(|(i, op)| unused[i] || (deferral.skipped[i] && !reads_own(op))).collect();
    let plan = plan(ctx, loops, &deferral.until, &unused, &uncounted).map_err(|_| CompileError::TooComplex)?;
    if sink && plan.nb_slots as usize + sites.len() > MAX_SLOTS {
        return plan_tb(ctx, loops, sites, across, false);
    }
    Ok((plan, deferral, sunk))
}

/// The loop-carried deferral `d` (`loop_defer.rs`) with the stack slot of its first-pass mark if
/// a slow path needs one (none when no slot is left: then nothing is deferred); its ops join
/// `deferral`'s skipped ops, and those computed in every pass its pending lists.
fn defer_across_passes(
    d: LoopDeferral,
    slots: &mut impl Iterator<Item = u32>,
    deferral: &mut Deferral,
) -> (LoopDeferral, Option<u32>) {
    let mark = match d.needs_first_pass_mark() {
        true => match slots.next() {
            Some(slot) => Some(slot),
            None => return (LoopDeferral::none(deferral.skipped.len()), None),
        },
        false => None,
    };
    for &k in &d.ops {
        deferral.skipped[k] = true;
    }
    for (a, ks) in d.every_pass.iter().enumerate() {
        deferral.pending[a].extend(ks);
    }
    (d, mark)
}

/// The lookups later accesses reuse, each with two of the `spare` registers (host page, page
/// offset) from the lookup to its last reuser, and the reusers (`page_reuse.rs`).
fn reuse_lanes(ctx: &TcgContext, spare: Vec<Reg>) -> (Vec<ReusedLookup>, Vec<Reuse>) {
    let lanes: Vec<(Reg, Reg)> = spare.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let reusers = page_reuse::reuses(ctx, lanes.len());
    let mut busy_until: Vec<Option<usize>> = vec![None; lanes.len()];
    let mut reused: Vec<ReusedLookup> = Vec::new();
    let mut kept = Vec::new();
    for r in &reusers {
        if !reused.iter().any(|f| f.op == r.first) {
            let last = reusers.iter().filter(|x| x.first == r.first).map(|x| x.op).max().unwrap_or(r.op);
            // A lane whose last lookup's reusers all come before this lookup.
            let Some(k) = (0..lanes.len()).find(|&k| busy_until[k].is_none_or(|b| b < r.first)) else { continue };
            busy_until[k] = Some(last);
            reused.push(ReusedLookup { op: r.first, host: lanes[k].0, offset: lanes[k].1, last, write: None });
        }
        kept.push(*r);
    }
    (reused, kept)
}

/// The pool registers neither temps nor pinned globals use: in a TB that loops, they hold the
/// host pages of accesses that keep their last page.
fn spare_pool_regs(plan: &Plan) -> Vec<Reg> {
    let used = |r: &Reg| plan.pool.contains(r) || plan.caller_saved_pinned.contains(r);
    POOL_REGS.iter().copied().filter(|r| !used(r)).collect()
}

impl Lower<'_, '_> {
    // ---- locations ----

    fn slot_disp(i: u32) -> i32 {
        8 * i as i32
    }

    fn val(&self, t: Temp) -> Val {
        match self.plan.homes[t.0 as usize] {
            Home::Const(v) => Val::Imm(v),
            Home::Pinned(r) => Val::Reg(r),
            Home::Env(off) => Val::Mem(ENV_REG, off),
            Home::Slot(i) => Val::Mem(RSP, Self::slot_disp(i)),
            Home::EnvPtr => Val::Reg(ENV_REG),
            Home::Pool => match self.reg_of[t.0 as usize] {
                Some(r) => Val::Reg(r),
                // Read before written (dead path): any value will do.
                None => Val::Imm(0),
            },
        }
    }

    /// The register an output will live in, allocating a pool register if needed; `None` for
    /// memory homes (the value is computed in a scratch register and stored).
    fn out_reg(&mut self, t: Temp) -> Option<Reg> {
        match self.plan.homes[t.0 as usize] {
            Home::Pinned(r) => Some(r),
            Home::Pool => {
                if let Some(r) = self.reg_of[t.0 as usize] {
                    return Some(r);
                }
                let r = self.plan.pool.iter().copied().find(|r| self.pool_used[*r as usize].is_none());
                debug_assert!(r.is_some(), "the register plan leaves a pool register for every temp");
                if let Some(r) = r {
                    self.pool_used[r as usize] = Some(t.0);
                    self.reg_of[t.0 as usize] = Some(r);
                }
                r
            }
            _ => None,
        }
    }

    /// A guest address in a register: temp `t`'s own, or `scratch` holding it (computed as
    /// `base + disp` when the fast path skipped the op that computes `t`).
    fn address_in(&mut self, t: Temp, scratch: Reg) -> Reg {
        let Some((base, disp)) = self.sunk_address(t) else { return self.in_reg(t, R11) };
        self.load_sum(scratch, self.val(base), disp);
        scratch
    }

    /// r = v + disp.
    fn load_sum(&mut self, r: Reg, v: Val, disp: u32) {
        self.load(r, v);
        if disp != 0 {
            self.e.alu_ri(AluOp::Add, r, disp);
        }
    }

    /// `base + disp` when `t` is the address of a hoisted access that the fast path does not
    /// compute.
    fn sunk_address(&self, t: Temp) -> Option<(Temp, u32)> {
        let sunk = |s: &&Site| s.addr_def.is_some_and(|d| self.sunk[d]);
        let site = self.hoisted.iter().map(|h| &h.0).filter(sunk).find(|s| self.ops[s.op].addr_input() == t)?;
        Some((site.base, site.disp))
    }

    /// Load a value into register `r`.
    fn load(&mut self, r: Reg, v: Val) {
        match v {
            Val::Reg(s) => self.e.mov_rr(r, s),
            Val::Imm(i) => self.e.mov_ri(r, i),
            Val::Mem(b, d) => self.e.load32(r, b, d),
        }
    }

    /// The value of `t` in a register: its own if it has one, else loaded into `scratch`.
    fn in_reg(&mut self, t: Temp, scratch: Reg) -> Reg {
        match self.val(t) {
            Val::Reg(r) => r,
            v => {
                self.load(scratch, v);
                scratch
            }
        }
    }

    /// Store register `r` into output `t`'s home.
    fn put(&mut self, t: Temp, r: Reg) {
        match self.out_reg(t) {
            Some(d) => self.e.mov_rr(d, r),
            None => {
                if let Val::Mem(b, d) = self.val(t) {
                    self.e.store(b, d, r, 4);
                }
            }
        }
    }

    /// Free pool registers of temps whose last use is this op (or earlier: a deferred op's
    /// inputs live until an access that does not mention them).
    fn free_dead(&mut self) {
        for &r in &self.plan.pool {
            let Some(t) = self.pool_used[r as usize] else { continue };
            if self.plan.last_use[t as usize] <= self.op_index {
                self.pool_used[r as usize] = None;
                self.reg_of[t as usize] = None;
            }
        }
    }

    /// Pool registers holding temps that are still needed after the current op.
    fn live_pool_regs(&self, exclude: &[u32]) -> Vec<Reg> {
        let live = |t: u32| self.plan.last_use[t as usize] > self.op_index && !exclude.contains(&t);
        let pool = self.plan.pool.iter().copied();
        pool.filter(|&r| self.pool_used[r as usize].is_some_and(live)).collect()
    }

    // ---- pinned globals ----

    fn load_pinned(&mut self) {
        for &(_, r, off) in &self.plan.pinned.clone() {
            self.e.load32(r, ENV_REG, off);
        }
    }

    /// At TB entry: only the pinned globals whose entry value may be used (`Plan::entry_loads`).
    fn load_pinned_at_entry(&mut self) {
        for &(_, r, off) in &self.plan.entry_loads.clone() {
            self.e.load32(r, ENV_REG, off);
        }
    }

    fn sync_pinned(&mut self) {
        self.sync_pinned_except(&[]);
    }

    /// Write back the pinned globals but those at the env offsets `skip`.
    fn sync_pinned_except(&mut self, skip: &[i32]) {
        for &(_, r, off) in &self.plan.pinned_written.clone() {
            if !skip.contains(&off) {
                self.e.store(ENV_REG, off, r, 4);
            }
        }
    }

    // ---- entry and exits ----

    /// TB entry (every way in: from the loop, chained, or through lookup_and_goto_ptr):
    ///   budget -= icount; if negative: budget += icount, leave with EXIT_REQUESTED
    ///   load the pinned globals
    /// (the budget is `BUDGET_REG`: the prologue loads it from env and the epilogue stores it).
    fn tb_entry(&mut self) {
        let stop = self.e.buf.new_label();
        self.e.alu_ri(AluOp::Sub, BUDGET_REG, self.tb.icount);
        self.e.jcc(0x8, stop);
        self.load_pinned_at_entry();
        self.hoisted_lookups();
        if let Some(mark) = self.first_pass_mark {
            self.e.store(RSP, Self::slot_disp(mark), BUDGET_REG, 4);
        }
        if self.cached.iter().any(|c| c.page.is_none()) {
            self.e.mov_ri64(RAX, NO_PAGE);
        }
        for c in self.cached.clone() {
            match c.page {
                Some(page) => self.e.mov_ri64(page, NO_PAGE.wrapping_neg()),
                None => self.e.store64(RSP, Self::slot_disp(c.slot), RAX),
            }
        }
        self.budget_stop = Some(stop);
        if self.self_slots.contains(&true) {
            let body = self.e.buf.new_label();
            self.e.bind(body);
            self.body = Some(body);
        }
    }

    /// The out-of-line half of `tb_entry`: give the budget back and leave without running.
    fn emit_budget_stop(&mut self) {
        let Some(stop) = self.budget_stop.take() else { return };
        self.e.bind(stop);
        self.e.alu_ri(AluOp::Add, BUDGET_REG, self.tb.icount);
        self.e.mov_ri64(RAX, ret_word(self.tb.id, EXIT_REQUESTED as u64));
        self.e.jmp_abs(self.epilogue);
    }

    fn exit_with(&mut self, value: u32) {
        self.sync_pinned();
        self.e.mov_ri64(RAX, ret_word(self.tb.id, value as u64));
        self.e.jmp_abs(self.epilogue);
    }

    /// goto_tb: write back the pinned globals (the next TB loads them from env), then a patchable
    ///   jmp rel32   ; to the next TB once chained, else to the following exit code
    ///
    /// A `goto_tb` back to the TB itself first tries an in-TB back edge: pinned globals stay in
    /// their registers and only the budget is charged,
    ///   sub budget, icount; jns body; add budget, icount
    /// and falls into the ordinary exit when the budget is spent (the loop then sees the state
    /// of the TB's start, as after any exit).
    fn goto_tb(&mut self, slot: u32) {
        if let (Some(body), Some(true)) = (self.body, self.self_slots.get(slot as usize)) {
            self.back_edge(body);
        }
        self.materialize_loop_deferred();
        self.sync_pinned();
        let site = self.e.buf.offset();
        self.e.jmp_next();
        // A label bound right here, reached by one jcc: the jcc can go to the next TB itself.
        let here = self.bound.filter(|b| b.1 == site).map(|b| b.0);
        let mut from = self.jcc_fields.iter().filter(|j| Some(j.0) == here);
        let jcc = match (from.next(), from.next()) {
            (Some(j), None) => Some(j.1),
            _ => None,
        };
        if let Some(s) = self.jmp_offsets.get_mut(slot as usize) {
            *s = Some(GotoTbSite { jmp: site, jcc });
        }
    }

    /// The in-TB back edge: charge the budget and go round again; give it back when spent.
    ///   sub budget, icount; jns body; add budget, icount
    fn back_edge(&mut self, body: DynLabel) {
        let n = self.tb.icount;
        self.e.alu_ri(AluOp::Sub, BUDGET_REG, n);
        self.e.jcc(0x9, body);
        self.e.alu_ri(AluOp::Add, BUDGET_REG, n);
    }

    /// The label of the exception exit for the current guest instruction.
    fn raised_label(&mut self) -> DynLabel {
        if let Some(&(_, l)) = self.raised.iter().find(|(i, _)| *i == self.insn) {
            return l;
        }
        let l = self.e.buf.new_label();
        self.raised.push((self.insn, l));
        l
    }

    fn emit_out_of_line(&mut self) {
        self.emit_budget_stop();
        for r in core::mem::take(&mut self.refills) {
            self.emit_refill(r);
        }
        for r in core::mem::take(&mut self.hoist_refills) {
            self.emit_hoist_refill(r);
        }
        for sp in core::mem::take(&mut self.slow) {
            self.emit_slow_path(sp);
        }
        for (insn, l) in core::mem::take(&mut self.raised) {
            self.e.bind(l);
            self.e.mov_ri64(RAX, ret_word(self.tb.id, RET_RAISED | insn as u64));
            self.e.jmp_abs(self.epilogue);
        }
    }

    // ---- ops ----

    fn lower_op(&mut self, op: &Op) {
        match op.opc {
            Opcode::InsnStart => {
                self.insn = self.starts;
                self.starts += 1;
                self.insn_offsets.push(self.e.buf.offset() as u32);
            }
            Opcode::SetLabel => {
                self.e.bind(self.labels[op.konst(0) as usize]);
                self.bound = Some((op.konst(0), self.e.buf.offset()));
            }
            Opcode::Br => self.e.jmp(self.labels[op.konst(0) as usize]),
            Opcode::BrCond => self.lower_brcond(op),
            Opcode::GotoTb => self.goto_tb(op.konst(0)),
            Opcode::ExitTb => self.exit_with(op.konst(0)),
            Opcode::LookupTbPtr => self.lookup_tb_ptr(op),
            Opcode::GotoPtr => self.goto_ptr(op),
            Opcode::Mov => self.lower_mov(op),
            Opcode::Ld8u | Opcode::Ld8s | Opcode::Ld16u | Opcode::Ld16s | Opcode::Ld => self.lower_ld_env(op),
            Opcode::St8 | Opcode::St16 | Opcode::St => self.lower_st_env(op),
            Opcode::Add => self.lower_alu(op, AluOp::Add, true),
            Opcode::Sub => self.lower_alu(op, AluOp::Sub, false),
            Opcode::And => self.lower_alu(op, AluOp::And, true),
            Opcode::Or => self.lower_alu(op, AluOp::Or, true),
            Opcode::Xor => self.lower_alu(op, AluOp::Xor, true),
            Opcode::Shl => self.lower_shift(op, ShiftOp::Shl),
            Opcode::Shr => self.lower_shift(op, ShiftOp::Shr),
            Opcode::Sar => self.lower_shift(op, ShiftOp::Sar),
            Opcode::Rotl => self.lower_shift(op, ShiftOp::Rol),
            Opcode::Rotr => self.lower_shift(op, ShiftOp::Ror),
            Opcode::QemuSt if self.rmw_store == Some(self.op_index) => self.lower_rmw_store(op),
            Opcode::QemuLd | Opcode::QemuSt => self.lower_guest_access(op),
            Opcode::Call => self.lower_call(op),
            _ => self.lower_misc(op),
        }
    }

    fn lower_mov(&mut self, op: &Op) {
        let v = self.val(op.input(0));
        if let Some(d) = self.out_reg(op.out(0)) {
            return self.load(d, v);
        }
        match (v, self.val(op.out(0))) {
            (Val::Imm(i), Val::Mem(b, d)) => self.e.store_imm32(b, d, i),
            _ => {
                let r = self.in_reg(op.input(0), RAX);
                self.put(op.out(0), r);
            }
        }
    }

    /// The register to compute output `t` in: its own, or rax for a memory home (`put` stores it).
    fn dest(&mut self, t: Temp) -> Reg {
        self.out_reg(t).unwrap_or(RAX)
    }

    /// Unary and special ops, computed in the output's register.
    fn lower_misc(&mut self, op: &Op) {
        match op.opc {
            Opcode::Mulu2 | Opcode::Muls2 => return self.lower_mul2(op),
            Opcode::SetCond => return self.lower_setcond(op),
            Opcode::MovCond => return self.lower_movcond(op),
            Opcode::Mul | Opcode::Andc => return self.lower_mul_andc(op),
            Opcode::Deposit => return self.lower_deposit(op),
            _ => {}
        }
        let a = self.val(op.input(0));
        let d = self.dest(op.out(0));
        match op.opc {
            Opcode::Neg | Opcode::Not => {
                self.load(d, a);
                if op.opc == Opcode::Neg {
                    self.e.neg(d)
                } else {
                    self.e.not(d)
                }
            }
            Opcode::Ext8s | Opcode::Ext8u | Opcode::Ext16s | Opcode::Ext16u => {
                let bytes = if matches!(op.opc, Opcode::Ext8s | Opcode::Ext8u) { 1 } else { 2 };
                self.ext_into(d, a, bytes, matches!(op.opc, Opcode::Ext8s | Opcode::Ext16s));
            }
            Opcode::Bswap32 | Opcode::Bswap16 => {
                self.load(d, a);
                self.e.bswap(d);
                if op.opc == Opcode::Bswap16 {
                    self.e.shift_imm(ShiftOp::Shr, d, 16);
                }
            }
            Opcode::Clz | Opcode::Ctz => {
                self.lower_clz_ctz(op);
                self.e.mov_rr(d, RAX);
            }
            Opcode::Extract | Opcode::Sextract => self.lower_extract(op, d, a),
            _ => self.e.ud2(),
        }
        self.put(op.out(0), d);
    }

    /// d = zero- or sign-extended low 8/16 bits of `a` (movzx/movsx from a register or memory).
    fn ext_into(&mut self, d: Reg, a: Val, bytes: u8, signed: bool) {
        match a {
            Val::Reg(r) => self.e.ext(d, r, bytes, signed),
            Val::Mem(b, disp) => self.e.load_ext(d, b, disp, bytes, signed),
            Val::Imm(v) => {
                let v = match (bytes, signed) {
                    (1, false) => v & 0xff,
                    (1, true) => v as u8 as i8 as u32,
                    (_, false) => v & 0xffff,
                    _ => v as u16 as i16 as u32,
                };
                self.e.mov_ri(d, v)
            }
        }
    }

    /// d = a * b (imul, commutative) or d = a & ~b.
    fn lower_mul_andc(&mut self, op: &Op) {
        let (mut a, mut b) = (self.val(op.input(0)), self.val(op.input(1)));
        let d = self.dest(op.out(0));
        if op.opc == Opcode::Andc {
            self.load(RCX, b);
            self.e.not(RCX);
            self.load(d, a);
            self.e.alu_rr(AluOp::And, d, RCX);
            return self.put(op.out(0), d);
        }
        if b == Val::Reg(d) && a != b {
            core::mem::swap(&mut a, &mut b);
        }
        let src = match b {
            Val::Reg(r) if r != d || a == b => r,
            _ => {
                self.load(RCX, b);
                RCX
            }
        };
        self.load(d, a);
        self.e.imul_rr(d, src);
        self.put(op.out(0), d);
    }

    /// d = a op b, computed in place when the output has a register that does not alias b.
    fn lower_alu(&mut self, op: &Op, alu: AluOp, commutative: bool) {
        if alu == AluOp::Add && self.fuse_add3(op) {
            return;
        }
        let (a, b) = (self.val(op.input(0)), self.val(op.input(1)));
        let d = self.out_reg(op.out(0));
        let (a, b) = if commutative && Some(b) == d.map(Val::Reg) && a != b { (b, a) } else { (a, b) };
        let target = match d {
            Some(d) if Val::Reg(d) != b || a == b => d,
            _ => RAX,
        };
        match (alu, a, b) {
            (AluOp::Add, Val::Reg(ra), Val::Reg(rb)) => {
                self.e.lea_add(target, ra, rb);
                return self.put(op.out(0), target);
            }
            (AluOp::Add | AluOp::Sub, Val::Reg(ra), Val::Imm(v)) if ra != target => {
                self.e.lea_addi(target, ra, if alu == AluOp::Sub { v.wrapping_neg() } else { v });
                return self.put(op.out(0), target);
            }
            _ => {}
        }
        self.load(target, a);
        match b {
            Val::Imm(v) => self.e.alu_ri(alu, target, v),
            Val::Reg(r) => self.e.alu_rr(alu, target, r),
            Val::Mem(..) => {
                self.load(RCX, b);
                self.e.alu_rr(alu, target, RCX);
            }
        }
        self.put(op.out(0), target);
    }

    /// When the next op is `add u,t,b` (or `u,b,t`) and `t`, a pool temp, dies there (or `u` is
    /// `t`): `b`. The ops that fold their result into that add's (`fuse_add3`, `fuse_scaled`).
    fn next_add_of(&self, t: Temp) -> Option<Temp> {
        let i = self.op_index;
        let next = self.ops.get(i + 1)?;
        let t_dies = self.plan.last_use[t.0 as usize] == i + 1 || next.out(0) == t;
        let pool = matches!(self.plan.homes[t.0 as usize], Home::Pool);
        if next.opc != Opcode::Add || !t_dies || !pool || self.deferral.skipped[i + 1] || self.sunk[i + 1] {
            return None;
        }
        match (next.input(0), next.input(1)) {
            (x, y) if x == t && y != t => Some(y),
            (x, y) if y == t && x != t => Some(x),
            _ => None,
        }
    }

    /// `add t,a,$c` then `add u,t,b` (or `u,b,t`) with `t` dead after it (or `u` = `t`), as for a guest
    /// `c(a,b)` address: one `lea u, [a + b + c]`, and the second op is skipped.
    fn fuse_add3(&mut self, op: &Op) -> bool {
        let (Val::Imm(c), Some(b)) = (self.val(op.input(1)), self.next_add_of(op.out(0))) else { return false };
        let ra = self.in_reg(op.input(0), RAX);
        let rb = self.in_reg(b, RCX);
        let u = self.ops[self.op_index + 1].out(0);
        let d = self.out_reg(u).unwrap_or(RAX);
        self.e.lea_add_disp(d, ra, rb, c);
        self.put(u, d);
        self.skip_next = true;
        true
    }

    /// `shl t,x,$k` (k 1 to 3) then `add u,t,c` (or `u,c,t`) with `t` dead after it (or `u` =
    /// `t`), as for a guest `c(,x,2^k)` address or `lea c(,x,2^k)`: one
    /// `lea u, [c + x * 2^k]` (or `[b + x * 2^k]` for a temp `b`), and the add is skipped.
    fn fuse_scaled(&mut self, op: &Op) -> bool {
        let (Val::Imm(k @ 1..=3), Some(other)) = (self.val(op.input(1)), self.next_add_of(op.out(0))) else {
            return false;
        };
        let index = self.in_reg(op.input(0), RAX);
        let (base, disp) = match self.val(other) {
            Val::Imm(c) => (None, c),
            _ => (Some(self.in_reg(other, RCX)), 0),
        };
        let u = self.ops[self.op_index + 1].out(0);
        let d = self.out_reg(u).unwrap_or(RAX);
        self.e.lea_scaled(d, base, index, 1 << k, disp);
        self.put(u, d);
        self.skip_next = true;
        true
    }

    /// d = a shifted by b; a variable count goes to cl first (it may live in d).
    fn lower_shift(&mut self, op: &Op, sh: ShiftOp) {
        if sh == ShiftOp::Shl && self.fuse_scaled(op) {
            return;
        }
        let (a, b) = (self.val(op.input(0)), self.val(op.input(1)));
        let d = self.dest(op.out(0));
        match b {
            Val::Imm(n) => {
                self.load(d, a);
                self.e.shift_imm(sh, d, n as u8);
            }
            _ => {
                self.load(RCX, b);
                self.load(d, a);
                self.e.shift_cl(sh, d);
            }
        }
        self.put(op.out(0), d);
    }

    fn lower_ld_env(&mut self, op: &Op) {
        let (bytes, signed) = match op.opc {
            Opcode::Ld8u => (1, false),
            Opcode::Ld8s => (1, true),
            Opcode::Ld16u => (2, false),
            Opcode::Ld16s => (2, true),
            _ => (4, false),
        };
        let d = self.dest(op.out(0));
        self.e.load_ext(d, ENV_REG, op.konst(0) as i32, bytes, signed);
        self.put(op.out(0), d);
    }

    fn lower_st_env(&mut self, op: &Op) {
        let bytes = match op.opc {
            Opcode::St8 => 1,
            Opcode::St16 => 2,
            _ => 4,
        };
        let off = op.konst(0) as i32;
        let stored = match self.val(op.input(0)) {
            Val::Imm(v) if bytes == 4 => {
                self.e.store_imm32(ENV_REG, off, v);
                Val::Imm(v)
            }
            _ => {
                let r = self.in_reg(op.input(0), RAX);
                self.e.store(ENV_REG, off, r, bytes);
                Val::Reg(r)
            }
        };
        if off == self.layout.eip_off && bytes == 4 {
            self.eip_value = Some(stored);
        }
    }

    /// Compare `a` with `b`; returns the x86 condition nibble to test. `test r,r` sets the flags
    /// exactly as `cmp r,0` does (CF = OF = 0), for every condition.
    fn emit_cmp(&mut self, a: Temp, b: Temp, cond: Cond) -> u8 {
        let ra = self.in_reg(a, RAX);
        match self.val(b) {
            Val::Imm(0) => self.e.test_rr(ra, ra),
            Val::Imm(v) => self.e.alu_ri(AluOp::Cmp, ra, v),
            Val::Reg(r) => self.e.alu_rr(AluOp::Cmp, ra, r),
            v => {
                self.load(RCX, v);
                self.e.alu_rr(AluOp::Cmp, ra, RCX);
            }
        }
        x86_cc(cond)
    }

    fn lower_brcond(&mut self, op: &Op) {
        let label = self.labels[op.konst(1) as usize];
        match Cond::from_u32(op.konst(0)).unwrap_or(Cond::Never) {
            Cond::Never => {}
            Cond::Always => self.e.jmp(label),
            c => {
                let cc = self.emit_cmp(op.input(0), op.input(1), c);
                self.e.jcc(cc, label);
                // (A full buffer stops advancing: the offset is then meaningless, and `finish`
                // fails the compile.)
                self.jcc_fields.push((op.konst(1), self.e.buf.offset().wrapping_sub(4)));
            }
        }
    }

    fn lower_setcond(&mut self, op: &Op) {
        let d = self.dest(op.out(0));
        match Cond::from_u32(op.konst(0)).unwrap_or(Cond::Never) {
            c @ (Cond::Never | Cond::Always) => self.e.mov_ri(d, (c == Cond::Always) as u32),
            c => {
                let cc = self.emit_cmp(op.input(0), op.input(1), c);
                self.e.setcc(cc, d);
            }
        }
        self.put(op.out(0), d);
    }

    /// d = (c1 cond c2) ? v1 : v2 — the moves after the compare must not touch flags.
    fn lower_movcond(&mut self, op: &Op) {
        let cond = Cond::from_u32(op.konst(0)).unwrap_or(Cond::Never);
        let (v1, v2) = (self.val(op.input(2)), self.val(op.input(3)));
        let d = self.dest(op.out(0));
        match cond {
            Cond::Always => self.load(d, v1),
            Cond::Never => self.load(d, v2),
            c => {
                self.load(RDX, v1);
                self.load(R11, v2);
                let cc = self.emit_cmp(op.input(0), op.input(1), c);
                self.e.mov_rr(d, R11);
                self.e.cmovcc(cc, d, RDX);
            }
        }
        self.put(op.out(0), d);
    }

    /// (hi:lo) = a * b with the one-operand `imul`/`mul`: eax = a; edx:eax = eax * b.
    fn lower_mul2(&mut self, op: &Op) {
        let b = self.in_reg(op.input(1), RCX);
        self.load(RAX, self.val(op.input(0)));
        self.e.mul_wide32(b, op.opc == Opcode::Muls2);
        self.put(op.out(0), RAX);
        self.put(op.out(1), RDX);
    }

    /// clz: bsr gives the index i of the top bit and clz = i ^ 31; for a zero input the result is
    /// the second operand (pre-xored so the final xor restores it). ctz: bsf, same zero rule.
    fn lower_clz_ctz(&mut self, op: &Op) {
        let clz = op.opc == Opcode::Clz;
        self.load(RCX, self.val(op.input(1)));
        if clz {
            self.e.alu_ri(AluOp::Xor, RCX, 31);
        }
        let a = self.in_reg(op.input(0), RDX);
        if clz {
            self.e.bsr(RAX, a)
        } else {
            self.e.bsf(RAX, a)
        }
        self.e.cmovcc(0x4, RAX, RCX);
        if clz {
            self.e.alu_ri(AluOp::Xor, RAX, 31);
        }
    }

    /// d = a with bits pos..pos+len replaced by the low bits of b. The low byte or word is a
    /// plain partial-register move.
    fn lower_deposit(&mut self, op: &Op) {
        let (pos, len) = (op.konst(0), op.konst(1));
        let mask = if len >= 32 { u32::MAX } else { ((1u32 << len) - 1) << pos };
        let (a, b) = (self.val(op.input(0)), self.val(op.input(1)));
        let d = self.dest(op.out(0));
        match b {
            Val::Imm(v) => {
                self.load(d, a);
                self.e.alu_ri(AluOp::And, d, !mask);
                if (v << pos) & mask != 0 {
                    self.e.alu_ri(AluOp::Or, d, (v << pos) & mask);
                }
            }
            Val::Reg(rb) if pos == 0 && (len == 8 || len == 16) && rb != d => {
                self.load(d, a);
                self.e.mov_low(d, rb, (len / 8) as u8);
            }
            _ if pos == 0 && (len == 8 || len == 16) => {
                self.load(RCX, b);
                self.load(d, a);
                self.e.mov_low(d, RCX, (len / 8) as u8);
            }
            _ => {
                self.load(RCX, b);
                self.e.shift_imm(ShiftOp::Shl, RCX, pos as u8);
                self.e.alu_ri(AluOp::And, RCX, mask);
                self.load(d, a);
                self.e.alu_ri(AluOp::And, d, !mask);
                self.e.alu_rr(AluOp::Or, d, RCX);
            }
        }
        self.put(op.out(0), d);
    }

    /// d = bits pos..pos+len of a, zero- or sign-extended (movzx/movsx for the low byte or word).
    fn lower_extract(&mut self, op: &Op, d: Reg, a: Val) {
        self.extract_into(d, a, op.konst(0), op.konst(1), op.opc == Opcode::Sextract);
    }

    /// d = bits [pos, pos + len) of a, zero- or sign-extended.
    fn extract_into(&mut self, d: Reg, a: Val, pos: u32, len: u32, signed: bool) {
        let len = len.clamp(1, 32);
        if pos == 0 && (len == 8 || len == 16) {
            return self.ext_into(d, a, (len / 8) as u8, signed);
        }
        self.load(d, a);
        if signed {
            self.e.shift_imm(ShiftOp::Shl, d, (32 - pos - len) as u8);
            self.e.shift_imm(ShiftOp::Sar, d, (32 - len) as u8);
        } else {
            self.e.shift_imm(ShiftOp::Shr, d, pos as u8);
            if pos + len < 32 {
                self.e.alu_ri(AluOp::And, d, (1u32 << len) - 1);
            }
        }
    }

    /// lookup_tb_ptr: write back pinned globals (the TB key it builds reads `cc_op` from env),
    /// then ask the jump cache for the next TB's code (a call).
    fn lookup_tb_ptr(&mut self, op: &Op) {
        match (self.tb.chain, self.lookup_key) {
            // The frontend always follows the lookup with its goto_ptr, which the probe does.
            (true, LookupKey::Known { cs_base, flags }) if self.goto_ptr_next(op) => {
                self.probe_jmp_cache(cs_base, flags);
                self.skip_next = true;
                return;
            }
            _ => {
                self.sync_pinned();
                self.synced_for_goto_ptr = true;
                let live = self.live_pool_regs(op.outputs());
                let pad = self.save_regs(&live);
                self.e.mov_rr64(RDI, ENV_REG);
                self.e.call_abs(self.rt.lookup_tb_ptr as usize);
                self.restore_regs(&live, pad);
            }
        }
        // The result is a 64-bit host pointer: keep all of it.
        match self.out_reg(op.out(0)) {
            Some(d) => self.e.mov_rr64(d, RAX),
            None => {
                if let Val::Mem(b, d) = self.val(op.out(0)) {
                    self.e.store64(b, d, RAX);
                }
            }
        }
    }

    /// The next op is the `goto_ptr` to what lookup `op` finds.
    fn goto_ptr_next(&self, op: &Op) -> bool {
        let next = self.ops.get(self.op_index + 1);
        next.is_some_and(|n| n.opc == Opcode::GotoPtr && n.input(0) == op.out(0))
    }

    /// The helper's jump-cache lookup inline, with the key's CS base and flags as constants, behind
    /// the TB's indirect-jump link (`IndirectSite`, patched by the exec loop):
    ///   eax = [env + eip] + cs_base         ; the register eip was just stored from, if any
    ///   cmp eax, LINKED_PC; jne probe       ; unlinked: jne miss (goto_ptr leaves to be linked)
    ///   write the pinned globals back; jmp LINKED_TB   ; unlinked: jmp miss
    ///   probe: rcx = table + 32 * ((eax ^ eax >> 12 ^ flags_hash) & (size - 1))
    ///   a hit when [rcx] == eax && [rcx + 8] == flags && [rcx + 4] == cs_base
    /// With a CS base of 0 one 64-bit compare checks pc and CS base (the pc register's high half
    /// is clear). The `goto_ptr` that follows is done here: a hit writes the pinned globals back
    /// and jumps to the code at once, and a miss leaves as `goto_ptr` does:
    ///   hit: rax = [rcx + 16]; write the pinned globals back; jmp rax
    ///   miss: write the pinned globals back; leave with EXIT_LINK_INDIRECT
    fn probe_jmp_cache(&mut self, cs_base: u32, flags: u32) {
        let lay = self.layout;
        let pc = match (self.eip_value.take(), cs_base) {
            (Some(Val::Reg(r)), 0) => r,
            (v, _) => {
                match v {
                    Some(Val::Reg(r)) => self.e.mov_rr(RAX, r),
                    Some(Val::Imm(v)) => self.e.mov_ri(RAX, v),
                    _ => self.e.load32(RAX, ENV_REG, lay.eip_off),
                }
                if cs_base != 0 {
                    self.e.alu_ri(AluOp::Add, RAX, cs_base);
                }
                RAX
            }
        };
        let miss = self.e.buf.new_label();
        self.e.cmp_ri32_wide(pc, 0);
        let linked_pc = self.e.buf.addr() - 4;
        self.e.jcc(0x5, miss);
        let jne_rel = self.e.buf.addr() - 4;
        self.sync_pinned();
        let jmp_site = self.e.buf.addr();
        self.e.jmp_next();
        self.e.jmp(miss);
        let probe = self.e.buf.addr();
        let mask = (TB_JMP_CACHE_SIZE - 1) as u32;
        self.e.mov_rr(RCX, pc);
        self.e.shift_imm(ShiftOp::Shr, RCX, TB_JMP_CACHE_BITS as u8);
        self.e.alu_rr(AluOp::Xor, RCX, pc);
        let k = TbJmpCache::flags_hash(flags) & mask;
        if k != 0 {
            self.e.alu_ri(AluOp::Xor, RCX, k);
        }
        self.e.alu_ri(AluOp::And, RCX, mask);
        self.e.shift_imm(ShiftOp::Shl, RCX, 5);
        self.e.add_mem64(RCX, ENV_REG, lay.jmp_cache_off);
        if cs_base == 0 {
            self.e.cmp_mem64(pc, RCX, 0);
            self.e.jcc(0x5, miss);
        } else {
            self.e.cmp_mem32(pc, RCX, 0);
            self.e.jcc(0x5, miss);
            self.e.cmp_mem32_imm(RCX, 4, cs_base);
            self.e.jcc(0x5, miss);
        }
        self.e.cmp_mem32_imm(RCX, 8, flags);
        self.e.jcc(0x5, miss);
        self.e.load64(RAX, RCX, 16);
        self.sync_pinned();
        self.e.jmp_reg(RAX);
        self.e.bind(miss);
        let unlinked = self.e.buf.addr();
        self.indirect = Some(IndirectSite { linked_pc, jne_rel, jmp_site, probe, unlinked });
        self.sync_pinned();
        self.leave_to_loop();
    }

    /// goto_ptr: write back pinned globals (unless the helper call of `lookup_tb_ptr` just did);
    /// jump to the code if non-null, else return to the loop.
    fn goto_ptr(&mut self, op: &Op) {
        if !core::mem::take(&mut self.synced_for_goto_ptr) {
            self.sync_pinned();
        }
        let target = match self.val(op.input(0)) {
            Val::Reg(r) => r,
            Val::Mem(b, d) => {
                self.e.load64(RAX, b, d);
                RAX
            }
            Val::Imm(v) => {
                self.e.mov_ri(RAX, v);
                RAX
            }
        };
        let to_loop = self.e.buf.new_label();
        // A host code address: all 64 bits (one at a 4 GiB boundary has its low half zero).
        self.e.test_rr64(target, target);
        self.e.jcc(0x4, to_loop);
        self.e.jmp_reg(target);
        self.e.bind(to_loop);
        self.leave_to_loop();
    }

    /// The exit of a `goto_ptr` that found no code: through a link that is not set (or a jump
    /// cache miss), the exec loop links it.
    fn leave_to_loop(&mut self) {
        let value = if self.indirect.is_some() { u64::from(EXIT_LINK_INDIRECT) } else { 0 };
        self.e.mov_ri64(RAX, ret_word(self.tb.id, value));
        self.e.jmp_abs(self.epilogue);
    }

    // ---- calls ----

    /// Push `regs` (and pad to keep rsp 16-byte aligned); returns the padding used.
    fn save_regs(&mut self, regs: &[Reg]) -> bool {
        for &r in regs {
            self.e.push_r(r);
        }
        let pad = regs.len() % 2 == 1;
        if pad {
            self.e.sub_rsp(8);
        }
        pad
    }

    fn restore_regs(&mut self, regs: &[Reg], pad: bool) {
        if pad {
            self.e.add_rsp(8);
        }
        for &r in regs.iter().rev() {
            self.e.pop_r(r);
        }
    }

    /// Put helper arguments into rsi, rdx, rcx, r8 through the stack (no clobbering of sources),
    /// then `env` into rdi. `depth` is the number of words already pushed by the caller.
    fn load_args(&mut self, args: &[Val], depth: i32) {
        const ARG_REGS: [Reg; 4] = [RSI, RDX, RCX, R8];
        for (i, v) in args.iter().enumerate() {
            let v = match *v {
                Val::Mem(RSP, d) => Val::Mem(RSP, d + 8 * (depth + i as i32)),
                v => v,
            };
            self.load(RAX, v);
            self.e.push_r(RAX);
        }
        for r in ARG_REGS.iter().take(args.len()).rev() {
            self.e.pop_r(*r);
        }
        self.e.mov_rr64(RDI, ENV_REG);
    }

    fn lower_call(&mut self, op: &Op) {
        let Some(h) = op.helper else { return };
        let pure = h.flags.contains(HelperFlags::NO_SIDE_EFFECTS);
        if !pure {
            self.sync_pinned();
        }
        // A pure call reloads no pinned global afterwards: keep the caller-saved ones too.
        let mut live = self.live_pool_regs(op.outputs());
        if pure {
            live.extend(self.plan.caller_saved_pinned.iter().copied());
        }
        let pad = self.save_regs(&live);
        let depth = live.len() as i32 + pad as i32;
        let args: Vec<Val> = (0..op.nb_iargs as usize).map(|i| self.val(op.input(i))).collect();
        self.load_args(&args, depth);
        self.e.call_abs(h.func as usize);
        self.restore_regs(&live, pad);
        if h.flags.contains(HelperFlags::CAN_EXIT) {
            let l = self.raised_label();
            self.e.bt64_32(RAX);
            self.e.jcc(0x2, l);
        }
        if !pure {
            self.load_pinned();
        }
        if op.nb_oargs > 0 {
            self.put(op.out(0), RAX);
        }
    }

    // ---- guest memory ----

    /// Inline TLB fast path (7 instructions plus the access with BMI2, 8 without; 6 when the
    /// address register may be overwritten); misses jump to an out-of-line slow path. `A` is the
    /// address's own register: every register holding an i32 value has bits 63..32 clear (all
    /// 32-bit writes zero-extend), so `A - tag` is A's page offset exactly on a hit.
    ///   ecx = rorx(A, PAGE_BITS - 5) & (mask << 5)       ; entry offset (32-byte entries)
    ///   rax = A (or A itself when spare) - [env + rcx + table + tag]
    ///   cmp rax, PAGE_SIZE - size; ja slow
    ///   rcx = [env + rcx + table + host]; access [rcx + rax]
    fn lower_qemu_ldst(&mut self, op: &Op) {
        let is_store = op.opc == Opcode::QemuSt;
        let addr_t = op.addr_input();
        let (memop, mmu_idx) = (MemOp(op.konst(0)), op.konst(1));
        if let Some(a) = self.constant_address(addr_t, memop.size()) {
            return self.lower_constant_access(op, a);
        }
        // A computed address of a load goes to rdx: r11 may get the host address for a store.
        let scratch = if is_store { R11 } else { RDX };
        let addr = self.address_in(addr_t, scratch);
        let value = is_store.then(|| self.store_value(op));
        let spare = value != Some(Val::Reg(addr)) && (addr == scratch || self.is_spare(addr_t, addr, value));
        let reused = self.reused.iter().find(|f| f.op == self.op_index).map(|f| (f.host, f.offset));
        let (host, offset) = reused.unwrap_or((RCX, if spare { addr } else { RAX }));
        let (entry, resume) = (self.e.buf.new_label(), self.e.buf.new_label());
        self.rmw_store = if is_store { None } else { self.find_rmw_store() };
        let write = is_store || self.rmw_store.is_some();
        let table = self.tlb_table(mmu_idx);
        self.tlb_lookup(addr, (offset, host), memop.size(), table, write, entry);
        if let Some(f) = self.reused.iter_mut().find(|f| f.op == self.op_index) {
            f.write = Some(write);
        }
        if self.rmw_store.is_some() {
            self.e.lea_add64(R11, host, offset);
        }
        let out = self.access_at(op, value, HostAddr::Indexed(host, offset));
        self.count_tlb_hit();
        self.e.bind(resume);
        let restore = (offset == addr).then(|| table + tag_offset(write));
        let site = self.slow_site(op, (entry, resume), (Val::Reg(addr), 0), value, out, self.rmw_store.is_some());
        self.push_slow_path(op, SlowPathSite { restore, poison: reused.map(|r| r.1), ..site });
    }

    /// The address of an access to `size` bytes at `t` when it is a constant the fast path can
    /// check against its TLB entry's tag directly: inside one page, whose address is a
    /// sign-extended 32-bit immediate.
    fn constant_address(&self, t: Temp, size: u32) -> Option<u32> {
        let a = self.ctx.const_value(t)?;
        let page_size = 1u32 << self.layout.page_bits;
        let fits = (a & (page_size - 1)) + size <= page_size && a < 0x8000_0000;
        (fits && self.sunk_address(t).is_none()).then_some(a)
    }

    /// An access at a constant address `A`: its TLB entry and page offset are known.
    ///   cmp qword [env + table + entry + tag], A & PAGE_MASK; jne slow
    ///   rcx = [env + table + entry + host]; access [rcx + (A & ~PAGE_MASK)]
    fn lower_constant_access(&mut self, op: &Op, a: u32) {
        let is_store = op.opc == Opcode::QemuSt;
        let mmu_idx = op.konst(1);
        let value = is_store.then(|| self.store_value(op));
        let (entry, resume) = (self.e.buf.new_label(), self.e.buf.new_label());
        self.rmw_store = if is_store { None } else { self.find_rmw_store() };
        let write = is_store || self.rmw_store.is_some();
        let lay = self.layout;
        let index = (a >> lay.page_bits) & ((1 << lay.tlb_bits) - 1);
        let entry_off = self.tlb_table(mmu_idx) + (index * size_of::<TlbEntry>() as u32) as i32;
        let page_offset = (a & ((1 << lay.page_bits) - 1)) as i32;
        self.e.cmp_mem64_imm(ENV_REG, entry_off + tag_offset(write), (a - page_offset as u32) as i32);
        self.e.jcc(0x5, entry);
        self.e.load64(RCX, ENV_REG, entry_off + offset_of!(TlbEntry, host) as i32);
        if self.rmw_store.is_some() {
            self.e.lea64_disp(R11, RCX, page_offset);
        }
        let out = self.access_at(op, value, HostAddr::Disp(RCX, page_offset));
        self.count_tlb_hit();
        self.e.bind(resume);
        let site = self.slow_site(op, (entry, resume), (Val::Imm(a), 0), value, out, self.rmw_store.is_some());
        self.push_slow_path(op, site);
    }

    /// An access that reuses the lookup of an earlier one at `base + disp - delta` (`Reuse`), when
    /// that lookup checked what this one needs (the write tag for a store), else its own lookup:
    ///   eax = offset + delta; cmp rax, PAGE_SIZE - size; ja slow
    ///   access [host + rax]        ; a load stored back: r11 = host + rax first
    fn lower_reuser(&mut self, op: &Op, r: Reuse) {
        let is_store = op.opc == Opcode::QemuSt;
        let memop = MemOp(op.konst(0));
        let rmw = if is_store { None } else { self.find_rmw_store() };
        let lane = self.reused.iter().find(|f| f.op == r.first).and_then(|f| Some((f.write?, f.host, f.offset)));
        let Some((first_write, host, offset)) = lane else { return self.lower_qemu_ldst(op) };
        if (is_store || rmw.is_some()) && !first_write {
            return self.lower_qemu_ldst(op);
        }
        let value = is_store.then(|| self.store_value(op));
        let (entry, resume) = (self.e.buf.new_label(), self.e.buf.new_label());
        self.rmw_store = rmw;
        self.e.lea_addi(RAX, offset, r.delta as u32);
        self.e.cmp_ri64(RAX, ((1u32 << self.layout.page_bits) - memop.size()) as i32);
        self.e.jcc(0x7, entry);
        if rmw.is_some() {
            self.e.lea_add64(R11, host, RAX);
        }
        let out = self.access_at(op, value, HostAddr::Indexed(host, RAX));
        self.count_tlb_hit();
        self.e.bind(resume);
        let addr = (self.val(op.addr_input()), 0);
        let site = self.slow_site(op, (entry, resume), addr, value, out, rmw.is_some());
        self.push_slow_path(op, site);
    }

    /// At TB entry, the TLB lookups of the hoisted accesses (`hoist.rs`): each slot gets the host
    /// address, or 0 when the entry does not map the page for every way the access goes.
    ///   r11 = base + disp; lookup as in `lower_qemu_ldst` (the write tag if it writes), in place
    ///   rax = hit ? host page + r11 : 0; [rsp + slot] = rax
    fn hoisted_lookups(&mut self) {
        for (site, slot) in self.hoisted.clone() {
            let (miss, store) = (self.e.buf.new_label(), self.e.buf.new_label());
            self.lookup_site(&site, miss);
            self.e.jmp(store);
            self.e.bind(miss);
            self.e.mov_ri(R11, 0);
            self.e.bind(store);
            self.e.store64(RSP, Self::slot_disp(slot), R11);
        }
    }

    /// The host address of hoisted access `site` into r11, or a jump to `miss`: the lookup in
    /// place, as in `lower_qemu_ldst` (the write tag if the access writes).
    ///   r11 = base + disp; lookup; r11 = rcx + r11
    fn lookup_site(&mut self, site: &Site, miss: DynLabel) {
        let op = &self.ops[site.op];
        let (size, mmu_idx) = (MemOp(op.konst(0)).size(), op.konst(1));
        self.load_sum(R11, self.val(site.base), site.disp);
        self.tlb_lookup(R11, (R11, RCX), size, self.tlb_table(mmu_idx), site.write, miss);
        self.e.lea_add64(R11, RCX, R11);
    }

    fn lower_guest_access(&mut self, op: &Op) {
        if let Some(&(site, slot)) = self.hoisted.iter().find(|h| h.0.op == self.op_index) {
            return self.lower_hoisted(op, site, slot);
        }
        if let Some(&r) = self.reusers.iter().find(|r| r.op == self.op_index) {
            return self.lower_reuser(op, r);
        }
        match self.cached.iter().find(|c| c.op == self.op_index) {
            Some(&c) => self.lower_cached(op, c),
            None => self.lower_qemu_ldst(op),
        }
    }

    /// An access that keeps its last page: slots `slot` (the page's guest address, zero-extended;
    /// `NO_PAGE` when none) and `slot + 1` (the host address of its first byte).
    ///   mov eax, A; sub rax, [page]; cmp rax, PAGE_SIZE - size; ja refill
    ///   mov rcx, [host]
    ///   back: access [rcx + rax]        ; a load stored back: r11 = rcx + rax first
    /// When A's register is a copy or dies here, it holds the offset instead of rax (no `mov`);
    /// when a spare register `host` holds the host page, the access uses it (no `mov rcx`). When
    /// a spare register holds the page negated, the offset is one `lea`, even for an address
    /// `base + disp` whose add did not run (`Cached::fused`):
    ///   lea rax, [A + page]   or   lea rax, [base + page + disp]
    fn lower_cached(&mut self, op: &Op, c: Cached) {
        let is_store = op.opc == Opcode::QemuSt;
        let (memop, mmu_idx) = (MemOp(op.konst(0)), op.konst(1));
        let size = memop.size();
        let addr_t = op.addr_input();
        let value = is_store.then(|| self.store_value(op));
        let addr = match c.fused {
            Some((_, base, _)) => self.in_reg(base, R11),
            None => self.in_reg(addr_t, R11),
        };
        let spare = c.fused.is_none() && self.is_spare(addr_t, addr, value);
        let offset = if spare { addr } else { RAX };
        let [entry, back, slow, resume] = [(); 4].map(|_| self.e.buf.new_label());
        match (c.page, c.fused) {
            (Some(page), Some((_, _, disp))) => self.e.lea64_add_disp(offset, addr, page, disp as i32),
            (Some(page), None) if spare => self.e.add64(offset, page),
            (Some(page), None) => self.e.lea_add64(offset, addr, page),
            (None, _) => {
                self.e.mov_rr(offset, addr);
                self.e.sub_mem64(offset, RSP, Self::slot_disp(c.slot));
            }
        }
        self.e.cmp_ri64(offset, ((1u32 << self.layout.page_bits) - size) as i32);
        self.e.jcc(0x7, entry);
        if c.host.is_none() {
            self.e.load64(RCX, RSP, Self::slot_disp(c.slot + 1));
        }
        self.e.bind(back);
        self.rmw_store = if is_store { None } else { self.find_rmw_store() };
        let rmw = self.rmw_store.is_some();
        let base = c.host.unwrap_or(RCX);
        if rmw {
            self.e.lea_add64(R11, base, offset);
        }
        let out = self.access_at(op, value, HostAddr::Indexed(base, offset));
        self.count_tlb_hit();
        self.e.bind(resume);
        let table = self.tlb_table(mmu_idx);
        let write = is_store || rmw;
        // A fused address is rebuilt in r11 by the refill, from the offset.
        let addr = if c.fused.is_some() { R11 } else { addr };
        self.refills.push(Refill { entry, back, slow, addr, offset, size, table, write, cached: c });
        let site = self.slow_site(op, (slow, resume), (Val::Reg(addr), 0), value, out, rmw);
        self.push_slow_path(op, site);
    }

    /// The refill of a cached access's page (see `Refill`).
    ///   A = offset + [page] (or - page register) when the offset replaced it or A is fused
    ///   lookup as in `lower_qemu_ldst` into rax, a miss to the slow path; rcx = host page
    ///   host = rcx; page = A & PAGE_MASK (negated in a register); offset = eax; jmp back
    fn emit_refill(&mut self, r: Refill) {
        self.e.bind(r.entry);
        let c = r.cached;
        let page_mask = !((1u32 << self.layout.page_bits) - 1);
        match (c.page, c.fused.is_some()) {
            (Some(page), true) => {
                // base + disp may have carried out of (or borrowed from) bit 32: the lookup and
                // the slow path read only the low half (32-bit moves).
                self.e.mov_rr64(R11, r.offset);
                self.e.sub64(R11, page);
            }
            (Some(page), false) if r.offset == r.addr => self.e.sub64(r.addr, page),
            (None, _) if r.offset == r.addr => self.e.add_mem64(r.addr, RSP, Self::slot_disp(c.slot)),
            _ => {}
        }
        self.tlb_lookup(r.addr, (RAX, RCX), r.size, r.table, r.write, r.slow);
        match c.host {
            Some(h) => self.e.mov_rr64(h, RCX),
            None => self.e.store64(RSP, Self::slot_disp(c.slot + 1), RCX),
        }
        match c.page {
            Some(page) => {
                self.e.mov_rr(page, r.addr);
                self.e.alu_ri(AluOp::And, page, page_mask);
                self.e.neg64(page);
            }
            None => {
                self.e.store64(RSP, Self::slot_disp(c.slot), r.addr);
                self.e.and_mem64_imm(RSP, Self::slot_disp(c.slot), page_mask as i32);
            }
        }
        self.e.mov_rr(r.offset, RAX);
        self.e.jmp(r.back);
    }

    /// True if register `r`, where temp `t` was put, may be overwritten by the access that reads
    /// `t`: a scratch copy, or a pool register whose temp dies here and is not the stored value.
    fn is_spare(&self, t: Temp, r: Reg, value: Option<Val>) -> bool {
        if value == Some(Val::Reg(r)) {
            return false;
        }
        match self.plan.homes[t.0 as usize] {
            Home::Pool => self.plan.last_use[t.0 as usize] <= self.op_index,
            Home::Pinned(_) | Home::EnvPtr => false,
            Home::Const(_) | Home::Env(_) | Home::Slot(_) => r == R11,
        }
    }

    /// A store's value: a constant, or a register (rdx if it has none).
    fn store_value(&mut self, op: &Op) -> Val {
        match self.val(op.input(0)) {
            Val::Imm(c) => Val::Imm(c),
            _ => Val::Reg(self.in_reg(op.input(0), RDX)),
        }
    }

    /// The access itself at host address `at`: the store of `value`, or the load into the op's
    /// output. Returns what the slow path needs to know of the load's output.
    fn access_at(&mut self, op: &Op, value: Option<Val>, at: HostAddr) -> Option<(Reg, Option<Val>)> {
        let memop = MemOp(op.konst(0));
        let size = memop.size() as u8;
        match (value, at) {
            (Some(Val::Imm(c)), HostAddr::Indexed(b, i)) => self.e.store_indexed_imm(b, i, c, size),
            (Some(Val::Imm(c)), HostAddr::Disp(b, d)) => self.e.store_imm(b, d, c, size),
            (Some(Val::Reg(r)), HostAddr::Indexed(b, i)) => self.e.store_indexed(b, i, r, size),
            (Some(Val::Reg(r)), HostAddr::Disp(b, d)) => self.e.store(b, d, r, size),
            (Some(Val::Mem(..)), _) => {}
            (None, _) => {
                let d = self.dest(op.out(0));
                match at {
                    HostAddr::Indexed(b, i) => self.e.load_indexed(d, b, i, size, memop.signed()),
                    HostAddr::Disp(b, disp) => self.e.load_ext(d, b, disp, size, memop.signed()),
                }
                let home = (d == RAX).then(|| self.val(op.out(0)));
                self.put(op.out(0), d);
                return Some((d, home));
            }
        }
        None
    }

    /// A hoisted access: the host address from its slot; when it is 0 (the entry's lookup
    /// missed), an out-of-line lookup fills the slot (`emit_hoist_refill`).
    ///   mov r11, [rsp + slot]; test r11, r11; jz refill
    ///   back: access [r11]                ; r11 is also what a paired store uses
    fn lower_hoisted(&mut self, op: &Op, site: Site, slot: u32) {
        let is_store = op.opc == Opcode::QemuSt;
        let value = is_store.then(|| self.store_value(op));
        let [entry, back, slow, resume] = [(); 4].map(|_| self.e.buf.new_label());
        self.e.load64(R11, RSP, Self::slot_disp(slot));
        self.e.test_rr64(R11, R11);
        self.e.jcc(0x4, entry);
        self.e.bind(back);
        self.rmw_store = if is_store { None } else { self.find_rmw_store() };
        let rmw = self.rmw_store.is_some();
        let out = self.access_at(op, value, HostAddr::Disp(R11, 0));
        self.count_tlb_hit();
        self.e.bind(resume);
        self.hoist_refills.push(HoistRefill { entry, back, slow, site, slot });
        let sp = self.slow_site(op, (slow, resume), (self.val(site.base), site.disp), value, out, rmw);
        self.push_slow_path(op, sp);
    }

    /// The lookup of a hoisted access whose slot is 0, as at TB entry (the page the entry could
    /// not map may be mapped now); a miss goes to the access's slow path.
    ///   (lookup_site); [rsp + slot] = r11; jmp back
    fn emit_hoist_refill(&mut self, r: HoistRefill) {
        self.e.bind(r.entry);
        self.lookup_site(&r.site, r.slow);
        self.e.store64(RSP, Self::slot_disp(r.slot), R11);
        self.e.jmp(r.back);
    }

    /// The offset in `env` of the TLB table of `mmu_idx`.
    fn tlb_table(&self, mmu_idx: u32) -> i32 {
        self.layout.tlb_table_off[(mmu_idx as usize).min(1)]
    }

    /// The TLB lookup of the `size` bytes at `addr` in the table at `table`, against the write
    /// tag with `write` (a matching write tag implies a matching read tag, `softmmu/tlb.rs`),
    /// else the read tag: `offset` = A - tag (`offset` may be `addr` itself). A miss jumps to
    /// `miss` with rcx still the entry's offset; on a hit `offset` is A's page offset and `host`
    /// (rcx, or the register of a lookup later accesses reuse) the host page.
    fn tlb_lookup(
        &mut self,
        addr: Reg,
        (offset, host): (Reg, Reg),
        size: u32,
        table: i32,
        write: bool,
        miss: DynLabel,
    ) {
        let lay = self.layout;
        let shift = (lay.page_bits - 5) as u8;
        if lay.bmi2 {
            self.e.rorx(RCX, addr, shift);
        } else {
            self.e.mov_rr(RCX, addr);
            self.e.shift_imm(ShiftOp::Shr, RCX, shift);
        }
        self.e.alu_ri(AluOp::And, RCX, ((1u32 << lay.tlb_bits) - 1) << 5);
        self.e.mov_rr(offset, addr);
        self.e.sub_mem64_idx(offset, ENV_REG, RCX, table + tag_offset(write));
        self.e.cmp_ri64(offset, ((1u32 << lay.page_bits) - size) as i32);
        self.e.jcc(0x7, miss);
        self.e.load64_idx(host, ENV_REG, RCX, table + offset_of!(TlbEntry, host) as i32);
    }

    /// With `--stats`: count an inline TLB hit.
    fn count_tlb_hit(&mut self) {
        if self.layout.count_tlb_hits {
            self.e.add_mem64_imm(ENV_REG, self.layout.tlb_hits_off, 1);
        }
    }

    /// The slow path of guest memory access `op`, entered at the first label and going back to
    /// the second, for an access at `addr` (nothing to undo in the address, no lookup reused).
    fn slow_site(
        &self,
        op: &Op,
        (entry, resume): (DynLabel, DynLabel),
        addr: (Val, u32),
        value: Option<Val>,
        out: Option<(Reg, Option<Val>)>,
        clears_r11: bool,
    ) -> SlowPathSite {
        let (is_store, memop, mmu_idx) = (op.opc == Opcode::QemuSt, op.konst(0), op.konst(1));
        SlowPathSite {
            entry,
            resume,
            is_store,
            memop,
            mmu_idx,
            addr,
            value,
            out,
            clears_r11,
            restore: None,
            poison: None,
        }
    }

    /// Queue the out-of-line slow path of the guest memory access `op`, saving the pool registers
    /// live after it and the caller-saved pinned ones.
    fn push_slow_path(&mut self, op: &Op, sp: SlowPathSite) {
        let mut live = self.live_pool_regs(op.outputs());
        live.extend(self.plan.caller_saved_pinned.iter().copied());
        live.extend(self.cached.iter().flat_map(|c| [c.host, c.page]).flatten());
        let i = self.op_index;
        live.extend(self.reused.iter().filter(|f| f.op < i && i <= f.last).flat_map(|f| [f.host, f.offset]));
        let deferred = self.deferral.pending[self.op_index].iter().filter_map(|&k| self.deferred_op(k)).collect();
        let later = self.loop_deferral.later_passes[self.op_index].iter().filter_map(|&k| self.deferred_op(k));
        let later_passes = later.collect();
        let unwritten = self.plan.late.iter().filter(|l| l.1 >= self.op_index).map(|l| l.0).collect();
        self.slow.push(SlowPath { site: sp, live, insn: self.insn, deferred, later_passes, unwritten });
    }

    /// Deferred op `k` with its operands where they are now.
    fn deferred_op(&self, k: usize) -> Option<DeferredOp> {
        let op = &self.ops[k];
        let (global, dest) = match deferrable_output(self.ctx, op) {
            Some(off) => (Some(off as i32), Val::Mem(ENV_REG, off as i32)),
            None if computable(self.ctx, op) => (None, self.val(op.out(0))),
            None => return None,
        };
        let ins = [self.val(op.input(0)), if op.nb_iargs > 1 { self.val(op.input(1)) } else { Val::Imm(0) }];
        let konst = [op.consts().first().copied().unwrap_or(0), op.consts().get(1).copied().unwrap_or(0)];
        Some(DeferredOp { opc: op.opc, ins, konst, global, dest })
    }

    /// Compute a deferred op into its global's env field (or its temp's home), using rax and rcx
    /// only (the slow path has not moved its own operands yet).
    fn emit_deferred(&mut self, d: &DeferredOp) {
        self.compute_deferred(d);
        self.store_to(d.dest, RAX);
    }

    /// Register `r` into a register or memory home (nothing for a constant).
    fn store_to(&mut self, home: Val, r: Reg) {
        match home {
            Val::Reg(d) => self.e.mov_rr(d, r),
            Val::Mem(b, disp) => self.e.store(b, disp, r, 4),
            Val::Imm(_) => {}
        }
    }

    /// rax = the value of deferred op `d` (rcx is scratch).
    fn compute_deferred(&mut self, d: &DeferredOp) {
        self.load(RAX, d.ins[0]);
        let shift = |opc| match opc {
            Opcode::Shl => ShiftOp::Shl,
            Opcode::Shr => ShiftOp::Shr,
            _ => ShiftOp::Sar,
        };
        match d.opc {
            Opcode::Add => self.alu_rax(AluOp::Add, d.ins[1]),
            Opcode::Sub => self.alu_rax(AluOp::Sub, d.ins[1]),
            Opcode::And => self.alu_rax(AluOp::And, d.ins[1]),
            Opcode::Or => self.alu_rax(AluOp::Or, d.ins[1]),
            Opcode::Xor => self.alu_rax(AluOp::Xor, d.ins[1]),
            Opcode::Neg => self.e.neg(RAX),
            Opcode::Not => self.e.not(RAX),
            Opcode::Shl | Opcode::Shr | Opcode::Sar => {
                if let Val::Imm(n) = d.ins[1] {
                    self.e.shift_imm(shift(d.opc), RAX, n as u8);
                }
            }
            Opcode::Extract => self.extract_into(RAX, Val::Reg(RAX), d.konst[0], d.konst[1], false),
            Opcode::SetCond => {
                self.alu_rax(AluOp::Cmp, d.ins[1]);
                self.e.setcc(x86_cc(Cond::from_u32(d.konst[0]).unwrap_or(Cond::Eq)), RAX);
            }
            _ => {}
        }
    }

    /// On a way out of the TB: the loop-carried deferred ops computed into their globals' homes
    /// (the pinned register, or `env`), before the write-back.
    fn materialize_loop_deferred(&mut self) {
        for k in self.loop_deferral.ops.clone() {
            let Some(d) = self.deferred_op(k) else { continue };
            let home = d.global.and_then(|off| self.pinned_reg(off)).map_or(d.dest, Val::Reg);
            match (d.opc, d.ins[0], home) {
                (Opcode::Mov, Val::Imm(v), Val::Reg(r)) => self.e.mov_ri(r, v),
                (Opcode::Mov, Val::Imm(v), Val::Mem(b, disp)) => self.e.store_imm32(b, disp, v),
                _ => {
                    self.compute_deferred(&d);
                    self.store_to(home, RAX);
                }
            }
        }
    }

    /// The register pinning the global at env offset `off`, if any.
    fn pinned_reg(&self, off: i32) -> Option<Reg> {
        self.plan.pinned.iter().find(|p| p.2 == off).map(|p| p.1)
    }

    /// In a slow path: the loop-carried deferred ops `later` computed into `env` unless this is
    /// the TB's first pass (the budget register still holds what the entry saved), when the
    /// pinned ones are written back as they are (their value from before the TB).
    ///   cmp r15d, [rsp + mark]; je first
    ///   (compute each into env); jmp done
    ///   first: (store each pinned one); done:
    fn emit_later_passes(&mut self, later: &[DeferredOp]) {
        let Some(mark) = self.first_pass_mark else { return };
        let (first, done) = (self.e.buf.new_label(), self.e.buf.new_label());
        self.e.cmp_mem32(BUDGET_REG, RSP, Self::slot_disp(mark));
        self.e.jcc(0x4, first);
        for d in later {
            self.emit_deferred(d);
        }
        self.e.jmp(done);
        self.e.bind(first);
        for d in later {
            if let Some((off, r)) = d.global.and_then(|off| Some((off, self.pinned_reg(off)?))) {
                self.e.store(ENV_REG, off, r, 4);
            }
        }
        self.e.bind(done);
    }

    /// rax op= v, through rcx for a memory operand.
    fn alu_rax(&mut self, op: AluOp, v: Val) {
        match v {
            Val::Imm(i) => self.e.alu_ri(op, RAX, i),
            Val::Reg(r) => self.e.alu_rr(op, RAX, r),
            Val::Mem(b, d) => {
                self.e.load32(RCX, b, d);
                self.e.alu_rr(op, RAX, RCX);
            }
        }
    }

    /// The `qemu_st` that writes back what this `qemu_ld` (the current op) read: same address
    /// temp, in a register and not the load's output, same size and mmu_idx, with only pure ops
    /// between that leave the address and r11 alone (`movcond` uses r11). The load then also
    /// checks the write tag and leaves the host address in r11: the store needs no lookup.
    fn find_rmw_store(&self) -> Option<usize> {
        let ld = self.ops[self.op_index];
        let a = ld.input(0);
        if !(matches!(self.val(a), Val::Reg(_) | Val::Imm(_)) || self.sunk_address(a).is_some()) || ld.out(0) == a {
            return None;
        }
        let konst = self.ctx.const_value(a);
        for (k, op) in self.ops.iter().enumerate().skip(self.op_index + 1) {
            match op.opc {
                Opcode::QemuSt => {
                    let same_addr = op.input(1) == a || konst.is_some() && self.ctx.const_value(op.input(1)) == konst;
                    let same = same_addr && op.konst(1) == ld.konst(1);
                    return (same && MemOp(op.konst(0)).size() == MemOp(ld.konst(0)).size()).then_some(k);
                }
                Opcode::InsnStart => {}
                Opcode::MovCond => return None,
                _ if !op.flags().contains(OpFlags::PURE) || op.outputs().contains(&a.0) => return None,
                _ => {}
            }
        }
        None
    }

    /// The store of a read-modify-write: r11 is the host address the load checked for writing,
    /// or 0 when the load went through its slow path (then the store goes through its own).
    ///   test r11, r11; jz slow; mov [r11], value
    fn lower_rmw_store(&mut self, op: &Op) {
        self.rmw_store = None;
        let memop = MemOp(op.konst(0));
        let addr = match (self.sunk_address(op.input(1)), self.val(op.input(1))) {
            (Some((base, disp)), _) => (self.val(base), disp),
            (None, v @ (Val::Reg(_) | Val::Imm(_))) => (v, 0),
            _ => return self.lower_qemu_ldst(op),
        };
        let v = self.in_reg(op.input(0), RDX);
        let (entry, resume) = (self.e.buf.new_label(), self.e.buf.new_label());
        self.e.test_rr64(R11, R11);
        self.e.jcc(0x4, entry);
        self.e.store(R11, 0, v, memop.size() as u8);
        self.count_tlb_hit();
        self.e.bind(resume);
        let site = self.slow_site(op, (entry, resume), addr, Some(Val::Reg(v)), None, false);
        self.push_slow_path(op, site);
    }

    /// Slow path: save live temps, write back pinned globals, call the softmmu, check for a fault.
    /// Arguments: rsi = address, r8 = store value (moved through r11 so neither clobbers the other).
    fn emit_slow_path(&mut self, sp: SlowPath) {
        let (site, live) = (sp.site, sp.live);
        self.e.bind(site.entry);
        if let (Some(disp), (Val::Reg(a), _)) = (site.restore, site.addr) {
            self.e.add_mem64_idx(a, ENV_REG, RCX, disp);
        }
        for d in &sp.deferred {
            self.emit_deferred(d);
        }
        if !sp.later_passes.is_empty() {
            self.emit_later_passes(&sp.later_passes);
        }
        let mut skip: Vec<i32> = sp.deferred.iter().chain(&sp.later_passes).filter_map(|d| d.global).collect();
        skip.extend(&sp.unwritten);
        self.sync_pinned_except(&skip);
        let pad = self.save_regs(&live);
        self.load_sum(R11, site.addr.0, site.addr.1);
        if let Some(v) = site.value {
            self.load(R8, v);
        }
        self.e.mov_rr(RSI, R11);
        self.e.mov_ri(RDX, site.memop);
        self.e.mov_ri(RCX, site.mmu_idx);
        self.e.mov_rr64(RDI, ENV_REG);
        let f = if site.is_store { self.rt.qemu_st } else { self.rt.qemu_ld };
        self.e.call_abs(f as usize);
        self.restore_regs(&live, pad);
        let saved = core::mem::replace(&mut self.insn, sp.insn);
        let l = self.raised_label();
        self.insn = saved;
        self.e.bt64_32(RAX);
        self.e.jcc(0x2, l);
        if let Some((d, home)) = site.out {
            self.e.mov_rr(d, RAX);
            if let Some(Val::Mem(b, disp)) = home {
                self.e.store(b, disp, RAX, 4);
            }
        }
        if site.clears_r11 {
            self.e.mov_ri(R11, 0);
        }
        if let Some(o) = site.poison {
            self.e.mov_ri(o, POISON);
        }
        self.e.jmp(site.resume);
    }
}

const _: () = assert!(HELPER_EXIT == 1 << 32);

/// The offset in a TLB entry of the tag an access checks.
fn tag_offset(write: bool) -> i32 {
    (if write { offset_of!(TlbEntry, addr_write) } else { offset_of!(TlbEntry, addr_read) }) as i32
}

/// The page slot of a cached access when it has no page: above every zero-extended guest address,
/// so `A - NO_PAGE` is never a small offset.
const NO_PAGE: u64 = 1 << 40;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcg::testing::parse;

    /// The globals `plan_tb` pins in `text`, a TB that loops (its `goto_tb 0` jumps to itself).
    fn pinned_in_loop(text: &str) -> Vec<&'static str> {
        let mut ctx = parse(text);
        ctx.goto_tb_self = [true, false];
        let (sites, _) = hoist::accesses(&ctx);
        let across = loop_deferral(&ctx).ops;
        let (plan, ..) = plan_tb(&ctx, true, &sites, &across, true).expect("plan");
        plan.pinned.iter().map(|p| ctx.temps[p.0].name.unwrap_or("?")).collect()
    }

    /// The inner loop of a matrix product (`mov (%esi),%eax; add $0xc0,%ecx; add $4,%esi; imul
    /// -0xc0(%ecx),%eax; add %eax,0x28(%esp); cmp %ecx,%ebx; jne`).
    const DOT: &str = concat!(
        " qemu_ld_i32 eax,esi,leul,0\n add_i32 ecx,ecx,$0xc0\n",
        " add_i32 esi,esi,$0x4\n mov_i32 cc_dst,esi\n mov_i32 cc_src,$0x4\n",
        " add_i32 tmp24,ecx,$0xffffff40\n qemu_ld_i32 tmp26,tmp24,leul,0\n",
        " muls2_i32 eax,tmp28,eax,tmp26\n sar_i32 tmp30,eax,$0x1f\n sub_i32 cc_src,tmp28,tmp30\n mov_i32 cc_dst,eax\n",
        " add_i32 tmp32,esp,$0x28\n qemu_ld_i32 tmp34,tmp32,leul,0\n add_i32 tmp35,tmp34,eax\n",
        " qemu_st_i32 tmp35,tmp32,leul,0\n",
        " sub_i32 cc_dst,ebx,ecx\n mov_i32 cc_src,ecx\n brcond_i32 ebx,ecx,ne,$L0\n",
        " goto_tb $0x1\n st_i32 $0x10093a,env,$0x20\n exit_tb $0x2\n",
        " set_label $L0\n goto_tb $0x0\n st_i32 $0x100920,env,$0x20\n exit_tb $0x1\n",
    );

    #[test]
    fn writes_the_fast_path_skips_do_not_pin_their_globals() {
        // Every write of cc_dst and cc_src is deferred to the slow paths or to the loop's exits:
        // the registers go to the globals each pass reads (ebx, by the loop's branch).
        let pinned = pinned_in_loop(DOT);
        assert_eq!(pinned, ["eax", "ecx", "esi", "ebx"]);
    }
}
