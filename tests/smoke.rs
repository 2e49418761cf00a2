//! End-to-end smoke test of the library: raw guest code in RAM, run through translate → optimize →
//! interpreter until it writes to isa-debug-exit.

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

fn run(code: &[u8]) -> (ExitReason, Box<X86Cpu>) {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(0x100000), code).unwrap();
    cpu.env.reset_multiboot(0x100000, 0x9000);
    cpu.env.regs[4] = 0x200000;
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(100_000), ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
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
