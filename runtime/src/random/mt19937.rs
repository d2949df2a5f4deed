//! The 32-bit Mersenne Twister (MT19937) as PyTorch's CPU generator runs it:
//! seeded with Knuth's linear initialisation of the low 32 bits of the seed,
//! the state regenerated lazily on the draw that exhausts it.

/// Number of 32-bit words in the MT19937 state.
pub const MT_STATE_N: usize = 624;
const MT_M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// One MT19937 engine with PyTorch's bookkeeping (`seed`, `left`, `next`,
/// `seeded`), which is what `get_state` serialises.
///
/// ```
/// use ft_runtime::random::Mt19937;
/// let mut e = Mt19937::new(5489);
/// assert_eq!(e.next_u32(), 3_499_211_612); // the reference first output
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mt19937 {
    seed: u64,
    left: u32,
    seeded: bool,
    next: u32,
    state: [u32; MT_STATE_N],
}

impl Mt19937 {
    /// An engine seeded with `seed` (only its low 32 bits feed the state; the
    /// whole value is remembered as the initial seed).
    pub fn new(seed: u64) -> Mt19937 {
        let mut state = [0u32; MT_STATE_N];
        state[0] = seed as u32;
        for j in 1..MT_STATE_N {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        Mt19937 {
            seed,
            left: 1,
            seeded: true,
            next: 0,
            state,
        }
    }

    /// Rebuilds an engine from serialised fields; `None` when they do not
    /// describe a valid engine (PyTorch's "Invalid mt19937 state").
    pub fn from_parts(seed: u64, left: i32, seeded: bool, next: u32, state: [u32; MT_STATE_N]) -> Option<Mt19937> {
        let n = MT_STATE_N as i64;
        let valid = seeded && left > 0 && i64::from(left) <= n && i64::from(next) <= n;
        valid.then_some(Mt19937 {
            seed,
            left: left as u32,
            seeded,
            next,
            state,
        })
    }

    /// The seed the engine was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Draws left before the state is regenerated, plus one (PyTorch's `left_`).
    pub fn left(&self) -> u32 {
        self.left
    }

    /// Whether the engine was seeded (always true for engines built here).
    pub fn seeded(&self) -> bool {
        self.seeded
    }

    /// Index of the next state word to temper (PyTorch's `next_`).
    pub fn next_index(&self) -> u32 {
        self.next
    }

    /// The 624 state words.
    pub fn state(&self) -> &[u32; MT_STATE_N] {
        &self.state
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        self.left -= 1;
        if self.left == 0 {
            self.regenerate();
        }
        let mut y = self.state[self.next as usize];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Regenerates all 624 words (the "twist") and restarts the cursor.
    fn regenerate(&mut self) {
        for i in 0..MT_STATE_N {
            let y = (self.state[i] & UPPER_MASK) | (self.state[(i + 1) % MT_STATE_N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.state[i] = self.state[(i + MT_M) % MT_STATE_N] ^ (y >> 1) ^ mag;
        }
        self.left = MT_STATE_N as u32;
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs_for_default_seed() {
        let mut e = Mt19937::new(5489);
        let first: Vec<u32> = (0..3).map(|_| e.next_u32()).collect();
        assert_eq!(first, vec![3_499_211_612, 581_869_302, 3_890_346_734]);
        // The 10000th output of the reference implementation.
        let mut e = Mt19937::new(5489);
        let last = (0..10_000).map(|_| e.next_u32()).last();
        assert_eq!(last, Some(4_123_659_995));
    }

    #[test]
    fn invalid_parts_are_rejected() {
        let e = Mt19937::new(1);
        assert!(Mt19937::from_parts(1, 0, true, 0, e.state).is_none());
        assert!(Mt19937::from_parts(1, 625, true, 0, e.state).is_none());
        assert!(Mt19937::from_parts(1, 1, false, 0, e.state).is_none());
        assert!(Mt19937::from_parts(1, 1, true, 625, e.state).is_none());
        assert_eq!(Mt19937::from_parts(1, 1, true, 0, e.state), Some(e));
    }
}
