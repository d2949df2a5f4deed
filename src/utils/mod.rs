//! Utilities around training, shaped like `torch.utils`: [`data`] loading
//! (datasets, samplers, `DataLoader`) and a terminal [`progress`] bar.

pub mod data;
pub mod progress;
