//! The only module that touches the platform: executable memory for the JIT (and, in the std
//! build, nothing else — stdio and files live in the binary).

#[cfg(feature = "std")]
pub mod host;
