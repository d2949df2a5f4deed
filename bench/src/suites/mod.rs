//! One module per suite of `torch_bench.py`, in its order.

pub mod cnn;
pub mod elementwise;
pub mod layout;
pub mod matmul;
pub mod mlp;
pub mod overhead;
pub mod reductions;

use frankentorch::Result;

/// A suite: prints its JSON lines.
pub type Suite = fn() -> Result<()>;

/// Every suite by name, in the order they run by default.
pub const SUITES: &[(&str, Suite)] = &[
    ("matmul", matmul::run),
    ("elementwise", elementwise::run),
    ("layout", layout::run),
    ("reductions", reductions::run),
    ("overhead", overhead::run),
    ("mlp", mlp::run),
    ("cnn", cnn::run),
];
