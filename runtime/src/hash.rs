//! XXH64: the 64-bit hash of a checkpoint sidecar's whole file and of the
//! gradients a provenance ledger records.
//!
//! Written from the published XXH64 specification (Yann Collet's
//! `xxhash_spec.md`): four 64-bit lanes over 32-byte stripes, then the
//! tail in 8-, 4- and 1-byte steps, then an avalanche. It runs at several
//! GB/s, which keeps verifying a large checkpoint I/O-bound, and has
//! published test vectors. It detects accidental damage; it is not a
//! cryptographic hash and does not protect against deliberate tampering.

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn lane(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, lane_value: u64) -> u64 {
    (acc ^ lane(0, lane_value)).wrapping_mul(P1).wrapping_add(P4)
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn read_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// A streaming XXH64 (seed 0): [`Xxh64::update`] with the bytes in any
/// split, then [`Xxh64::finish`].
///
/// ```
/// use ft_runtime::hash::{xxh64, Xxh64};
/// let mut h = Xxh64::new();
/// h.update(b"ab");
/// h.update(b"c");
/// assert_eq!(h.finish(), xxh64(b"abc"));
/// assert_eq!(xxh64(b"abc"), 0x44BC_2CF5_AD77_0999);
/// ```
#[derive(Clone, Debug)]
pub struct Xxh64 {
    lanes: [u64; 4],
    /// Bytes not yet consumed as a full 32-byte stripe.
    pending: [u8; 32],
    pending_len: usize,
    total: u64,
}

impl Xxh64 {
    /// A hasher that has seen no bytes yet.
    pub fn new() -> Xxh64 {
        Xxh64 {
            lanes: [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)],
            pending: [0; 32],
            pending_len: 0,
            total: 0,
        }
    }

    fn stripe(&mut self, s: &[u8]) {
        for (i, l) in self.lanes.iter_mut().enumerate() {
            *l = lane(*l, read_u64(&s[i * 8..]));
        }
    }

    /// Feeds `data` after the bytes already seen.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.pending_len > 0 {
            let take = (32 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 32 {
                return;
            }
            let full = self.pending;
            self.stripe(&full);
            self.pending_len = 0;
        }
        let mut chunks = data.chunks_exact(32);
        for s in &mut chunks {
            self.stripe(s);
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The hash of every byte fed so far (the hasher stays usable).
    pub fn finish(&self) -> u64 {
        let [v1, v2, v3, v4] = self.lanes;
        let mut h = if self.total >= 32 {
            let mut h = v1
                .rotate_left(1)
                .wrapping_add(v2.rotate_left(7))
                .wrapping_add(v3.rotate_left(12))
                .wrapping_add(v4.rotate_left(18));
            for v in self.lanes {
                h = merge(h, v);
            }
            h
        } else {
            P5
        };
        h = h.wrapping_add(self.total);
        let mut tail = &self.pending[..self.pending_len];
        while tail.len() >= 8 {
            h = (h ^ lane(0, read_u64(tail)))
                .rotate_left(27)
                .wrapping_mul(P1)
                .wrapping_add(P4);
            tail = &tail[8..];
        }
        if tail.len() >= 4 {
            h = (h ^ u64::from(read_u32(tail)).wrapping_mul(P1))
                .rotate_left(23)
                .wrapping_mul(P2)
                .wrapping_add(P3);
            tail = &tail[4..];
        }
        for &b in tail {
            h = (h ^ u64::from(b).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
        }
        h ^= h >> 33;
        h = h.wrapping_mul(P2);
        h ^= h >> 29;
        h = h.wrapping_mul(P3);
        h ^ (h >> 32)
    }
}

impl Default for Xxh64 {
    fn default() -> Xxh64 {
        Xxh64::new()
    }
}

/// XXH64 (seed 0) of `data` in one call.
///
/// ```
/// assert_eq!(ft_runtime::hash::xxh64(b""), 0xEF46_DB37_51D8_E999);
/// ```
pub fn xxh64(data: &[u8]) -> u64 {
    let mut h = Xxh64::new();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        // Reference values from the `xxhash` Python package (XXH64, seed 0).
        assert_eq!(xxh64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"abc"), 0x44BC_2CF5_AD77_0999);
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        let expected: [(usize, u64); 12] = [
            (1, 0xe934a84adb052768),
            (3, 0xf5cd310a927fde3e),
            (4, 0xa9c00ae8f9b200f0),
            (7, 0x72b108a52e458e66),
            (8, 0x5e2b74326f2c94c1),
            (31, 0x9416464fbabe7770),
            (32, 0x7762158a9eb86a10),
            (33, 0x161a6f773be00d54),
            (64, 0xb281f3bc04c1f033),
            (65, 0x506104f473514740),
            (100, 0x6a83ee21c7ddbf77),
            (200, 0xcf2e3fc1c381ec9c),
        ];
        for (n, h) in expected {
            assert_eq!(xxh64(&data[..n]), h, "n={n}");
        }
    }

    #[test]
    fn streaming_equals_one_shot_for_every_split() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        for n in [0, 1, 3, 4, 7, 8, 31, 32, 33, 64, 65, 100, 200] {
            let whole = xxh64(&data[..n]);
            for split in 0..=n {
                let mut h = Xxh64::new();
                h.update(&data[..split]);
                h.update(&data[split..n]);
                assert_eq!(h.finish(), whole, "n={n} split={split}");
            }
        }
    }
}
