//! [`Generator`]: a shareable, lockable MT19937 engine with PyTorch's CPU
//! generator API, and the process-global default generator.

use super::mt19937::{Mt19937, MT_STATE_N};
use crate::{DType, Error, Result, Tensor};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Size in bytes of a serialised generator state, as PyTorch's
/// `CPUGeneratorImplState` (`torch.get_rng_state().numel()`).
pub const STATE_SIZE: usize = 5056;

// Byte offsets of the fields of PyTorch's `CPUGeneratorImplState` (x86-64
// layout: the legacy POD, then the float normal cache).
const OFF_SEED: usize = 0;
const OFF_LEFT: usize = 8;
const OFF_SEEDED: usize = 12;
const OFF_NEXT: usize = 16;
const OFF_STATE: usize = 24;
const OFF_NORMAL_Y: usize = OFF_STATE + 8 * MT_STATE_N + 8;
const OFF_NORMAL_VALID: usize = OFF_STATE + 8 * MT_STATE_N + 24;
const OFF_FLOAT_NORMAL: usize = OFF_NORMAL_VALID + 8;
const OFF_FLOAT_VALID: usize = OFF_FLOAT_NORMAL + 4;

/// What a generator holds: the engine and the cached second Box–Muller
/// samples (PyTorch's `next_double_normal_sample` / `next_float_normal_sample`).
#[derive(Clone, Debug)]
struct GeneratorState {
    engine: Mt19937,
    next_double_normal: Option<f64>,
    next_float_normal: Option<f32>,
}

impl GeneratorState {
    fn seeded(seed: u64) -> GeneratorState {
        GeneratorState {
            engine: Mt19937::new(seed),
            next_double_normal: None,
            next_float_normal: None,
        }
    }
}

/// A CPU random generator, bit-compatible with `torch.Generator()` on the
/// CPU. Cloning gives another handle to the same generator (as in PyTorch);
/// use [`Generator::fork`] for an independent copy.
///
/// ```
/// use ft_runtime::random::Generator;
/// let g = Generator::new(0);
/// let h = g.clone();
/// let a = g.lock().random();
/// h.manual_seed(0);
/// assert_eq!(g.lock().random(), a);
/// ```
#[derive(Clone, Debug)]
pub struct Generator {
    inner: Arc<Mutex<GeneratorState>>,
}

/// Exclusive access to a generator's engine while a kernel draws a sequence
/// of numbers (PyTorch holds the generator's mutex for a whole kernel).
pub struct GeneratorGuard<'a> {
    state: MutexGuard<'a, GeneratorState>,
}

impl GeneratorGuard<'_> {
    /// One 32-bit draw (`CPUGeneratorImpl::random`).
    pub fn random(&mut self) -> u32 {
        self.state.engine.next_u32()
    }

    /// Two draws combined, the first as the high word (`random64`).
    pub fn random64(&mut self) -> u64 {
        let hi = u64::from(self.state.engine.next_u32());
        let lo = u64::from(self.state.engine.next_u32());
        (hi << 32) | lo
    }

    /// Takes the cached second normal sample of the double Box–Muller path.
    pub fn take_double_normal(&mut self) -> Option<f64> {
        self.state.next_double_normal.take()
    }

    /// Caches a second normal sample for the next double normal draw.
    pub fn set_double_normal(&mut self, value: f64) {
        self.state.next_double_normal = Some(value);
    }

    /// Takes the cached second normal sample of the float Box–Muller path.
    pub fn take_float_normal(&mut self) -> Option<f32> {
        self.state.next_float_normal.take()
    }

    /// Caches a second normal sample for the next float normal draw.
    pub fn set_float_normal(&mut self, value: f32) {
        self.state.next_float_normal = Some(value);
    }
}

impl Generator {
    /// A new generator seeded with `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator {
            inner: Arc::new(Mutex::new(GeneratorState::seeded(seed))),
        }
    }

    /// A new generator seeded nondeterministically (as PyTorch's default one).
    pub fn nondeterministic() -> Generator {
        Generator::new(nondeterministic_seed())
    }

    /// An independent generator starting from this one's current state.
    pub fn fork(&self) -> Generator {
        let state = self.lock().state.clone();
        Generator {
            inner: Arc::new(Mutex::new(state)),
        }
    }

    /// Locks the generator for a sequence of draws.
    pub fn lock(&self) -> GeneratorGuard<'_> {
        let state = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        GeneratorGuard { state }
    }

    /// Reseeds: a fresh engine for `seed` and no cached normal samples
    /// (`torch.Generator.manual_seed`). Returns the same handle.
    pub fn manual_seed(&self, seed: u64) -> &Generator {
        *self.lock().state = GeneratorState::seeded(seed);
        self
    }

    /// Reseeds from a nondeterministic source and returns the seed used.
    pub fn seed(&self) -> u64 {
        let seed = nondeterministic_seed();
        self.manual_seed(seed);
        seed
    }

    /// The seed of the current engine (`torch.Generator.initial_seed`).
    pub fn initial_seed(&self) -> u64 {
        self.lock().state.engine.seed()
    }

    /// The generator's state as a uint8 tensor of [`STATE_SIZE`] bytes, laid
    /// out exactly as `torch.get_rng_state()`, so states can be exchanged.
    pub fn get_state(&self) -> Tensor {
        let state = self.lock().state.clone();
        let bytes = encode_state(&state);
        Tensor::from_vec(bytes, &[STATE_SIZE]).expect("STATE_SIZE bytes fill the state tensor")
    }

    /// Restores a state produced by [`Generator::get_state`] or by
    /// `torch.get_rng_state()`. Fails on a tensor that is not uint8, has the
    /// wrong number of bytes, or holds an invalid engine.
    pub fn set_state(&self, new_state: &Tensor) -> Result<()> {
        const OP: &str = "Generator::set_state";
        if new_state.dtype() != DType::U8 {
            return Err(Error::dtype(
                OP,
                format!("RNG state must be a torch.ByteTensor, got {:?}", new_state.dtype()),
            ));
        }
        if new_state.numel() != STATE_SIZE {
            return Err(Error::invalid(
                OP,
                format!(
                    "Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG state size to be {}",
                    new_state.numel()
                ),
            ));
        }
        let bytes: Vec<u8> = new_state.to_vec::<u8>()?;
        let decoded = decode_state(&bytes).ok_or_else(|| Error::invalid(OP, "Invalid mt19937 state"))?;
        *self.lock().state = decoded;
        Ok(())
    }
}

/// A 64-bit seed from the operating system's entropy (`/dev/urandom`), or
/// from the clock and the process id when that is unavailable.
fn nondeterministic_seed() -> u64 {
    use std::io::Read;
    let mut buf = [0u8; 8];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if from_os.is_ok() {
        return u64::from_le_bytes(buf);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn put(bytes: &mut [u8], offset: usize, value: &[u8]) {
    bytes[offset..offset + value.len()].copy_from_slice(value);
}

fn get<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}

/// Serialises like PyTorch's `CPUGeneratorImpl::get_state` (padding zeroed,
/// unused legacy normal fields zero).
fn encode_state(state: &GeneratorState) -> Vec<u8> {
    let mut bytes = vec![0u8; STATE_SIZE];
    let engine = &state.engine;
    put(&mut bytes, OFF_SEED, &engine.seed().to_le_bytes());
    put(&mut bytes, OFF_LEFT, &(engine.left() as i32).to_le_bytes());
    put(&mut bytes, OFF_SEEDED, &i32::from(engine.seeded()).to_le_bytes());
    put(&mut bytes, OFF_NEXT, &u64::from(engine.next_index()).to_le_bytes());
    for (i, &word) in engine.state().iter().enumerate() {
        put(&mut bytes, OFF_STATE + 8 * i, &u64::from(word).to_le_bytes());
    }
    if let Some(y) = state.next_double_normal {
        put(&mut bytes, OFF_NORMAL_Y, &y.to_le_bytes());
        put(&mut bytes, OFF_NORMAL_VALID, &1i32.to_le_bytes());
    }
    if let Some(x) = state.next_float_normal {
        put(&mut bytes, OFF_FLOAT_NORMAL, &x.to_le_bytes());
        bytes[OFF_FLOAT_VALID] = 1;
    }
    bytes
}

/// Parses a serialised state as PyTorch's `CPUGeneratorImpl::set_state` does
/// (state words truncated to 32 bits, `next` to 32 bits).
fn decode_state(bytes: &[u8]) -> Option<GeneratorState> {
    let seed = u64::from_le_bytes(get(bytes, OFF_SEED));
    let left = i32::from_le_bytes(get(bytes, OFF_LEFT));
    let seeded = i32::from_le_bytes(get(bytes, OFF_SEEDED)) != 0;
    let next = u64::from_le_bytes(get(bytes, OFF_NEXT)) as u32;
    let mut words = [0u32; MT_STATE_N];
    for (i, w) in words.iter_mut().enumerate() {
        *w = u64::from_le_bytes(get(bytes, OFF_STATE + 8 * i)) as u32;
    }
    let engine = Mt19937::from_parts(seed, left, seeded, next, words)?;
    let double_valid = i32::from_le_bytes(get(bytes, OFF_NORMAL_VALID)) != 0;
    let float_valid = bytes[OFF_FLOAT_VALID] != 0;
    Some(GeneratorState {
        engine,
        next_double_normal: double_valid.then(|| f64::from_le_bytes(get(bytes, OFF_NORMAL_Y))),
        next_float_normal: float_valid.then(|| f32::from_le_bytes(get(bytes, OFF_FLOAT_NORMAL))),
    })
}

static DEFAULT_GENERATOR: OnceLock<Generator> = OnceLock::new();

/// The process-global CPU generator that random operators draw from
/// (`torch.default_generator`), seeded nondeterministically on first use.
///
/// ```
/// use ft_runtime::random::{default_generator, manual_seed};
/// manual_seed(7);
/// assert_eq!(default_generator().initial_seed(), 7);
/// ```
pub fn default_generator() -> &'static Generator {
    DEFAULT_GENERATOR.get_or_init(Generator::nondeterministic)
}

/// Seeds the default generator (`torch.manual_seed`).
pub fn manual_seed(seed: u64) -> &'static Generator {
    let g = default_generator();
    g.manual_seed(seed);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_caches() {
        let g = Generator::new(42);
        {
            let mut guard = g.lock();
            guard.random64();
            guard.set_double_normal(1.25);
            guard.set_float_normal(-0.5);
        }
        let saved = g.get_state();
        assert_eq!(saved.numel(), STATE_SIZE);
        let h = Generator::new(0);
        h.set_state(&saved).unwrap();
        let (mut a, mut b) = (g.lock(), h.lock());
        assert_eq!(b.take_double_normal(), Some(1.25));
        assert_eq!(b.take_float_normal(), Some(-0.5));
        assert_eq!(a.random(), b.random());
    }

    #[test]
    fn set_state_rejects_bad_tensors() {
        let g = Generator::new(1);
        let short = Tensor::from_vec(vec![0u8; 10], &[10]).unwrap();
        assert!(g.set_state(&short).is_err());
        let wrong_type = Tensor::from_vec(vec![0i64; STATE_SIZE], &[STATE_SIZE]).unwrap();
        assert_eq!(g.set_state(&wrong_type).unwrap_err().kind(), crate::ErrorKind::DType);
        // All-zero bytes: not seeded, left = 0.
        let zeros = Tensor::from_vec(vec![0u8; STATE_SIZE], &[STATE_SIZE]).unwrap();
        assert!(g.set_state(&zeros).is_err());
    }
}
