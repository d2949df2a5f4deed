//! Provenance ledgers: evidence of how every gradient of a backward pass was
//! formed, and replay against that evidence.
//!
//! While a [`LedgerRecorder`] is alive on a thread, every backward pass run
//! on that thread appends to its ledger:
//! - one [`NodeRecord`] per node execution, in execution order: its sequence
//!   number, name, forward op, recording site (when sites were recorded during
//!   the forward pass, see [`anomaly::record_sites`](super::anomaly::record_sites)),
//!   and a [`Digest`] of each incoming and outgoing gradient;
//! - per leaf, the ordered [`Contribution`]s delivered into its
//!   AccumulateGrad (which node sent each one, and its digest), and the digest
//!   of its `.grad` when the recorder finishes.
//!
//! [`replay`] runs a backward again under a fresh recorder and reports the
//! first place where the new ledger differs from a recorded one: because the
//! engine's order and arithmetic are deterministic, any difference means the
//! inputs of the computation changed (a saved tensor, a parameter, a hook).
//!
//! # JSON format (`frankentorch.provenance/2`)
//! ```text
//! { "format": "frankentorch.provenance/2",
//!   "passes": [ { "op": "autograd.backward", "depth": 0 } ],
//!   "nodes": [ { "index": 0, "pass": 0, "sequence_nr": 7, "name": "MulBackward0",
//!                "forward_op": "aten::mul.Tensor", "site": "app::step at src/main.rs:12:5",
//!                "inputs": [ {"dtype": "float32", "shape": [2], "xxh64": "…"} ],
//!                "outputs": [ null, {…} ] } ],
//!   "leaves": [ { "name": "fc.weight", "dtype": "float32", "shape": [3, 2],
//!                 "contributions": [ { "pass": 0, "from_node": 3, "digest": {…} } ],
//!                 "grad": {…} } ] }
//! ```
//! `null` is an undefined (all-zero) gradient. A [`Digest`] is the XXH64
//! hash (seed 0, [`crate::hash`]) of the tensor's elements' little-endian
//! bytes in row-major order, written as 16 hex digits, with the dtype and
//! shape beside it. (Format 1 used FNV-1a, which hashed a byte at a time and
//! made recording a ledger cost 3x a plain backward; ledgers of format 1 are
//! refused rather than compared with digests of another hash.)
//! `site` and `forward_op` are `null` when unknown; `from_node` is `null` for
//! a root gradient.
//!
//! ```
//! # use ft_runtime::{autograd::{self, provenance, *}, Result, Tensor};
//! # install_arith(&ReferenceArith);
//! # struct Double;
//! # impl Function for Double {
//! #     fn name(&self) -> String { "DoubleBackward".into() }
//! #     fn forward(&self, _: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
//! #         Tensor::from_vec(x[0].to_vec::<f64>()?.iter().map(|v| 2.0 * v).collect(), x[0].sizes()).map(|t| vec![t])
//! #     }
//! #     fn backward(&self, _: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
//! #         let g = g[0].as_ref().unwrap();
//! #         Tensor::from_vec(g.to_vec::<f64>()?.iter().map(|v| 2.0 * v).collect(), g.sizes()).map(|t| vec![Some(t)])
//! #     }
//! # }
//! let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2])?;
//! x.requires_grad_(true)?;
//! let y = apply_function(Double, &[x.clone()])?.remove(0);
//! let dy = Tensor::from_vec(vec![1.0f64, 1.0], &[2])?;
//! let backward = || autograd::backward(&[y.clone()], &[Some(dy.clone())], Some(true), false, None);
//!
//! let recorder = provenance::LedgerRecorder::start(&[("x", &x)]);
//! backward()?;
//! let ledger = recorder.finish();
//! assert_eq!(ledger.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["DoubleBackward", "AccumulateGrad"]);
//! assert_eq!(ledger.leaves[0].name, "x");
//!
//! x.set_grad(None)?;
//! assert!(provenance::replay(&ledger, &[("x", &x)], backward)?.is_match());
//! # Ok::<(), ft_runtime::Error>(())
//! ```

use super::node::{Grads, Node};
use crate::error::{Error, Result};
use crate::hash::Xxh64;
use crate::storage::StorageAccess;
use crate::tensor::{for_each_offset, Tensor};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

/// The format tag written into every ledger.
pub const LEDGER_FORMAT: &str = "frankentorch.provenance/2";

/// A tensor's identity for the ledger: dtype, shape and a hash of its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// PyTorch's dtype name (`float32`).
    pub dtype: String,
    /// Sizes.
    pub shape: Vec<usize>,
    /// XXH64 of the elements' bytes in row-major order, 16 hex digits.
    pub xxh64: String,
}

impl Digest {
    /// The digest of `t`'s current values.
    ///
    /// ```
    /// use ft_runtime::{autograd::provenance::Digest, Tensor};
    /// let a = Digest::of(&Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap());
    /// let b = Digest::of(&Tensor::from_vec(vec![1.0f32, 2.5], &[2]).unwrap());
    /// assert_eq!((a.shape.clone(), a.xxh64.len()), (vec![2], 16));
    /// assert_ne!(a, b);
    /// ```
    pub fn of(t: &Tensor) -> Digest {
        let itemsize = t.dtype().itemsize();
        let mut hasher = Xxh64::new();
        let access = StorageAccess::lock(&[t.storage()], &[]);
        let base = access.base_ptr(t.storage());
        if t.is_contiguous() {
            // SAFETY: a contiguous tensor's elements are the `numel` items
            // from its offset, inside its storage (checked when the tensor
            // was made); the storage is locked for reading.
            let bytes =
                unsafe { std::slice::from_raw_parts(base.add(t.storage_offset() * itemsize), t.numel() * itemsize) };
            hasher.update(bytes);
        } else {
            for_each_offset(t.sizes(), t.strides(), t.storage_offset(), |off| {
                // SAFETY: as above, element by element.
                hasher.update(unsafe { std::slice::from_raw_parts(base.add(off * itemsize), itemsize) });
            });
        }
        Digest {
            dtype: t.dtype().to_string(),
            shape: t.sizes().to_vec(),
            xxh64: format!("{:016x}", hasher.finish()),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}#{}", self.dtype, self.shape, self.xxh64)
    }
}

/// One backward pass (reentrant passes are recorded as passes of their own,
/// with a greater depth).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassRecord {
    /// `autograd.backward` or `autograd.grad`.
    pub op: String,
    /// 0 for a top-level pass, n for a pass started inside a node of depth n-1.
    pub depth: usize,
}

/// One node execution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Position in the ledger's execution order.
    pub index: usize,
    /// The pass it ran in.
    pub pass: usize,
    /// The node's sequence number (creation order; AccumulateGrad: `u64::MAX`).
    pub sequence_nr: u64,
    /// PyTorch's node name (`MulBackward0`).
    pub name: String,
    /// The forward operator (`aten::mul.Tensor`), when known.
    pub forward_op: Option<String>,
    /// Where the forward op was called, when sites were recorded.
    pub site: Option<String>,
    /// Digests of the gradients the node received (one per forward output).
    pub inputs: Vec<Option<Digest>>,
    /// Digests of the gradients it produced (one per forward input).
    pub outputs: Vec<Option<Digest>>,
}

/// One gradient delivered into a leaf's AccumulateGrad.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The pass it was delivered in.
    pub pass: usize,
    /// The node execution that produced it (`None`: a root gradient).
    pub from_node: Option<usize>,
    /// The delivered gradient.
    pub digest: Digest,
}

/// What formed one leaf's gradient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeafRecord {
    /// The name given to the recorder, or `leaf<k>` in order of first contribution.
    pub name: String,
    /// The leaf's dtype.
    pub dtype: String,
    /// The leaf's shape.
    pub shape: Vec<usize>,
    /// Gradients delivered to it, in delivery order.
    pub contributions: Vec<Contribution>,
    /// Its `.grad` when the recorder finished.
    pub grad: Option<Digest>,
}

/// A recorded provenance ledger (serialisable to the documented JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Always [`LEDGER_FORMAT`].
    pub format: String,
    /// Backward passes in the order they started.
    pub passes: Vec<PassRecord>,
    /// Node executions in order.
    pub nodes: Vec<NodeRecord>,
    /// Leaves in order of first contribution.
    pub leaves: Vec<LeafRecord>,
}

impl Ledger {
    /// The ledger as JSON (the format in the module docs).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a ledger always serialises")
    }

    /// Parses a ledger written by [`Ledger::to_json`].
    pub fn from_json(text: &str) -> Result<Ledger> {
        let ledger: Ledger = serde_json::from_str(text)
            .map_err(|e| Error::invalid("provenance.Ledger.from_json", format!("not a provenance ledger: {e}")))?;
        if ledger.format != LEDGER_FORMAT {
            return Err(Error::invalid(
                "provenance.Ledger.from_json",
                format!("unknown ledger format {:?} (expected {LEDGER_FORMAT:?})", ledger.format),
            ));
        }
        Ok(ledger)
    }
}

/// What is being recorded on this thread.
struct Builder {
    ledger: Ledger,
    /// Open passes (innermost last).
    open: Vec<usize>,
    /// Names given to leaves up front.
    names: Vec<(String, Tensor)>,
    /// Leaves seen so far, parallel to `ledger.leaves`.
    leaves: Vec<Tensor>,
}

thread_local! {
    static RECORDER: RefCell<Option<Builder>> = const { RefCell::new(None) };
}

fn with_builder<R>(f: impl FnOnce(&mut Builder) -> R) -> Option<R> {
    RECORDER.with(|r| r.borrow_mut().as_mut().map(f))
}

/// True while a [`LedgerRecorder`] is alive on this thread.
pub fn is_recording() -> bool {
    RECORDER.with(|r| r.borrow().is_some())
}

/// Records the backward passes run on this thread until [`finish`](Self::finish).
#[must_use = "recording stops when the recorder is dropped"]
pub struct LedgerRecorder {
    _not_send: PhantomData<*const ()>,
}

impl LedgerRecorder {
    /// Starts recording, naming the given leaves (others are called `leaf<k>`).
    /// Only one recorder can be active per thread; a second start replaces
    /// the first one's ledger.
    pub fn start(names: &[(&str, &Tensor)]) -> LedgerRecorder {
        let builder = Builder {
            ledger: Ledger {
                format: LEDGER_FORMAT.to_string(),
                passes: Vec::new(),
                nodes: Vec::new(),
                leaves: Vec::new(),
            },
            open: Vec::new(),
            names: names.iter().map(|(n, t)| (n.to_string(), (*t).clone())).collect(),
            leaves: Vec::new(),
        };
        RECORDER.with(|r| *r.borrow_mut() = Some(builder));
        LedgerRecorder { _not_send: PhantomData }
    }

    /// Stops recording and returns the ledger (with each leaf's current `.grad`).
    pub fn finish(self) -> Ledger {
        let builder = RECORDER.with(|r| r.borrow_mut().take());
        std::mem::forget(self);
        let Some(mut b) = builder else {
            return Ledger {
                format: LEDGER_FORMAT.to_string(),
                passes: Vec::new(),
                nodes: Vec::new(),
                leaves: Vec::new(),
            };
        };
        for (record, leaf) in b.ledger.leaves.iter_mut().zip(&b.leaves) {
            record.grad = leaf.grad().map(|g| Digest::of(&g));
        }
        b.ledger
    }
}

impl Drop for LedgerRecorder {
    fn drop(&mut self) {
        RECORDER.with(|r| r.borrow_mut().take());
    }
}

/// The engine's side: a pass starts (returns its index when recording).
pub(crate) fn begin_pass(op: &str) -> Option<usize> {
    with_builder(|b| {
        let index = b.ledger.passes.len();
        b.ledger.passes.push(PassRecord {
            op: op.to_string(),
            depth: b.open.len(),
        });
        b.open.push(index);
        index
    })
}

/// The engine's side: the pass opened by [`begin_pass`] ended.
pub(crate) fn end_pass(pass: Option<usize>) {
    if pass.is_some() {
        with_builder(|b| b.open.pop());
    }
}

fn digests(grads: &Grads) -> Vec<Option<Digest>> {
    grads.iter().map(|g| g.as_ref().map(Digest::of)).collect()
}

/// Digests of a node's incoming gradients, taken only while recording.
pub(crate) fn input_digests(grads: &Grads) -> Option<Vec<Option<Digest>>> {
    is_recording().then(|| digests(grads))
}

/// The engine's side: `node` ran in `pass` and produced `outputs`; returns
/// the execution's index.
pub(crate) fn node_ran(pass: usize, node: &Node, inputs: Vec<Option<Digest>>, outputs: &Grads) -> Option<usize> {
    let outputs = digests(outputs);
    with_builder(|b| {
        let index = b.ledger.nodes.len();
        b.ledger.nodes.push(NodeRecord {
            index,
            pass,
            sequence_nr: node.sequence_nr(),
            name: node.name(),
            forward_op: node.body().forward_op(),
            site: node.site().and_then(|s| s.location()).map(str::to_string),
            inputs,
            outputs,
        });
        index
    })
}

/// The engine's side: `grad` is delivered into the AccumulateGrad of `leaf`.
pub(crate) fn leaf_contribution(pass: usize, from_node: Option<usize>, leaf: &Tensor, grad: &Tensor) {
    let digest = Digest::of(grad);
    with_builder(|b| {
        let k = match b.leaves.iter().position(|l| l.is_same(leaf)) {
            Some(k) => k,
            None => {
                let name = b
                    .names
                    .iter()
                    .find(|(_, t)| t.is_same(leaf))
                    .map(|(n, _)| n.clone())
                    .unwrap_or_else(|| format!("leaf{}", b.leaves.len()));
                b.leaves.push(leaf.clone());
                b.ledger.leaves.push(LeafRecord {
                    name,
                    dtype: leaf.dtype().to_string(),
                    shape: leaf.sizes().to_vec(),
                    contributions: Vec::new(),
                    grad: None,
                });
                b.leaves.len() - 1
            }
        };
        b.ledger.leaves[k].contributions.push(Contribution {
            pass,
            from_node,
            digest,
        });
    });
}

/// Where a replayed backward first differed from its ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Index of the node execution (or of the leaf, for leaf differences).
    pub index: usize,
    /// The node's name (or `leaf <name>`).
    pub node: String,
    /// The node's forward op, when known.
    pub forward_op: Option<String>,
    /// The node's recording site, when known.
    pub site: Option<String>,
    /// What differs: `output 1`, `input 0`, `name`, `missing node`, `grad`, …
    pub what: String,
    /// The ledger's value.
    pub expected: String,
    /// The replay's value.
    pub actual: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} ({}) differs at {}: recorded {}, replayed {}",
            self.index, self.node, self.what, self.expected, self.actual
        )?;
        if let Some(op) = &self.forward_op {
            write!(f, "; forward op {op}")?;
        }
        if let Some(site) = &self.site {
            write!(f, ", recorded at {site}")?;
        }
        Ok(())
    }
}

/// The result of [`replay`].
#[derive(Clone, Debug, PartialEq)]
pub enum Replay {
    /// Every node execution and leaf gradient matched.
    Match {
        /// Node executions compared.
        nodes: usize,
    },
    /// The first difference found, in execution order.
    Diverged(Divergence),
}

impl Replay {
    /// True when the replay matched the ledger.
    pub fn is_match(&self) -> bool {
        matches!(self, Replay::Match { .. })
    }
}

/// Re-runs a backward (`run`) under a fresh recorder, with the same leaf
/// names, and compares it with `expected` in execution order.
pub fn replay(expected: &Ledger, names: &[(&str, &Tensor)], run: impl FnOnce() -> Result<()>) -> Result<Replay> {
    let recorder = LedgerRecorder::start(names);
    run()?;
    let actual = recorder.finish();
    Ok(compare(expected, &actual))
}

fn show(d: &Option<Digest>) -> String {
    d.as_ref().map_or_else(|| "undefined".to_string(), ToString::to_string)
}

fn node_divergence(n: &NodeRecord, what: String, expected: String, actual: String) -> Divergence {
    Divergence {
        index: n.index,
        node: n.name.clone(),
        forward_op: n.forward_op.clone(),
        site: n.site.clone(),
        what,
        expected,
        actual,
    }
}

fn compare_slots(n: &NodeRecord, kind: &str, want: &[Option<Digest>], got: &[Option<Digest>]) -> Option<Divergence> {
    if want.len() != got.len() {
        return Some(node_divergence(
            n,
            format!("number of {kind}s"),
            want.len().to_string(),
            got.len().to_string(),
        ));
    }
    let i = want.iter().zip(got).position(|(w, g)| w != g)?;
    Some(node_divergence(n, format!("{kind} {i}"), show(&want[i]), show(&got[i])))
}

/// The first difference between two ledgers, in execution order (a node's
/// identity, then its inputs, then its outputs; then the leaves).
pub fn compare(expected: &Ledger, actual: &Ledger) -> Replay {
    for (i, want) in expected.nodes.iter().enumerate() {
        let Some(got) = actual.nodes.get(i) else {
            return Replay::Diverged(node_divergence(
                want,
                "missing node".into(),
                want.name.clone(),
                "nothing ran".into(),
            ));
        };
        // Sequence numbers are not compared: they count every node the
        // thread ever created, so a rerun of the same program gets others.
        if (want.name.as_str(), want.pass) != (got.name.as_str(), got.pass) {
            return Replay::Diverged(node_divergence(
                want,
                "node".into(),
                format!("{} (pass {})", want.name, want.pass),
                format!("{} (pass {})", got.name, got.pass),
            ));
        }
        if let Some(d) = compare_slots(want, "input", &want.inputs, &got.inputs)
            .or_else(|| compare_slots(want, "output", &want.outputs, &got.outputs))
        {
            return Replay::Diverged(d);
        }
    }
    if let Some(extra) = actual.nodes.get(expected.nodes.len()) {
        return Replay::Diverged(node_divergence(
            extra,
            "extra node".into(),
            "nothing".into(),
            extra.name.clone(),
        ));
    }
    let leaf_divergence = |k: usize, name: &str, what: &str, expected: String, actual: String| {
        Replay::Diverged(Divergence {
            index: k,
            node: format!("leaf {name}"),
            forward_op: None,
            site: None,
            what: what.to_string(),
            expected,
            actual,
        })
    };
    if expected.leaves.len() != actual.leaves.len() {
        return leaf_divergence(
            expected.leaves.len().min(actual.leaves.len()),
            "",
            "number of leaves",
            expected.leaves.len().to_string(),
            actual.leaves.len().to_string(),
        );
    }
    for (k, (want, got)) in expected.leaves.iter().zip(&actual.leaves).enumerate() {
        if want.name != got.name {
            return leaf_divergence(k, &want.name, "name", want.name.clone(), got.name.clone());
        }
        if want.contributions != got.contributions {
            return leaf_divergence(
                k,
                &want.name,
                "contributions",
                format!(
                    "{:?}",
                    want.contributions
                        .iter()
                        .map(|c| c.digest.to_string())
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    got.contributions
                        .iter()
                        .map(|c| c.digest.to_string())
                        .collect::<Vec<_>>()
                ),
            );
        }
        if want.grad != got.grad {
            return leaf_divergence(k, &want.name, "grad", show(&want.grad), show(&got.grad));
        }
    }
    Replay::Match {
        nodes: expected.nodes.len(),
    }
}
