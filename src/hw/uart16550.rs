//! The 16550A UART (National Semiconductor PC16550D data sheet; QEMU's `hw/char/serial.c`), as a
//! pure state machine: eight byte registers, a 16-byte receive FIFO, an interrupt output.
//!
//! Registers (offset from the base, COM1 = 0x3f8): 0 RBR (read) / THR (write), or DLL when LCR.DLAB
//! is set; 1 IER, or DLM with DLAB; 2 IIR (read) / FCR (write); 3 LCR; 4 MCR; 5 LSR; 6 MSR; 7 SCR.
//! Wider port accesses are split into byte accesses at consecutive offsets, as QEMU's memory core
//! does for this device.
//!
//! Model choices: transmission is instantaneous (THRE and TEMT are always set; a THR write goes to
//! the injected [`CharSink`], or to the receiver in loopback mode); there is no clock, so in FIFO
//! mode the character-timeout interrupt is pending as soon as fewer bytes than the trigger level
//! wait; the modem inputs read as DCD, DSR and CTS asserted. Like QEMU, the interrupt output is
//! not gated by MCR.OUT2. The interrupt identification is computed from the registers on demand
//! (priority: line status, received data or timeout, THR empty, modem status), and the level is
//! reported to the injected [`IrqLine`] whenever it changes (IRQ 4 for COM1).
//!
//! Invariants: `State` holds everything guest-visible (snapshots copy it); `rx_count <= 16`, and
//! at most 1 while the FIFOs are disabled; LSR.DR is set exactly when `rx_count > 0`.

use super::bus::{CharSink, IoEffect, PortDevice};
use super::irq::{IrqLine, NoIrq};
use alloc::boxed::Box;

pub const COM1_PORT: u16 = 0x3f8;
pub const COM1_IRQ: u8 = 4;
/// Number of ports the UART decodes.
pub const UART_PORTS: u16 = 8;
pub const FIFO_SIZE: usize = 16;

/// Register offsets.
pub mod reg {
    pub const RBR_THR: u16 = 0;
    pub const IER: u16 = 1;
    pub const IIR_FCR: u16 = 2;
    pub const LCR: u16 = 3;
    pub const MCR: u16 = 4;
    pub const LSR: u16 = 5;
    pub const MSR: u16 = 6;
    pub const SCR: u16 = 7;
}

/// Interrupt enable register.
pub mod ier {
    /// Received data available (and character timeout).
    pub const RDI: u8 = 1 << 0;
    /// Transmitter holding register empty.
    pub const THRI: u8 = 1 << 1;
    /// Receiver line status.
    pub const RLSI: u8 = 1 << 2;
    /// Modem status.
    pub const MSI: u8 = 1 << 3;
    pub const MASK: u8 = 0x0f;
}

/// Interrupt identification register values.
pub mod iir {
    pub const NO_INT: u8 = 0x01;
    pub const MSI: u8 = 0x00;
    pub const THRI: u8 = 0x02;
    pub const RDI: u8 = 0x04;
    pub const RLSI: u8 = 0x06;
    pub const CTI: u8 = 0x0c;
    /// Bits 7:6 set while the FIFOs are enabled.
    pub const FIFO_ENABLED: u8 = 0xc0;
}

/// FIFO control register.
pub mod fcr {
    pub const FE: u8 = 1 << 0;
    pub const RX_RESET: u8 = 1 << 1;
    pub const TX_RESET: u8 = 1 << 2;
    pub const DMA_MODE: u8 = 1 << 3;
    pub const ITL_SHIFT: u8 = 6;
}

/// Line control register.
pub mod lcr {
    /// Divisor latch access: offsets 0 and 1 reach DLL and DLM.
    pub const DLAB: u8 = 1 << 7;
}

/// Modem control register.
pub mod mcr {
    pub const DTR: u8 = 1 << 0;
    pub const RTS: u8 = 1 << 1;
    pub const OUT1: u8 = 1 << 2;
    pub const OUT2: u8 = 1 << 3;
    pub const LOOP: u8 = 1 << 4;
    pub const MASK: u8 = 0x1f;
}

/// Line status register.
pub mod lsr {
    pub const DR: u8 = 1 << 0;
    pub const OE: u8 = 1 << 1;
    pub const PE: u8 = 1 << 2;
    pub const FE: u8 = 1 << 3;
    pub const BI: u8 = 1 << 4;
    pub const THRE: u8 = 1 << 5;
    pub const TEMT: u8 = 1 << 6;
    /// The errors that raise a line-status interrupt and clear on an LSR read.
    pub const ERRORS: u8 = OE | PE | FE | BI;
}

/// Modem status register.
pub mod msr {
    pub const DCTS: u8 = 1 << 0;
    pub const DDSR: u8 = 1 << 1;
    /// Trailing edge of RI.
    pub const TERI: u8 = 1 << 2;
    pub const DDCD: u8 = 1 << 3;
    pub const CTS: u8 = 1 << 4;
    pub const DSR: u8 = 1 << 5;
    pub const RI: u8 = 1 << 6;
    pub const DCD: u8 = 1 << 7;
    pub const DELTAS: u8 = 0x0f;
    /// The modem inputs when nothing is looped back: carrier, data set ready, clear to send.
    pub const EXTERNAL: u8 = DCD | DSR | CTS;
}

/// Everything guest-visible, for snapshots.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Divisor latch (DLM:DLL).
    pub divisor: u16,
    pub ier: u8,
    /// The last FCR value with FIFOs enabled (0 while disabled).
    pub fcr: u8,
    pub lcr: u8,
    pub mcr: u8,
    /// Error bits and THRE/TEMT; DR is derived from `rx_count`.
    pub lsr: u8,
    pub msr: u8,
    pub scr: u8,
    pub rx_fifo: [u8; FIFO_SIZE],
    pub rx_head: u8,
    pub rx_count: u8,
    /// A THR-empty interrupt is pending (cleared by an IIR read that reports it or a THR write).
    pub thr_ipending: bool,
}

impl Default for State {
    /// The state after a master reset (data sheet table IV), with QEMU's modem inputs.
    fn default() -> State {
        State {
            divisor: 12,
            ier: 0,
            fcr: 0,
            lcr: 0,
            mcr: 0,
            lsr: lsr::THRE | lsr::TEMT,
            msr: msr::EXTERNAL,
            scr: 0,
            rx_fifo: [0; FIFO_SIZE],
            rx_head: 0,
            rx_count: 0,
            thr_ipending: false,
        }
    }
}

impl State {
    fn fifo_enabled(&self) -> bool {
        self.fcr & fcr::FE != 0
    }

    fn rx_capacity(&self) -> u8 {
        if self.fifo_enabled() {
            FIFO_SIZE as u8
        } else {
            1
        }
    }

    /// The receiver trigger level in bytes.
    fn trigger_level(&self) -> u8 {
        [1, 4, 8, 14][(self.fcr >> fcr::ITL_SHIFT) as usize & 3]
    }

    fn lsr(&self) -> u8 {
        self.lsr | if self.rx_count > 0 { lsr::DR } else { 0 }
    }

    /// The highest-priority pending interrupt, as an IIR source value.
    pub fn interrupt_id(&self) -> u8 {
        let rdi = self.ier & ier::RDI != 0 && self.rx_count > 0;
        if self.ier & ier::RLSI != 0 && self.lsr & lsr::ERRORS != 0 {
            iir::RLSI
        } else if rdi && (!self.fifo_enabled() || self.rx_count >= self.trigger_level()) {
            iir::RDI
        } else if rdi {
            iir::CTI
        } else if self.ier & ier::THRI != 0 && self.thr_ipending {
            iir::THRI
        } else if self.ier & ier::MSI != 0 && self.msr & msr::DELTAS != 0 {
            iir::MSI
        } else {
            iir::NO_INT
        }
    }

    /// Read a register other than IIR, with its side effects.
    fn read_reg(&mut self, offset: u16) -> u8 {
        let dlab = self.lcr & lcr::DLAB != 0;
        match offset {
            reg::RBR_THR if dlab => self.divisor as u8,
            reg::RBR_THR => self.pop_rx(),
            reg::IER if dlab => (self.divisor >> 8) as u8,
            reg::IER => self.ier,
            reg::LCR => self.lcr,
            reg::MCR => self.mcr,
            reg::LSR => {
                let v = self.lsr();
                self.lsr &= !lsr::ERRORS;
                v
            }
            reg::MSR => {
                let v = self.msr;
                self.msr &= !msr::DELTAS;
                v
            }
            reg::SCR => self.scr,
            _ => 0xff,
        }
    }

    fn push_rx(&mut self, b: u8) {
        if self.rx_count >= self.rx_capacity() {
            self.lsr |= lsr::OE;
            if self.fifo_enabled() {
                return;
            }
            self.rx_count = 0;
        }
        let tail = (self.rx_head as usize + self.rx_count as usize) % FIFO_SIZE;
        self.rx_fifo[tail] = b;
        self.rx_count += 1;
    }

    fn pop_rx(&mut self) -> u8 {
        if self.rx_count == 0 {
            return self.rx_fifo[self.rx_head as usize];
        }
        let b = self.rx_fifo[self.rx_head as usize];
        self.rx_head = ((self.rx_head as usize + 1) % FIFO_SIZE) as u8;
        self.rx_count -= 1;
        b
    }

    fn clear_rx(&mut self) {
        self.rx_head = 0;
        self.rx_count = 0;
    }

    /// The modem input lines MCR implies: looped back, or the external ones.
    fn modem_inputs(&self) -> u8 {
        if self.mcr & mcr::LOOP == 0 {
            return msr::EXTERNAL;
        }
        let m = self.mcr;
        let bit = |cond: bool, b: u8| if cond { b } else { 0 };
        bit(m & mcr::RTS != 0, msr::CTS)
            | bit(m & mcr::DTR != 0, msr::DSR)
            | bit(m & mcr::OUT1 != 0, msr::RI)
            | bit(m & mcr::OUT2 != 0, msr::DCD)
    }

    /// Set the modem inputs, recording which changed in the delta bits.
    fn set_modem_inputs(&mut self, lines: u8) {
        let changed = (self.msr ^ lines) & !msr::DELTAS;
        let mut delta = 0;
        delta |= if changed & msr::CTS != 0 { msr::DCTS } else { 0 };
        delta |= if changed & msr::DSR != 0 { msr::DDSR } else { 0 };
        delta |= if changed & msr::DCD != 0 { msr::DDCD } else { 0 };
        delta |= if changed & self.msr & msr::RI != 0 { msr::TERI } else { 0 };
        self.msr = lines | (self.msr & msr::DELTAS) | delta;
    }
}

/// The device: its state, where transmitted bytes go, and its interrupt line.
pub struct Uart16550 {
    state: State,
    out: Box<dyn CharSink>,
    irq: Box<dyn IrqLine>,
    irq_level: bool,
}

impl Uart16550 {
    /// A UART whose interrupt output is not connected.
    pub fn new(out: Box<dyn CharSink>) -> Uart16550 {
        Uart16550::with_irq(out, Box::new(NoIrq))
    }

    pub fn with_irq(out: Box<dyn CharSink>, irq: Box<dyn IrqLine>) -> Uart16550 {
        Uart16550 { state: State::default(), out, irq, irq_level: false }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Restore a snapshot (the FIFO bookkeeping is clamped to stay consistent).
    pub fn restore(&mut self, mut s: State) {
        s.rx_head %= FIFO_SIZE as u8;
        s.rx_count = s.rx_count.min(s.rx_capacity());
        self.state = s;
        self.update_irq();
    }

    /// The interrupt output level.
    pub fn irq_level(&self) -> bool {
        self.irq_level
    }

    /// True if a received byte would fit without an overrun.
    pub fn can_receive(&self) -> bool {
        self.state.rx_count < self.state.rx_capacity()
    }

    /// A byte arrives on the serial input (ignored in loopback mode, where the input is cut off).
    pub fn receive(&mut self, b: u8) {
        if self.state.mcr & mcr::LOOP == 0 {
            self.state.push_rx(b);
            self.update_irq();
        }
    }

    fn update_irq(&mut self) {
        let level = self.state.interrupt_id() != iir::NO_INT;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    /// Read one register.
    pub fn read_reg(&mut self, offset: u16) -> u8 {
        let v = match offset {
            reg::IIR_FCR => self.read_iir(),
            _ => self.state.read_reg(offset),
        };
        self.update_irq();
        v
    }

    /// IIR: the pending source, with the FIFO bits; reading it acknowledges a THR-empty interrupt.
    fn read_iir(&mut self) -> u8 {
        let id = self.state.interrupt_id();
        if id == iir::THRI {
            self.state.thr_ipending = false;
        }
        id | if self.state.fifo_enabled() { iir::FIFO_ENABLED } else { 0 }
    }

    /// Write one register.
    pub fn write_reg(&mut self, offset: u16, v: u8) {
        let dlab = self.state.lcr & lcr::DLAB != 0;
        match offset {
            reg::RBR_THR if dlab => self.state.divisor = (self.state.divisor & 0xff00) | v as u16,
            reg::RBR_THR => self.transmit(v),
            reg::IER if dlab => self.state.divisor = (self.state.divisor & 0x00ff) | (v as u16) << 8,
            reg::IER => self.write_ier(v),
            reg::IIR_FCR => self.write_fcr(v),
            reg::LCR => self.state.lcr = v,
            reg::MCR => self.write_mcr(v),
            reg::SCR => self.state.scr = v,
            // LSR and MSR writes are factory-test features: ignored.
            _ => {}
        }
        self.update_irq();
    }

    fn transmit(&mut self, v: u8) {
        if self.state.mcr & mcr::LOOP != 0 {
            self.state.push_rx(v);
        } else {
            self.out.write_byte(v);
        }
        // Sent at once: the holding register is empty again.
        self.state.thr_ipending = true;
    }

    fn write_ier(&mut self, v: u8) {
        let s = &mut self.state;
        let changed = (s.ier ^ v) & ier::THRI;
        s.ier = v & ier::MASK;
        if changed != 0 {
            s.thr_ipending = s.ier & ier::THRI != 0 && s.lsr & lsr::THRE != 0;
        }
    }

    fn write_fcr(&mut self, v: u8) {
        let s = &mut self.state;
        let new = if v & fcr::FE != 0 { v & !(fcr::RX_RESET | fcr::TX_RESET) } else { 0 };
        if (s.fcr ^ new) & fcr::FE != 0 || v & fcr::RX_RESET != 0 {
            s.clear_rx();
        }
        s.fcr = new;
    }

    fn write_mcr(&mut self, v: u8) {
        self.state.mcr = v & mcr::MASK;
        let lines = self.state.modem_inputs();
        self.state.set_modem_inputs(lines);
    }
}

impl PortDevice for Uart16550 {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        (0..size as u16).fold(0, |v, i| v | (self.read_reg(offset + i) as u32) << (8 * i))
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) -> IoEffect {
        for i in 0..size as u16 {
            self.write_reg(offset + i, (value >> (8 * i)) as u8);
        }
        IoEffect::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use alloc::vec::Vec;
    use core::cell::RefCell;

    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl CharSink for Shared {
        fn write_byte(&mut self, b: u8) {
            self.0.borrow_mut().push(b);
        }
    }

    #[derive(Clone, Default)]
    struct Line(Rc<RefCell<Vec<bool>>>);
    impl IrqLine for Line {
        fn set_level(&mut self, level: bool) {
            self.0.borrow_mut().push(level);
        }
    }

    fn uart() -> (Uart16550, Shared, Line) {
        let (out, line) = (Shared::default(), Line::default());
        (Uart16550::with_irq(Box::new(out.clone()), Box::new(line.clone())), out, line)
    }

    #[test]
    fn thr_goes_to_sink_and_lsr_stays_empty() {
        let (mut u, out, _) = uart();
        assert_eq!(u.read_reg(reg::LSR), lsr::THRE | lsr::TEMT);
        u.write(reg::RBR_THR, 1, b'h' as u32);
        u.write(reg::RBR_THR, 1, b'i' as u32);
        assert_eq!(&out.0.borrow()[..], b"hi");
        assert_eq!(u.read_reg(reg::LSR), lsr::THRE | lsr::TEMT);
    }

    #[test]
    fn dlab_switches_divisor_latch() {
        let (mut u, out, _) = uart();
        u.write_reg(reg::LCR, lcr::DLAB | 3);
        u.write_reg(reg::RBR_THR, 0x01);
        u.write_reg(reg::IER, 0x02);
        assert_eq!(u.state().divisor, 0x0201);
        assert_eq!((u.read_reg(reg::RBR_THR), u.read_reg(reg::IER)), (0x01, 0x02));
        u.write_reg(reg::LCR, 3);
        assert_eq!(u.read_reg(reg::IER), 0);
        assert_eq!(u.read_reg(reg::LCR), 3);
        assert!(out.0.borrow().is_empty());
    }

    #[test]
    fn ier_keeps_low_four_bits_and_scr_is_scratch() {
        let (mut u, _, _) = uart();
        u.write_reg(reg::IER, 0xff);
        assert_eq!(u.read_reg(reg::IER), 0x0f);
        u.write_reg(reg::SCR, 0x5a);
        assert_eq!(u.read_reg(reg::SCR), 0x5a);
    }

    #[test]
    fn thr_empty_interrupt_and_its_acknowledge() {
        let (mut u, _, line) = uart();
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::NO_INT);
        u.write_reg(reg::IER, ier::THRI);
        assert!(u.irq_level());
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::THRI);
        assert!(!u.irq_level());
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::NO_INT);
        u.write_reg(reg::RBR_THR, b'x');
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::THRI);
        assert_eq!(&line.0.borrow()[..], &[true, false, true, false]);
    }

    #[test]
    fn receive_sets_dr_and_rbr_read_clears_it() {
        let (mut u, _, _) = uart();
        u.write_reg(reg::IER, ier::RDI);
        u.receive(b'a');
        assert_eq!(u.read_reg(reg::LSR) & lsr::DR, lsr::DR);
        assert!(u.irq_level());
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::RDI);
        assert_eq!(u.read_reg(reg::RBR_THR), b'a');
        assert_eq!(u.read_reg(reg::LSR) & lsr::DR, 0);
        assert!(!u.irq_level());
    }

    #[test]
    fn overrun_without_fifo_then_line_status_interrupt() {
        let (mut u, _, _) = uart();
        assert!(u.can_receive());
        u.receive(1);
        assert!(!u.can_receive());
        u.receive(2);
        u.write_reg(reg::IER, ier::RLSI | ier::RDI);
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::RLSI);
        assert_eq!(u.read_reg(reg::LSR), lsr::THRE | lsr::TEMT | lsr::DR | lsr::OE);
        assert_eq!(u.read_reg(reg::LSR) & lsr::OE, 0);
        assert_eq!(u.read_reg(reg::RBR_THR), 2);
    }

    #[test]
    fn fifo_bits_trigger_level_and_timeout() {
        let (mut u, _, _) = uart();
        u.write_reg(reg::IIR_FCR, fcr::FE | (1 << fcr::ITL_SHIFT));
        u.write_reg(reg::IER, ier::RDI);
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::NO_INT | iir::FIFO_ENABLED);
        (0..3).for_each(|i| u.receive(i));
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::CTI | iir::FIFO_ENABLED);
        u.receive(3);
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::RDI | iir::FIFO_ENABLED);
        assert_eq!((0..4).map(|_| u.read_reg(reg::RBR_THR)).collect::<Vec<_>>(), [0, 1, 2, 3]);
        (0..20).for_each(|i| u.receive(i));
        assert_eq!(u.state().rx_count, 16);
        assert_ne!(u.read_reg(reg::LSR) & lsr::OE, 0);
        u.write_reg(reg::IIR_FCR, fcr::FE | fcr::RX_RESET);
        assert_eq!(u.read_reg(reg::LSR) & lsr::DR, 0);
        u.write_reg(reg::IIR_FCR, 0);
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::NO_INT);
    }

    #[test]
    fn loopback_routes_thr_to_rbr_and_mcr_to_msr() {
        let (mut u, out, _) = uart();
        assert_eq!(u.read_reg(reg::MSR), msr::EXTERNAL);
        u.write_reg(reg::MCR, mcr::LOOP | mcr::RTS | 0xe0);
        assert_eq!(u.read_reg(reg::MCR), mcr::LOOP | mcr::RTS);
        assert_eq!(u.read_reg(reg::MSR), msr::CTS | msr::DDSR | msr::DDCD);
        assert_eq!(u.read_reg(reg::MSR), msr::CTS);
        u.write_reg(reg::RBR_THR, 0x42);
        u.receive(0x99);
        assert!(out.0.borrow().is_empty());
        assert_eq!(u.read_reg(reg::RBR_THR), 0x42);
        assert_eq!(u.read_reg(reg::LSR) & lsr::DR, 0);
    }

    #[test]
    fn modem_status_interrupt_and_ri_trailing_edge() {
        let (mut u, _, _) = uart();
        u.write_reg(reg::MCR, mcr::LOOP | mcr::OUT1);
        u.read_reg(reg::MSR);
        u.write_reg(reg::IER, ier::MSI);
        assert!(!u.irq_level());
        u.write_reg(reg::MCR, mcr::LOOP);
        assert!(u.irq_level());
        assert_eq!(u.read_reg(reg::IIR_FCR), iir::MSI);
        assert_eq!(u.read_reg(reg::MSR), msr::TERI);
        assert!(!u.irq_level());
    }

    #[test]
    fn wide_access_splits_into_bytes() {
        let (mut u, _, _) = uart();
        u.write(reg::LCR, 2, 0x0b03);
        assert_eq!(u.read(reg::LCR, 2), 0x0b03);
        assert_eq!(u.read(reg::MSR, 4) & 0xff, msr::EXTERNAL as u32);
    }

    #[test]
    fn snapshot_round_trip() {
        let (mut u, _, _) = uart();
        u.write_reg(reg::SCR, 7);
        u.receive(9);
        let s = u.state();
        let (mut v, _, _) = uart();
        v.restore(s);
        assert_eq!(v.state(), s);
        assert_eq!(v.read_reg(reg::RBR_THR), 9);
    }
}
