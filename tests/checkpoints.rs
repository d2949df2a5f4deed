//! `.pt` checkpoints against real torch (fixtures from tools/oracle/checkpoints.py):
//! every fixture loads with torch's dtypes, shapes, strides, offsets, storage
//! sharing, flags and exact values; re-saving it reproduces torch's bytes
//! (but for the first half of `.data/serialization_id`); hostile files are refused
//! with the recorded error. Re-saved files are left in
//! `target/tmp/checkpoints-out/` for tools/oracle/check_our_pt.py.

#[path = "support/scenario.rs"]
mod scenario;

use frankentorch::nn::{BatchNorm1d, Forward, Linear, Module, ReLU, Sequential};
use frankentorch::optim::{Adam, AdamOpts, Optimizer, SgdOpts, SGD};
use frankentorch::prelude::*;
use frankentorch::serialize::zip::ZipArchive;
use frankentorch::serialize::{pt, Value};
use frankentorch::state_value::{StateDict as PyDict, StateValue};
use frankentorch::{ErrorKind, Storage};
use scenario::{error_kind, str_of, tables};
use std::collections::HashMap;
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checkpoints")
}

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("checkpoints-out");
    std::fs::create_dir_all(&d).expect("create output dir");
    d
}

fn manifest(name: &str) -> toml::Table {
    let path = fixture_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; regenerate with tools/oracle/checkpoints.py", path.display()));
    toml::from_str(&text).expect("valid TOML")
}

fn dtype_of(name: &str) -> DType {
    DType::from_name(name).unwrap_or_else(|| panic!("unknown dtype {name}"))
}

/// Compares a loaded value with its manifest encoding; `groups` maps the
/// manifest's storage groups to the storages seen so far.
fn check(what: &str, v: &Value, rec: &toml::Table, groups: &mut HashMap<i64, Storage>) {
    let t = str_of(rec, "t");
    let arr = |k: &str| {
        rec.get(k)
            .and_then(|x| x.as_array())
            .unwrap_or_else(|| panic!("{what}: no {k}"))
    };
    let sub = |x: &toml::Value| x.as_table().expect("an encoded value").clone();
    match (t, v) {
        ("none", Value::None) => {}
        ("bool", Value::Bool(b)) => assert_eq!(rec["v"].as_bool(), Some(*b), "{what}"),
        ("int", Value::Int(i)) => assert_eq!(rec["v"].as_integer(), Some(*i), "{what}"),
        ("float", Value::Float(f)) => {
            let want = rec["v"].as_float().expect("float");
            assert!(
                want.to_bits() == f.to_bits() || (want.is_nan() && f.is_nan()),
                "{what}: {f} vs {want}"
            );
        }
        ("str", Value::Str(s)) => assert_eq!(rec["v"].as_str(), Some(s.as_str()), "{what}"),
        ("bytes", Value::Bytes(b)) => {
            let want: Vec<u8> = arr("v").iter().map(|x| x.as_integer().expect("byte") as u8).collect();
            assert_eq!(&want, b, "{what}");
        }
        ("list", Value::List(items)) | ("tuple", Value::Tuple(items)) => {
            let want = arr("items");
            assert_eq!(want.len(), items.len(), "{what}: length");
            for (i, (w, v)) in want.iter().zip(items).enumerate() {
                check(&format!("{what}[{i}]"), v, &sub(w), groups);
            }
        }
        ("dict", Value::Dict(items)) | ("odict", Value::OrderedDict { items, .. }) => {
            let (keys, values) = (arr("keys"), arr("values"));
            assert_eq!(keys.len(), items.len(), "{what}: length");
            for (i, ((k, v), (wk, wv))) in items.iter().zip(keys.iter().zip(values)).enumerate() {
                check(&format!("{what}.key{i}"), k, &sub(wk), groups);
                check(&format!("{what}[{k:?}]"), v, &sub(wv), groups);
            }
            let attrs = match v {
                Value::OrderedDict { attrs, .. } => attrs.clone(),
                _ => vec![],
            };
            let names: Vec<&str> = rec
                .get("attrs")
                .and_then(|a| a.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(
                names,
                attrs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                "{what}: attrs"
            );
            if let Some(vals) = rec.get("attr_values").and_then(|a| a.as_array()) {
                for ((n, v), w) in attrs.iter().zip(vals) {
                    check(&format!("{what}.{n}"), v, &sub(w), groups);
                }
            }
        }
        ("tensor", Value::Tensor(x)) => check_tensor(what, x, x.requires_grad(), rec, groups),
        ("param", Value::Parameter { data, requires_grad }) => {
            assert!(
                !data.requires_grad(),
                "{what}: a Parameter's data does not require grad"
            );
            check_tensor(what, data, *requires_grad, rec, groups)
        }
        _ => panic!("{what}: expected {t}, got {}", v.type_name()),
    }
}

fn ints(rec: &toml::Table, key: &str) -> Vec<usize> {
    rec[key]
        .as_array()
        .expect("ints")
        .iter()
        .map(|x| x.as_integer().expect("int") as usize)
        .collect()
}

fn check_tensor(what: &str, x: &Tensor, requires_grad: bool, rec: &toml::Table, groups: &mut HashMap<i64, Storage>) {
    let dtype = dtype_of(str_of(rec, "dtype"));
    assert_eq!(x.dtype(), dtype, "{what}: dtype");
    assert_eq!(x.sizes(), ints(rec, "shape").as_slice(), "{what}: shape");
    assert_eq!(x.strides(), ints(rec, "stride").as_slice(), "{what}: stride");
    assert_eq!(
        x.storage_offset() as i64,
        rec["offset"].as_integer().unwrap(),
        "{what}: offset"
    );
    assert_eq!(
        requires_grad,
        rec["requires_grad"].as_bool().unwrap(),
        "{what}: requires_grad"
    );
    let numel = rec["storage_numel"].as_integer().unwrap() as usize;
    assert_eq!(x.storage().nbytes(), numel * dtype.itemsize(), "{what}: storage size");
    let group = rec["storage"].as_integer().unwrap();
    match groups.get(&group) {
        Some(s) => assert!(s.is_same(x.storage()), "{what}: must share storage group {group}"),
        None => {
            assert!(
                groups.values().all(|s| !s.is_same(x.storage())),
                "{what}: must not share another group's storage"
            );
            groups.insert(group, x.storage().clone());
        }
    }
    let want = rec["values"].as_array().expect("values");
    match dtype {
        DType::I64 => {
            let got = ops::contiguous(x).unwrap().to_vec::<i64>().unwrap();
            let want: Vec<i64> = want.iter().map(|v| v.as_integer().unwrap()).collect();
            assert_eq!(got, want, "{what}: values");
        }
        DType::Bool => {
            let got = x.to_f64_vec();
            let want: Vec<f64> = want.iter().map(|v| f64::from(u8::from(v.as_bool().unwrap()))).collect();
            assert_eq!(got, want, "{what}: values");
        }
        _ => {
            let got = x.to_f64_vec();
            let want: Vec<f64> = want
                .iter()
                .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
                .collect();
            assert_eq!(got.len(), want.len(), "{what}: numel");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{what}[{i}]: {g} vs {w}"
                );
            }
        }
    }
}

/// Our bytes with torch's serialization id put in, so whole files compare.
fn with_serialization_id(ours: &[u8], theirs: &[u8]) -> Vec<u8> {
    let find = |bytes: &[u8]| {
        let zip = ZipArchive::parse(bytes).unwrap();
        let e = zip
            .entries()
            .iter()
            .find(|e| e.name.ends_with("/.data/serialization_id"))
            .expect("a serialization id")
            .clone();
        e
    };
    let (a, b) = (find(ours), find(theirs));
    assert_eq!(a.size, b.size, "serialization id length");
    // Its last 20 digits (the CRC fold) are torch's; the first 20 are ours.
    assert_eq!(
        ours[a.data_start + 20..a.data_start + a.size],
        theirs[b.data_start + 20..b.data_start + b.size],
        "serialization id's CRC half"
    );
    let mut out = ours.to_vec();
    out[a.data_start..a.data_start + a.size].copy_from_slice(&theirs[b.data_start..b.data_start + b.size]);
    // The CRC of the record sits in its data descriptor and in the central directory.
    let (ca, cb) = (a.crc.to_le_bytes(), b.crc.to_le_bytes());
    let desc = a.data_start + a.size + 4;
    out[desc..desc + 4].copy_from_slice(&cb);
    let cd = out.len() - 98 - (a.name.len() + 46) + 16;
    assert_eq!(out[cd..cd + 4], ca, "central directory CRC position");
    out[cd..cd + 4].copy_from_slice(&cb);
    out
}

#[test]
fn torch_fixtures_load_exactly_and_resave_byte_identical() {
    let m = manifest("manifest.toml");
    let files = tables(&m, "file");
    assert_eq!(files.len(), 11, "fixture count");
    for f in files {
        let name = str_of(f, "name");
        let path = fixture_dir().join(name);
        let v = pt::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let root = f["root"].as_table().expect("root");
        check(name, &v, root, &mut HashMap::new());
        // Re-save: torch's archive name is the file stem.
        let stem = name.trim_end_matches(".pt");
        let out = out_dir().join(name);
        pt::save(&v, &out).unwrap();
        let ours = std::fs::read(&out).unwrap();
        let again = pt::load_from_bytes(&ours).unwrap();
        check(&format!("{name} (re-saved)"), &again, root, &mut HashMap::new());
        if f["identical"].as_bool() == Some(true) {
            let theirs = std::fs::read(&path).unwrap();
            let ours = with_serialization_id(&ours, &theirs);
            let zip_ours = ZipArchive::parse(&ours).unwrap();
            let zip_theirs = ZipArchive::parse(&theirs).unwrap();
            let names = |z: &ZipArchive| z.entries().iter().map(|e| e.name.clone()).collect::<Vec<_>>();
            assert_eq!(names(&zip_ours), names(&zip_theirs), "{name}: records");
            assert!(names(&zip_ours)[0].starts_with(&format!("{stem}/")));
            for e in zip_theirs.entries() {
                assert_eq!(
                    zip_ours.read(&e.name).unwrap(),
                    zip_theirs.read(&e.name).unwrap(),
                    "{name}: record {}",
                    e.name
                );
            }
            assert!(ours == theirs, "{name}: file bytes differ from torch's");
        }
    }
}

#[test]
fn hostile_files_are_refused() {
    let m = manifest("hostile/hostile.toml");
    let cases = tables(&m, "case");
    assert!(cases.len() >= 30);
    for c in cases {
        let name = str_of(c, "name");
        let bytes = std::fs::read(fixture_dir().join("hostile").join(name)).unwrap();
        let err = match pt::load_from_bytes(&bytes) {
            Ok(v) => panic!("{name}: loaded {v:?}"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), error_kind(str_of(c, "kind")), "{name}: {err}");
        assert_eq!(err.op(), "torch.load", "{name}");
        let fragment = str_of(c, "fragment");
        assert!(err.to_string().contains(fragment), "{name}: '{err}' lacks '{fragment}'");
    }
}

#[test]
fn torch_state_dict_loads_into_our_model() {
    let v = pt::load(fixture_dir().join("model_state.pt")).unwrap();
    let net = Sequential::new()
        .append(Linear::new(3, 4, Default::default()).unwrap())
        .append(BatchNorm1d::new(4, Default::default()).unwrap())
        .append(ReLU::new())
        .append(Linear::new(4, 2, Default::default()).unwrap());
    let keys = net.load_state_dict(&v.clone().try_into().unwrap(), true).unwrap();
    assert!(keys.missing_keys.is_empty() && keys.unexpected_keys.is_empty());
    let sd = net.state_dict();
    let tracked = sd.get("1.num_batches_tracked").unwrap();
    assert_eq!(
        (tracked.dtype(), tracked.to_vec::<i64>().unwrap()),
        (DType::I64, vec![2])
    );
    assert_eq!(
        sd.get("0.weight").unwrap().to_vec::<f32>().unwrap(),
        v.get("0.weight").unwrap().as_tensor().unwrap().to_vec::<f32>().unwrap()
    );
    // Our module's state dict saves and loads back equal.
    let path = out_dir().join("our_model_state.pt");
    pt::save_state_dict(&net.state_dict(), &path).unwrap();
    let back = pt::load_state_dict(&path).unwrap();
    assert_eq!(back.keys(), net.state_dict().keys());
    for (k, t) in back.iter() {
        assert_eq!(t.to_f64_vec(), net.state_dict().get(k).unwrap().to_f64_vec(), "{k}");
    }
    net.forward(&ops::ones(&[2, 3]).unwrap()).unwrap();
}

fn params() -> Vec<Tensor> {
    [vec![2i64, 3], vec![2], vec![1, 2], vec![1]]
        .iter()
        .map(|s| {
            let t = ops::zeros(s).unwrap();
            t.requires_grad_(true).unwrap();
            t
        })
        .collect()
}

#[test]
fn torch_optimizer_state_loads_into_our_optimizers_and_resaves() {
    for (file, out) in [
        ("optim_adam.pt", "our_optim_adam.pt"),
        ("optim_sgd.pt", "our_optim_sgd.pt"),
    ] {
        let v = pt::load(fixture_dir().join(file)).unwrap();
        let sd = PyDict::try_from(v).unwrap();
        let saved = if file.contains("adam") {
            let mut opt = Adam::new(params(), AdamOpts::default()).unwrap();
            opt.load_state_dict(&sd).unwrap();
            assert_eq!(
                opt.state_dict()
                    .require("t", "param_groups")
                    .unwrap()
                    .as_seq()
                    .unwrap()
                    .len(),
                1
            );
            opt.state_dict()
        } else {
            let mut opt = SGD::new(
                params(),
                SgdOpts {
                    lr: 0.1,
                    momentum: 0.5,
                    ..Default::default()
                },
            )
            .unwrap();
            opt.load_state_dict(&sd).unwrap();
            opt.state_dict()
        };
        let groups = saved.require("t", "param_groups").unwrap().as_seq().unwrap()[0]
            .as_dict()
            .unwrap();
        let lr = groups.f64_of("t", "lr").unwrap();
        assert_eq!(
            lr,
            if file.contains("adam") { 0.01 } else { 0.05 },
            "{file}: lr from the file"
        );
        pt::save(&Value::from(&StateValue::Dict(saved)), out_dir().join(out)).unwrap();
    }
}

#[test]
fn zip64_fields_round_trip() {
    let t = ops::arange(40.0).unwrap();
    let v = Value::ordered_dict(vec![(Value::from("w"), Value::Tensor(t.clone()))]);
    let opts = pt::SaveOpts {
        archive_name: "zip64".into(),
        zip64_size_limit: 64,
        zip64_count_limit: 2,
    };
    let bytes = pt::save_to_bytes_with(&v, &opts).unwrap();
    assert!(
        bytes.windows(4).any(|w| w == [0x01, 0x00, 0x10, 0x00]),
        "a zip64 extra field"
    );
    let back = pt::load_from_bytes(&bytes).unwrap();
    let w = back.get("w").unwrap().as_tensor().unwrap();
    assert_eq!(w.to_f64_vec(), t.to_f64_vec());
    std::fs::write(out_dir().join("zip64.pt"), &bytes).unwrap();
}

#[test]
fn corrupted_bytes_never_panic() {
    let good = std::fs::read(fixture_dir().join("views.pt")).unwrap();
    let legacy = std::fs::read(fixture_dir().join("legacy.pt")).unwrap();
    for src in [&good, &legacy] {
        for cut in (0..src.len()).step_by(7) {
            let _ = pt::load_from_bytes(&src[..cut]);
        }
        for i in (0..src.len()).step_by(3) {
            let mut b = src.clone();
            b[i] ^= 0x5a;
            let r = pt::load_from_bytes(&b);
            if let Err(e) = r {
                assert!(e.to_string().starts_with("torch.load:"), "{e}");
                assert!(matches!(
                    e.kind(),
                    ErrorKind::InvalidArgument | ErrorKind::NotSupported | ErrorKind::Autograd
                ));
            }
        }
    }
}

/// Random nested values with random tensors (dtypes, shapes, strided views
/// of a few shared storages, Parameters) round-trip through our writer and
/// reader: same tree, same tensor metadata and bytes, same storage sharing.
mod round_trip {
    use super::*;
    use proptest::prelude::*;

    const DTYPES: [DType; 10] = [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::I64,
        DType::I32,
        DType::I16,
        DType::I8,
        DType::U8,
        DType::Bool,
    ];
    const POOL_NUMEL: usize = 12;

    #[derive(Clone, Debug)]
    enum Node {
        None,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        Bytes(Vec<u8>),
        /// A view (sizes, strides, offset) of pool storage `pool`, maybe as a Parameter.
        Tensor {
            pool: usize,
            sizes: Vec<usize>,
            strides: Vec<usize>,
            offset: usize,
            param: Option<bool>,
        },
        List(Vec<Node>),
        Tuple(Vec<Node>),
        Dict(bool, Vec<Node>),
        OrderedDict(Vec<Node>),
    }

    fn leaf() -> impl Strategy<Value = Node> {
        prop_oneof![
            Just(Node::None),
            any::<bool>().prop_map(Node::Bool),
            any::<i64>().prop_map(Node::Int),
            any::<f64>().prop_map(Node::Float),
            "\\PC{0,8}".prop_map(Node::Str),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(Node::Bytes),
            (
                0..3usize,
                proptest::collection::vec((0..4usize, 0..5usize), 0..4),
                0..POOL_NUMEL,
                proptest::option::of(any::<bool>())
            )
                .prop_map(|(pool, dims, offset, param)| Node::Tensor {
                    pool,
                    sizes: dims.iter().map(|d| d.0).collect(),
                    strides: dims.iter().map(|d| d.1).collect(),
                    offset,
                    param,
                }),
        ]
    }

    fn tree() -> impl Strategy<Value = Node> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Node::List),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Node::Tuple),
                (any::<bool>(), proptest::collection::vec(inner.clone(), 0..6)).prop_map(|(i, v)| Node::Dict(i, v)),
                proptest::collection::vec(inner, 0..6).prop_map(Node::OrderedDict),
            ]
        })
    }

    fn build(n: &Node, pool: &[Tensor]) -> Value {
        let items = |v: &[Node]| v.iter().map(|x| build(x, pool)).collect::<Vec<_>>();
        match n {
            Node::None => Value::None,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Int(*i),
            Node::Float(f) => Value::Float(*f),
            Node::Str(s) => Value::Str(s.clone()),
            Node::Bytes(b) => Value::Bytes(b.clone()),
            Node::Tensor {
                pool: i,
                sizes,
                strides,
                offset,
                param,
            } => {
                let base = &pool[*i];
                // A view that does not fit the storage falls back to the base itself.
                let t = base.as_view(sizes, strides, *offset).unwrap_or_else(|_| base.clone());
                match param {
                    Some(requires_grad) => Value::Parameter {
                        data: t,
                        requires_grad: *requires_grad,
                    },
                    None => Value::Tensor(t),
                }
            }
            Node::List(v) => Value::List(items(v)),
            Node::Tuple(v) => Value::Tuple(items(v)),
            Node::Dict(int_keys, v) => Value::Dict(
                items(v)
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let k = if *int_keys {
                            Value::Int(i as i64 - 2)
                        } else {
                            Value::Str(format!("k{i}"))
                        };
                        (k, x)
                    })
                    .collect(),
            ),
            Node::OrderedDict(v) => Value::ordered_dict(
                items(v)
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| (Value::Str(format!("layer.{i}")), x))
                    .collect(),
            ),
        }
    }

    fn same(a: &Value, b: &Value, pairs: &mut Vec<(Storage, Storage)>) -> std::result::Result<(), String> {
        let seq = |x: &[Value], y: &[Value], pairs: &mut Vec<(Storage, Storage)>| {
            if x.len() != y.len() {
                return Err(format!("length {} vs {}", x.len(), y.len()));
            }
            x.iter().zip(y).try_for_each(|(p, q)| same(p, q, pairs))
        };
        let tensor = |x: &Tensor, y: &Tensor, pairs: &mut Vec<(Storage, Storage)>| {
            if x.dtype() != y.dtype()
                || x.sizes() != y.sizes()
                || x.strides() != y.strides()
                || x.storage_offset() != y.storage_offset()
                || x.storage().to_bytes() != y.storage().to_bytes()
            {
                return Err(format!("tensor differs: {x:?} vs {y:?}"));
            }
            // Sharing must map one-to-one between the two sides.
            for (p, q) in pairs.iter() {
                if p.is_same(x.storage()) != q.is_same(y.storage()) {
                    return Err("storage sharing differs".to_string());
                }
            }
            pairs.push((x.storage().clone(), y.storage().clone()));
            Ok(())
        };
        match (a, b) {
            (Value::None, Value::None) => Ok(()),
            (Value::Bool(x), Value::Bool(y)) if x == y => Ok(()),
            (Value::Int(x), Value::Int(y)) if x == y => Ok(()),
            (Value::Float(x), Value::Float(y)) if x.to_bits() == y.to_bits() => Ok(()),
            (Value::Str(x), Value::Str(y)) if x == y => Ok(()),
            (Value::Bytes(x), Value::Bytes(y)) if x == y => Ok(()),
            (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => seq(x, y, pairs),
            (Value::Dict(x), Value::Dict(y))
            | (Value::OrderedDict { items: x, .. }, Value::OrderedDict { items: y, .. }) => {
                let (kx, vx): (Vec<Value>, Vec<Value>) = x.iter().cloned().unzip();
                let (ky, vy): (Vec<Value>, Vec<Value>) = y.iter().cloned().unzip();
                seq(&kx, &ky, pairs)?;
                seq(&vx, &vy, pairs)
            }
            (Value::Tensor(x), Value::Tensor(y)) => tensor(x, y, pairs),
            (
                Value::Parameter {
                    data: x,
                    requires_grad: rx,
                },
                Value::Parameter {
                    data: y,
                    requires_grad: ry,
                },
            ) if rx == ry => tensor(x, y, pairs),
            _ => Err(format!("{a:?} vs {b:?}")),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn values_round_trip(dtypes in proptest::array::uniform3(0..10usize), seed in any::<u64>(), node in tree()) {
            let mut state = seed;
            let pool: Vec<Tensor> = dtypes
                .iter()
                .map(|&d| {
                    let dtype = DTYPES[d];
                    let bytes: Vec<u8> = (0..POOL_NUMEL * dtype.itemsize())
                        .map(|_| {
                            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                            let b = (state >> 56) as u8;
                            if dtype == DType::Bool { b & 1 } else { b }
                        })
                        .collect();
                    Tensor::from_storage(Storage::from_bytes(&bytes), &[POOL_NUMEL], &[1], 0, dtype).unwrap()
                })
                .collect();
            let v = build(&node, &pool);
            let bytes = pt::save_to_bytes(&v).unwrap();
            let back = pt::load_from_bytes(&bytes).unwrap();
            let mut pairs = vec![];
            prop_assert_eq!(same(&v, &back, &mut pairs), Ok(()));
            // Saving what was loaded gives the same bytes.
            let again = pt::save_to_bytes(&back).unwrap();
            prop_assert!(again == bytes);
        }
    }
}

/// A long string reused through the memo as a dict key many times, or
/// repeated in a list, costs time and memory linear in the file (a
/// quadratic reader would hash or copy the megabyte once per use).
#[test]
fn reused_long_strings_cost_linear_work() {
    use frankentorch::serialize::pickle::reader::Unpickler;
    let mut p = b"\x80\x02}q\x00X".to_vec();
    p.extend_from_slice(&(1u32 << 20).to_le_bytes());
    p.extend(std::iter::repeat_n(b'k', 1 << 20));
    p.extend_from_slice(b"q\x01");
    p.push(b'0'); // POP the string, leaving the dict
    for _ in 0..200_000 {
        p.extend_from_slice(b"h\x01K\x01s");
    }
    p.push(b'.');
    let start = std::time::Instant::now();
    let v = Unpickler::new(&p)
        .load()
        .unwrap()
        .to_value(&mut |_| unreachable!())
        .unwrap();
    assert_eq!(v.items().unwrap().len(), 1);
    // The same string 200k times in a list would be 200 GB as Values: refused by the budget.
    let mut q = b"\x80\x02]q\x00X".to_vec();
    q.extend_from_slice(&(1u32 << 20).to_le_bytes());
    q.extend(std::iter::repeat_n(b'k', 1 << 20));
    q.extend_from_slice(b"q\x01a");
    for _ in 0..200_000 {
        q.extend_from_slice(b"h\x01a");
    }
    q.push(b'.');
    let e = Unpickler::new(&q)
        .load()
        .unwrap()
        .to_value(&mut |_| unreachable!())
        .unwrap_err();
    assert!(e.to_string().contains("too many objects"), "{e}");
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
}
