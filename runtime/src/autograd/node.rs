//! Graph nodes: one `Node` per recorded backward function, with edges to the
//! nodes that produced its forward inputs.

use super::anomaly::{sites_recorded, RecordSite};
use crate::device::Device;
use crate::dtype::DType;
use crate::error::Result;
use crate::shape::DimVec;
use crate::tensor::{Tensor, WeakTensor};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Gradients flowing along edges; `None` is an undefined (all-zero) gradient.
pub type Grads = Vec<Option<Tensor>>;

/// Where a gradient goes: input `input_nr` of `node`. An edge with no node
/// means "no gradient needed" (the forward input did not require grad).
#[derive(Clone)]
pub struct Edge {
    /// The receiving node, if any.
    pub node: Option<Arc<Node>>,
    /// Which of the receiving node's inputs (= its forward outputs) this feeds.
    pub input_nr: usize,
}

impl Edge {
    /// An edge to nowhere.
    pub fn none() -> Edge {
        Edge {
            node: None,
            input_nr: 0,
        }
    }
    /// True if a gradient along this edge is consumed.
    pub fn is_valid(&self) -> bool {
        self.node.is_some()
    }
}

/// Shape, dtype and device of one forward output of a node: the engine checks
/// every gradient against it, summing a broadcast gradient down to this shape
/// and casting it to this dtype (PyTorch's `validate_outputs`).
#[derive(Clone, Debug, PartialEq)]
pub struct InputMeta {
    /// Sizes of the forward output.
    pub sizes: DimVec,
    /// Dtype of the forward output.
    pub dtype: DType,
    /// Device of the forward output.
    pub device: Device,
}

impl InputMeta {
    /// The metadata of `t`.
    pub fn of(t: &Tensor) -> InputMeta {
        InputMeta {
            sizes: t.sizes().into(),
            dtype: t.dtype(),
            device: t.device(),
        }
    }
}

/// What a backward function sees while it runs.
pub struct BackwardCtx<'a> {
    /// The node being run (needed to unpack saved outputs with their grad_fn).
    pub node: &'a Arc<Node>,
    /// For each next edge: whether its gradient must be computed.
    pub needs_input_grad: &'a [bool],
    /// True when backward records a graph (higher-order gradients).
    pub create_graph: bool,
}

impl BackwardCtx<'_> {
    /// Whether the gradient for forward input `i` is needed.
    pub fn needs(&self, i: usize) -> bool {
        self.needs_input_grad.get(i).copied().unwrap_or(false)
    }
}

/// The computation of a node: generated `<Op>Backward<N>` structs, AccumulateGrad,
/// and custom functions implement this.
pub trait BackwardFn: Send + Sync {
    /// PyTorch's node name, e.g. `AddBackward0`.
    fn name(&self) -> String;
    /// The forward operator that recorded the node (`aten::add.Tensor`), when known.
    fn forward_op(&self) -> Option<String> {
        None
    }
    /// Computes one gradient per next edge from one gradient per forward output.
    fn apply(&self, ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads>;
    /// Frees saved tensors (called after backward unless the graph is retained).
    fn release_variables(&self) {}
    /// True only for AccumulateGrad.
    fn is_accumulate_grad(&self) -> bool {
        false
    }
    /// For AccumulateGrad: the leaf it accumulates into, if still alive.
    fn accumulate_target(&self) -> Option<Tensor> {
        None
    }
}

/// Hook on one forward output's gradient (`Tensor.register_hook`): may replace it.
pub type TensorHook = Arc<dyn Fn(&Tensor) -> Result<Option<Tensor>> + Send + Sync>;
/// Node pre-hook: sees the incoming gradients and may replace them.
pub type PreHook = Arc<dyn Fn(&[Option<Tensor>]) -> Result<Option<Grads>> + Send + Sync>;
/// Node post-hook: sees (grad_inputs, grad_outputs) and may replace grad_inputs.
pub type PostHook = Arc<dyn Fn(&[Option<Tensor>], &[Option<Tensor>]) -> Result<Option<Grads>> + Send + Sync>;

/// Hooks attached to a node, each list in registration order, each entry with
/// an id used by [`Node::remove_hook`].
#[derive(Default, Clone)]
pub struct NodeHooks {
    /// `(id, output_nr, hook)` from `Tensor.register_hook` on a non-leaf.
    pub tensor_pre: Vec<(u64, usize, TensorHook)>,
    /// `(output_nr, tensor)` for non-leaf tensors that called `retain_grad`.
    pub retains_grad: Vec<(usize, WeakTensor)>,
    /// Node pre-hooks.
    pub pre: Vec<(u64, PreHook)>,
    /// Node post-hooks.
    pub post: Vec<(u64, PostHook)>,
}

static NEXT_HOOK_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh hook id.
pub fn next_hook_id() -> u64 {
    NEXT_HOOK_ID.fetch_add(1, Ordering::Relaxed)
}

thread_local! {
    static SEQUENCE_NR: Cell<u64> = const { Cell::new(0) };
}

/// A node in the autograd graph.
pub struct Node {
    sequence_nr: u64,
    next_edges: Vec<Edge>,
    input_meta: Mutex<Vec<InputMeta>>,
    hooks: Mutex<NodeHooks>,
    body: Box<dyn BackwardFn>,
    /// Where the forward op was called (anomaly mode, hardened mode or a
    /// provenance site scope only).
    site: Option<RecordSite>,
}

impl Node {
    /// A node with the next thread-local sequence number (later nodes run first).
    pub fn new(body: impl BackwardFn + 'static, next_edges: Vec<Edge>) -> Arc<Node> {
        let sequence_nr = SEQUENCE_NR.with(|c| {
            let v = c.get();
            c.set(v + 1);
            v
        });
        Node::with_sequence_nr(Box::new(body), next_edges, sequence_nr)
    }

    /// A node with an explicit sequence number (AccumulateGrad uses `u64::MAX`).
    pub fn with_sequence_nr(body: Box<dyn BackwardFn>, next_edges: Vec<Edge>, sequence_nr: u64) -> Arc<Node> {
        Arc::new(Node {
            sequence_nr,
            next_edges,
            input_meta: Mutex::new(Vec::new()),
            hooks: Mutex::new(NodeHooks::default()),
            body,
            site: sites_recorded().then(RecordSite::capture),
        })
    }

    /// PyTorch's node name (`MulBackward0`).
    pub fn name(&self) -> String {
        self.body.name()
    }
    /// Creation order; the ready queue runs higher numbers first.
    pub fn sequence_nr(&self) -> u64 {
        self.sequence_nr
    }
    /// Edges to the nodes of the forward inputs.
    pub fn next_edges(&self) -> &[Edge] {
        &self.next_edges
    }
    /// Number of forward outputs registered so far (= inputs of this node).
    pub fn num_inputs(&self) -> usize {
        self.input_meta.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
    /// Metadata of forward output `i`.
    pub fn input_meta(&self, i: usize) -> Option<InputMeta> {
        self.input_meta
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(i)
            .cloned()
    }
    /// Registers a forward output and returns its `output_nr`.
    pub fn add_input_meta(&self, meta: InputMeta) -> usize {
        let mut m = self.input_meta.lock().unwrap_or_else(|e| e.into_inner());
        m.push(meta);
        m.len() - 1
    }
    /// Where the forward op was called, when sites were being recorded.
    pub fn site(&self) -> Option<&RecordSite> {
        self.site.as_ref()
    }
    /// The backward function.
    pub fn body(&self) -> &dyn BackwardFn {
        &*self.body
    }
    /// Locks and returns the hook lists.
    pub fn hooks(&self) -> MutexGuard<'_, NodeHooks> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// Registers a node pre-hook; returns its id.
    pub fn register_prehook(&self, hook: PreHook) -> u64 {
        let id = next_hook_id();
        self.hooks().pre.push((id, hook));
        id
    }
    /// Registers a node post-hook; returns its id.
    pub fn register_hook(&self, hook: PostHook) -> u64 {
        let id = next_hook_id();
        self.hooks().post.push((id, hook));
        id
    }
    /// Removes a hook of any kind by id; returns whether one was removed.
    pub fn remove_hook(&self, id: u64) -> bool {
        let mut h = self.hooks();
        let before = h.pre.len() + h.post.len() + h.tensor_pre.len();
        h.pre.retain(|e| e.0 != id);
        h.post.retain(|e| e.0 != id);
        h.tensor_pre.retain(|e| e.0 != id);
        before != h.pre.len() + h.post.len() + h.tensor_pre.len()
    }
    /// Runs the backward function.
    pub fn apply(&self, ctx: &BackwardCtx<'_>, grads: &[Option<Tensor>]) -> Result<Grads> {
        self.body.apply(ctx, grads)
    }
    /// Frees saved tensors.
    pub fn release_variables(&self) {
        self.body.release_variables()
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} object>", self.name())
    }
}

/// Dropping a long graph must not recurse once per node (a 100k-op chain
/// would overflow the stack). Saved tensors are released first (so they stop
/// keeping earlier nodes alive), then edges are unlinked through an explicit
/// stack: a node is taken apart here only when this drop holds its last
/// reference, so every nested drop sees a node without edges or saved tensors.
impl Drop for Node {
    fn drop(&mut self) {
        // Only nodes this drop owns alone are queued, so the common case
        // (edges to nodes still referenced elsewhere) allocates nothing.
        fn queue_owned(edges: Vec<Edge>, stack: &mut Vec<Arc<Node>>) {
            stack.extend(
                edges
                    .into_iter()
                    .filter_map(|e| e.node)
                    .filter(|n| Arc::strong_count(n) == 1),
            );
        }
        self.body.release_variables();
        let mut stack = Vec::new();
        queue_owned(std::mem::take(&mut self.next_edges), &mut stack);
        while let Some(node) = stack.pop() {
            if let Ok(mut last) = Arc::try_unwrap(node) {
                last.body.release_variables();
                queue_owned(std::mem::take(&mut last.next_edges), &mut stack);
            }
        }
    }
}
