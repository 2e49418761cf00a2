//! A `no_std` code buffer that the `dynasm!` macro writes into.
//!
//! `dynasm!` expands to method calls on the value it is given (`push`, `push_i32`, `extend`,
//! `dynamic_label`, `dynamic_reloc`, …); this type provides them over a borrowed byte region, so
//! the core needs neither std nor `dynasmrt`. Only dynamic labels and relative relocations of 1 or
//! 4 bytes are supported, which is all the emitter uses.
//!
//! Invariant: nothing is ever written past the region; when it is full the buffer records
//! `overflow` and drops bytes, and `finish` reports `CodeBufferFull`.

use alloc::vec::Vec;

/// The buffer ran out of space (the caller flushes all TBs and retries).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CodeBufferFull;

/// A dynamic label: an index into the buffer's label table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DynLabel(pub usize);

#[derive(Copy, Clone, Debug)]
struct Reloc {
    label: usize,
    /// Offset of the field in the buffer.
    field: usize,
    /// Offset the displacement is relative to.
    reference: usize,
    size: u8,
    addend: isize,
}

pub struct CodeBuf<'a> {
    mem: &'a mut [u8],
    /// Host address where `mem[0]` runs (for absolute addresses and rel32 displacements). With a
    /// split W^X region `mem` is the writable view and this is in the executable one.
    pub base_addr: usize,
    pos: usize,
    labels: Vec<Option<usize>>,
    relocs: Vec<Reloc>,
    overflow: bool,
}

impl<'a> CodeBuf<'a> {
    /// A buffer writing into `mem`, whose first byte runs at host address `base_addr`.
    pub fn new(mem: &'a mut [u8], base_addr: usize) -> CodeBuf<'a> {
        CodeBuf { mem, base_addr, pos: 0, labels: Vec::new(), relocs: Vec::new(), overflow: false }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Host address of the next byte.
    pub fn addr(&self) -> usize {
        self.base_addr + self.pos
    }

    pub fn new_label(&mut self) -> DynLabel {
        self.labels.push(None);
        DynLabel(self.labels.len() - 1)
    }

    /// Resolve relocations; the number of bytes written.
    pub fn finish(mut self) -> Result<usize, CodeBufferFull> {
        if self.overflow {
            return Err(CodeBufferFull);
        }
        for r in core::mem::take(&mut self.relocs) {
            let Some(Some(target)) = self.labels.get(r.label).copied() else { return Err(CodeBufferFull) };
            let disp = target as isize - r.reference as isize + r.addend;
            match r.size {
                1 => self.mem[r.field] = disp as i8 as u8,
                _ => self.mem[r.field..r.field + 4].copy_from_slice(&(disp as i32).to_le_bytes()),
            }
        }
        Ok(self.pos)
    }

    // --- the interface `dynasm!` expands to ---

    pub fn push(&mut self, b: u8) {
        match self.mem.get_mut(self.pos) {
            Some(slot) => {
                *slot = b;
                self.pos += 1;
            }
            None => self.overflow = true,
        }
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }

    pub fn push_i8(&mut self, v: i8) {
        self.push(v as u8);
    }

    pub fn push_i16(&mut self, v: i16) {
        self.extend(&v.to_le_bytes());
    }

    pub fn push_i32(&mut self, v: i32) {
        self.extend(&v.to_le_bytes());
    }

    pub fn push_i64(&mut self, v: i64) {
        self.extend(&v.to_le_bytes());
    }

    pub fn push_u16(&mut self, v: u16) {
        self.extend(&v.to_le_bytes());
    }

    pub fn push_u32(&mut self, v: u32) {
        self.extend(&v.to_le_bytes());
    }

    pub fn push_u64(&mut self, v: u64) {
        self.extend(&v.to_le_bytes());
    }

    pub fn align(&mut self, alignment: usize, with: u8) {
        while !(self.base_addr + self.pos).is_multiple_of(alignment) && !self.overflow {
            self.push(with);
        }
    }

    pub fn dynamic_label(&mut self, id: DynLabel) {
        if let Some(slot) = self.labels.get_mut(id.0) {
            *slot = Some(self.pos);
        }
    }

    pub fn dynamic_reloc(&mut self, id: DynLabel, target_offset: isize, field_offset: u8, ref_offset: u8, kind: u8) {
        let size = 1u8 << (kind & 0x3f);
        let field = self.pos.wrapping_sub(field_offset as usize);
        let reference = self.pos.wrapping_sub(ref_offset as usize);
        self.relocs.push(Reloc { label: id.0, field, reference, size, addend: target_offset });
    }
}
