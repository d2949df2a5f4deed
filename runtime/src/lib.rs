//! FrankenTorch runtime: dtypes, scalars, devices, storage, tensors, the
//! dispatcher and the autograd engine. Users depend on the `frankentorch`
//! crate, which re-exports this and adds the generated operator API.

#![warn(missing_docs)]

pub mod alloc;
pub mod autograd;
pub mod device;
pub mod dispatch;
pub mod dtype;
pub mod error;
mod format;
pub mod hash;
pub mod mode;
pub mod parallel;
pub mod scalar;
pub mod shape;
pub mod storage;
pub mod tensor;
pub mod tls;

pub use device::{Device, Layout, MemoryFormat};
pub use dtype::{can_cast, promote_types, Category, DType, Element, DEFAULT_DTYPE};
pub use error::{Error, ErrorKind, Result};
pub use half;
pub use scalar::Scalar;
pub use storage::{Storage, StorageAccess};
pub use tensor::{Tensor, VersionCounter, WeakTensor};
pub mod promotion;
pub mod random;
