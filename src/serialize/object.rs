//! [`Value`]: the Python objects a checkpoint holds (what `torch.save`
//! pickles and `torch.load(weights_only=True)` returns), with conversions
//! from and to module state dicts ([`nn::StateDict`](crate::nn::StateDict))
//! and optimizer / scheduler state dicts ([`StateValue`]).

use crate::nn::StateDict as ModuleStateDict;
use crate::state_value::{DictKey, StateDict as PyDict, StateValue};
use crate::{Error, Result, Tensor};

/// One Python object of a checkpoint.
///
/// Tensors are held as handles: two values holding views of one storage
/// pickle as views of one storage and load back that way. A
/// `torch.nn.Parameter` is its own variant (its `data` is a plain tensor,
/// `requires_grad` the flag the parameter had); a plain tensor saved with
/// `requires_grad=True` is a `Tensor` whose handle requires grad.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::serialize::Value;
/// let v = Value::Dict(vec![
///     (Value::from("lr"), Value::Float(0.1)),
///     (Value::from("w"), Value::Tensor(ops::ones(&[2]).unwrap())),
/// ]);
/// assert_eq!(v.get("lr").and_then(Value::as_f64), Some(0.1));
/// assert_eq!(v.type_name(), "dict");
/// ```
#[derive(Clone, Debug)]
pub enum Value {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// `int` (within i64).
    Int(i64),
    /// `float`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `list`.
    List(Vec<Value>),
    /// `tuple`.
    Tuple(Vec<Value>),
    /// `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// `collections.OrderedDict`: its items in order, and its instance
    /// attributes (`Module.state_dict()` carries `_metadata` there; empty for
    /// a plain OrderedDict).
    OrderedDict {
        /// The items in order.
        items: Vec<(Value, Value)>,
        /// Instance attributes (`__dict__`), such as `_metadata`.
        attrs: Vec<(String, Value)>,
    },
    /// `torch.Tensor`.
    Tensor(Tensor),
    /// `torch.nn.Parameter`.
    Parameter {
        /// The parameter's data (a plain tensor that does not require grad).
        data: Tensor,
        /// Its `requires_grad` flag.
        requires_grad: bool,
    },
}

impl Value {
    /// An `OrderedDict` without attributes.
    ///
    /// ```
    /// use frankentorch::serialize::Value;
    /// let d = Value::ordered_dict(vec![(Value::from("a"), Value::Int(1))]);
    /// assert_eq!(d.type_name(), "OrderedDict");
    /// ```
    pub fn ordered_dict(items: Vec<(Value, Value)>) -> Value {
        Value::OrderedDict { items, attrs: vec![] }
    }

    /// The Python type name (`dict`, `Tensor`, …) for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::OrderedDict { .. } => "OrderedDict",
            Value::Tensor(_) => "Tensor",
            Value::Parameter { .. } => "Parameter",
        }
    }

    /// The items of a `dict` or `OrderedDict`.
    pub fn items(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(items) | Value::OrderedDict { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The value under the string key `key` of a `dict` or `OrderedDict`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An `int` or `float` as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The tensor of a `Tensor` or the data of a `Parameter`.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// use frankentorch::serialize::Value;
    /// let p = Value::Parameter { data: ops::zeros(&[3]).unwrap(), requires_grad: true };
    /// assert_eq!(p.as_tensor().unwrap().sizes(), &[3]);
    /// ```
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) | Value::Parameter { data: t, .. } => Some(t),
            _ => None,
        }
    }

    /// Every tensor (and Parameter's data) in the tree, depth first, with its
    /// path: dict keys and sequence indices joined by `.` (`state.0.exp_avg`).
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// use frankentorch::serialize::Value;
    /// let t = ops::zeros(&[2]).unwrap();
    /// let v = Value::Dict(vec![
    ///     (Value::from("state"), Value::Dict(vec![(Value::Int(0), Value::List(vec![Value::Tensor(t)]))])),
    /// ]);
    /// assert_eq!(v.tensors()[0].0, "state.0.0");
    /// ```
    pub fn tensors(&self) -> Vec<(String, &Tensor)> {
        fn key_text(k: &Value) -> String {
            match k {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Float(f) => f.to_string(),
                other => other.type_name().to_string(),
            }
        }
        fn walk<'v>(v: &'v Value, path: String, out: &mut Vec<(String, &'v Tensor)>) {
            let join = |k: String| if path.is_empty() { k } else { format!("{path}.{k}") };
            match v {
                Value::Tensor(t) | Value::Parameter { data: t, .. } => out.push((path, t)),
                Value::List(items) | Value::Tuple(items) => {
                    for (i, x) in items.iter().enumerate() {
                        walk(x, join(i.to_string()), out);
                    }
                }
                Value::Dict(items) | Value::OrderedDict { items, .. } => {
                    for (k, x) in items {
                        walk(x, join(key_text(k)), out);
                    }
                }
                _ => {}
            }
        }
        let mut out = vec![];
        walk(self, String::new(), &mut out);
        out
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}

/// A module state dict as torch's `Module.state_dict()` pickles it: an
/// `OrderedDict` of detached tensors (without the `_metadata` attribute,
/// which our modules do not record; torch's `load_state_dict` accepts that).
///
/// ```
/// use frankentorch::nn::{Linear, Module};
/// use frankentorch::serialize::Value;
/// let lin = Linear::new(2, 3, Default::default()).unwrap();
/// let v = Value::from(&lin.state_dict());
/// assert_eq!(v.items().unwrap().len(), 2);
/// ```
impl From<&ModuleStateDict> for Value {
    fn from(sd: &ModuleStateDict) -> Value {
        Value::ordered_dict(
            sd.iter()
                .map(|(k, t)| (Value::from(k), Value::Tensor(t.detach())))
                .collect(),
        )
    }
}

fn conv_err(message: impl Into<String>) -> Error {
    Error::invalid("serialize.Value", message)
}

/// A loaded `dict`/`OrderedDict` of `str` → tensor (or Parameter, whose data
/// is taken) as a module state dict; anything else is an error naming it.
///
/// ```
/// use frankentorch::prelude::*;
/// use frankentorch::nn::StateDict;
/// use frankentorch::serialize::Value;
/// let v = Value::ordered_dict(vec![(Value::from("w"), Value::Tensor(ops::ones(&[2]).unwrap()))]);
/// let sd: StateDict = v.try_into().unwrap();
/// assert_eq!(sd.keys(), ["w"]);
/// assert!(StateDict::try_from(Value::Int(3)).is_err());
/// ```
impl TryFrom<Value> for ModuleStateDict {
    type Error = Error;
    fn try_from(v: Value) -> Result<ModuleStateDict> {
        let name = v.type_name();
        let items = match v {
            Value::Dict(items) | Value::OrderedDict { items, .. } => items,
            _ => return Err(conv_err(format!("a state dict must be a dict of tensors, got {name}"))),
        };
        let mut sd = ModuleStateDict::new();
        for (k, v) in items {
            let Value::Str(key) = k else {
                return Err(conv_err(format!("state dict keys must be str, got {}", k.type_name())));
            };
            match v {
                Value::Tensor(t) | Value::Parameter { data: t, .. } => sd.insert(key, t),
                other => {
                    return Err(conv_err(format!(
                        "state dict entry '{key}' must be a Tensor, got {}",
                        other.type_name()
                    )))
                }
            }
        }
        Ok(sd)
    }
}

fn key_value(k: &DictKey) -> Value {
    match k {
        DictKey::Int(i) => Value::Int(*i),
        DictKey::Str(s) => Value::Str(s.clone()),
    }
}

/// An optimizer or scheduler state dict (`StateValue`) as the Python objects
/// torch pickles (dicts stay plain `dict`s).
///
/// ```
/// use frankentorch::serialize::Value;
/// use frankentorch::state_value::StateValue;
/// let v = Value::from(&StateValue::from((0.9, 0.999)));
/// assert_eq!(v.type_name(), "tuple");
/// ```
impl From<&StateValue> for Value {
    fn from(v: &StateValue) -> Value {
        match v {
            StateValue::None => Value::None,
            StateValue::Bool(b) => Value::Bool(*b),
            StateValue::Int(i) => Value::Int(*i),
            StateValue::Float(f) => Value::Float(*f),
            StateValue::Str(s) => Value::Str(s.clone()),
            StateValue::Tensor(t) => Value::Tensor(t.detach()),
            StateValue::List(items) => Value::List(items.iter().map(Value::from).collect()),
            StateValue::Tuple(items) => Value::Tuple(items.iter().map(Value::from).collect()),
            StateValue::Dict(d) => Value::from(d),
        }
    }
}

/// A `StateValue` dict as a Python `dict`.
///
/// ```
/// use frankentorch::serialize::Value;
/// use frankentorch::state_value::StateDict;
/// let mut d = StateDict::new();
/// d.insert(0i64, 1.5);
/// assert_eq!(Value::from(&d).items().unwrap()[0].0.type_name(), "int");
/// ```
impl From<&PyDict> for Value {
    fn from(d: &PyDict) -> Value {
        Value::Dict(d.iter().map(|(k, v)| (key_value(k), Value::from(v))).collect())
    }
}

/// A loaded optimizer / scheduler state as a `StateValue` (dict keys must be
/// `int` or `str`; Parameters become tensors; bytes are refused).
///
/// ```
/// use frankentorch::serialize::Value;
/// use frankentorch::state_value::StateValue;
/// let v = Value::Dict(vec![(Value::Int(0), Value::from("x"))]);
/// let s = StateValue::try_from(v).unwrap();
/// assert_eq!(s.as_dict().unwrap().get(0i64).unwrap().as_str(), Some("x"));
/// ```
impl TryFrom<Value> for StateValue {
    type Error = Error;
    fn try_from(v: Value) -> Result<StateValue> {
        Ok(match v {
            Value::None => StateValue::None,
            Value::Bool(b) => StateValue::Bool(b),
            Value::Int(i) => StateValue::Int(i),
            Value::Float(f) => StateValue::Float(f),
            Value::Str(s) => StateValue::Str(s),
            Value::Tensor(t) | Value::Parameter { data: t, .. } => StateValue::Tensor(t),
            Value::List(items) => StateValue::List(items.into_iter().map(StateValue::try_from).collect::<Result<_>>()?),
            Value::Tuple(items) => {
                StateValue::Tuple(items.into_iter().map(StateValue::try_from).collect::<Result<_>>()?)
            }
            Value::Dict(items) | Value::OrderedDict { items, .. } => {
                StateValue::Dict(PyDict::try_from(Value::Dict(items))?)
            }
            Value::Bytes(_) => return Err(conv_err("bytes have no StateValue")),
        })
    }
}

/// A loaded `dict` as a `StateValue` dict.
///
/// ```
/// use frankentorch::serialize::Value;
/// use frankentorch::state_value::StateDict;
/// let d = StateDict::try_from(Value::Dict(vec![(Value::from("lr"), Value::Float(0.1))])).unwrap();
/// assert_eq!(d.get("lr").unwrap().as_f64(), Some(0.1));
/// ```
impl TryFrom<Value> for PyDict {
    type Error = Error;
    fn try_from(v: Value) -> Result<PyDict> {
        let name = v.type_name();
        let (Value::Dict(items) | Value::OrderedDict { items, .. }) = v else {
            return Err(conv_err(format!("expected a dict, got {name}")));
        };
        let mut d = PyDict::new();
        for (k, v) in items {
            let key = match k {
                Value::Int(i) => DictKey::Int(i),
                Value::Str(s) => DictKey::Str(s),
                other => {
                    return Err(conv_err(format!(
                        "dict keys must be int or str, got {}",
                        other.type_name()
                    )))
                }
            };
            d.insert(key, StateValue::try_from(v)?);
        }
        Ok(d)
    }
}
