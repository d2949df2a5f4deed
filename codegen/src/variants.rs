//! In-place and `out=` variants generated from a functional op.
//!
//! An `[[op]]` with `inplace = true` gets `name_.overload(Tensor(a!) self, …)
//! -> Tensor(a!)`; one with `out = "out"` gets `name.out(…, *, Tensor(a!) out)
//! -> Tensor(a!)`. Both compute the functional op, then write its result into
//! `self` / `out` under PyTorch's rules (no resize of `self`, result dtype
//! castable to the written tensor's dtype); see `src/variants.rs`.

use crate::files::OpEntry;
use crate::model::{op_key, VariantKind};
use crate::signature;

/// The value an `out=` sample gives its `out` argument: a zero tensor with the
/// shape and dtype of the functional op's result on the same inputs.
pub const OUT_LIKE_RESULT: &str = "result";

/// The variant entries `e` asks for, or why they cannot be derived.
pub fn derive_entries(
    e: &OpEntry,
    functional_rust: &str,
    functional_method: Option<&str>,
) -> Result<Vec<(OpEntry, VariantKind)>, String> {
    if !e.inplace.wanted() && e.out.is_none() {
        return Ok(Vec::new());
    }
    let sig = signature::parse(&e.signature).map_err(|m| m.0)?;
    let (head, rest) = e.signature.split_once('(').ok_or("signature has no argument list")?;
    let (args, returns) = rest.rsplit_once(") ->").ok_or("signature has no return")?;
    if returns.trim() != "Tensor" || sig.is_view() || sig.mutates() {
        return Err("in-place / out= variants need a functional op returning one new Tensor".into());
    }
    let name = head.split('.').next().unwrap_or(head);
    let mut out = Vec::new();
    if e.inplace.wanted() {
        let first = sig.args.first();
        if first.is_none_or(|a| a.name != "self" || a.ty.base != signature::BaseType::Tensor || a.ty.is_optional()) {
            return Err("an in-place variant needs `Tensor self` as the first argument".into());
        }
        let overload = match e.inplace.overload(&sig.overload) {
            "" => String::new(),
            o => format!(".{o}"),
        };
        let args = args.trim_start().replacen("Tensor self", "Tensor(a!) self", 1);
        let text = format!("{name}_{overload}({args}) -> Tensor(a!)");
        let mut v = variant_entry(e, &text, VariantKind::Inplace)?;
        v.rust_name = Some(format!("{functional_rust}_"));
        v.method_name = functional_method.map(|m| format!("{m}_"));
        out.push((v, VariantKind::Inplace));
    }
    if let Some(overload) = &e.out {
        let star = args.split(',').any(|a| a.trim() == "*");
        let sep = match (args.trim().is_empty(), star) {
            (true, _) => "*, ",
            (false, true) => ", ",
            (false, false) => ", *, ",
        };
        let out_name = e.out_name.as_deref().unwrap_or("out");
        let text = format!("{name}.{overload}({args}{sep}Tensor(a!) {out_name}) -> Tensor(a!)");
        let mut v = variant_entry(e, &text, VariantKind::Out)?;
        v.rust_name = Some(format!("{functional_rust}_out"));
        out.push((v, VariantKind::Out));
    }
    Ok(out)
}

fn variant_entry(e: &OpEntry, text: &str, kind: VariantKind) -> Result<OpEntry, String> {
    let sig = signature::parse(text).map_err(|m| format!("derived signature `{text}`: {}", m.0))?;
    let mut v = e.clone();
    v.signature = text.to_string();
    v.inplace = crate::files::Inplace::Flag(false);
    v.out = None;
    v.out_name = None;
    v.drift = Vec::new();
    v.tags.retain(|t| t != "core");
    // The in-place form of a composite op is composite too: it records the
    // functional op's graph and a `copy_` into `self` (see the kernel).
    let composite_inplace = kind == VariantKind::Inplace && e.kernels.contains_key("CompositeImplicitAutograd");
    let key = if composite_inplace {
        "CompositeImplicitAutograd"
    } else {
        "CompositeExplicitAutograd"
    };
    v.kernels = [(key.to_string(), format!("crate::generated_variants::{}", op_key(&sig)))]
        .into_iter()
        .collect();
    match kind {
        VariantKind::Inplace => {
            v.doc = Some(format!(
                "In-place `{}`: writes the result into `self` (which must have the result's shape and a dtype the result can be cast to).",
                e.signature.split('(').next().unwrap_or_default()
            ));
        }
        VariantKind::Out => {
            v.method_name = None;
            v.variants = vec!["function".into()];
            v.differentiable = Some(false);
            v.doc = Some(format!(
                "`{}` writing into `out` (which must have the result's shape; FrankenTorch does not resize it).",
                e.signature.split('(').next().unwrap_or_default()
            ));
            let out_name = e.out_name.clone().unwrap_or_else(|| "out".into());
            for s in &mut v.samples {
                s.insert(out_name.clone(), toml::Value::String(OUT_LIKE_RESULT.into()));
            }
        }
    }
    Ok(v)
}
