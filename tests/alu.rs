//! Integer ALU instructions against the host CPU: add/adc/sub/sbb/cmp/and/or/xor/test, inc/dec,
//! neg/not at 8/16/32 bits, register and memory destinations, every immediate form.
//! Expected values come from running the same bytes natively (see `hostcmp`), with only the flags
//! the SDM calls undefined masked.

mod hostcmp;
use hostcmp::*;

/// Run `encode(a, b)` for many operand pairs and flag settings; `a` goes to eax, `b` to ecx.
fn sweep(encodings: &[Vec<u8>], undef: u32, setup: impl Fn(&mut State, u32, u32)) -> usize {
    let mut rng = Rng(0x1234_5678);
    let mut n = 0;
    for code in encodings {
        for &a in &EDGES {
            for &b in &EDGES {
                for &f in &FLAG_SETS {
                    let mut st = State::new(rng.regs(), f);
                    setup(&mut st, a, b);
                    check(code, &st, undef);
                    n += 1;
                }
            }
        }
    }
    n
}

/// eax = a, ecx = b, and the dword at [ebx] = a.
fn regs_ab(st: &mut State, a: u32, b: u32) {
    st.regs[EAX] = a;
    st.regs[ECX] = b;
    st.mem[0x40..0x44].copy_from_slice(&a.to_le_bytes());
}

/// The forms of one group-1 operation `k` (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp)
/// with register and memory operands.
fn group1_reg_forms(k: u8) -> Vec<Vec<u8>> {
    let op = k * 8;
    let mut v = vec![
        vec![op, modrm(3, 1, 0)],           // op %cl,%al
        vec![op, modrm(3, 5, 4)],           // op %ch,%ah
        vec![op + 1, modrm(3, 1, 0)],       // op %ecx,%eax
        vec![0x66, op + 1, modrm(3, 1, 0)], // op %cx,%ax
        vec![op + 1, modrm(3, 0, 0)],       // op %eax,%eax
        vec![op, modrm(3, 0, 0)],           // op %al,%al
        vec![op + 3, modrm(3, 0, 1)],       // op %ecx,%eax (reg, r/m)
        vec![op + 1, modrm(0, 1, 3)],       // op %ecx,(%ebx)
        vec![op, modrm(0, 1, 3)],           // op %cl,(%ebx)
        vec![0x66, op + 1, modrm(0, 1, 3)], // op %cx,(%ebx)
        vec![op + 3, modrm(0, 1, 3)],       // op (%ebx),%ecx
        vec![op + 2, modrm(0, 1, 3)],       // op (%ebx),%cl
    ];
    if k != 7 {
        v.push(vec![0xf0, op + 1, modrm(0, 1, 3)]); // lock op %ecx,(%ebx) (lock cmp is #UD)
    }
    v
}

fn group1_undef(k: u8) -> u32 {
    if matches!(k, 1 | 4 | 6) {
        AF
    } else {
        0
    }
}

#[test]
fn group1_register_and_memory_forms() {
    let mut n = 0;
    for k in 0..8 {
        n += sweep(&group1_reg_forms(k), group1_undef(k), regs_ab);
    }
    assert!(n > 8000, "{}", n);
}

/// Immediate forms with immediate `b`.
fn group1_imm_forms(k: u8, b: u32) -> Vec<Vec<u8>> {
    let (b8, b16, b32) = (b as u8, (b as u16).to_le_bytes(), b.to_le_bytes());
    let mut v = vec![
        vec![0x80, modrm(3, k, 0), b8],
        vec![0x80, modrm(3, k, 4), b8], // %ah
        vec![0x83, modrm(3, k, 0), b8],
        vec![0x66, 0x83, modrm(3, k, 0), b8],
        vec![0x80, modrm(0, k, 3), b8],
        vec![0x83, modrm(0, k, 3), b8],
        vec![k * 8 + 4, b8],
    ];
    let mut w = vec![0x81, modrm(3, k, 0)];
    w.extend_from_slice(&b32);
    v.push(w);
    let mut w = vec![0x66, 0x81, modrm(0, k, 3)];
    w.extend_from_slice(&b16);
    v.push(w);
    let mut w = vec![k * 8 + 5];
    w.extend_from_slice(&b32);
    v.push(w);
    let mut w = vec![0x66, k * 8 + 5];
    w.extend_from_slice(&b16);
    v.push(w);
    v
}

#[test]
fn group1_immediate_forms() {
    let mut rng = Rng(99);
    let mut n = 0;
    for k in 0..8 {
        for &a in &EDGES {
            for &b in &EDGES {
                for code in group1_imm_forms(k, b) {
                    for &f in &FLAG_SETS {
                        let mut st = State::new(rng.regs(), f);
                        regs_ab(&mut st, a, 0);
                        check(&code, &st, group1_undef(k));
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 10000);
}

#[test]
fn test_forms() {
    let forms = vec![
        vec![0x84, modrm(3, 1, 0)],
        vec![0x85, modrm(3, 1, 0)],
        vec![0x66, 0x85, modrm(3, 1, 0)],
        vec![0x85, modrm(0, 1, 3)],
        vec![0x84, modrm(3, 0, 0)],
        vec![0xa8, 0x81],
        vec![0xa9, 0x00, 0x80, 0x00, 0x80],
        vec![0xf6, modrm(3, 0, 0), 0x80],
        vec![0xf7, modrm(0, 0, 3), 0xff, 0xff, 0x00, 0x00],
        vec![0x66, 0xf7, modrm(3, 0, 1), 0x00, 0x80],
    ];
    sweep(&forms, AF, regs_ab);
}

#[test]
fn inc_dec_neg_not() {
    let mut forms = vec![];
    for k in [0u8, 1] {
        forms.push(vec![0xfe, modrm(3, k, 0)]);
        forms.push(vec![0xfe, modrm(3, k, 5)]); // %ch
        forms.push(vec![0xff, modrm(3, k, 1)]);
        forms.push(vec![0x66, 0xff, modrm(3, k, 0)]);
        forms.push(vec![0xff, modrm(0, k, 3)]);
        forms.push(vec![0xfe, modrm(0, k, 3)]);
        forms.push(vec![0x66, 0xff, modrm(0, k, 3)]);
    }
    for k in [2u8, 3] {
        forms.push(vec![0xf6, modrm(3, k, 0)]);
        forms.push(vec![0xf6, modrm(3, k, 4)]);
        forms.push(vec![0xf7, modrm(3, k, 1)]);
        forms.push(vec![0x66, 0xf7, modrm(3, k, 0)]);
        forms.push(vec![0xf7, modrm(0, k, 3)]);
        forms.push(vec![0xf6, modrm(0, k, 3)]);
        forms.push(vec![0x66, 0xf7, modrm(0, k, 3)]);
    }
    sweep(&forms, 0, regs_ab);
}

#[test]
fn inc_dec_short_forms_guest_only() {
    // 40+r / 48+r are REX prefixes on the host: compare with the ff /0, ff /1 forms instead.
    let mut rng = Rng(7);
    for &a in &EDGES {
        for &f in &FLAG_SETS {
            let mut st = State::new(rng.regs(), f);
            st.regs[ESI] = a;
            for (short, long) in [(0x46u8, modrm(3, 0, 6)), (0x4e, modrm(3, 1, 6))] {
                let g = run_guest(&[short], &st);
                let h = check(&[0xff, long], &st, 0);
                assert_eq!(g, h, "{:02x} with esi={:#x}", short, a);
            }
        }
    }
}

#[test]
fn chained_carry_through_adc_sbb() {
    // A 64-bit add and subtract done as add/adc and sub/sbb pairs in one TB.
    let code = [0x01, 0xd0, 0x11, 0xd9, 0x29, 0xd0, 0x19, 0xd9]; // add %edx,%eax; adc %ebx,%ecx; sub; sbb
    let mut rng = Rng(5);
    for &a in &EDGES {
        for &b in &EDGES {
            let mut st = State::new(rng.regs(), 0);
            st.regs[EAX] = a;
            st.regs[EDX] = b;
            st.regs[ECX] = b.rotate_left(7);
            st.regs[EBX] = a ^ 0x5555_5555;
            check(&code, &st, 0);
        }
    }
}

#[test]
fn host_oracle_sanity() {
    // The oracle itself: add %ecx,%eax with 0xffffffff + 1 on the host.
    let mut st = State::new([0; 8], 0);
    st.regs[EAX] = u32::MAX;
    st.regs[ECX] = 1;
    let h = run_host(&[0x01, 0xc8], &st);
    assert_eq!(h.regs[EAX], 0);
    assert_eq!(h.flags, CF | ZF | PF | AF);
    // add %ecx,(%ebx) writes the data window on both sides.
    st.regs[EBX] = DATA + 0x40;
    st.mem[0x40..0x44].copy_from_slice(&5u32.to_le_bytes());
    let g = check(&[0x01, 0x0b], &st, 0);
    assert_eq!(&g.mem[0x40..0x44], &6u32.to_le_bytes());
}

#[test]
fn sign_extensions_and_nops() {
    let forms: [&[u8]; 12] = [
        &[0x98],             // cwde
        &[0x66, 0x98],       // cbw
        &[0x99],             // cdq
        &[0x66, 0x99],       // cwd
        &[0x90],             // nop
        &[0x66, 0x90],       // xchg %ax,%ax
        &[0x0f, 0x1f, 0x00], // nopl (%eax)
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0, 0, 0, 0],
        &[0xf3, 0x90], // pause
    ];
    let mut rng = Rng(31);
    for code in forms {
        for &a in &EDGES {
            let mut st = State::new(rng.regs(), rng.next());
            st.regs[EAX] = a;
            check(code, &st, 0);
        }
    }
}

#[test]
fn address_size_prefix_uses_16_bit_addressing() {
    // 67 01 07: add %eax,(%bx) — with 16-bit addressing, only BX forms the address.
    let mut st = State::new([0; 8], 0);
    st.regs[EBX] = 0xdead_0000 | (DATA & 0xffff) | 0x40; // high half must be ignored
    st.regs[EAX] = 0x8000_0001;
    let mut cpu_st = st.clone();
    cpu_st.mem[0x40..0x44].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    // DATA's low 16 bits are 0, so (%bx) = 0x0040 in a zero-based DS: place the dword there.
    let mut cpu = guest_cpu(&[0x67, 0x01, 0x07], &cpu_st);
    cpu.mem.load(tcg86::softmmu::PhysAddr(0x40), &0x8000_0000u32.to_le_bytes()).unwrap();
    let (_, cpu) = run_cpu(cpu);
    assert_eq!(cpu.mem.read(tcg86::softmmu::PhysAddr(0x40), 4), 1);
    assert_eq!(cpu.env.get_eflags() & ARITH, CF | OF);
}

#[test]
fn ir_of_one_add_is_sensible() {
    // add %ecx,%eax: one add, the flag operands, no helper call.
    let st = State::new([0; 8], 0);
    let mut cpu = guest_cpu(&[0x01, 0xc8], &st);
    let opts = tcg86::frontend::TranslateOptions { max_insns: 1, want_in_asm: false };
    let flags = cpu.env.hflags;
    let t = tcg86::frontend::translate(&mut cpu, CODE, flags, opts);
    let text = tcg86::tcg::print::dump_ops(&t.ir);
    let first: Vec<&str> = text.lines().skip_while(|l| !l.contains("----")).skip(1).take(4).collect();
    assert_eq!(
        first,
        [" add_i32 tmp17,eax,ecx", " mov_i32 cc_dst,tmp17", " mov_i32 cc_src,ecx", " mov_i32 eax,tmp17"],
        "{}",
        text
    );
    assert!(!text.contains("call"), "{}", text);
}
