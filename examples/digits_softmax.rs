//! The data pipeline end to end on the digits data set: `load_digits`,
//! `random_split` (80/20, seeded), a shuffling `DataLoader` prefetching on a
//! worker thread, softmax regression trained with plain SGD and
//! `clip_grad_norm_`, a `ProgressBar` per epoch, and the weights saved to
//! and reloaded from a safetensors file.
//!
//! Run: `cargo run --release --example digits_softmax`

use frankentorch::datasets::load_digits;
use frankentorch::nn::functional as F;
use frankentorch::nn::utils::{clip_grad_norm_, ClipGradNormOpts};
use frankentorch::prelude::*;
use frankentorch::serialize::safetensors;
use frankentorch::utils::data::{random_split, DataLoader, DataLoaderOpts, Dataset, Subset, TensorDataset};
use frankentorch::utils::progress::ProgressBar;
use frankentorch::Generator;
use std::sync::Arc;

/// Correct predictions of `w`, `b` on every item of `data`.
fn accuracy(data: &Subset<TensorDataset>, w: &Tensor, b: &Tensor) -> Result<f64> {
    let _no_grad = no_grad();
    let loader = DataLoader::new(
        data.clone(),
        DataLoaderOpts {
            batch_size: 256,
            ..Default::default()
        },
    )?;
    let mut correct = 0i64;
    for batch in &loader {
        let batch = batch?;
        let pred = ops::argmax(&ops::addmm(b, &batch[0], w)?, Some(1), false)?;
        correct += ops::sum(&ops::eq(&pred, &batch[1])?)?.item()?.to_i64();
    }
    Ok(correct as f64 / data.len() as f64)
}

fn main() -> Result<()> {
    let digits = load_digits(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz"))?;
    let images = ops::div_scalar(&digits.images, 16.0)?; // pixels to [0, 1]
    let data = Arc::new(TensorDataset::new(vec![images, digits.target.clone()])?);
    let split = random_split(data, [0.8, 0.2], Some(&Generator::new(0)))?;
    let (train, test) = (&split[0], &split[1]);

    manual_seed(0);
    let w = ops::mul_scalar(&ops::randn(&[64, 10])?, 0.01)?;
    let b = ops::zeros(&[10])?;
    w.requires_grad_(true)?;
    b.requires_grad_(true)?;
    let opts = DataLoaderOpts {
        batch_size: 32,
        shuffle: true,
        generator: Some(Generator::new(1)),
        num_workers: 1,
        ..Default::default()
    };
    let loader = DataLoader::new(train.clone(), opts)?;
    let lr = 0.5;
    for epoch in 1..=5 {
        let mut bar = ProgressBar::new(format!("epoch {epoch}"), loader.len());
        let mut total = 0.0;
        for (step, batch) in loader.iter().enumerate() {
            let batch = batch?;
            let logits = ops::addmm(&b, &batch[0], &w)?;
            let loss = F::cross_entropy(&logits, &batch[1], F::CrossEntropyOpts::default())?;
            backward(&loss)?;
            clip_grad_norm_(&[w.clone(), b.clone()], 5.0, ClipGradNormOpts::default())?;
            {
                let _no_grad = no_grad();
                for p in [&w, &b] {
                    ops::sub_(p, &ops::mul_scalar(&p.grad().expect("a gradient"), lr)?)?;
                    p.set_grad(None)?;
                }
            }
            total += loss.item()?.to_f64();
            bar.set_postfix(format!("loss={:.3}", total / (step + 1) as f64));
            bar.update(1);
        }
        bar.set_postfix(format!(
            "loss={:.3} acc={:.1}%",
            total / loader.len() as f64,
            100.0 * accuracy(test, &w, &b)?
        ));
        bar.finish();
    }

    let path = std::env::temp_dir().join("digits_softmax.safetensors");
    safetensors::save_file(&[("weight", w.detach()), ("bias", b.detach())], None, &path)?;
    let saved = safetensors::load_file(&path)?;
    let reloaded = accuracy(test, &saved["weight"], &saved["bias"])?;
    println!(
        "test accuracy after reloading {}: {:.1}%",
        path.display(),
        100.0 * reloaded
    );
    Ok(())
}
