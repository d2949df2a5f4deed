//! Kernel throughput on the workloads of `shared/bench/BASELINES.md`, one
//! JSON line per workload (median of 7 timed repeats after a warm-up), so
//! ratios to torch's numbers can be taken directly.
//!
//! Run: `cargo run --release -p frankentorch-kernels --example kernel_bench [filter]`
//! (threads: `RAYON_NUM_THREADS`, SIMD level: `FT_CPU_CAPABILITY`).

use ft_kernels::{binary, iter, reduce, scan, unary, view};
use ft_runtime::{Scalar, Tensor};
use std::time::Instant;

fn filled(n: usize, sizes: &[usize], seed: u32) -> Tensor {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 20001) as f32 / 10000.0 - 1.0
        })
        .collect();
    Tensor::from_vec(v, sizes).unwrap()
}

/// Median seconds of `f` over 7 runs after 2 warm-ups.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    f();
    let mut t: Vec<f64> = (0..7)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[3]
}

fn report(name: &str, unit: &str, value: f64) {
    println!("{{\"workload\": \"{name}\", \"unit\": \"{unit}\", \"value\": {value:.3}}}");
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let want = |name: &str| name.contains(&filter);
    eprintln!(
        "capability {:?}, threads {}",
        ft_kernels::cpu::cpu_capability(),
        ft_runtime::parallel::num_threads()
    );
    for n in [128usize, 512, 1024, 2048] {
        let name = format!("matmul_n{n}");
        if !want(&name) {
            continue;
        }
        let (a, b) = (filled(n * n, &[n, n], 1), filled(n * n, &[n, n], 2));
        let s = time(|| drop(ft_kernels::linalg::mm(&a, &b).unwrap()));
        report(&name, "GFLOP/s", 2.0 * (n as f64).powi(3) / s / 1e9);
    }
    const M16: usize = 16 << 20;
    let gb = |bytes: usize, s: f64| bytes as f64 / s / 1e9;
    let small = [
        "add_16M",
        "mul_16M",
        "exp_16M",
        "relu_16M",
        "add_16M_prealloc_out",
        "mul_16M_prealloc_out",
        "exp_16M_prealloc_out",
        "relu_16M_prealloc_out",
    ];
    if small.iter().any(|n| want(n)) {
        let (a, b) = (filled(M16, &[M16], 3), filled(M16, &[M16], 4));
        if want("add_16M") {
            report(
                "add_16M",
                "GB/s",
                gb(3 * 4 * M16, time(|| drop(binary::add(&a, &b, Scalar::Int(1)).unwrap()))),
            );
        }
        if want("mul_16M") {
            report(
                "mul_16M",
                "GB/s",
                gb(3 * 4 * M16, time(|| drop(binary::mul(&a, &b).unwrap()))),
            );
        }
        if want("exp_16M") {
            report(
                "exp_16M",
                "GB/s",
                gb(2 * 4 * M16, time(|| drop(unary::exp(&a).unwrap()))),
            );
        }
        if want("relu_16M") {
            report(
                "relu_16M",
                "GB/s",
                gb(2 * 4 * M16, time(|| drop(unary::relu(&a).unwrap()))),
            );
        }
        // The same loops into one reused output (no allocation, no page faults).
        let out = Tensor::from_vec(vec![0.0f32; M16], &[M16]).unwrap();
        if want("add_16M_prealloc_out") {
            let s = time(|| iter::map2(&out, &a, &b, |x: f32, y: f32| x + y).unwrap());
            report("add_16M_prealloc_out", "GB/s", gb(3 * 4 * M16, s));
        }
        if want("mul_16M_prealloc_out") {
            let s = time(|| iter::map2(&out, &a, &b, |x: f32, y: f32| x * y).unwrap());
            report("mul_16M_prealloc_out", "GB/s", gb(3 * 4 * M16, s));
        }
        if want("exp_16M_prealloc_out") {
            let s = time(|| iter::map1_slices(&out, &a, ft_kernels::simd::exp_f32).unwrap());
            report("exp_16M_prealloc_out", "GB/s", gb(2 * 4 * M16, s));
        }
        if want("relu_16M_prealloc_out") {
            let s = time(|| iter::map1(&out, &a, |x: f32| if x < 0.0 { 0.0 } else { x }).unwrap());
            report("relu_16M_prealloc_out", "GB/s", gb(2 * 4 * M16, s));
        }
    }
    let n = 4096;
    let big = [
        "add_bcast_4096",
        "add_transposed_4096",
        "sum_16M",
        "sum_dim1_4096",
        "softmax_4096",
    ];
    if big.iter().any(|w| want(w)) {
        let x = filled(n * n, &[n, n], 5);
        if want("add_bcast_4096") {
            let row = filled(n, &[n], 6);
            report(
                "add_bcast_4096",
                "ms",
                1e3 * time(|| drop(binary::add(&x, &row, Scalar::Int(1)).unwrap())),
            );
        }
        if want("add_transposed_4096") {
            let y = filled(n * n, &[n, n], 7);
            let xt = view::transpose(&x, 0, 1).unwrap();
            report(
                "add_transposed_4096",
                "ms",
                1e3 * time(|| drop(binary::add(&xt, &y, Scalar::Int(1)).unwrap())),
            );
        }
        if want("sum_16M") {
            let flat = filled(M16, &[M16], 8);
            report("sum_16M", "ms", 1e3 * time(|| drop(reduce::sum(&flat, None).unwrap())));
        }
        if want("sum_dim1_4096") {
            report(
                "sum_dim1_4096",
                "ms",
                1e3 * time(|| drop(reduce::sum_dim(&x, Some(&[1]), false, None).unwrap())),
            );
        }
        if want("softmax_4096") {
            report(
                "softmax_4096",
                "ms",
                1e3 * time(|| drop(scan::softmax(&x, -1, false).unwrap())),
            );
        }
    }
}
