//! Sample expansion and validation (the sample language of
//! `tools/oracle/FORMAT.md`): `*` dtypes, layout and domain flags, expected
//! errors, and the coverage rules every op must meet.

use crate::model::OpModel;
use crate::signature::BaseType;
use std::collections::BTreeMap;

/// The dtype names a tensor spec may use.
pub const DTYPES: [&str; 10] = ["bool", "u8", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"];
/// Layout flags (at most one per tensor).
pub const LAYOUT_FLAGS: [&str; 4] = ["t", "step", "offset", "expand"];
/// FrankenTorch error kinds a sample may expect.
pub const ERROR_KINDS: [&str; 9] = [
    "InvalidArgument",
    "ShapeMismatch",
    "DimOutOfRange",
    "IndexOutOfRange",
    "DType",
    "MissingKernel",
    "Autograd",
    "Schema",
    "NotSupported",
];

/// One sample after `*` expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Argument name -> value (without `error`).
    pub args: BTreeMap<String, toml::Value>,
    /// The error kind the call must return, if any.
    pub error: Option<String>,
    /// `seed = N`: the default generator is seeded with N right before the
    /// call (on both sides: oracle.py and the generated test).
    pub seed: Option<i64>,
}

/// A parsed tensor spec.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// Dtype name (or `*`).
    pub dtype: String,
    /// Sizes.
    pub sizes: Vec<usize>,
    /// Layout flag, if any.
    pub layout: Option<String>,
    /// Domain flag, if any (`positive`, `range(LO,HI)`).
    pub domain: Option<String>,
}

/// Parses and checks a tensor spec such as `f64[3,4]:t:positive` or `*[2]:range(0,3)`.
///
/// ```
/// let s = ft_codegen::samples::parse_spec("f32[2,3]:t:range(0,4)").unwrap();
/// assert_eq!(s.sizes, vec![2, 3]);
/// assert!(ft_codegen::samples::parse_spec("f32[2]:t").is_err()); // t needs 2 dims
/// ```
pub fn parse_spec(spec: &str) -> Result<TensorSpec, String> {
    let mut parts = spec.split(':');
    let head = parts.next().unwrap_or_default();
    let open = head
        .find('[')
        .ok_or_else(|| format!("tensor spec `{spec}` needs a shape like f64[3,4]"))?;
    let dtype = head[..open].to_string();
    if dtype != "*" && !DTYPES.contains(&dtype.as_str()) {
        return Err(format!(
            "tensor spec `{spec}`: unknown dtype `{dtype}` (one of {DTYPES:?} or `*`)"
        ));
    }
    let dims = head[open + 1..]
        .strip_suffix(']')
        .ok_or_else(|| format!("tensor spec `{spec}`: missing `]`"))?;
    let sizes = dims
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .map_err(|_| format!("tensor spec `{spec}`: bad size `{d}`"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (mut layout, mut domain) = (None, None);
    for flag in parts {
        if LAYOUT_FLAGS.contains(&flag) {
            if layout.replace(flag.to_string()).is_some() {
                return Err(format!("tensor spec `{spec}`: at most one layout flag"));
            }
        } else if flag == "positive" || parse_range(flag).is_some() {
            if domain.replace(flag.to_string()).is_some() {
                return Err(format!("tensor spec `{spec}`: at most one domain flag"));
            }
        } else {
            return Err(format!("tensor spec `{spec}`: unknown flag `{flag}` (layouts {LAYOUT_FLAGS:?}, domains positive, range(LO,HI))"));
        }
    }
    let needs = match layout.as_deref() {
        Some("t") => 2,
        Some("step") | Some("expand") => 1,
        _ => 0,
    };
    if sizes.len() < needs {
        return Err(format!("tensor spec `{spec}`: layout flag needs at least {needs} dims"));
    }
    Ok(TensorSpec {
        dtype,
        sizes,
        layout,
        domain,
    })
}

/// `range(LO,HI)` bounds, if `flag` is one.
pub fn parse_range(flag: &str) -> Option<(i64, i64)> {
    let inner = flag.strip_prefix("range(")?.strip_suffix(')')?;
    let (lo, hi) = inner.split_once(',')?;
    let (lo, hi) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo < hi).then_some((lo, hi))
}

fn is_tensor_arg(op: &OpModel, name: &str) -> bool {
    op.args.iter().any(|a| a.name == name && a.ty.base == BaseType::Tensor)
}

/// The tensor specs of a sample value: one string, or a list of them for
/// `Tensor[]` / `Tensor?[]`; `"none"` (an absent optional tensor) is skipped.
fn specs_of(v: &toml::Value) -> Vec<&str> {
    match v {
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| *s != "none" && *s != crate::variants::OUT_LIKE_RESULT)
    .collect()
}

/// Replaces a leading `*` in every spec of a sample value by `dtype`.
fn with_dtype(v: &toml::Value, dtype: &str) -> toml::Value {
    match v {
        toml::Value::String(s) if s.starts_with('*') => toml::Value::String(format!("{dtype}{}", &s[1..])),
        toml::Value::Array(items) => toml::Value::Array(items.iter().map(|i| with_dtype(i, dtype)).collect()),
        other => other.clone(),
    }
}

/// Expands `*` dtypes and splits off `error`; checks every tensor spec.
pub fn expand(op: &OpModel, dtypes: &[String]) -> Result<Vec<Sample>, String> {
    for d in dtypes {
        if !DTYPES.contains(&d.as_str()) {
            return Err(format!("claimed dtype `{d}` is not one of {DTYPES:?}"));
        }
    }
    let mut out = Vec::new();
    for (i, raw) in op.samples.iter().enumerate() {
        let mut args = raw.clone();
        let error = match args.remove("error") {
            None => None,
            Some(toml::Value::String(k)) if ERROR_KINDS.contains(&k.as_str()) => Some(k),
            Some(other) => {
                return Err(format!(
                    "sample {i}: `error` must be one of {ERROR_KINDS:?}, not {other}"
                ))
            }
        };
        let seed = match args.remove("seed") {
            None => None,
            Some(toml::Value::Integer(n)) if n >= 0 => Some(n),
            Some(other) => {
                return Err(format!(
                    "sample {i}: `seed` must be a non-negative integer, not {other}"
                ))
            }
        };
        let mut has_star = false;
        for (k, v) in &args {
            if is_tensor_arg(op, k) {
                for s in specs_of(v) {
                    has_star |= parse_spec(s).map_err(|e| format!("sample {i}: {e}"))?.dtype == "*";
                }
            }
        }
        if !has_star {
            out.push(Sample { args, error, seed });
            continue;
        }
        if dtypes.is_empty() {
            return Err(format!("sample {i} uses `*` but the op claims no `dtypes`"));
        }
        for d in dtypes {
            let args = args
                .iter()
                .map(|(k, v)| {
                    if is_tensor_arg(op, k) {
                        (k.clone(), with_dtype(v, d))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect();
            out.push(Sample {
                args,
                error: error.clone(),
                seed,
            });
        }
    }
    Ok(out)
}

/// The coverage rules of an op's expanded samples: at least 3; for ops with
/// tensor inputs one non-contiguous input and one 0-dim or size-0 input
/// (unless exempt with a reason); every claimed dtype used.
pub fn check_coverage(op: &OpModel, samples: &[Sample], dtypes: &[String], edge_exempt: bool) -> Result<(), String> {
    if samples.len() < 3 {
        return Err(format!("needs at least 3 samples, has {}", samples.len()));
    }
    let specs: Vec<TensorSpec> = samples
        .iter()
        .flat_map(|s| {
            s.args
                .iter()
                .filter(|(k, _)| is_tensor_arg(op, k))
                .flat_map(|(_, v)| specs_of(v))
        })
        .filter_map(|s| parse_spec(s).ok())
        .collect();
    let takes_tensors = op.args.iter().any(|a| a.ty.base == BaseType::Tensor);
    if takes_tensors && !specs.iter().any(|s| s.layout.is_some()) {
        return Err(format!(
            "needs a sample with a non-contiguous input (a layout flag: {LAYOUT_FLAGS:?})"
        ));
    }
    let edge = specs.iter().any(|s| s.sizes.is_empty() || s.sizes.contains(&0));
    if takes_tensors && !edge && !edge_exempt {
        return Err("needs a sample with a 0-dim or size-0 input, or `edge_case_exempt = \"reason\"`".to_string());
    }
    for d in dtypes {
        if !specs.iter().any(|s| &s.dtype == d) {
            return Err(format!("claims dtype `{d}` but no sample uses it"));
        }
    }
    Ok(())
}
