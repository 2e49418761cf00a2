//! Arbitrary bytes as 32-bit guest code must never crash the host: translate and run them under
//! the interpreter with an instruction bound; any exit reason is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

const CODE: u32 = 0x10_0000;

fuzz_target!(|code: &[u8]| {
    if code.len() > 4096 {
        return;
    }
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    if cpu.mem.load(PhysAddr(CODE), code).is_err() {
        return;
    }
    cpu.env.reset_multiboot(CODE, 0x9000);
    cpu.env.regs[4] = 0x20_0000;
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(10_000), ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
    let _ = m.cpu_exec();
});
