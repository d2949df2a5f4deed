//! Fits a small two-layer network to a synthetic regression target with the
//! slice's operators and plain gradient descent — the README's main job
//! until the digits training example exists.
//!
//! Run: `cargo run --release --example fit_model`

use frankentorch::prelude::*;

/// Deterministic pseudo-random values in [-scale, scale) (no RNG ops yet).
fn init(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn parameter(sizes: &[usize], seed: u64, scale: f64) -> Result<Tensor> {
    let t = Tensor::from_vec(init(sizes.iter().product(), seed, scale), sizes)?;
    t.requires_grad_(true)?;
    Ok(t)
}

fn main() -> Result<()> {
    // Inputs on a 16x16 grid over [-2, 2]², target sin(x0) + 0.5 x1².
    let n = 256;
    let mut xs = Vec::with_capacity(n * 2);
    let mut ys = Vec::with_capacity(n);
    for i in 0..16 {
        for j in 0..16 {
            let (a, b) = (-2.0 + 4.0 * i as f64 / 15.0, -2.0 + 4.0 * j as f64 / 15.0);
            xs.extend([a, b]);
            ys.push(a.sin() + 0.5 * b * b);
        }
    }
    let x = Tensor::from_vec(xs, &[n, 2])?;
    let y = Tensor::from_vec(ys, &[n, 1])?;

    let hidden = 32;
    let w1 = parameter(&[2, hidden], 1, 0.7)?;
    let b1 = parameter(&[hidden], 2, 0.1)?;
    let w2 = parameter(&[hidden, 1], 3, 0.3)?;
    let b2 = parameter(&[1], 4, 0.1)?;
    let params = [&w1, &b1, &w2, &b2];
    let lr = 0.05;

    let mut first = None;
    let mut last = 0.0;
    for step in 0..=2000 {
        let h = x.matmul(&w1)?.add(&b1)?.tanh()?;
        let pred = h.matmul(&w2)?.add(&b2)?;
        let err = pred.sub(&y)?;
        let loss = err.mul(&err)?.mean()?;
        backward(&loss)?;
        {
            let _no_grad = no_grad();
            for p in params {
                let g = p
                    .grad()
                    .ok_or_else(|| Error::autograd("fit_model", "parameter has no gradient"))?;
                p.add_full_(&g, -lr)?;
                p.set_grad(None)?;
            }
        }
        last = loss.item()?.to_f64();
        first.get_or_insert(last);
        if step % 250 == 0 {
            println!("step {step:4}  loss {last:.6}");
        }
    }
    let first = first.unwrap_or(last);
    println!("loss fell from {first:.4} to {last:.4} ({:.1}x)", first / last);
    if last > first / 10.0 {
        return Err(Error::autograd("fit_model", "training did not reduce the loss tenfold"));
    }
    Ok(())
}
