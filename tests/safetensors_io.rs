//! safetensors files on disk: memory-mapped reading (`SafeTensorsMmap`)
//! agrees with `deserialize` on Python's files, loads only what is asked
//! for, fails closed like `deserialize`; loading through a sidecar under
//! each `SidecarPolicy`; several metadata entries written deterministically.

#[path = "support/tempdir.rs"]
mod tempdir;

use frankentorch::prelude::*;
use frankentorch::serialize::safetensors::{self, SafeTensorsMmap};
use frankentorch::serialize::{read_bytes, sidecar, LoadOpts, SidecarPolicy};
use frankentorch::ErrorKind;
use std::collections::BTreeMap;
use tempdir::TempDir;

fn st_path(file: &str) -> String {
    format!(
        "{}/tests/fixtures/safetensors/{file}.safetensors",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn mmap_agrees_with_deserialize_on_python_files() {
    for file in ["all_dtypes", "scalars_empty", "non_contiguous"] {
        let bytes = std::fs::read(st_path(file)).unwrap();
        let whole = safetensors::deserialize(&bytes).unwrap();
        let mapped = SafeTensorsMmap::open(st_path(file)).unwrap();
        assert_eq!(mapped.metadata(), whole.metadata.as_ref(), "{file}");
        assert_eq!(mapped.file_len(), bytes.len());
        let names: Vec<&str> = whole.tensors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(mapped.names(), names, "{file}: file order");
        for (name, t) in &whole.tensors {
            let info = mapped.info(name).unwrap();
            assert_eq!(
                (info.dtype, info.shape.as_slice()),
                (t.dtype(), t.sizes()),
                "{file}/{name}"
            );
            let m = mapped.tensor(name).unwrap();
            assert_eq!((m.dtype(), m.sizes()), (t.dtype(), t.sizes()));
            assert_eq!(m.to_f64_vec(), t.to_f64_vec(), "{file}/{name}");
        }
        assert_eq!(mapped.load_all().unwrap().len(), whole.tensors.len());
    }
}

#[test]
fn mmap_loads_only_the_tensors_asked_for() {
    let dir = TempDir::new("st_mmap_only");
    let path = dir.join("m.safetensors");
    let big = ops::arange_full(100_000, Some(DType::F32), None, None, None).unwrap();
    let flag = Tensor::from_vec(vec![true, false], &[2]).unwrap();
    safetensors::save_file(&[("big", big), ("flag", flag)], None, &path).unwrap();
    let f = SafeTensorsMmap::open(&path).unwrap();
    let some = f.load_only(&["flag"]).unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(some["flag"].to_vec::<bool>().unwrap(), vec![true, false]);
    assert_eq!(f.info("big").unwrap().data_offsets, (0, 400_000));
    let e = f.load_only(&["flag", "nope"]).unwrap_err();
    assert!(e.message().contains("\"nope\""), "{e}");
    // A BOOL byte other than 0/1 is caught when that tensor is materialised.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = 7;
    std::fs::write(&path, &bytes).unwrap();
    drop(f);
    let f = SafeTensorsMmap::open(&path).unwrap();
    assert!(f.tensor("big").is_ok());
    assert!(f.tensor("flag").unwrap_err().message().contains("not 0 or 1"));
}

#[test]
fn mmap_fails_closed_like_deserialize() {
    let dir = TempDir::new("st_mmap_bad");
    let good = std::fs::read(st_path("all_dtypes")).unwrap();
    let path = dir.join("bad.safetensors");
    for cut in [0usize, 5, 8, 20, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        let a = SafeTensorsMmap::open(&path).unwrap_err();
        let b = safetensors::deserialize(&good[..cut]).unwrap_err();
        assert_eq!(a.kind(), b.kind(), "cut {cut}");
        assert!(a.message().ends_with(b.message()), "cut {cut}: {a} vs {b}");
        assert!(a.message().contains("bad.safetensors"));
    }
    assert!(SafeTensorsMmap::open(dir.join("missing.safetensors")).is_err());
}

#[test]
fn a_mapped_file_replaced_by_save_file_keeps_its_old_contents() {
    let dir = TempDir::new("st_mmap_replace");
    let path = dir.join("m.safetensors");
    safetensors::save_file(&[("x", ops::ones(&[4]).unwrap())], None, &path).unwrap();
    let f = SafeTensorsMmap::open(&path).unwrap();
    safetensors::save_file(&[("x", ops::zeros(&[4]).unwrap())], None, &path).unwrap();
    assert_eq!(f.tensor("x").unwrap().to_vec::<f32>().unwrap(), vec![1.0; 4]);
    assert_eq!(
        safetensors::load_file(&path).unwrap()["x"].to_vec::<f32>().unwrap(),
        vec![0.0; 4]
    );
}

#[test]
fn several_metadata_entries_are_written_sorted_and_read_back() {
    let meta: BTreeMap<String, String> = [("z", "1"), ("a", "2"), ("m", "\"quoted\"")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t = ops::ones(&[1]).unwrap();
    let bytes = safetensors::save(&[("t", t.clone())], Some(&meta)).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(
        header.starts_with(r#"{"__metadata__":{"a":"2","m":"\"quoted\"","z":"1"},"t":{"#),
        "{header}"
    );
    assert_eq!(safetensors::deserialize(&bytes).unwrap().metadata, Some(meta.clone()));
    assert_eq!(bytes, safetensors::save(&[("t", t)], Some(&meta)).unwrap());
    // Metadata and no tensors.
    let empty: [(&str, Tensor); 0] = [];
    let bytes = safetensors::save(&empty, Some(&meta)).unwrap();
    assert_eq!(bytes.len() % 8, 0);
    assert_eq!(safetensors::deserialize(&bytes).unwrap().metadata, Some(meta));
}

#[test]
fn loading_through_the_sidecar_under_each_policy() {
    let dir = TempDir::new("st_policy");
    let path = dir.join("m.safetensors");
    let w = ops::arange_full(3000, Some(DType::F64), None, None, None).unwrap();
    safetensors::save_file(&[("w", w.clone())], None, &path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let [ignore, if_present, require] =
        [SidecarPolicy::Ignore, SidecarPolicy::IfPresent, SidecarPolicy::Require].map(|sidecar| LoadOpts { sidecar });
    // No sidecar: IfPresent reads the file, Require refuses.
    assert!(safetensors::load_file_with(&path, &if_present).is_ok());
    let e = safetensors::load_file_with(&path, &require).unwrap_err();
    assert!(e.message().contains("no sidecar"), "{e}");
    sidecar::write(&path, &Default::default()).unwrap();
    // Damage inside the tensor data: Ignore loads wrong values silently
    // (as torch would), the sidecar policies load the right ones.
    let mut bad = good.clone();
    bad[5000] ^= 0x01;
    std::fs::write(&path, &bad).unwrap();
    let wrong = safetensors::load_file_with(&path, &ignore).unwrap()["w"]
        .to_vec::<f64>()
        .unwrap();
    assert_ne!(wrong, w.to_vec::<f64>().unwrap());
    for opts in [if_present, require] {
        let got = safetensors::load_file_with(&path, &opts).unwrap();
        assert_eq!(got["w"].to_vec::<f64>().unwrap(), w.to_vec::<f64>().unwrap());
        let e = SafeTensorsMmap::open_with(&path, &opts).unwrap_err();
        assert!(e.message().contains("repair it first"), "{e}");
    }
    let (_, report) = read_bytes(&path, &if_present).unwrap();
    assert_eq!(report.unwrap().repaired[0].damaged_ranges, vec![4096..8192]);
    // Damage beyond the budget: refused, never wrong tensors.
    let mut worse = good.clone();
    for b in worse.iter_mut().skip(100).step_by(4096) {
        *b ^= 0xff;
    }
    worse[4200] ^= 0xff;
    std::fs::write(&path, &worse).unwrap();
    let e = safetensors::load_file_with(&path, &require).unwrap_err();
    assert_eq!((e.kind(), e.op()), (ErrorKind::InvalidArgument, "ckpt.sidecar"));
    assert!(e.message().contains("budget"), "{e}");
    std::fs::write(&path, &good).unwrap();
    assert!(SafeTensorsMmap::open_with(&path, &require).is_ok());
}

#[test]
fn mmap_never_panics_on_corrupted_files() {
    let dir = TempDir::new("st_mmap_fuzz");
    let path = dir.join("f.safetensors");
    let good = std::fs::read(st_path("scalars_empty")).unwrap();
    for i in 0..good.len() {
        for v in [0u8, 0xff, good[i] ^ 1, b'"'] {
            let mut bad = good.clone();
            bad[i] = v;
            std::fs::write(&path, &bad).unwrap();
            match SafeTensorsMmap::open(&path) {
                Ok(f) => {
                    let whole = safetensors::deserialize(&bad);
                    assert_eq!(f.load_all().is_ok(), whole.is_ok(), "byte {i} = {v}");
                }
                Err(e) => assert!(safetensors::deserialize(&bad).is_err(), "byte {i} = {v}: {e}"),
            }
        }
    }
}
