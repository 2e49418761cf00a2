//! The port devices of the PC that tcg86 emulates, wired on one bus: what `qemu-system-i386
//! -nodefaults -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon stdio`
//! offers a multiboot kernel, plus the i440fx ACPI power-off.
//!
//! | ports         | device                                                   |
//! |---------------|----------------------------------------------------------|
//! | 0x3f8..0x3ff  | COM1, 16550A UART (IRQ 4, not connected yet: no PIC)     |
//! | 0xe9          | isa-debugcon                                             |
//! | 0xf4..0xf7    | isa-debug-exit (write v: exit status `(v << 1) \| 1`)    |
//! | 0x80          | POST code port, ignored                                  |
//! | 0x604..0x605  | ACPI PM1a control (SLP_EN: power off, exit status 0)     |

use super::acpi_pm::{AcpiPm1Cnt, PM1A_CNT_LEN, PM1A_CNT_PORT};
use super::bus::{Bus, CharSink};
use super::debug::{DebugCon, DebugExit, PostPort, DEBUGCON_PORT, DEBUG_EXIT_PORT};
use super::uart16550::{Uart16550, COM1_PORT, UART_PORTS};
use alloc::boxed::Box;

/// isa-debug-exit's `iosize` (QEMU's `-device isa-debug-exit,iosize=0x04`).
pub const DEBUG_EXIT_LEN: u16 = 4;
pub const POST_PORT: u16 = 0x80;

/// The bus with every device; `serial` receives COM1's output, `debugcon` port 0xe9's.
pub fn pc_bus(serial: Box<dyn CharSink>, debugcon: Box<dyn CharSink>) -> Bus {
    let mut bus = Bus::new();
    bus.add(COM1_PORT, UART_PORTS, Box::new(Uart16550::new(serial)));
    bus.add(DEBUGCON_PORT, 1, Box::new(DebugCon { out: debugcon }));
    bus.add(DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, Box::new(DebugExit));
    bus.add(POST_PORT, 1, Box::new(PostPort));
    bus.add(PM1A_CNT_PORT, PM1A_CNT_LEN, Box::new(AcpiPm1Cnt::default()));
    bus
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hw::{IoEffect, NullSink};

    #[test]
    fn ports_reach_their_devices() {
        let mut bus = pc_bus(Box::new(NullSink), Box::new(NullSink));
        assert_eq!(bus.read(COM1_PORT + 5, 1), 0x60);
        assert_eq!(bus.read(DEBUGCON_PORT, 1), 0xe9);
        assert_eq!(bus.read(POST_PORT, 1), 0);
        assert_eq!(bus.write(DEBUG_EXIT_PORT + 3, 1, 2), IoEffect::Exit(5));
        assert_eq!(bus.write(PM1A_CNT_PORT, 2, 0x2000), IoEffect::Exit(0));
        assert_eq!(bus.write(0x600, 2, 0x2000), IoEffect::None);
    }
}
