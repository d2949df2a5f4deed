//! Small data sets shipped with the repository (under `data/`), loaded for
//! real from their files.
//!
//! ```no_run
//! let d = frankentorch::datasets::load_digits("data/digits.csv.gz").unwrap();
//! assert_eq!(d.len(), 1797);
//! ```

mod digits;

pub use digits::{load_digits, parse_digits_csv, parse_digits_gz, Digits, CLASSES, PIXELS};
