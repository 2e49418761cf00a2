//! The multiboot loader on synthetic images: where segments land, the bss, the modules, the
//! multiboot information read back from guest RAM, the CPU state at entry, every malformed input,
//! and whole boots through `cpu_exec` (including the embedded demo kernel).

mod boot_images;

use boot_images::*;
use std::cell::RefCell;
use std::rc::Rc;
use tcg86::cpu::X86Cpu;
use tcg86::exec::log::{Logger, NoLog};
use tcg86::exec::{ExecOptions, ExitReason, Machine};
use tcg86::hw::pc::pc_bus;
use tcg86::hw::{CharSink, NullSink};
use tcg86::loader::demo::{DEMO_ENTRY, DEMO_GREETING, DEMO_KERNEL};
use tcg86::loader::mbi::{self, field, info_flags};
use tcg86::loader::{boot_multiboot, load_multiboot, BootParams, LoadError, Module};
use tcg86::softmmu::{PhysAddr, PhysMem};

const RAM: usize = 16 << 20;

fn params<'a>(kernel: &'a [u8], modules: &'a [Module<'a>]) -> BootParams<'a> {
    BootParams { kernel, cmdline: "kernel.elf console=ttyS0", modules }
}

/// RAM filled with garbage, so zeroing is visible.
fn dirty_ram() -> PhysMem {
    let mut mem = PhysMem::new(RAM);
    mem.load(PhysAddr(0), &vec![0xcc; RAM]).unwrap();
    mem
}

fn load(kernel: &[u8]) -> Result<tcg86::loader::BootInfo, LoadError> {
    load_multiboot(&mut dirty_ram(), &params(kernel, &[]))
}

fn u32_at(mem: &PhysMem, addr: u32) -> u32 {
    mem.read(PhysAddr(addr), 4)
}

fn cstr(mem: &PhysMem, addr: u32) -> String {
    let bytes: Vec<u8> = (addr..).map(|a| mem.read_u8(PhysAddr(a))).take_while(|&b| b != 0).take(4096).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Code at 0x100000 that loads the byte at 0x200004 (in the second segment) and exits with it.
fn two_segment_elf() -> Vec<u8> {
    let mut code = vec![0xa0, 0x04, 0x00, 0x20, 0x00]; // mov 0x200004,%al
    code.extend([0xe6, 0xf4]); // out %al,$0xf4
    let data = [1, 2, 3, 4, 0x2a, 6, 7, 8];
    let segs = [
        Seg { paddr: BASE, vaddr: BASE, data: &code, memsz: code.len() as u32 },
        Seg { paddr: 0x20_0000, vaddr: 0x20_0000, data: &data, memsz: 0x3000 },
    ];
    elf(&segs, BASE)
}

#[test]
fn elf_two_segments_and_bss() {
    let kernel = two_segment_elf();
    let mut mem = dirty_ram();
    let info = load_multiboot(&mut mem, &params(&kernel, &[])).unwrap();
    assert_eq!((info.entry, info.image_start, info.image_end), (BASE, BASE, 0x20_3000));
    assert_eq!(mem.read_u8(PhysAddr(BASE)), 0xa0);
    assert_eq!(mem.slice(PhysAddr(0x20_0000), 8).unwrap(), &[1, 2, 3, 4, 0x2a, 6, 7, 8]);
    assert!(mem.slice(PhysAddr(0x20_0008), 0x3000 - 8).unwrap().iter().all(|&b| b == 0), "bss zeroed");
    assert_eq!(mem.read_u8(PhysAddr(0x20_3000 + 0x1000 - 1)), 0xcc, "nothing between image and info area");
}

#[test]
fn elf_higher_half_loads_at_paddr_and_translates_entry() {
    let code = exit_with(3);
    let segs = [Seg { paddr: BASE, vaddr: 0xc010_0000, data: &code, memsz: 0x1000 }];
    let info = load(&elf(&segs, 0xc010_0000)).unwrap();
    assert_eq!(info.entry, BASE);
}

#[test]
fn aout_kludge_with_bss() {
    let code = exit_with(1);
    let kernel = aout(&code, 0x2000);
    let mut mem = dirty_ram();
    let info = load_multiboot(&mut mem, &params(&kernel, &[])).unwrap();
    assert_eq!((info.entry, info.image_start, info.image_end), (BASE + 32, BASE, BASE + 36 + 0x2000));
    assert_eq!(mem.slice(PhysAddr(BASE), kernel.len()).unwrap(), &kernel[..]);
    assert!(mem.slice(PhysAddr(BASE + 36), 0x2000).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn aout_header_later_in_file() {
    // 64 bytes of padding before the header: header_addr - load_addr says where the file starts.
    let mut f = vec![0x90; 64];
    f.extend(header(AOUT_KLUDGE));
    f.extend(words(&[BASE + 64, BASE, 0, 0, BASE + 96]));
    f.extend(exit_with(0));
    let info = load(&f).unwrap();
    assert_eq!((info.image_start, info.image_end, info.entry), (BASE, BASE + f.len() as u32, BASE + 96));
}

#[test]
fn multiboot_info_read_back() {
    let kernel = aout(&exit_with(0), 0);
    let mut mem = PhysMem::new(RAM);
    let info = load_multiboot(&mut mem, &params(&kernel, &[])).unwrap();
    let mbi = info.mbi_addr;
    assert_eq!(mbi, 0x9500);
    let flags = u32_at(&mem, mbi + field::FLAGS as u32);
    let want = info_flags::MEMORY | info_flags::CMDLINE | info_flags::MEM_MAP | info_flags::BOOT_LOADER_NAME;
    assert_eq!(flags & want, want);
    assert_eq!(u32_at(&mem, mbi + field::MEM_LOWER as u32), 639);
    assert_eq!(u32_at(&mem, mbi + field::MEM_UPPER as u32), (RAM as u32 - (1 << 20)) / 1024);
    assert_eq!(cstr(&mem, u32_at(&mem, mbi + field::CMDLINE as u32)), "kernel.elf console=ttyS0");
    assert_eq!(cstr(&mem, u32_at(&mem, mbi + field::BOOT_LOADER_NAME as u32)), "tcg86");
    assert_eq!(u32_at(&mem, mbi + field::MODS_COUNT as u32), 0);
    let cmdline = u32_at(&mem, mbi + field::CMDLINE as u32);
    assert!(cmdline >= info.image_end, "strings live after the image");
}

#[test]
fn memory_map_entries() {
    let kernel = aout(&exit_with(0), 0);
    let mut mem = PhysMem::new(RAM);
    let info = load_multiboot(&mut mem, &params(&kernel, &[])).unwrap();
    let len = u32_at(&mem, info.mbi_addr + field::MMAP_LENGTH as u32);
    let mut addr = u32_at(&mem, info.mbi_addr + field::MMAP_ADDR as u32);
    let end = addr + len;
    let mut entries = Vec::new();
    while addr < end {
        let size = u32_at(&mem, addr);
        let base = u32_at(&mem, addr + 4) as u64 | (u32_at(&mem, addr + 8) as u64) << 32;
        let length = u32_at(&mem, addr + 12) as u64 | (u32_at(&mem, addr + 16) as u64) << 32;
        entries.push((base, length, u32_at(&mem, addr + 20)));
        addr += size + 4;
    }
    assert_eq!(entries[0], (0, 0x9fc00, mbi::MMAP_AVAILABLE));
    assert!(entries.contains(&(0x10_0000, RAM as u64 - 0x10_0000, mbi::MMAP_AVAILABLE)));
    assert!(entries.iter().any(|e| e.2 == mbi::MMAP_RESERVED));
    assert_eq!(entries.len(), 5);
}

#[test]
fn modules_page_aligned_with_strings() {
    let kernel = aout(&exit_with(0), 0x1234);
    let (m1, m2) = (vec![0x11u8; 5000], b"second".to_vec());
    let mods = [Module { data: &m1, cmdline: "m1.bin arg=1" }, Module { data: &m2, cmdline: "m2.txt" }];
    let mut mem = PhysMem::new(RAM);
    let info = load_multiboot(&mut mem, &params(&kernel, &mods)).unwrap();
    assert_eq!(u32_at(&mem, info.mbi_addr + field::MODS_COUNT as u32), 2);
    let list = u32_at(&mem, info.mbi_addr + field::MODS_ADDR as u32);
    for (i, (m, s)) in [(&m1, "m1.bin arg=1"), (&m2, "m2.txt")].into_iter().enumerate() {
        let e = list + 16 * i as u32;
        let (start, end) = (u32_at(&mem, e), u32_at(&mem, e + 4));
        assert_eq!(start % 4096, 0, "module {i} page-aligned");
        assert!(start >= info.image_end);
        assert_eq!((end - start) as usize, m.len());
        assert_eq!(mem.slice(PhysAddr(start), m.len()).unwrap(), &m[..]);
        assert_eq!(cstr(&mem, u32_at(&mem, e + 8)), s);
        assert_eq!(info.modules[i], (start, end));
    }
    assert!(info.modules[1].0 >= info.modules[0].1);
}

#[test]
fn malformed_images_are_errors() {
    assert_eq!(load(&[]), Err(LoadError::Empty));
    assert_eq!(load(&[0u8; 100]), Err(LoadError::NoMultibootHeader));
    let mut bad = aout(&exit_with(0), 0);
    put_u32(&mut bad, 8, 0);
    assert_eq!(load(&bad), Err(LoadError::BadChecksum { offset: 0 }));
    let mut not_elf = header(0);
    not_elf.extend([0; 64]);
    assert_eq!(load(&not_elf), Err(LoadError::NotElf));
    let mut elf64 = two_segment_elf();
    elf64[4] = 2;
    assert_eq!(load(&elf64), Err(LoadError::Elf64));
    let mut trunc = two_segment_elf();
    put_u16(&mut trunc, 44, 200);
    assert_eq!(load(&trunc), Err(LoadError::ElfTruncatedProgramHeaders));
    let mut seg_trunc = two_segment_elf();
    put_u32(&mut seg_trunc, 52 + 32 + 4, 0x10_0000);
    assert!(matches!(load(&seg_trunc), Err(LoadError::ElfSegmentTruncated { .. })));
}

#[test]
fn placement_errors() {
    let code = exit_with(0);
    let outside = [Seg { paddr: 0xff_0000, vaddr: 0xff_0000, data: &code, memsz: 0x2_0000 }];
    let e = load(&elf(&outside, 0xff_0000)).unwrap_err();
    assert!(matches!(e, LoadError::OutsideRam { what: "segment", addr: 0xff_0000, .. }), "{e:?}");
    assert!(e.to_string().contains("does not fit in guest RAM"));
    let wrap = [Seg { paddr: 0xffff_f000, vaddr: 0xffff_f000, data: &code, memsz: 0x2000 }];
    assert!(matches!(load(&elf(&wrap, 0xffff_f000)), Err(LoadError::OutsideRam { .. })));
    let huge = [Seg { paddr: 0xffff_f000, vaddr: 0x1000, data: &code, memsz: u32::MAX }];
    assert!(matches!(load(&elf(&huge, 0xc010_0000)), Err(LoadError::OutsideRam { .. })));
    let low = [Seg { paddr: 0x8000, vaddr: 0x8000, data: &code, memsz: 0x2000 }];
    assert!(matches!(load(&elf(&low, 0x8000)), Err(LoadError::OverlapsBootArea { .. })));
    let segs = [Seg { paddr: BASE, vaddr: BASE, data: &code, memsz: 0x1000 }];
    assert_eq!(load(&elf(&segs, 0x50_0000)), Err(LoadError::EntryOutsideImage(0x50_0000)));
    let mut aout_entry = aout(&code, 0);
    put_u32(&mut aout_entry, 28, 0x1000);
    assert_eq!(load(&aout_entry), Err(LoadError::EntryOutsideImage(0x1000)));
    let mut aout_bad = aout(&code, 0);
    put_u32(&mut aout_bad, 12, BASE - 4);
    assert!(matches!(load(&aout_bad), Err(LoadError::AoutBadAddresses { .. })));
}

#[test]
fn module_outside_ram() {
    let kernel = aout(&exit_with(0), 0);
    let big = vec![0u8; RAM];
    let mods = [Module { data: &big, cmdline: "big" }];
    let e = load_multiboot(&mut PhysMem::new(RAM), &params(&kernel, &mods)).unwrap_err();
    assert!(matches!(e, LoadError::OutsideRam { what: "module", .. }), "{e:?}");
}

/// A sink tests can read back.
#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl CharSink for Captured {
    fn write_byte(&mut self, b: u8) {
        self.0.borrow_mut().push(b);
    }
}

fn boot_and_run(kernel: &[u8], serial: Box<dyn CharSink>) -> (ExitReason, Box<X86Cpu>) {
    let mut cpu = Box::new(X86Cpu::new(RAM, 8, pc_bus(serial, Box::new(NullSink))));
    let info = boot_multiboot(&mut cpu, &params(kernel, &[])).unwrap();
    assert_eq!((cpu.env.eip, cpu.env.regs[0], cpu.env.regs[3]), (info.entry, 0x2bad_b002, info.mbi_addr));
    let log = Logger { mask: Default::default(), sink: Box::new(NoLog) };
    let opts = ExecOptions { max_insns: Some(1_000_000), ..Default::default() };
    let mut m = Machine::new(cpu, opts, log);
    (m.cpu_exec(), m.cpu)
}

#[test]
fn elf_boots_and_reads_its_data_segment() {
    let (r, _) = boot_and_run(&two_segment_elf(), Box::new(NullSink));
    assert_eq!(r, ExitReason::Status((0x2a << 1) | 1));
}

#[test]
fn demo_kernel_prints_and_powers_off() {
    let out = Captured::default();
    let (r, cpu) = boot_and_run(&DEMO_KERNEL, Box::new(out.clone()));
    assert_eq!(r, ExitReason::Status(0));
    assert_eq!(String::from_utf8_lossy(&out.0.borrow()), DEMO_GREETING);
    assert_eq!(cpu.env.regs[1], 0, "ecx counted down to the units digit");
    assert!(cpu.env.eip > DEMO_ENTRY);
}

/// Every single-byte corruption of valid images loads or fails with an error, never panics.
#[test]
fn corrupted_images_never_panic() {
    let code = exit_with(0);
    let images = [
        two_segment_elf(),
        aout(&code, 0x100),
        elf(&[Seg { paddr: BASE, vaddr: 0xc010_0000, data: &code, memsz: 0x10 }], 0xc010_0000),
    ];
    let mods = [Module { data: b"mod", cmdline: "m" }];
    for image in &images {
        for at in 0..image.len() {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut bad = image.clone();
                bad[at] = v;
                let _ = load_multiboot(&mut PhysMem::new(2 << 20), &params(&bad, &mods));
            }
        }
    }
}
