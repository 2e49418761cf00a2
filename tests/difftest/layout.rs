//! Guest addresses shared by the native runner and the tcg86 runner. Both put the scratch area
//! and the stack area at the same addresses, so register values that hold addresses compare equal.

/// The scratch area generated code reads and writes through EBP. It straddles a page boundary
/// (0x21000), so accesses that cross pages take the softmmu's slow path.
pub const SCRATCH: u32 = 0x2_0f80;
pub const SCRATCH_SIZE: u32 = 0x100;
/// The private stack area, right after the scratch area.
pub const STACK_LO: u32 = SCRATCH + SCRATCH_SIZE;
/// Scratch area + stack area: the memory that is compared.
pub const REGION_SIZE: u32 = 0x200;
/// EBP points at the middle of the scratch area, so every disp8 reaches it.
pub const EBP_INIT: u32 = SCRATCH + 0x80;
/// ESP starts in the middle of the stack area.
pub const ESP_INIT: u32 = STACK_LO + 0x80;

/// What running a sequence left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub regs: [u32; 8],
    pub eflags: u32,
    /// The exception that stopped the sequence: (vector, code offset of the faulting instruction).
    pub fault: Option<(u32, u32)>,
    /// `REGION_SIZE` bytes from `SCRATCH`.
    pub mem: Vec<u8>,
}
