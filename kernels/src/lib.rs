//! FrankenTorch CPU kernels.
