//! The `frankentorch-ckpt` binary end to end on small files in a temp dir:
//! inspect, protect, verify, repair, convert, help and usage errors with
//! their exit statuses.

#[path = "support/tempdir.rs"]
mod tempdir;

use frankentorch::prelude::*;
use frankentorch::serialize::{safetensors, sidecar};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use tempdir::TempDir;

/// Runs the binary; (exit status, stdout, stderr).
fn ckpt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_frankentorch-ckpt"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A small checkpoint with metadata.
fn checkpoint(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("model.safetensors");
    let w = ops::view(
        &ops::arange_full(6000, Some(DType::F32), None, None, None).unwrap(),
        &[60, 100],
    )
    .unwrap();
    let b = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
    let meta: BTreeMap<String, String> = [("format".to_string(), "pt".to_string())].into();
    safetensors::save_file(&[("layer.weight", w), ("layer.bias", b)], Some(&meta), &path).unwrap();
    path
}

#[test]
fn help_and_usage_errors() {
    for flag in ["--help", "-h", "help"] {
        let (code, out, _) = ckpt(&[flag]);
        assert_eq!(code, 0);
        assert!(
            out.contains("USAGE") && out.contains("protect FILE [--overhead F]"),
            "{out}"
        );
    }
    for (args, needle) in [
        (vec![], "no command given"),
        (vec!["frobnicate"], "unknown command \"frobnicate\""),
        (vec!["inspect"], "inspect needs a FILE"),
        (vec!["verify", "a", "b"], "unexpected argument \"b\""),
        (vec!["convert", "a"], "convert needs SRC and DST"),
        (vec!["protect", "a", "--overhead"], "--overhead needs a value"),
        (
            vec!["protect", "a", "--overhead", "lots"],
            "invalid value \"lots\" for --overhead",
        ),
        (vec!["protect", "a", "--fast"], "unknown option \"--fast\""),
        (vec!["convert", "a", "b.txt"], "output format"),
    ] {
        let (code, out, err) = ckpt(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert!(err.starts_with("error: ") && err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn inspect_lists_tensors_dtypes_shapes_sizes_and_metadata() {
    let dir = TempDir::new("cli_inspect");
    let path = checkpoint(&dir);
    let (code, out, err) = ckpt(&["inspect", p(&path)]);
    assert_eq!(code, 0, "{err}");
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(out.contains(&format!("safetensors, {len} bytes")), "{out}");
    assert!(out.contains("metadata:\n  format: pt\n"), "{out}");
    assert!(out.contains("tensors: 2\n"), "{out}");
    // File order: int64 before float32.
    let bias = out.find("  layer.bias  int64  [3]  24 bytes").expect(&out);
    let weight = out.find("  layer.weight  float32  [60, 100]  24000 bytes").expect(&out);
    assert!(bias < weight);
    assert!(
        out.contains("total: 6003 elements, 24024 bytes of tensor data"),
        "{out}"
    );
    assert!(!out.contains("sidecar:"));
    // Not a safetensors file, a missing file, a .pt file.
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"\x01\x02\x03").unwrap();
    let (code, _, err) = ckpt(&["inspect", p(&junk)]);
    assert!(code == 2 && err.contains("shorter than the 8-byte"), "{err}");
    let (code, _, err) = ckpt(&["inspect", p(&dir.join("none.safetensors"))]);
    assert!(code == 2 && err.contains("none.safetensors"), "{err}");
    // A safetensors header length whose low byte is 0x80 (the first byte of
    // a pickle) is still read as safetensors.
    let tricky = dir.join("tricky.safetensors");
    let bytes = (1..300)
        .map(|n| safetensors::save(&[("x".repeat(n), ops::ones(&[1]).unwrap())], None).unwrap())
        .find(|b| b[0] == 0x80)
        .unwrap();
    std::fs::write(&tricky, &bytes).unwrap();
    let (code, out, err) = ckpt(&["inspect", p(&tricky)]);
    assert!(code == 0 && out.contains("float32  [1]  4 bytes"), "{out}{err}");
    let pt = dir.join("m.pt");
    std::fs::write(&pt, b"PK\x03\x04rest").unwrap();
    let (code, _, err) = ckpt(&["inspect", p(&pt)]);
    assert!(code == 2 && err.contains("torch.load"), "{err}");
}

#[test]
fn protect_verify_damage_repair_cycle() {
    let dir = TempDir::new("cli_cycle");
    let path = checkpoint(&dir);
    let good = std::fs::read(&path).unwrap();
    let (code, out, err) = ckpt(&["protect", p(&path), "--overhead", "0.2", "--symbol-size", "1024"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("24 source and 7 repair symbols"), "{out}"); // budget ceil(24 × 0.2) = 5, plus 2
    assert!(sidecar::sidecar_path(&path).exists());
    let (code, out, _) = ckpt(&["verify", p(&path)]);
    assert_eq!(code, 0);
    assert!(out.contains(": clean"), "{out}");
    assert!(ckpt(&["inspect", p(&path)]).1.contains("sidecar: "));
    // Damage two symbols.
    let mut bad = good.clone();
    bad[3000] ^= 0x20;
    bad[9000] ^= 0x02;
    std::fs::write(&path, &bad).unwrap();
    let (code, out, err) = ckpt(&["verify", p(&path)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("DAMAGED, repairable") && out.contains("bytes 2048..3072, 8192..9216"),
        "{out}"
    );
    assert!(err.contains("run `frankentorch-ckpt repair`"), "{err}");
    let (code, out, err) = ckpt(&["repair", p(&path)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("repaired") && out.contains("2 damaged source symbol(s)"),
        "{out}"
    );
    assert!(std::fs::read(&path).unwrap() == good);
    let (code, out, _) = ckpt(&["repair", p(&path)]);
    assert!(code == 0 && out.contains("clean, nothing to repair"), "{out}");
    // Beyond the budget: verify exits 1, repair refuses with 1 and changes nothing.
    let mut worse = good.clone();
    for i in 0..6 {
        worse[100 + 1024 * i] ^= 0xff;
    }
    std::fs::write(&path, &worse).unwrap();
    let (code, out, _) = ckpt(&["verify", p(&path)]);
    assert!(
        code == 1 && out.contains("NOT repairable") && out.contains("budget 5"),
        "{out}"
    );
    let (code, _, err) = ckpt(&["repair", p(&path)]);
    assert!(code == 1 && err.contains("more than its budget of 5"), "{err}");
    assert!(std::fs::read(&path).unwrap() == worse);
    // A damaged sidecar header, and no sidecar: errors with status 2.
    std::fs::write(&path, &good).unwrap();
    let sc = sidecar::sidecar_path(&path);
    let mut s = std::fs::read(&sc).unwrap();
    s[20] ^= 1;
    std::fs::write(&sc, &s).unwrap();
    let (code, _, err) = ckpt(&["verify", p(&path)]);
    assert!(code == 2 && err.contains("header is damaged"), "{err}");
    std::fs::remove_file(&sc).unwrap();
    let (code, _, err) = ckpt(&["verify", p(&path)]);
    assert!(code == 2 && err.contains("cannot read the sidecar"), "{err}");
}

#[test]
fn convert_safetensors_to_safetensors_through_the_sidecar() {
    let dir = TempDir::new("cli_convert");
    let path = checkpoint(&dir);
    let good = std::fs::read(&path).unwrap();
    let out_path = dir.join("copy.safetensors");
    let (code, out, err) = ckpt(&["convert", p(&path), p(&out_path)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(2 tensors)"), "{out}");
    assert!(std::fs::read(&out_path).unwrap() == good, "the copy differs");
    // A damaged source with a sidecar converts to the original bytes.
    assert_eq!(ckpt(&["protect", p(&path)]).0, 0);
    let mut bad = good.clone();
    bad[500] ^= 0x08;
    std::fs::write(&path, &bad).unwrap();
    std::fs::remove_file(&out_path).unwrap();
    let (code, _, err) = ckpt(&["convert", p(&path), p(&out_path)]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&out_path).unwrap() == good);
}

#[test]
fn convert_between_safetensors_and_pt_keeps_every_tensor() {
    let dir = TempDir::new("cli_convert_pt");
    let path = checkpoint(&dir);
    let pt_path = dir.join("model.pt");
    let (code, out, err) = ckpt(&["convert", p(&path), p(&pt_path)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(2 tensors)"), "{out}");
    let loaded = frankentorch::serialize::pt::load_state_dict(&pt_path).unwrap();
    // In safetensors file order (the int64 bias is stored first).
    assert_eq!(loaded.keys(), ["layer.bias", "layer.weight"]);
    let (code, out, _) = ckpt(&["inspect", p(&pt_path)]);
    assert_eq!(code, 0);
    assert!(
        out.contains("layer.weight  torch.float32  [60, 100]  24000 bytes"),
        "{out}"
    );
    let back = dir.join("back.safetensors");
    let (code, _, err) = ckpt(&["convert", p(&pt_path), p(&back)]);
    assert_eq!(code, 0, "{err}");
    // The round trip loses only the metadata (a .pt file has no place for it).
    let original = safetensors::load_file(&path).unwrap();
    let again = safetensors::load_file(&back).unwrap();
    assert_eq!(original.len(), again.len());
    for (name, t) in &original {
        assert_eq!(t.to_f64_vec(), again[name].to_f64_vec(), "{name}");
        assert_eq!(t.dtype(), again[name].dtype(), "{name}");
    }
}
