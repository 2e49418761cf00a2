//! A TB whose `goto_tb` jumps back to its own start under the same TB key loops inside its JIT
//! code (only the instruction budget is charged per pass). Whatever the instruction limit, the
//! guest must stop in exactly the state the interpreter (which never chains) stops in, after
//! exactly as many instructions.

mod common;

use common::{exit_al, rd32, run_on, run_with_options, ECX, EDX, STACK_TOP};
use tcg86::cpu::X86Cpu;

/// Run `code` for at most `limit` instructions under the interpreter and under the JIT; both must
/// stop the same way, after as many instructions, with the same registers. Returns both CPUs
/// (interpreter first) for the caller's further checks.
fn stop_both(code: &[u8], setup: impl Fn(&mut X86Cpu), limit: u64) -> (Box<X86Cpu>, Box<X86Cpu>) {
    let (ri, ci, ni) = run_on(code, &setup, limit, false);
    let (rj, cj, nj) = run_on(code, &setup, limit, true);
    assert_eq!((ri, ni), (rj, nj), "limit {limit}: exit reason and instruction count");
    assert_eq!(ci.env.regs, cj.env.regs, "limit {limit}: registers");
    let flags = |c: &X86Cpu| (c.env.cc_op, c.env.cc_dst, c.env.cc_src);
    assert_eq!(flags(&ci), flags(&cj), "limit {limit}: lazy flags");
    (ci, cj)
}

/// ```text
///     mov $300, %ecx
///     xor %edx, %edx
/// 1:  add %ecx, %edx      # TB B starts here: add; dec; jne 1b (jne back to B, cc_op of dec)
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
const SUM_LOOP: &[u8] =
    &[0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xd2, 0x01, 0xca, 0x49, 0x75, 0xfb, 0x89, 0xd0, 0xe6, 0xf4];

#[test]
fn a_self_looping_tb_stops_where_the_interpreter_stops() {
    // The exec loop translates B (and so runs it in the JIT) only when at least a whole TB's
    // worth of instructions (512) is left after A: limits from 517 on stop inside B's loop, at
    // each of its three instructions in turn.
    let limits = (1..=12).chain(510..=560).chain([899, 900, 901, 904, 905, 10_000]);
    for limit in limits {
        let (ci, cj) = stop_both(SUM_LOOP, |_| {}, limit);
        assert_eq!(ci.env.eip, cj.env.eip, "limit {limit}: eip");
    }
    // Run to the end: 300 + 299 + ... + 1 = 45150, in 2 + 3 * 300 + 2 instructions.
    let (_, cpu, n) = run_on(SUM_LOOP, |_| {}, 1_000_000, true);
    assert_eq!((cpu.env.regs[EDX], cpu.env.regs[ECX], n), (45150, 0, 904));
}

/// A variable-count shift leaves `cc_op` known only at run time (SUBL when CL = 0: the flags of
/// `cmp` stay; SHLL otherwise). The `jmp` after it must not stay chained to the TB translated for
/// the `cc_op` of the pass that linked it: on the third pass (CL = 1 again) `adc` would run in the
/// TB for SUBL, which takes CF as the borrow of a subtraction (0) instead of the bit shifted out.
/// ```text
///     xor %ebx, %ebx
///     xor %esi, %esi
/// 1:  mov %ebx, %ecx
///     and $1, %ecx
///     xor $1, %ecx                # CL = 1, 0, 1
///     mov $0x80000001, %eax
///     cmp $0x90000000, %eax       # CF = 1
///     shl %cl, %eax               # CL = 0: CF stays 1; CL = 1: CF = bit 31 = 1
///     jmp 2f
/// 2:  adc $0, %esi                # esi += CF
///     inc %ebx
///     cmp $3, %ebx
///     jne 1b
///     mov %esi, %eax
///     out %al, $0xf4              # AL = 3
/// ```
#[rustfmt::skip]
const JMP_AFTER_DYNAMIC_CC_OP: &[u8] = &[
    0x31, 0xdb, 0x31, 0xf6, 0x89, 0xd9, 0x83, 0xe1, 0x01, 0x83, 0xf1, 0x01, 0xb8, 0x01, 0x00, 0x00,
    0x80, 0x3d, 0x00, 0x00, 0x00, 0x90, 0xd3, 0xe0, 0xeb, 0x00, 0x83, 0xd6, 0x00, 0x43, 0x83, 0xfb,
    0x03, 0x75, 0xe1, 0x89, 0xf0, 0xe6, 0xf4,
];

#[test]
fn a_jump_with_a_run_time_cc_op_finds_the_tb_for_it() {
    for jit in [false, true] {
        let (r, _, _) = run_on(JMP_AFTER_DYNAMIC_CC_OP, |_| {}, 1_000_000, jit);
        assert_eq!(r, exit_al(3), "jit={jit}");
    }
}

/// ```text
///     mov $300, %ecx
///     xor %edx, %edx
///     movl $0, -8(%esp)
/// 1:  add %ecx, -8(%esp)          # the loop leaves esp alone: the JIT looks these
///     mov -8(%esp), %eax          # addresses up once per TB entry, not per pass
///     add %eax, %edx
///     mov %edx, -12(%esp)
///     dec %ecx
///     jne 1b
///     mov -8(%esp), %eax
///     out %al, $0xf4
/// ```
const STACK_ACCUMULATOR: &[u8] = &[
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xd2, 0xc7, 0x44, 0x24, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x4c, 0x24, 0xf8,
    0x8b, 0x44, 0x24, 0xf8, 0x01, 0xc2, 0x89, 0x54, 0x24, 0xf4, 0x49, 0x75, 0xef, 0x8b, 0x44, 0x24, 0xf8, 0xe6, 0xf4,
];

/// The same loop with its accumulator at 0x100100, on the page of its own code (but outside it):
/// the write check at TB entry fails (the page holds translated code), so each pass takes the
/// ordinary lookup and slow path for the store, while the load keeps the address looked up at entry.
/// ```text
///     mov $300, %ecx
///     xor %edx, %edx
///     movl $0, 0x100100
/// 1:  add %ecx, 0x100100
///     mov 0x100100, %eax
///     add %eax, %edx
///     dec %ecx
///     jne 1b
///     mov 0x100100, %eax
///     out %al, $0xf4
/// ```
const CODE_PAGE_ACCUMULATOR: &[u8] = &[
    0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xd2, 0xc7, 0x05, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0d,
    0x00, 0x01, 0x10, 0x00, 0xa1, 0x00, 0x01, 0x10, 0x00, 0x01, 0xc2, 0x49, 0x75, 0xf0, 0xa1, 0x00, 0x01, 0x10, 0x00,
    0xe6, 0xf4,
];

/// The stack accumulator with the stack on the page of the code: the address `-8(%esp)` is not
/// computed on the loop's fast path (only its fallback needs it), and here each pass takes the
/// fallback, whose lookup and slow paths (the load's and the store's) compute `esp - 8`.
/// ```text
///     mov $0x100108, %esp
///     mov $300, %ecx
///     xor %edx, %edx
///     movl $0, -8(%esp)
/// 1:  add %ecx, -8(%esp)
///     mov -8(%esp), %eax
///     add %eax, %edx
///     dec %ecx
///     jne 1b
///     mov -8(%esp), %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const STACK_ON_CODE_PAGE: &[u8] = &[
    0xbc, 0x08, 0x01, 0x10, 0x00, 0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xd2, 0xc7, 0x44, 0x24, 0xf8,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x4c, 0x24, 0xf8, 0x8b, 0x44, 0x24, 0xf8, 0x01, 0xc2, 0x49, 0x75,
    0xf3, 0x8b, 0x44, 0x24, 0xf8, 0xe6, 0xf4,
];

#[test]
fn loop_invariant_accesses_match_the_interpreter_at_every_stop() {
    // acc after pass k (k = 1..=300) is 300 + 299 + ... + (301 - k); edx sums those.
    let accs: Vec<u32> = (1..=300u32).scan(0, |acc, k| Some(*acc + (301 - k)).inspect(|a| *acc = *a)).collect();
    let edx: u32 = accs.iter().sum();
    let codes = [(STACK_ACCUMULATOR, STACK_TOP - 8), (CODE_PAGE_ACCUMULATOR, 0x100100), (STACK_ON_CODE_PAGE, 0x100100)];
    for (code, acc_addr) in codes {
        for limit in (1..=12).chain(514..=530).chain([1000, 1_000_000]) {
            let (ci, cj) = stop_both(code, |_| {}, limit);
            let mem = |c: &X86Cpu| (rd32(c, acc_addr), rd32(c, STACK_TOP - 12));
            assert_eq!(mem(&ci), mem(&cj), "limit {limit}: accumulator and stored sum");
        }
        let (r, cpu, _) = run_on(code, |_| {}, 1_000_000, true);
        assert_eq!(r, exit_al(45150 & 0xff));
        assert_eq!((rd32(&cpu, acc_addr), cpu.env.regs[EDX]), (45150, edx));
    }
    let (_, cpu, _) = run_on(STACK_ACCUMULATOR, |_| {}, 1_000_000, true);
    assert_eq!(rd32(&cpu, STACK_TOP - 12), edx, "the plain store in the loop");
}

/// ```text
///     mov $0x3fffe0, %esi
///     mov $0x2ffff0, %edi
///     mov $14, %ecx
///     xor %edx, %edx
/// 1:  add (%esi), %edx            # runs past the end of RAM (4 MiB)
///     add %edx, (%edi)            # crosses the page at 0x300000, unaligned
///     add $3, %esi
///     add $3, %edi
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
const STRIDED: &[u8] = &[
    0xbe, 0xe0, 0xff, 0x3f, 0x00, 0xbf, 0xf0, 0xff, 0x2f, 0x00, 0xb9, 0x0e, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x03, 0x16,
    0x01, 0x17, 0x83, 0xc6, 0x03, 0x83, 0xc7, 0x03, 0x49, 0x75, 0xf3, 0x89, 0xd0, 0xe6, 0xf4,
];

/// `STRIDED` with addresses computed from the registers (`1(%esi)`, `0x42(%edi)`): the JIT
/// turns such an address, dead after its access, into the page offset in place, and its refill
/// must add the page back before looking the address up.
///
/// ```text
///     mov $0x3fffe0, %esi
///     mov $0x2ffff0, %edi
///     mov $14, %ecx
///     xor %edx, %edx
/// 1:  add 1(%esi), %edx
///     add %edx, 2(%edi)
///     mov %edx, 0x42(%edi)
///     add $3, %esi
///     add $3, %edi
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const STRIDED_COMPUTED: &[u8] = &[
    0xbe, 0xe0, 0xff, 0x3f, 0x00, 0xbf, 0xf0, 0xff, 0x2f, 0x00, 0xb9, 0x0e, 0x00, 0x00, 0x00, 0x31,
    0xd2, 0x03, 0x56, 0x01, 0x01, 0x57, 0x02, 0x89, 0x57, 0x42, 0x83, 0xc6, 0x03, 0x83, 0xc7, 0x03,
    0x49, 0x75, 0xee, 0x89, 0xd0, 0xe6, 0xf4,
];

/// Accesses that keep the page of their last lookup must leave it for a fresh lookup (and the
/// slow path) as soon as an access would reach past it: here dwords every 3 bytes across a page
/// boundary and across the end of RAM.
#[test]
fn strided_accesses_across_pages_match_the_interpreter_at_every_stop() {
    let fill = |cpu: &mut X86Cpu| {
        for base in [0x3fffe0u32, 0x2ffff0] {
            let len = if base == 0x3fffe0 { 0x20 } else { 0x80 };
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            cpu.mem.load(tcg86::softmmu::PhysAddr(base), &bytes).unwrap();
        }
    };
    for code in [STRIDED, STRIDED_COMPUTED] {
        for limit in (1..=12).chain(514..=560).chain([1_000_000]) {
            let (ci, cj) = stop_both(code, fill, limit);
            let mem = |c: &X86Cpu| (0..0x80).map(|i| rd32(c, 0x2ffff0 + i)).collect::<Vec<_>>();
            assert_eq!(mem(&ci), mem(&cj), "limit {limit}: memory across the page boundary");
        }
    }
}

/// `--stats` counts every guest access once, as a TLB hit or miss, whichever way the JIT served
/// it (looked up at TB entry, from the page an access kept, through its refill or the ordinary
/// lookup): the interpreter's counts. Only the split may differ when two accesses of a loop
/// use pages that share a TLB entry, as in the `STRIDED` loops (0x2ff000 and 0x3ff000): the interpreter
/// misses each time one evicts the other, while each access of the JIT's loop keeps its own page.
#[test]
fn tlb_counts_match_the_interpreter_in_looping_tbs() {
    let fill = |cpu: &mut X86Cpu| {
        cpu.mem.load(tcg86::softmmu::PhysAddr(0x3fffe0), &[7; 0x20]).unwrap();
    };
    for code in [STACK_ACCUMULATOR, CODE_PAGE_ACCUMULATOR, STRIDED, STRIDED_COMPUTED] {
        let opts = tcg86::exec::ExecOptions { count_tlb_hits: true, ..Default::default() };
        let counts = |jit| {
            let (_, cpu, _) = run_with_options(code, fill, opts, jit);
            (cpu.tlb_hits(), cpu.tlb.stats.misses)
        };
        let ((jh, jm), (ih, im)) = (counts(true), counts(false));
        assert_eq!(jh + jm, ih + im, "accesses counted: {:x?}", &code[..4]);
        if ![STRIDED, STRIDED_COMPUTED].contains(&code) {
            assert_eq!((jh, jm), (ih, im), "TLB hits and misses: {:x?}", &code[..4]);
        }
    }
}

/// The flags of the loop's `cmp` are computed only when the loop leaves (`loop_defer.rs`): at the
/// exit after `jne`, and at the back edge when the instruction budget runs out.
/// ```text
///     mov $0x200000, %eax
///     mov $0x200400, %edx
///     mov $0x5a, %cl
/// 1:  mov %cl, (%eax)
///     inc %eax
///     cmp %edx, %eax
///     jne 1b
///     mov %eax, %ebx
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const MEMSET: &[u8] = &[
    0xb8, 0x00, 0x00, 0x20, 0x00, 0xba, 0x00, 0x04, 0x20, 0x00, 0xb1, 0x5a, 0x88, 0x08, 0x40, 0x39,
    0xd0, 0x75, 0xf9, 0x89, 0xc3, 0xe6, 0xf4,
];

/// `MEMSET` comparing with a constant (`cc_src` is then computed as a constant too).
/// ```text
///     mov $0x200000, %eax
///     mov $0x5a, %cl
/// 1:  mov %cl, (%eax)
///     inc %eax
///     cmp $0x200400, %eax
///     jne 1b
///     mov %eax, %ebx
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const MEMSET_IMM: &[u8] = &[
    0xb8, 0x00, 0x00, 0x20, 0x00, 0xb1, 0x5a, 0x88, 0x08, 0x40, 0x3d, 0x00, 0x04, 0x20, 0x00, 0x75,
    0xf6, 0x89, 0xc3, 0xe6, 0xf4,
];

#[test]
fn the_flags_a_loop_defers_are_exact_wherever_it_stops() {
    for code in [MEMSET, MEMSET_IMM] {
        for limit in (514..=600).chain([1500, 2000, 3000, 3076, 3077, 3078, 1_000_000]) {
            let (ci, _) = stop_both(code, |_| {}, limit);
            if limit == 1_000_000 {
                assert_eq!((ci.env.regs[3], ci.env.cc_dst, ci.env.cc_src), (0x200400, 0, 0x200400), "ran to the end");
            }
        }
    }
}

/// A slow path at the top of a later pass computes the flags the pass before left: here the
/// store of the third pass patches the `nop` after it into `lahf` (SMC: the TB stops right after
/// the store), which reads them. PF differs from the flags the TB started with (`cmp` with ecx
/// 6, then 7), and `add %eax, %esi` keeps what each `lahf` saw.
/// ```text
///     mov $patch - 0x200, %edi
///     mov $0x9f, %bl
///     mov $5, %ecx
///     xor %eax, %eax
///     xor %esi, %esi
/// 1:  mov %bl, (%edi)
/// patch:
///     nop
///     add %eax, %esi
///     add $0x100, %edi
///     add $1, %ecx
///     cmp $10, %ecx
///     jb 1b
///     mov %esi, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const LAHF_PATCH: &[u8] = &[
    0xbf, 0x12, 0xfe, 0x0f, 0x00, 0xb3, 0x9f, 0xb9, 0x05, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xf6,
    0x88, 0x1f, 0x90, 0x01, 0xc6, 0x81, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x83, 0xc1, 0x01, 0x83, 0xf9,
    0x0a, 0x72, 0xed, 0x89, 0xf0, 0xe6, 0xf4,
];

/// The same patch in the loop TB's first pass: its slow path must leave the flags the TB started
/// with (those of `cmp $6, %ecx`, PF set), not compute the loop's `cmp` (PF clear).
/// ```text
///     mov $patch, %edi
///     mov $0x9f, %bl
///     mov $5, %ecx
///     xor %eax, %eax
///     xor %esi, %esi
///     cmp $6, %ecx
///     jmp 1f
/// 1:  mov %bl, (%edi)
/// patch:
///     nop
///     add %eax, %esi
///     add $0x100, %edi
///     add $1, %ecx
///     cmp $10, %ecx
///     jb 1b
///     mov %esi, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const LAHF_PATCH_FIRST: &[u8] = &[
    0xbf, 0x17, 0x00, 0x10, 0x00, 0xb3, 0x9f, 0xb9, 0x05, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xf6,
    0x83, 0xf9, 0x06, 0xeb, 0x00, 0x88, 0x1f, 0x90, 0x01, 0xc6, 0x81, 0xc7, 0x00, 0x01, 0x00, 0x00,
    0x83, 0xc1, 0x01, 0x83, 0xf9, 0x0a, 0x72, 0xed, 0x89, 0xf0, 0xe6, 0xf4,
];

#[test]
fn a_slow_path_at_the_top_of_a_loop_shows_the_flags_of_the_pass_before() {
    for code in [LAHF_PATCH, LAHF_PATCH_FIRST] {
        let (ci, _) = stop_both(code, |_| {}, 1_000_000);
        assert_eq!(ci.env.regs[1], 10);
        assert_ne!(ci.env.regs[6], 0, "lahf ran");
    }
}

/// A loop with few globals keeps the host page of its first load in a spare pool register; the
/// second load moves to a new page on every pass, so its refill misses the TLB and calls the
/// softmmu, and that call must not lose the register (the first load's next pass reads through
/// it).
/// ```text
///     mov $0x200000, %esi
///     mov $0x240000, %ebx
///     mov $0x200040, %edi
///     xor %edx, %edx
/// 1:  movzbl (%esi), %eax
///     add (%ebx), %edx
///     add %eax, %edx
///     add $1, %esi
///     add $0x1000, %ebx
///     cmp %edi, %esi
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const PAGE_REGISTER: &[u8] = &[
    0xbe, 0x00, 0x00, 0x20, 0x00, 0xbb, 0x00, 0x00, 0x24, 0x00, 0xbf, 0x40, 0x00, 0x20, 0x00, 0x31,
    0xd2, 0x0f, 0xb6, 0x06, 0x03, 0x13, 0x01, 0xc2, 0x83, 0xc6, 0x01, 0x81, 0xc3, 0x00, 0x10, 0x00,
    0x00, 0x39, 0xfe, 0x75, 0xec, 0x89, 0xd0, 0xe6, 0xf4,
];

#[test]
fn a_host_page_kept_in_a_register_survives_the_slow_path_of_another_access() {
    let fill = |cpu: &mut X86Cpu| {
        let bytes: Vec<u8> = (0..0x40u32).map(|i| (i * 37 + 11) as u8).collect();
        cpu.mem.load(tcg86::softmmu::PhysAddr(0x200000), &bytes).unwrap();
        for k in 0..0x40u32 {
            cpu.mem.load(tcg86::softmmu::PhysAddr(0x240000 + k * 0x1000), &(k << 8).to_le_bytes()).unwrap();
        }
    };
    let sum: u32 = (0..0x40u32).map(|i| ((i * 37 + 11) & 0xff) + (i << 8)).sum();
    for limit in (514..=560).chain([1_000_000]) {
        let (ci, _) = stop_both(PAGE_REGISTER, fill, limit);
        if limit == 1_000_000 {
            assert_eq!(ci.env.regs[EDX], sum);
        }
    }
}

/// An access whose page stays in a register computes its page offset as one `lea` of the
/// address's base, its displacement and the page (the add that computed the address does not
/// run), and its refill rebuilds the address from that offset. Here `base + disp` carries out of
/// bit 32 for the first 64 passes (the guest address wraps to 0x200000...), then does not; the
/// store's address wraps too and crosses from page 0x1ff000 to 0x200000 on the way.
/// ```text
///     mov $0xffffff00, %eax
///     xor %edx, %edx
///     mov $0x80, %ecx
/// 1:  add 0x200100(%eax), %edx
///     mov %edx, 0x1ffff0(%eax)
///     add $4, %eax
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const WRAPPING_DISP: &[u8] = &[
    0xb8, 0x00, 0xff, 0xff, 0xff, 0x31, 0xd2, 0xb9, 0x80, 0x00, 0x00, 0x00, 0x03, 0x90, 0x00, 0x01,
    0x20, 0x00, 0x89, 0x90, 0xf0, 0xff, 0x1f, 0x00, 0x83, 0xc0, 0x04, 0x49, 0x75, 0xee, 0x89, 0xd0,
    0xe6, 0xf4,
];

#[test]
fn a_fused_address_that_wraps_around_4_gib_matches_the_interpreter() {
    let fill = |cpu: &mut X86Cpu| {
        let bytes: Vec<u8> = (0..0x400u32).map(|i| (i * 37 + 11) as u8).collect();
        cpu.mem.load(tcg86::softmmu::PhysAddr(0x200000), &bytes).unwrap();
    };
    for limit in (1..=10).chain(514..=530).chain([1_000_000]) {
        let (ci, cj) = stop_both(WRAPPING_DISP, fill, limit);
        let mem = |c: &X86Cpu| (0..0x200).map(|i| rd32(c, 0x1ffef0 + 4 * i)).collect::<Vec<_>>();
        assert_eq!(mem(&ci), mem(&cj), "limit {limit}: memory");
        if limit == 1_000_000 {
            // The stores reach 0x200000 only behind the loads.
            let byte = |a: u32| ((a - 0x200000) * 37 + 11) & 0xff;
            let dword = |a: u32| (0..4).map(|k| byte(a + k) << (8 * k)).sum::<u32>();
            let sum = (0..0x80u32).fold(0u32, |s, i| s.wrapping_add(dword(0x200000 + 4 * i)));
            assert_eq!(ci.env.regs[EDX], sum, "the loop's sum");
        }
    }
}

/// A hoisted access whose page the TB entry could not map looks it up again out of line on each
/// pass until the lookup hits, and from then on uses the host address that lookup found. Here the
/// pass before the loop's TB leaves the load's TLB entry to the store's page (same TLB index),
/// and the store keeps evicting it for two passes, until it moves on to the next page.
/// ```text
///     mov $0x280000, %esi
///     mov $0x380ff8, %edi
///     xor %edx, %edx
///     mov $8, %ecx
/// 1:  add (%esi), %edx
///     mov %edx, (%edi)
///     add $4, %edi
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const HOISTED_MISS_AT_ENTRY: &[u8] = &[
    0xbe, 0x00, 0x00, 0x28, 0x00, 0xbf, 0xf8, 0x0f, 0x38, 0x00, 0x31, 0xd2, 0xb9, 0x08, 0x00, 0x00,
    0x00, 0x03, 0x16, 0x89, 0x17, 0x83, 0xc7, 0x04, 0x49, 0x75, 0xf6, 0x89, 0xd0, 0xe6, 0xf4,
];

#[test]
fn a_hoisted_access_missing_at_entry_finds_its_page_later() {
    let fill = |cpu: &mut X86Cpu| {
        cpu.mem.load(tcg86::softmmu::PhysAddr(0x280000), &[0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22]).unwrap();
    };
    for limit in (1..=12).chain(514..=560).chain([1_000_000]) {
        let (ci, cj) = stop_both(HOISTED_MISS_AT_ENTRY, fill, limit);
        let mem = |c: &X86Cpu| (0..8).map(|i| rd32(c, 0x380ff8 + 4 * i)).collect::<Vec<_>>();
        assert_eq!(mem(&ci), mem(&cj), "limit {limit}: the stores");
        if limit == 1_000_000 {
            assert_eq!(cj.env.regs[EDX], 0x8888_8888, "eight loads of 0x11111111");
        }
    }
}
