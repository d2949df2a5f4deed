//! A number that is not a tensor: PyTorch's `Scalar` (a Python bool, int or float).

use crate::dtype::{Category, DType, Element};
use std::fmt;

/// A Python-like number passed where a schema says `Scalar`.
///
/// Like a Python number in PyTorch, a scalar takes part in type promotion only
/// by its category: `Int` is an integer, `Float` a float, `Bool` a bool.
///
/// ```
/// use ft_runtime::{Scalar, DType};
/// assert_eq!(Scalar::from(2.5).dtype(), DType::F64);
/// assert_eq!(Scalar::from(3).to_f64(), 3.0);
/// assert!(Scalar::from(true).is_bool());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// `True` / `False`
    Bool(bool),
    /// a Python int (int64)
    Int(i64),
    /// a Python float (double)
    Float(f64),
}

impl Scalar {
    /// The dtype PyTorch gives a tensor made from this scalar alone
    /// (bool, int64, float64 as a wrapped number).
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F64,
        }
    }
    /// The promotion category.
    pub fn category(self) -> Category {
        Category::of(self.dtype())
    }
    /// True for `Bool`.
    pub fn is_bool(self) -> bool {
        matches!(self, Scalar::Bool(_))
    }
    /// True for `Int` (not `Bool`).
    pub fn is_integral(self) -> bool {
        matches!(self, Scalar::Int(_))
    }
    /// True for `Float`.
    pub fn is_floating_point(self) -> bool {
        matches!(self, Scalar::Float(_))
    }
    /// The value as f64.
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }
    /// The value as i64 (floats truncate toward zero).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(f) => f as i64,
        }
    }
    /// The value as bool (`!= 0`).
    pub fn to_bool(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Int(i) => i != 0,
            Scalar::Float(f) => f != 0.0,
        }
    }
    /// Converts to element type `T` with C-cast semantics, going through the
    /// scalar's own kind so large int64 values are exact.
    pub fn to_elem<T: Element>(self) -> T {
        match self {
            Scalar::Bool(b) => T::from_bool(b),
            Scalar::Int(i) => T::from_i64(i),
            Scalar::Float(f) => T::from_f64(f),
        }
    }
    /// True when the value equals `v` numerically (used for `alpha == 1` shortcuts).
    pub fn equals(self, v: f64) -> bool {
        self.to_f64() == v
    }
}

impl Default for Scalar {
    fn default() -> Self {
        Scalar::Int(0)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x:?}"),
        }
    }
}

macro_rules! scalar_from {
    ($variant:ident, $conv:ty; $($t:ty),*) => {
        $(impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar::$variant(v as $conv)
            }
        })*
    };
}
scalar_from!(Int, i64; i8, i16, i32, i64, u8, u16, u32, isize, usize);
scalar_from!(Float, f64; f32, f64);

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}
