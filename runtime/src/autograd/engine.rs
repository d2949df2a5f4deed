//! The autograd engine: runs a recorded graph backwards (PyTorch's
//! `Engine::execute`, driven by `torch.autograd.backward` / `torch.autograd.grad`).
//!
//! One call builds a [`GraphTask`]:
//! 1. walk the graph from the roots' gradient edges and count, for every
//!    reachable node, the edges leading into it (its dependencies);
//! 2. when `inputs` are given, mark which nodes must run (a path leads from
//!    them to a requested input) and where gradients are captured;
//! 3. deliver the root gradients, then repeatedly pop the ready node with the
//!    highest sequence number and run it: tensor pre-hooks, retain_grad,
//!    node pre-hooks, `apply`, output validation, node post-hooks, and release
//!    of saved variables unless the graph is retained;
//! 4. send each produced gradient along its edge into the receiving node's
//!    input buffer (summed in arrival order); a node becomes ready when its
//!    dependency count reaches zero.
//!
//! Everything runs on the calling thread. A backward started from inside a
//! node (reentrant backward) builds its own task and runs it to completion
//! before the outer node continues, which is what PyTorch's CPU path does.
//! Nodes are identified by their `Arc` address and looked up in ordered maps;
//! nothing depends on hash iteration order, so a pass is deterministic.

use super::anomaly;
use super::arith::arith;
use super::meta::gradient_edge;
use super::node::{BackwardCtx, Edge, Grads, Node};
use super::provenance;
use crate::error::{Error, Result};
use crate::mode;
use crate::shape::fmt_sizes;
use crate::tensor::{Tensor, WeakTensor};
use crate::tls::GradModeGuard;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

/// Computes the gradients of `tensors` and accumulates them into the `.grad`
/// of the graph's leaves (PyTorch's `torch.autograd.backward`).
///
/// * `grad_tensors`: one gradient per tensor (`None` = implicit `ones_like`,
///   allowed only for one-element outputs); an empty slice means all `None`.
/// * `retain_graph`: keep saved tensors for another pass; defaults to
///   `create_graph`.
/// * `create_graph`: run the pass in grad mode so the gradients are
///   themselves differentiable.
/// * `inputs`: accumulate only into these tensors (leaves through their
///   AccumulateGrad, non-leaves as with `retain_grad`); nodes that do not lead
///   to them are not run.
///
/// ```
/// # use ft_runtime::{autograd::{self, *}, DType, Result, Tensor};
/// # install_arith(&ReferenceArith);
/// /// y = 3 * x, elementwise.
/// struct Triple;
/// impl Function for Triple {
///     fn name(&self) -> String { "TripleBackward".into() }
///     fn forward(&self, _ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
///         let v: Vec<f64> = x[0].to_vec::<f64>()?.iter().map(|a| 3.0 * a).collect();
///         Ok(vec![Tensor::from_vec(v, x[0].sizes())?])
///     }
///     fn backward(&self, _ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
///         let g = g[0].as_ref().unwrap();
///         let v: Vec<f64> = g.to_vec::<f64>()?.iter().map(|a| 3.0 * a).collect();
///         Ok(vec![Some(Tensor::from_vec(v, g.sizes())?)])
///     }
/// }
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2])?;
/// x.requires_grad_(true)?;
/// let y = apply_function(Triple, &[x.clone()])?.remove(0);
/// let dy = Tensor::from_vec(vec![1.0f64, 10.0], &[2])?;
/// autograd::backward(&[y.clone()], &[Some(dy)], None, false, None)?;
/// assert_eq!(x.grad().unwrap().to_vec::<f64>()?, vec![3.0, 30.0]);
/// // A non-scalar output needs an explicit gradient.
/// let e = autograd::backward(&[y], &[], Some(true), false, None).unwrap_err();
/// assert_eq!(e.message(), "grad can be implicitly created only for scalar outputs");
/// # Ok::<(), ft_runtime::Error>(())
/// ```
pub fn backward(
    tensors: &[Tensor],
    grad_tensors: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&[Tensor]>,
) -> Result<()> {
    const OP: &str = "autograd.backward";
    if inputs.is_some_and(|i| i.is_empty()) {
        return Err(Error::invalid(OP, "`inputs` argument to `backward()` cannot be empty."));
    }
    let grads = make_grads(OP, tensors, grad_tensors)?;
    let keep_graph = retain_graph.unwrap_or(create_graph);
    run_backward(OP, tensors, grads, keep_graph, create_graph, inputs, true)?;
    Ok(())
}

/// Computes and returns the gradients of `outputs` with respect to `inputs`
/// without touching any `.grad` (PyTorch's `torch.autograd.grad`).
///
/// The result has one entry per input, in order. An input the graph does not
/// reach is an error unless `allow_unused` (then its entry is `None`).
/// `grad_outputs` and `retain_graph` work as in [`backward`]; with
/// `create_graph` the returned gradients carry a graph (higher-order
/// derivatives).
///
/// ```
/// # use ft_runtime::{autograd::{self, *}, DType, Result, Tensor};
/// # install_arith(&ReferenceArith);
/// /// y = x * x for a one-element x.
/// struct Square;
/// impl Function for Square {
///     fn name(&self) -> String { "SquareBackward".into() }
///     fn forward(&self, ctx: &mut FunctionCtx, x: &[Tensor]) -> Result<Vec<Tensor>> {
///         ctx.save_for_backward(&[&x[0]]);
///         let v = x[0].to_vec::<f64>()?[0];
///         Ok(vec![Tensor::from_vec(vec![v * v], &[])?])
///     }
///     fn backward(&self, ctx: &FunctionCtx, g: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
///         let x = ctx.saved_tensors()?.remove(0).to_vec::<f64>()?[0];
///         let g = g[0].as_ref().unwrap().to_vec::<f64>()?[0];
///         Ok(vec![Some(Tensor::from_vec(vec![2.0 * x * g], &[])?)])
///     }
/// }
/// let x = Tensor::from_vec(vec![3.0f64], &[])?;
/// x.requires_grad_(true)?;
/// let z = Tensor::from_vec(vec![1.0f64], &[])?;
/// z.requires_grad_(true)?;
/// let y = apply_function(Square, &[x.clone()])?.remove(0);
/// let g = autograd::grad(&[y.clone()], &[x.clone(), z.clone()], &[], Some(true), false, true)?;
/// assert_eq!(g[0].as_ref().unwrap().to_vec::<f64>()?, vec![6.0]);
/// assert!(g[1].is_none() && x.grad().is_none());
/// let e = autograd::grad(&[y], &[z], &[], None, false, false).unwrap_err();
/// assert!(e.message().starts_with("One of the differentiated Tensors appears to not have been used"));
/// # Ok::<(), ft_runtime::Error>(())
/// ```
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    const OP: &str = "autograd.grad";
    let grads = make_grads(OP, outputs, grad_outputs)?;
    let keep_graph = retain_graph.unwrap_or(create_graph);
    let captured = run_backward(OP, outputs, grads, keep_graph, create_graph, Some(inputs), false)?;
    if !allow_unused && captured.iter().any(Option::is_none) {
        return Err(Error::autograd(
            OP,
            "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.",
        ));
    }
    Ok(captured)
}

/// PyTorch's `_make_grads`: checks given root gradients against their outputs
/// and creates the implicit `ones_like` gradient of one-element outputs.
fn make_grads(op: &str, outputs: &[Tensor], grads: &[Option<Tensor>]) -> Result<Grads> {
    if !grads.is_empty() && grads.len() != outputs.len() {
        return Err(Error::invalid(
            op,
            format!("got {} tensors and {} gradients", outputs.len(), grads.len()),
        ));
    }
    let mut out = Vec::with_capacity(outputs.len());
    for (i, t) in outputs.iter().enumerate() {
        match grads.get(i).cloned().flatten() {
            Some(g) => {
                if g.sizes() != t.sizes() {
                    return Err(Error::shape(
                        op,
                        format!(
                            "Mismatch in shape: grad_output[{i}] has a shape of torch.Size({}) and output[{i}] has a shape of torch.Size({}).",
                            fmt_sizes(g.sizes()),
                            fmt_sizes(t.sizes())
                        ),
                    ));
                }
                out.push(Some(g));
            }
            None if t.requires_grad() => {
                if t.numel() != 1 {
                    return Err(Error::autograd(
                        op,
                        "grad can be implicitly created only for scalar outputs",
                    ));
                }
                out.push(Some(arith()?.ones_like(t)?));
            }
            None => out.push(None),
        }
    }
    Ok(out)
}

/// PyTorch's `run_backward` + `Engine::execute`. `accumulate` is true for
/// `backward` (gradients go to `.grad`) and false for `grad` (gradients at
/// `inputs` are captured and returned).
fn run_backward(
    op: &'static str,
    roots: &[Tensor],
    mut root_grads: Grads,
    keep_graph: bool,
    create_graph: bool,
    inputs: Option<&[Tensor]>,
    accumulate: bool,
) -> Result<Vec<Option<Tensor>>> {
    let mut root_edges = Vec::with_capacity(roots.len());
    for (i, t) in roots.iter().enumerate() {
        let edge = gradient_edge(t);
        if !edge.is_valid() {
            return Err(Error::autograd(
                op,
                format!("element {i} of tensors does not require grad and does not have a grad_fn"),
            ));
        }
        root_edges.push(edge);
    }
    let mut input_edges = Vec::new();
    for t in inputs.unwrap_or(&[]) {
        if accumulate {
            // PyTorch makes a non-leaf input retain its grad; this also gives
            // its error for an input that does not require grad.
            t.retain_grad().map_err(|e| e.with_op(op))?;
        }
        if !t.requires_grad() {
            return Err(Error::autograd(
                op,
                "One of the differentiated Tensors does not require grad",
            ));
        }
        input_edges.push(gradient_edge(t));
    }
    if !accumulate && input_edges.is_empty() {
        return Err(Error::invalid(op, "grad requires non-empty inputs."));
    }
    validate_outputs(op, &root_edges, &mut root_grads, None)?;

    let _grad_mode = GradModeGuard::new(create_graph);
    let mut task = GraphTask::new(op, &root_edges, keep_graph, create_graph);
    if inputs.is_some() {
        task.init_to_execute(&root_edges, &input_edges, accumulate);
    }
    task.pass = provenance::begin_pass(op);
    let result = task.execute(&root_edges, root_grads);
    provenance::end_pass(task.pass);
    result?;
    Ok(task.captured)
}

/// PyTorch's `validate_outputs`: one gradient per edge; a gradient whose shape
/// is a broadcast of the receiving input's shape is summed down to it; a
/// gradient of another dtype is cast. Errors about a node's output start with
/// `Function <name> returned an ...` (`node` is None for root gradients).
fn validate_outputs(op: &str, edges: &[Edge], grads: &mut Grads, node: Option<&Node>) -> Result<()> {
    let format_error = |msg: String| match node {
        Some(node) => Error::autograd(op, format!("Function {} returned an {msg}", node.name())),
        None => Error::autograd(op, msg),
    };
    if grads.len() != edges.len() {
        return Err(format_error(format!(
            "invalid number of gradients - expected {}, but got {}",
            edges.len(),
            grads.len()
        )));
    }
    for (i, (edge, slot)) in edges.iter().zip(grads.iter_mut()).enumerate() {
        let (Some(node), Some(grad)) = (&edge.node, slot.as_ref()) else {
            continue;
        };
        let Some(meta) = node.input_meta(edge.input_nr) else {
            continue;
        };
        let mut g = grad.clone();
        if g.sizes() != meta.sizes.as_slice() {
            if !is_expandable_to(&meta.sizes, g.sizes()) {
                return Err(format_error(format!(
                    "invalid gradient at index {i} - got {} but expected shape compatible with {}",
                    fmt_sizes(g.sizes()),
                    fmt_sizes(&meta.sizes)
                )));
            }
            g = arith()?.sum_to(&g, &meta.sizes)?;
        }
        if g.dtype() != meta.dtype {
            g = arith()?.to_dtype(&g, meta.dtype)?;
        }
        if g.device() != meta.device {
            return Err(format_error(format!(
                "invalid gradient at index {i} - expected device {:?} but got {:?}",
                meta.device,
                g.device()
            )));
        }
        *slot = Some(g);
    }
    Ok(())
}

/// True if `shape` broadcasts to `desired` (ATen's `is_expandable_to`).
fn is_expandable_to(shape: &[usize], desired: &[usize]) -> bool {
    if shape.len() > desired.len() {
        return false;
    }
    shape
        .iter()
        .rev()
        .zip(desired.iter().rev())
        .all(|(&s, &d)| s == d || s == 1)
}

/// A ready node in the queue: higher sequence number first, then FIFO.
#[derive(PartialEq, Eq)]
struct ReadyTask {
    sequence_nr: u64,
    pushed: u64,
    index: usize,
}

impl Ord for ReadyTask {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sequence_nr
            .cmp(&other.sequence_nr)
            .then_with(|| other.pushed.cmp(&self.pushed))
    }
}

impl PartialOrd for ReadyTask {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Per-node state of one pass.
struct NodeState {
    node: Arc<Node>,
    /// Edges into this node whose gradient has not arrived yet.
    dependencies: usize,
    /// Gradients received so far, one slot per node input (PyTorch's InputBuffer).
    buffer: Option<Grads>,
    /// The node must run (it leads to a requested input, or is one for `backward`).
    needed: bool,
    /// `(input slot, result index)` pairs whose gradient `grad` returns.
    captures: Vec<(usize, usize)>,
}

/// One backward pass (PyTorch's `GraphTask`).
struct GraphTask {
    op: &'static str,
    states: Vec<NodeState>,
    /// Node address -> index into `states`.
    index: BTreeMap<usize, usize>,
    /// True when `inputs` were given: only nodes that should execute run.
    exec_mode: bool,
    keep_graph: bool,
    create_graph: bool,
    captured: Vec<Option<Tensor>>,
    ready: BinaryHeap<ReadyTask>,
    pushes: u64,
    /// This pass's index in the provenance ledger being recorded, if any.
    pass: Option<usize>,
}

fn key(node: &Arc<Node>) -> usize {
    Arc::as_ptr(node) as usize
}

impl GraphTask {
    /// Discovers the graph reachable from `root_edges` and counts dependencies
    /// (the roots count one edge each from a virtual root).
    fn new(op: &'static str, root_edges: &[Edge], keep_graph: bool, create_graph: bool) -> GraphTask {
        let mut task = GraphTask {
            op,
            states: Vec::new(),
            index: BTreeMap::new(),
            exec_mode: false,
            keep_graph,
            create_graph,
            captured: Vec::new(),
            ready: BinaryHeap::new(),
            pushes: 0,
            pass: None,
        };
        let mut stack = Vec::new();
        for edge in root_edges {
            task.count_edge(edge, &mut stack);
        }
        while let Some(i) = stack.pop() {
            let node = task.states[i].node.clone();
            for edge in node.next_edges() {
                task.count_edge(edge, &mut stack);
            }
        }
        task
    }

    /// Counts one more edge into `edge`'s node, registering the node (and
    /// queueing it for the walk) on first sight.
    fn count_edge(&mut self, edge: &Edge, stack: &mut Vec<usize>) {
        let Some(node) = &edge.node else { return };
        let i = match self.index.get(&key(node)) {
            Some(&i) => i,
            None => {
                let i = self.states.len();
                self.index.insert(key(node), i);
                self.states.push(NodeState {
                    node: node.clone(),
                    dependencies: 0,
                    buffer: None,
                    needed: false,
                    captures: Vec::new(),
                });
                stack.push(i);
                i
            }
        };
        self.states[i].dependencies += 1;
    }

    fn lookup(&self, edge: &Edge) -> Option<usize> {
        edge.node.as_ref().and_then(|n| self.index.get(&key(n)).copied())
    }

    fn should_execute(&self, i: usize) -> bool {
        let s = &self.states[i];
        s.needed || !s.captures.is_empty()
    }

    /// PyTorch's `init_to_execute`: marks the input nodes (needed for
    /// `backward`, captured for `grad`), then marks every node with a path to
    /// one of them as needed.
    fn init_to_execute(&mut self, root_edges: &[Edge], input_edges: &[Edge], accumulate: bool) {
        self.exec_mode = true;
        self.captured = vec![None; input_edges.len()];
        for (k, edge) in input_edges.iter().enumerate() {
            let Some(i) = self.lookup(edge) else { continue };
            if accumulate {
                self.states[i].needed = true;
            } else {
                self.states[i].captures.push((edge.input_nr, k));
            }
        }
        // Topological order (Kahn) from the virtual root; then children before parents.
        let mut remaining: Vec<usize> = self.states.iter().map(|s| s.dependencies).collect();
        let mut order = Vec::with_capacity(self.states.len());
        let mut stack = Vec::new();
        let release = |edges: &[Edge], remaining: &mut Vec<usize>, stack: &mut Vec<usize>| {
            for edge in edges {
                if let Some(i) = self.lookup(edge) {
                    remaining[i] -= 1;
                    if remaining[i] == 0 {
                        stack.push(i);
                    }
                }
            }
        };
        release(root_edges, &mut remaining, &mut stack);
        while let Some(i) = stack.pop() {
            order.push(i);
            let node = self.states[i].node.clone();
            release(node.next_edges(), &mut remaining, &mut stack);
        }
        for &i in order.iter().rev() {
            if self.states[i].needed {
                continue;
            }
            let node = self.states[i].node.clone();
            let needed = node
                .next_edges()
                .iter()
                .any(|e| self.lookup(e).is_some_and(|c| self.should_execute(c)));
            self.states[i].needed = needed;
        }
    }

    /// Delivers the root gradients and runs ready nodes until none is left.
    fn execute(&mut self, root_edges: &[Edge], root_grads: Grads) -> Result<()> {
        // With one root PyTorch queues the root node itself, whether or not it
        // leads to a requested input; with several, a GraphRoot node forwards
        // the gradients only to roots that should execute.
        let filter = root_edges.len() != 1;
        for (edge, g) in root_edges.iter().zip(root_grads) {
            self.deliver(edge, g, filter, None)?;
        }
        while let Some(task) = self.ready.pop() {
            self.evaluate(task.index)?;
        }
        Ok(())
    }

    /// Adds `grad` to the input buffer of `edge`'s node; queues the node when
    /// its last dependency arrives. With `filter`, nodes that should not
    /// execute (when inputs were given) receive nothing. `from` is the
    /// ledger index of the sending node's execution, when recording.
    fn deliver(&mut self, edge: &Edge, grad: Option<Tensor>, filter: bool, from: Option<usize>) -> Result<()> {
        let Some(i) = self.lookup(edge) else { return Ok(()) };
        self.states[i].dependencies -= 1;
        if filter && self.exec_mode && !self.should_execute(i) {
            return Ok(());
        }
        if let (Some(pass), Some(g)) = (self.pass, grad.as_ref()) {
            if let Some(leaf) = self.states[i].node.body().accumulate_target() {
                provenance::leaf_contribution(pass, from, &leaf, g);
            }
        }
        let state = &mut self.states[i];
        let nr = edge.input_nr;
        let buffer = state
            .buffer
            .get_or_insert_with(|| vec![None; state.node.num_inputs().max(nr + 1)]);
        if buffer.len() <= nr {
            buffer.resize(nr + 1, None);
        }
        if let Some(g) = grad {
            buffer[nr] = Some(match buffer[nr].take() {
                None => g,
                Some(old) => arith()?.add(&old, &g)?,
            });
        }
        if state.dependencies == 0 {
            self.pushes += 1;
            self.ready.push(ReadyTask {
                sequence_nr: state.node.sequence_nr(),
                pushed: self.pushes,
                index: i,
            });
        }
        Ok(())
    }

    /// PyTorch's `evaluate_function`.
    fn evaluate(&mut self, i: usize) -> Result<()> {
        let node = self.states[i].node.clone();
        let mut inputs = self.states[i].buffer.take().unwrap_or_default();
        let n = node.num_inputs();
        if inputs.len() < n {
            inputs.resize(n, None);
        }
        if self.exec_mode {
            let needed = self.states[i].needed;
            if !needed {
                // Tensor pre-hooks always run, also on a node that is only captured.
                inputs = call_tensor_pre_hooks(&node, inputs, true)?;
            }
            for &(nr, k) in &self.states[i].captures {
                self.captured[k] = inputs.get(nr).cloned().flatten();
            }
            if !needed {
                return Ok(());
            }
        }
        let input_digests = self.pass.and_then(|_| provenance::input_digests(&inputs));
        let outputs = self.call_function(&node, inputs)?;
        if !self.keep_graph {
            node.release_variables();
        }
        let execution = match (self.pass, input_digests) {
            (Some(pass), Some(digests)) => provenance::node_ran(pass, &node, digests, &outputs),
            _ => None,
        };
        for (edge, g) in node.next_edges().iter().zip(outputs) {
            if edge.is_valid() {
                self.deliver(edge, g, true, execution)?;
            }
        }
        Ok(())
    }

    /// True if the gradient along `edge` is consumed in this pass.
    fn edge_needed(&self, edge: &Edge) -> bool {
        match self.lookup(edge) {
            Some(c) => !self.exec_mode || self.should_execute(c),
            None => false,
        }
    }

    /// PyTorch's `call_function`: hooks around `apply`, with validation.
    fn call_function(&self, node: &Arc<Node>, inputs: Grads) -> Result<Grads> {
        let mut inputs = call_tensor_pre_hooks(node, inputs, false)?;
        let pre_hooks: Vec<_> = node.hooks().pre.iter().map(|h| h.1.clone()).collect();
        for hook in pre_hooks {
            if let Some(new) = hook(&inputs)? {
                check_hook_result(self.op, inputs.len(), new.len())?;
                inputs = new;
            }
        }
        let needs: Vec<bool> = node.next_edges().iter().map(|e| self.edge_needed(e)).collect();
        let ctx = BackwardCtx {
            node,
            needs_input_grad: &needs,
            create_graph: self.create_graph,
        };
        let mut outputs = node.apply(&ctx, &inputs)?;
        validate_outputs(self.op, node.next_edges(), &mut outputs, Some(node))?;
        check_finite(self.op, node, &outputs)?;
        let post_hooks: Vec<_> = node.hooks().post.iter().map(|h| h.1.clone()).collect();
        for hook in post_hooks {
            if let Some(new) = hook(&outputs, &inputs)? {
                check_hook_result(self.op, outputs.len(), new.len())?;
                outputs = new;
            }
        }
        Ok(outputs)
    }
}

/// Anomaly mode's NaN check (PyTorch's message), and hardened mode's check
/// for any non-finite value, on the gradients a node returned; the error
/// names the node, its forward op and where that op was called.
fn check_finite(op: &str, node: &Node, outputs: &Grads) -> Result<()> {
    let hardened = mode::is_hardened();
    if !hardened && !anomaly::is_anomaly_check_nan_enabled() {
        return Ok(());
    }
    for (i, g) in outputs.iter().enumerate() {
        let Some(v) = g.as_ref().and_then(|g| anomaly::first_non_finite(g, !hardened)) else {
            continue;
        };
        let kind = if v.is_nan() { "nan" } else { "inf" };
        let mut msg = format!("Function '{}' returned {kind} values in its {i}th output.", node.name());
        if let Some(fwd) = node.body().forward_op() {
            msg.push_str(&format!(" Forward op: {fwd}."));
        }
        match node.site().and_then(|s| s.location()) {
            Some(site) => msg.push_str(&format!(" Recorded at: {site}.")),
            None => msg.push_str(
                " Recording site unknown (record sites with anomaly mode or hardened mode during the forward pass).",
            ),
        }
        if hardened {
            msg.push_str(" (hardened mode refuses non-finite gradients)");
        }
        return Err(Error::autograd(op, msg));
    }
    Ok(())
}

/// The error PyTorch raises when a hook returns the wrong number of gradients.
fn check_hook_result(op: &str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(Error::autograd(
            op,
            format!("hook has returned an incorrect number of values (got {got}, but expected {expected})"),
        ));
    }
    Ok(())
}

/// PyTorch's `call_tensor_pre_hooks`: the `register_hook` hooks of each
/// forward output in registration order (each sees the previous one's
/// result), then the retain_grad hooks, which store the final gradient in
/// `.grad`. With `leaf_hooks`, an AccumulateGrad node also runs its leaf's
/// hooks here (used when the node is only captured and does not run; when it
/// runs, AccumulateGrad calls them itself).
fn call_tensor_pre_hooks(node: &Arc<Node>, mut inputs: Grads, leaf_hooks: bool) -> Result<Grads> {
    let (tensor_hooks, retains): (Vec<_>, Vec<_>) = {
        let hooks = node.hooks();
        (hooks.tensor_pre.clone(), hooks.retains_grad.clone())
    };
    for (_, nr, hook) in tensor_hooks {
        if let Some(Some(g)) = inputs.get(nr) {
            if let Some(new) = hook(g)? {
                inputs[nr] = Some(new);
            }
        }
    }
    if leaf_hooks {
        if let Some(leaf) = node.body().accumulate_target() {
            for hook in leaf.leaf_hooks() {
                if let Some(Some(g)) = inputs.first() {
                    if let Some(new) = hook(g)? {
                        inputs[0] = Some(new);
                    }
                }
            }
        }
    }
    for (nr, weak) in retains {
        if let Some(Some(g)) = inputs.get(nr) {
            retain_grad_into(&weak, g)?;
        }
    }
    Ok(inputs)
}

/// The retain_grad hook: the first gradient is copied into `.grad` (recorded
/// when the graph is being created), later ones are added out of place.
fn retain_grad_into(weak: &WeakTensor, g: &Tensor) -> Result<()> {
    let Some(t) = weak.upgrade() else { return Ok(()) };
    let new = match t.grad() {
        None => arith()?.clone_like(g, &t)?,
        Some(old) => arith()?.add(&old, g)?,
    };
    t.set_grad(Some(new))
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
