//! State dicts: [`StateDict`] (an insertion-ordered name → tensor map, like
//! the `OrderedDict` torch returns) and `load_state_dict`'s algorithm with
//! torch's key bookkeeping and messages.

use super::module::Module;
use crate::{Error, IndexOp, Result, Tensor, TensorOps};
use std::collections::HashMap;

/// An insertion-ordered map from dotted names to tensors (`module.state_dict()`).
///
/// ```
/// use frankentorch::nn::StateDict;
/// use frankentorch::prelude::*;
/// let mut sd = StateDict::new();
/// sd.insert("weight", ops::ones(&[2]).unwrap());
/// sd.insert("bias", ops::zeros(&[2]).unwrap());
/// assert_eq!(sd.keys(), ["weight", "bias"]);
/// assert!(sd.remove("weight").is_some());
/// assert_eq!(sd.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
    index: HashMap<String, usize>,
}

impl StateDict {
    /// An empty state dict.
    pub fn new() -> StateDict {
        StateDict::default()
    }

    /// Sets `key` to `value`; a new key goes last, an existing one keeps its place.
    pub fn insert(&mut self, key: impl Into<String>, value: Tensor) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// The tensor under `key`.
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Tensor> {
        let i = self.index.remove(key)?;
        let (_, t) = self.entries.remove(i);
        for (_, slot) in self.index.iter_mut().filter(|(_, s)| **s > i) {
            *slot -= 1;
        }
        Some(t)
    }

    /// The keys in order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl std::fmt::Debug for StateDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, t)| (k, t.sizes())))
            .finish()
    }
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> StateDict {
        let mut sd = StateDict::new();
        for (k, t) in iter {
            sd.insert(k, t);
        }
        sd
    }
}

/// What `load_state_dict` reports (torch's `_IncompatibleKeys`).
///
/// ```
/// use frankentorch::nn::{Identity, Module, StateDict};
/// let keys = Identity::new().load_state_dict(&StateDict::new(), true).unwrap();
/// assert!(keys.missing_keys.is_empty() && keys.unexpected_keys.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncompatibleKeys {
    /// Keys the module has and the state dict lacks.
    pub missing_keys: Vec<String>,
    /// Keys the state dict has and the module lacks.
    pub unexpected_keys: Vec<String>,
}

/// `torch.Size([2, 3])`, as torch prints shapes in these messages.
fn torch_size(t: &Tensor) -> String {
    let dims: Vec<String> = t.sizes().iter().map(|d| d.to_string()).collect();
    format!("torch.Size([{}])", dims.join(", "))
}

fn quoted(keys: &[String]) -> String {
    keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
}

/// Loads `sd` into `root` (see [`Module::load_state_dict`]).
pub(crate) fn load(root: &dyn Module, sd: &StateDict, strict: bool) -> Result<IncompatibleKeys> {
    let mut keys = IncompatibleKeys::default();
    let mut errors: Vec<String> = vec![];
    let _guard = crate::tls::no_grad();
    super::module::walk(root, "", &mut |prefix, m| {
        let mut local: Vec<(String, &Tensor)> = vec![];
        m.visit_parameters(&mut |name, t| local.extend(t.map(|t| (name.to_string(), t))));
        m.visit_buffers(&mut |name, t, persistent| {
            if persistent {
                local.extend(t.map(|t| (name.to_string(), t)));
            }
        });
        for (name, param) in &local {
            let key = format!("{prefix}{name}");
            let Some(input) = sd.get(&key) else {
                keys.missing_keys.push(key);
                continue;
            };
            let mut input = input.clone();
            if param.dim() == 0 && input.dim() == 1 {
                // torch's backward compatibility for 0-dim parameters saved as 1-element vectors.
                match input.i(0) {
                    Ok(first) => input = first,
                    Err(e) => {
                        errors.push(e.to_string());
                        continue;
                    }
                }
            }
            if input.sizes() != param.sizes() {
                errors.push(format!(
                    "size mismatch for {key}: copying a param with shape {} from checkpoint, the shape in current model is {}.",
                    torch_size(&input),
                    torch_size(param)
                ));
                continue;
            }
            if let Err(e) = param.copy_(&input, false) {
                errors.push(format!(
                    "While copying the parameter named \"{key}\", whose dimensions in the model are {} and whose dimensions in the checkpoint are {}, an exception occurred : {e}.",
                    torch_size(param),
                    torch_size(&input)
                ));
            }
        }
        let mut children: Vec<String> = vec![];
        m.visit_children(&mut |name, _| children.push(name.to_string()));
        for (key, _) in sd.iter() {
            let Some(rest) = key.strip_prefix(prefix) else { continue };
            // A dotted rest must start with a child's name, a plain one must be a local tensor.
            let known = match rest.split_once('.') {
                Some((head, _)) => children.iter().any(|c| c == head),
                None => local.iter().any(|(n, _)| n == rest),
            };
            if !known {
                keys.unexpected_keys.push(key.to_string());
            }
        }
    });
    if strict {
        if !keys.unexpected_keys.is_empty() {
            errors.insert(
                0,
                format!("Unexpected key(s) in state_dict: {}. ", quoted(&keys.unexpected_keys)),
            );
        }
        if !keys.missing_keys.is_empty() {
            errors.insert(
                0,
                format!("Missing key(s) in state_dict: {}. ", quoted(&keys.missing_keys)),
            );
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(
            "nn.Module.load_state_dict",
            format!(
                "Error(s) in loading state_dict for {}:\n\t{}",
                root.type_name(),
                errors.join("\n\t")
            ),
        ));
    }
    Ok(keys)
}
