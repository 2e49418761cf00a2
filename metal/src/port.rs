//! The two devices of the outer machine the image uses: COM1 (a 16550 UART at 0x3f8) for output
//! and QEMU's isa-debug-exit (port 0xf4) to stop with a status.

use core::arch::asm;
use core::fmt;
use tcg86::hw::CharSink;

const COM1: u16 = 0x3f8;
/// Line status register: bit 5 = transmit holding register empty.
const COM1_LSR: u16 = COM1 + 5;
const LSR_THRE: u8 = 1 << 5;
const DEBUG_EXIT: u16 = 0xf4;

fn outb(port: u16, value: u8) {
    // SAFETY: port output to the fixed devices above has no memory effects.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}

fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: reading the UART's line status register has no side effects.
    unsafe { asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags)) };
    value
}

/// The outer machine's COM1: the guest's serial output and the image's own messages go here.
pub struct Com1;

impl CharSink for Com1 {
    fn write_byte(&mut self, b: u8) {
        // Bounded wait: QEMU's UART is always ready, a real one within microseconds.
        for _ in 0..100_000 {
            if inb(COM1_LSR) & LSR_THRE != 0 {
                break;
            }
        }
        outb(COM1, b);
    }
}

impl fmt::Write for Com1 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.write_byte(b));
        Ok(())
    }
}

/// Stop the outer machine: QEMU exits with status `(code << 1) | 1`. Halts if no isa-debug-exit
/// device is present.
pub fn exit(code: u8) -> ! {
    outb(DEBUG_EXIT, code);
    loop {
        // SAFETY: halting with interrupts off stops this CPU for good, which is the intent.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) };
    }
}
