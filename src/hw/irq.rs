//! Interrupt request lines: how a device tells an interrupt controller its output level (QEMU's
//! `qemu_irq`). A device computes its level from its registers and reports every change; what is
//! on the other end (an i8259 input, a test recorder, nothing) is injected.

/// The other end of a device's interrupt output.
pub trait IrqLine {
    /// The line is now at `level` (true = asserted).
    fn set_level(&mut self, level: bool);
}

/// An unconnected line.
pub struct NoIrq;

impl IrqLine for NoIrq {
    fn set_level(&mut self, _level: bool) {}
}
