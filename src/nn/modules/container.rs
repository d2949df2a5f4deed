//! `nn.Sequential`, `nn.ModuleList`, `nn.ModuleDict`.

use crate::nn::{Forward, Layer, Module};
use crate::{Error, Result, Tensor};

/// Implements [`Module`] for a container whose children are `self.$items`
/// as `(name, module)` pairs.
macro_rules! container_module {
    ($ty:ty, $name:literal, [$($g:tt)*], |$s:ident| $iter:expr, |$sm:ident| $iter_mut:expr) => {
        impl<$($g)*> Module for $ty {
            fn type_name(&self) -> &str {
                $name
            }
            fn training(&self) -> bool {
                self.training
            }
            fn set_training(&mut self, mode: bool) {
                self.training = mode;
            }
            fn visit_parameters<'a>(&'a self, _: &mut dyn FnMut(&str, Option<&'a Tensor>)) {}
            fn visit_buffers<'a>(&'a self, _: &mut dyn FnMut(&str, Option<&'a Tensor>, bool)) {}
            fn visit_children<'a>(&'a self, f: &mut dyn FnMut(&str, &'a dyn Module)) {
                let $s = self;
                for (name, m) in $iter {
                    f(&name, m);
                }
            }
            fn visit_tensors_mut(&mut self, _: &mut dyn FnMut(&str, &mut Tensor)) {}
            fn visit_children_mut(&mut self, f: &mut dyn FnMut(&str, &mut dyn Module)) {
                let $sm = self;
                for (name, m) in $iter_mut {
                    f(&name, m);
                }
            }
        }
    };
}

/// `nn.Sequential(*layers)`: applies its layers in order; children are
/// named `"0"`, `"1"`, ….
///
/// ```
/// use frankentorch::nn::{Forward, Linear, Module, ReLU, Sequential};
/// use frankentorch::prelude::*;
/// let net = Sequential::new()
///     .append(Linear::new(4, 3, Default::default()).unwrap())
///     .append(ReLU::new())
///     .append(Linear::new(3, 1, Default::default()).unwrap());
/// assert_eq!(net.state_dict().keys(), ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(net.forward(&ops::ones(&[2, 4]).unwrap()).unwrap().sizes(), &[2, 1]);
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
    training: bool,
}

impl Sequential {
    /// An empty sequence (the identity).
    pub fn new() -> Sequential {
        Sequential {
            layers: vec![],
            training: true,
        }
    }

    /// Appends `layer` and returns the sequence (`append`, builder style).
    pub fn append(mut self, layer: impl Layer + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed `layer` in place.
    pub fn push(&mut self, layer: Box<dyn Layer>) {
        self.layers.push(layer);
    }

    /// The layer at `index` (negative counts from the end), like `seq[i]`.
    pub fn get(&self, index: i64) -> Result<&dyn Layer> {
        let i = list_index("nn.Sequential", index, self.layers.len())?;
        Ok(self.layers[i].as_ref())
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl From<Vec<Box<dyn Layer>>> for Sequential {
    fn from(layers: Vec<Box<dyn Layer>>) -> Sequential {
        Sequential { layers, training: true }
    }
}

container_module!(
    Sequential,
    "Sequential",
    [],
    |s| s
        .layers
        .iter()
        .enumerate()
        .map(|(i, m)| (i.to_string(), m as &dyn Module)),
    |s| s
        .layers
        .iter_mut()
        .enumerate()
        .map(|(i, m)| (i.to_string(), m as &mut dyn Module))
);

impl Forward for Sequential {
    fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let mut x = input.clone();
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        Ok(x)
    }
}

/// A Python-style index into a list of `len` items.
fn list_index(what: &str, index: i64, len: usize) -> Result<usize> {
    let n = len as i64;
    let i = if index < 0 { index + n } else { index };
    if i < 0 || i >= n {
        return Err(Error::index(what, format!("index {index} is out of range")));
    }
    Ok(i as usize)
}

/// `nn.ModuleList(modules)`: holds modules (all of type `M`, by default any
/// boxed module) named `"0"`, `"1"`, …; it has no forward.
///
/// ```
/// use frankentorch::nn::{Forward, Linear, Module, ModuleList};
/// let mut list = ModuleList::<Linear>::new();
/// list.push(Linear::new(2, 2, Default::default()).unwrap());
/// list.push(Linear::new(2, 1, Default::default()).unwrap());
/// assert_eq!(list.named_parameters()[2].0, "1.weight");
/// assert_eq!(list[1].out_features, 1);
/// ```
pub struct ModuleList<M: Module = Box<dyn Module>> {
    items: Vec<M>,
    training: bool,
}

impl<M: Module> ModuleList<M> {
    /// An empty list.
    pub fn new() -> ModuleList<M> {
        ModuleList {
            items: vec![],
            training: true,
        }
    }

    /// Appends a module (`append`).
    pub fn push(&mut self, module: M) {
        self.items.push(module);
    }

    /// The module at `index` (negative counts from the end), like `list[i]`.
    pub fn get(&self, index: i64) -> Result<&M> {
        let i = list_index("nn.ModuleList", index, self.items.len())?;
        Ok(&self.items[i])
    }

    /// The modules in order.
    pub fn iter(&self) -> std::slice::Iter<'_, M> {
        self.items.iter()
    }

    /// The number of modules.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no modules.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<M: Module> Default for ModuleList<M> {
    fn default() -> Self {
        ModuleList::new()
    }
}

impl<M: Module> From<Vec<M>> for ModuleList<M> {
    fn from(items: Vec<M>) -> ModuleList<M> {
        ModuleList { items, training: true }
    }
}

impl<M: Module> std::ops::Index<usize> for ModuleList<M> {
    type Output = M;
    fn index(&self, i: usize) -> &M {
        &self.items[i]
    }
}

container_module!(
    ModuleList<M>,
    "ModuleList",
    [M: Module],
    |s| s.items.iter().enumerate().map(|(i, m)| (i.to_string(), m as &dyn Module)),
    |s| s.items.iter_mut().enumerate().map(|(i, m)| (i.to_string(), m as &mut dyn Module))
);

/// `nn.ModuleDict(modules)`: modules by name, in insertion order (replacing
/// a name keeps its place, as a Python dict does); it has no forward.
///
/// ```
/// use frankentorch::nn::{Module, ModuleDict, ReLU, Tanh};
/// let mut d: ModuleDict = ModuleDict::new(); // of Box<dyn Module>
/// d.insert("act", Box::new(ReLU::new()));
/// d.insert("out", Box::new(Tanh::new()));
/// d.insert("act", Box::new(Tanh::new()));
/// assert_eq!(d.keys(), ["act", "out"]);
/// assert_eq!(d.get("act").unwrap().type_name(), "Tanh");
/// ```
pub struct ModuleDict<M: Module = Box<dyn Module>> {
    items: Vec<(String, M)>,
    training: bool,
}

impl<M: Module> ModuleDict<M> {
    /// An empty dict.
    pub fn new() -> ModuleDict<M> {
        ModuleDict {
            items: vec![],
            training: true,
        }
    }

    /// Sets `name` to `module` (`d[name] = module`).
    pub fn insert(&mut self, name: impl Into<String>, module: M) {
        let name = name.into();
        match self.items.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = module,
            None => self.items.push((name, module)),
        }
    }

    /// The module named `name`.
    pub fn get(&self, name: &str) -> Option<&M> {
        self.items.iter().find(|(k, _)| k == name).map(|(_, m)| m)
    }

    /// The names in order.
    pub fn keys(&self) -> Vec<&str> {
        self.items.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The number of modules.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no modules.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<M: Module> Default for ModuleDict<M> {
    fn default() -> Self {
        ModuleDict::new()
    }
}

container_module!(
    ModuleDict<M>,
    "ModuleDict",
    [M: Module],
    |s| s.items.iter().map(|(k, m)| (k.clone(), m as &dyn Module)),
    |s| s.items.iter_mut().map(|(k, m)| (k.clone(), m as &mut dyn Module))
);
