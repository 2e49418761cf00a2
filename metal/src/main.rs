//! tcg86 on bare metal: the no_std core, booted by `qemu-system-x86_64 -kernel` (PVH), runs the
//! embedded demo kernel under the x86-64 JIT out of the static code region (`sys::metal`) and
//! prints the guest's serial output on the outer machine's COM1, then one summary line, and
//! stops the outer machine through isa-debug-exit with the guest's exit status (a panic exits
//! with 0x7f).
//!
//! Memory: the boot stub identity-maps the first GiB; the heap is a static 96 MiB array managed
//! by `linked_list_allocator`, holding the guest's RAM, the TLB and the TB cache.

#![no_std]
#![no_main]

extern crate alloc;

mod boot;
mod port;

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

/// Guest RAM for the demo kernel.
const GUEST_RAM: usize = 16 << 20;
const HEAP_SIZE: usize = 96 << 20;
/// Outer exit code after a panic.
const PANIC_EXIT: u8 = 0x7f;

#[repr(C, align(4096))]
struct HeapArea(UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the bytes are only reached through the allocator, which `metal_main` hands them once.
unsafe impl Sync for HeapArea {}

static HEAP: HeapArea = HeapArea(UnsafeCell::new([0; HEAP_SIZE]));

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Called by the boot stub in long mode.
#[no_mangle]
extern "C" fn metal_main() -> ! {
    // SAFETY: runs once, before any allocation; HEAP is used by nothing but the allocator.
    unsafe { ALLOCATOR.lock().init(HEAP.0.get().cast(), HEAP_SIZE) };
    let status = run_demo();
    port::exit(status)
}

/// Boot the demo kernel in a JIT machine and run it to the end; the guest's exit status.
fn run_demo() -> u8 {
    let bus = pc_bus(Box::new(Com1), Box::new(Com1));
    let mut cpu = Box::new(X86Cpu::new(GUEST_RAM, DEFAULT_TLB_BITS, bus));
    let params = BootParams { kernel: &DEMO_KERNEL, cmdline: "tcg86-demo", modules: &[] };
    if let Err(e) = boot_multiboot(&mut cpu, &params) {
        panic!("demo kernel: {e}");
    }
    let log = Logger { mask: LogMask::empty(), sink: Box::new(NoLog) };
    let mut m = Machine::new(cpu, ExecOptions::default(), log);
    let region = take_code_region().expect("the code region is taken once");
    // SAFETY: the static region, handed out once, serves this machine only and never goes away.
    assert!(unsafe { m.enable_jit(region) }, "JIT code region too small");
    let reason = m.cpu_exec();
    let s = &m.stats;
    let _ = writeln!(
        Com1,
        "tcg86-metal: guest exit status {}, {} guest instructions, {} TBs JIT-compiled into {} bytes at {:#x}",
        reason.status(),
        s.insns,
        s.tbs_translated,
        s.host_code_bytes,
        region.rx as usize,
    );
    reason.status() as u8
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Com1, "tcg86-metal: panic: {info}");
    port::exit(PANIC_EXIT)
}
