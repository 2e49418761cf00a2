//! Self-modifying code: stores into translated code invalidate exactly the TBs they overlap, a
//! store into the running TB completes and execution goes on in fresh code, and a loop that
//! patches itself on every iteration stays correct. Every case runs under the interpreter and the
//! JIT, with chaining on and off.

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{LogMask, Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

const MODES: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

/// Run `code` at 1 MiB; returns the exit, the CPU and the machine's invalidation count.
fn run(code: &[(u32, &[u8])], jit: bool, nochain: bool) -> (ExitReason, Box<X86Cpu>, u64) {
    let (r, cpu, inval, _) = run_counting(code, jit, nochain);
    (r, cpu, inval)
}

/// `run`, also returning the number of guest instructions executed.
fn run_counting(code: &[(u32, &[u8])], jit: bool, nochain: bool) -> (ExitReason, Box<X86Cpu>, u64, u64) {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    for (addr, bytes) in code {
        cpu.mem.load(PhysAddr(*addr), bytes).unwrap();
    }
    cpu.env.reset_multiboot(0x100000, 0x9000);
    cpu.env.regs[4] = 0x200000;
    let mask = if nochain { LogMask::NOCHAIN } else { LogMask::empty() };
    let log = Logger { mask, sink: Box::new(NoLog) };
    let mut m = Machine::new(cpu, ExecOptions { max_insns: Some(1_000_000), ..Default::default() }, log);
    if jit {
        let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap");
        // SAFETY: a fresh mapping used only by this machine.
        assert!(unsafe { m.enable_jit(region) });
    }
    let r = m.cpu_exec();
    let inval = m.tbs.stats.invalidations;
    (r, m.cpu, inval, m.stats.insns)
}

#[test]
fn patching_a_translated_later_tb_takes_effect() {
    let main: &[u8] = &[
        0xe8, 0x1b, 0x00, 0x00, 0x00, // 100000: call f (100020)
        0xc6, 0x05, 0x21, 0x00, 0x10, 0x00, 0x05, // 100005: movb $5, 0x100021 (f's immediate)
        0xe8, 0x0f, 0x00, 0x00, 0x00, // 10000c: call f
        0xe6, 0xf4, // 100011: out %al, $0xf4
    ];
    let f: &[u8] = &[0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3]; // 100020: mov $1,%eax; ret
    for (jit, nochain) in MODES {
        let (r, _, inval) = run(&[(0x100000, main), (0x100020, f)], jit, nochain);
        assert_eq!(r, ExitReason::Status((5 << 1) | 1), "jit={jit} nochain={nochain}");
        assert!(inval >= 1, "f's TB was invalidated");
    }
}

#[test]
fn patching_the_running_tb_completes_the_store_and_runs_fresh_code() {
    let code: &[u8] = &[
        0xc6, 0x05, 0x08, 0x00, 0x10, 0x00, 0x07, // 100000: movb $7, 0x100008
        0xb8, 0x01, 0x00, 0x00, 0x00, // 100007: mov $1,%eax (imm at 100008)
        0xe6, 0xf4, // 10000c: out %al, $0xf4
    ];
    for (jit, nochain) in MODES {
        let (r, cpu, _) = run(&[(0x100000, code)], jit, nochain);
        assert_eq!(r, ExitReason::Status((7 << 1) | 1), "jit={jit} nochain={nochain}");
        assert_eq!(cpu.mem.read(PhysAddr(0x100008), 1), 7, "the store completed");
    }
}

#[test]
fn a_loop_that_patches_itself_every_iteration_stays_correct() {
    let code: &[u8] = &[
        0xb9, 0xe8, 0x03, 0x00, 0x00, // 100000: mov $1000,%ecx
        0x31, 0xc0, // 100005: xor %eax,%eax
        0x88, 0x0d, 0x0e, 0x00, 0x10, 0x00, // 100007: mov %cl,0x10000e (low byte of the add's imm32)
        0x05, 0x00, 0x00, 0x00, 0x00, // 10000d: add $imm32,%eax
        0xe2, 0xf3, // 100012: loop 100007
        0xe6, 0xf4, // 100014: out %al,$0xf4
    ];
    let expected: u32 = (1..=1000u32).map(|c| c & 0xff).sum();
    for (jit, nochain) in MODES {
        let (_, cpu, inval) = run(&[(0x100000, code)], jit, nochain);
        assert_eq!(cpu.env.regs[0], expected, "jit={jit} nochain={nochain}");
        assert!((1000..3000).contains(&inval), "one invalidation per iteration, not a storm: {inval}");
    }
}

#[test]
fn stores_to_data_on_a_code_page_invalidate_nothing() {
    let code: &[u8] = &[
        0xb9, 0x10, 0x27, 0x00, 0x00, // 100000: mov $10000,%ecx
        0x89, 0x0d, 0x00, 0x08, 0x10, 0x00, // 100005: mov %ecx,0x100800 (same page, not code)
        0xe2, 0xf8, // 10000b: loop 100005
        0xe6, 0xf4, // 10000d: out %al,$0xf4
    ];
    for (jit, nochain) in MODES {
        let (r, cpu, inval) = run(&[(0x100000, code)], jit, nochain);
        assert_eq!(r, ExitReason::Status((0x02 << 1) | 1), "al of the multiboot magic");
        assert_eq!(cpu.mem.read(PhysAddr(0x100800), 4), 1);
        assert_eq!(inval, 0, "jit={jit} nochain={nochain}");
    }
}

/// A store into the running TB is rolled back and rerun, so the state before it must be exact,
/// flags included. Here the JIT defers `inc`'s carry (the `cmp` after the store overwrites it) to
/// the store's slow path; the store turns that `cmp` into `setc %bl`, which reads the carry after
/// the rerun. The lazy source `shl` leaves has bit 0 clear: a carry not computed reads as 0.
#[test]
fn a_store_into_the_running_tb_sees_the_flags_of_the_instruction_before() {
    let code: &[u8] = &[
        0x31, 0xdb, // 100000: xor %ebx,%ebx
        0xba, 0x00, 0x00, 0x00, 0x80, // 100002: mov $0x80000000,%edx
        0xd1, 0xe2, // 100007: shl $1,%edx (CF = 1)
        0xb9, 0x0f, 0x92, 0xc3, 0x90, // 100009: mov $0x90c3920f,%ecx ("setc %bl; nop")
        0x40, // 10000e: inc %eax (CF stays 1)
        0x89, 0x0d, 0x15, 0x00, 0x10, 0x00, // 10000f: mov %ecx,0x100015
        0x39, 0xc0, 0x90, 0x90, // 100015: cmp %eax,%eax; nop; nop (becomes setc %bl; nop)
        0x89, 0xd8, // 100019: mov %ebx,%eax
        0xe6, 0xf4, // 10001b: out %al,$0xf4
    ];
    setc_sees(code, 1);
}

/// Run `code` (at 0x100000; it patches a `cmp` into `setc %bl` and exits with BL) in every mode:
/// `setc` must see CF = `cf`.
fn setc_sees(code: &[u8], cf: u32) {
    for (jit, nochain) in MODES {
        let (r, _, _) = run(&[(0x100000, code)], jit, nochain);
        assert_eq!(r, ExitReason::Status(((cf as i32) << 1) | 1), "setc saw CF = {cf}: jit={jit} nochain={nochain}");
    }
}

/// The flags of `imul` are deferred to the store's slow path like those of `inc`, and so is the
/// `sar` of the product's low half that only they read: the slow path must compute it before
/// them. The store turns `cmp` into `setc %bl`, which reads CF (the high half is not the sign of
/// the low half): 0 for -1 * 1, 1 for 0x10000 * 0x10000.
#[test]
fn a_store_into_the_running_tb_sees_the_flags_of_an_imul_before() {
    for (a, b, cf) in [(u32::MAX, 1u32, 0), (0x10000, 0x10000, 1)] {
        let [a0, a1, a2, a3] = a.to_le_bytes();
        let [b0, b1, b2, b3] = b.to_le_bytes();
        let code: &[u8] = &[
            0x31, 0xdb, // 100000: xor %ebx,%ebx
            0xb8, a0, a1, a2, a3, // 100002: mov $a,%eax
            0xba, b0, b1, b2, b3, // 100007: mov $b,%edx
            0xb9, 0x0f, 0x92, 0xc3, 0x90, // 10000c: mov $0x90c3920f,%ecx ("setc %bl; nop")
            0xeb, 0x00, // 100011: jmp 100013 (the operands are not known to the next TB)
            0x0f, 0xaf, 0xc2, // 100013: imul %edx,%eax
            0x89, 0x0d, 0x1c, 0x00, 0x10, 0x00, // 100016: mov %ecx,0x10001c
            0x39, 0xc0, 0x90, 0x90, // 10001c: cmp %eax,%eax; nop; nop (becomes setc %bl; nop)
            0x89, 0xd8, // 100020: mov %ebx,%eax
            0xe6, 0xf4, // 100022: out %al,$0xf4
        ];
        setc_sees(code, cf);
    }
}

/// A global the TB writes first (here `edx`, loaded by the `mov` after the store) is not loaded
/// at TB entry, so until that write its register holds nothing: the slow path of the store
/// before must not write it back. The store turns the load into `mov %edx,%eax`, which, after
/// the rerun, reads the `edx` the TB started with.
#[test]
fn a_store_into_the_running_tb_keeps_a_register_the_tb_had_yet_to_load() {
    let code: &[u8] = &[
        0xba, 0x34, 0x12, 0x00, 0x00, // 100000: mov $0x1234,%edx
        0xbe, 0x00, 0x08, 0x10, 0x00, // 100005: mov $0x100800,%esi
        0x66, 0xbb, 0x89, 0xd0, // 10000a: mov $0xd089,%bx ("mov %edx,%eax")
        0xeb, 0x00, // 10000e: jmp 100010 (the next TB starts at the store)
        0x66, 0x89, 0x1d, 0x17, 0x00, 0x10, 0x00, // 100010: mov %bx,0x100017
        0x8b, 0x16, // 100017: mov (%esi),%edx (becomes mov %edx,%eax)
        0x01, 0xd1, // 100019: add %edx,%ecx
        0x01, 0xd3, // 10001b: add %edx,%ebx
        0xe6, 0xf4, // 10001d: out %al,$0xf4
    ];
    for (jit, nochain) in MODES {
        let (r, cpu, _) = run(&[(0x100000, code)], jit, nochain);
        assert_eq!(r, ExitReason::Status((0x34 << 1) | 1), "eax = edx from before: jit={jit} nochain={nochain}");
        assert_eq!(cpu.env.regs[2], 0x1234);
    }
}

/// A loop that stores through a varying address keeps the page of its last lookup, but never a
/// page with translated code: each of its stores, into padding on that page, then into `f`'s
/// immediate and `g`'s, goes through the slow path; those that hit a function invalidate it, so
/// both calls after the loop run patched code (f = 2, g = 1; stale code would return 0x10).
#[test]
fn a_loop_storing_into_translated_code_invalidates_it() {
    let main: &[u8] = &[
        0xe8, 0x3b, 0x00, 0x00, 0x00, // 100000: call f (100040)
        0xe8, 0x3e, 0x00, 0x00, 0x00, // 100005: call g (100048)
        0xb9, 0x04, 0x00, 0x00, 0x00, // 10000a: mov $4,%ecx
        0xbf, 0x31, 0x00, 0x10, 0x00, // 10000f: mov $0x100031,%edi (padding twice, f's immediate, g's)
        0x88, 0x0f, // 100014: 1: mov %cl,(%edi)
        0x83, 0xc7, 0x08, // 100016: add $8,%edi
        0x49, // 100019: dec %ecx
        0x75, 0xf8, // 10001a: jne 1b
        0xe8, 0x27, 0x00, 0x00, 0x00, // 10001c: call g
        0xc1, 0xe0, 0x04, // 100021: shl $4,%eax
        0x89, 0xc3, // 100024: mov %eax,%ebx
        0xe8, 0x15, 0x00, 0x00, 0x00, // 100026: call f
        0x01, 0xd8, // 10002b: add %ebx,%eax
        0xe6, 0xf4, // 10002d: out %al,$0xf4
    ];
    let f: &[u8] = &[0xb8, 0x10, 0x00, 0x00, 0x00, 0xc3]; // 100040 (f) and 100048 (g): mov $0x10,%eax; ret
                                                          // The stores into f and g raise from inside the loop's TB after a pass around it (the first
                                                          // pass runs in the TB before) and are rerun: the instructions counted must still be those
                                                          // executed, 3 (call f) + 3 (call g) + 2 + 4 * 4 (the loop) + 3 + 2 + 3 + 2.
    for (jit, nochain) in MODES {
        let (r, _, inval, insns) = run_counting(&[(0x100000, main), (0x100040, f), (0x100048, f)], jit, nochain);
        assert_eq!(r, ExitReason::Status((0x12 << 1) | 1), "f() + 16 * g() = 2 + 16: jit={jit} nochain={nochain}");
        assert!(inval >= 2, "f's and g's TBs were invalidated");
        assert_eq!(insns, 34, "instructions executed: jit={jit} nochain={nochain}");
    }
}

/// A read-modify-write (`addb $n, (%ebx)`) into translated code: the load and the store share one
/// TLB lookup, which must check the entry's write tag (a code page sends stores to the slow path):
/// straight (through a register and at a constant address), in a loop whose access address is invariant (looked up once per entry into the TB),
/// and in a loop walking the bytes of an immediate (keeping the page of its last lookup). The
/// `dec; jmp` makes the loop's first pass run in the looping TB.
#[test]
fn read_modify_writes_into_translated_code_invalidate_it() {
    let f: &[u8] = &[0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3]; // 100040: mov $1,%eax; ret
    let straight: &[u8] = &[
        0xbb, 0x41, 0x00, 0x10, 0x00, // 100000: mov $0x100041,%ebx (f's immediate)
        0xe8, 0x36, 0x00, 0x00, 0x00, // 100005: call f
        0x80, 0x03, 0x04, // 10000a: addb $4,(%ebx)
        0xe8, 0x2e, 0x00, 0x00, 0x00, // 10000d: call f
        0xe6, 0xf4, // 100012: out %al,$0xf4
    ];
    let constant: &[u8] = &[
        0xe8, 0x3b, 0x00, 0x00, 0x00, // 100000: call f
        0x80, 0x05, 0x41, 0x00, 0x10, 0x00, 0x04, // 100005: addb $4,0x100041
        0xe8, 0x2f, 0x00, 0x00, 0x00, // 10000c: call f
        0xe6, 0xf4, // 100011: out %al,$0xf4
    ];
    let invariant: &[u8] = &[
        0xbb, 0x41, 0x00, 0x10, 0x00, // 100000: mov $0x100041,%ebx
        0xe8, 0x36, 0x00, 0x00, 0x00, // 100005: call f
        0xb9, 0x06, 0x00, 0x00, 0x00, // 10000a: mov $6,%ecx
        0x49, // 10000f: dec %ecx           (the loop's TB key then has the cc_op of dec)
        0xeb, 0x00, // 100010: jmp 1f
        0x80, 0x03, 0x01, // 100012: 1: addb $1,(%ebx)
        0x49, // 100015: dec %ecx
        0x75, 0xfa, // 100016: jne 1b
        0xe8, 0x23, 0x00, 0x00, 0x00, // 100018: call f
        0xe6, 0xf4, // 10001d: out %al,$0xf4
    ];
    let walking: &[u8] = &[
        0xbb, 0x41, 0x00, 0x10, 0x00, // 100000: mov $0x100041,%ebx
        0xe8, 0x36, 0x00, 0x00, 0x00, // 100005: call f
        0xb9, 0x04, 0x00, 0x00, 0x00, // 10000a: mov $4,%ecx
        0x49, // 10000f: dec %ecx
        0xeb, 0x00, // 100010: jmp 1f
        0x80, 0x03, 0x01, // 100012: 1: addb $1,(%ebx)
        0x43, // 100015: inc %ebx
        0x49, // 100016: dec %ecx
        0x75, 0xf9, // 100017: jne 1b
        0xe8, 0x22, 0x00, 0x00, 0x00, // 100019: call f
        0xc1, 0xe8, 0x08, // 10001e: shr $8,%eax
        0xe6, 0xf4, // 100021: out %al,$0xf4
    ];
    // f's immediate becomes 1 + 4 (twice), 1 + 5, and 0x00010102 (f's result shifted right by 8: 1).
    for (code, imm, status) in [(straight, 5, 5), (constant, 5, 5), (invariant, 6, 6), (walking, 0x0001_0102, 1)] {
        for (jit, nochain) in MODES {
            let (r, cpu, inval) = run(&[(0x100000, code), (0x100040, f)], jit, nochain);
            assert_eq!(cpu.mem.read(PhysAddr(0x100041), 4), imm, "f's immediate: jit={jit} nochain={nochain}");
            assert_eq!(r, ExitReason::Status((status << 1) | 1), "f() after patching: jit={jit} nochain={nochain}");
            assert!(inval >= 1, "f's TB was invalidated");
        }
    }
}

/// A `jcc` whose target's exit writes nothing back is linked straight to the next TB (no second
/// jump through the exit): invalidating that TB must point the `jcc` back at the exit too. Here
/// the loop's `jecxz` (always taken: ecx is 0) branches to `body`, whose immediate the `addb`
/// after it raises by 0x10 on every pass: ebx = 1 + 0x11 + 0x21 (a stale link would run the
/// code of the pass before: 0x23).
/// ```text
///     mov $3, %esi
///     xor %ebx, %ebx
///     xor %ecx, %ecx
/// loop:
///     jecxz body
///     mov %ebx, %eax
///     out %al, $0xf4
/// body:
///     add $1, %ebx
///     jmp patch
/// patch:
///     addb $0x10, body + 2
///     dec %esi
///     jnz loop
///     mov %ebx, %eax
///     out %al, $0xf4
/// ```
#[rustfmt::skip]
const JCC_LINK: &[u8] = &[
    0xbe, 0x03, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x31, 0xc9, 0xe3, 0x04, 0x89, 0xd8, 0xe6, 0xf4, 0x83,
    0xc3, 0x01, 0xeb, 0x00, 0x80, 0x05, 0x11, 0x00, 0x10, 0x00, 0x10, 0x4e, 0x75, 0xeb, 0x89, 0xd8,
    0xe6, 0xf4,
];

#[test]
fn a_jcc_linked_straight_to_a_tb_is_unlinked_when_that_tb_goes() {
    for (jit, nochain) in MODES {
        let (r, _, inval) = run(&[(0x100000, JCC_LINK)], jit, nochain);
        assert_eq!(r, ExitReason::Status((0x33 << 1) | 1), "jit={jit} nochain={nochain}");
        assert!(inval >= 3, "body's TB was invalidated on each pass");
    }
}
