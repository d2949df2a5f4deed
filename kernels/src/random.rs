//! Random tensors drawn from the default generator, value for value as
//! PyTorch's CPU kernels draw them: `rand`, `randn`, `randperm`,
//! `native_dropout` and `native_dropout_backward`; also the shared uniform /
//! normal fills (with `from`/`to`, `mean`/`std` and any generator) that
//! `crate::distributions` builds its operators on.
//!
//! Facts reproduced (see `ft_runtime::random` for the engine):
//! - uniform: float64 takes the low 53 bits of `random64()` times 2^-53;
//!   float32 the low 24 bits of `random()` times 2^-24; float16/bfloat16
//!   round that float32 value (a value rounding up to 1 becomes 0).
//! - normal, fewer than 16 elements: per element, double Box–Muller with a
//!   cached second sample (`r = sqrt(-2 log1p(-u2))`, `theta = 2 pi u1`,
//!   `r cos theta` now and `r sin theta` cached), cast to the dtype.
//! - normal, 16 elements or more: fill uniforms, then transform blocks of 16
//!   (`u1 = 1 - x[j]`, `u2 = x[j + 8]`); a tail that is not a multiple of 16
//!   redraws the last 16 uniforms and transforms them again. float32 uses
//!   the AVX2 kernel's polynomial log/sincos (`random_avx`); float16 and
//!   bfloat16 draw float32 blocks of 16 and round (see `fill_normal_half`).
//! - randperm: Fisher–Yates with `random() % (n - i)`; from n = 2^32/20 on,
//!   the inside-out variant with `random64() % (i + 1)`.
//! - bernoulli (dropout masks): `uniform_double < p`, in memory order.
//! - `uniform_(from, to)`: `fma(u, to - from, from)` in the type's
//!   accumulation precision (float for the half types, with `to - from`
//!   rounded to the type), a result reaching `to` replaced by `from`;
//!   `normal_(mean, std)`: `fma(z, std, mean)` (double per element; float
//!   in the float32 and half blocks).

use crate::iter;
use crate::random_avx::normal_block_f32;
use ft_runtime::half::{bf16, f16};
use ft_runtime::random::{default_generator, Generator, GeneratorGuard};
use ft_runtime::tensor::for_each_offset;
use ft_runtime::{DType, Device, Error, Layout, Result, Scalar, Tensor, DEFAULT_DTYPE};

/// Element types random kernels can produce from uniform and normal draws.
pub(crate) trait RandomFloat: Copy {
    /// One uniform value in [0, 1) drawn as PyTorch's
    /// `uniform_real_distribution<T>(0, 1)`.
    fn uniform(g: &mut GeneratorGuard<'_>) -> Self;
    /// One value of `uniform_(from, to)`: the [0, 1) draw scaled with one
    /// fused multiply-add in the type's accumulation precision, rounded to
    /// the type; a result rounding up to `to` becomes `from` (observed in
    /// torch 2.15).
    fn uniform_in(g: &mut GeneratorGuard<'_>, from: f64, to: f64) -> Self;
    /// The dtype-rounded value of a double normal sample.
    fn from_f64(x: f64) -> Self;
    /// Normals (`mean + std * z`, fused) for a contiguous buffer of 16
    /// elements or more.
    fn fill_large_normal(g: &mut GeneratorGuard<'_>, data: &mut [Self], mean: f64, std: f64);
}

impl RandomFloat for f64 {
    fn uniform(g: &mut GeneratorGuard<'_>) -> f64 {
        uniform_f64(g)
    }
    fn uniform_in(g: &mut GeneratorGuard<'_>, from: f64, to: f64) -> f64 {
        let x = uniform_f64(g).mul_add(to - from, from);
        if x >= to {
            from
        } else {
            x
        }
    }
    fn from_f64(x: f64) -> f64 {
        x
    }
    fn fill_large_normal(g: &mut GeneratorGuard<'_>, data: &mut [f64], mean: f64, std: f64) {
        fill_normal_blocks(g, data, &|block: &mut [f64]| normal_block_f64(block, mean, std));
    }
}

/// PyTorch's scalar `normal_fill_16` in double precision (the scaling by
/// `std` and shift by `mean` fused, as torch's build contracts it).
fn normal_block_f64(block: &mut [f64], mean: f64, std: f64) {
    for j in 0..8 {
        let u1 = 1.0 - block[j];
        let u2 = block[j + 8];
        let radius = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        block[j] = (radius * theta.cos()).mul_add(std, mean);
        block[j + 8] = (radius * theta.sin()).mul_add(std, mean);
    }
}

/// The AVX2 float block followed by `fmadd(n, std, mean)`.
fn normal_block_f32_scaled(block: &mut [f32], mean: f32, std: f32) {
    normal_block_f32(block);
    for x in block.iter_mut() {
        *x = x.mul_add(std, mean);
    }
}

impl RandomFloat for f32 {
    fn uniform(g: &mut GeneratorGuard<'_>) -> f32 {
        (g.random() & ((1 << 24) - 1)) as f32 * (1.0 / (1u32 << 24) as f32)
    }
    fn uniform_in(g: &mut GeneratorGuard<'_>, from: f64, to: f64) -> f32 {
        let (from, to) = (from as f32, to as f32);
        let x = <f32 as RandomFloat>::uniform(g).mul_add(to - from, from);
        if x >= to {
            from
        } else {
            x
        }
    }
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    fn fill_large_normal(g: &mut GeneratorGuard<'_>, data: &mut [f32], mean: f64, std: f64) {
        let (mean, std) = (mean as f32, std as f32);
        fill_normal_blocks(g, data, &|block: &mut [f32]| normal_block_f32_scaled(block, mean, std));
    }
}

/// The half types, which draw and transform in float32 and round once.
trait HalfLike: Copy {
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
}

impl HalfLike for f16 {
    fn from_f32(x: f32) -> f16 {
        f16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
}

impl HalfLike for bf16 {
    fn from_f32(x: f32) -> bf16 {
        bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
}

fn uniform_half<H: HalfLike>(g: &mut GeneratorGuard<'_>) -> H {
    // torch 2.15 draws the float32 uniform (24 bits) and rounds it to the
    // type; a value that rounds up to the upper bound 1 wraps to the lower
    // bound 0 (observed: torch never returns 1).
    let x = H::from_f32(<f32 as RandomFloat>::uniform(g));
    if x.to_f32() >= 1.0 {
        H::from_f32(0.0)
    } else {
        x
    }
}

/// `uniform_(from, to)` for the half types: bounds rounded to the type, the
/// span `to - from` rounded to the type (c10's half arithmetic), the value
/// computed in float32 and rounded once; a value reaching `to` becomes `from`.
fn uniform_in_half<H: HalfLike>(g: &mut GeneratorGuard<'_>, from: f64, to: f64) -> H {
    let (from, to) = (H::from_f32(from as f32).to_f32(), H::from_f32(to as f32).to_f32());
    let span = H::from_f32(to - from).to_f32();
    let x = H::from_f32(<f32 as RandomFloat>::uniform(g).mul_add(span, from));
    if x.to_f32() >= to {
        H::from_f32(from)
    } else {
        x
    }
}

fn from_f64_half<H: HalfLike>(x: f64) -> H {
    // c10 converts double to a half type through float.
    H::from_f32(x as f32)
}

/// Normals for the half types from 16 elements on, observed in torch 2.15:
/// each whole block of 16 draws 16 float32 uniforms and transforms them with
/// the float32 kernel; a ragged tail draws 16 more and writes their
/// transform over the last 16 elements. Values are rounded to the type once.
fn fill_normal_half<H: HalfLike>(g: &mut GeneratorGuard<'_>, data: &mut [H], mean: f64, std: f64) {
    let n = data.len();
    let mut block = [0f32; 16];
    let (mean, std) = (mean as f32, std as f32);
    let mut draw_block = |g: &mut GeneratorGuard<'_>, dst: &mut [H]| {
        fill_uniform(g, &mut block);
        normal_block_f32_scaled(&mut block, mean, std);
        for (d, &src) in dst.iter_mut().zip(block.iter()) {
            *d = H::from_f32(src);
        }
    };
    for chunk in data.chunks_exact_mut(16) {
        draw_block(g, chunk);
    }
    if !n.is_multiple_of(16) {
        draw_block(g, &mut data[n - 16..]);
    }
}

macro_rules! half_random_float {
    ($($t:ty),*) => {$(
        impl RandomFloat for $t {
            fn uniform(g: &mut GeneratorGuard<'_>) -> $t {
                uniform_half::<$t>(g)
            }
            fn uniform_in(g: &mut GeneratorGuard<'_>, from: f64, to: f64) -> $t {
                uniform_in_half::<$t>(g, from, to)
            }
            fn from_f64(x: f64) -> $t {
                from_f64_half::<$t>(x)
            }
            fn fill_large_normal(g: &mut GeneratorGuard<'_>, data: &mut [$t], mean: f64, std: f64) {
                fill_normal_half::<$t>(g, data, mean, std);
            }
        }
    )*};
}
half_random_float!(f16, bf16);

/// A uniform double in [0, 1) from the low 53 bits of `random64()`.
pub(crate) fn uniform_f64(g: &mut GeneratorGuard<'_>) -> f64 {
    (g.random64() & ((1u64 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One standard normal double, using and refilling the generator's cache.
pub(crate) fn normal_f64(g: &mut GeneratorGuard<'_>) -> f64 {
    if let Some(cached) = g.take_double_normal() {
        return cached;
    }
    let u1 = uniform_f64(g);
    let u2 = uniform_f64(g);
    let radius = (-2.0 * (-u2).ln_1p()).sqrt();
    let theta = 2.0 * std::f64::consts::PI * u1;
    g.set_double_normal(radius * theta.sin());
    radius * theta.cos()
}

fn fill_uniform<T: RandomFloat>(g: &mut GeneratorGuard<'_>, data: &mut [T]) {
    for x in data.iter_mut() {
        *x = T::uniform(g);
    }
}

/// `uniform_(from, to)` values for a buffer, one draw per element in order.
pub(crate) fn fill_uniform_in<T: RandomFloat>(g: &mut GeneratorGuard<'_>, data: &mut [T], from: f64, to: f64) {
    for x in data.iter_mut() {
        *x = T::uniform_in(g, from, to);
    }
}

/// Per-element normals (`fma(z, std, mean)` in double, then rounded), the
/// path PyTorch takes below 16 elements or for a non-contiguous tensor.
pub(crate) fn fill_normal_serial<T: RandomFloat>(g: &mut GeneratorGuard<'_>, data: &mut [T], mean: f64, std: f64) {
    for x in data.iter_mut() {
        *x = T::from_f64(normal_f64(g).mul_add(std, mean));
    }
}

/// Normal values for a contiguous buffer, PyTorch's `normal_(mean, std)`.
pub(crate) fn fill_normal<T: RandomFloat>(g: &mut GeneratorGuard<'_>, data: &mut [T], mean: f64, std: f64) {
    if data.len() < 16 {
        fill_normal_serial(g, data, mean, std);
        return;
    }
    T::fill_large_normal(g, data, mean, std);
}

/// Uniforms for the whole buffer, blocks of 16 transformed in place, and a
/// ragged tail handled by redrawing and transforming the last 16.
fn fill_normal_blocks<T: RandomFloat>(g: &mut GeneratorGuard<'_>, data: &mut [T], block_fn: &dyn Fn(&mut [T])) {
    let n = data.len();
    fill_uniform(g, data);
    for block in data.chunks_exact_mut(16) {
        block_fn(block);
    }
    if !n.is_multiple_of(16) {
        let tail = &mut data[n - 16..];
        fill_uniform(g, tail);
        block_fn(tail);
    }
}

/// Validates the factory options and sizes; returns the sizes as `usize`.
pub(crate) fn factory_sizes(
    op: &str,
    size: &[i64],
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Vec<usize>> {
    crate::factory::check_options(op, layout, device, pin_memory)?;
    if let Some(&bad) = size.iter().find(|&&d| d < 0) {
        let parts: Vec<String> = size.iter().map(|d| d.to_string()).collect();
        return Err(Error::invalid(
            op,
            format!(
                "Trying to create tensor with negative dimension {bad}: [{}]",
                parts.join(", ")
            ),
        ));
    }
    Ok(size.iter().map(|&d| d as usize).collect())
}

pub(crate) fn not_implemented(op: &str, kernel: &str, dtype: DType) -> Error {
    Error::dtype(
        op,
        format!("\"{kernel}\" not implemented for '{}'", dtype.scalar_type_name()),
    )
}

/// What a float fill draws for each element.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FloatDraw {
    /// `uniform_(from, to)`.
    Uniform(f64, f64),
    /// `normal_(mean, std)`: blocks of 16 for a contiguous tensor of 16
    /// elements or more, per element otherwise.
    Normal(f64, f64),
}

fn draw_float<T: RandomFloat>(g: &mut GeneratorGuard<'_>, n: usize, how: FloatDraw, contiguous: bool) -> Vec<T> {
    let mut buf = vec![<T as RandomFloat>::from_f64(0.0); n];
    match how {
        FloatDraw::Uniform(from, to) => fill_uniform_in(g, &mut buf, from, to),
        FloatDraw::Normal(mean, std) if contiguous => fill_normal(g, &mut buf, mean, std),
        FloatDraw::Normal(mean, std) => fill_normal_serial(g, &mut buf, mean, std),
    }
    buf
}

/// A view of `t` whose row-major order is `t`'s memory order (dims sorted by
/// decreasing stride): the order PyTorch's iterator visits a dense or
/// strided output in.
pub(crate) fn memory_order_view(t: &Tensor) -> Result<Tensor> {
    let mut dims: Vec<usize> = (0..t.dim()).collect();
    dims.sort_by(|&a, &b| t.strides()[b].cmp(&t.strides()[a]));
    let sizes: Vec<usize> = dims.iter().map(|&d| t.sizes()[d]).collect();
    let strides: Vec<usize> = dims.iter().map(|&d| t.strides()[d]).collect();
    t.as_view(&sizes, &strides, t.storage_offset())
}

/// Writes `values` (one per element, in memory order) into `out`, casting
/// to `out`'s dtype.
pub(crate) fn write_memory_order<T: ft_runtime::Element>(out: &Tensor, values: Vec<T>) -> Result<()> {
    let view = memory_order_view(out)?;
    let src = Tensor::from_vec(values, view.sizes())?;
    iter::cast_copy(&view, &src)
}

/// Fills the floating tensor `out` in place from `gen`, element by element
/// in memory order, as PyTorch's `uniform_` / `normal_` kernels do.
pub(crate) fn fill_float(op: &str, kernel: &str, out: &Tensor, gen: &Generator, how: FloatDraw) -> Result<()> {
    let n = out.numel();
    let contiguous = out.is_contiguous();
    let mut g = gen.lock();
    match out.dtype() {
        DType::F64 => write_memory_order(out, draw_float::<f64>(&mut g, n, how, contiguous)),
        DType::F32 => write_memory_order(out, draw_float::<f32>(&mut g, n, how, contiguous)),
        DType::F16 => write_memory_order(out, draw_float::<f16>(&mut g, n, how, contiguous)),
        DType::BF16 => write_memory_order(out, draw_float::<bf16>(&mut g, n, how, contiguous)),
        other => Err(not_implemented(op, kernel, other)),
    }
}

/// The generator an op draws from: the given one or the default generator.
pub(crate) fn generator_or_default(generator: Option<&Generator>) -> &Generator {
    generator.unwrap_or_else(|| default_generator())
}

/// A new contiguous float tensor of `size` filled by `how`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn random_float_factory(
    op: &str,
    kernel: &str,
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    generator: Option<&Generator>,
    how: FloatDraw,
) -> Result<Tensor> {
    let sizes = factory_sizes(op, size, layout, device, pin_memory)?;
    let dtype = dtype.unwrap_or(DEFAULT_DTYPE);
    if !dtype.is_floating_point() {
        return Err(not_implemented(op, kernel, dtype));
    }
    let out = iter::empty_contiguous(op, &sizes, dtype)?;
    fill_float(op, kernel, &out, generator_or_default(generator), how)?;
    Ok(out)
}

/// Uniform values in [0, 1) (`torch.rand`), float32 unless `dtype` says
/// otherwise; floating dtypes only.
///
/// ```
/// use ft_kernels::random::rand;
/// ft_runtime::random::manual_seed(0);
/// let t = rand(&[2, 3], None, None, None, None).unwrap();
/// assert!(t.to_vec::<f32>().unwrap().iter().all(|&x| (0.0..1.0).contains(&x)));
/// ```
pub fn rand(
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    let how = FloatDraw::Uniform(0.0, 1.0);
    random_float_factory(
        "aten::rand",
        "check_uniform_bounds",
        size,
        dtype,
        layout,
        device,
        pin_memory,
        None,
        how,
    )
}

/// Standard normal values (`torch.randn`), float32 unless `dtype` says
/// otherwise; floating dtypes only.
///
/// ```
/// use ft_kernels::random::randn;
/// use ft_runtime::DType;
/// ft_runtime::random::manual_seed(0);
/// let t = randn(&[100], Some(DType::F64), None, None, None).unwrap();
/// assert_eq!(t.numel(), 100);
/// ```
pub fn randn(
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    let how = FloatDraw::Normal(0.0, 1.0);
    random_float_factory(
        "aten::randn",
        "normal_kernel_cpu",
        size,
        dtype,
        layout,
        device,
        pin_memory,
        None,
        how,
    )
}

/// Largest `n` randperm accepts for a float dtype (exactly representable
/// integers up to n - 1, as PyTorch's `check_supported_max_int_with_precision`).
fn randperm_float_limit(dtype: DType) -> Option<(i64, &'static str)> {
    match dtype {
        DType::F16 => Some((2049, "n cannot be greater than 2049 for Half type.")),
        DType::F32 => Some(((1 << 24) + 1, "n cannot be greater than 2^24+1 for Float type.")),
        DType::F64 => Some(((1 << 53) + 1, "n cannot be greater than 2^53+1 for Double type.")),
        _ => None,
    }
}

/// PyTorch's switch to 64-bit draws for very long permutations.
const RANDPERM_SMALL_LIMIT: i64 = (u32::MAX / 20) as i64;

/// The permutation of `0..n` PyTorch draws, as i64 values.
fn permutation(g: &mut GeneratorGuard<'_>, n: i64) -> Vec<i64> {
    let len = n as usize;
    if n < RANDPERM_SMALL_LIMIT {
        let mut r: Vec<i64> = (0..n).collect();
        for i in 0..len.saturating_sub(1) {
            let z = (i64::from(g.random()) % (n - i as i64)) as usize;
            r.swap(i, z + i);
        }
        return r;
    }
    let mut r = vec![0i64; len];
    for i in 0..len {
        let z = (g.random64() % (i as u64 + 1)) as usize;
        r[i] = r[z];
        r[z] = i as i64;
    }
    r
}

/// A random permutation of `0..n` (`torch.randperm`), int64 unless `dtype`
/// says otherwise; every dtype but bool.
///
/// ```
/// use ft_kernels::random::randperm;
/// ft_runtime::random::manual_seed(0);
/// let mut p = randperm(5, None, None, None, None).unwrap().to_vec::<i64>().unwrap();
/// p.sort();
/// assert_eq!(p, vec![0, 1, 2, 3, 4]);
/// ```
pub fn randperm(
    n: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randperm_impl(n, None, dtype, layout, device, pin_memory)
}

/// `randperm` drawing from `generator` (the default one when `None`).
pub(crate) fn randperm_impl(
    n: i64,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::randperm";
    factory_sizes(OP, &[n], layout, device, pin_memory)?;
    let dtype = dtype.unwrap_or(DType::I64);
    if dtype == DType::Bool {
        return Err(not_implemented(OP, "randperm", dtype));
    }
    if let Some((limit, message)) = randperm_float_limit(dtype) {
        if n > limit {
            return Err(Error::invalid(OP, message));
        }
    } else if n > 0 {
        crate::copy::check_scalar_fits(OP, Scalar::Int(n - 1), dtype)?;
    }
    let values = permutation(&mut generator_or_default(generator).lock(), n);
    let out = Tensor::from_vec(values, &[n as usize])?;
    iter::to_dtype(&out, dtype)
}

/// A bool mask shaped and strided like `input`, each element true with
/// probability `p` (PyTorch's `bernoulli_(p)`), drawn in memory order.
fn bernoulli_mask_like(op: &str, input: &Tensor, p: f64) -> Result<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            op,
            format!("bernoulli_ expects p to be in [0, 1], but got p={p}"),
        ));
    }
    let strides = iter::preserve_strides(input);
    let mask = iter::empty_strided(op, input.sizes(), &strides, DType::Bool)?;
    // The mask is dense: its elements' offsets are 0..numel, and PyTorch's
    // iterator visits them in that (memory) order.
    let mut offsets = Vec::with_capacity(mask.numel());
    for_each_offset(mask.sizes(), mask.strides(), 0, |off| offsets.push(off));
    let span = offsets.iter().max().map_or(0, |&m| m + 1);
    let draws: Vec<bool> = {
        let mut g = default_generator().lock();
        (0..span).map(|_| uniform_f64(&mut g) < p).collect()
    };
    iter::fill_indexed(&mask, |i| draws[offsets[i]])?;
    Ok(mask)
}

/// Dropout as PyTorch's CPU kernel: with `train` (or `None`) a mask of
/// keep-probability `1 - p` and the output `input * mask * 1/(1-p)`
/// (0 when p = 1); without training a copy of the input and an all-true mask.
///
/// ```
/// use ft_kernels::random::native_dropout;
/// use ft_runtime::Tensor;
/// let x = Tensor::from_vec(vec![1.0f64; 4], &[4]).unwrap();
/// let (out, mask) = native_dropout(&x, 0.5, Some(false)).unwrap();
/// assert_eq!(out.to_vec::<f64>().unwrap(), vec![1.0; 4]);
/// assert_eq!(mask.to_vec::<bool>().unwrap(), vec![true; 4]);
/// ```
pub fn native_dropout(input: &Tensor, p: f64, train: Option<bool>) -> Result<(Tensor, Tensor)> {
    const OP: &str = "aten::native_dropout";
    if !input.dtype().is_floating_point() {
        return Err(Error::dtype(
            OP,
            format!(
                "result type Float can't be cast to the desired output type {}",
                input.dtype().scalar_type_name()
            ),
        ));
    }
    if input.numel() == 0 {
        // PyTorch returns the input itself and an empty mask of the input's
        // dtype; FrankenTorch returns a new empty tensor (see the drift ledger).
        let strides = iter::preserve_strides(input);
        let out = iter::empty_strided(OP, input.sizes(), &strides, input.dtype())?;
        let mask = iter::empty_strided(OP, input.sizes(), &strides, input.dtype())?;
        return Ok((out, mask));
    }
    if train == Some(false) {
        let strides = iter::preserve_strides(input);
        let out = iter::empty_strided(OP, input.sizes(), &strides, input.dtype())?;
        iter::cast_copy(&out, input)?;
        let mask = iter::empty_strided(OP, input.sizes(), &strides, DType::Bool)?;
        iter::fill(&mask, true)?;
        return Ok((out, mask));
    }
    let keep = 1.0 - p;
    let scale = if keep == 0.0 { 0.0 } else { 1.0 / keep };
    let mask = bernoulli_mask_like(OP, input, keep)?;
    let out = crate::binary::mul(input, &mask)?;
    let out = crate::binary::mul_scalar(&out, Scalar::Float(scale))?;
    Ok((out, mask))
}

/// The gradient of dropout: `grad_output * mask * scale` (mask cast to the
/// gradient's type by promotion, broadcasting as `mul`).
///
/// ```
/// use ft_kernels::random::native_dropout_backward;
/// use ft_runtime::Tensor;
/// let g = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
/// let m = Tensor::from_vec(vec![true, false], &[2]).unwrap();
/// let r = native_dropout_backward(&g, &m, 2.0).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![2.0, 0.0]);
/// ```
pub fn native_dropout_backward(grad_output: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
    let masked = crate::binary::mul(grad_output, mask).map_err(|e| e.with_op("aten::native_dropout_backward"))?;
    crate::binary::mul_scalar(&masked, Scalar::Float(scale)).map_err(|e| e.with_op("aten::native_dropout_backward"))
}
