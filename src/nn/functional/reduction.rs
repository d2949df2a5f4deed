//! The `reduction=` argument of the loss functions.

/// How a loss reduces its per-element values: Python's `reduction='none' |
/// 'mean' | 'sum'`.
///
/// ```
/// use frankentorch::nn::functional::Reduction;
/// assert_eq!(Reduction::default(), Reduction::Mean);
/// assert_eq!(Reduction::Sum.as_str(), "sum");
/// assert_eq!(Reduction::Sum.to_aten(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// Keep one loss value per element (`'none'`).
    None,
    /// Average the values (`'mean'`, PyTorch's default).
    #[default]
    Mean,
    /// Add the values up (`'sum'`).
    Sum,
}

impl Reduction {
    /// Python's spelling: `"none"`, `"mean"` or `"sum"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
        }
    }

    /// The integer aten loss ops take (`at::Reduction`: 0 none, 1 mean, 2 sum).
    pub fn to_aten(self) -> i64 {
        match self {
            Reduction::None => 0,
            Reduction::Mean => 1,
            Reduction::Sum => 2,
        }
    }
}
