//! Boxed values (PyTorch's `IValue`) and binding of positional and keyword
//! arguments to a schema.

use super::schema::{ArgType, DefaultValue, OpSchema};
use crate::device::{Device, Layout, MemoryFormat};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::random::Generator;
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// A boxed argument or result.
#[derive(Clone, Debug)]
pub enum Value {
    /// `None`
    None,
    /// a bool
    Bool(bool),
    /// an int
    Int(i64),
    /// a float
    Float(f64),
    /// a string
    Str(String),
    /// a Scalar
    Scalar(Scalar),
    /// an int list
    IntList(Vec<i64>),
    /// a bool list
    BoolList(Vec<bool>),
    /// a float list (`float[]`)
    FloatList(Vec<f64>),
    /// a tensor
    Tensor(Tensor),
    /// a tensor list
    TensorList(Vec<Tensor>),
    /// a list of optional tensors
    OptTensorList(Vec<Option<Tensor>>),
    /// a dtype
    DType(DType),
    /// a device
    Device(Device),
    /// a layout
    Layout(Layout),
    /// a memory format
    MemoryFormat(MemoryFormat),
    /// a random generator (`Generator?`; a handle sharing the caller's generator)
    Generator(Generator),
}

/// Arguments or results of a boxed call.
pub type Stack = Vec<Value>;

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Self {
        Value::Tensor(t)
    }
}
impl From<&Tensor> for Value {
    fn from(t: &Tensor) -> Self {
        Value::Tensor(t.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<Scalar> for Value {
    fn from(v: Scalar) -> Self {
        Value::Scalar(v)
    }
}
impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Self {
        Value::IntList(v)
    }
}
impl From<&[i64]> for Value {
    fn from(v: &[i64]) -> Self {
        Value::IntList(v.to_vec())
    }
}
impl From<Vec<f64>> for Value {
    fn from(v: Vec<f64>) -> Self {
        Value::FloatList(v)
    }
}
impl From<DType> for Value {
    fn from(v: DType) -> Self {
        Value::DType(v)
    }
}
impl From<Vec<Tensor>> for Value {
    fn from(v: Vec<Tensor>) -> Self {
        Value::TensorList(v)
    }
}
impl From<&Generator> for Value {
    fn from(g: &Generator) -> Self {
        Value::Generator(g.clone())
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}

impl Value {
    /// A short name of the value's kind for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Scalar(_) => "Scalar",
            Value::IntList(_) => "int[]",
            Value::BoolList(_) => "bool[]",
            Value::FloatList(_) => "float[]",
            Value::Tensor(_) => "Tensor",
            Value::TensorList(_) => "Tensor[]",
            Value::OptTensorList(_) => "Tensor?[]",
            Value::DType(_) => "ScalarType",
            Value::Device(_) => "Device",
            Value::Layout(_) => "Layout",
            Value::MemoryFormat(_) => "MemoryFormat",
            Value::Generator(_) => "Generator",
        }
    }
    /// The tensor, if this is one.
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }
    /// Consumes a tensor result.
    pub fn into_tensor(self) -> Option<Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }
}

fn from_default(d: DefaultValue) -> Value {
    match d {
        DefaultValue::None => Value::None,
        DefaultValue::Bool(b) => Value::Bool(b),
        DefaultValue::Int(i) => Value::Int(i),
        DefaultValue::Float(f) => Value::Float(f),
        DefaultValue::IntList(l) => Value::IntList(l.to_vec()),
        DefaultValue::Str(s) => Value::Str(s.to_string()),
        DefaultValue::Scalar(s) => Value::Scalar(s),
    }
}

/// Converts `v` to the form the schema type expects, applying PyTorch's
/// implicit conversions (int→float, number→Scalar, 0-dim tensor→Scalar,
/// bare int→`int[N]`), or explains the mismatch.
fn coerce(schema: &OpSchema, name: &str, ty: ArgType, v: Value) -> Result<Value> {
    let mismatch = |v: &Value| {
        Error::schema(
            schema.qualified_name(),
            format!("argument '{name}' must be {ty:?}, not {}", v.kind_name()),
        )
    };
    if matches!(v, Value::None) {
        return if ty.is_optional() {
            Ok(Value::None)
        } else {
            Err(mismatch(&v))
        };
    }
    Ok(match (ty, v) {
        (ArgType::Tensor | ArgType::OptTensor, v @ Value::Tensor(_)) => v,
        (ArgType::TensorList, v @ Value::TensorList(_)) => v,
        (ArgType::OptTensorList, Value::TensorList(l)) => Value::OptTensorList(l.into_iter().map(Some).collect()),
        (ArgType::OptTensorList, v @ Value::OptTensorList(_)) => v,
        (ArgType::Scalar | ArgType::OptScalar, v) => match v {
            Value::Scalar(s) => Value::Scalar(s),
            Value::Int(i) => Value::Scalar(Scalar::Int(i)),
            Value::Float(f) => Value::Scalar(Scalar::Float(f)),
            Value::Bool(b) => Value::Scalar(Scalar::Bool(b)),
            Value::Tensor(t) if t.dim() == 0 => Value::Scalar(t.item()?),
            v => return Err(mismatch(&v)),
        },
        (ArgType::Int | ArgType::OptInt, Value::Int(i)) => Value::Int(i),
        (ArgType::Int | ArgType::OptInt, Value::Scalar(Scalar::Int(i))) => Value::Int(i),
        (ArgType::Float | ArgType::OptFloat, Value::Float(f)) => Value::Float(f),
        (ArgType::Float | ArgType::OptFloat, Value::Int(i)) => Value::Float(i as f64),
        (ArgType::Float | ArgType::OptFloat, Value::Scalar(s)) if !s.is_bool() => Value::Float(s.to_f64()),
        (ArgType::Bool | ArgType::OptBool, Value::Bool(b)) => Value::Bool(b),
        (ArgType::IntList(_) | ArgType::OptIntList(_), Value::IntList(l)) => Value::IntList(l),
        (ArgType::IntList(n) | ArgType::OptIntList(n), Value::Int(i)) if n > 0 => Value::IntList(vec![i; n as usize]),
        (ArgType::BoolList, v @ Value::BoolList(_)) => v,
        (ArgType::FloatList | ArgType::OptFloatList, v @ Value::FloatList(_)) => v,
        (ArgType::FloatList | ArgType::OptFloatList, Value::IntList(l)) => {
            Value::FloatList(l.into_iter().map(|i| i as f64).collect())
        }
        (ArgType::Str | ArgType::OptStr, v @ Value::Str(_)) => v,
        (ArgType::ScalarType | ArgType::OptScalarType, v @ Value::DType(_)) => v,
        // PyTorch passes dtypes as ScalarType codes (schema defaults such as `dtype=4`).
        (ArgType::ScalarType | ArgType::OptScalarType, Value::Int(code)) => match DType::from_scalar_type_code(code) {
            Some(d) => Value::DType(d),
            None => return Err(mismatch(&Value::Int(code))),
        },
        (ArgType::OptLayout, v @ Value::Layout(_)) => v,
        (ArgType::OptDevice, v @ Value::Device(_)) => v,
        (ArgType::OptDevice, Value::Str(s)) => Value::Device(s.parse()?),
        (ArgType::OptMemoryFormat, v @ Value::MemoryFormat(_)) => v,
        (ArgType::OptGenerator, v @ Value::Generator(_)) => v,
        (_, v) => return Err(mismatch(&v)),
    })
}

/// Binds positional `args` and keyword `kwargs` to `schema`, filling defaults,
/// and returns one value per schema argument in order.
///
/// ```
/// use ft_runtime::dispatch::{bind, Arg, ArgType, DefaultValue, OpSchema, Value};
/// use ft_runtime::Scalar;
/// static ARGS: [Arg; 2] = [
///     Arg { name: "self", ty: ArgType::Scalar, default: None, kwarg_only: false, is_write: false },
///     Arg { name: "alpha", ty: ArgType::Scalar, default: Some(DefaultValue::Scalar(Scalar::Int(1))), kwarg_only: true, is_write: false },
/// ];
/// static S: OpSchema = OpSchema { name: "aten::f", overload: "", signature: "", args: &ARGS, returns: &[], tags: &[] };
/// let bound = bind(&S, vec![Value::Float(2.0)], vec![]).unwrap();
/// assert!(matches!(bound[1], Value::Scalar(Scalar::Int(1))));
/// assert!(bind(&S, vec![Value::Float(2.0), Value::Int(3)], vec![]).is_err()); // alpha is keyword-only
/// ```
pub fn bind(schema: &OpSchema, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Result<Stack> {
    let positional_max = schema.args.iter().take_while(|a| !a.kwarg_only).count();
    if args.len() > positional_max {
        return Err(Error::schema(
            schema.qualified_name(),
            format!(
                "takes at most {positional_max} positional arguments but {} were given",
                args.len()
            ),
        ));
    }
    let mut slots: Vec<Option<Value>> = vec![None; schema.args.len()];
    for (i, v) in args.into_iter().enumerate() {
        slots[i] = Some(v);
    }
    for (k, v) in kwargs {
        let Some(i) = schema.args.iter().position(|a| a.name == k) else {
            return Err(Error::schema(
                schema.qualified_name(),
                format!("got an unexpected keyword argument '{k}'"),
            ));
        };
        if slots[i].is_some() {
            return Err(Error::schema(
                schema.qualified_name(),
                format!("got multiple values for argument '{k}'"),
            ));
        }
        slots[i] = Some(v);
    }
    schema
        .args
        .iter()
        .zip(slots)
        .map(|(arg, slot)| {
            let v = match (slot, arg.default) {
                (Some(v), _) => v,
                (None, Some(d)) => from_default(d),
                (None, None) => {
                    return Err(Error::schema(
                        schema.qualified_name(),
                        format!("missing required argument '{}'", arg.name),
                    ))
                }
            };
            coerce(schema, arg.name, arg.ty, v)
        })
        .collect()
}

/// Defines `Unboxer` methods: `required` ones pop `Value::Variant(v)`;
/// `optional` ones also accept `Value::None`.
macro_rules! unbox {
    (required $($(#[$doc:meta])* $name:ident -> $ty:ty = $variant:ident, $what:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self) -> Result<$ty> {
                match self.next($what)? {
                    Value::$variant(v) => Ok(v),
                    v => Err(self.wrong($what, &v)),
                }
            }
        )*
    };
    (optional $($(#[$doc:meta])* $name:ident -> $ty:ty = $variant:ident, $what:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self) -> Result<Option<$ty>> {
                match self.next($what)? {
                    Value::$variant(v) => Ok(Some(v)),
                    Value::None => Ok(None),
                    v => Err(self.wrong($what, &v)),
                }
            }
        )*
    };
}

/// Pops typed arguments off a bound stack, in order; used by generated boxed wrappers.
pub struct Unboxer<'a> {
    schema: &'static OpSchema,
    values: std::vec::IntoIter<Value>,
    _life: std::marker::PhantomData<&'a ()>,
}

impl Unboxer<'_> {
    /// Unboxes a stack produced by [`bind`] for `schema`.
    pub fn new(schema: &'static OpSchema, stack: Stack) -> Unboxer<'static> {
        Unboxer {
            schema,
            values: stack.into_iter(),
            _life: std::marker::PhantomData,
        }
    }
    fn next(&mut self, what: &str) -> Result<Value> {
        self.values.next().ok_or_else(|| {
            Error::schema(
                self.schema.qualified_name(),
                format!("missing {what} argument on the stack"),
            )
        })
    }
    fn wrong(&self, what: &str, v: &Value) -> Error {
        Error::schema(
            self.schema.qualified_name(),
            format!("expected {what} on the stack, found {}", v.kind_name()),
        )
    }
    unbox! {
        required
        /// A `Tensor`.
        tensor -> Tensor = Tensor, "Tensor";
        /// A `Tensor[]`.
        tensor_list -> Vec<Tensor> = TensorList, "Tensor[]";
        /// A `Tensor?[]`.
        opt_tensor_list -> Vec<Option<Tensor>> = OptTensorList, "Tensor?[]";
        /// A `Scalar`.
        scalar -> Scalar = Scalar, "Scalar";
        /// An `int`.
        int -> i64 = Int, "int";
        /// An `int[]`.
        int_list -> Vec<i64> = IntList, "int[]";
        /// A `float`.
        float -> f64 = Float, "float";
        /// A `bool`.
        bool -> bool = Bool, "bool";
        /// A `bool[N]`.
        bool_list -> Vec<bool> = BoolList, "bool[]";
        /// A `float[]`.
        float_list -> Vec<f64> = FloatList, "float[]";
        /// A `str`.
        str -> String = Str, "str";
        /// A `ScalarType`.
        scalar_type -> DType = DType, "ScalarType";
    }
    unbox! {
        optional
        /// A `Tensor?`.
        opt_tensor -> Tensor = Tensor, "Tensor?";
        /// A `Scalar?`.
        opt_scalar -> Scalar = Scalar, "Scalar?";
        /// An `int?`.
        opt_int -> i64 = Int, "int?";
        /// An `int[]?`.
        opt_int_list -> Vec<i64> = IntList, "int[]?";
        /// A `float?`.
        opt_float -> f64 = Float, "float?";
        /// A `float[]?`.
        opt_float_list -> Vec<f64> = FloatList, "float[]?";
        /// A `bool?`.
        opt_bool -> bool = Bool, "bool?";
        /// A `str?`.
        opt_str -> String = Str, "str?";
        /// A `ScalarType?`.
        opt_scalar_type -> DType = DType, "ScalarType?";
        /// A `Layout?`.
        opt_layout -> Layout = Layout, "Layout?";
        /// A `Device?`.
        opt_device -> Device = Device, "Device?";
        /// A `MemoryFormat?`.
        opt_memory_format -> MemoryFormat = MemoryFormat, "MemoryFormat?";
        /// A `Generator?`.
        opt_generator -> Generator = Generator, "Generator?";
    }
}

/// A registered operator that can be called with boxed values (generated per overload).
pub trait BoxedOp: Sync {
    /// The schema.
    fn schema(&self) -> &'static OpSchema;
    /// Calls the op with a stack bound by [`bind`] and returns its results.
    fn call_boxed(&self, stack: Stack) -> Result<Stack>;
}
