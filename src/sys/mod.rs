//! The only module that touches the platform: executable memory for the JIT (and, in the std
//! build, nothing else — stdio and files live in the binary). `host` maps it on Linux as two W^X
//! views of one memfd; `metal` (bare metal, built without `std`) hands out a static region. Both
//! return the same `tcg::x64::CodeRegion`.

#[cfg(feature = "std")]
pub mod host;
#[cfg(any(not(feature = "std"), test))]
pub mod metal;
