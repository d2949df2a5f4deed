//! Measures RaptorQ sidecar throughput: writing a sidecar, verifying an
//! intact file, and repairing one damaged symbol in every block, with the
//! default options.
//!
//! ```sh
//! cargo run --example sidecar_throughput -- 128   # MiB
//! ```

use frankentorch::serialize::sidecar::{self, SidecarOpts};
use std::time::Instant;

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    let len = mib << 20;
    let dir = std::env::temp_dir().join(format!("ft_sidecar_throughput_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.bin");
    let mut x = 0x1234_5678_9abc_def0u64;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &data).unwrap();
    let opts = SidecarOpts::default();
    let rate = |what: &str, secs: f64| {
        println!(
            "{what}: {:.0} MB/s ({secs:.2} s for {mib} MiB)",
            len as f64 / secs / 1e6
        )
    };

    let t = Instant::now();
    let s = sidecar::write(&path, &opts).unwrap();
    rate("write", t.elapsed().as_secs_f64());
    println!("  {} blocks, sidecar {} bytes", s.blocks, s.sidecar_len);

    let t = Instant::now();
    assert!(sidecar::verify(&path).unwrap().is_clean());
    rate("verify (intact)", t.elapsed().as_secs_f64());

    let mut bad = data.clone();
    let block = opts.symbol_size * opts.block_symbols;
    for b in 0..len.div_ceil(block) {
        bad[b * block + 17] ^= 0xff;
    }
    std::fs::write(&path, &bad).unwrap();
    let t = Instant::now();
    let r = sidecar::repair(&path).unwrap();
    rate("repair (1 symbol per block)", t.elapsed().as_secs_f64());
    assert_eq!(r.repaired.len() as u64, s.blocks);
    assert!(std::fs::read(&path).unwrap() == data);
    std::fs::remove_dir_all(&dir).ok();
}
