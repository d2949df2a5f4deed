//! FrankenTorch.
