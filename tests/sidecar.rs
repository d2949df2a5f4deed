//! RaptorQ sidecars (`serialize::sidecar`): damage of every kind within
//! the budget repairs to the exact bytes, damage beyond it is refused
//! naming the block, and damage in the sidecar itself is discarded.
//! Offsets into the sidecar are computed from the documented format.

#[path = "support/tempdir.rs"]
mod tempdir;

use frankentorch::serialize::sidecar::{self, SidecarOpts};
use frankentorch::ErrorKind;
use proptest::prelude::*;
use std::path::Path;
use tempdir::TempDir;

/// SplitMix64: a small deterministic generator for test data and damage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// `n` distinct indices below `len`, ascending.
    fn distinct(&mut self, n: usize, len: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..n {
            let j = i + self.below(len - i);
            all.swap(i, j);
        }
        let mut out = all[..n].to_vec();
        out.sort_unstable();
        out
    }
}

/// The block geometry the module docs specify.
#[derive(Clone, Copy, Debug)]
struct Geo {
    len: usize,
    t: usize,
    kmax: usize,
    ppm: u64,
}

impl Geo {
    fn of(len: usize, o: &SidecarOpts) -> Geo {
        Geo {
            len,
            t: o.symbol_size,
            kmax: o.block_symbols,
            ppm: (o.overhead * 1e6).round() as u64,
        }
    }
    fn symbols(&self) -> usize {
        self.len.div_ceil(self.t)
    }
    fn blocks(&self) -> usize {
        self.symbols().div_ceil(self.kmax)
    }
    fn k(&self, b: usize) -> usize {
        (self.symbols() - b * self.kmax).min(self.kmax)
    }
    fn budget(&self, b: usize) -> usize {
        ((self.k(b) as u64 * self.ppm).div_ceil(1_000_000).max(1)) as usize
    }
    fn r(&self, b: usize) -> usize {
        self.budget(b) + 2
    }
    fn table_len(&self, b: usize) -> usize {
        24 + 4 * self.k(b) + 4 * self.r(b)
    }
    fn section_start(&self, b: usize) -> usize {
        64 + b * (self.table_len(0) + self.r(0) * self.t)
    }
    /// File byte range of symbol `i` of block `b`.
    fn symbol(&self, b: usize, i: usize) -> std::ops::Range<usize> {
        let s = (b * self.kmax + i) * self.t;
        s..(s + self.t).min(self.len)
    }
    /// Sidecar byte range of repair symbol `j` of block `b`.
    fn repair(&self, b: usize, j: usize) -> std::ops::Range<usize> {
        let s = self.section_start(b) + self.table_len(b) + j * self.t;
        s..s + self.t
    }
}

fn small_opts() -> SidecarOpts {
    SidecarOpts {
        overhead: 0.1,
        symbol_size: 64,
        block_symbols: 40,
    }
}

/// A protected file of `len` random bytes in `dir`; its bytes.
fn protected(dir: &TempDir, name: &str, len: usize, seed: u64, opts: &SidecarOpts) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join(name);
    let data = Rng(seed).bytes(len);
    std::fs::write(&path, &data).unwrap();
    let s = sidecar::write(&path, opts).unwrap();
    assert_eq!(s.file_len, len as u64);
    (path, data)
}

fn corrupt(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    f(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Flips one random bit in each of `ranges`.
fn flip_in(bytes: &mut [u8], ranges: &[std::ops::Range<usize>], rng: &mut Rng) {
    for r in ranges {
        let at = r.start + rng.below(r.end - r.start);
        bytes[at] ^= 1 << rng.below(8);
    }
}

/// Repairs, checks the exact bytes come back, and that verify is clean after.
fn assert_repairs(path: &Path, data: &[u8]) -> sidecar::RepairReport {
    let before = sidecar::verify(path).unwrap();
    assert!(before.is_repairable(), "{before}");
    let (bytes, mem) = sidecar::read_verified(path).unwrap();
    assert!(bytes == data, "read_verified returned different bytes");
    assert!(!mem.rewritten);
    let report = sidecar::repair(path).unwrap();
    assert!(std::fs::read(path).unwrap() == data, "repair wrote different bytes");
    let after = sidecar::verify(path).unwrap();
    assert!(after.is_clean() && after.sidecar_intact(), "{after}");
    report
}

#[test]
fn an_untouched_file_is_clean_and_repair_is_a_no_op() {
    let dir = TempDir::new("sidecar_clean");
    let opts = small_opts();
    let (path, data) = protected(&dir, "f.bin", 10_000, 1, &opts);
    let r = sidecar::verify(&path).unwrap();
    assert!(r.is_clean() && r.is_repairable() && r.sidecar_intact(), "{r}");
    assert_eq!((r.recorded_len, r.actual_len, r.blocks), (10_000, 10_000, 4));
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let rep = sidecar::repair(&path).unwrap();
    assert!(!rep.rewritten && !rep.sidecar_rewritten && !rep.file_was_damaged());
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(sidecar::read_verified(&path).unwrap().0, data);
}

#[test]
fn random_flips_up_to_the_budget_in_every_block_repair() {
    let dir = TempDir::new("sidecar_flips");
    let opts = small_opts();
    for seed in 0..4u64 {
        let len = 9_000 + 777 * seed as usize;
        let (path, data) = protected(&dir, &format!("f{seed}.bin"), len, seed, &opts);
        let g = Geo::of(len, &opts);
        let mut rng = Rng(100 + seed);
        let mut ranges = Vec::new();
        for b in 0..g.blocks() {
            for i in rng.distinct(g.budget(b), g.k(b)) {
                ranges.push(g.symbol(b, i));
            }
        }
        corrupt(&path, |bytes| flip_in(bytes, &ranges, &mut rng));
        let v = sidecar::verify(&path).unwrap();
        assert_eq!(v.damaged.len(), g.blocks(), "{v}");
        assert!(v.damaged.iter().all(|d| d.lost() == d.budget && d.repairable));
        let rep = assert_repairs(&path, &data);
        assert!(rep.rewritten && rep.repaired.len() == g.blocks());
    }
}

#[test]
fn a_run_of_whole_symbols_within_the_budget_repairs_and_a_whole_block_is_refused() {
    let dir = TempDir::new("sidecar_runs");
    let opts = small_opts(); // 40-symbol blocks, budget 4
    let (path, data) = protected(&dir, "f.bin", 64 * 100, 7, &opts);
    let g = Geo::of(data.len(), &opts);
    assert_eq!(g.budget(1), 4);
    // Four consecutive symbols of block 1 zeroed.
    let run = g.symbol(1, 10).start..g.symbol(1, 13).end;
    corrupt(&path, |b| b[run.clone()].fill(0));
    let v = sidecar::verify(&path).unwrap();
    assert_eq!(v.damaged[0].damaged_symbols, vec![10, 11, 12, 13]);
    assert_eq!(v.damaged[0].damaged_ranges, vec![run.start as u64..run.end as u64]);
    assert_repairs(&path, &data);
    // All of block 1: refused, naming the block, the count and the budget.
    let block = g.symbol(1, 0).start..g.symbol(1, 39).end;
    corrupt(&path, |b| b[block].fill(0xAA));
    let damaged = std::fs::read(&path).unwrap();
    let v = sidecar::verify(&path).unwrap();
    assert!(!v.is_repairable() && !v.damaged[0].repairable, "{v}");
    for e in [
        sidecar::repair(&path).unwrap_err(),
        sidecar::read_verified(&path).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(e.op(), "ckpt.sidecar");
        let m = e.message();
        assert!(
            m.contains("block 1 ") && m.contains("40 damaged symbols") && m.contains("budget of 4"),
            "{m}"
        );
    }
    assert!(
        std::fs::read(&path).unwrap() == damaged,
        "a refused repair changed the file"
    );
}

#[test]
fn one_symbol_past_the_budget_is_refused() {
    let dir = TempDir::new("sidecar_past");
    let opts = small_opts();
    let (path, _) = protected(&dir, "f.bin", 5_000, 3, &opts);
    let g = Geo::of(5_000, &opts);
    let mut rng = Rng(9);
    let ranges: Vec<_> = rng
        .distinct(g.budget(0) + 1, g.k(0))
        .into_iter()
        .map(|i| g.symbol(0, i))
        .collect();
    corrupt(&path, |b| flip_in(b, &ranges, &mut rng));
    let e = sidecar::repair(&path).unwrap_err();
    assert!(
        e.message().contains("block 0 ") && e.message().contains("5 damaged symbols"),
        "{e}"
    );
}

#[test]
fn a_truncated_tail_is_restored_and_appended_junk_dropped() {
    let dir = TempDir::new("sidecar_tail");
    let opts = small_opts();
    let (path, data) = protected(&dir, "f.bin", 5_000, 11, &opts); // last symbol is 8 bytes
    let g = Geo::of(5_000, &opts);
    // Cut into the last 3 symbols (budget of the last block is 4).
    std::fs::write(&path, &data[..g.symbol(1, g.k(1) - 3).start + 5]).unwrap();
    let v = sidecar::verify(&path).unwrap();
    assert_eq!(
        v.recorded_len - v.actual_len,
        (g.len - g.symbol(1, g.k(1) - 3).start - 5) as u64
    );
    assert_eq!(v.damaged[0].damaged_symbols.len(), 3);
    let rep = assert_repairs(&path, &data);
    assert_eq!(rep.restored_tail_bytes, v.recorded_len - v.actual_len);
    // Junk appended.
    std::fs::write(&path, [data.clone(), b"junk".to_vec()].concat()).unwrap();
    let v = sidecar::verify(&path).unwrap();
    assert!(!v.is_clean() && v.is_repairable() && v.damaged.is_empty(), "{v}");
    assert_eq!(assert_repairs(&path, &data).dropped_bytes, 4);
    // Cut far beyond the budget: refused.
    std::fs::write(&path, &data[..100]).unwrap();
    assert!(sidecar::repair(&path).unwrap_err().message().contains("budget"));
}

#[test]
fn damage_in_the_sidecar_is_discarded_and_the_sidecar_healed() {
    let dir = TempDir::new("sidecar_self");
    let opts = small_opts();
    let (path, data) = protected(&dir, "f.bin", 8_000, 5, &opts);
    let g = Geo::of(8_000, &opts);
    let sc = sidecar::sidecar_path(&path);
    let good_sidecar = std::fs::read(&sc).unwrap();
    // A damaged repair symbol: the file is clean, the sidecar is not.
    corrupt(&sc, |b| b[g.repair(1, 2).start + 3] ^= 0x10);
    let v = sidecar::verify(&path).unwrap();
    assert!(v.is_clean() && !v.sidecar_intact(), "{v}");
    assert_eq!(v.sidecar_damage[0].repair_symbols, vec![2]);
    // A damaged repair symbol counts against the budget: budget - 1
    // damaged source symbols in that block still repair...
    let ranges: Vec<_> = (0..g.budget(1) - 1).map(|i| g.symbol(1, 3 * i)).collect();
    corrupt(&path, |b| flip_in(b, &ranges, &mut Rng(3)));
    let rep = assert_repairs(&path, &data);
    assert!(rep.sidecar_rewritten && rep.rewritten);
    assert!(
        std::fs::read(&sc).unwrap() == good_sidecar,
        "the healed sidecar differs"
    );
    // ...but budget of them do not.
    corrupt(&sc, |b| b[g.repair(1, 0).start] ^= 1);
    let ranges: Vec<_> = (0..g.budget(1)).map(|i| g.symbol(1, 3 * i)).collect();
    corrupt(&path, |b| flip_in(b, &ranges, &mut Rng(4)));
    let e = sidecar::repair(&path).unwrap_err();
    assert!(
        e.message().contains("(4 source, 1 repair), more than its budget of 4"),
        "{e}"
    );
    std::fs::write(&path, &data).unwrap();
    std::fs::write(&sc, &good_sidecar).unwrap();
    // A damaged table: that block is checked by the whole-file hash only.
    corrupt(&sc, |b| b[g.section_start(0) + 30] ^= 0x01);
    let v = sidecar::verify(&path).unwrap();
    assert!(v.is_clean() && v.sidecar_damage[0].table, "{v}");
    corrupt(&path, |b| b[10] ^= 1);
    let v = sidecar::verify(&path).unwrap();
    assert!(
        !v.is_repairable() && v.problems[0].contains("sidecar tables are damaged"),
        "{v}"
    );
    assert!(sidecar::read_verified(&path).is_err());
    std::fs::write(&path, &data).unwrap();
    // A truncated sidecar: the missing sections are discarded.
    std::fs::write(&sc, &good_sidecar[..g.section_start(1) + 10]).unwrap();
    let v = sidecar::verify(&path).unwrap();
    assert!(
        v.is_clean() && v.sidecar_damage.iter().all(|d| d.table && d.block >= 1),
        "{v}"
    );
    // Extra bytes after the sidecar are reported.
    std::fs::write(&sc, [good_sidecar.clone(), vec![0; 3]].concat()).unwrap();
    assert_eq!(sidecar::verify(&path).unwrap().sidecar_extra_bytes, 3);
    // A damaged header: a clear error, whatever the byte.
    for at in [0usize, 9, 20, 40, 63] {
        let mut bad = good_sidecar.clone();
        bad[at] ^= 0x04;
        std::fs::write(&sc, &bad).unwrap();
        let e = sidecar::verify(&path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(
            e.message().contains("header is damaged") || e.message().contains("not a FrankenTorch sidecar"),
            "{e}"
        );
    }
    std::fs::write(&sc, &good_sidecar[..30]).unwrap();
    assert!(sidecar::verify(&path)
        .unwrap_err()
        .message()
        .contains("shorter than the 64-byte"));
    std::fs::remove_file(&sc).unwrap();
    assert!(sidecar::verify(&path)
        .unwrap_err()
        .message()
        .contains("cannot read the sidecar"));
}

#[test]
fn zero_and_one_byte_files() {
    let dir = TempDir::new("sidecar_tiny");
    let (empty, _) = protected(&dir, "empty.bin", 0, 1, &SidecarOpts::default());
    let s = std::fs::metadata(sidecar::sidecar_path(&empty)).unwrap().len();
    assert_eq!(s, 64);
    assert!(sidecar::verify(&empty).unwrap().is_clean());
    std::fs::write(&empty, b"x").unwrap();
    assert_eq!(assert_repairs(&empty, b"").dropped_bytes, 1);
    let (one, data) = protected(&dir, "one.bin", 1, 2, &SidecarOpts::default());
    std::fs::write(&one, [data[0] ^ 0x80]).unwrap();
    assert_eq!(assert_repairs(&one, &data).repaired[0].damaged_ranges, vec![0..1]);
    std::fs::write(&one, b"").unwrap();
    assert_eq!(assert_repairs(&one, &data).restored_tail_bytes, 1);
}

#[test]
fn options_change_the_geometry_and_bad_options_are_rejected() {
    let dir = TempDir::new("sidecar_opts");
    for (t, kmax, overhead) in [(1usize, 50usize, 0.0), (7, 13, 0.5), (512, 3, 1.0), (65535, 1024, 0.05)] {
        let opts = SidecarOpts {
            overhead,
            symbol_size: t,
            block_symbols: kmax,
        };
        let len = 3 * t * kmax / 2 + 3;
        let (path, data) = protected(&dir, &format!("f{t}.bin"), len.min(200_000), t as u64, &opts);
        let g = Geo::of(data.len(), &opts);
        let s = sidecar::write(&path, &opts).unwrap();
        assert_eq!(s.blocks as usize, g.blocks());
        let expected_repair: usize = (0..g.blocks()).map(|b| g.r(b)).sum();
        assert_eq!(s.repair_symbols as usize, expected_repair);
        let last = g.blocks() - 1;
        let expected_len = g.section_start(last) + g.table_len(last) + g.r(last) * t;
        assert_eq!(s.sidecar_len as usize, expected_len);
        assert_eq!(std::fs::metadata(&s.sidecar_path).unwrap().len() as usize, expected_len);
        let mut rng = Rng(t as u64);
        let ranges: Vec<_> = (0..g.blocks())
            .flat_map(|b| rng.distinct(g.budget(b), g.k(b)).into_iter().map(move |i| (b, i)))
            .map(|(b, i)| g.symbol(b, i))
            .collect();
        corrupt(&path, |b| flip_in(b, &ranges, &mut rng));
        assert_repairs(&path, &data);
    }
    let path = dir.join("x.bin");
    std::fs::write(&path, b"abc").unwrap();
    for (bad, needle) in [
        (
            SidecarOpts {
                overhead: -0.1,
                ..Default::default()
            },
            "overhead",
        ),
        (
            SidecarOpts {
                overhead: f64::NAN,
                ..Default::default()
            },
            "overhead",
        ),
        (
            SidecarOpts {
                symbol_size: 0,
                ..Default::default()
            },
            "symbol_size",
        ),
        (
            SidecarOpts {
                symbol_size: 65536,
                ..Default::default()
            },
            "symbol_size",
        ),
        (
            SidecarOpts {
                block_symbols: 56404,
                ..Default::default()
            },
            "block_symbols",
        ),
    ] {
        let e = sidecar::write(&path, &bad).unwrap_err();
        assert!(
            e.kind() == ErrorKind::InvalidArgument && e.message().contains(needle),
            "{e}"
        );
    }
    assert!(sidecar::write(dir.join("missing.bin"), &SidecarOpts::default()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random damage within each block's budget, to file and sidecar
    /// symbols alike, always repairs to the exact bytes.
    #[test]
    fn random_damage_within_budget_always_repairs(
        len in 0usize..6000,
        t in prop::sample::select(vec![16usize, 33, 100, 512]),
        kmax in prop::sample::select(vec![3usize, 16, 50]),
        overhead in prop::sample::select(vec![0.0f64, 0.05, 0.3]),
        seed in any::<u64>(),
    ) {
        let dir = TempDir::new("sidecar_prop");
        let opts = SidecarOpts { overhead, symbol_size: t, block_symbols: kmax };
        let (path, data) = protected(&dir, "p.bin", len, seed, &opts);
        let g = Geo::of(len, &opts);
        let mut rng = Rng(seed ^ 0x5eed);
        let (mut file_ranges, mut sidecar_ranges) = (Vec::new(), Vec::new());
        for b in 0..g.blocks() {
            let n = rng.below(g.budget(b) + 1);
            for x in rng.distinct(n, g.k(b) + g.r(b)) {
                if x < g.k(b) { file_ranges.push(g.symbol(b, x)) } else { sidecar_ranges.push(g.repair(b, x - g.k(b))) }
            }
        }
        corrupt(&path, |b| flip_in(b, &file_ranges, &mut rng));
        corrupt(&sidecar::sidecar_path(&path), |b| flip_in(b, &sidecar_ranges, &mut rng));
        let (bytes, _) = sidecar::read_verified(&path).unwrap();
        prop_assert!(bytes == data);
        sidecar::repair(&path).unwrap();
        prop_assert!(std::fs::read(&path).unwrap() == data);
        prop_assert!(sidecar::verify(&path).unwrap().is_clean());
    }
}
