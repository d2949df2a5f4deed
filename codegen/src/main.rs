//! `ft-codegen`: regenerates `generated/` and `tests/generated/` from the
//! schema, or with `--check` verifies they are up to date.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    if let Some(bad) = args.iter().find(|a| *a != "--check") {
        eprintln!("usage: ft-codegen [--check]   (unknown argument `{bad}`)");
        return ExitCode::from(2);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.canonicalize().unwrap_or(root);
    if check {
        match ft_codegen::stale_fixtures(&root) {
            Ok(problems) if !problems.is_empty() => {
                eprintln!(
                    "oracle fixtures are stale; run `{}`, then `{}`:",
                    ft_codegen::fixtures::REGENERATE_FIXTURES,
                    ft_codegen::REGENERATE
                );
                for p in problems {
                    eprintln!("  {p}");
                }
                return ExitCode::from(1);
            }
            Ok(_) => {}
            Err(errors) => {
                for e in errors {
                    eprintln!("error: {e}");
                }
                return ExitCode::from(1);
            }
        }
    }
    let result = if check {
        ft_codegen::stale_files(&root)
    } else {
        ft_codegen::write_all(&root)
    };
    match result {
        Err(errors) => {
            for e in errors {
                eprintln!("error: {e}");
            }
            ExitCode::from(1)
        }
        Ok(files) if check && !files.is_empty() => {
            eprintln!(
                "generated code is stale; run `{}`. Stale files:",
                ft_codegen::REGENERATE
            );
            for f in files {
                eprintln!("  {f}");
            }
            ExitCode::from(1)
        }
        Ok(files) => {
            if check {
                println!("generated code is up to date");
            } else {
                println!("wrote {} file(s)", files.len());
                for f in files {
                    println!("  {f}");
                }
            }
            ExitCode::SUCCESS
        }
    }
}
