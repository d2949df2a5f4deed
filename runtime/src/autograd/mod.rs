//! The autograd engine and the graph it runs.
//!
//! Recording: generated autograd kernels call [`compute_requires_grad`],
//! build a node with [`collect_next_edges`], save what the formula needs as
//! [`SavedVariable`]s, and attach outputs with [`set_history`].
//! Running: [`backward`] and [`grad`] execute the graph (see `engine`).

pub mod accumulate;
pub mod anomaly;
mod arith;
mod copy_slices;
mod engine;
mod function;
pub mod meta;
pub mod node;
pub mod provenance;
mod reference_arith;
mod saved;

pub use arith::{arith, install_arith, GradArith};
pub use engine::{backward, grad};
pub use function::{apply_function, Function, FunctionCtx};
pub use meta::{
    check_inplace, collect_next_edges, collect_next_edges_opt, compute_requires_grad, gradient_edge, rebase_history,
    set_history, AutogradMeta,
};
pub use node::{BackwardCtx, BackwardFn, Edge, Grads, InputMeta, Node, PostHook, PreHook, TensorHook};
pub use reference_arith::ReferenceArith;
pub use saved::SavedVariable;
