//! Random number generation bit-compatible with PyTorch's CPU generator.
//!
//! [`Mt19937`] is the 32-bit Mersenne Twister PyTorch's `CPUGeneratorImpl`
//! wraps; [`Generator`] is a shareable handle holding one engine plus the
//! cached second Box–Muller sample, with PyTorch's `manual_seed`, `seed`,
//! `initial_seed`, `get_state` and `set_state`. The same seed and the same
//! sequence of draws give the same numbers as `torch` on the CPU; the
//! distributions that turn draws into tensor values live in
//! `ft_kernels::random`.
//!
//! ```
//! use ft_runtime::random::Generator;
//! let g = Generator::new(42);
//! let first = g.lock().random();
//! g.manual_seed(42);
//! assert_eq!(g.lock().random(), first);
//! ```

mod generator;
mod mt19937;

pub use generator::{default_generator, manual_seed, Generator, GeneratorGuard, STATE_SIZE};
pub use mt19937::{Mt19937, MT_STATE_N};
