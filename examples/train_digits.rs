//! The main job: train an MLP and a small CNN on the UCI optical digits
//! (1797 8x8 images, `data/digits.csv.gz`), as a PyTorch user would write
//! it: `nn` modules, `Adam` with a cosine learning-rate schedule, a
//! shuffling `DataLoader`, a progress bar, per-epoch loss and test accuracy,
//! and each trained model saved in PyTorch's checkpoint format (`torch.load`
//! reads it) and reloaded to check it.
//!
//! Run: `cargo run --release --example train_digits`. It exits with an
//! error if a model ends below 97% test accuracy.

use frankentorch::datasets::load_digits;
use frankentorch::nn::functional as F;
use frankentorch::nn::{
    Conv2d, ConvConfig, CrossEntropyLoss, Flatten, Linear, LinearConfig, MaxPool2d, ReLU, Sequential, Unflatten,
};
use frankentorch::optim::lr_scheduler::{CosineAnnealingLR, CosineAnnealingLROpts, LRScheduler};
use frankentorch::optim::{Adam, AdamOpts, Optimizer};
use frankentorch::prelude::*;
use frankentorch::serialize::pt;
use frankentorch::utils::data::{random_split, DataLoader, DataLoaderOpts, Dataset, Subset, TensorDataset};
use frankentorch::utils::progress::ProgressBar;
use frankentorch::Generator;
use std::path::PathBuf;
use std::sync::Arc;

const EPOCHS: i64 = 20;
const TARGET_ACCURACY: f64 = 0.97;

type Split = Subset<TensorDataset>;

/// 64 -> 256 -> 10 with ReLU.
fn mlp() -> Result<Sequential> {
    Ok(Sequential::new()
        .append(Linear::new(64, 256, LinearConfig::default())?)
        .append(ReLU::new())
        .append(Linear::new(256, 10, LinearConfig::default())?))
}

/// Two 3x3 conv + 2x2 max-pool stages on the 8x8 image, then a linear head.
fn cnn() -> Result<Sequential> {
    let same = ConvConfig {
        padding: F::ConvPadding::Explicit([1, 1]),
        ..Default::default()
    };
    Ok(Sequential::new()
        .append(Unflatten::new(1, &[1, 8, 8]))
        .append(Conv2d::new(1, 16, [3, 3], same)?)
        .append(ReLU::new())
        .append(MaxPool2d::new([2, 2], Default::default()))
        .append(Conv2d::new(16, 32, [3, 3], same)?)
        .append(ReLU::new())
        .append(MaxPool2d::new([2, 2], Default::default()))
        .append(Flatten::default())
        .append(Linear::new(32 * 2 * 2, 10, LinearConfig::default())?))
}

/// The fraction of `data` that `model` classifies correctly (eval mode, no grad).
fn accuracy(model: &mut Sequential, data: &Split) -> Result<f64> {
    model.eval();
    let _no_grad = no_grad();
    let opts = DataLoaderOpts {
        batch_size: 512,
        ..Default::default()
    };
    let mut correct = 0i64;
    for batch in &DataLoader::new(data.clone(), opts)? {
        let batch = batch?;
        let predicted = ops::argmax(&model.forward(&batch[0])?, Some(1), false)?;
        correct += ops::sum(&ops::eq(&predicted, &batch[1])?)?.item()?.to_i64();
    }
    model.train(true);
    Ok(correct as f64 / data.len() as f64)
}

/// One epoch of Adam steps over `loader`; returns the mean training loss.
fn train_epoch(
    model: &Sequential,
    loader: &DataLoader<Split, Vec<Tensor>>,
    optimizer: &mut Adam,
    bar: &mut ProgressBar,
) -> Result<f64> {
    let criterion = CrossEntropyLoss::default();
    let mut total = 0.0;
    for (step, batch) in loader.iter().enumerate() {
        let batch = batch?;
        optimizer.zero_grad(true)?;
        let loss = criterion.forward(&model.forward(&batch[0])?, &batch[1])?;
        backward(&loss)?;
        optimizer.step()?;
        total += loss.item()?.to_f64();
        bar.set_postfix(format!("loss={:.4}", total / (step + 1) as f64));
        bar.update(1);
    }
    Ok(total / loader.len() as f64)
}

/// Trains `model`, saves its state dict, reloads it into `fresh` and checks
/// that the reloaded model scores the same; returns the test accuracy.
fn fit(name: &str, mut model: Sequential, mut fresh: Sequential, train: &Split, test: &Split) -> Result<f64> {
    let opts = DataLoaderOpts {
        batch_size: 32,
        shuffle: true,
        generator: Some(Generator::new(1)),
        num_workers: 1,
        ..Default::default()
    };
    let loader = DataLoader::new(train.clone(), opts)?;
    let adam = AdamOpts {
        lr: 1e-2,
        ..Default::default()
    };
    let mut optimizer = Adam::new(model.parameters(), adam)?;
    let mut schedule = CosineAnnealingLR::new(&mut optimizer, EPOCHS, CosineAnnealingLROpts::default())?;
    let mut acc = 0.0;
    for epoch in 1..=EPOCHS {
        let mut bar = ProgressBar::new(format!("{name} epoch {epoch:>2}/{EPOCHS}"), loader.len());
        let loss = train_epoch(&model, &loader, &mut optimizer, &mut bar)?;
        schedule.step(&mut optimizer)?;
        acc = accuracy(&mut model, test)?;
        bar.set_postfix(format!("loss={loss:.4} test_acc={:.2}%", 100.0 * acc));
        bar.finish();
    }
    let path = checkpoint_path(name);
    pt::save_state_dict(&model.state_dict(), &path)?;
    fresh.load_state_dict(&pt::load_state_dict(&path)?, true)?;
    let reloaded = accuracy(&mut fresh, test)?;
    println!(
        "{name}: test accuracy {:.2}%, saved to {} (reloaded: {:.2}%)",
        100.0 * acc,
        path.display(),
        100.0 * reloaded
    );
    if reloaded != acc {
        return Err(Error::invalid(name, "the reloaded model scores differently"));
    }
    Ok(acc)
}

/// `target/train_digits_<name>.pt` in this crate.
fn checkpoint_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    dir.join(format!("train_digits_{name}.pt"))
}

fn main() -> Result<()> {
    let digits = load_digits(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz"))?;
    let images = ops::div_scalar(&digits.images, 16.0)?; // pixels 0..=16 to [0, 1]
    let data = Arc::new(TensorDataset::new(vec![images, digits.target.clone()])?);
    let split = random_split(data, [0.8, 0.2], Some(&Generator::new(0)))?;
    let (train, test) = (&split[0], &split[1]);
    println!("digits: {} training and {} test images", train.len(), test.len());

    let mut results = vec![];
    manual_seed(0);
    results.push(("mlp", fit("mlp", mlp()?, mlp()?, train, test)?));
    manual_seed(0);
    results.push(("cnn", fit("cnn", cnn()?, cnn()?, train, test)?));
    for (name, acc) in results {
        if acc < TARGET_ACCURACY {
            return Err(Error::invalid(
                name,
                format!(
                    "test accuracy {:.2}% is below {:.0}%",
                    100.0 * acc,
                    100.0 * TARGET_ACCURACY
                ),
            ));
        }
    }
    Ok(())
}
