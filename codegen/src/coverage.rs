//! The Core ATen coverage list of FEATURE_PARITY.md: every overload of
//! PyTorch's Core ATen opset (`schema/reference/core_aten_opset.tsv`, copied
//! from PyTorch's `core` tag) with what the schema implements of it.
//!
//! ```
//! let opset = ft_codegen::coverage::parse_opset(
//!     "# comment\naten::abs(Tensor self) -> Tensor\tcore,pointwise\n",
//! )
//! .unwrap();
//! assert_eq!(opset[0].qualified, "abs");
//! assert_eq!(opset[0].signature, "abs(Tensor self) -> Tensor");
//! ```

use crate::fixtures::row;
use crate::model::{AutogradMode, Model, VariantKind};
use crate::testgen::tests_of;
use std::path::Path;

/// The opset file, relative to the repository root.
pub const OPSET: &str = "schema/reference/core_aten_opset.tsv";

/// Overloads V1 leaves out on purpose, with the reason shown in the list.
pub const EXCLUDED: [(&str, &str); 2] = [
    ("_fft_c2r", "complex dtypes are not in V1"),
    ("_fft_r2c", "complex dtypes are not in V1"),
];

/// One overload of the opset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreOverload {
    /// `add.Tensor`, `abs`.
    pub qualified: String,
    /// The schema without the `aten::` namespace.
    pub signature: String,
}

/// Parses the opset file: `aten::<schema>\t<tags>` per line, `#` comments.
pub fn parse_opset(text: &str) -> Result<Vec<CoreOverload>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let schema = line.split('\t').next().unwrap_or(line);
        let signature = schema
            .strip_prefix("aten::")
            .ok_or_else(|| format!("line {}: expected `aten::<schema>`", n + 1))?;
        let qualified = signature
            .split_once('(')
            .map(|(q, _)| q.to_string())
            .ok_or_else(|| format!("line {}: no argument list in `{signature}`", n + 1))?;
        out.push(CoreOverload {
            qualified,
            signature: signature.to_string(),
        });
    }
    Ok(out)
}

fn excluded_reason(qualified: &str) -> Option<&'static str> {
    EXCLUDED.iter().find(|(q, _)| *q == qualified).map(|(_, why)| *why)
}

/// Overloads that are neither implemented nor excluded.
pub fn missing<'a>(model: &Model, opset: &'a [CoreOverload]) -> Vec<&'a CoreOverload> {
    opset
        .iter()
        .filter(|c| excluded_reason(&c.qualified).is_none())
        .filter(|c| !model.ops.iter().any(|op| op.qualified == c.qualified))
        .collect()
}

/// Renders the coverage section (markdown).
pub fn render(root: &Path, model: &Model, opset: &[CoreOverload]) -> String {
    let missing = missing(model, opset);
    let wanted = opset.iter().filter(|c| excluded_reason(&c.qualified).is_none()).count();
    let mut s = String::from("## Core ATen coverage\n\n");
    s.push_str(&format!(
        "PyTorch's Core ATen opset ({OPSET}, {} overloads): {} of the {wanted} in scope are implemented; {} excluded. \
         *Forward*, *backward* and *gradcheck* are as in the table above; *gradgradcheck* counts the samples whose \
         second derivative is checked numerically.\n\n",
        opset.len(),
        wanted - missing.len(),
        EXCLUDED.len(),
    ));
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| format!("`{}`", c.qualified)).collect();
        s.push_str(&format!("Not yet implemented: {}.\n\n", names.join(", ")));
    }
    s.push_str("| overload | status | forward | backward | gradcheck samples | gradgradcheck samples |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for c in opset {
        s.push_str(&coverage_row(root, model, c));
    }
    s
}

fn coverage_row(root: &Path, model: &Model, c: &CoreOverload) -> String {
    let name = format!("`aten::{}`", c.qualified);
    if let Some(why) = excluded_reason(&c.qualified) {
        return format!("| {name} | excluded: {why} | — | — | — | — |\n");
    }
    let Some(op) = model.ops.iter().find(|op| op.qualified == c.qualified) else {
        return format!("| {name} | **missing** | — | — | — | — |\n");
    };
    let r = row(root, op);
    let tests = tests_of(model, op);
    let gradcheck = tests.iter().filter(|t| t.gradcheck()).count();
    let gradgradcheck = tests.iter().filter(|t| t.gradgradcheck()).count();
    let out_variant = op.derived.as_ref().is_some_and(|d| d.kind == VariantKind::Out);
    let mut status = if out_variant {
        "implemented; `out=` records no gradient, as in PyTorch".to_string()
    } else if op.autograd == AutogradMode::Fallthrough {
        "implemented; not differentiable in PyTorch".to_string()
    } else if matches!(op.autograd, AutogradMode::Formula(i) if model.nodes[i].not_implemented) {
        "implemented; backward raises \"not implemented\", as in PyTorch".to_string()
    } else {
        "implemented".to_string()
    };
    if squash(&op.signature_text) != squash(&c.signature) {
        status.push_str(&format!("; our signature: `{}`", op.signature_text));
    }
    let count = |n: usize| if n == 0 { "—".to_string() } else { n.to_string() };
    format!(
        "| {name} | {status} | {} | {} | {} | {} |\n",
        r.forward,
        r.backward,
        count(gradcheck),
        count(gradgradcheck)
    )
}

/// A signature with spelling-only differences removed: whitespace, quote
/// style, and float defaults written as `2.`.
fn squash(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<String>().replace('"', "'");
    let mut out = String::with_capacity(s.len());
    let mut prev_digit = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let bare_point = c == '.' && prev_digit && !chars.peek().is_some_and(|n| n.is_ascii_digit());
        if !bare_point {
            out.push(c);
        }
        prev_digit = c.is_ascii_digit();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::squash;

    #[test]
    fn squash_ignores_spelling_only_differences() {
        assert_eq!(squash("f(float p=2.) -> T"), squash("f(float p=2) -> T"));
        assert_eq!(squash("g(str a=\"none\")"), squash("g(str a='none')"));
        assert_ne!(squash("f(float p=2.5)"), squash("f(float p=2)"));
    }
}
