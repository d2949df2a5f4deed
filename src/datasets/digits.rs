//! The digits data set (UCI optical recognition of handwritten digits, as
//! shipped by scikit-learn): [`load_digits`] reads `data/digits.csv.gz`.

use crate::{Error, ErrorKind, Result, Tensor};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

const OP: &str = "load_digits";
/// Pixels per image (8 x 8).
pub const PIXELS: usize = 64;
/// The number of classes (digits 0 to 9).
pub const CLASSES: usize = 10;

/// The digits: `images` is float32 `[n, 64]` (pixel counts 0..=16, rows of
/// the 8x8 image one after another), `target` int64 `[n]` (0..=9).
///
/// ```no_run
/// use frankentorch::datasets::load_digits;
/// let d = load_digits("data/digits.csv.gz").unwrap();
/// assert_eq!(d.images.sizes(), &[1797, 64]);
/// assert_eq!(d.images_8x8().unwrap().sizes(), &[1797, 1, 8, 8]);
/// ```
#[derive(Clone, Debug)]
pub struct Digits {
    /// float32 `[n, 64]`.
    pub images: Tensor,
    /// int64 `[n]`.
    pub target: Tensor,
}

impl Digits {
    /// The images as a view `[n, 1, 8, 8]` (one channel), for conv nets.
    pub fn images_8x8(&self) -> Result<Tensor> {
        let n = self.images.sizes()[0] as i64;
        crate::ops::view(&self.images, &[n, 1, 8, 8])
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.target.numel()
    }

    /// True when there is no image.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads the digits from a gzip-compressed CSV file such as the
/// repository's `data/digits.csv.gz` (scikit-learn's
/// `sklearn/datasets/data/digits.csv.gz`): see [`parse_digits_gz`].
///
/// A missing or unreadable file is an [`ErrorKind::InvalidArgument`] error
/// naming the path.
pub fn load_digits(path: impl AsRef<Path>) -> Result<Digits> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::invalid(OP, format!("cannot read {}: {e}", path.display())))?;
    parse_digits_gz(&bytes).map_err(|e| Error::new(e.kind(), OP, format!("{}: {}", path.display(), e.message())))
}

/// Parses gzip-compressed digits CSV bytes (see [`parse_digits_csv`]);
/// bytes that are not gzip, or a corrupt or truncated stream, fail.
///
/// ```
/// use frankentorch::datasets::parse_digits_gz;
/// assert!(parse_digits_gz(b"not gzip").is_err());
/// ```
pub fn parse_digits_gz(bytes: &[u8]) -> Result<Digits> {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(OP, format!("not a valid gzip-compressed UTF-8 file: {e}")))?;
    parse_digits_csv(&text)
}

/// Parses digits CSV text: one image per non-empty line, 65 comma-separated
/// numbers (64 pixels, then the label). Every pixel must be a whole number
/// in 0..=16 and every label a whole number in 0..=9 (written as `3` or
/// `3.0`); anything else fails naming the line and the column.
///
/// ```
/// use frankentorch::datasets::parse_digits_csv;
/// # fn main() -> frankentorch::Result<()> {
/// let row = format!("{}7", "16,".repeat(64));
/// let d = parse_digits_csv(&row)?;
/// assert_eq!(d.target.to_vec::<i64>()?, vec![7]);
/// assert!(parse_digits_csv(&format!("{}17", "16,".repeat(64))).is_err()); // label 17
/// assert!(parse_digits_csv("1,2,3").is_err());                            // short row
/// # Ok(()) }
/// ```
pub fn parse_digits_csv(text: &str) -> Result<Digits> {
    let mut pixels: Vec<f32> = Vec::new();
    let mut labels: Vec<i64> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != PIXELS + 1 {
            return Err(Error::invalid(
                OP,
                format!(
                    "line {line_no}: expected {} comma-separated values (64 pixels and a label), found {}",
                    PIXELS + 1,
                    fields.len()
                ),
            ));
        }
        for (col, field) in fields.iter().enumerate() {
            let (what, max) = if col < PIXELS { ("pixel", 16) } else { ("label", 9) };
            let value = whole_number(field).filter(|v| (0..=max).contains(v)).ok_or_else(|| {
                Error::invalid(
                    OP,
                    format!(
                        "line {line_no}, column {}: {what} {:?} is not a whole number in 0..={max}",
                        col + 1,
                        field.trim()
                    ),
                )
            })?;
            if col < PIXELS {
                pixels.push(value as f32);
            } else {
                labels.push(value);
            }
        }
    }
    if labels.is_empty() {
        return Err(Error::new(ErrorKind::InvalidArgument, OP, "the file holds no digits"));
    }
    let n = labels.len();
    Ok(Digits {
        images: Tensor::from_vec(pixels, &[n, PIXELS])?,
        target: Tensor::from_vec(labels, &[n])?,
    })
}

/// A field as a whole number (`"5"`, `"5.0"`), or `None`.
fn whole_number(field: &str) -> Option<i64> {
    let s = field.trim();
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}
