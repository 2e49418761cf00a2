//! Shared harness of the ALU tests: run guest bytes through tcg86 from a given register/flag/memory
//! state, and (the oracle) run the same bytes natively on the x86-64 host.
//!
//! The host runs the bytes in 64-bit mode, where 8/16/32-bit ALU instructions without REX
//! prefixes behave as in 32-bit mode. Memory operands address a 256-byte window mapped at the
//! same address (`DATA`) in the guest and in the host process, so register values that point into
//! it mean the same thing on both sides. Instructions that are invalid or different in 64-bit
//! mode (inc/dec 40+r, BCD, 0x67-prefixed addressing) run natively in 32-bit compatibility mode
//! (`run_host32`). On the guest side, `check` runs both the interpreter and the JIT.
#![allow(dead_code)]

use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::Bus;
use tcg86::softmmu::PhysAddr;

pub const CF: u32 = 1;
pub const PF: u32 = 4;
pub const AF: u32 = 0x10;
pub const ZF: u32 = 0x40;
pub const SF: u32 = 0x80;
pub const OF: u32 = 0x800;
pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;

pub const CODE: u32 = 0x0010_0000;
pub const DATA: u32 = 0x0030_0000;
pub const DATA_LEN: usize = 256;
/// Guest exit status of the final `hlt` (IF clear).
pub const HALTED: i32 = 6;

pub const EAX: usize = 0;
pub const ECX: usize = 1;
pub const EDX: usize = 2;
pub const EBX: usize = 3;
pub const ESP: usize = 4;
pub const EBP: usize = 5;
pub const ESI: usize = 6;
pub const EDI: usize = 7;

/// Registers, arithmetic flags and the data window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub regs: [u32; 8],
    pub flags: u32,
    pub mem: Vec<u8>,
}

impl State {
    pub fn new(regs: [u32; 8], flags: u32) -> State {
        let mem = (0..DATA_LEN).map(|i| (i as u32).wrapping_mul(0x9e37_79b9).wrapping_shr(13) as u8).collect();
        State { regs, flags: flags & ARITH, mem }
    }
}

/// A guest CPU with `code` at CODE followed by `hlt`, registers and flags from `st`.
pub fn guest_cpu(code: &[u8], st: &State) -> Box<X86Cpu> {
    let mut cpu = Box::new(X86Cpu::new(4 << 20, 8, Bus::new()));
    let mut bytes = code.to_vec();
    bytes.push(0xf4);
    cpu.mem.load(PhysAddr(CODE), &bytes).expect("code fits in RAM");
    cpu.mem.load(PhysAddr(DATA), &st.mem).expect("data fits in RAM");
    cpu.env.reset_multiboot(CODE, 0);
    cpu.env.regs = st.regs;
    cpu.env.regs[ESP] = 0x0020_0000;
    cpu.env.set_eflags(st.flags, ARITH);
    cpu
}

/// Run a machine until it stops.
pub fn run_cpu(cpu: Box<X86Cpu>) -> (ExitReason, Box<X86Cpu>) {
    run_cpu_tb(cpu, ExecOptions::default().tb_max_insns)
}

/// Run a machine with TBs of at most `tb_max_insns` instructions (1: lazy flags cross every
/// instruction through the `cc_op` globals).
pub fn run_cpu_tb(cpu: Box<X86Cpu>, tb_max_insns: u32) -> (ExitReason, Box<X86Cpu>) {
    run_cpu_backend(cpu, tb_max_insns, false)
}

thread_local! {
    /// One JIT code region per test thread, reused by its machines one after the other.
    static JIT_REGION: tcg86::tcg::x64::CodeRegion =
        tcg86::sys::host::alloc_code_region(1 << 20).expect("mmap JIT region");
}

/// Run a machine in the interpreter or (`jit`) the x86-64 JIT.
pub fn run_cpu_backend(cpu: Box<X86Cpu>, tb_max_insns: u32, jit: bool) -> (ExitReason, Box<X86Cpu>) {
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(10_000), tb_max_insns, ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
    if jit {
        let region = JIT_REGION.with(|r| *r);
        // SAFETY: the region belongs to this thread and the machine that used it before is gone.
        assert!(unsafe { m.enable_jit(region) });
    }
    let r = m.cpu_exec();
    (r, m.cpu)
}

/// Run `code` on tcg86 from `st`; the resulting state (esp kept from `st`).
pub fn run_guest(code: &[u8], st: &State) -> State {
    run_guest_tb(code, st, ExecOptions::default().tb_max_insns)
}

/// `run_guest` with TBs of at most `tb_max_insns` instructions.
pub fn run_guest_tb(code: &[u8], st: &State, tb_max_insns: u32) -> State {
    run_guest_backend(code, st, tb_max_insns, false)
}

/// `run_guest` in the JIT.
pub fn run_guest_jit(code: &[u8], st: &State) -> State {
    run_guest_backend(code, st, ExecOptions::default().tb_max_insns, true)
}

fn run_guest_backend(code: &[u8], st: &State, tb_max_insns: u32, jit: bool) -> State {
    let (r, cpu) = run_cpu_backend(guest_cpu(code, st), tb_max_insns, jit);
    assert_eq!(r, ExitReason::Status(HALTED), "guest did not reach its hlt: code {:02x?}", code);
    let mut regs = cpu.env.regs;
    regs[ESP] = st.regs[ESP];
    let mem = cpu.mem.slice(PhysAddr(DATA), DATA_LEN).expect("data window in RAM").to_vec();
    State { regs, flags: cpu.env.get_eflags() & ARITH, mem }
}

#[cfg(target_arch = "x86_64")]
mod host {
    use super::*;

    /// What the thunk loads and stores: eax..edi (esp ignored) and RFLAGS.
    #[repr(C)]
    struct HostRegs {
        regs: [u32; 8],
        rflags: u64,
    }

    // host_exec(regs: *mut HostRegs, code: *const u8): load the registers and flags, call the
    // code (which ends in `ret`), store registers and flags back. r14/r15 hold the two pointers:
    // the tested instructions have no REX prefix, so they cannot touch them.
    core::arch::global_asm!(
        ".globl tcg86_test_host_exec",
        "tcg86_test_host_exec:",
        "push rbx",
        "push rbp",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov r15, rdi",
        "mov r14, rsi",
        "push qword ptr [r15 + 32]",
        "popfq",
        "mov eax, [r15]",
        "mov ecx, [r15 + 4]",
        "mov edx, [r15 + 8]",
        "mov ebx, [r15 + 12]",
        "mov ebp, [r15 + 20]",
        "mov esi, [r15 + 24]",
        "mov edi, [r15 + 28]",
        "call r14",
        "pushfq",
        "pop qword ptr [r15 + 32]",
        "mov [r15], eax",
        "mov [r15 + 4], ecx",
        "mov [r15 + 8], edx",
        "mov [r15 + 12], ebx",
        "mov [r15 + 20], ebp",
        "mov [r15 + 24], esi",
        "mov [r15 + 28], edi",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "ret",
    );

    extern "C" {
        fn tcg86_test_host_exec(regs: *mut HostRegs, code: *const u8);
    }

    /// Raw `mmap` (no libc dependency); returns the address or a negative errno.
    fn mmap(addr: usize, len: usize, prot: usize, flags: usize) -> isize {
        let ret: isize;
        // SAFETY: the mmap system call with an anonymous mapping touches no existing memory
        // (MAP_FIXED_NOREPLACE refuses to replace mappings).
        unsafe {
            core::arch::asm!("syscall", inlateout("rax") 9isize => ret, in("rdi") addr, in("rsi") len,
                in("rdx") prot, in("r10") flags, in("r8") -1isize, in("r9") 0usize,
                lateout("rcx") _, lateout("r11") _, options(nostack));
        }
        ret
    }

    const PROT_RWX: usize = 7;
    const MAP_PRIVATE_ANON: usize = 0x22;
    const MAP_FIXED_NOREPLACE: usize = 0x10_0000;

    struct Pages {
        code: usize,
    }

    /// The executable page and the data page at DATA, mapped once per test process.
    fn pages() -> &'static Pages {
        static PAGES: std::sync::OnceLock<Pages> = std::sync::OnceLock::new();
        PAGES.get_or_init(|| {
            let code = mmap(0, 4096, PROT_RWX, MAP_PRIVATE_ANON);
            assert!(code > 0, "mmap code page: {}", code);
            let data = mmap(DATA as usize, 4096, 3, MAP_PRIVATE_ANON | MAP_FIXED_NOREPLACE);
            assert_eq!(data, DATA as isize, "mmap data page at DATA");
            Pages { code: code as usize }
        })
    }

    // host_exec32(regs: *mut HostRegs, low: *mut u8): like host_exec, but enters the 32-bit
    // code at low + 0x100 in compatibility mode (Linux's __USER32_CS = 0x23) through a far
    // return, on a stack inside the low page. The 32-bit code comes back through the 64-bit stub
    // at low + 0x80, which stores the registers and resumes at the continuation saved at
    // low + 0xf10 with the rsp saved at low + 0xf00.
    core::arch::global_asm!(
        ".globl tcg86_test_host_exec32",
        "tcg86_test_host_exec32:",
        "push rbx",
        "push rbp",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rsi + 0xf00], rsp",
        "mov [rsi + 0xf08], rdi",
        "lea rax, [rip + 2f]",
        "mov [rsi + 0xf10], rax",
        "lea rsp, [rsi + 0xe00]",
        "push 0x23",
        "lea rax, [rsi + 0x100]",
        "push rax",
        "mov r15, rdi",
        "push qword ptr [r15 + 32]",
        "popfq",
        "mov eax, [r15]",
        "mov ecx, [r15 + 4]",
        "mov edx, [r15 + 8]",
        "mov ebx, [r15 + 12]",
        "mov ebp, [r15 + 20]",
        "mov esi, [r15 + 24]",
        "mov edi, [r15 + 28]",
        "retfq",
        "2:",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "ret",
    );

    extern "C" {
        fn tcg86_test_host_exec32(regs: *mut HostRegs, low: *mut u8);
    }

    /// The low page (code, stack and stub for 32-bit runs).
    const LOW: u32 = 0x0031_0000;

    /// The 64-bit return stub placed at LOW + 0x80 (hand-encoded: it must live below 4 GiB).
    fn stub64() -> Vec<u8> {
        let abs = |a: u32| a.to_le_bytes();
        let mut v = vec![0x9c]; // pushfq
        v.extend([0x4c, 0x8b, 0x3c, 0x25]); // mov r15, [LOW + 0xf08]
        v.extend(abs(LOW + 0xf08));
        v.extend([0x41, 0x8f, 0x47, 0x20]); // pop qword [r15 + 32]
        v.extend([0x41, 0x89, 0x07]); // mov [r15], eax
        v.extend([0x41, 0x89, 0x4f, 0x04, 0x41, 0x89, 0x57, 0x08, 0x41, 0x89, 0x5f, 0x0c]);
        v.extend([0x41, 0x89, 0x6f, 0x14, 0x41, 0x89, 0x77, 0x18, 0x41, 0x89, 0x7f, 0x1c]);
        v.extend([0x48, 0x8b, 0x24, 0x25]); // mov rsp, [LOW + 0xf00]
        v.extend(abs(LOW + 0xf00));
        v.extend([0xff, 0x24, 0x25]); // jmp [LOW + 0xf10]
        v.extend(abs(LOW + 0xf10));
        v
    }

    /// Run `code` natively in 32-bit compatibility mode from `st` (for instructions that are
    /// invalid or different in 64-bit mode: BCD, inc/dec 40+r, 0x67 addressing).
    pub fn run_host32(code: &[u8], st: &State) -> State {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        pages();
        static LOW_PAGE: std::sync::OnceLock<isize> = std::sync::OnceLock::new();
        let low = *LOW_PAGE.get_or_init(|| mmap(LOW as usize, 4096, PROT_RWX, MAP_PRIVATE_ANON | MAP_FIXED_NOREPLACE));
        assert_eq!(low, LOW as isize, "mmap low page");
        let mut c32 = vec![0x6a, 0x2b, 0x1f, 0x6a, 0x2b, 0x07]; // ds = es = __USER_DS
        c32.extend_from_slice(code);
        c32.extend([0x6a, 0x33, 0x68]); // push $__USER_CS; push $stub; lret
        c32.extend((LOW + 0x80).to_le_bytes());
        c32.push(0xcb);
        assert!(c32.len() < 0xd00);
        let stub = stub64();
        // SAFETY: the low page and the data page are mapped for the life of the process and only
        // used under LOCK; the stub and the 32-bit code fit in their slots.
        unsafe {
            let p = LOW as *mut u8;
            std::ptr::copy_nonoverlapping(stub.as_ptr(), p.add(0x80), stub.len());
            std::ptr::copy_nonoverlapping(c32.as_ptr(), p.add(0x100), c32.len());
            std::ptr::copy_nonoverlapping(st.mem.as_ptr(), DATA as *mut u8, DATA_LEN);
        }
        let mut hr = HostRegs { regs: st.regs, rflags: (st.flags & ARITH) as u64 | 0x202 };
        // SAFETY: the thunk saves every callee-saved register and rsp, runs only the code above,
        // which touches registers, the low page's stack and the data page, and comes back.
        unsafe { tcg86_test_host_exec32(&mut hr, LOW as *mut u8) };
        let mut mem = vec![0u8; DATA_LEN];
        // SAFETY: the data page is mapped (see above).
        unsafe { std::ptr::copy_nonoverlapping(DATA as *const u8, mem.as_mut_ptr(), DATA_LEN) };
        let mut regs = hr.regs;
        regs[ESP] = st.regs[ESP];
        State { regs, flags: hr.rflags as u32 & ARITH, mem }
    }

    /// Serializes use of the shared pages between test threads.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Run `code` natively from `st`.
    pub fn run_host(code: &[u8], st: &State) -> State {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let p = pages();
        assert!(code.len() < 4000);
        // SAFETY: both pages are mapped by `pages()` for the life of the process, are RWX/RW,
        // private to this process, and only used under LOCK.
        unsafe {
            let c = p.code as *mut u8;
            std::ptr::copy_nonoverlapping(code.as_ptr(), c, code.len());
            *c.add(code.len()) = 0xc3;
            std::ptr::copy_nonoverlapping(st.mem.as_ptr(), DATA as *mut u8, DATA_LEN);
        }
        let mut hr = HostRegs { regs: st.regs, rflags: (st.flags & ARITH) as u64 | 0x202 };
        // SAFETY: the code page holds the tested instructions then `ret`; they only touch the
        // registers the thunk saves and the data page (the callers' operands point into it).
        unsafe { tcg86_test_host_exec(&mut hr, p.code as *const u8) };
        let mut mem = vec![0u8; DATA_LEN];
        // SAFETY: the data page is mapped (see above).
        unsafe { std::ptr::copy_nonoverlapping(DATA as *const u8, mem.as_mut_ptr(), DATA_LEN) };
        let mut regs = hr.regs;
        regs[ESP] = st.regs[ESP];
        State { regs, flags: hr.rflags as u32 & ARITH, mem }
    }
}

pub use host::{run_host, run_host32};

/// Run `code` in the interpreter and in the JIT: the two must agree exactly (undefined flags
/// included); returns the state.
pub fn run_guest_both(code: &[u8], st: &State) -> State {
    let g = run_guest(code, st);
    let j = run_guest_jit(code, st);
    assert_eq!(g, j, "interpreter vs JIT for {:02x?} from {:x?} flags {:#x}", code, st.regs, st.flags);
    g
}

/// Run `code` on tcg86 and on the host from `st`; they must agree on registers, memory and the
/// flags outside `undef`. Returns the guest state.
pub fn check(code: &[u8], st: &State, undef: u32) -> State {
    let g = run_guest_both(code, st);
    let h = run_host(code, st);
    let m = ARITH & !undef;
    let same = g.regs == h.regs && g.mem == h.mem && (g.flags & m) == (h.flags & m);
    if !same {
        let diff: Vec<String> = (0..8)
            .filter(|&i| g.regs[i] != h.regs[i])
            .map(|i| format!("r{}: tcg86 {:#x} host {:#x}", i, g.regs[i], h.regs[i]))
            .collect();
        panic!(
            "mismatch for {:02x?}\n  in: regs {:x?} flags {:#x}\n  {}\n  flags tcg86 {:#05x} host {:#05x} (mask {:#x}){}",
            code,
            st.regs,
            st.flags,
            diff.join(", "),
            g.flags,
            h.flags,
            m,
            if g.mem != h.mem { "\n  memory differs" } else { "" }
        );
    }
    g
}

/// `check` against the host running in 32-bit compatibility mode.
pub fn check32(code: &[u8], st: &State, undef: u32) -> State {
    let g = run_guest_both(code, st);
    let h = run_host32(code, st);
    let m = ARITH & !undef;
    assert!(
        g.regs == h.regs && g.mem == h.mem && (g.flags & m) == (h.flags & m),
        "mismatch (32-bit host) for {:02x?}\n  in: {:x?} flags {:#x}\n  tcg86 {:x?} flags {:#x}\n  host  {:x?} flags {:#x}{}",
        code,
        st.regs,
        st.flags,
        g.regs,
        g.flags,
        h.regs,
        h.flags,
        if g.mem != h.mem { "\n  memory differs" } else { "" }
    );
    g
}

/// Interesting operand values: zero, the sign boundaries of every size, all ones, carries.
pub const EDGES: [u32; 16] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1234_5678,
    0xfedc_ba98,
];

/// A small deterministic generator (xorshift32).
pub struct Rng(pub u32);

impl Rng {
    pub fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// Registers with random contents, ebx pointing into the data window.
    pub fn regs(&mut self) -> [u32; 8] {
        let mut r = [0; 8];
        for v in r.iter_mut() {
            *v = self.next();
        }
        r[EBX] = DATA + 0x40;
        r
    }
}

/// The ModRM byte.
pub fn modrm(md: u8, reg: u8, rm: u8) -> u8 {
    (md << 6) | (reg << 3) | rm
}

/// Flag settings to start from: all clear, all set, CF only.
pub const FLAG_SETS: [u32; 3] = [0, ARITH, CF];
