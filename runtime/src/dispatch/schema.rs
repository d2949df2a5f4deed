//! Static descriptions of operator schemas, emitted by codegen, used for
//! by-name calls (`torch.ops.aten`-style) and for listing the registry.

use crate::scalar::Scalar;

/// The type of one schema argument or return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgType {
    /// `Tensor`
    Tensor,
    /// `Tensor?`
    OptTensor,
    /// `Tensor[]`
    TensorList,
    /// `Tensor?[]`
    OptTensorList,
    /// `Scalar`
    Scalar,
    /// `Scalar?`
    OptScalar,
    /// `int` / `SymInt`
    Int,
    /// `int?`
    OptInt,
    /// `int[]` / `int[N]` / `SymInt[]` (N is the repeat length of a bare int, 0 if none)
    IntList(u8),
    /// `int[]?` / `int[N]?`
    OptIntList(u8),
    /// `float`
    Float,
    /// `float?`
    OptFloat,
    /// `bool`
    Bool,
    /// `bool?`
    OptBool,
    /// `bool[N]`
    BoolList,
    /// `float[]`
    FloatList,
    /// `float[]?`
    OptFloatList,
    /// `str`
    Str,
    /// `str?`
    OptStr,
    /// `ScalarType?` (always optional in V1 schemas)
    OptScalarType,
    /// `ScalarType`
    ScalarType,
    /// `Layout?`
    OptLayout,
    /// `Device?`
    OptDevice,
    /// `MemoryFormat?`
    OptMemoryFormat,
    /// `Generator?` (None: the default generator)
    OptGenerator,
}

impl ArgType {
    /// True for the `?` types, which accept `None`.
    pub fn is_optional(self) -> bool {
        matches!(
            self,
            ArgType::OptTensor
                | ArgType::OptScalar
                | ArgType::OptInt
                | ArgType::OptIntList(_)
                | ArgType::OptFloat
                | ArgType::OptFloatList
                | ArgType::OptBool
                | ArgType::OptStr
                | ArgType::OptScalarType
                | ArgType::OptLayout
                | ArgType::OptDevice
                | ArgType::OptMemoryFormat
                | ArgType::OptGenerator
        )
    }
}

/// A default value written in a schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// `None`
    None,
    /// `True` / `False`
    Bool(bool),
    /// an integer literal
    Int(i64),
    /// a float literal
    Float(f64),
    /// an int list literal such as `[]` or `[0,1]`
    IntList(&'static [i64]),
    /// a single-quoted string literal
    Str(&'static str),
    /// a Scalar default (e.g. `alpha=1`)
    Scalar(Scalar),
}

/// One argument of an operator schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arg {
    /// Argument name.
    pub name: &'static str,
    /// Argument type.
    pub ty: ArgType,
    /// Default, if the argument may be omitted.
    pub default: Option<DefaultValue>,
    /// True for arguments after `*`.
    pub kwarg_only: bool,
    /// True for `Tensor(a!)`: written by the op.
    pub is_write: bool,
}

/// One return of an operator schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ret {
    /// Return name (empty when unnamed).
    pub name: &'static str,
    /// Return type.
    pub ty: ArgType,
}

/// A full operator schema.
///
/// ```
/// use ft_runtime::dispatch::OpSchema;
/// let s = OpSchema { name: "aten::neg", overload: "", signature: "neg(Tensor self) -> Tensor", args: &[], returns: &[], tags: &[] };
/// assert_eq!(s.qualified_name(), "aten::neg");
/// ```
#[derive(Debug)]
pub struct OpSchema {
    /// Namespaced name, e.g. `aten::add`.
    pub name: &'static str,
    /// Overload name, e.g. `Tensor` (may be empty).
    pub overload: &'static str,
    /// The signature as written in `schema/ops.toml`.
    pub signature: &'static str,
    /// Arguments in order.
    pub args: &'static [Arg],
    /// Returns in order.
    pub returns: &'static [Ret],
    /// Tags (`pointwise`, `reduction`, `core`, ...).
    pub tags: &'static [&'static str],
}

impl OpSchema {
    /// `name.overload`, or `name` when the overload is empty.
    pub fn qualified_name(&self) -> String {
        if self.overload.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.name, self.overload)
        }
    }
}
