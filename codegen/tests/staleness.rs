//! The regeneration check: a schema edit without regenerating, or a hand
//! edit of generated code, is reported with the stale file names; output is
//! deterministic.

use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_file() {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A scratch copy of the repository's schema and generated code.
fn scratch_repo(name: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("ft-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in [
        "schema",
        "schema/reference",
        "generated",
        "tests",
        "tests/generated",
        "tests/fixtures/oracle",
    ] {
        copy_dir(&repo.join(sub), &dir.join(sub));
    }
    std::fs::copy(repo.join("rustfmt.toml"), dir.join("rustfmt.toml")).unwrap();
    std::fs::copy(repo.join("FEATURE_PARITY.md"), dir.join("FEATURE_PARITY.md")).unwrap();
    dir
}

#[test]
fn committed_generated_code_is_fresh() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(ft_codegen::stale_files(&repo).unwrap(), Vec::<String>::new());
}

#[test]
fn schema_edit_without_regenerating_is_stale() {
    let dir = scratch_repo("schema-edit");
    let ops = dir.join("schema/ops.toml");
    let text = std::fs::read_to_string(&ops).unwrap();
    std::fs::write(&ops, text.replace("Sine of each element", "Sine of every element")).unwrap();
    let stale = ft_codegen::stale_files(&dir).unwrap();
    assert_eq!(stale, vec!["generated/ops.rs".to_string()]);
    ft_codegen::write_all(&dir).unwrap();
    assert!(
        ft_codegen::stale_files(&dir).unwrap().is_empty(),
        "regenerating fixes it"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn hand_edit_of_generated_code_is_stale() {
    let dir = scratch_repo("hand-edit");
    let f = dir.join("generated/autograd.rs");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replace("\"AddBackward0\"", "\"AddBackwardX\"")).unwrap();
    std::fs::write(dir.join("generated/extra.rs"), "// left over\n").unwrap();
    let stale = ft_codegen::stale_files(&dir).unwrap();
    assert_eq!(
        stale,
        vec!["generated/autograd.rs".to_string(), "generated/extra.rs".to_string()]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generation_is_deterministic() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let a = ft_codegen::generate(&repo).unwrap();
    let b = ft_codegen::generate(&repo).unwrap();
    assert_eq!(a, b);
}

#[test]
fn committed_fixtures_are_fresh() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert_eq!(ft_codegen::stale_fixtures(&repo).unwrap(), Vec::<String>::new());
}

#[test]
fn sample_spec_change_without_new_fixtures_is_stale() {
    let dir = scratch_repo("spec-edit");
    let ops = dir.join("schema/ops.toml");
    let text = std::fs::read_to_string(&ops).unwrap();
    let edited = text.replacen(
        "{ self = \"f64[3,4]\", other = \"f64[4]\" }",
        "{ self = \"f64[3,5]\", other = \"f64[5]\" }",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&ops, edited).unwrap();
    // The generated `add.out` variant shares add.Tensor's samples.
    assert_eq!(
        ft_codegen::stale_fixtures(&dir).unwrap(),
        vec![
            "tests/fixtures/oracle/add.Tensor.toml: sample 0 spec differs from schema/ops.toml".to_string(),
            "tests/fixtures/oracle/add.out.toml: sample 0 spec differs from schema/ops.toml".to_string()
        ]
    );
    std::fs::remove_file(dir.join("tests/fixtures/oracle/mm.toml")).unwrap();
    let stale = ft_codegen::stale_fixtures(&dir).unwrap();
    assert!(
        stale.contains(&"tests/fixtures/oracle/mm.toml: missing or unreadable".to_string()),
        "{stale:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn feature_parity_is_generated_and_checked() {
    let dir = scratch_repo("parity");
    let f = dir.join("FEATURE_PARITY.md");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("| `aten::add.Tensor` |"), "every schema op has a row");
    std::fs::write(&f, text.replace("| `aten::mm` |", "| `aten::mmm` |")).unwrap();
    assert_eq!(
        ft_codegen::stale_files(&dir).unwrap(),
        vec!["FEATURE_PARITY.md".to_string()]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn drift_without_a_pinning_test_is_rejected() {
    let dir = scratch_repo("drift");
    let ops = dir.join("schema/ops.toml");
    let text = std::fs::read_to_string(&ops).unwrap();
    std::fs::write(
        &ops,
        text.replace("test = \"empty_is_zero_filled\"", "test = \"no_such_test\""),
    )
    .unwrap();
    let errors = ft_codegen::generate(&dir).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("names test `no_such_test`, which does not exist")),
        "{errors:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
