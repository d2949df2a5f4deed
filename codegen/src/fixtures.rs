//! Oracle fixtures (`tests/fixtures/oracle/*.toml`, written by
//! `tools/oracle/oracle.py` from real PyTorch): freshness against the schema's
//! expanded samples, and the per-op conformance summary in FEATURE_PARITY.md.

use crate::model::{AutogradMode, Model, OpModel};
use crate::samples::{parse_spec, Sample};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the fixtures live, relative to the repository root.
pub const FIXTURE_DIR: &str = "tests/fixtures/oracle";

/// The command that regenerates fixtures.
pub const REGENERATE_FIXTURES: &str = "bash tools/oracle/regen.sh";

/// The fixture file of an op (`add.Tensor` -> `tests/fixtures/oracle/add.Tensor.toml`).
pub fn fixture_path(root: &Path, op: &OpModel) -> PathBuf {
    root.join(FIXTURE_DIR).join(format!("{}.toml", op.qualified))
}

fn load(path: &Path) -> Option<toml::Table> {
    toml::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn samples_of(t: &toml::Table) -> Vec<&toml::Table> {
    t.get("sample")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_table()).collect())
        .unwrap_or_default()
}

fn spec_matches(recorded: Option<&toml::Value>, sample: &Sample) -> bool {
    let Some(toml::Value::Table(rec)) = recorded else {
        return false;
    };
    let error = rec.get("error").and_then(|e| e.as_str()).map(String::from);
    let seed = rec.get("seed").and_then(|s| s.as_integer());
    let args: toml::Table = rec
        .iter()
        .filter(|(k, _)| k.as_str() != "error" && k.as_str() != "seed")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    error == sample.error
        && seed == sample.seed
        && args.len() == sample.args.len()
        && sample.args.iter().all(|(k, v)| args.get(k) == Some(v))
}

/// Fixture problems, one line each (`path: reason`); empty when every op's
/// fixture exists and matches its expanded samples.
pub fn stale_fixtures(root: &Path, model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    let mut expected_files = BTreeSet::new();
    for op in &model.ops {
        let path = fixture_path(root, op);
        let rel = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        expected_files.insert(path.clone());
        let Some(table) = load(&path) else {
            out.push(format!("{rel}: missing or unreadable"));
            continue;
        };
        let recorded = samples_of(&table);
        if recorded.len() != op.expanded.len() {
            out.push(format!(
                "{rel}: has {} samples, the schema expands to {}",
                recorded.len(),
                op.expanded.len()
            ));
            continue;
        }
        for (i, (r, s)) in recorded.iter().zip(&op.expanded).enumerate() {
            if !spec_matches(r.get("spec"), s) {
                out.push(format!("{rel}: sample {i} spec differs from schema/ops.toml"));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(root.join(FIXTURE_DIR)) {
        let mut extra: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| !expected_files.contains(p))
            .map(|p| {
                format!(
                    "{}: fixture of an op not in the schema",
                    p.strip_prefix(root).unwrap_or(&p).display()
                )
            })
            .collect();
        extra.sort();
        out.extend(extra);
    }
    out
}

/// One row of the conformance table.
pub(crate) struct Row {
    pub(crate) op: String,
    pub(crate) dtypes: String,
    pub(crate) layouts: String,
    pub(crate) forward: String,
    pub(crate) backward: String,
    pub(crate) gradcheck: &'static str,
    pub(crate) drift: String,
}

pub(crate) fn row(root: &Path, op: &OpModel) -> Row {
    let specs: Vec<_> = op
        .expanded
        .iter()
        .flat_map(|s| {
            s.args
                .values()
                .filter_map(|v| v.as_str())
                .filter_map(|v| parse_spec(v).ok())
        })
        .collect();
    let dtypes: BTreeSet<String> = specs.iter().map(|s| s.dtype.clone()).collect();
    let mut layouts: BTreeSet<String> = specs
        .iter()
        .map(|s| s.layout.clone().unwrap_or_else(|| "contiguous".into()))
        .collect();
    if specs.iter().any(|s| s.sizes.is_empty()) {
        layouts.insert("0-dim".into());
    }
    if specs.iter().any(|s| s.sizes.contains(&0)) {
        layouts.insert("size-0".into());
    }
    let fixture = load(&fixture_path(root, op));
    let recorded = fixture.as_ref().map(samples_of).unwrap_or_default();
    let errors = recorded.iter().filter(|s| s.contains_key("error")).count();
    let with_grads = recorded
        .iter()
        .filter(|s| s.get("grad").and_then(|g| g.as_array()).is_some_and(|a| !a.is_empty()))
        .count();
    let forward = match &fixture {
        None => "no fixture".to_string(),
        Some(_) if errors > 0 => format!("{}/{} ({errors} error)", recorded.len(), op.expanded.len()),
        Some(_) => format!("{}/{}", recorded.len(), op.expanded.len()),
    };
    let differentiable = op.autograd != AutogradMode::Fallthrough;
    let backward = if !differentiable || op.is_inplace() {
        "n/a".to_string()
    } else {
        format!("{with_grads} samples")
    };
    let gradcheck = if differentiable
        && !op.is_inplace()
        && op.expanded.iter().any(|s| {
            s.error.is_none()
                && s.args
                    .values()
                    .filter_map(|v| v.as_str())
                    .all(|v| !v.contains('[') || v.starts_with("f64"))
        }) {
        "yes"
    } else {
        "—"
    };
    let drift = op
        .drift
        .iter()
        .map(|d| format!("{} ({}; pinned by `{}`)", d.behavior, d.why, d.test))
        .collect::<Vec<_>>()
        .join("; ");
    Row {
        op: format!("`aten::{}`", op.qualified),
        dtypes: dtypes.into_iter().collect::<Vec<_>>().join(" "),
        layouts: layouts.into_iter().collect::<Vec<_>>().join(", "),
        forward,
        backward,
        gradcheck,
        drift: if drift.is_empty() { "—".into() } else { drift },
    }
}

/// Renders FEATURE_PARITY.md: the generated per-op table followed by the
/// hand-written notes of `schema/parity_notes.md`.
pub fn render_parity(root: &Path, model: &Model, coverage: &str, notes: &str) -> String {
    let torch = model
        .ops
        .iter()
        .find_map(|op| {
            load(&fixture_path(root, op)).and_then(|t| t.get("torch").and_then(|v| v.as_str()).map(String::from))
        })
        .unwrap_or_else(|| "none yet".into());
    let mut s = String::new();
    s.push_str("# Feature parity and drift ledger\n\n");
    s.push_str("<!-- @generated by `cargo run -p frankentorch-codegen` from schema/ops.toml, tests/fixtures/oracle/ and schema/parity_notes.md. Do not edit by hand. -->\n\n");
    s.push_str(&format!(
        "Every operator in the schema, measured against PyTorch {torch} (the oracle). *Forward*: expanded samples with a committed \
         fixture / samples in the schema (samples where PyTorch raises check that we raise too). *Backward*: samples whose input \
         gradients are compared with PyTorch's for a fixed upstream gradient. *Gradcheck*: numerical vs analytical Jacobians in \
         float64 (and gradgradcheck where the formula is differentiable). Fixtures are regenerated with `{REGENERATE_FIXTURES}`; \
         tolerances follow `torch.testing.assert_close` per dtype (tools/oracle/FORMAT.md).\n\n"
    ));
    s.push_str("| op | dtypes | layouts | forward | backward | gradcheck | drift |\n|---|---|---|---|---|---|---|\n");
    for op in &model.ops {
        let r = row(root, op);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.op, r.dtypes, r.layouts, r.forward, r.backward, r.gradcheck, r.drift
        ));
    }
    s.push('\n');
    s.push_str(coverage);
    s.push('\n');
    s.push_str(notes.trim_end());
    s.push('\n');
    s
}

/// Checks that each drift entry names a test function that exists.
pub fn check_drift_tests(root: &Path, model: &Model) -> Vec<String> {
    let mut sources = String::new();
    for dir in ["tests", "src", "runtime/src", "kernels/src"] {
        collect_rs(&root.join(dir), &mut sources);
    }
    let mut out = Vec::new();
    for op in &model.ops {
        for d in &op.drift {
            if !sources.contains(&format!("fn {}(", d.test)) {
                out.push(format!(
                    "schema/ops.toml: {}: drift `{}` names test `{}`, which does not exist; every drift needs a test pinning it",
                    op.qualified, d.behavior, d.test
                ));
            }
        }
    }
    out
}

fn collect_rs(dir: &Path, into: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_rs(&p, into);
        } else if p.extension().is_some_and(|x| x == "rs") {
            if let Ok(text) = std::fs::read_to_string(&p) {
                into.push_str(&text);
            }
        }
    }
}
