//! tcg86 on bare metal: the no_std core, booted by `qemu-system-x86_64 -kernel` (PVH), runs the
//! embedded demo kernel under the x86-64 JIT and prints the guest's serial output on the outer
//! machine's COM1, then one summary line, and stops the outer machine through isa-debug-exit with
//! the guest's exit status (a panic exits with 0x7f).
//!
//! Memory: the boot stub's page tables are W^X (see `boot`). The JIT writes into the static code
//! region (`sys::metal`) through its identity mapping and runs it through the executable alias
//! `boot::EXEC_ALIAS` higher. The heap is a static 96 MiB array managed by
//! `linked_list_allocator`, holding the guest's RAM, the TLB and the TB cache.
//!
//! Probes (kernel command line, `-append`): `probe=write-rx` writes into the executable view and
//! `probe=exec-rw` calls into the writable view after the run; both must fault (the machine
//! triple-faults: there is no IDT) before the line saying they went through.

#![no_std]
#![no_main]

extern crate alloc;

mod boot;
mod port;
mod start_info;

use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::fmt::Write;
use linked_list_allocator::LockedHeap;
use port::Com1;
use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{LogMask, Logger, NoLog};
use tcg86::exec::{ExecOptions, Machine};
use tcg86::hw::pc::pc_bus;
use tcg86::loader::demo::DEMO_KERNEL;
use tcg86::loader::{boot_multiboot, BootParams};
use tcg86::softmmu::tlb::DEFAULT_TLB_BITS;
use tcg86::sys::metal::take_code_region;
use tcg86::tcg::x64::CodeRegion;

/// Guest RAM for the demo kernel.
const GUEST_RAM: usize = 16 << 20;
const HEAP_SIZE: usize = 96 << 20;
/// Outer exit code after a panic.
const PANIC_EXIT: u8 = 0x7f;
/// Outer exit code when a probe was not stopped by a fault.
const PROBE_EXIT: u8 = 0x7e;

#[repr(C, align(4096))]
struct HeapArea(UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the bytes are only reached through the allocator, which `metal_main` hands them once.
unsafe impl Sync for HeapArea {}

static HEAP: HeapArea = HeapArea(UnsafeCell::new([0; HEAP_SIZE]));

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

extern "C" {
    /// The 2 MiB pages of the JIT code region (link.ld), mapped twice by the boot stub.
    static __jit_start: u8;
    static __jit_end: u8;
}

/// Called by the boot stub in long mode with the physical address of the PVH start info.
#[no_mangle]
extern "C" fn metal_main(start_info: u32) -> ! {
    // SAFETY: runs once, before any allocation; HEAP is used by nothing but the allocator.
    unsafe { ALLOCATOR.lock().init(HEAP.0.get().cast(), HEAP_SIZE) };
    let region = code_region();
    let status = run_demo(region);
    match start_info::cmdline(start_info) {
        "probe=write-rx" => probe_write_rx(region),
        "probe=exec-rw" => probe_exec_rw(region),
        _ => port::exit(status),
    }
}

/// The static code region, its executable view moved to the boot stub's alias.
fn code_region() -> CodeRegion {
    let region = take_code_region().expect("the code region is taken once");
    let (lo, hi) = (core::ptr::addr_of!(__jit_start) as usize, core::ptr::addr_of!(__jit_end) as usize);
    let rw = region.rw as usize;
    assert!(lo <= rw && rw + region.len <= hi, "the code region lies in the .jit pages");
    CodeRegion { rx: (rw + boot::EXEC_ALIAS) as *const u8, ..region }
}

/// Boot the demo kernel in a JIT machine and run it to the end; the guest's exit status.
fn run_demo(region: CodeRegion) -> u8 {
    let bus = pc_bus(Box::new(Com1), Box::new(Com1));
    let mut cpu = Box::new(X86Cpu::new(GUEST_RAM, DEFAULT_TLB_BITS, bus));
    let params = BootParams { kernel: &DEMO_KERNEL, cmdline: "tcg86-demo", modules: &[] };
    if let Err(e) = boot_multiboot(&mut cpu, &params) {
        panic!("demo kernel: {e}");
    }
    let log = Logger { mask: LogMask::empty(), sink: Box::new(NoLog) };
    let mut m = Machine::new(cpu, ExecOptions::default(), log);
    // SAFETY: the static region, handed out once, serves this machine only and never goes away;
    // the boot stub maps `rx` executable and `rw` writable over the same pages.
    assert!(unsafe { m.enable_jit(region) }, "JIT code region too small");
    let reason = m.cpu_exec();
    let s = &m.stats;
    let _ = writeln!(
        Com1,
        "tcg86-metal: guest exit status {}, {} guest instructions, {} TBs JIT-compiled into {} bytes; code runs at {:#x}, written at {:#x}",
        reason.status(),
        s.insns,
        s.tbs_translated,
        s.host_code_bytes,
        region.rx as usize,
        region.rw as usize,
    );
    reason.status() as u8
}

/// Store into the executable view (its last byte, unused by the small demo): must fault.
fn probe_write_rx(region: CodeRegion) -> ! {
    let p = region.rx.wrapping_add(region.len - 1).cast_mut();
    let _ = writeln!(Com1, "tcg86-metal: probe: writing to the executable view at {:#x}", p as usize);
    // SAFETY: a mapped byte of the code region that no TB uses; the point is that it faults.
    unsafe { p.write_volatile(0xc3) };
    let _ = writeln!(Com1, "tcg86-metal: probe: the write went through");
    port::exit(PROBE_EXIT)
}

/// Call a `ret` placed in the writable view (its last byte): must fault on the fetch.
fn probe_exec_rw(region: CodeRegion) -> ! {
    let p = region.rw.wrapping_add(region.len - 1);
    let _ = writeln!(Com1, "tcg86-metal: probe: calling into the writable view at {:#x}", p as usize);
    // SAFETY: a byte of the writable view that no TB uses.
    unsafe { p.write_volatile(0xc3) };
    // SAFETY: the byte is a `ret`; the point is that fetching it faults.
    let f: extern "C" fn() = unsafe { core::mem::transmute(p) };
    f();
    let _ = writeln!(Com1, "tcg86-metal: probe: the call went through");
    port::exit(PROBE_EXIT)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Com1, "tcg86-metal: panic: {info}");
    port::exit(PANIC_EXIT)
}
