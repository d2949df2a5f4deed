//! Which SIMD instruction set the kernels use, detected once per process.
//!
//! The level is the best one the CPU supports, lowered (never raised) by the
//! environment variable `FT_CPU_CAPABILITY=scalar|avx2|avx512` (the role of
//! PyTorch's `ATEN_CPU_CAPABILITY`), read on first use. Every dispatched
//! kernel asks [`cpu_capability`], so one process always takes the same path
//! for every call and every thread count: results may differ between CPUs,
//! never between runs or thread counts on one machine.

use std::sync::OnceLock;

/// A SIMD level, ordered from least to most capable on one architecture.
///
/// ```
/// use ft_kernels::cpu::Capability;
/// assert!(Capability::Scalar < Capability::Avx2Fma);
/// assert!(Capability::Avx2Fma < Capability::Avx512);
/// assert_eq!(Capability::Avx512.name(), "avx512");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Portable Rust, no explicit vector instructions.
    Scalar,
    /// aarch64 Advanced SIMD (always present on aarch64).
    Neon,
    /// x86-64 AVX2 with FMA (256-bit vectors).
    Avx2Fma,
    /// x86-64 AVX-512 Foundation (512-bit vectors), with AVX2 and FMA.
    Avx512,
}

impl Capability {
    /// The name used by `FT_CPU_CAPABILITY` and printed by benchmarks.
    ///
    /// ```
    /// assert_eq!(ft_kernels::cpu::Capability::Scalar.name(), "scalar");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Capability::Scalar => "scalar",
            Capability::Neon => "neon",
            Capability::Avx2Fma => "avx2",
            Capability::Avx512 => "avx512",
        }
    }

    /// Every level this CPU can run, lowest first (tests run each of them).
    ///
    /// ```
    /// let all = ft_kernels::cpu::Capability::available();
    /// assert_eq!(all[0], ft_kernels::cpu::Capability::Scalar);
    /// ```
    pub fn available() -> Vec<Capability> {
        let best = detect();
        [
            Capability::Scalar,
            Capability::Neon,
            Capability::Avx2Fma,
            Capability::Avx512,
        ]
        .into_iter()
        .filter(|&c| c == Capability::Scalar || supported(c, best))
        .collect()
    }
}

/// Whether a CPU whose best level is `best` can run `c`.
fn supported(c: Capability, best: Capability) -> bool {
    match c {
        Capability::Scalar => true,
        Capability::Neon => best == Capability::Neon,
        Capability::Avx2Fma | Capability::Avx512 => best != Capability::Neon && c <= best,
    }
}

/// The best level the hardware supports (ignoring the environment).
fn detect() -> Capability {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        if avx2 && std::is_x86_feature_detected!("avx512f") {
            return Capability::Avx512;
        }
        if avx2 {
            return Capability::Avx2Fma;
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            return Capability::Neon;
        }
    }
    Capability::Scalar
}

/// The level named by `FT_CPU_CAPABILITY`, if it is set to a known name.
fn requested(value: Option<&str>) -> Option<Capability> {
    match value?.trim().to_ascii_lowercase().as_str() {
        "scalar" | "default" => Some(Capability::Scalar),
        "avx2" => Some(Capability::Avx2Fma),
        "avx512" => Some(Capability::Avx512),
        "neon" => Some(Capability::Neon),
        _ => None,
    }
}

/// `best`, lowered to `wanted` when the CPU can run it (a request for a
/// level the CPU lacks, or an unknown name, is ignored).
fn choose(best: Capability, wanted: Option<Capability>) -> Capability {
    match wanted {
        Some(w) if supported(w, best) => w,
        _ => best,
    }
}

/// The SIMD level every dispatched kernel uses in this process: the best the
/// CPU supports, or the lower one `FT_CPU_CAPABILITY` asks for. Detected on
/// the first call and fixed afterwards.
///
/// ```
/// let c = ft_kernels::cpu::cpu_capability();
/// assert!(ft_kernels::cpu::Capability::available().contains(&c));
/// ```
pub fn cpu_capability() -> Capability {
    static LEVEL: OnceLock<Capability> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let env = std::env::var("FT_CPU_CAPABILITY").ok();
        choose(detect(), requested(env.as_deref()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_only_lowers_the_level() {
        assert_eq!(choose(Capability::Avx512, requested(Some("avx2"))), Capability::Avx2Fma);
        assert_eq!(
            choose(Capability::Avx512, requested(Some("SCALAR"))),
            Capability::Scalar
        );
        assert_eq!(
            choose(Capability::Avx2Fma, requested(Some("avx512"))),
            Capability::Avx2Fma
        );
        assert_eq!(choose(Capability::Neon, requested(Some("avx2"))), Capability::Neon);
        assert_eq!(choose(Capability::Neon, requested(Some("scalar"))), Capability::Scalar);
        assert_eq!(choose(Capability::Avx512, requested(Some("sse9"))), Capability::Avx512);
        assert_eq!(choose(Capability::Avx512, None), Capability::Avx512);
    }

    #[test]
    fn available_levels_are_supported_and_sorted() {
        let all = Capability::available();
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(all.contains(&detect()));
        assert!(supported(cpu_capability(), detect()));
    }
}
