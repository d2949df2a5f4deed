//! Typed errors returned by every fallible FrankenTorch call.
//!
//! Each variant names the operator that failed (`op`), so a user reading the
//! message knows which call to fix. [`ErrorKind`] gives a stable, matchable
//! category used by tests and by oracle fixtures of error cases.

use std::fmt;

/// The category of an [`Error`], stable across message wording changes.
///
/// ```
/// use ft_runtime::{Error, ErrorKind};
/// let e = Error::invalid("aten::view", "shape '[5]' is invalid for input of size 4");
/// assert_eq!(e.kind(), ErrorKind::InvalidArgument);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument value is not acceptable (PyTorch's `RuntimeError`/`ValueError`).
    InvalidArgument,
    /// Shapes cannot be broadcast, multiplied or viewed as asked.
    ShapeMismatch,
    /// A dimension index is outside `[-ndim, ndim - 1]` (PyTorch's `IndexError`).
    DimOutOfRange,
    /// An element index is out of range (PyTorch's `IndexError`).
    IndexOutOfRange,
    /// The dtype is not supported by the op, or a cast is not allowed.
    DType,
    /// No kernel is registered for the computed dispatch key.
    MissingKernel,
    /// The autograd engine refused (freed graph, version mismatch, leaf in-place...).
    Autograd,
    /// A by-name call did not match the operator schema.
    Schema,
    /// A feature PyTorch has and FrankenTorch does not (listed in FEATURE_PARITY.md).
    NotSupported,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An error from a FrankenTorch operation, naming the operator and the problem.
///
/// ```
/// use ft_runtime::Error;
/// let e = Error::dim_out_of_range("aten::sum.dim_IntList", 3, 2);
/// assert_eq!(
///     e.to_string(),
///     "aten::sum.dim_IntList: Dimension out of range (expected to be in range of [-2, 1], but got 3)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op}: {message}")]
pub struct Error {
    kind: ErrorKind,
    op: String,
    message: String,
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of any kind for operator `op`.
    pub fn new(kind: ErrorKind, op: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            op: op.into(),
            message: message.into(),
        }
    }
    /// [`ErrorKind::InvalidArgument`].
    pub fn invalid(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, op, message)
    }
    /// [`ErrorKind::ShapeMismatch`].
    pub fn shape(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ShapeMismatch, op, message)
    }
    /// [`ErrorKind::DType`].
    pub fn dtype(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::DType, op, message)
    }
    /// [`ErrorKind::Autograd`].
    pub fn autograd(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Autograd, op, message)
    }
    /// [`ErrorKind::NotSupported`].
    pub fn not_supported(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotSupported, op, message)
    }
    /// [`ErrorKind::Schema`].
    pub fn schema(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Schema, op, message)
    }
    /// [`ErrorKind::IndexOutOfRange`].
    pub fn index(op: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::IndexOutOfRange, op, message)
    }
    /// PyTorch's dimension-out-of-range error for `dim` on a tensor of `ndim` dims.
    pub fn dim_out_of_range(op: impl Into<String>, dim: i64, ndim: usize) -> Self {
        let n = ndim.max(1) as i64;
        Self::new(
            ErrorKind::DimOutOfRange,
            op,
            format!(
                "Dimension out of range (expected to be in range of [{}, {}], but got {dim})",
                -n,
                n - 1
            ),
        )
    }
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The operator (e.g. `aten::add.Tensor`) or subsystem that failed.
    pub fn op(&self) -> &str {
        &self.op
    }
    /// The message without the operator prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The same error attributed to another operator (used by composites so the
    /// user sees the op they called).
    pub fn with_op(mut self, op: impl Into<String>) -> Self {
        self.op = op.into();
        self
    }
}
