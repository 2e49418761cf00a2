//! W^X code memory: a guest loop with chained TBs and indirect jumps runs under the JIT while no
//! mapping of the process is both writable and executable, and every host address the JIT hands
//! out (TB code, `goto_tb` sites) lies in the read-execute view of the code region.

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::debug::{DebugExit, DEBUG_EXIT_PORT};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;
use tcg86::tcg::x64::CodeRegion;

/// eax += 3 a thousand times through `call`/`ret`, then exit with al.
const MAIN: &[u8] = &[
    0xb9, 0xe8, 0x03, 0x00, 0x00, // 100000: mov $1000,%ecx
    0x31, 0xc0, // 100005: xor %eax,%eax
    0xe8, 0x14, 0x00, 0x00, 0x00, // 100007: call 100020
    0x49, // 10000c: dec %ecx
    0x75, 0xf8, // 10000d: jnz 100007
    0xe6, 0xf4, // 10000f: out %al,$0xf4
];
const ADD3: &[u8] = &[0x83, 0xc0, 0x03, 0xc3]; // 100020: add $3,%eax; ret

/// A JIT machine over the guest above, using `region` as its code buffer.
fn machine(region: CodeRegion) -> Machine {
    let mut bus = Bus::new();
    bus.add(DEBUG_EXIT_PORT, 1, Box::new(DebugExit));
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, bus));
    cpu.mem.load(PhysAddr(0x100000), MAIN).expect("load main");
    cpu.mem.load(PhysAddr(0x100020), ADD3).expect("load add3");
    cpu.env.reset_multiboot(0x100000, 0x9000);
    cpu.env.regs[4] = 0x200000;
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let mut m = Machine::new(cpu, ExecOptions { max_insns: Some(1_000_000), ..Default::default() }, log);
    // SAFETY: a fresh region used only by this machine, never unmapped.
    assert!(unsafe { m.enable_jit(region) });
    m
}

/// The lines of /proc/self/maps whose permissions include both `w` and `x`.
fn writable_and_executable() -> Vec<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    let wx = |l: &&str| l.split(' ').nth(1).is_some_and(|p| p.contains('w') && p.contains('x'));
    maps.lines().filter(wx).map(str::to_owned).collect()
}

#[test]
fn jit_runs_chained_code_with_no_writable_executable_mapping() {
    let region = tcg86::sys::host::alloc_code_region(1 << 20).expect("code region");
    assert!(region.is_split(), "the host has memfd_create");
    let mut m = machine(region);
    assert_eq!(m.cpu_exec(), ExitReason::Status(((3000 & 0xff) << 1) | 1));
    assert!(m.tbs.stats.links > 0, "goto_tb jumps were patched");
    assert_eq!(writable_and_executable(), Vec::<String>::new());
    let rx = region.rx as usize..region.rx as usize + region.len;
    let jit = m.jit.as_ref().expect("jit");
    for tb in m.tbs.tbs.iter() {
        let host = tb.host.expect("compiled by the JIT");
        assert!(rx.contains(&host.addr) && rx.contains(&(host.addr + host.size - 1)), "{host:?} in {rx:x?}");
        for site in tb.jmp_sites.iter().flatten() {
            assert!(rx.contains(&site.jmp), "goto_tb jmp {site:x?} in {rx:x?}");
            assert!(site.jcc.is_none_or(|f| rx.contains(&f)), "goto_tb jcc {site:x?} in {rx:x?}");
        }
        // SAFETY: the bytes lie inside the readable rx view (checked above), which outlives `m`.
        let ran = unsafe { std::slice::from_raw_parts(host.addr as *const u8, host.size) };
        assert_eq!(jit.code_bytes(host), ran, "the rw and rx views hold the same bytes");
    }
}
