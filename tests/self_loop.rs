//! A TB whose `goto_tb` jumps back to its own start under the same TB key loops inside its JIT
//! code (only the instruction budget is charged per pass). Whatever the instruction limit, the
//! guest must stop in exactly the state the interpreter (which never chains) stops in, after
//! exactly as many instructions.

mod common;

use common::{run_on, ECX, EDX};

/// ```text
///     mov $300, %ecx
///     xor %edx, %edx
/// 1:  add %ecx, %edx      # TB B starts here: add; dec; jne 1b (jne back to B, cc_op of dec)
///     dec %ecx
///     jne 1b
///     mov %edx, %eax
///     out %al, $0xf4
/// ```
const SUM_LOOP: &[u8] =
    &[0xb9, 0x2c, 0x01, 0x00, 0x00, 0x31, 0xd2, 0x01, 0xca, 0x49, 0x75, 0xfb, 0x89, 0xd0, 0xe6, 0xf4];

#[test]
fn a_self_looping_tb_stops_where_the_interpreter_stops() {
    // The exec loop translates B (and so runs it in the JIT) only when at least a whole TB's
    // worth of instructions (512) is left after A: limits from 517 on stop inside B's loop, at
    // each of its three instructions in turn.
    let limits = (1..=12).chain(510..=560).chain([899, 900, 901, 904, 905, 10_000]);
    for limit in limits {
        let (ri, ci, ni) = run_on(SUM_LOOP, |_| {}, limit, false);
        let (rj, cj, nj) = run_on(SUM_LOOP, |_| {}, limit, true);
        assert_eq!((ri, ni), (rj, nj), "limit {limit}: exit reason and instruction count");
        assert_eq!(ci.env.regs, cj.env.regs, "limit {limit}: registers");
        assert_eq!(ci.env.eip, cj.env.eip, "limit {limit}: eip");
        let flags = |c: &tcg86::cpu::X86Cpu| (c.env.cc_op, c.env.cc_dst, c.env.cc_src);
        assert_eq!(flags(&ci), flags(&cj), "limit {limit}: lazy flags");
    }
    // Run to the end: 300 + 299 + ... + 1 = 45150, in 2 + 3 * 300 + 2 instructions.
    let (_, cpu, n) = run_on(SUM_LOOP, |_| {}, 1_000_000, true);
    assert_eq!((cpu.env.regs[EDX], cpu.env.regs[ECX], n), (45150, 0, 904));
}
