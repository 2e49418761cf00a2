//! The native runner: many sequences in one static i386 Linux process on the host CPU.
//!
//! The process image (one RWX segment) holds a runner, the sequences, their initial states and
//! room for their outcomes. For each sequence the runner copies the initial memory into the
//! scratch/stack region, loads EFLAGS and the registers, and jumps to the sequence, which ends
//! with a jump to the epilogue: it stores the registers and EFLAGS, then the runner copies them
//! and the region into the outcome block. A fault (SIGFPE for #DE, SIGSEGV, SIGILL, SIGBUS) is
//! caught on an alternate stack; the handler records the registers, EFLAGS, EIP and the hardware
//! vector (`trapno`) from the signal context and makes `rt_sigreturn` resume at the runner.
//! At the end all outcome blocks go to stdout in one `write` loop.

use super::elf;
use super::gen::Sequence;
use super::layout::{Outcome, REGION_SIZE, SCRATCH};
use iced_x86::code_asm::*;
use iced_x86::{BlockEncoderOptions, IcedError};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const BASE: u32 = 0x1_f000;
/// Saved state: eax..edi, eflags, vector (-1: none), eip.
const SAVE: u32 = 0x2_0400;
const SAVE_DWORDS: u32 = 11;
const G_IDX: u32 = 0x2_0440;
const G_TARGET: u32 = 0x2_0444;
const G_INSEQ: u32 = 0x2_0448;
const G_AFTER: u32 = 0x2_044c;
const SS_STRUCT: u32 = 0x2_0460;
const SIGACT: u32 = 0x2_0480;
const RUNNER_STACK: u32 = 0x2_0e00;
const RUNNER: u32 = 0x2_2000;
const SEQS: u32 = 0x2_3000;
const ALT_STACK_SIZE: u32 = 0x1_0000;
/// Initial state block: eax..edi, eflags, region.
const IN_SIZE: u32 = 36 + REGION_SIZE;
const OUT_SIZE: u32 = SAVE_DWORDS * 4 + REGION_SIZE;

/// Where everything goes in the image.
struct Layout {
    code_addrs: Vec<u32>,
    table: u32,
    in_base: u32,
    out_base: u32,
    alt_stack: u32,
    end: u32,
}

fn layout(seqs: &[Sequence]) -> Layout {
    let mut pos = SEQS;
    let mut code_addrs = Vec::with_capacity(seqs.len());
    for s in seqs {
        code_addrs.push(pos);
        pos += s.code.len() as u32 + 5;
    }
    let table = (pos + 15) & !15;
    let in_base = table + 4 * seqs.len() as u32;
    let out_base = in_base + IN_SIZE * seqs.len() as u32;
    let alt_stack = (out_base + OUT_SIZE * seqs.len() as u32 + 15) & !15;
    Layout { code_addrs, table, in_base, out_base, alt_stack, end: alt_stack + ALT_STACK_SIZE }
}

/// Addresses the image needs from the assembled runner.
struct Runner {
    code: Vec<u8>,
    epilogue: u32,
    after: u32,
    handler: u32,
    restorer: u32,
}

fn store(v: &mut [u8], addr: u32, value: u32) {
    let o = (addr - BASE) as usize;
    v[o..o + 4].copy_from_slice(&value.to_le_bytes());
}

/// The runner loop: load a state, run a sequence, save the outcome; at the end write them out.
fn assemble_runner(n: u32, l: &Layout) -> Result<Runner, IcedError> {
    let mut a = CodeAssembler::new(32)?;
    let (mut next, mut done, mut epilogue, mut after) =
        (a.create_label(), a.create_label(), a.create_label(), a.create_label());
    let (mut wloop, mut fail, mut handler, mut restorer) =
        (a.create_label(), a.create_label(), a.create_label(), a.create_label());
    // sigaltstack(&ss, NULL); rt_sigaction(sig, &act, NULL, 8) for SIGILL, SIGBUS, SIGFPE, SIGSEGV
    a.mov(eax, 186)?;
    a.mov(ebx, SS_STRUCT)?;
    a.xor(ecx, ecx)?;
    a.int(0x80)?;
    for sig in [4, 7, 8, 11] {
        a.mov(eax, 174)?;
        a.mov(ebx, sig)?;
        a.mov(ecx, SIGACT)?;
        a.xor(edx, edx)?;
        a.mov(esi, 8)?;
        a.int(0x80)?;
    }
    a.mov(dword_ptr(G_IDX), 0)?;
    a.set_label(&mut next)?;
    a.mov(eax, dword_ptr(G_IDX))?;
    a.cmp(eax, n)?;
    a.jae(done)?;
    // Initial memory, then the jump target, EFLAGS and registers (ESI last).
    a.imul_3(esi, eax, IN_SIZE)?;
    a.add(esi, l.in_base)?;
    a.push(esi)?;
    a.lea(esi, ptr(esi + 36))?;
    a.mov(edi, SCRATCH)?;
    a.mov(ecx, REGION_SIZE / 4)?;
    a.cld()?;
    a.rep().movsd()?;
    a.pop(esi)?;
    a.mov(dword_ptr(SAVE + 36), -1)?;
    a.mov(eax, dword_ptr(G_IDX))?;
    a.mov(eax, dword_ptr(eax * 4 + l.table as i32))?;
    a.mov(dword_ptr(G_TARGET), eax)?;
    a.mov(dword_ptr(G_INSEQ), 1)?;
    a.push(dword_ptr(esi + 32))?;
    a.popfd()?;
    for (r, off) in [(eax, 0), (ecx, 4), (edx, 8), (ebx, 12), (ebp, 20), (edi, 28), (esp, 16), (esi, 24)] {
        a.mov(r, dword_ptr(esi + off))?;
    }
    a.jmp(dword_ptr(G_TARGET))?;
    // Epilogue: registers, then EFLAGS through the runner's own stack.
    a.set_label(&mut epilogue)?;
    for (i, r) in [eax, ecx, edx, ebx, esp, ebp, esi, edi].into_iter().enumerate() {
        a.mov(dword_ptr(SAVE + 4 * i as u32), r)?;
    }
    a.mov(esp, RUNNER_STACK)?;
    a.pushfd()?;
    a.pop(dword_ptr(SAVE + 32))?;
    // Copy the saved state and the region into the outcome block.
    a.set_label(&mut after)?;
    a.mov(esp, RUNNER_STACK)?;
    a.cld()?;
    a.mov(dword_ptr(G_INSEQ), 0)?;
    a.mov(eax, dword_ptr(G_IDX))?;
    a.imul_3(edi, eax, OUT_SIZE)?;
    a.add(edi, l.out_base)?;
    a.mov(esi, SAVE)?;
    a.mov(ecx, SAVE_DWORDS)?;
    a.rep().movsd()?;
    a.mov(esi, SCRATCH)?;
    a.mov(ecx, REGION_SIZE / 4)?;
    a.rep().movsd()?;
    a.inc(dword_ptr(G_IDX))?;
    a.jmp(next)?;
    // write(1, out, len) until done; exit(0)
    a.set_label(&mut done)?;
    a.mov(ecx, l.out_base)?;
    a.mov(edx, OUT_SIZE * n)?;
    a.set_label(&mut wloop)?;
    a.mov(eax, 4)?;
    a.mov(ebx, 1)?;
    a.int(0x80)?;
    a.test(eax, eax)?;
    a.jle(fail)?;
    a.add(ecx, eax)?;
    a.sub(edx, eax)?;
    a.jnz(wloop)?;
    a.mov(eax, 1)?;
    a.xor(ebx, ebx)?;
    a.int(0x80)?;
    a.set_label(&mut fail)?;
    a.mov(eax, 1)?;
    a.mov(ebx, 3)?;
    a.int(0x80)?;
    // Signal handler(sig, info, uc): a fault outside a sequence exits with status 3.
    a.set_label(&mut handler)?;
    a.cmp(dword_ptr(G_INSEQ), 0)?;
    a.je(fail)?;
    a.mov(eax, dword_ptr(esp + 12))?;
    // struct sigcontext at uc+20: edi 16, esi 20, ebp 24, esp 28, ebx 32, edx 36, ecx 40, eax 44,
    // trapno 48, eip 56, eflags 64.
    for (i, sc) in [44, 40, 36, 32, 28, 24, 20, 16, 64, 48, 56].into_iter().enumerate() {
        a.mov(edx, dword_ptr(eax + (20 + sc)))?;
        a.mov(dword_ptr(SAVE + 4 * i as u32), edx)?;
    }
    a.mov(edx, dword_ptr(G_AFTER))?;
    a.mov(dword_ptr(eax + (20 + 56)), edx)?;
    a.ret()?;
    a.set_label(&mut restorer)?;
    a.mov(eax, 173)?;
    a.int(0x80)?;
    let r = a.assemble_options(RUNNER as u64, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)?;
    let ip = |l: &CodeLabel| r.label_ip(l).map(|v| v as u32);
    Ok(Runner {
        code: r.inner.code_buffer.clone(),
        epilogue: ip(&epilogue)?,
        after: ip(&after)?,
        handler: ip(&handler)?,
        restorer: ip(&restorer)?,
    })
}

/// The whole executable for a batch of sequences.
fn build_image(seqs: &[Sequence]) -> Result<Vec<u8>, IcedError> {
    let l = layout(seqs);
    let r = assemble_runner(seqs.len() as u32, &l)?;
    assert!(RUNNER + (r.code.len() as u32) <= SEQS, "runner too large");
    let mut img = vec![0u8; (l.out_base - BASE) as usize];
    let at = |a: u32| (a - BASE) as usize;
    img[at(RUNNER)..at(RUNNER) + r.code.len()].copy_from_slice(&r.code);
    store(&mut img, G_AFTER, r.after);
    for (i, v) in [l.alt_stack, 0, ALT_STACK_SIZE].into_iter().enumerate() {
        store(&mut img, SS_STRUCT + 4 * i as u32, v);
    }
    // SA_SIGINFO | SA_ONSTACK | SA_RESTORER
    for (i, v) in [r.handler, 0x0c00_0004, r.restorer, 0, 0].into_iter().enumerate() {
        store(&mut img, SIGACT + 4 * i as u32, v);
    }
    for (i, s) in seqs.iter().enumerate() {
        let c = l.code_addrs[i];
        img[at(c)..at(c) + s.code.len()].copy_from_slice(&s.code);
        let jmp_at = c + s.code.len() as u32;
        img[at(jmp_at)] = 0xe9;
        store(&mut img, jmp_at + 1, r.epilogue.wrapping_sub(jmp_at + 5));
        store(&mut img, l.table + 4 * i as u32, c);
        let inb = l.in_base + IN_SIZE * i as u32;
        for (k, v) in s.init.regs.iter().chain([s.init.eflags].iter()).enumerate() {
            store(&mut img, inb + 4 * k as u32, *v);
        }
        img[at(inb + 36)..at(inb + IN_SIZE)].copy_from_slice(&s.init.mem);
    }
    let entry = RUNNER;
    Ok(elf::build(img, BASE, entry, l.end - BASE))
}

fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Decode one outcome block.
fn outcome(block: &[u8], code_addr: u32) -> Outcome {
    let mut regs = [0u32; 8];
    for (i, r) in regs.iter_mut().enumerate() {
        *r = le32(block, i);
    }
    let vector = le32(block, 9);
    let fault = (vector != u32::MAX).then(|| (vector, le32(block, 10).wrapping_sub(code_addr)));
    Outcome { regs, eflags: le32(block, 8), fault, mem: block[(SAVE_DWORDS * 4) as usize..].to_vec() }
}

/// Run a batch of sequences natively; one outcome per sequence.
pub fn run(seqs: &[Sequence]) -> Result<Vec<Outcome>, String> {
    let image = build_image(seqs).map_err(|e| format!("assembling the native runner: {e}"))?;
    let path = write_exe(&image).map_err(|e| format!("writing the native runner: {e}"))?;
    let out = exec_with_retry(&path);
    let _ = std::fs::remove_file(&path);
    let out = out.map_err(|e| format!("running {}: {e}", path.display()))?;
    if !out.status.success() || out.stdout.len() != (OUT_SIZE as usize) * seqs.len() {
        return Err(format!("native runner: {} with {} bytes of output", out.status, out.stdout.len()));
    }
    let l = layout(seqs);
    Ok(out.stdout.chunks(OUT_SIZE as usize).zip(&l.code_addrs).map(|(b, &c)| outcome(b, c)).collect())
}

fn write_exe(image: &[u8]) -> std::io::Result<std::path::PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("tcg86-difftest-{}-{n}", std::process::id()));
    let mut f = std::fs::File::create(&path)?;
    f.write_all(image)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o755))?;
    drop(f);
    Ok(path)
}

/// Run the executable; retry on ETXTBSY (another thread may hold a copy of the write fd).
fn exec_with_retry(path: &std::path::Path) -> std::io::Result<std::process::Output> {
    let mut tries = 0;
    loop {
        match Command::new(path).output() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r,
        }
    }
}
