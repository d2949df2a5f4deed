//! FrankenTorch's code generator: reads `schema/ops.toml` and
//! `schema/derivatives.toml`, validates them, and renders `generated/` and
//! `tests/generated/`.
//!
//! ```no_run
//! let root = std::path::Path::new(".");
//! let stale = ft_codegen::stale_files(root).expect("schema is valid");
//! assert!(stale.is_empty(), "run `cargo run -p frankentorch-codegen`");
//! ```

pub mod coverage;
pub mod derive;
pub mod files;
pub mod fixtures;
pub mod formula;
pub mod model;
pub mod render;
pub mod samples;
pub mod signature;
pub mod testgen;
pub mod types;
pub mod variants;

use std::path::{Path, PathBuf};

/// The command that regenerates everything.
pub const REGENERATE: &str = "cargo run -p frankentorch-codegen";

/// Directories whose contents are entirely generated.
pub const OUTPUT_DIRS: [&str; 2] = ["generated", "tests/generated"];

/// Renders every output file from the schema under `root`, or lists every
/// validation error (`file: entry: problem`).
pub fn generate(root: &Path) -> Result<Vec<(PathBuf, String)>, Vec<String>> {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| vec![format!("{p}: cannot read: {e}")]);
    let ops = read("schema/ops.toml")?;
    let derivs = read("schema/derivatives.toml")?;
    let model = model::build(&ops, &derivs).map_err(|es| es.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    let sample_errors: Vec<String> = model
        .ops
        .iter()
        .filter_map(|op| testgen::sample_tests(op, false).err())
        .map(|e| format!("schema/ops.toml: {e}"))
        .collect();
    let mut sample_errors = sample_errors;
    sample_errors.extend(fixtures::check_drift_tests(root, &model));
    if !sample_errors.is_empty() {
        return Err(sample_errors);
    }
    let mut files = render::render(&model).map_err(|e| vec![e])?;
    files.push((
        "tests/generated/main.rs".into(),
        format!(
            "{}\n\nmod ops;\n#[path = \"../support/oracle.rs\"]\nmod oracle;\nmod properties;\n",
            render::HEADER
        ),
    ));
    let config = root.join("rustfmt.toml");
    let mut out: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|(p, t)| {
            Ok((
                root.join(&p),
                rustfmt(&t, &config).map_err(|e| vec![format!("{p}: {e}")])?,
            ))
        })
        .collect::<Result<_, Vec<String>>>()?;
    let notes = read("schema/parity_notes.md")?;
    let opset =
        coverage::parse_opset(&read(coverage::OPSET)?).map_err(|e| vec![format!("{}: {e}", coverage::OPSET)])?;
    let coverage = coverage::render(root, &model, &opset);
    out.push((
        root.join("FEATURE_PARITY.md"),
        fixtures::render_parity(root, &model, &coverage, &notes),
    ));
    Ok(out)
}

/// Problems with the oracle fixtures (missing, or out of date with the
/// schema's samples), one line each.
pub fn stale_fixtures(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let read = |p: &str| std::fs::read_to_string(root.join(p)).map_err(|e| vec![format!("{p}: cannot read: {e}")]);
    let model = model::build(&read("schema/ops.toml")?, &read("schema/derivatives.toml")?)
        .map_err(|es| es.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    Ok(fixtures::stale_fixtures(root, &model))
}

/// Formats generated Rust with the repository's rustfmt configuration, so
/// generated files pass `cargo fmt --check` and read like hand-written code.
fn rustfmt(text: &str, config: &Path) -> Result<String, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let mut child = Command::new(rustfmt)
        .arg("--emit=stdout")
        .arg("--config-path")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt (install it with `rustup component add rustfmt`): {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt rejected generated code:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn existing_outputs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in OUTPUT_DIRS {
        if let Ok(entries) = std::fs::read_dir(root.join(d)) {
            for e in entries.flatten() {
                if e.path().is_file() {
                    out.push(e.path());
                }
            }
        }
    }
    out.sort();
    out
}

/// Files that differ from what the schema generates (missing, changed, or
/// left over), relative to `root`.
pub fn stale_files(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let files = generate(root)?;
    let mut stale = Vec::new();
    for (path, text) in &files {
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.clone());
        }
    }
    for p in existing_outputs(root) {
        if !files.iter().any(|(f, _)| f == &p) {
            stale.push(p);
        }
    }
    Ok(stale
        .iter()
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect())
}

/// Writes every generated file and removes left-over ones; returns the paths written.
pub fn write_all(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let files = generate(root)?;
    for p in existing_outputs(root) {
        if !files.iter().any(|(f, _)| f == &p) {
            std::fs::remove_file(&p).map_err(|e| vec![format!("{}: {e}", p.display())])?;
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| vec![format!("{}: {e}", dir.display())])?;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| vec![format!("{}: {e}", path.display())])?;
            written.push(path.strip_prefix(root).unwrap_or(&path).display().to_string());
        }
    }
    Ok(written)
}
