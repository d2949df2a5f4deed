//! How each schema type appears in generated Rust: parameter type, owned
//! type, boxing into a `Value`, unboxing from a stack, and schema metadata.

use crate::signature::{BaseType, Type};

/// The Rust spellings of one schema type.
#[derive(Debug, Clone)]
pub struct RustType {
    /// Type of a kernel / API parameter (`&Tensor`, `Option<&[i64]>`).
    pub param: String,
    /// Owned type (saved in nodes, popped off stacks).
    pub owned: String,
    /// `Unboxer` method that pops this type.
    pub unbox: &'static str,
    /// Template turning an owned value `{}` into a parameter.
    pub borrow: &'static str,
    /// Template turning a parameter `{}` into a `Value`.
    pub to_value: &'static str,
    /// Template turning a parameter `{}` into an owned value.
    pub to_owned: &'static str,
    /// `ArgType` variant in runtime schema metadata.
    pub arg_type: String,
}

fn rt(
    param: &str,
    owned: &str,
    unbox: &'static str,
    borrow: &'static str,
    to_value: &'static str,
    to_owned: &'static str,
    arg_type: String,
) -> RustType {
    RustType {
        param: param.into(),
        owned: owned.into(),
        unbox,
        borrow,
        to_value,
        to_owned,
        arg_type,
    }
}

/// Maps a schema type to Rust, or `None` when the combination is unsupported.
pub fn rust_type(ty: &Type) -> Option<RustType> {
    use BaseType::*;
    let opt = ty.is_optional();
    Some(match (ty.base, ty.list, ty.elem_optional, opt) {
        (Tensor, None, false, _) => rt(
            "&Tensor",
            "Tensor",
            "tensor",
            "&{}",
            "Value::Tensor({}.clone())",
            "{}.clone()",
            "ArgType::Tensor".into(),
        ),
        (Tensor, None, true, _) => rt(
            "Option<&Tensor>",
            "Option<Tensor>",
            "opt_tensor",
            "{}.as_ref()",
            "{}.map_or(Value::None, |t| Value::Tensor(t.clone()))",
            "{}.cloned()",
            "ArgType::OptTensor".into(),
        ),
        (Tensor, Some(_), false, false) => rt(
            "&[Tensor]",
            "Vec<Tensor>",
            "tensor_list",
            "&{}",
            "Value::TensorList({}.to_vec())",
            "{}.to_vec()",
            "ArgType::TensorList".into(),
        ),
        (Tensor, Some(_), true, false) => rt(
            "&[Option<Tensor>]",
            "Vec<Option<Tensor>>",
            "opt_tensor_list",
            "&{}",
            "Value::OptTensorList({}.to_vec())",
            "{}.to_vec()",
            "ArgType::OptTensorList".into(),
        ),
        (Scalar, None, false, _) => rt(
            "Scalar",
            "Scalar",
            "scalar",
            "{}",
            "Value::Scalar({})",
            "{}",
            "ArgType::Scalar".into(),
        ),
        (Scalar, None, true, _) => rt(
            "Option<Scalar>",
            "Option<Scalar>",
            "opt_scalar",
            "{}",
            "{}.map_or(Value::None, Value::Scalar)",
            "{}",
            "ArgType::OptScalar".into(),
        ),
        (Int, None, false, _) => rt("i64", "i64", "int", "{}", "Value::Int({})", "{}", "ArgType::Int".into()),
        (Int, None, true, _) => rt(
            "Option<i64>",
            "Option<i64>",
            "opt_int",
            "{}",
            "{}.map_or(Value::None, Value::Int)",
            "{}",
            "ArgType::OptInt".into(),
        ),
        (Int, Some(n), false, false) => rt(
            "&[i64]",
            "Vec<i64>",
            "int_list",
            "&{}",
            "Value::IntList({}.to_vec())",
            "{}.to_vec()",
            format!("ArgType::IntList({n})"),
        ),
        (Int, Some(n), false, true) => rt(
            "Option<&[i64]>",
            "Option<Vec<i64>>",
            "opt_int_list",
            "{}.as_deref()",
            "{}.map_or(Value::None, |v| Value::IntList(v.to_vec()))",
            "{}.map(|v| v.to_vec())",
            format!("ArgType::OptIntList({n})"),
        ),
        (Float, None, false, _) => rt(
            "f64",
            "f64",
            "float",
            "{}",
            "Value::Float({})",
            "{}",
            "ArgType::Float".into(),
        ),
        (Float, None, true, _) => rt(
            "Option<f64>",
            "Option<f64>",
            "opt_float",
            "{}",
            "{}.map_or(Value::None, Value::Float)",
            "{}",
            "ArgType::OptFloat".into(),
        ),
        (Float, Some(_), false, false) => rt(
            "&[f64]",
            "Vec<f64>",
            "float_list",
            "&{}",
            "Value::FloatList({}.to_vec())",
            "{}.to_vec()",
            "ArgType::FloatList".into(),
        ),
        (Float, Some(_), false, true) => rt(
            "Option<&[f64]>",
            "Option<Vec<f64>>",
            "opt_float_list",
            "{}.as_deref()",
            "{}.map_or(Value::None, |v| Value::FloatList(v.to_vec()))",
            "{}.map(|v| v.to_vec())",
            "ArgType::OptFloatList".into(),
        ),
        (Bool, None, false, _) => rt(
            "bool",
            "bool",
            "bool",
            "{}",
            "Value::Bool({})",
            "{}",
            "ArgType::Bool".into(),
        ),
        (Bool, None, true, _) => rt(
            "Option<bool>",
            "Option<bool>",
            "opt_bool",
            "{}",
            "{}.map_or(Value::None, Value::Bool)",
            "{}",
            "ArgType::OptBool".into(),
        ),
        (Bool, Some(_), false, false) => rt(
            "&[bool]",
            "Vec<bool>",
            "bool_list",
            "&{}",
            "Value::BoolList({}.to_vec())",
            "{}.to_vec()",
            "ArgType::BoolList".into(),
        ),
        (Str, None, false, _) => rt(
            "&str",
            "String",
            "str",
            "&{}",
            "Value::Str({}.to_string())",
            "{}.to_string()",
            "ArgType::Str".into(),
        ),
        (Str, None, true, _) => rt(
            "Option<&str>",
            "Option<String>",
            "opt_str",
            "{}.as_deref()",
            "{}.map_or(Value::None, |s| Value::Str(s.to_string()))",
            "{}.map(|s| s.to_string())",
            "ArgType::OptStr".into(),
        ),
        (ScalarType, None, false, _) => rt(
            "DType",
            "DType",
            "scalar_type",
            "{}",
            "Value::DType({})",
            "{}",
            "ArgType::ScalarType".into(),
        ),
        (ScalarType, None, true, _) => rt(
            "Option<DType>",
            "Option<DType>",
            "opt_scalar_type",
            "{}",
            "{}.map_or(Value::None, Value::DType)",
            "{}",
            "ArgType::OptScalarType".into(),
        ),
        (Layout, None, true, _) => rt(
            "Option<Layout>",
            "Option<Layout>",
            "opt_layout",
            "{}",
            "{}.map_or(Value::None, Value::Layout)",
            "{}",
            "ArgType::OptLayout".into(),
        ),
        (Device, None, true, _) => rt(
            "Option<Device>",
            "Option<Device>",
            "opt_device",
            "{}",
            "{}.map_or(Value::None, Value::Device)",
            "{}",
            "ArgType::OptDevice".into(),
        ),
        (MemoryFormat, None, true, _) => rt(
            "Option<MemoryFormat>",
            "Option<MemoryFormat>",
            "opt_memory_format",
            "{}",
            "{}.map_or(Value::None, Value::MemoryFormat)",
            "{}",
            "ArgType::OptMemoryFormat".into(),
        ),
        (Generator, None, true, _) => rt(
            "Option<&Generator>",
            "Option<Generator>",
            "opt_generator",
            "{}.as_ref()",
            "{}.map_or(Value::None, |g| Value::Generator(g.clone()))",
            "{}.cloned()",
            "ArgType::OptGenerator".into(),
        ),
        _ => return None,
    })
}

/// Fills a `{}` template with `x`.
pub fn fill(template: &str, x: &str) -> String {
    template.replace("{}", x)
}

/// The Rust type of one return, or `None` for a type a return cannot have.
/// Besides `Tensor` and `Tensor[]`, ops may return `int`/`SymInt` (`i64`),
/// `float` (`f64`), `bool` and `Scalar` (`sym_size.int`, `_local_scalar_dense`).
pub fn ret_rust_type(ty: &Type) -> Option<&'static str> {
    use BaseType::*;
    if ty.is_optional() || (ty.list.is_some() && ty.base != Tensor) {
        return None;
    }
    Some(match (ty.base, ty.list) {
        (Tensor, Some(_)) => "Vec<Tensor>",
        (Tensor, None) => "Tensor",
        (Int, None) => "i64",
        (Float, None) => "f64",
        (Bool, None) => "bool",
        (Scalar, None) => "Scalar",
        _ => return None,
    })
}

/// The `Value` variant a boxed call returns for one return of type `ty`
/// (`Tensor`, `TensorList`, `Int`, `Float`, `Bool`, `Scalar`).
pub fn ret_value_variant(ty: &Type) -> &'static str {
    use BaseType::*;
    match (ty.base, ty.list) {
        (Tensor, Some(_)) => "TensorList",
        (Int, _) => "Int",
        (Float, _) => "Float",
        (Bool, _) => "Bool",
        (Scalar, _) => "Scalar",
        _ => "Tensor",
    }
}

/// The runtime `ArgType` of one return.
pub fn ret_arg_type(ty: &Type) -> &'static str {
    match ret_value_variant(ty) {
        "TensorList" => "ArgType::TensorList",
        "Int" => "ArgType::Int",
        "Float" => "ArgType::Float",
        "Bool" => "ArgType::Bool",
        "Scalar" => "ArgType::Scalar",
        _ => "ArgType::Tensor",
    }
}

/// True when an op returns something other than tensors (an int, float,
/// bool or Scalar): such ops are never differentiable.
pub fn returns_non_tensor(rets: &[crate::signature::RetDecl]) -> bool {
    rets.iter().any(|r| r.ty.base != BaseType::Tensor)
}

/// True for backward ops with a `bool[N] output_mask` argument returning N
/// tensors: PyTorch returns an undefined tensor (`None`) where the mask is
/// false, so each return is an `Option<Tensor>` (`Value::None` when boxed).
pub fn masked_outputs(sig: &crate::signature::Signature) -> bool {
    sig.args.iter().any(|a| {
        a.name == "output_mask"
            && a.ty.base == BaseType::Bool
            && a.ty.list.is_some_and(|n| n as usize == sig.returns.len())
    }) && sig.returns.len() > 1
        && sig
            .returns
            .iter()
            .all(|r| r.ty.base == BaseType::Tensor && r.ty.list.is_none() && r.ty.alias.is_none())
}

/// The Rust type of an op's return value(s) (see [`masked_outputs`] for the
/// `Option<Tensor>` returns of ops with an `output_mask`).
pub fn op_return_type(sig: &crate::signature::Signature) -> String {
    if masked_outputs(sig) {
        let items = vec!["Option<Tensor>"; sig.returns.len()];
        return format!("({})", items.join(", "));
    }
    return_type(&sig.returns)
}

/// The Rust type of an op's return value(s).
pub fn return_type(rets: &[crate::signature::RetDecl]) -> String {
    let one = |r: &crate::signature::RetDecl| ret_rust_type(&r.ty).unwrap_or("Tensor").to_string();
    match rets.len() {
        0 => "()".into(),
        1 => one(&rets[0]),
        _ => format!("({})", rets.iter().map(one).collect::<Vec<_>>().join(", ")),
    }
}

/// A Rust expression for a schema default value given the argument type, or
/// an error message. `as_param` renders it as the parameter type (slices
/// borrowed), otherwise as runtime `DefaultValue` metadata.
pub fn default_expr(ty: &Type, text: &str, as_param: bool) -> Result<String, String> {
    use BaseType::*;
    let bad = || format!("default `{text}` does not fit type {:?}", ty.base);
    if text == "None" {
        return if ty.is_optional() {
            Ok(if as_param {
                "None".into()
            } else {
                "DefaultValue::None".into()
            })
        } else {
            Err(bad())
        };
    }
    let wrap_opt = |s: String| {
        if ty.is_optional() && as_param {
            format!("Some({s})")
        } else {
            s
        }
    };
    match (ty.base, ty.list) {
        (Bool, None) => {
            let b = match text {
                "True" => "true",
                "False" => "false",
                _ => return Err(bad()),
            };
            Ok(if as_param {
                wrap_opt(b.into())
            } else {
                format!("DefaultValue::Bool({b})")
            })
        }
        (Int, None) => {
            let i: i64 = text.parse().map_err(|_| bad())?;
            Ok(if as_param {
                wrap_opt(i.to_string())
            } else {
                format!("DefaultValue::Int({i})")
            })
        }
        (Float, None) => {
            let f: f64 = text.parse().map_err(|_| bad())?;
            Ok(if as_param {
                wrap_opt(float_lit(f))
            } else {
                format!("DefaultValue::Float({})", float_lit(f))
            })
        }
        (Scalar, None) => {
            let s = if let Ok(i) = text.parse::<i64>() {
                format!("Scalar::Int({i})")
            } else if let Ok(f) = text.parse::<f64>() {
                format!("Scalar::Float({})", float_lit(f))
            } else {
                match text {
                    "True" => "Scalar::Bool(true)".into(),
                    "False" => "Scalar::Bool(false)".into(),
                    _ => return Err(bad()),
                }
            };
            Ok(if as_param {
                wrap_opt(s)
            } else {
                format!("DefaultValue::Scalar({s})")
            })
        }
        (Int, Some(n)) => {
            let items: Vec<i64> = if let Ok(i) = text.parse::<i64>() {
                vec![i; n.max(1) as usize]
            } else {
                let inner = text
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .ok_or_else(bad)?;
                inner
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse().map_err(|_| bad()))
                    .collect::<Result<_, _>>()?
            };
            let list = format!(
                "&[{}]",
                items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
            );
            Ok(if as_param {
                wrap_opt(list)
            } else {
                format!("DefaultValue::IntList({list})")
            })
        }
        // A dtype default is written as c10's ScalarType code (`dtype=4`).
        (ScalarType, None) => {
            let code: i64 = text.parse().map_err(|_| bad())?;
            let dtype = scalar_type_code_name(code).ok_or_else(bad)?;
            Ok(if as_param {
                wrap_opt(format!("DType::{dtype}"))
            } else {
                format!("DefaultValue::Int({code})")
            })
        }
        (Str, None) => {
            let inner = text
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .ok_or_else(bad)?;
            Ok(if as_param {
                wrap_opt(format!("{inner:?}"))
            } else {
                format!("DefaultValue::Str({inner:?})")
            })
        }
        _ => Err(bad()),
    }
}

/// The `DType` variant of a c10 ScalarType code (the ten V1 dtypes).
fn scalar_type_code_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "U8",
        1 => "I8",
        2 => "I16",
        3 => "I32",
        4 => "I64",
        5 => "F16",
        6 => "F32",
        7 => "F64",
        11 => "Bool",
        15 => "BF16",
        _ => return None,
    })
}

/// A Rust literal for a float: `f64::INFINITY`, `f64::NEG_INFINITY` and
/// `f64::NAN` for the non-finite values, `{:?}` (always with a `.`) otherwise.
///
/// ```
/// assert_eq!(ft_codegen::types::float_lit(f64::NEG_INFINITY), "f64::NEG_INFINITY");
/// assert_eq!(ft_codegen::types::float_lit(2.0), "2.0");
/// ```
pub fn float_lit(f: f64) -> String {
    if f.is_nan() {
        "f64::NAN".into()
    } else if f == f64::INFINITY {
        "f64::INFINITY".into()
    } else if f == f64::NEG_INFINITY {
        "f64::NEG_INFINITY".into()
    } else {
        format!("{f:?}")
    }
}

/// Rust-safe snake_case identifier for a schema argument name (`HxW` ->
/// `hx_w`, `N` -> `n`, `self` -> `self_`); by-name calls keep torch's name.
///
/// ```
/// assert_eq!(ft_codegen::types::rust_ident("HxW"), "hx_w");
/// assert_eq!(ft_codegen::types::rust_ident("self"), "self_");
/// ```
pub fn rust_ident(name: &str) -> String {
    let snake;
    let name = if name.chars().any(|c| c.is_ascii_uppercase()) {
        snake = heck::ToSnakeCase::to_snake_case(name);
        snake.as_str()
    } else {
        name
    };
    match name {
        "self" | "type" | "in" | "fn" | "match" | "ref" | "mut" | "move" | "where" | "loop" | "use" | "impl"
        | "mod" | "struct" => format!("{name}_"),
        other => other.to_string(),
    }
}
