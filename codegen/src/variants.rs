//! In-place and `out=` variants generated from a functional op.
//!
//! An `[[op]]` with `inplace = true` gets `name_.overload(Tensor(a!) self, …)
//! -> Tensor(a!)`; one with `out = "out"` gets `name.out(…, *, Tensor(a!) out)
//! -> Tensor(a!)` (several `out_name`s and a tuple return for a multi-output
//! op). Both compute the functional op, then write its result into
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
    if e.out_oracle
        .as_ref()
        .is_some_and(|o| o != "functional" || e.out.is_none())
    {
        return Err("`out_oracle` must be \"functional\", on an op with `out`".into());
    }
    if !e.inplace.wanted() && e.out.is_none() {
        return Ok(Vec::new());
    }
    let sig = signature::parse(&e.signature).map_err(|m| m.0)?;
    let (head, rest) = e.signature.split_once('(').ok_or("signature has no argument list")?;
    let (args, returns) = rest.rsplit_once(") ->").ok_or("signature has no return")?;
    let one_tensor = returns.trim() == "Tensor";
    if sig.is_view() || (e.inplace.wanted() && (!one_tensor || sig.mutates())) {
        return Err("in-place variants need a functional op returning one new Tensor".into());
    }
    if sig.returns.is_empty()
        || sig
            .returns
            .iter()
            .any(|r| r.ty.base != signature::BaseType::Tensor || r.ty.list.is_some() || r.ty.alias.is_some())
    {
        return Err("out= variants need a functional op returning new Tensors".into());
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
        let names = out_names(e, sig.returns.len())?;
        let sets = fresh_alias_sets(&sig, names.len());
        let out_args: Vec<String> = names
            .iter()
            .zip(&sets)
            .map(|(n, a)| format!("Tensor({a}!) {n}"))
            .collect();
        let ret = if one_tensor {
            format!("Tensor({}!)", sets[0])
        } else {
            let items: Vec<String> = sig
                .returns
                .iter()
                .zip(&sets)
                .map(|(r, a)| match r.name.as_str() {
                    "" => format!("Tensor({a}!)"),
                    n => format!("Tensor({a}!) {n}"),
                })
                .collect();
            format!("({})", items.join(", "))
        };
        let text = format!("{name}.{overload}({args}{sep}{}) -> {ret}", out_args.join(", "));
        let mut v = variant_entry(e, &text, VariantKind::Out)?;
        v.rust_name = Some(format!("{functional_rust}_out"));
        out.push((v, VariantKind::Out));
    }
    Ok(out)
}

/// The written arguments of `e`'s `out=` variant, one per return.
pub fn out_names(e: &OpEntry, returns: usize) -> Result<Vec<String>, String> {
    let names = e
        .out_name
        .as_ref()
        .map_or_else(|| vec!["out".to_string()], |n| n.names());
    if names.len() != returns {
        return Err(format!(
            "`out_name` gives {} name(s) but the op returns {returns} tensor(s); name one written argument per return",
            names.len()
        ));
    }
    Ok(names)
}

/// `n` alias set names (`a`, `b`, …) the functional signature does not use
/// already (`_native_batch_norm_legit` writes its running stats as `a`, `b`).
fn fresh_alias_sets(sig: &signature::Signature, n: usize) -> Vec<String> {
    let used: Vec<&str> = sig
        .args
        .iter()
        .filter_map(|a| a.ty.alias.as_ref().map(|al| al.set.as_str()))
        .collect();
    ('a'..='z')
        .map(String::from)
        .filter(|s| !used.contains(&s.as_str()))
        .take(n)
        .collect()
}

fn variant_entry(e: &OpEntry, text: &str, kind: VariantKind) -> Result<OpEntry, String> {
    let sig = signature::parse(text).map_err(|m| format!("derived signature `{text}`: {}", m.0))?;
    let mut v = e.clone();
    v.signature = text.to_string();
    v.inplace = crate::files::Inplace::Flag(false);
    v.out = None;
    v.out_name = None;
    v.out_oracle = None;
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
            let returns = signature::parse(&e.signature).map_or(1, |s| s.returns.len());
            for name in out_names(e, returns)? {
                for s in &mut v.samples {
                    s.insert(name.clone(), toml::Value::String(OUT_LIKE_RESULT.into()));
                }
            }
        }
    }
    Ok(v)
}
