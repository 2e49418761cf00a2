//! End-to-end smoke test of the library: raw guest code in RAM, run through translate → optimize →
//! interpreter until it writes to isa-debug-exit.

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

/// Run under both backends; they must agree on the exit and the whole register state.
fn run(code: &[u8]) -> (ExitReason, Box<X86Cpu>) {
    let (r1, c1) = run_backend(code, false);
    let (r2, c2) = run_backend(code, true);
    assert_eq!(r1, r2, "interp vs jit exit");
    assert_eq!(c1.env.regs, c2.env.regs, "interp vs jit registers");
    assert_eq!(c1.env.get_eflags(), c2.env.get_eflags(), "interp vs jit eflags");
    assert_eq!(c1.env.eip, c2.env.eip, "interp vs jit eip");
    (r2, c2)
}

fn run_backend(code: &[u8], jit: bool) -> (ExitReason, Box<X86Cpu>) {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(0x100000), code).unwrap();
    cpu.env.reset_multiboot(0x100000, 0x9000);
    cpu.env.regs[4] = 0x200000;
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(100_000), ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
    if jit {
        let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap");
        // SAFETY: a fresh mapping used only by this machine (leaked: tests are short-lived).
        assert!(unsafe { m.enable_jit(region) });
    }
    let r = m.cpu_exec();
    (r, m.cpu)
}

#[test]
fn inc_loop_then_debug_exit() {
    // mov $0,%eax; 1: inc %eax; cmp $10,%eax; jne 1b; out %al,$0xf4
    let code = [0xb8, 0, 0, 0, 0, 0x40, 0x83, 0xf8, 0x0a, 0x75, 0xfa, 0xe6, 0xf4];
    let (r, cpu) = run(&code);
    assert_eq!(r, ExitReason::Status((10 << 1) | 1));
    assert_eq!(cpu.env.regs[0], 10);
}

#[test]
fn call_ret_and_memory() {
    // mov $0x1000,%ebx; movl $7,(%ebx); call f; out %al,$0xf4; f: mov (%ebx),%eax; add $5,%eax; ret
    let code = [
        0xbb, 0x00, 0x10, 0, 0, // mov $0x1000,%ebx
        0xc7, 0x03, 7, 0, 0, 0, // movl $7,(%ebx)
        0xe8, 0x02, 0, 0, 0, // call +2
        0xe6, 0xf4, // out %al,$0xf4
        0x8b, 0x03, // mov (%ebx),%eax
        0x83, 0xc0, 0x05, // add $5,%eax
        0xc3, // ret
    ];
    let (r, _) = run(&code);
    assert_eq!(r, ExitReason::Status((12 << 1) | 1));
}

struct Capture(std::rc::Rc<std::cell::RefCell<String>>);

impl tcg86::exec::LogSink for Capture {
    fn log(&mut self, text: &str) {
        self.0.borrow_mut().push_str(text);
    }
}

#[test]
fn jit_out_asm_shows_host_code_per_guest_insn() {
    let code = [0xb8, 0, 0, 0, 0, 0x40, 0x83, 0xf8, 0x0a, 0x75, 0xfa, 0xe6, 0xf4];
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(0x100000), &code).unwrap();
    cpu.env.reset_multiboot(0x100000, 0x9000);
    let text = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let mask = tcg86::exec::LogMask::OUT_ASM | tcg86::exec::LogMask::OP_OPT;
    let log = Logger { mask, sink: Box::new(Capture(text.clone())) };
    let mut m = Machine::new(cpu, ExecOptions::default(), log);
    let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap");
    // SAFETY: a fresh mapping used only by this machine.
    assert!(unsafe { m.enable_jit(region) });
    assert_eq!(m.cpu_exec(), ExitReason::Status(21));
    let out = text.borrow();
    println!("{out}");
    assert!(out.contains("OUT: [size="), "{out}");
    assert!(out.contains("-- guest addr 0x00100005 + 0"), "{out}");
}

fn machine(code: &[u8], jit: bool, mask: tcg86::exec::LogMask, max_insns: Option<u64>) -> Machine {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(0x100000), code).unwrap();
    cpu.env.reset_multiboot(0x100000, 0x9000);
    cpu.env.regs[4] = 0x200000;
    let log = Logger { mask, sink: Box::new(NoLog) };
    let mut m = Machine::new(cpu, ExecOptions { max_insns, ..Default::default() }, log);
    if jit {
        let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap");
        // SAFETY: a fresh mapping used only by this machine.
        assert!(unsafe { m.enable_jit(region) });
    }
    m
}

#[test]
fn instruction_limit_stops_a_chained_infinite_loop_exactly() {
    for jit in [false, true] {
        let mut m = machine(&[0xeb, 0xfe], jit, Default::default(), Some(1000));
        assert_eq!(m.cpu_exec(), ExitReason::InsnLimit);
        assert_eq!(m.stats.insns, 1000, "jit={jit}");
        if jit {
            // `jmp .` is a goto_tb back to its own TB under the same key: it loops inside its
            // JIT code, charging the budget each pass, and never needs a link.
            assert_eq!(m.tbs.stats.links, 0, "the loop TB loops inside its own code");
            assert!(m.stats.tbs_executed < 10, "chained: few returns to the loop");
        }
    }
}

#[test]
fn chain_and_nochain_agree_and_count_the_same_instructions() {
    // mov $0,%eax; 1: inc %eax; cmp $1000,%eax; jne 1b; out %al,$0xf4
    let code = [0xb8, 0, 0, 0, 0, 0x40, 0x3d, 0xe8, 0x03, 0, 0, 0x75, 0xf8, 0xe6, 0xf4];
    let mut chained = machine(&code, true, Default::default(), None);
    let mut unchained = machine(&code, true, tcg86::exec::LogMask::NOCHAIN, None);
    assert_eq!(chained.cpu_exec(), ExitReason::Status(((1000 & 0xff) << 1) | 1));
    assert_eq!(unchained.cpu_exec(), ExitReason::Status(((1000 & 0xff) << 1) | 1));
    assert_eq!(chained.stats.insns, unchained.stats.insns);
    assert_eq!(chained.stats.insns, 1 + 3 * 1000 + 1);
    assert_eq!(unchained.tbs.stats.links, 0);
    assert!(chained.stats.tbs_executed < 10 && unchained.stats.tbs_executed > 1000);
}

#[test]
fn an_instruction_limit_smaller_than_the_next_tb_is_reached_exactly() {
    // nop; nop; nop; jmp back to the first nop: a 4-instruction TB, limit 6 = 4 + 2.
    for jit in [false, true] {
        let mut m = machine(&[0x90, 0x90, 0x90, 0xeb, 0xfb], jit, Default::default(), Some(6));
        assert_eq!(m.cpu_exec(), ExitReason::InsnLimit);
        assert_eq!(m.stats.insns, 6, "jit={jit}");
        assert_eq!(m.cpu.env.eip, 0x100002, "jit={jit}");
    }
}
