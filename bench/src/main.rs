//! `frankentorch-bench`: the workloads of `shared/bench/BASELINES.md` (the
//! same names, units and timing rules as `torch_bench.py`), one JSON line per
//! workload after a first `meta` line.
//!
//! ```text
//! cargo run --release -p frankentorch-bench [-- --only matmul,elementwise] [--threads N]
//! ```

mod suites;
mod timing;
mod train;

use frankentorch::{manual_seed, parallel};
use std::process::ExitCode;
use suites::SUITES;

/// Command-line options.
struct Args {
    only: Vec<String>,
    threads: usize,
}

const USAGE: &str = "usage: frankentorch-bench [--only SUITE,...] [--threads N]\n\
    suites: matmul, elementwise, layout, reductions, overhead, mlp, cnn";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        only: Vec::new(),
        threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{key} needs a value"))
        };
        match key.as_str() {
            "--only" => {
                args.only = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
            }
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    for s in &args.only {
        if !SUITES.iter().any(|(n, _)| n == s) {
            return Err(format!("unknown suite {s}\n{USAGE}"));
        }
    }
    Ok(args)
}

/// The widest SIMD level this CPU offers (the kernels pick their own path;
/// `FT_CPU_CAPABILITY` may force a lower one).
fn cpu_capability() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "avx2";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        return "neon";
    }
    #[allow(unreachable_code)]
    "scalar"
}

/// The checked-out commit, when run inside a git work tree.
fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    manual_seed(0);
    let threads = args.threads;
    let result = parallel::with_threads(threads, move || -> frankentorch::Result<()> {
        let env_cap = std::env::var("FT_CPU_CAPABILITY").ok();
        timing::emit(
            "meta",
            0.0,
            "",
            &[
                ("frankentorch", env!("CARGO_PKG_VERSION").into()),
                ("threads", parallel::num_threads().into()),
                ("cpu_capability", cpu_capability().into()),
                ("ft_cpu_capability_env", env_cap.into()),
                ("commit", git_commit().into()),
                timing::info(),
            ],
        );
        for (name, suite) in SUITES {
            if args.only.is_empty() || args.only.iter().any(|s| s == name) {
                suite()?;
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frankentorch-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
