//! The fuzz targets on stable, deterministically: the committed seed corpus (`fuzz/seeds/<target>/`,
//! which also holds every input a fuzzing run found a bug with) and a few thousand pseudo-random
//! inputs go through the same functions the `cargo fuzz` targets call (`tcg86::fuzzing`). A panic
//! is a failure; so is a hang (each input is bounded by `fuzzing::MAX_INSNS` guest instructions).

use std::path::PathBuf;
use tcg86::fuzzing::{guest_code, kernel_image};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// The seed files of a target, sorted by name: (name, contents).
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("seed directory entry").path())
        .collect();
    files.sort();
    let read = |p: &PathBuf| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    files.iter().map(|p| (p.display().to_string(), read(p))).collect()
}

/// `seed` with a few random byte overwrites, insertions and deletions (a tiny libFuzzer mutator).
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(3) {
            0 if at < v.len() => v[at] = rng.next() as u8,
            1 => v.insert(at, rng.next() as u8),
            _ if at < v.len() => drop(v.remove(at)),
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

/// Run `f` on `input`, naming the input if it panics.
fn replay(name: &str, input: &[u8], f: fn(&[u8])) {
    if std::panic::catch_unwind(|| f(input)).is_err() {
        panic!("fuzz input {name} failed: {input:02x?}");
    }
}

#[test]
fn guest_code_seeds() {
    for (name, data) in seeds("guest_code") {
        replay(&name, &data, guest_code);
    }
}

#[test]
fn kernel_image_seeds() {
    for (name, data) in seeds("kernel_image") {
        replay(&name, &data, kernel_image);
    }
    replay("demo kernel", &tcg86::loader::demo::DEMO_KERNEL, kernel_image);
}

#[test]
fn guest_code_random_bytes() {
    let mut rng = Rng(0x7467_3836_6675_7a7a);
    for i in 0..1500 {
        let len = 1 + rng.below(64);
        let data = rng.bytes(len);
        replay(&format!("random #{i}"), &data, guest_code);
    }
}

#[test]
fn guest_code_mutated_seeds() {
    let mut rng = Rng(0x6d75_7461_7465_6421);
    let seeds = seeds("guest_code");
    for i in 0..1000 {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        replay(&format!("{name} mutation #{i}"), &mutate(&mut rng, seed), guest_code);
    }
}

#[test]
fn kernel_image_mutated_seeds() {
    let mut rng = Rng(0x6b65_726e_656c_2121);
    let seeds = seeds("kernel_image");
    for i in 0..300 {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        replay(&format!("{name} mutation #{i}"), &mutate(&mut rng, seed), kernel_image);
    }
}
