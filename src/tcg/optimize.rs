//! The optimizer pipeline (TCG's `tcg_optimize` plus liveness-based dead-code removal).
//!
//! Each pass is one file with one public entry; `optimize` runs them in order. Passes preserve
//! the semantics of the TB as observed through `env`, guest memory and the TB exit.

use super::ir::TcgContext;

/// Optimize the IR of one TB in place.
pub fn optimize(_ctx: &mut TcgContext) {}
