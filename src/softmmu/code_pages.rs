//! Which physical pages hold translated code, and which TB covers which bytes (QEMU's
//! `PageDesc` lists), so a guest store can be checked against the code it may overwrite.
//!
//! Invariant: every valid TB's physical byte ranges are listed under the pages they touch, and a
//! page is a "code page" exactly while some range is listed under it.

use super::tlb::{PAGE_BITS, PAGE_SIZE};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A TB's bytes within one page: [start, last] physical, and the TB's id.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct CodeRange {
    start: u32,
    last: u32,
    tb: u32,
}

#[derive(Default)]
pub struct CodePages {
    pages: BTreeMap<u32, Vec<CodeRange>>,
}

impl CodePages {
    pub fn new() -> CodePages {
        CodePages::default()
    }

    /// Record that TB `tb` covers [start, start + len); returns the pages that became code pages.
    pub fn add(&mut self, tb: u32, start: u32, len: u32) -> Vec<u32> {
        let mut new_pages = Vec::new();
        for (page, s, e) in split(start, len) {
            let list = self.pages.entry(page).or_default();
            if list.is_empty() {
                new_pages.push(page << PAGE_BITS);
            }
            list.push(CodeRange { start: s, last: e, tb });
        }
        new_pages
    }

    /// Forget TB `tb`'s ranges within [start, start + len).
    pub fn remove(&mut self, tb: u32, start: u32, len: u32) {
        for (page, _, _) in split(start, len) {
            if let Some(list) = self.pages.get_mut(&page) {
                list.retain(|r| r.tb != tb);
                if list.is_empty() {
                    self.pages.remove(&page);
                }
            }
        }
    }

    /// TBs with bytes in [pa, pa + len).
    pub fn overlapping(&self, pa: u32, len: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for (page, s, e) in split(pa, len) {
            for r in self.pages.get(&page).into_iter().flatten() {
                if r.start <= e && s <= r.last && !out.contains(&r.tb) {
                    out.push(r.tb);
                }
            }
        }
        out
    }

    pub fn is_code_page(&self, pa: u32) -> bool {
        self.pages.contains_key(&(pa >> PAGE_BITS))
    }

    pub fn clear(&mut self) {
        self.pages.clear();
    }
}

/// [start, start + len) cut at page boundaries: (page number, first byte, last byte).
fn split(start: u32, len: u32) -> impl Iterator<Item = (u32, u32, u32)> {
    let last = start as u64 + len.max(1) as u64 - 1;
    let mut cur = start as u64;
    core::iter::from_fn(move || {
        if cur > last || cur > u32::MAX as u64 {
            return None;
        }
        let page_last = cur | (PAGE_SIZE as u64 - 1);
        let e = last.min(page_last).min(u32::MAX as u64);
        let item = ((cur >> PAGE_BITS) as u32, cur as u32, e as u32);
        cur = e + 1;
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_and_removal_per_page() {
        let mut c = CodePages::new();
        assert_eq!(c.add(1, 0x1ff0, 0x20), [0x1000, 0x2000]);
        assert_eq!(c.add(2, 0x2100, 0x10), []);
        assert_eq!(c.overlapping(0x2008, 4), [1]);
        assert_eq!(c.overlapping(0x2010, 4), Vec::<u32>::new());
        assert_eq!(c.overlapping(0x20fe, 4), [2]);
        c.remove(1, 0x1ff0, 0x20);
        assert!(!c.is_code_page(0x1000));
        assert!(c.is_code_page(0x2000));
    }
}
