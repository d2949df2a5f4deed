//! The caching allocator does not grow over a training loop: after warm-up,
//! bytes in use and bytes cached are the same after step 100 and step 1000,
//! and `empty_cache()` returns every cached byte. One test in this binary, so
//! no other test allocates while it reads the process-wide counters.

use frankentorch::alloc;
use frankentorch::nn::functional as F;
use frankentorch::nn::{Linear, LinearConfig, ReLU, Sequential};
use frankentorch::optim::{Adam, AdamOpts, Optimizer};
use frankentorch::prelude::*;

/// 64 -> 256 -> 256 -> 10: weights and activations of 16-256 KiB, so both the
/// cached size classes and the small ones that bypass the cache are used.
fn model() -> Result<Sequential> {
    let lin = |i, o| Linear::new(i, o, LinearConfig::default());
    Ok(Sequential::new()
        .append(lin(64, 256)?)
        .append(ReLU::new())
        .append(lin(256, 256)?)
        .append(ReLU::new())
        .append(lin(256, 10)?))
}

#[test]
fn training_loop_memory_stays_bounded_and_empty_cache_releases_it() -> Result<()> {
    manual_seed(0);
    assert!(alloc::cache_limit() > 0, "run without FT_ALLOC_CACHE_BYTES=0");
    let model = model()?;
    let mut opt = Adam::new(model.parameters(), AdamOpts::default())?;
    let x = ops::randn(&[64, 64])?;
    let y = ops::randint(10, &[64])?;
    let mut at = Vec::new();
    let mut first_loss = None;
    let mut last_loss = 0.0;
    for step in 1..=1000 {
        opt.zero_grad(true)?;
        let loss = F::cross_entropy(&model.forward(&x)?, &y, Default::default())?;
        backward(&loss)?;
        opt.step()?;
        last_loss = loss.item()?.to_f64();
        first_loss.get_or_insert(last_loss);
        drop(loss);
        if step == 100 || step == 1000 {
            at.push(alloc::stats());
        }
    }
    // The loop trains (so the blocks it reuses hold the right data).
    assert!(last_loss < first_loss.unwrap() * 0.5, "{first_loss:?} -> {last_loss}");
    let (s100, s1000) = (at[0], at[1]);
    assert_eq!(s100.in_use_bytes, s1000.in_use_bytes, "{s100:?} vs {s1000:?}");
    assert_eq!(s100.cached_bytes, s1000.cached_bytes, "{s100:?} vs {s1000:?}");
    assert!(s1000.cached_bytes > 0, "the loop's freed blocks are cached");
    assert!(s1000.hits > s100.hits, "steady state is served from the cache");
    // Past warm-up every cacheable request is a hit: no new blocks.
    assert_eq!(s1000.misses, s100.misses, "{s100:?} vs {s1000:?}");
    alloc::empty_cache();
    assert_eq!(alloc::stats().cached_bytes, 0);
    // Dropping the model and optimizer returns their blocks to the cache,
    // and empty_cache hands them back too.
    let in_use = alloc::stats().in_use_bytes;
    drop((model, opt, x, y));
    let after = alloc::stats();
    assert!(after.in_use_bytes < in_use);
    assert!(after.cached_bytes > 0);
    alloc::empty_cache();
    assert_eq!(alloc::stats().cached_bytes, 0);
    Ok(())
}
