//! By-name operator calls, like `torch.ops.aten.add.Tensor(a, b, alpha=2)`.

use crate::dispatch::{bind, OpSchema, Value};
use crate::generated::ops::OPERATORS;
use crate::{Error, Result};

/// Calls the operator overload named `name` (`"aten::add.Tensor"`, or
/// `"aten::neg"` for an empty overload) with positional and keyword arguments.
///
/// ```
/// use frankentorch::{ops, dispatch::Value, Tensor};
/// let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let out = ops::call("aten::add.Tensor", vec![Value::from(&a), Value::from(&a)], vec![("alpha".into(), Value::Int(3))]).unwrap();
/// assert_eq!(out[0].as_tensor().unwrap().to_vec::<f32>().unwrap(), vec![4.0, 8.0]);
/// ```
pub fn call(name: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Result<Vec<Value>> {
    let wanted = name.strip_prefix("aten::").unwrap_or(name);
    let op = OPERATORS
        .iter()
        .find(|op| op.schema().qualified_name().strip_prefix("aten::") == Some(wanted))
        .ok_or_else(|| Error::schema(name, format!("no operator named '{name}' is registered")))?;
    let stack = bind(op.schema(), args, kwargs)?;
    op.call_boxed(stack)
}

/// The schemas of every registered operator overload.
///
/// ```
/// assert!(frankentorch::ops::schemas().iter().any(|s| s.qualified_name() == "aten::mm"));
/// ```
pub fn schemas() -> Vec<&'static OpSchema> {
    OPERATORS.iter().map(|op| op.schema()).collect()
}
