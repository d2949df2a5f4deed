//! Refuses to build when `generated/` is stale against `schema/`.

fn main() {
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    for p in [
        "schema/ops.toml",
        "schema/derivatives.toml",
        "generated",
        "tests/generated",
        "codegen/src",
        "codegen/templates",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    match ft_codegen::stale_files(&root) {
        Ok(stale) if stale.is_empty() => {}
        Ok(stale) => panic!(
            "generated code is stale against schema/ ({}). Regenerate with `{}` and commit the result.",
            stale.join(", "),
            ft_codegen::REGENERATE
        ),
        Err(errors) => panic!("schema/ is invalid:\n{}", errors.join("\n")),
    }
}
