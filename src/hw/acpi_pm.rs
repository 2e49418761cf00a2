//! ACPI power-off: the PM1a control register of QEMU's i440fx machine (PIIX4 power management),
//! which SeaBIOS places at PM base 0x600, so the register is at port 0x604.
//!
//! A write with SLP_EN (bit 13) set enters the sleep state selected by SLP_TYP (bits 12:10; ACPI
//! specification 6.5, section 4.8.3.2.1). QEMU's DSDT gives `_S5` the type 0, so type 0 (and the
//! S4 type 2) power the machine off: the host exit status is 0. Type 1 (S3, suspend) is not
//! modelled and is ignored. SCI_EN (bit 0) and the other bits are stored; SLP_EN reads as 0.
//! Byte accesses reach either half of the 16-bit register.

use super::bus::{IoEffect, PortDevice};

/// PM base (SeaBIOS on i440fx) and the PM1a control register's port.
pub const PM_BASE: u16 = 0x600;
pub const PM1A_CNT_PORT: u16 = PM_BASE + 4;
/// Ports the register decodes.
pub const PM1A_CNT_LEN: u16 = 2;

pub const SCI_EN: u16 = 1 << 0;
pub const SLP_TYP_SHIFT: u16 = 10;
pub const SLP_TYP_MASK: u16 = 7 << SLP_TYP_SHIFT;
pub const SLP_EN: u16 = 1 << 13;
/// Host exit status for a guest power-off.
pub const EXIT_POWEROFF: i32 = 0;

/// The PM1a control register.
#[derive(Default)]
pub struct AcpiPm1Cnt {
    pub value: u16,
}

impl AcpiPm1Cnt {
    /// Store `v` and act on SLP_EN.
    fn write16(&mut self, v: u16) -> IoEffect {
        self.value = v & !SLP_EN;
        if v & SLP_EN == 0 {
            return IoEffect::None;
        }
        match (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT {
            1 => IoEffect::None,
            _ => IoEffect::Exit(EXIT_POWEROFF),
        }
    }
}

impl PortDevice for AcpiPm1Cnt {
    fn read(&mut self, offset: u16, size: u8) -> u32 {
        let v = (self.value as u32) >> (8 * offset.min(2));
        v & (u32::MAX >> (32 - 8 * size.clamp(1, 4) as u32))
    }

    fn write(&mut self, offset: u16, size: u8, value: u32) -> IoEffect {
        let (shift, width) = (8 * offset.min(2) as u32, 8 * size.clamp(1, 4) as u32);
        let mask = ((u32::MAX >> (32 - width)) << shift) as u16;
        let merged = (self.value & !mask) | ((value << shift) as u16 & mask);
        self.write16(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slp_en_powers_off() {
        let mut pm = AcpiPm1Cnt::default();
        assert_eq!(pm.write(0, 2, SCI_EN as u32), IoEffect::None);
        assert_eq!(pm.read(0, 2), SCI_EN as u32);
        assert_eq!(pm.write(0, 2, 0x2000), IoEffect::Exit(0));
        assert_eq!(pm.read(0, 2) & SLP_EN as u32, 0);
    }

    #[test]
    fn byte_write_to_high_half_and_suspend_ignored() {
        let mut pm = AcpiPm1Cnt::default();
        assert_eq!(pm.write(1, 1, 0x24), IoEffect::None, "SLP_TYP 1: S3 is not modelled");
        assert_eq!(pm.write(1, 1, 0x20), IoEffect::Exit(0));
        assert_eq!(pm.write(1, 1, 0x28), IoEffect::Exit(0), "SLP_TYP 2: S4");
    }
}
