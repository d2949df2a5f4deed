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
    for sub in ["schema", "generated", "tests/generated"] {
        copy_dir(&repo.join(sub), &dir.join(sub));
    }
    std::fs::copy(repo.join("rustfmt.toml"), dir.join("rustfmt.toml")).unwrap();
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
