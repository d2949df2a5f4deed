//! Data loading and training utilities against PyTorch: every record of
//! `tests/fixtures/scenarios/data.toml` (written by
//! `tools/oracle/scenarios/data.py`) is replayed here — DataLoader orders
//! for global and generator seeds (on the calling thread and with a
//! prefetching worker), collation, `random_split`, `RandomSampler`,
//! `clip_grad_norm_` / `clip_grad_value_`, parameter vectors, constructor
//! errors, the digits data set's statistics, and the safetensors files
//! written by Python's `safetensors` (read, and written back byte for byte).

use frankentorch::nn::utils::{
    clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters, ClipGradNormOpts,
};
use frankentorch::prelude::*;
use frankentorch::serialize::safetensors;
use frankentorch::utils::data::{
    random_split, DataLoader, DataLoaderOpts, Dataset, RandomSampler, Sampler, SequentialSampler, SplitLengths,
    TensorDataset,
};
use frankentorch::{ErrorKind, Generator};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Tests that use the default generator run one at a time.
fn global_rng() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture() -> &'static toml::Table {
    static F: OnceLock<toml::Table> = OnceLock::new();
    F.get_or_init(|| {
        let path = format!("{}/tests/fixtures/scenarios/data.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}; run tools/oracle/scenarios/data.py"));
        toml::from_str(&text).expect("valid TOML")
    })
}

fn records(key: &str) -> Vec<&'static toml::Table> {
    fixture()
        .get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("fixture has no [[{key}]]"))
        .iter()
        .map(|v| v.as_table().expect("table"))
        .collect()
}

fn s<'a>(r: &'a toml::Table, k: &str) -> &'a str {
    r.get(k).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("field {k}"))
}
fn int(r: &toml::Table, k: &str) -> i64 {
    r.get(k)
        .and_then(|v| v.as_integer())
        .unwrap_or_else(|| panic!("field {k}"))
}
fn boolean(r: &toml::Table, k: &str) -> bool {
    r.get(k)
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("field {k}"))
}
fn float(r: &toml::Table, k: &str) -> f64 {
    let v = r.get(k).unwrap_or_else(|| panic!("field {k}"));
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .expect("number")
}
fn nums(v: &toml::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| {
            x.as_float()
                .or_else(|| x.as_integer().map(|i| i as f64))
                .expect("number")
        })
        .collect()
}
fn ints(v: &toml::Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_integer().expect("int"))
        .collect()
}
fn nested_ints(v: &toml::Value) -> Vec<Vec<i64>> {
    v.as_array().expect("array").iter().map(ints).collect()
}

/// `int(torch.empty((), dtype=torch.int64).random_(generator=g))`.
fn draw(g: Option<&Generator>) -> i64 {
    let t = ops::zeros_full(&[], Some(DType::I64), None, None, None).unwrap();
    ops::random_full_(&t, g).unwrap();
    t.item().unwrap().to_i64()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], dtype: DType) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let (rtol, atol) = match dtype {
        DType::F32 => (1.3e-6, 1e-5),
        DType::F64 => (1e-7, 1e-7),
        _ => (0.0, 0.0),
    };
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = if g.is_nan() || w.is_nan() {
            g.is_nan() && w.is_nan()
        } else if g.is_infinite() || w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(ok, "{what}: element {i} is {g}, torch has {w}");
    }
}

fn pass(loader: &DataLoader<TensorDataset, Vec<Tensor>>) -> Vec<Vec<i64>> {
    loader.iter().map(|b| b.unwrap()[0].to_vec::<i64>().unwrap()).collect()
}

#[test]
fn loader_orders_match_torch_on_both_threads() {
    let _rng = global_rng();
    let cases = records("loader");
    assert_eq!(cases.len(), 48);
    for workers in [0, 1] {
        for r in &cases {
            let name = format!("{} (num_workers={workers})", s(r, "name"));
            let seed = int(r, "seed") as u64;
            manual_seed(seed);
            let g = boolean(r, "generator").then(|| Generator::new(seed));
            let data = TensorDataset::new(vec![ops::arange(int(r, "n")).unwrap()]).unwrap();
            let opts = DataLoaderOpts {
                batch_size: int(r, "batch_size") as usize,
                shuffle: boolean(r, "shuffle"),
                drop_last: boolean(r, "drop_last"),
                generator: g.clone(),
                num_workers: workers,
                ..Default::default()
            };
            let loader = DataLoader::new(data, opts).unwrap();
            assert_eq!(loader.len() as i64, int(r, "length"), "{name}: len");
            assert_eq!(pass(&loader), nested_ints(&r["pass0"]), "{name}: first pass");
            assert_eq!(pass(&loader), nested_ints(&r["pass1"]), "{name}: second pass");
            assert_eq!(
                draw(None),
                int(r, "next_default"),
                "{name}: default generator afterwards"
            );
            if let Some(g) = &g {
                assert_eq!(
                    draw(Some(g)),
                    int(r, "next_generator"),
                    "{name}: loader generator afterwards"
                );
            }
        }
    }
}

#[test]
fn default_collate_batches_features_and_labels() {
    let _rng = global_rng();
    manual_seed(5);
    let x = ops::randn(&[7, 3]).unwrap();
    let inputs = fixture()["collate_inputs"].as_table().unwrap();
    assert_close("randn inputs", &x.to_f64_vec(), &nums(&inputs["x_values"]), DType::F32);
    let y = ops::mul_scalar(&ops::arange(7).unwrap(), 10).unwrap();
    for workers in [0, 1] {
        // The global stream after randn, as when the fixture ran.
        manual_seed(5);
        ops::randn(&[7, 3]).unwrap();
        let data = TensorDataset::new(vec![x.clone(), y.clone()]).unwrap();
        let opts = DataLoaderOpts {
            batch_size: 3,
            shuffle: true,
            num_workers: workers,
            prefetch_factor: (workers > 0).then_some(1),
            ..Default::default()
        };
        let loader = DataLoader::new(data, opts).unwrap();
        let batches: Vec<Vec<Tensor>> = loader.iter().collect::<Result<_>>().unwrap();
        let recs = records("collate");
        assert_eq!(batches.len(), recs.len());
        for (b, r) in batches.iter().zip(recs) {
            let what = format!("batch {}", int(r, "batch"));
            assert_eq!(b[0].dtype().name(), s(r, "x_dtype"), "{what}");
            assert_eq!(b[1].dtype().name(), s(r, "y_dtype"), "{what}");
            let xs: Vec<usize> = ints(&r["x_shape"]).iter().map(|&v| v as usize).collect();
            assert_eq!(b[0].sizes(), xs.as_slice(), "{what}: x shape");
            assert_close(&what, &b[0].to_f64_vec(), &nums(&r["x_values"]), DType::F32);
            assert_eq!(b[1].to_vec::<i64>().unwrap(), ints(&r["y_values"]), "{what}: labels");
        }
    }
}

fn split_lengths(r: &toml::Table) -> SplitLengths {
    let v = nums(&r["lengths"]);
    if boolean(r, "fractions") {
        SplitLengths::Fractions(v)
    } else {
        SplitLengths::Counts(v.into_iter().map(|x| x as usize).collect())
    }
}

#[test]
fn random_split_matches_torch() {
    let _rng = global_rng();
    for r in records("split") {
        let name = s(r, "name");
        let data = Arc::new(TensorDataset::new(vec![ops::arange(int(r, "n")).unwrap()]).unwrap());
        let seed = int(r, "seed");
        let g = (seed >= 0).then(|| Generator::new(seed as u64));
        if seed < 0 {
            manual_seed(int(r, "global_seed") as u64);
        }
        let parts = random_split(data, split_lengths(r), g.as_ref()).unwrap();
        let got: Vec<Vec<i64>> = parts
            .iter()
            .map(|p| p.indices().iter().map(|&i| i as i64).collect())
            .collect();
        assert_eq!(got, nested_ints(&r["parts"]), "{name}");
        for p in &parts {
            for i in 0..p.len() {
                let item = p.get(i).unwrap()[0].item().unwrap().to_i64();
                assert_eq!(item, p.indices()[i] as i64, "{name}: subset item");
            }
        }
        assert_eq!(draw(g.as_ref()), int(r, "next_draw"), "{name}: generator afterwards");
    }
    for r in records("split_error") {
        let data = Arc::new(TensorDataset::new(vec![ops::arange(int(r, "n")).unwrap()]).unwrap());
        let e = random_split(data, split_lengths(r), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{}", s(r, "name"));
        assert_eq!(e.message(), s(r, "message"), "{}", s(r, "name"));
    }
}

#[test]
fn random_sampler_draws_match_torch() {
    let _rng = global_rng();
    for r in records("sampler") {
        let name = s(r, "name");
        let seed = int(r, "seed");
        let n = int(r, "n") as usize;
        let (indices, after) = if seed >= 0 {
            let g = Generator::new(seed as u64);
            let sampler = RandomSampler::new(
                n,
                boolean(r, "replacement"),
                Some(int(r, "num_samples") as usize),
                Some(g.clone()),
            )
            .unwrap();
            assert_eq!(sampler.len() as i64, int(r, "num_samples"));
            (sampler.indices().unwrap(), draw(Some(&g)))
        } else {
            manual_seed(11);
            let sampler = RandomSampler::new(n, false, None, None).unwrap();
            let mut both = sampler.indices().unwrap();
            both.extend(sampler.indices().unwrap());
            (both, draw(None))
        };
        let got: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        assert_eq!(got, ints(&r["indices"]), "{name}");
        assert_eq!(after, int(r, "next_draw"), "{name}: generator afterwards");
    }
}

fn dtype_named(name: &str) -> DType {
    DType::from_name(name).unwrap_or_else(|| panic!("dtype {name}"))
}

fn tensor_of(values: &[f64], shape: &[usize], dtype: DType) -> Tensor {
    let t = Tensor::from_vec(values.to_vec(), shape).unwrap();
    ops::_to_copy_full(&t, Some(dtype), None, None, None, false, None).unwrap()
}

#[test]
fn clip_grad_matches_torch() {
    for r in records("clip") {
        let name = s(r, "name");
        let dtypes: Vec<DType> = r["dtypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| dtype_named(d.as_str().unwrap()))
            .collect();
        let shapes: Vec<Vec<usize>> = nested_ints(&r["shapes"])
            .into_iter()
            .map(|s| s.into_iter().map(|v| v as usize).collect())
            .collect();
        let before: Vec<Vec<f64>> = r["grads_before"].as_array().unwrap().iter().map(nums).collect();
        let params: Vec<Tensor> = (0..dtypes.len())
            .map(|i| {
                let p = ops::zeros_full(
                    &shapes[i].iter().map(|&v| v as i64).collect::<Vec<_>>(),
                    Some(dtypes[i]),
                    None,
                    None,
                    None,
                )
                .unwrap();
                p.requires_grad_(true).unwrap();
                p.set_grad(Some(tensor_of(&before[i], &shapes[i], dtypes[i]))).unwrap();
                p
            })
            .collect();
        let result = if s(r, "kind") == "value" {
            clip_grad_value_(&params, float(r, "clip_value")).map(|_| None)
        } else {
            let opts = ClipGradNormOpts {
                norm_type: float(r, "norm_type"),
                error_if_nonfinite: boolean(r, "error_if_nonfinite"),
            };
            clip_grad_norm_(&params, float(r, "max_norm"), opts).map(Some)
        };
        if let Some(msg) = r.get("error_message") {
            let e = result.expect_err(name);
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}");
            assert_eq!(e.message(), msg.as_str().unwrap(), "{name}");
            continue;
        }
        let total = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(total) = total {
            let dt = dtype_named(s(r, "total_dtype"));
            assert_eq!(total.dtype(), dt, "{name}: total norm dtype");
            assert_close(&format!("{name}: total"), &total.to_f64_vec(), &[float(r, "total")], dt);
        }
        let after: Vec<Vec<f64>> = r["grads_after"].as_array().unwrap().iter().map(nums).collect();
        for (i, p) in params.iter().enumerate() {
            assert_close(
                &format!("{name}: grad {i}"),
                &p.grad().unwrap().to_f64_vec(),
                &after[i],
                dtypes[i],
            );
        }
    }
}

#[test]
fn parameter_vectors_match_torch() {
    let rec = |n: &str| {
        *records("vector")
            .iter()
            .find(|r| s(r, "name") == n)
            .unwrap_or_else(|| panic!("no vector case {n}"))
    };
    let a = ops::view(
        &ops::arange_full(6, Some(DType::F32), None, None, None).unwrap(),
        &[2, 3],
    )
    .unwrap();
    let b = Tensor::from_vec(vec![7.0f32, 8.0], &[2]).unwrap();
    let v = parameters_to_vector(&[a, b]).unwrap();
    assert_eq!(v.to_f64_vec(), nums(&rec("to_vector")["values"]));

    let p = ops::zeros(&[2, 2]).unwrap();
    let q = ops::zeros_full(&[3], Some(DType::F64), None, None, None).unwrap();
    let src = ops::div_scalar(&ops::arange_full(10, Some(DType::F32), None, None, None).unwrap(), 4).unwrap();
    vector_to_parameters(&src, &[p.clone(), q.clone()]).unwrap();
    let mut got = p.to_f64_vec();
    got.extend(q.to_f64_vec());
    assert_eq!(got, nums(&rec("from_vector_longer")["values"]));

    let short = ops::arange_full(5, Some(DType::F32), None, None, None).unwrap();
    let e = vector_to_parameters(&short, &[ops::zeros(&[2, 3]).unwrap()]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
    assert_eq!(e.message(), s(rec("from_vector_short"), "error_message"));

    let t = ops::t(&ops::zeros(&[3, 2]).unwrap()).unwrap();
    let e = parameters_to_vector(&[t]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
    assert!(
        e.message().starts_with(
            s(rec("to_vector_non_contiguous"), "error_message")
                .split(" (")
                .next()
                .unwrap()
        ),
        "{e}"
    );
}

/// A dataset of the tensors in a vector (Python's list as a dataset).
struct Tensors(Vec<Tensor>);

impl Dataset for Tensors {
    type Item = Tensor;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Result<Tensor> {
        self.0
            .get(index)
            .cloned()
            .ok_or_else(|| Error::index("Tensors", "list index out of range"))
    }
}

#[test]
fn constructor_errors_match_torch() {
    let _rng = global_rng();
    let three = || TensorDataset::new(vec![ops::zeros(&[3]).unwrap()]).unwrap();
    for r in records("error") {
        let name = s(r, "name");
        let err: Error = match name {
            "tensor_dataset_size_mismatch" => {
                TensorDataset::new(vec![ops::zeros(&[3]).unwrap(), ops::zeros(&[4]).unwrap()]).unwrap_err()
            }
            "loader_batch_size_zero" => DataLoader::new(
                three(),
                DataLoaderOpts {
                    batch_size: 0,
                    ..Default::default()
                },
            )
            .err()
            .unwrap(),
            "loader_sampler_and_shuffle" => DataLoader::new(
                three(),
                DataLoaderOpts {
                    sampler: Some(Arc::new(SequentialSampler::new(3))),
                    shuffle: true,
                    ..Default::default()
                },
            )
            .err()
            .unwrap(),
            "loader_prefetch_without_workers" => DataLoader::new(
                three(),
                DataLoaderOpts {
                    prefetch_factor: Some(2),
                    ..Default::default()
                },
            )
            .err()
            .unwrap(),
            "loader_shuffle_empty" => DataLoader::new(
                TensorDataset::new(vec![ops::zeros(&[0]).unwrap()]).unwrap(),
                DataLoaderOpts {
                    shuffle: true,
                    ..Default::default()
                },
            )
            .err()
            .unwrap(),
            "collate_unequal_shapes" => {
                let data = Tensors(vec![ops::zeros(&[2]).unwrap(), ops::zeros(&[3]).unwrap()]);
                let loader = DataLoader::new(
                    data,
                    DataLoaderOpts {
                        batch_size: 2,
                        ..Default::default()
                    },
                )
                .unwrap();
                let first = loader.iter().next().unwrap();
                first.unwrap_err()
            }
            other => panic!("no Rust side for error case {other}"),
        };
        let kind = match s(r, "kind") {
            "ShapeMismatch" => ErrorKind::ShapeMismatch,
            "InvalidArgument" => ErrorKind::InvalidArgument,
            k => panic!("kind {k}"),
        };
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert_eq!(err.message(), s(r, "message"), "{name}");
    }
}

#[test]
fn prefetching_worker_stops_when_the_pass_is_dropped() {
    let data = TensorDataset::new(vec![ops::arange(100).unwrap()]).unwrap();
    let opts = DataLoaderOpts {
        batch_size: 1,
        num_workers: 1,
        prefetch_factor: Some(2),
        generator: Some(Generator::new(3)),
        ..Default::default()
    };
    let loader = DataLoader::new(data, opts).unwrap();
    let mut it = loader.iter();
    assert_eq!(it.next().unwrap().unwrap()[0].to_vec::<i64>().unwrap(), vec![0]);
    drop(it); // joins the worker blocked on the full channel
    assert_eq!(loader.iter().count(), 100);
    let e = DataLoader::new(
        TensorDataset::new(vec![ops::arange(3).unwrap()]).unwrap(),
        DataLoaderOpts {
            num_workers: 2,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
}

#[test]
fn digits_match_sklearn() {
    let d = frankentorch::datasets::load_digits(format!("{}/data/digits.csv.gz", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let r = fixture()["digits"].as_table().unwrap();
    assert_eq!(d.images.sizes(), &[int(r, "rows") as usize, int(r, "cols") as usize]);
    assert_eq!(d.images.dtype(), DType::F32);
    assert_eq!(d.target.dtype(), DType::I64);
    let labels = d.target.to_vec::<i64>().unwrap();
    let mut counts = vec![0i64; 10];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, ints(&r["class_counts"]));
    assert_eq!(labels[..20].to_vec(), ints(&r["first_labels"]));
    assert_eq!(labels.iter().sum::<i64>(), int(r, "label_sum"));
    let px = d.images.to_vec::<f32>().unwrap();
    let mut col = vec![0i64; 64];
    px.iter().enumerate().for_each(|(i, &v)| col[i % 64] += v as i64);
    assert_eq!(col, ints(&r["pixel_column_sums"]));
    assert_eq!(col.iter().sum::<i64>(), int(r, "total"));
    assert_eq!(
        px[..64].iter().map(|&v| v as i64).collect::<Vec<_>>(),
        ints(&r["first_row"])
    );
    assert_eq!(px.iter().fold(0f32, |a, &b| a.max(b)) as i64, int(r, "max_pixel"));
    assert_eq!(d.images_8x8().unwrap().sizes(), &[1797, 1, 8, 8]);
    let missing = frankentorch::datasets::load_digits("/nonexistent/digits.csv.gz").unwrap_err();
    assert!(missing.message().contains("/nonexistent/digits.csv.gz"), "{missing}");
}

fn st_path(file: &str) -> String {
    format!(
        "{}/tests/fixtures/safetensors/{file}.safetensors",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn st_metadata(file: &str) -> Option<BTreeMap<String, String>> {
    let r = records("safetensors_metadata")
        .into_iter()
        .find(|r| s(r, "file") == file)?;
    let keys = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string());
    let values = r["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string());
    Some(keys.zip(values).collect())
}

#[test]
fn safetensors_files_from_python_load_and_round_trip_byte_for_byte() {
    for file in ["all_dtypes", "scalars_empty", "non_contiguous"] {
        let bytes = std::fs::read(st_path(file)).unwrap();
        let loaded = safetensors::deserialize(&bytes).unwrap();
        assert_eq!(loaded.metadata, st_metadata(file), "{file}: metadata");
        let expected: Vec<_> = records("safetensors")
            .into_iter()
            .filter(|r| s(r, "file") == file)
            .collect();
        assert_eq!(loaded.tensors.len(), expected.len(), "{file}: tensor count");
        let by_name: BTreeMap<_, _> = loaded.tensors.iter().cloned().collect();
        for r in &expected {
            let what = format!("{file}/{}", s(r, "name"));
            let t = &by_name[s(r, "name")];
            assert_eq!(t.dtype().name(), s(r, "dtype"), "{what}");
            let shape: Vec<usize> = ints(&r["shape"]).iter().map(|&v| v as usize).collect();
            assert_eq!(t.sizes(), shape.as_slice(), "{what}: shape");
            assert_eq!(t.to_f64_vec(), nums(&r["values"]), "{what}: values");
        }
        let again = safetensors::save(&loaded.tensors, loaded.metadata.as_ref()).unwrap();
        assert!(again == bytes, "{file}: our bytes differ from Python's");
    }
}

#[test]
fn safetensors_writes_non_contiguous_tensors_like_python_writes_their_copies() {
    let base = ops::view(
        &ops::arange_full(6, Some(DType::F32), None, None, None).unwrap(),
        &[2, 3],
    )
    .unwrap();
    let transposed = ops::t(&base).unwrap();
    let strided = ops::slice(&ops::arange(10).unwrap(), 0, Some(1), None, 3).unwrap();
    assert!(!transposed.is_contiguous() && strided.strides() == [3]);
    let meta: BTreeMap<String, String> = [("source".to_string(), "frankentorch test".to_string())].into();
    let dir = std::env::temp_dir().join(format!("ft_data_test_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("non_contiguous.safetensors");
    safetensors::save_file(&[("strided", strided), ("transposed", transposed)], Some(&meta), &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(st_path("non_contiguous")).unwrap()
    );
    let back = safetensors::load_file(&path).unwrap();
    assert_eq!(
        back["transposed"].to_vec::<f32>().unwrap(),
        vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A file with the given header JSON and data bytes.
fn file_with(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn safetensors_reader_fails_closed() {
    let ok = file_with(
        r#"{"a":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}}"#,
        &[1, 0, 2, 0],
    );
    assert_eq!(
        safetensors::load(&ok).unwrap()["a"].to_vec::<i16>().unwrap(),
        vec![1, 2]
    );
    let two =
        r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#;
    assert!(safetensors::load(&file_with(two, &[1, 2, 3, 4])).is_ok());
    let mut past_end = ok.clone();
    past_end[..8].copy_from_slice(&1000u64.to_le_bytes());
    let mut huge = ok.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut not_utf8 = file_with("{ }", &[]);
    not_utf8[9] = 0xff;
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        (
            "too short",
            vec![1, 2, 3],
            ErrorKind::InvalidArgument,
            "shorter than the 8-byte",
        ),
        (
            "header past the end",
            past_end,
            ErrorKind::InvalidArgument,
            "runs past the end",
        ),
        (
            "header too large",
            huge,
            ErrorKind::InvalidArgument,
            "larger than the limit",
        ),
        ("not UTF-8", not_utf8, ErrorKind::InvalidArgument, "not UTF-8"),
        (
            "invalid JSON",
            file_with("{\"a\":", &[]),
            ErrorKind::InvalidArgument,
            "not a valid JSON object",
        ),
        (
            "not an object",
            file_with("[1,2]", &[]),
            ErrorKind::InvalidArgument,
            "not a valid JSON object",
        ),
        (
            "text after JSON",
            file_with("{} x", &[]),
            ErrorKind::InvalidArgument,
            "text after",
        ),
        (
            "duplicate names",
            file_with(
                r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
                &[1, 2],
            ),
            ErrorKind::InvalidArgument,
            "duplicate key",
        ),
        (
            "overlapping offsets",
            file_with(
                r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#,
                &[1, 2, 3],
            ),
            ErrorKind::InvalidArgument,
            "do not start where the previous tensor ends",
        ),
        (
            "gap",
            file_with(r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, &[1, 2]),
            ErrorKind::InvalidArgument,
            "do not start where",
        ),
        (
            "reversed offsets",
            file_with(
                r#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}}"#,
                &[1, 2],
            ),
            ErrorKind::InvalidArgument,
            "do not start where",
        ),
        (
            "offsets out of range",
            file_with(r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, &[1, 2]),
            ErrorKind::InvalidArgument,
            "run past the end of the data",
        ),
        (
            "byte count differs from shape",
            file_with(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
                &[0, 0, 0, 0],
            ),
            ErrorKind::InvalidArgument,
            "needs 8",
        ),
        (
            "shape overflow",
            file_with(
                r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#,
                &[],
            ),
            ErrorKind::InvalidArgument,
            "overflows",
        ),
        (
            "unknown dtype",
            file_with(r#"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, &[0]),
            ErrorKind::InvalidArgument,
            "unknown dtype",
        ),
        (
            "dtype we lack",
            file_with(r#"{"a":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}}"#, &[0, 0]),
            ErrorKind::NotSupported,
            "U16",
        ),
        (
            "trailing garbage",
            file_with(r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, &[1, 9, 9]),
            ErrorKind::InvalidArgument,
            "2 bytes of data follow the last tensor",
        ),
        (
            "bool byte 2",
            file_with(r#"{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, &[1, 2]),
            ErrorKind::InvalidArgument,
            "not 0 or 1",
        ),
        (
            "metadata value not a string",
            file_with(r#"{"__metadata__":{"k":1}}"#, &[]),
            ErrorKind::InvalidArgument,
            "must be a string",
        ),
        (
            "extra field",
            file_with(r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":0}}"#, &[1]),
            ErrorKind::InvalidArgument,
            "unexpected field",
        ),
        (
            "missing field",
            file_with(r#"{"a":{"dtype":"U8","shape":[1]}}"#, &[]),
            ErrorKind::InvalidArgument,
            "missing field",
        ),
        (
            "negative size",
            file_with(r#"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#, &[]),
            ErrorKind::InvalidArgument,
            "non-negative integers",
        ),
    ];
    for (what, bytes, kind, needle) in cases {
        let e = safetensors::deserialize(&bytes).expect_err(what);
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert!(e.message().contains(needle), "{what}: {e}");
    }
    // Writer-side errors.
    let t = ops::zeros(&[1]).unwrap();
    assert!(safetensors::save(&[("a", t.clone()), ("a", t.clone())], None).is_err());
    assert!(safetensors::save(&[("__metadata__", t)], None).is_err());
}

#[test]
fn safetensors_reader_never_panics_on_corrupted_bytes() {
    let good = std::fs::read(st_path("all_dtypes")).unwrap();
    for i in 0..good.len() {
        for v in [0u8, 0xff, good[i] ^ 1, b'"', b'}'] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = safetensors::deserialize(&bad);
        }
        let _ = safetensors::deserialize(&good[..i]);
    }
}
