//! Helpers shared by the random-stream scenario tests (tests/random_streams.rs,
//! tests/random_ops.rs): reading their fixtures' records and comparing a
//! result with one (values stored whole, or an FNV-1a checksum of the
//! float64 bit patterns plus probes, as the Python scripts write them).

#![allow(dead_code)]

use frankentorch::Tensor;

/// FNV-1a 64 over bytes, as the scripts' `fnv1a`.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The checksum of values as float64 little-endian bit patterns.
pub fn checksum(values: &[f64]) -> String {
    format!("{:016x}", fnv1a(values.iter().flat_map(|v| v.to_bits().to_le_bytes())))
}

/// A TOML array of numbers as f64.
pub fn floats(v: &toml::Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| {
            x.as_float()
                .or_else(|| x.as_integer().map(|i| i as f64))
                .expect("a number")
        })
        .collect()
}

/// A string field of a record.
pub fn str_of<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("fixture key `{key}`"))
}

/// Compares one result with its record: whole values, or checksum + probes.
pub fn check_call(what: &str, got: &Tensor, rec: &toml::Table) {
    let values = got.to_f64_vec();
    if let Some(expected) = rec.get("values") {
        let expected = floats(expected);
        if let Some(i) =
            (0..expected.len()).find(|&i| values.get(i).map(|v| v.to_bits()) != Some(expected[i].to_bits()))
        {
            panic!("{what}: element {i} is {:?}, torch has {}", values.get(i), expected[i]);
        }
        assert_eq!(values.len(), expected.len(), "{what}: length");
        return;
    }
    let probes = floats(&rec["probe_index"]);
    for (k, &p) in floats(&rec["probe_value"]).iter().enumerate() {
        let i = probes[k] as usize;
        assert_eq!(
            values[i].to_bits(),
            p.to_bits(),
            "{what}: element {i} is {}, torch has {p}",
            values[i]
        );
    }
    assert_eq!(
        checksum(&values),
        str_of(rec, "checksum"),
        "{what}: checksum of all values"
    );
}
