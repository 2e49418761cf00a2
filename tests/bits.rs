//! bt/bts/btr/btc (register, immediate and memory forms, including memory with a signed register
//! bit offset that moves the address), bsf/bsr, bswap, and the exchange family: xchg, xadd,
//! cmpxchg, cmpxchg8b. Checked against the host CPU.

mod hostcmp;
use hostcmp::*;

const OFFSETS: [u32; 14] = [0, 1, 7, 8, 15, 16, 31, 32, 63, 100, 0xffff_ffff, 0xffff_ffc0, 0xffff_0000, 0x8000_0007];

#[test]
fn bt_family() {
    let mut rng = Rng(9);
    let mut n = 0;
    for k in 0..4u8 {
        let (reg_op, imm_ext) = (0xa3 + 8 * k, 4 + k); // bt bts btr btc; 0f ba /4../7
        let mut forms = vec![
            vec![0x0f, reg_op, modrm(3, 1, 0)],
            vec![0x66, 0x0f, reg_op, modrm(3, 1, 0)],
            vec![0x0f, reg_op, modrm(0, 1, 3)],
            vec![0x66, 0x0f, reg_op, modrm(0, 1, 3)],
        ];
        if k > 0 {
            forms.push(vec![0xf0, 0x0f, reg_op, modrm(0, 1, 3)]); // lock bt is #UD
        }
        for imm in [0u8, 5, 15, 16, 31, 32, 200] {
            forms.push(vec![0x0f, 0xba, modrm(3, imm_ext, 0), imm]);
            forms.push(vec![0x66, 0x0f, 0xba, modrm(3, imm_ext, 0), imm]);
            forms.push(vec![0x0f, 0xba, modrm(0, imm_ext, 3), imm]);
        }
        for code in &forms {
            for &off in &OFFSETS {
                for &a in &EDGES[..8] {
                    let mut st = State::new(rng.regs(), rng.next());
                    st.regs[EAX] = a ^ rng.next();
                    // Keep memory bit offsets inside the window: [-64, +127] bits around ebx.
                    let mem_form = code.contains(&modrm(0, 1, 3));
                    let o = if mem_form && !(off as i32 >= -64 && off as i32 <= 127) { off & 0x3f } else { off };
                    let o16 = if mem_form && code[0] == 0x66 && (o as i16) < -64 { o & 0x3f } else { o };
                    st.regs[ECX] = o16;
                    check(code, &st, OF | SF | AF | PF);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 5000);
}

#[test]
fn bsf_bsr() {
    let mut rng = Rng(10);
    for op in [0xbcu8, 0xbd] {
        let forms = [
            vec![0x0f, op, modrm(3, 0, 1)],
            vec![0x66, 0x0f, op, modrm(3, 0, 1)],
            vec![0x0f, op, modrm(0, 0, 3)],
            vec![0x0f, op, modrm(3, 0, 0)],
        ];
        for code in &forms {
            for &v in EDGES.iter().chain(&[0x10000u32, 0x40, 0x8001_0000]) {
                let mut st = State::new(rng.regs(), rng.next());
                st.regs[ECX] = v;
                st.mem[0x40..0x44].copy_from_slice(&v.to_le_bytes());
                check(code, &st, CF | OF | SF | AF | PF);
            }
        }
    }
}

#[test]
fn bswap() {
    let mut rng = Rng(12);
    for r in [0u8, 1, 3, 6, 7] {
        for &v in &EDGES {
            let mut st = State::new(rng.regs(), rng.next());
            st.regs[r as usize] = v;
            check(&[0x0f, 0xc8 + r], &st, 0);
            check(&[0x66, 0x0f, 0xc8 + r], &st, 0);
        }
    }
}

#[test]
fn xchg_xadd() {
    let forms: Vec<Vec<u8>> = vec![
        vec![0x91],       // xchg %eax,%ecx
        vec![0x66, 0x92], // xchg %ax,%dx
        vec![0x87, modrm(3, 1, 0)],
        vec![0x87, modrm(3, 0, 0)],
        vec![0x86, modrm(3, 4, 1)], // xchg %ah,%cl
        vec![0x86, modrm(3, 0, 4)], // xchg %al,%ah
        vec![0x87, modrm(0, 1, 3)], // xchg %ecx,(%ebx)
        vec![0x66, 0x87, modrm(0, 1, 3)],
        vec![0x86, modrm(0, 5, 3)],
        vec![0xf0, 0x87, modrm(0, 1, 3)],
        vec![0x0f, 0xc1, modrm(3, 1, 0)], // xadd %ecx,%eax
        vec![0x0f, 0xc1, modrm(3, 0, 0)], // xadd %eax,%eax
        vec![0x0f, 0xc0, modrm(3, 5, 0)], // xadd %ch,%al
        vec![0x66, 0x0f, 0xc1, modrm(3, 1, 0)],
        vec![0x0f, 0xc1, modrm(0, 1, 3)],
        vec![0xf0, 0x0f, 0xc0, modrm(0, 1, 3)],
    ];
    let mut rng = Rng(13);
    for code in &forms {
        for &a in &EDGES {
            for &b in &EDGES {
                let mut st = State::new(rng.regs(), rng.next());
                st.regs[EAX] = a;
                st.regs[ECX] = b;
                st.mem[0x40..0x44].copy_from_slice(&a.rotate_left(4).to_le_bytes());
                check(code, &st, 0);
            }
        }
    }
}

#[test]
fn cmpxchg() {
    let forms: Vec<Vec<u8>> = vec![
        vec![0x0f, 0xb1, modrm(3, 2, 1)], // cmpxchg %edx,%ecx
        vec![0x0f, 0xb1, modrm(3, 2, 0)], // cmpxchg %edx,%eax
        vec![0x0f, 0xb1, modrm(3, 0, 1)], // cmpxchg %eax,%ecx
        vec![0x0f, 0xb0, modrm(3, 2, 1)], // cmpxchg %dl,%cl
        vec![0x0f, 0xb0, modrm(3, 2, 4)], // cmpxchg %dl,%ah
        vec![0x66, 0x0f, 0xb1, modrm(3, 2, 1)],
        vec![0x0f, 0xb1, modrm(0, 2, 3)], // cmpxchg %edx,(%ebx)
        vec![0xf0, 0x0f, 0xb1, modrm(0, 2, 3)],
        vec![0x0f, 0xb0, modrm(0, 2, 3)],
        vec![0x66, 0x0f, 0xb1, modrm(0, 2, 3)],
    ];
    let mut rng = Rng(14);
    for code in &forms {
        for &a in &EDGES {
            for &b in &EDGES {
                for equal in [false, true] {
                    let mut st = State::new(rng.regs(), rng.next());
                    st.regs[EAX] = a;
                    st.regs[ECX] = if equal { a } else { b };
                    st.mem[0x40..0x44].copy_from_slice(&(if equal { a } else { b }).to_le_bytes());
                    check(code, &st, 0);
                }
            }
        }
    }
}

#[test]
fn cmpxchg8b() {
    let mut rng = Rng(15);
    for lock in [false, true] {
        let mut code = if lock { vec![0xf0] } else { vec![] };
        code.extend_from_slice(&[0x0f, 0xc7, modrm(0, 1, 3)]);
        for &a in &EDGES {
            for case in 0..4 {
                let mut st = State::new(rng.regs(), rng.next());
                st.regs[EAX] = a;
                st.regs[EDX] = a.rotate_left(8);
                let lo = if case & 1 == 0 { a } else { a ^ 1 };
                let hi = if case & 2 == 0 { a.rotate_left(8) } else { !a };
                st.mem[0x40..0x44].copy_from_slice(&lo.to_le_bytes());
                st.mem[0x44..0x48].copy_from_slice(&hi.to_le_bytes());
                check(&code, &st, 0);
            }
        }
    }
}
