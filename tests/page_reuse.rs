//! Accesses that reuse the TLB lookup of an earlier access off the same base in their TB
//! (`tcg::x64::page_reuse`): whatever happened to that lookup (a slow path for a code page or a
//! page not in the TLB yet, slow paths of other accesses in between, a lookup that checked only
//! for reading), the JIT must leave the same state as the interpreter.

mod common;

use common::{rd32, run_on, EAX, ESI};
use tcg86::exec::ExitReason;

/// Run `code` under the interpreter and the JIT; both must exit the same way with the same
/// registers. Returns the JIT's CPU.
fn both(code: &[u8]) -> Box<tcg86::cpu::X86Cpu> {
    let (ri, ci, ni) = run_on(code, |_| {}, 10_000, false);
    let (rj, cj, nj) = run_on(code, |_| {}, 10_000, true);
    assert_eq!((ri, ni), (rj, nj), "exit and instruction count");
    assert_eq!(ci.env.regs, cj.env.regs, "registers");
    assert!(matches!(rj, ExitReason::Status(_)), "{rj:?}");
    cj
}

/// g loads two words off `%ebx`, a page outside RAM (4 MiB here): device memory, whose TLB entry
/// sends every access to the slow path. On g's second run the entry is there, so the first load
/// fails its check on a valid-looking page offset; the second, on the same page, must take the
/// slow path too, not access a host page the first never loaded. Both read open bus.
/// ```text
///     mov $0x10000000, %ebx
///     call g
///     call g
///     mov %ecx, %esi
///     out %al, $0xf4
///     .org 0x40
/// g:  mov (%ebx), %eax
///     mov 4(%ebx), %ecx
///     ret
/// ```
#[rustfmt::skip]
const LOADS_FROM_DEVICE_MEMORY: &[u8] = &[
    0xbb, 0x00, 0x00, 0x00, 0x10, 0xe8, 0x36, 0x00, 0x00, 0x00, 0xe8, 0x31, 0x00, 0x00, 0x00, 0x89,
    0xce, 0xe6, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x8b, 0x03, 0x8b, 0x4b, 0x04, 0xc3,
];

#[test]
fn a_load_after_a_slow_path_load_on_its_page_takes_the_slow_path_too() {
    let cpu = both(LOADS_FROM_DEVICE_MEMORY);
    assert_eq!(cpu.env.regs[ESI], u32::MAX);
}

/// A load and a store off `%ebx` into f's immediate: the load's lookup checked the read tag only
/// (the page holds code: its write tag sends stores to the slow path), so the store may not reuse
/// it and must invalidate f. f then returns 0x0701.
/// ```text
///     mov $0x100041, %ebx
///     call f
///     movb (%ebx), %cl
///     movb $7, 1(%ebx)
///     call f
///     mov %eax, %esi
///     out %al, $0xf4
///     .org 0x40
/// f:  mov $1, %eax
///     ret
/// ```
#[rustfmt::skip]
const LOAD_THEN_STORE_INTO_CODE: &[u8] = &[
    0xbb, 0x41, 0x00, 0x10, 0x00, 0xe8, 0x36, 0x00, 0x00, 0x00, 0x8a, 0x0b, 0xc6, 0x43, 0x01, 0x07,
    0xe8, 0x2b, 0x00, 0x00, 0x00, 0x89, 0xc6, 0xe6, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3,
];

#[test]
fn a_store_does_not_reuse_a_lookup_that_only_checked_for_reading() {
    let cpu = both(LOAD_THEN_STORE_INTO_CODE);
    assert_eq!(cpu.env.regs[ESI], 0x0701);
}

/// g loads two words off `%ebx` with a load off `%ecx` in between, whose page g has not seen
/// before (its slow path fills the TLB): the second load reuses the first's lookup, whose
/// registers the slow path in between must keep. g runs for three pages of `%ecx`.
/// ```text
///     mov $0x200000, %ebx
///     movl $0x11223344, (%ebx)
///     movl $0x55667788, 4(%ebx)
///     mov $0x210000, %ecx
///     call g
///     mov $0x220000, %ecx
///     call g
///     mov $0x230000, %ecx
///     call g
///     add %edx, %esi
///     out %al, $0xf4
///     .org 0x40
/// g:  mov (%ebx), %eax
///     mov (%ecx), %edx
///     mov 4(%ebx), %esi
///     ret
/// ```
#[rustfmt::skip]
const SLOW_PATH_IN_BETWEEN: &[u8] = &[
    0xbb, 0x00, 0x00, 0x20, 0x00, 0xc7, 0x03, 0x44, 0x33, 0x22, 0x11, 0xc7, 0x43, 0x04, 0x88, 0x77,
    0x66, 0x55, 0xb9, 0x00, 0x00, 0x21, 0x00, 0xe8, 0x24, 0x00, 0x00, 0x00, 0xb9, 0x00, 0x00, 0x22,
    0x00, 0xe8, 0x1a, 0x00, 0x00, 0x00, 0xb9, 0x00, 0x00, 0x23, 0x00, 0xe8, 0x10, 0x00, 0x00, 0x00,
    0x01, 0xd6, 0xe6, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x8b, 0x03, 0x8b, 0x11, 0x8b, 0x73, 0x04, 0xc3,
];

#[test]
fn a_slow_path_between_keeps_the_reused_lookup() {
    let cpu = both(SLOW_PATH_IN_BETWEEN);
    assert_eq!(cpu.env.regs[ESI], 0x55667788);
    assert_eq!(cpu.env.regs[EAX] & 0xff, 0x44);
    assert_eq!(rd32(&cpu, 0x200004), 0x55667788);
}

struct Capture(std::rc::Rc<std::cell::RefCell<String>>);

impl tcg86::exec::LogSink for Capture {
    fn log(&mut self, text: &str) {
        self.0.borrow_mut().push_str(text);
    }
}

/// `-d out_asm` of the JIT running `code` from 1 MiB.
fn out_asm(code: &[u8]) -> String {
    use tcg86::exec::{ExecOptions, Logger, Machine};
    let mut bus = tcg86::hw::Bus::new();
    bus.add(tcg86::hw::debug::DEBUG_EXIT_PORT, 1, Box::new(tcg86::hw::debug::DebugExit));
    let mut cpu = Box::new(tcg86::cpu::X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(tcg86::softmmu::PhysAddr(common::CODE_BASE), code).unwrap();
    cpu.env.reset_multiboot(common::CODE_BASE, 0x9000);
    cpu.env.regs[4] = common::STACK_TOP;
    let text = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let log = Logger { mask: tcg86::exec::LogMask::OUT_ASM, sink: Box::new(Capture(text.clone())) };
    let mut m = Machine::new(cpu, ExecOptions::default(), log);
    let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap");
    // SAFETY: a fresh mapping used only by this machine.
    assert!(unsafe { m.enable_jit(region) });
    assert!(matches!(m.cpu_exec(), ExitReason::Status(_)));
    let out = text.borrow().clone();
    out
}

/// What the behaviour above may not show (a slow path's call may happen to leave a register
/// alone): in g's code, the third access reuses the first's lookup (`lea 4(%O),%eax` and an
/// access through `(%H,%rax)`), the first's slow path leaves `POISON` in O, and the slow path of
/// the access in between saves both registers around its call.
#[test]
fn the_reused_registers_are_poisoned_and_saved_in_slow_paths() {
    let out = out_asm(SLOW_PATH_IN_BETWEEN);
    let g = out.split("OUT: ").find(|tb| tb.contains("-- guest addr 0x00100044")).expect("g's code");
    let lea = g.lines().find(|l| l.contains("lea 4(%r") && l.ends_with(",%eax")).expect("a reused lookup");
    let o = lea.split("(%").nth(1).and_then(|r| r.split(')').next()).expect("offset register");
    let access = g.lines().find(|l| l.contains(",%rax),%eax") && l.contains("mov (%r")).expect("access");
    let h = access.split("(%").nth(1).and_then(|r| r.split(',').next()).expect("host register");
    let o32 = if o.starts_with("r8") || o.starts_with("r9") || o.starts_with("r1") {
        format!("{o}d")
    } else {
        format!("e{}", &o[1..])
    };
    assert!(g.contains(&format!("mov $0x80000000,%{o32}")), "poison in %{o32}:\n{g}");
    assert!(g.contains(&format!("push %{h}")) && g.contains(&format!("push %{o}")), "saved %{h}, %{o}:\n{g}");
}
