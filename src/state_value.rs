//! Python-shaped values for state dicts (`optimizer.state_dict()`,
//! `scheduler.state_dict()`).
//!
//! PyTorch's state dicts are nested Python objects: dicts (keyed by `int` or
//! `str`), lists, tuples, floats, ints, bools, `None`, strings and tensors.
//! [`StateValue`] models exactly those, so a checkpoint writer can pickle
//! them as torch does; [`StateDict`] is an insertion-ordered dict, as a
//! Python `dict` is.

use crate::{Error, Result, Tensor};
use std::fmt;

/// A key of a [`StateDict`]: Python `int` or `str`.
///
/// ```
/// use frankentorch::state_value::DictKey;
/// assert_eq!(DictKey::from("lr"), DictKey::Str("lr".into()));
/// assert_eq!(DictKey::from(3i64), DictKey::Int(3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DictKey {
    /// A Python `int` key (parameter indices in `optimizer.state_dict()["state"]`).
    Int(i64),
    /// A Python `str` key.
    Str(String),
}

impl From<&str> for DictKey {
    fn from(s: &str) -> Self {
        DictKey::Str(s.to_string())
    }
}
impl From<String> for DictKey {
    fn from(s: String) -> Self {
        DictKey::Str(s)
    }
}
impl From<i64> for DictKey {
    fn from(i: i64) -> Self {
        DictKey::Int(i)
    }
}
impl From<usize> for DictKey {
    fn from(i: usize) -> Self {
        DictKey::Int(i as i64)
    }
}

impl fmt::Display for DictKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DictKey::Int(i) => write!(f, "{i}"),
            DictKey::Str(s) => write!(f, "'{s}'"),
        }
    }
}

/// One Python value of a state dict.
///
/// ```
/// use frankentorch::state_value::StateValue;
/// let betas = StateValue::from((0.9, 0.999));
/// assert_eq!(betas.as_pair().unwrap(), (0.9, 0.999));
/// assert_eq!(StateValue::from(3i64).as_f64(), Some(3.0));
/// ```
#[derive(Clone, Debug)]
pub enum StateValue {
    /// Python `None`.
    None,
    /// Python `bool`.
    Bool(bool),
    /// Python `int`.
    Int(i64),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(String),
    /// A tensor (shared with the live state, as torch's `state_dict()` shares).
    Tensor(Tensor),
    /// Python `list`.
    List(Vec<StateValue>),
    /// Python `tuple`.
    Tuple(Vec<StateValue>),
    /// Python `dict`.
    Dict(StateDict),
}

impl StateValue {
    /// A number (`float` or `int`, as Python's arithmetic accepts either) as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            StateValue::Float(f) => Some(*f),
            StateValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    /// An `int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StateValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// A `bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            StateValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// A `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            StateValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// A tensor.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            StateValue::Tensor(t) => Some(t),
            _ => None,
        }
    }
    /// The items of a `list` or `tuple`.
    pub fn as_seq(&self) -> Option<&[StateValue]> {
        match self {
            StateValue::List(v) | StateValue::Tuple(v) => Some(v),
            _ => None,
        }
    }
    /// A `dict`.
    pub fn as_dict(&self) -> Option<&StateDict> {
        match self {
            StateValue::Dict(d) => Some(d),
            _ => None,
        }
    }
    /// A two-number sequence such as Adam's `betas`.
    pub fn as_pair(&self) -> Option<(f64, f64)> {
        match self.as_seq()? {
            [a, b] => Some((a.as_f64()?, b.as_f64()?)),
            _ => None,
        }
    }
    /// True for `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, StateValue::None)
    }
    /// The Python type name (`float`, `int`, `Tensor`, …), for messages and checks.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateValue::None => "NoneType",
            StateValue::Bool(_) => "bool",
            StateValue::Int(_) => "int",
            StateValue::Float(_) => "float",
            StateValue::Str(_) => "str",
            StateValue::Tensor(_) => "Tensor",
            StateValue::List(_) => "list",
            StateValue::Tuple(_) => "tuple",
            StateValue::Dict(_) => "dict",
        }
    }
    /// A copy whose tensors are cloned too (`copy.deepcopy`), so later
    /// in-place updates of the live state do not show through.
    ///
    /// ```
    /// use frankentorch::prelude::*;
    /// use frankentorch::state_value::StateValue;
    /// let t = Tensor::from_vec(vec![1.0f32], &[1]).unwrap();
    /// let v = StateValue::Tensor(t.clone()).deep_clone().unwrap();
    /// t.fill_(5.0).unwrap();
    /// assert_eq!(v.as_tensor().unwrap().to_vec::<f32>().unwrap(), vec![1.0]);
    /// ```
    pub fn deep_clone(&self) -> Result<StateValue> {
        Ok(match self {
            StateValue::Tensor(t) => {
                let _g = crate::tls::no_grad();
                StateValue::Tensor(crate::ops::clone(&t.detach())?)
            }
            StateValue::List(v) => StateValue::List(v.iter().map(|x| x.deep_clone()).collect::<Result<_>>()?),
            StateValue::Tuple(v) => StateValue::Tuple(v.iter().map(|x| x.deep_clone()).collect::<Result<_>>()?),
            StateValue::Dict(d) => StateValue::Dict(d.deep_clone()?),
            other => other.clone(),
        })
    }
}

impl From<f64> for StateValue {
    fn from(v: f64) -> Self {
        StateValue::Float(v)
    }
}
impl From<i64> for StateValue {
    fn from(v: i64) -> Self {
        StateValue::Int(v)
    }
}
impl From<bool> for StateValue {
    fn from(v: bool) -> Self {
        StateValue::Bool(v)
    }
}
impl From<&str> for StateValue {
    fn from(v: &str) -> Self {
        StateValue::Str(v.to_string())
    }
}
impl From<String> for StateValue {
    fn from(v: String) -> Self {
        StateValue::Str(v)
    }
}
impl From<Tensor> for StateValue {
    fn from(v: Tensor) -> Self {
        StateValue::Tensor(v)
    }
}
impl From<(f64, f64)> for StateValue {
    fn from(v: (f64, f64)) -> Self {
        StateValue::Tuple(vec![StateValue::Float(v.0), StateValue::Float(v.1)])
    }
}
impl From<Vec<f64>> for StateValue {
    fn from(v: Vec<f64>) -> Self {
        StateValue::List(v.into_iter().map(StateValue::Float).collect())
    }
}
impl From<StateDict> for StateValue {
    fn from(v: StateDict) -> Self {
        StateValue::Dict(v)
    }
}
impl<T: Into<StateValue>> From<Option<T>> for StateValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(StateValue::None, Into::into)
    }
}

/// An insertion-ordered dict, as Python's `dict`.
///
/// ```
/// use frankentorch::state_value::StateDict;
/// let mut d = StateDict::new();
/// d.insert("lr", 0.1);
/// d.insert("momentum", 0.9);
/// d.insert("lr", 0.2); // replaces in place, keeps the position
/// assert_eq!(d.keys().map(|k| k.to_string()).collect::<Vec<_>>(), ["'lr'", "'momentum'"]);
/// assert_eq!(d.get("lr").unwrap().as_f64(), Some(0.2));
/// ```
#[derive(Clone, Debug, Default)]
pub struct StateDict {
    entries: Vec<(DictKey, StateValue)>,
}

impl StateDict {
    /// An empty dict.
    pub fn new() -> StateDict {
        StateDict::default()
    }
    /// The value of `key`, if present.
    pub fn get(&self, key: impl Into<DictKey>) -> Option<&StateValue> {
        let key = key.into();
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    /// The value of `key` for changing it in place.
    pub fn get_mut(&mut self, key: impl Into<DictKey>) -> Option<&mut StateValue> {
        let key = key.into();
        self.entries.iter_mut().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    /// True if `key` is present.
    pub fn contains_key(&self, key: impl Into<DictKey>) -> bool {
        self.get(key).is_some()
    }
    /// Sets `key` (keeping its position when it exists, appending otherwise).
    pub fn insert(&mut self, key: impl Into<DictKey>, value: impl Into<StateValue>) {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }
    /// Sets `key` only when absent (Python's `dict.setdefault`).
    pub fn set_default(&mut self, key: impl Into<DictKey>, value: impl Into<StateValue>) {
        let key = key.into();
        if !self.contains_key(key.clone()) {
            self.entries.push((key, value.into()));
        }
    }
    /// Removes and returns `key`'s value.
    pub fn remove(&mut self, key: impl Into<DictKey>) -> Option<StateValue> {
        let key = key.into();
        let i = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.remove(i).1)
    }
    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &DictKey> {
        self.entries.iter().map(|(k, _)| k)
    }
    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&DictKey, &StateValue)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// [`StateValue::deep_clone`] of every value.
    pub fn deep_clone(&self) -> Result<StateDict> {
        Ok(StateDict {
            entries: self
                .entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.deep_clone()?)))
                .collect::<Result<_>>()?,
        })
    }
    /// The value of `key`, or Python's `KeyError` naming it (as InvalidArgument from `who`).
    pub fn require(&self, who: &str, key: impl Into<DictKey>) -> Result<&StateValue> {
        let key = key.into();
        self.get(key.clone())
            .ok_or_else(|| Error::invalid(who, format!("KeyError: {key}")))
    }
    /// A number stored under `key` (Python `float` or `int`), or an error from `who`.
    pub fn f64_of(&self, who: &str, key: &str) -> Result<f64> {
        let v = self.require(who, key)?;
        v.as_f64()
            .ok_or_else(|| Error::invalid(who, format!("'{key}' must be a number, got {}", v.type_name())))
    }
    /// A `bool` stored under `key`, or an error from `who`.
    pub fn bool_of(&self, who: &str, key: &str) -> Result<bool> {
        let v = self.require(who, key)?;
        v.as_bool()
            .ok_or_else(|| Error::invalid(who, format!("'{key}' must be a bool, got {}", v.type_name())))
    }
    /// An `int` stored under `key`, or an error from `who`.
    pub fn i64_of(&self, who: &str, key: &str) -> Result<i64> {
        let v = self.require(who, key)?;
        v.as_i64()
            .ok_or_else(|| Error::invalid(who, format!("'{key}' must be an int, got {}", v.type_name())))
    }
    /// A two-number tuple stored under `key` (Adam's `betas`), or an error from `who`.
    pub fn pair_of(&self, who: &str, key: &str) -> Result<(f64, f64)> {
        let v = self.require(who, key)?;
        v.as_pair()
            .ok_or_else(|| Error::invalid(who, format!("'{key}' must be a pair of numbers, got {}", v.type_name())))
    }
    /// A tensor stored under `key`, or an error from `who`.
    pub fn tensor_of(&self, who: &str, key: &str) -> Result<Tensor> {
        let v = self.require(who, key)?;
        v.as_tensor()
            .cloned()
            .ok_or_else(|| Error::invalid(who, format!("'{key}' must be a Tensor, got {}", v.type_name())))
    }
}
