//! float32 `mm` throughput for square sizes 128-2048 (criterion reports the
//! time; GFLOP/s = 2 n^3 / time). `FT_CPU_CAPABILITY` and
//! `RAYON_NUM_THREADS` select the SIMD level and the thread count.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ft_runtime::Tensor;

fn square(n: usize, seed: usize) -> Tensor {
    let v: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919 + seed) % 2003) as f32 / 1001.0 - 1.0)
        .collect();
    Tensor::from_vec(v, &[n, n]).unwrap()
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_f32");
    group.sample_size(10);
    for n in [128usize, 512, 1024, 2048] {
        let (a, b) = (square(n, 1), square(n, 2));
        group.throughput(Throughput::Elements((2 * n * n * n) as u64));
        group.bench_function(format!("n{n}"), |bench| {
            bench.iter(|| black_box(ft_kernels::linalg::mm(black_box(&a), black_box(&b)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, matmul);
criterion_main!(benches);
