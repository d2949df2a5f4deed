//! FrankenTorch code generator.
