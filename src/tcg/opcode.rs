//! The one opcode table of the IR, in the spirit of TCG's `tcg-opc.h`.
//!
//! Every opcode appears exactly once, with its printed name, its numbers of output, input and constant
//! arguments, its flags and a one-line statement of its semantics. Printer, parser, verifier,
//! optimizer and backends all read this table; nothing else lists opcodes.
//!
//! All values are 32 bits wide (the guest is i386). Arguments are stored in the order
//! outputs, inputs, constants, exactly as printed.

bitflags::bitflags! {
    /// Properties of an opcode (TCG's `TCG_OPF_*`).
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    pub struct OpFlags: u8 {
        /// Ends a basic block: temps of kind `Normal` die here.
        const BB_END = 1 << 0;
        /// Must not be removed even if its outputs are unused.
        const SIDE_EFFECTS = 1 << 1;
        /// Calls out of generated code: host caller-saved registers are clobbered.
        const CALL_CLOBBER = 1 << 2;
        /// A conditional branch.
        const COND_BRANCH = 1 << 3;
        /// Leaves the translation block.
        const BB_EXIT = 1 << 4;
        /// Pure function of its inputs and constants: may be folded when all inputs are constant.
        const PURE = 1 << 5;
    }
}

macro_rules! def_ops {
    ($( $op:ident $name:literal $o:literal $i:literal $c:literal [$($f:ident)|*] $doc:literal; )*) => {
        /// An IR opcode. See [`OP_DEFS`] for the table.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Opcode { $( #[doc = $doc] $op, )* }

        /// Static description of an opcode (TCG's `TCGOpDef`).
        #[derive(Copy, Clone, Debug)]
        pub struct OpDef {
            pub name: &'static str,
            pub nb_oargs: u8,
            pub nb_iargs: u8,
            pub nb_cargs: u8,
            pub flags: OpFlags,
            pub doc: &'static str,
        }

        /// The table, indexed by `Opcode as usize`.
        pub const OP_DEFS: &[OpDef] = &[ $( OpDef {
            name: $name, nb_oargs: $o, nb_iargs: $i, nb_cargs: $c,
            flags: OpFlags::empty() $(.union(OpFlags::$f))*, doc: $doc,
        }, )* ];

        /// Every opcode, in table order.
        pub const ALL_OPS: &[Opcode] = &[ $( Opcode::$op, )* ];
    };
}

def_ops! {
    // control flow
    InsnStart   "insn_start"     0 0 2 [SIDE_EFFECTS] "marks the start of guest insn: (pc, cc_op at its start)";
    SetLabel    "set_label"      0 0 1 [BB_END | SIDE_EFFECTS] "defines label c0 here";
    Br          "br"             0 0 1 [BB_END | SIDE_EFFECTS] "jump to label c0";
    BrCond      "brcond_i32"     0 2 2 [BB_END | SIDE_EFFECTS | COND_BRANCH] "if (i0 cond(c0) i1) jump to label c1";
    GotoTb      "goto_tb"        0 0 1 [SIDE_EFFECTS] "patchable direct jump to the next TB through exit slot c0";
    ExitTb      "exit_tb"        0 0 1 [BB_END | BB_EXIT | SIDE_EFFECTS] "return to cpu_exec with value c0 (slot or 0)";
    GotoPtr     "goto_ptr"       0 1 0 [BB_END | BB_EXIT | SIDE_EFFECTS] "jump to host code i0 (0: return to cpu_exec)";
    LookupTbPtr "lookup_tb_ptr"  1 0 0 [CALL_CLOBBER] "o0 = host code of the TB for the current eip, or 0";
    // moves and constants
    Mov         "mov_i32"        1 1 0 [PURE] "o0 = i0";
    SetCond     "setcond_i32"    1 2 1 [PURE] "o0 = (i0 cond(c0) i1) ? 1 : 0";
    MovCond     "movcond_i32"    1 4 1 [PURE] "o0 = (i0 cond(c0) i1) ? i2 : i3";
    // env access
    Ld8u        "ld8u_i32"       1 1 1 [] "o0 = zero-extended byte at i0 + c0 (i0 is env)";
    Ld8s        "ld8s_i32"       1 1 1 [] "o0 = sign-extended byte at i0 + c0";
    Ld16u       "ld16u_i32"      1 1 1 [] "o0 = zero-extended halfword at i0 + c0";
    Ld16s       "ld16s_i32"      1 1 1 [] "o0 = sign-extended halfword at i0 + c0";
    Ld          "ld_i32"         1 1 1 [] "o0 = word at i0 + c0";
    St8         "st8_i32"        0 2 1 [SIDE_EFFECTS] "byte at i1 + c0 = i0";
    St16        "st16_i32"       0 2 1 [SIDE_EFFECTS] "halfword at i1 + c0 = i0";
    St          "st_i32"         0 2 1 [SIDE_EFFECTS] "word at i1 + c0 = i0";
    // arithmetic
    Add         "add_i32"        1 2 0 [PURE] "o0 = i0 + i1";
    Sub         "sub_i32"        1 2 0 [PURE] "o0 = i0 - i1";
    Mul         "mul_i32"        1 2 0 [PURE] "o0 = low 32 bits of i0 * i1";
    Neg         "neg_i32"        1 1 0 [PURE] "o0 = -i0";
    And         "and_i32"        1 2 0 [PURE] "o0 = i0 & i1";
    Or          "or_i32"         1 2 0 [PURE] "o0 = i0 | i1";
    Xor         "xor_i32"        1 2 0 [PURE] "o0 = i0 ^ i1";
    Andc        "andc_i32"       1 2 0 [PURE] "o0 = i0 & ~i1";
    Not         "not_i32"        1 1 0 [PURE] "o0 = ~i0";
    Shl         "shl_i32"        1 2 0 [PURE] "o0 = i0 << (i1 & 31)";
    Shr         "shr_i32"        1 2 0 [PURE] "o0 = i0 >> (i1 & 31), logical";
    Sar         "sar_i32"        1 2 0 [PURE] "o0 = i0 >> (i1 & 31), arithmetic";
    Rotl        "rotl_i32"       1 2 0 [PURE] "o0 = i0 rotated left by i1 & 31";
    Rotr        "rotr_i32"       1 2 0 [PURE] "o0 = i0 rotated right by i1 & 31";
    Ext8s       "ext8s_i32"      1 1 0 [PURE] "o0 = sign-extended low byte of i0";
    Ext8u       "ext8u_i32"      1 1 0 [PURE] "o0 = zero-extended low byte of i0";
    Ext16s      "ext16s_i32"     1 1 0 [PURE] "o0 = sign-extended low halfword of i0";
    Ext16u      "ext16u_i32"     1 1 0 [PURE] "o0 = zero-extended low halfword of i0";
    Bswap16     "bswap16_i32"    1 1 0 [PURE] "o0 = bytes of the low halfword of i0 swapped, zero-extended";
    Bswap32     "bswap32_i32"    1 1 0 [PURE] "o0 = bytes of i0 reversed";
    Clz         "clz_i32"        1 2 0 [PURE] "o0 = i0 != 0 ? leading zeros of i0 : i1";
    Ctz         "ctz_i32"        1 2 0 [PURE] "o0 = i0 != 0 ? trailing zeros of i0 : i1";
    Deposit     "deposit_i32"    1 2 2 [PURE] "o0 = i0 with bits [c0, c0+c1) replaced by the low c1 bits of i1";
    Extract     "extract_i32"    1 1 2 [PURE] "o0 = zero-extended bits [c0, c0+c1) of i0";
    Sextract    "sextract_i32"   1 1 2 [PURE] "o0 = sign-extended bits [c0, c0+c1) of i0";
    Mulu2       "mulu2_i32"      2 2 0 [PURE] "(o1:o0) = unsigned i0 * i1";
    Muls2       "muls2_i32"      2 2 0 [PURE] "(o1:o0) = signed i0 * i1";
    // guest memory
    QemuLd      "qemu_ld_i32"    1 1 2 [CALL_CLOBBER | SIDE_EFFECTS] "o0 = guest load at virtual address i0, MemOp c0, mmu_idx c1";
    QemuSt      "qemu_st_i32"    0 2 2 [CALL_CLOBBER | SIDE_EFFECTS] "guest store of i0 at virtual address i1, MemOp c0, mmu_idx c1";
    // helpers
    Call        "call"           0 0 0 [CALL_CLOBBER | SIDE_EFFECTS] "call helper: outputs and inputs come from its HelperInfo";
}

impl Opcode {
    /// This opcode's row of the table.
    pub fn def(self) -> &'static OpDef {
        &OP_DEFS[self as usize]
    }

    /// Look an opcode up by its printed name.
    pub fn from_name(name: &str) -> Option<Opcode> {
        ALL_OPS.iter().copied().find(|op| op.def().name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_opcode() {
        for (i, op) in ALL_OPS.iter().enumerate() {
            assert_eq!(*op as usize, i);
            assert_eq!(Opcode::from_name(op.def().name), Some(*op));
        }
    }
}
