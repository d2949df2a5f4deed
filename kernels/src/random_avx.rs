//! The float32 Box–Muller block of PyTorch's AVX2 `normal_` kernel, one lane
//! at a time, so that `randn` in float32 matches torch bit for bit on x86-64
//! CPUs where torch dispatches to its AVX2 kernel (AVX512 machines included:
//! torch registers no AVX512 `normal_` kernel).
//!
//! That kernel uses Cephes-style single-precision approximations of `log`
//! and `sincos` (the "avx_mathfun" polynomials), not libm, and the compiler
//! fused some multiply-adds. Both are reproduced here: every step rounds to
//! float32 as the vector instructions do, and [`f32::mul_add`] stands where
//! the compiled kernel has a fused multiply-add. Which products were fused
//! was established by experiment against torch 2.15 (zero differing bits
//! over 3 * 10^6 samples; tests/random_streams.rs pins it).

/// Coefficients of the log polynomial, highest degree first.
const LOG_POLY: [f32; 9] = [
    0.070_376_836,
    -0.115_146_1,
    0.116_769_984,
    -0.124_201_41,
    0.142_493_23,
    -0.166_680_57,
    0.200_007_14,
    -0.249_999_94,
    0.333_333_3,
];
/// log(2) split in a short high part and a correction.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -0.000_212_194_44;
const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// pi/4 split in three parts for the argument reduction.
const PI4_A: f32 = -0.785_156_25;
const PI4_B: f32 = -0.000_241_875_65;
const PI4_C: f32 = -3.774_895e-8;
const FOUR_OVER_PI: f32 = 1.273_239_5;
const SIN_POLY: [f32; 3] = [-0.000_195_152_96, 0.008_332_161, -0.166_666_55];
const COS_POLY: [f32; 3] = [2.443_315_7e-5, -0.001_388_731_6, 0.041_666_646];

/// Natural log of `x` as the AVX2 kernel approximates it (NaN for x <= 0).
fn approx_ln(x: f32) -> f32 {
    if x <= 0.0 {
        return f32::NAN;
    }
    let x = x.max(f32::MIN_POSITIVE);
    let bits = x.to_bits();
    // Exponent (unbiased, +1) and the mantissa scaled into [0.5, 1).
    let mut e = ((bits >> 23) as i32 - 0x7f) as f32 + 1.0;
    let m = f32::from_bits((bits & !0x7f80_0000) | 0.5f32.to_bits());
    let small = m < SQRT_HALF;
    let mut x = m - 1.0;
    if small {
        e -= 1.0;
        x += m;
    }
    let z = x * x;
    let mut y = LOG_POLY[0];
    for &c in &LOG_POLY[1..] {
        y = y.mul_add(x, c);
    }
    let y = y * x;
    let y = y.mul_add(z, e * LN2_LO);
    let y = (-z).mul_add(0.5, y);
    e.mul_add(LN2_HI, x + y)
}

/// (sin x, cos x) as the AVX2 kernel approximates them.
fn approx_sincos(x: f32) -> (f32, f32) {
    let sign_in = x.to_bits() & 0x8000_0000;
    let ax = x.abs();
    // Octant index rounded up to even, and the reduced argument.
    let j = (((ax * FOUR_OVER_PI) as i32) + 1) & !1;
    let jf = j as f32;
    let r = jf.mul_add(PI4_A, ax);
    let r = jf.mul_add(PI4_B, r);
    let r = jf.mul_add(PI4_C, r);
    let sin_flip = ((j & 4) as u32) << 29;
    let cos_flip = ((!(j - 2) & 4) as u32) << 29;
    let use_sin_poly = j & 2 == 0;
    let z = r * r;
    let c = COS_POLY[0].mul_add(z, COS_POLY[1]);
    let c = c.mul_add(z, COS_POLY[2]);
    let c = c * z;
    let c = c.mul_add(z, -(z * 0.5)) + 1.0;
    let s = SIN_POLY[0].mul_add(z, SIN_POLY[1]);
    let s = s.mul_add(z, SIN_POLY[2]);
    let s = (s * z).mul_add(r, r);
    let (sin_v, cos_v) = if use_sin_poly { (s, c) } else { (c, s) };
    let sin = f32::from_bits(sin_v.to_bits() ^ sign_in ^ sin_flip);
    let cos = f32::from_bits(cos_v.to_bits() ^ cos_flip);
    (sin, cos)
}

/// Turns 16 uniforms in [0, 1) into 16 standard normals in place:
/// `u1 = 1 - x[j]`, `u2 = x[j + 8]`, `r = sqrt(-2 ln u1)`, `theta = 2 pi u2`,
/// `x[j] = r cos theta`, `x[j + 8] = r sin theta`.
pub(crate) fn normal_block_f32(block: &mut [f32]) {
    let two_pi = (2.0 * std::f64::consts::PI) as f32;
    for j in 0..8 {
        let u1 = 1.0 - block[j];
        let u2 = block[j + 8];
        let radius = (-2.0 * approx_ln(u1)).sqrt();
        let (sin, cos) = approx_sincos(two_pi * u2);
        block[j] = radius * cos;
        block[j + 8] = radius * sin;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approximations_are_close_to_libm() {
        for i in 1..1000 {
            let x = i as f32 / 1000.0;
            assert!((approx_ln(x) - x.ln()).abs() < 1e-6, "ln {x}");
            let t = x * std::f32::consts::TAU;
            let (s, c) = approx_sincos(t);
            assert!((s - t.sin()).abs() < 1e-6 && (c - t.cos()).abs() < 1e-6, "sincos {t}");
        }
        assert!(approx_ln(0.0).is_nan());
    }

    /// The short literals above are the float32 roundings of the kernel's
    /// published decimal constants.
    #[test]
    fn constants_round_from_the_published_decimals() {
        let published: [f64; 9] = [
            7.0376836292E-2,
            -1.1514610310E-1,
            1.1676998740E-1,
            -1.2420140846E-1,
            1.4249322787E-1,
            -1.6668057665E-1,
            2.0000714765E-1,
            -2.4999993993E-1,
            3.3333331174E-1,
        ];
        for (c, p) in LOG_POLY.iter().zip(published) {
            assert_eq!(*c, p as f32);
        }
        let pairs: [(f32, f64); 13] = [
            (LN2_HI, 0.693359375),
            (LN2_LO, -2.12194440e-4),
            (PI4_A, -0.78515625),
            (PI4_B, -0.00024187564849853516),
            (PI4_C, -3.774894977445941e-08),
            (FOUR_OVER_PI, 1.27323954473516),
            (SIN_POLY[0], -1.9515295891E-4),
            (SIN_POLY[1], 8.3321608736E-3),
            (SIN_POLY[2], -1.6666654611E-1),
            (COS_POLY[0], 2.443315711809948E-005),
            (COS_POLY[1], -1.388731625493765E-003),
            (COS_POLY[2], 4.166664568298827E-002),
            (2.0 * std::f32::consts::PI, 2.0 * std::f64::consts::PI),
        ];
        for (c, p) in pairs {
            assert_eq!(c, p as f32, "{p}");
        }
    }
}
