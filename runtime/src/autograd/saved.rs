//! `SavedVariable`: a tensor a backward node keeps from the forward pass,
//! checked against in-place modification when unpacked.

use super::meta;
use super::node::Node;
use crate::error::{Error, Result};
use crate::shape::fmt_sizes;
use crate::tensor::Tensor;
use std::sync::{Arc, Mutex, Weak};

enum Saved {
    /// A forward input: the tensor handle itself (no cycle: its grad_fn is an
    /// earlier node).
    Input(Tensor),
    /// A forward output of the saving node: a detached alias plus a weak
    /// reference to the node, so the node does not keep itself alive.
    Output {
        data: Tensor,
        node: Weak<Node>,
        output_nr: usize,
    },
}

struct Inner {
    saved: Option<Saved>,
    saved_version: u64,
    was_output_of: Option<(String, usize)>,
}

/// A tensor saved for backward.
///
/// ```
/// use ft_runtime::{Tensor, autograd::SavedVariable};
/// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let s = SavedVariable::new(&x, false);
/// assert!(s.unpack(None).unwrap().is_same(&x));
/// x.version_counter().bump(); // an in-place write
/// assert!(s.unpack(None).is_err());
/// ```
pub struct SavedVariable {
    inner: Mutex<Inner>,
}

impl SavedVariable {
    /// Saves `t`; `is_output` is true when `t` is an output of the node that
    /// saves it (PyTorch's `result`).
    pub fn new(t: &Tensor, is_output: bool) -> SavedVariable {
        let saved_version = t.version();
        let was_output_of = is_output
            .then(|| t.grad_fn().map(|n| (n.name(), t.output_nr())))
            .flatten();
        let saved = if is_output {
            let node = t.grad_fn().map(|n| Arc::downgrade(&n)).unwrap_or_default();
            Saved::Output {
                data: t.detach(),
                node,
                output_nr: t.output_nr(),
            }
        } else {
            Saved::Input(t.clone())
        };
        SavedVariable {
            inner: Mutex::new(Inner {
                saved: Some(saved),
                saved_version,
                was_output_of,
            }),
        }
    }

    /// Returns the saved tensor, or PyTorch's error if it was freed by a
    /// previous backward or modified in place since it was saved. `node` is the
    /// node unpacking it (used to restore a saved output's grad_fn).
    pub fn unpack(&self, node: Option<&Arc<Node>>) -> Result<Tensor> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(saved) = &inner.saved else {
            return Err(Error::autograd(
                "autograd",
                "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.",
            ));
        };
        let data = match saved {
            Saved::Input(t) => t,
            Saved::Output { data, .. } => data,
        };
        let current = data.version();
        if current != inner.saved_version {
            // PyTorch names the node that produced a saved output, and the
            // current grad_fn of a saved input (the in-place op's node).
            let producer = match saved {
                Saved::Output { .. } => inner.was_output_of.clone(),
                Saved::Input(t) => t.grad_fn().map(|n| (n.name(), t.output_nr())),
            };
            let what = match producer {
                Some((name, nr)) => format!(", which is output {nr} of {},", short_node_name(&name)),
                None => String::new(),
            };
            return Err(Error::autograd(
                "autograd",
                format!(
                    "one of the variables needed for gradient computation has been modified by an inplace operation: [{} {}]{what} is at version {current}; expected version {} instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).",
                    data.dtype().tensor_type_name(),
                    fmt_sizes(data.sizes()),
                    inner.saved_version
                ),
            ));
        }
        Ok(match saved {
            Saved::Input(t) => t.clone(),
            Saved::Output {
                data,
                node: weak,
                output_nr,
            } => {
                let out = data.detach();
                let grad_fn = weak.upgrade().or_else(|| node.cloned());
                if let Some(n) = grad_fn {
                    meta::attach_existing_history(&out, &n, *output_nr);
                }
                out
            }
        })
    }

    /// Frees the saved tensor; later unpacks fail with PyTorch's message.
    pub fn release(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).saved = None;
    }
}

impl SavedVariable {
    /// Saves output `output_nr` of the node named `node_name` before the node
    /// exists: the data is kept as a detached alias (sharing the version
    /// counter) and the grad_fn is restored from the unpacking node.
    pub fn for_output(t: &Tensor, output_nr: usize, node_name: &str) -> SavedVariable {
        let saved = Saved::Output {
            data: t.detach(),
            node: Weak::new(),
            output_nr,
        };
        SavedVariable {
            inner: Mutex::new(Inner {
                saved: Some(saved),
                saved_version: t.version(),
                was_output_of: Some((node_name.to_string(), output_nr)),
            }),
        }
    }
}

/// A node's name as PyTorch's version-mismatch message spells it: without
/// the `Backward<N>` suffix (`ExpBackward0` -> `Exp`).
fn short_node_name(name: &str) -> &str {
    let without_digits = name.trim_end_matches(|c: char| c.is_ascii_digit());
    without_digits
        .strip_suffix("Backward")
        .filter(|base| !base.is_empty())
        .unwrap_or(name)
}
