//! The embedded demo kernel that `tcg86` boots when no `-kernel` is given: the `inc %eax` loop of
//! the TCG walkthrough, then a greeting over COM1, then an ACPI power-off.
//!
//! It is a multiboot image with the a.out kludge (flag bit 16), so no ELF headers are needed: the
//! file is loaded at 1 MiB and entered at 0x100020 with a 4 KiB stack in its bss. The assembly is
//! listed next to the bytes (AT&T syntax, as `-d in_asm` prints it); a unit test decodes every
//! listed line and checks the bytes say what the comment says. Under `qemu-system-i386 -kernel`
//! the same bytes print the same line and exit with status 0.
//!
//! What it prints: `Hello from tcg86: the inc loop ran 10 times` and a newline, with "10" computed
//! from eax. The power-off writes SLP_EN (bit 13) to the PM1a control register at 0x604, as
//! SeaBIOS sets the PM base up on QEMU's i440fx machine.

/// The greeting the demo kernel prints.
pub const DEMO_GREETING: &str = "Hello from tcg86: the inc loop ran 10 times\n";
/// Load address and entry point.
pub const DEMO_LOAD_ADDR: u32 = 0x10_0000;
pub const DEMO_ENTRY: u32 = 0x10_0020;
/// The first address of the inc loop (the TB that `-d in_asm` shows once).
pub const DEMO_LOOP: u32 = 0x10_0025;

/// The multiboot header with the a.out kludge fields.
#[rustfmt::skip]
const HEADER: [u8; 32] = [
    0x02, 0xb0, 0xad, 0x1b,        // magic 0x1badb002
    0x00, 0x00, 0x01, 0x00,        // flags 0x00010000: a.out kludge (bit 16)
    0xfe, 0x4f, 0x51, 0xe4,        // checksum 0xe4514ffe = -(magic + flags)
    0x00, 0x00, 0x10, 0x00,        // header_addr 0x100000
    0x00, 0x00, 0x10, 0x00,        // load_addr 0x100000
    0xc0, 0x00, 0x10, 0x00,        // load_end_addr 0x1000c0: the whole file
    0xc0, 0x10, 0x10, 0x00,        // bss_end_addr 0x1010c0: a 4 KiB stack after the file
    0x20, 0x00, 0x10, 0x00,        // entry_addr 0x100020
];

/// The code, from the entry point.
#[rustfmt::skip]
const CODE: [u8; 0x74] = [
    // start:
    0xb8, 0x00, 0x00, 0x00, 0x00,  // 0x100020: mov $0,%eax
    // 1:  the inc loop (one TB, translated once)
    0x40,                          // 0x100025: inc %eax
    0x83, 0xf8, 0x0a,              // 0x100026: cmp $0xA,%eax
    0x75, 0xfa,                    // 0x100029: jne 0x00100025
    // the loop is done: eax = 10
    0xbc, 0xc0, 0x10, 0x10, 0x00,  // 0x10002b: mov $0x1010C0,%esp
    0x89, 0xc1,                    // 0x100030: mov %eax,%ecx
    0xbe, 0x94, 0x00, 0x10, 0x00,  // 0x100032: mov $0x100094,%esi
    0xe8, 0x37, 0x00, 0x00, 0x00,  // 0x100037: call 0x00100073
    // tens digit of ecx into bl, by repeated subtraction
    0xb3, 0x30,                    // 0x10003c: mov $0x30,%bl
    0x83, 0xf9, 0x0a,              // 0x10003e: cmp $0xA,%ecx
    0x72, 0x07,                    // 0x100041: jb 0x0010004A
    0x83, 0xe9, 0x0a,              // 0x100043: sub $0xA,%ecx
    0xfe, 0xc3,                    // 0x100046: inc %bl
    0xeb, 0xf4,                    // 0x100048: jmp 0x0010003E
    // skip a leading zero
    0x80, 0xfb, 0x30,              // 0x10004a: cmp $0x30,%bl
    0x74, 0x05,                    // 0x10004d: je 0x00100054
    0xe8, 0x2f, 0x00, 0x00, 0x00,  // 0x10004f: call 0x00100083
    // units digit
    0x88, 0xcb,                    // 0x100054: mov %cl,%bl
    0x80, 0xc3, 0x30,              // 0x100056: add $0x30,%bl
    0xe8, 0x25, 0x00, 0x00, 0x00,  // 0x100059: call 0x00100083
    // the rest, then power off
    0xbe, 0xb8, 0x00, 0x10, 0x00,  // 0x10005e: mov $0x1000B8,%esi
    0xe8, 0x0b, 0x00, 0x00, 0x00,  // 0x100063: call 0x00100073
    0x66, 0xba, 0x04, 0x06,        // 0x100068: mov $0x604,%dx
    0x66, 0xb8, 0x00, 0x20,        // 0x10006c: mov $0x2000,%ax
    0x66, 0xef,                    // 0x100070: out %ax,%dx
    0xf4,                          // 0x100072: hlt
    // puts: print the NUL-terminated string at esi
    0x8a, 0x1e,                    // 0x100073: mov (%esi),%bl
    0x80, 0xfb, 0x00,              // 0x100075: cmp $0,%bl
    0x74, 0x08,                    // 0x100078: je 0x00100082
    0xe8, 0x04, 0x00, 0x00, 0x00,  // 0x10007a: call 0x00100083
    0x46,                          // 0x10007f: inc %esi
    0xeb, 0xf1,                    // 0x100080: jmp 0x00100073
    0xc3,                          // 0x100082: ret
    // putc: wait for THRE (LSR bit 5), send bl to COM1
    0x66, 0xba, 0xfd, 0x03,        // 0x100083: mov $0x3FD,%dx
    0xec,                          // 0x100087: in %dx,%al
    0x24, 0x20,                    // 0x100088: and $0x20,%al
    0x74, 0xfb,                    // 0x10008a: je 0x00100087
    0x66, 0xba, 0xf8, 0x03,        // 0x10008c: mov $0x3F8,%dx
    0x88, 0xd8,                    // 0x100090: mov %bl,%al
    0xee,                          // 0x100092: out %al,%dx
    0xc3,                          // 0x100093: ret
];

/// At 0x100094 (`msg1`) and 0x1000b8 (`msg2`).
const MSG1: &[u8] = b"Hello from tcg86: the inc loop ran \0";
const MSG2: &[u8] = b" times\n\0";

const LEN: usize = HEADER.len() + CODE.len() + MSG1.len() + MSG2.len();
const _: () = assert!(HEADER.len() + CODE.len() == 0x94 && HEADER.len() + CODE.len() + MSG1.len() == 0xb8);
const _: () = assert!(LEN == 0xc0, "load_end_addr in the header");

/// The image.
pub static DEMO_KERNEL: [u8; LEN] = concat([&HEADER, &CODE, MSG1, MSG2]);

const fn concat<const N: usize>(parts: [&[u8]; 4]) -> [u8; N] {
    let mut out = [0u8; N];
    let (mut i, mut o) = (0, 0);
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[o] = parts[i][j];
            (o, j) = (o + 1, j + 1);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter};

    /// Every `0xNN, ... // 0xADDR: insn` line of this file decodes to `insn` at ADDR.
    #[test]
    fn listing_matches_bytes() {
        let mut checked = 0;
        for line in include_str!("demo.rs").lines() {
            let Some((bytes, comment)) = line.split_once("// 0x") else { continue };
            let Some((addr, text)) = comment.split_once(": ") else { continue };
            let Ok(addr) = u32::from_str_radix(addr, 16) else { continue };
            let bytes: alloc::vec::Vec<u8> = bytes
                .split(',')
                .filter_map(|b| b.trim().strip_prefix("0x"))
                .filter_map(|b| u8::from_str_radix(b, 16).ok())
                .collect();
            let off = (addr - DEMO_LOAD_ADDR) as usize;
            assert_eq!(&DEMO_KERNEL[off..off + bytes.len()], &bytes[..], "{line}");
            let mut dec = Decoder::with_ip(32, &bytes, addr as u64, DecoderOptions::NONE);
            let insn = dec.decode();
            assert_eq!(insn.len(), bytes.len(), "{line}");
            let mut out = String::new();
            GasFormatter::new().format(&insn, &mut out);
            assert_eq!(out, text, "{line}");
            checked += 1;
        }
        assert_eq!(checked, 41);
    }

    #[test]
    fn strings_in_place() {
        assert_eq!(&DEMO_KERNEL[0x94..0x94 + 35], &DEMO_GREETING.as_bytes()[..35]);
        assert_eq!(&DEMO_KERNEL[0xb8..0xbf], b" times\n");
    }
}
