//! Sampling operators with an optional explicit generator, value for value
//! as PyTorch 2.15's CPU kernels draw them: the `.generator` factories,
//! `randint`, `normal` (all overloads), `normal_`, `uniform_`, `bernoulli`
//! (tensor and scalar probabilities, in-place forms), `exponential_`,
//! `random_` (three overloads), `multinomial` and the `*_like` factories.
//!
//! Facts reproduced (measured against torch 2.15 on the CPU):
//! - every kernel visits its output in memory order, one element at a time,
//!   holding the generator for the whole kernel;
//! - `random_(from, to)`: `from + r % (to - from)` with `r = random64()`
//!   when the range is at least 2^28, else `r = random()`;
//! - `random_()`: `random64()` for int64 and float64, `random()` otherwise,
//!   modulo `max + 1` for integers, `2^digits + 1` for floats, `& 1` for bool;
//! - `bernoulli_(p)`: `uniform_double < p`; with a tensor `p`, float64
//!   probabilities compare a double uniform, the others a float one;
//! - `exponential_(lambda)`: `-1/lambda * log1p(-u)` in double, then rounded;
//! - `multinomial` without replacement (or one sample): `self / q` with
//!   `q ~ exponential_(1)` of `self`'s dtype, then `argmax` / `topk`; with
//!   replacement: a normalised cumulative sum in the accumulation type and a
//!   binary search per double uniform draw.

use crate::iter;
use crate::random::{
    factory_sizes, fill_float, generator_or_default, memory_order_view, not_implemented, random_float_factory,
    randperm_impl, uniform_f64, write_memory_order, FloatDraw,
};
use ft_runtime::half::{bf16, f16};
use ft_runtime::random::{Generator, GeneratorGuard};
use ft_runtime::{DType, Device, Error, Layout, MemoryFormat, Result, Scalar, Tensor};

/// `torch.rand` drawing from `generator` (`aten::rand.generator`).
///
/// ```
/// use ft_kernels::distributions::rand_generator;
/// use ft_runtime::random::Generator;
/// let g = Generator::new(0);
/// let t = rand_generator(&[3], Some(&g), None, None, None, None).unwrap();
/// assert_eq!(t.numel(), 3);
/// ```
pub fn rand_generator(
    size: &[i64],
    generator: Option<&Generator>,
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
        generator,
        how,
    )
}

/// `torch.randn` drawing from `generator` (`aten::randn.generator`).
///
/// ```
/// use ft_kernels::distributions::randn_generator;
/// let t = randn_generator(&[2, 2], None, None, None, None, None).unwrap();
/// assert_eq!(t.sizes(), &[2, 2]);
/// ```
pub fn randn_generator(
    size: &[i64],
    generator: Option<&Generator>,
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
        generator,
        how,
    )
}

/// `torch.randperm` drawing from `generator` (`aten::randperm.generator`).
///
/// ```
/// use ft_kernels::distributions::randperm_generator;
/// use ft_runtime::random::Generator;
/// let p = randperm_generator(4, Some(&Generator::new(1)), None, None, None, None).unwrap();
/// assert_eq!(p.numel(), 4);
/// ```
pub fn randperm_generator(
    n: i64,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randperm_impl(n, generator, dtype, layout, device, pin_memory)
}

// ---------------------------------------------------------------- checks

/// Refuses a tensor several of whose elements share memory (PyTorch's
/// "unsupported operation: more than one element of the written-to tensor
/// refers to a single memory location").
fn check_writable(op: &str, self_: &Tensor) -> Result<()> {
    iter::check_no_internal_overlap(op, self_)
}

fn check_floating(op: &str, kernel: &str, t: &Tensor) -> Result<()> {
    if t.dtype().is_floating_point() {
        Ok(())
    } else {
        Err(not_implemented(op, kernel, t.dtype()))
    }
}

fn check_std(op: &str, std: f64) -> Result<()> {
    if std >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("normal expects std >= 0.0, but found std {}", fmt_num(std)),
        ))
    }
}

/// A float as PyTorch prints it in messages (`-1`, `0.5`).
fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

// ---------------------------------------------------------------- normal / uniform

/// Fills `self_` with normal values of the given mean and standard deviation
/// (`Tensor.normal_`): blocks of 16 for a contiguous tensor of 16 elements or
/// more, per-element Box–Muller otherwise. Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::normal_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[20], DType::F64);
/// normal_(&t, 5.0, 0.0, None).unwrap();
/// assert!(t.to_vec::<f64>().unwrap().iter().all(|&x| x == 5.0));
/// ```
pub fn normal_(self_: &Tensor, mean: f64, std: f64, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::normal_";
    check_std(OP, std)?;
    check_floating(OP, "normal_kernel_cpu", self_)?;
    check_writable(OP, self_)?;
    let how = FloatDraw::Normal(mean, std);
    fill_float(OP, "normal_kernel_cpu", self_, generator_or_default(generator), how)?;
    Ok(self_.clone())
}

/// Fills `self_` with uniform values in `[from, to)` (`Tensor.uniform_`).
/// Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::uniform_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[8], DType::F32);
/// uniform_(&t, -1.0, 1.0, None).unwrap();
/// assert!(t.to_vec::<f32>().unwrap().iter().all(|&x| (-1.0..1.0).contains(&x)));
/// ```
pub fn uniform_(self_: &Tensor, from: f64, to: f64, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::uniform_";
    check_floating(OP, "check_uniform_bounds", self_)?;
    if from > to {
        return Err(Error::invalid(
            OP,
            format!(
                "uniform_ expects to return a [from, to) range, but found from={} > to={}",
                fmt_num(from),
                fmt_num(to)
            ),
        ));
    }
    if !(to - from).is_finite() {
        return Err(Error::invalid(
            OP,
            format!(
                "uniform_ expects to-from <= std::numeric_limits<{}>::max(), but found to={} and from={} which result in to-from to exceed the limit",
                self_.dtype().scalar_type_name(),
                fmt_num(to),
                fmt_num(from)
            ),
        ));
    }
    check_writable(OP, self_)?;
    let how = FloatDraw::Uniform(from, to);
    fill_float(OP, "check_uniform_bounds", self_, generator_or_default(generator), how)?;
    Ok(self_.clone())
}

/// A new contiguous tensor shaped and typed like `like` filled with `normal_(mean, std)`.
fn normal_like(op: &str, like: &Tensor, sizes: &[usize], mean: f64, std: f64, gen: &Generator) -> Result<Tensor> {
    check_floating(op, "normal_kernel_cpu", like)?;
    let out = iter::empty_contiguous(op, sizes, like.dtype())?;
    fill_float(op, "normal_kernel_cpu", &out, gen, FloatDraw::Normal(mean, std))?;
    Ok(out)
}

/// Checks that every element of `std` is non-negative.
fn check_std_tensor(op: &str, std: &Tensor) -> Result<()> {
    if std.to_f64_vec().iter().any(|&s| s < 0.0) {
        return Err(Error::invalid(op, "normal expects all elements of std >= 0.0"));
    }
    Ok(())
}

/// `out * std + mean` with the in-place semantics PyTorch uses
/// (`out.mul_(std).add_(mean)`: each step rounded to `out`'s dtype).
fn scale_shift(
    op: &str,
    out: &Tensor,
    std: Option<&Tensor>,
    mean: Option<&Tensor>,
    mean_scalar: f64,
) -> Result<Tensor> {
    let dtype = out.dtype();
    let mut r = out.clone();
    if let Some(std) = std {
        r = iter::to_dtype(&crate::binary::mul(&r, std).map_err(|e| e.with_op(op))?, dtype)?;
    }
    r = match mean {
        Some(m) => crate::binary::add(&r, m, Scalar::Int(1)).map_err(|e| e.with_op(op))?,
        None => crate::binary::add_scalar(&r, Scalar::Float(mean_scalar), Scalar::Int(1)).map_err(|e| e.with_op(op))?,
    };
    iter::to_dtype(&r, dtype)
}

/// Normal values with a per-element mean and one standard deviation
/// (`torch.normal(mean, std)`, `aten::normal.Tensor_float`): `normal_(0, std)`
/// shaped like `mean`, then `+ mean`.
///
/// ```
/// use ft_kernels::distributions::normal_tensor_float;
/// use ft_runtime::Tensor;
/// let mean = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let r = normal_tensor_float(&mean, 0.0, None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
/// ```
pub fn normal_tensor_float(mean: &Tensor, std: f64, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::normal";
    check_std(OP, std)?;
    let out = normal_like(OP, mean, mean.sizes(), 0.0, std, generator_or_default(generator))?;
    scale_shift(OP, &out, None, Some(mean), 0.0)
}

/// Normal values with one mean and per-element standard deviations
/// (`aten::normal.float_Tensor`): `normal_(0, 1)` shaped like `std`, then
/// `* std + mean`.
///
/// ```
/// use ft_kernels::distributions::normal_float_tensor;
/// use ft_runtime::Tensor;
/// let std = Tensor::from_vec(vec![0.0f64; 3], &[3]).unwrap();
/// let r = normal_float_tensor(2.0, &std, None).unwrap();
/// assert_eq!(r.to_vec::<f64>().unwrap(), vec![2.0; 3]);
/// ```
pub fn normal_float_tensor(mean: f64, std: &Tensor, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::normal";
    check_floating(OP, "normal_kernel_cpu", std)?;
    check_std_tensor(OP, std)?;
    let out = normal_like(OP, std, std.sizes(), 0.0, 1.0, generator_or_default(generator))?;
    scale_shift(OP, &out, Some(std), None, mean)
}

/// Normal values with per-element means and standard deviations,
/// broadcast together (`aten::normal.Tensor_Tensor`); the result has
/// `mean`'s dtype.
///
/// ```
/// use ft_kernels::distributions::normal_tensor_tensor;
/// use ft_runtime::Tensor;
/// let mean = Tensor::from_vec(vec![1.0f64, 2.0], &[2, 1]).unwrap();
/// let std = Tensor::from_vec(vec![0.0f64; 3], &[3]).unwrap();
/// assert_eq!(normal_tensor_tensor(&mean, &std, None).unwrap().sizes(), &[2, 3]);
/// ```
pub fn normal_tensor_tensor(mean: &Tensor, std: &Tensor, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::normal";
    check_floating(OP, "normal_kernel_cpu", mean)?;
    check_std_tensor(OP, std)?;
    let shape = iter::broadcast_all(OP, &[mean, std], None)?;
    let out = normal_like(OP, mean, &shape, 0.0, 1.0, generator_or_default(generator))?;
    scale_shift(OP, &out, Some(std), Some(mean), 0.0)
}

/// A new tensor of `size` with normal values (`aten::normal.float_float`).
///
/// ```
/// use ft_kernels::distributions::normal_float_float;
/// let t = normal_float_float(1.0, 0.0, &[4], None, None, None, None, None).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0; 4]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn normal_float_float(
    mean: f64,
    std: f64,
    size: &[i64],
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::normal";
    check_std(OP, std)?;
    let how = FloatDraw::Normal(mean, std);
    random_float_factory(
        OP,
        "normal_kernel_cpu",
        size,
        dtype,
        layout,
        device,
        pin_memory,
        generator,
        how,
    )
}

// ---------------------------------------------------------------- per-element draws

/// Draws one value per element of `self_` (in memory order) with `draw`,
/// converts and writes it.
fn fill_with<T: ft_runtime::Element>(
    self_: &Tensor,
    gen: &Generator,
    mut draw: impl FnMut(&mut GeneratorGuard<'_>) -> T,
) -> Result<()> {
    let n = self_.numel();
    let values: Vec<T> = {
        let mut g = gen.lock();
        (0..n).map(|_| draw(&mut g)).collect()
    };
    write_memory_order(self_, values)
}

/// Fills `self_` with 0/1 values, each 1 with probability `p`
/// (`Tensor.bernoulli_(p)`, `aten::bernoulli_.float`). Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::bernoulli_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[5], DType::I32);
/// bernoulli_(&t, 1.0, None).unwrap();
/// assert_eq!(t.to_vec::<i32>().unwrap(), vec![1; 5]);
/// ```
pub fn bernoulli_(self_: &Tensor, p: f64, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::bernoulli_";
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            OP,
            format!("bernoulli_ expects p to be in [0, 1], but got p={}", fmt_num(p)),
        ));
    }
    check_writable(OP, self_)?;
    fill_with(self_, generator_or_default(generator), |g| uniform_f64(g) < p)?;
    Ok(self_.clone())
}

/// One uniform float in [0, 1) (24 bits), as `uniform_real_distribution<float>`.
fn uniform_f32(g: &mut GeneratorGuard<'_>) -> f32 {
    (g.random() & ((1 << 24) - 1)) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Fills `self_` with 0/1 values, element `i` being 1 with probability
/// `p[i]` (`p` broadcast to `self_`; `aten::bernoulli_.Tensor`). Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::bernoulli_tensor_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[2], DType::F32);
/// let p = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).unwrap();
/// bernoulli_tensor_(&t, &p, None).unwrap();
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![0.0, 1.0]);
/// ```
pub fn bernoulli_tensor_(self_: &Tensor, p: &Tensor, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::bernoulli_";
    check_floating(OP, "bernoulli_tensor_cpu_p_", p)?;
    check_writable(OP, self_)?;
    // p broadcast to self (PyTorch's expand_inplace), read in self's memory order.
    let target: Vec<i64> = self_.sizes().iter().map(|&d| d as i64).collect();
    let p_full = crate::view::expand(p, &target, false).map_err(|e| e.with_op(OP))?;
    let order = memory_order_view(self_)?;
    let perm_p = permute_like(&p_full, self_, &order)?;
    let probs = perm_p.to_f64_vec();
    if probs.iter().any(|&x| !(0.0..=1.0).contains(&x)) {
        return Err(Error::invalid(
            OP,
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.",
        ));
    }
    let double = p.dtype() == DType::F64;
    let mut k = 0usize;
    fill_with(self_, generator_or_default(generator), |g| {
        let pk = probs[k];
        k += 1;
        if double {
            uniform_f64(g) < pk
        } else {
            uniform_f32(g) < pk as f32
        }
    })?;
    Ok(self_.clone())
}

/// `t` (shaped like `like`) viewed with the dim order of `like`'s memory-order view.
fn permute_like(t: &Tensor, like: &Tensor, order: &Tensor) -> Result<Tensor> {
    let mut dims: Vec<usize> = (0..like.dim()).collect();
    dims.sort_by(|&a, &b| like.strides()[b].cmp(&like.strides()[a]));
    debug_assert_eq!(order.dim(), dims.len());
    let sizes: Vec<usize> = dims.iter().map(|&d| t.sizes()[d]).collect();
    let strides: Vec<usize> = dims.iter().map(|&d| t.strides()[d]).collect();
    t.as_view(&sizes, &strides, t.storage_offset())
}

/// A new contiguous tensor of `self_`'s shape and dtype of 0/1 draws with
/// probabilities `self_` (`torch.bernoulli(p)`).
///
/// ```
/// use ft_kernels::distributions::bernoulli;
/// use ft_runtime::Tensor;
/// let p = Tensor::from_vec(vec![1.0f32, 0.0], &[2]).unwrap();
/// assert_eq!(bernoulli(&p, None).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 0.0]);
/// ```
pub fn bernoulli(self_: &Tensor, generator: Option<&Generator>) -> Result<Tensor> {
    let out = iter::empty_contiguous("aten::bernoulli", self_.sizes(), self_.dtype())?;
    bernoulli_tensor_(&out, self_, generator).map_err(|e| e.with_op("aten::bernoulli"))
}

/// A new contiguous tensor of `self_`'s shape and dtype of 0/1 draws with
/// probability `p` (`aten::bernoulli.p`).
///
/// ```
/// use ft_kernels::distributions::bernoulli_p;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[3], DType::F64);
/// assert_eq!(bernoulli_p(&x, 0.0, None).unwrap().to_vec::<f64>().unwrap(), vec![0.0; 3]);
/// ```
pub fn bernoulli_p(self_: &Tensor, p: f64, generator: Option<&Generator>) -> Result<Tensor> {
    let out = iter::empty_contiguous("aten::bernoulli", self_.sizes(), self_.dtype())?;
    bernoulli_(&out, p, generator).map_err(|e| e.with_op("aten::bernoulli"))
}

fn empty_like_preserve(op: &str, like: &Tensor, dtype: DType) -> Result<Tensor> {
    let strides = iter::preserve_strides(like);
    iter::empty_strided(op, like.sizes(), &strides, dtype)
}

/// Fills `self_` with exponential values of rate `lambd`
/// (`Tensor.exponential_`). Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::exponential_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[4], DType::F64);
/// exponential_(&t, 2.0, None).unwrap();
/// assert!(t.to_vec::<f64>().unwrap().iter().all(|&x| x >= 0.0));
/// ```
pub fn exponential_(self_: &Tensor, lambd: f64, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::exponential_";
    if lambd.is_nan() || lambd <= 0.0 {
        return Err(Error::invalid(
            OP,
            format!("exponential_ expects lambda > 0.0, but found lambda={}", fmt_num(lambd)),
        ));
    }
    if !self_.dtype().is_floating_point() {
        return Err(Error::dtype(
            OP,
            format!(
                "Exponential distribution is a continuous probability distribution. dtype must be a floating point but you specified {}",
                self_.dtype().scalar_type_name()
            ),
        ));
    }
    check_writable(OP, self_)?;
    let gen = generator_or_default(generator);
    let draw = |g: &mut GeneratorGuard<'_>| -1.0 / lambd * (-uniform_f64(g)).ln_1p();
    // Each value is rounded from double (the half types through float, as
    // c10 casts), producing the element type directly.
    match self_.dtype() {
        DType::F16 => fill_with(self_, gen, |g| f16::from_f32(draw(g) as f32)),
        DType::BF16 => fill_with(self_, gen, |g| bf16::from_f32(draw(g) as f32)),
        DType::F32 => fill_with(self_, gen, |g| draw(g) as f32),
        _ => fill_with(self_, gen, draw),
    }?;
    Ok(self_.clone())
}

// ---------------------------------------------------------------- integers

/// Digits of a floating type's significand (`std::numeric_limits<T>::digits`).
fn float_digits(dtype: DType) -> Option<u32> {
    match dtype {
        DType::F64 => Some(53),
        DType::F32 => Some(24),
        DType::F16 => Some(11),
        DType::BF16 => Some(8),
        _ => None,
    }
}

/// The inclusive range of integers `random_` may produce for a dtype (floats:
/// the exactly representable range `[-2^digits, 2^digits]`).
fn dtype_int_bounds(dtype: DType) -> (i64, i64) {
    if let Some(d) = float_digits(dtype) {
        let m = 1i64 << d;
        return (-m, m);
    }
    match dtype {
        DType::Bool => (0, 1),
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        DType::I16 => (-32768, 32767),
        DType::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

/// The C++ name PyTorch's bound messages use for a dtype.
fn cpp_type_name(dtype: DType) -> &'static str {
    match dtype {
        DType::Bool => "bool",
        DType::U8 => "unsigned char",
        DType::I8 => "signed char",
        DType::I16 => "short",
        DType::I32 => "int",
        DType::I64 => "long",
        DType::F16 => "c10::Half",
        DType::BF16 => "c10::BFloat16",
        DType::F32 => "float",
        _ => "double",
    }
}

/// Integer dtypes must hold `from` and `to - 1` exactly; float dtypes only
/// warn in PyTorch (values outside `±2^digits` lose precision).
fn check_from_to(op: &str, dtype: DType, from: i64, to_inclusive: i64) -> Result<()> {
    if float_digits(dtype).is_some() {
        return Ok(());
    }
    let (lo, hi) = dtype_int_bounds(dtype);
    if from < lo || from > hi {
        return Err(Error::invalid(
            op,
            format!("from is out of bounds for {}", cpp_type_name(dtype)),
        ));
    }
    if to_inclusive < lo || to_inclusive > hi {
        return Err(Error::invalid(
            op,
            format!("to - 1 is out of bounds for {}", cpp_type_name(dtype)),
        ));
    }
    Ok(())
}

/// Writes `from + r % range` per element (`r` 64-bit from a range of 2^28 on).
fn fill_from_range(self_: &Tensor, gen: &Generator, range: u64, base: i64) -> Result<()> {
    let wide = range >= 1 << 28;
    let draw = move |g: &mut GeneratorGuard<'_>| {
        let r = if wide { g.random64() } else { u64::from(g.random()) };
        (r % range).wrapping_add(base as u64) as i64
    };
    fill_ints(self_, gen, draw)
}

/// Writes integer draws converted to `self_`'s dtype (C casts).
fn fill_ints(self_: &Tensor, gen: &Generator, draw: impl FnMut(&mut GeneratorGuard<'_>) -> i64) -> Result<()> {
    fill_with(self_, gen, draw)
}

/// `random_(from, to)` on any dtype: values in `[from, to)`; `to = None`
/// means up to the dtype's largest value (inclusive).
fn random_from_to(op: &str, self_: &Tensor, from: i64, to: Option<i64>, gen: &Generator) -> Result<()> {
    check_writable(op, self_)?;
    let dtype = self_.dtype();
    match to {
        Some(to) => {
            if from >= to {
                return Err(Error::invalid(
                    op,
                    format!("random_ expects 'from' to be less than 'to', but got from={from} >= to={to}"),
                ));
            }
            check_from_to(op, dtype, from, to - 1)?;
            fill_from_range(self_, gen, (to as i128 - from as i128) as u64, from)
        }
        None => {
            let (_, hi) = dtype_int_bounds(dtype);
            if from == i64::MIN && matches!(dtype, DType::I64 | DType::F64 | DType::F32 | DType::BF16) {
                return fill_ints(self_, gen, |g| g.random64() as i64);
            }
            if from > hi {
                return Err(Error::invalid(
                    op,
                    format!("random_ expects 'from' to be less than 'to', but got from={from} >= to={hi}"),
                ));
            }
            check_from_to(op, dtype, from, hi)?;
            let range = (hi as i128 - from as i128 + 1) as u64;
            fill_from_range(self_, gen, range, from)
        }
    }
}

/// Fills `self_` with random integers: `[0, max]` for integer dtypes,
/// `[0, 2^digits]` for floats, 0/1 for bool (`Tensor.random_()`). Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::random_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[3], DType::U8);
/// random_(&t, None).unwrap();
/// assert_eq!(t.numel(), 3);
/// ```
pub fn random_(self_: &Tensor, generator: Option<&Generator>) -> Result<Tensor> {
    const OP: &str = "aten::random_";
    check_writable(OP, self_)?;
    let dtype = self_.dtype();
    let wide = matches!(dtype, DType::I64 | DType::F64);
    let modulus: u64 = match (dtype, float_digits(dtype)) {
        (_, Some(d)) => (1u64 << d) + 1,
        (DType::Bool, _) => 2,
        _ => dtype_int_bounds(dtype).1 as u64 + 1,
    };
    fill_ints(self_, generator_or_default(generator), move |g| {
        let r = if wide { g.random64() } else { u64::from(g.random()) };
        (r % modulus) as i64
    })?;
    Ok(self_.clone())
}

/// Fills `self_` with random integers in `[from, to)` (`to = None`: up to the
/// dtype's maximum; `aten::random_.from`). Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::random_from_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[4], DType::I64);
/// random_from_(&t, 3, Some(5), None).unwrap();
/// assert!(t.to_vec::<i64>().unwrap().iter().all(|&x| x == 3 || x == 4));
/// ```
pub fn random_from_(self_: &Tensor, from: i64, to: Option<i64>, generator: Option<&Generator>) -> Result<Tensor> {
    random_from_to("aten::random_", self_, from, to, generator_or_default(generator))?;
    Ok(self_.clone())
}

/// Fills `self_` with random integers in `[0, to)` (`aten::random_.to`).
/// Returns `self_`.
///
/// ```
/// use ft_kernels::distributions::random_to_;
/// use ft_runtime::{DType, Tensor};
/// let t = Tensor::zeros_contiguous(&[4], DType::Bool);
/// random_to_(&t, 2, None).unwrap();
/// assert_eq!(t.numel(), 4);
/// ```
pub fn random_to_(self_: &Tensor, to: i64, generator: Option<&Generator>) -> Result<Tensor> {
    random_from_to("aten::random_", self_, 0, Some(to), generator_or_default(generator))?;
    Ok(self_.clone())
}

/// `randint` with every argument: a new contiguous tensor of `size` with
/// integers in `[low, high)`.
#[allow(clippy::too_many_arguments)]
fn randint_impl(
    low: i64,
    high: i64,
    size: &[i64],
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    const OP: &str = "aten::randint";
    let sizes = factory_sizes(OP, size, layout, device, pin_memory)?;
    let out = iter::empty_contiguous(OP, &sizes, dtype.unwrap_or(DType::I64))?;
    random_from_to(OP, &out, low, Some(high), generator_or_default(generator))?;
    Ok(out)
}

/// Random integers in `[0, high)` (`torch.randint(high, size)`), int64 by default.
///
/// ```
/// use ft_kernels::distributions::randint;
/// use ft_runtime::DType;
/// let t = randint(3, &[5], Some(DType::I64), None, None, None).unwrap();
/// assert!(t.to_vec::<i64>().unwrap().iter().all(|&x| (0..3).contains(&x)));
/// ```
pub fn randint(
    high: i64,
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randint_impl(0, high, size, None, dtype, layout, device, pin_memory)
}

/// `randint(high, size)` drawing from `generator` (`aten::randint.generator`).
///
/// ```
/// use ft_kernels::distributions::randint_generator;
/// use ft_runtime::random::Generator;
/// let t = randint_generator(10, &[2], Some(&Generator::new(3)), None, None, None, None).unwrap();
/// assert_eq!(t.numel(), 2);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_generator(
    high: i64,
    size: &[i64],
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randint_impl(0, high, size, generator, dtype, layout, device, pin_memory)
}

/// Random integers in `[low, high)` (`aten::randint.low`).
///
/// ```
/// use ft_kernels::distributions::randint_low;
/// let t = randint_low(-2, 2, &[6], None, None, None, None).unwrap();
/// assert!(t.to_vec::<i64>().unwrap().iter().all(|&x| (-2..2).contains(&x)));
/// ```
pub fn randint_low(
    low: i64,
    high: i64,
    size: &[i64],
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randint_impl(low, high, size, None, dtype, layout, device, pin_memory)
}

/// `randint(low, high, size)` drawing from `generator` (`aten::randint.low_generator`).
///
/// ```
/// use ft_kernels::distributions::randint_low_generator;
/// let t = randint_low_generator(1, 2, &[2], None, None, None, None, None).unwrap();
/// assert_eq!(t.to_vec::<i64>().unwrap(), vec![1, 1]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_low_generator(
    low: i64,
    high: i64,
    size: &[i64],
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
) -> Result<Tensor> {
    randint_impl(low, high, size, generator, dtype, layout, device, pin_memory)
}

// ---------------------------------------------------------------- *_like

/// A new tensor like `self_` (`empty_like` semantics: its strides under
/// `Preserve`, dtype overridable).
#[allow(clippy::too_many_arguments)]
fn like(
    op: &str,
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    crate::factory::empty_like(self_, dtype, layout, device, pin_memory, memory_format).map_err(|e| e.with_op(op))
}

/// Uniform values in [0, 1) shaped like `self_` (`torch.rand_like`).
///
/// ```
/// use ft_kernels::distributions::rand_like;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2, 2], DType::F64);
/// assert_eq!(rand_like(&x, None, None, None, None, None).unwrap().dtype(), DType::F64);
/// ```
pub fn rand_like(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    rand_like_generator(self_, None, dtype, layout, device, pin_memory, memory_format)
}

/// `rand_like` drawing from `generator` (`aten::rand_like.generator`).
///
/// ```
/// use ft_kernels::distributions::rand_like_generator;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[3], DType::F32);
/// assert_eq!(rand_like_generator(&x, None, None, None, None, None, None).unwrap().numel(), 3);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn rand_like_generator(
    self_: &Tensor,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    const OP: &str = "aten::rand_like";
    let out = like(OP, self_, dtype, layout, device, pin_memory, memory_format)?;
    check_floating(OP, "check_uniform_bounds", &out)?;
    let how = FloatDraw::Uniform(0.0, 1.0);
    fill_float(OP, "check_uniform_bounds", &out, generator_or_default(generator), how)?;
    Ok(out)
}

/// Standard normal values shaped like `self_` (`torch.randn_like`).
///
/// ```
/// use ft_kernels::distributions::randn_like;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2], DType::F32);
/// assert_eq!(randn_like(&x, None, None, None, None, None).unwrap().numel(), 2);
/// ```
pub fn randn_like(
    self_: &Tensor,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    randn_like_generator(self_, None, dtype, layout, device, pin_memory, memory_format)
}

/// `randn_like` drawing from `generator` (`aten::randn_like.generator`).
///
/// ```
/// use ft_kernels::distributions::randn_like_generator;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2], DType::F64);
/// assert_eq!(randn_like_generator(&x, None, None, None, None, None, None).unwrap().numel(), 2);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randn_like_generator(
    self_: &Tensor,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    const OP: &str = "aten::randn_like";
    let out = like(OP, self_, dtype, layout, device, pin_memory, memory_format)?;
    check_floating(OP, "normal_kernel_cpu", &out)?;
    let how = FloatDraw::Normal(0.0, 1.0);
    fill_float(OP, "normal_kernel_cpu", &out, generator_or_default(generator), how)?;
    Ok(out)
}

/// Random integers in `[0, high)` shaped like `self_` (`torch.randint_like`).
///
/// ```
/// use ft_kernels::distributions::randint_like;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[4], DType::I32);
/// let r = randint_like(&x, 1, None, None, None, None, None).unwrap();
/// assert_eq!(r.to_vec::<i32>().unwrap(), vec![0; 4]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_like(
    self_: &Tensor,
    high: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    randint_like_low_generator_dtype(self_, 0, high, None, dtype, layout, device, pin_memory, memory_format)
}

/// `randint_like(self, high)` drawing from `generator` (`aten::randint_like.generator`).
///
/// ```
/// use ft_kernels::distributions::randint_like_generator;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2], DType::I64);
/// assert_eq!(randint_like_generator(&x, 5, None, None, None, None, None, None).unwrap().numel(), 2);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_like_generator(
    self_: &Tensor,
    high: i64,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    randint_like_low_generator_dtype(
        self_,
        0,
        high,
        generator,
        dtype,
        layout,
        device,
        pin_memory,
        memory_format,
    )
}

/// Random integers in `[low, high)` shaped like `self_` (`aten::randint_like.low_dtype`).
///
/// ```
/// use ft_kernels::distributions::randint_like_low_dtype;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2], DType::F32);
/// let r = randint_like_low_dtype(&x, 4, 5, None, None, None, None, None).unwrap();
/// assert_eq!(r.to_vec::<f32>().unwrap(), vec![4.0, 4.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_like_low_dtype(
    self_: &Tensor,
    low: i64,
    high: i64,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    randint_like_low_generator_dtype(self_, low, high, None, dtype, layout, device, pin_memory, memory_format)
}

/// `randint_like(self, low, high)` drawing from `generator`
/// (`aten::randint_like.low_generator_dtype`).
///
/// ```
/// use ft_kernels::distributions::randint_like_low_generator_dtype;
/// use ft_runtime::{DType, Tensor};
/// let x = Tensor::zeros_contiguous(&[2], DType::I16);
/// let r = randint_like_low_generator_dtype(&x, -1, 0, None, None, None, None, None, None).unwrap();
/// assert_eq!(r.to_vec::<i16>().unwrap(), vec![-1, -1]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn randint_like_low_generator_dtype(
    self_: &Tensor,
    low: i64,
    high: i64,
    generator: Option<&Generator>,
    dtype: Option<DType>,
    layout: Option<Layout>,
    device: Option<Device>,
    pin_memory: Option<bool>,
    memory_format: Option<MemoryFormat>,
) -> Result<Tensor> {
    const OP: &str = "aten::randint_like";
    let out = like(OP, self_, dtype, layout, device, pin_memory, memory_format)?;
    random_from_to(OP, &out, low, Some(high), generator_or_default(generator))?;
    Ok(out)
}

// ---------------------------------------------------------------- multinomial

/// Draws `num_samples` category indices per row of the probability table
/// `self_` (1-d or 2-d, non-negative finite weights not all zero), with or
/// without replacement (`torch.multinomial`). Returns int64 indices.
///
/// ```
/// use ft_kernels::distributions::multinomial;
/// use ft_runtime::Tensor;
/// let p = Tensor::from_vec(vec![0.0f64, 1.0, 0.0], &[3]).unwrap();
/// let r = multinomial(&p, 1, true, None).unwrap();
/// assert_eq!(r.to_vec::<i64>().unwrap(), vec![1]);
/// ```
pub fn multinomial(
    self_: &Tensor,
    num_samples: i64,
    replacement: bool,
    generator: Option<&Generator>,
) -> Result<Tensor> {
    const OP: &str = "aten::multinomial";
    let (n_dist, n_cat) = check_multinomial(OP, self_, num_samples, replacement)?;
    let mut out_sizes: Vec<usize> = if self_.dim() == 2 { vec![n_dist] } else { vec![] };
    out_sizes.push(num_samples as usize);
    if n_dist == 0 {
        return iter::empty_contiguous(OP, &out_sizes, DType::I64);
    }
    let gen = generator_or_default(generator);
    if !replacement || num_samples == 1 {
        return multinomial_exponential(OP, self_, num_samples, gen);
    }
    let rows = rows_of(self_, n_dist, n_cat);
    let mut g = gen.lock();
    let mut values = Vec::with_capacity(n_dist * num_samples as usize);
    for row in &rows {
        let cum = cumulative(self_.dtype(), row);
        for _ in 0..num_samples {
            values.push(search(&cum, uniform_f64(&mut g)) as i64);
        }
    }
    drop(g);
    Tensor::from_vec(values, &out_sizes)
}

/// Validates the arguments and the weights; returns (rows, categories).
fn check_multinomial(op: &str, self_: &Tensor, num_samples: i64, replacement: bool) -> Result<(usize, usize)> {
    if !self_.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!(
                "multinomial only supports floating-point dtypes for input, got: {}",
                self_.dtype().scalar_type_name()
            ),
        ));
    }
    if self_.dim() != 1 && self_.dim() != 2 {
        return Err(Error::invalid(op, "prob_dist must be 1 or 2 dim"));
    }
    let n_cat = self_.sizes()[self_.dim() - 1];
    let n_dist = if self_.dim() == 2 { self_.sizes()[0] } else { 1 };
    if !replacement && num_samples > n_cat as i64 {
        return Err(Error::invalid(
            op,
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        ));
    }
    if num_samples <= 0 {
        return Err(Error::invalid(op, "cannot sample n_sample <= 0 samples"));
    }
    if n_cat > 1 << 24 {
        return Err(Error::invalid(op, "number of categories cannot exceed 2^24"));
    }
    let values = self_.to_f64_vec();
    if values.iter().any(|&v| !v.is_finite() || v < 0.0) {
        return Err(Error::invalid(
            op,
            "probability tensor contains either `inf`, `nan` or element < 0",
        ));
    }
    if n_cat > 0 && values.chunks(n_cat).any(|row| row.iter().all(|&v| v == 0.0)) {
        return Err(Error::invalid(
            op,
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ));
    }
    Ok((n_dist, n_cat))
}

fn rows_of(self_: &Tensor, n_dist: usize, n_cat: usize) -> Vec<Vec<f64>> {
    let values = self_.to_f64_vec();
    (0..n_dist)
        .map(|i| values[i * n_cat..(i + 1) * n_cat].to_vec())
        .collect()
}

/// The normalised cumulative distribution in PyTorch's accumulation type
/// (float64 for float64 weights, float32 otherwise), last entry forced to 1.
fn cumulative(dtype: DType, row: &[f64]) -> Vec<f64> {
    let mut cum: Vec<f64> = Vec::with_capacity(row.len());
    if dtype == DType::F64 {
        let mut sum = 0.0f64;
        for &v in row {
            sum += v;
            cum.push(sum);
        }
        cum.iter_mut().for_each(|c| *c /= sum);
    } else {
        let mut sum = 0.0f32;
        let mut c32: Vec<f32> = Vec::with_capacity(row.len());
        for &v in row {
            sum += v as f32;
            c32.push(sum);
        }
        cum = c32.iter().map(|&c| f64::from(c / sum)).collect();
    }
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
    cum
}

/// The first slot whose cumulative probability is not below `u`.
fn search(cum: &[f64], u: f64) -> usize {
    let (mut left, mut right) = (0usize, cum.len());
    while right > left {
        let mid = left + (right - left) / 2;
        if cum[mid] < u {
            left = mid + 1;
        } else {
            right = mid;
        }
    }
    left
}

/// Sampling without replacement by the exponential trick:
/// `argmax`/`topk` of `self / q` with `q ~ Exp(1)` drawn like `self`.
fn multinomial_exponential(op: &str, self_: &Tensor, num_samples: i64, gen: &Generator) -> Result<Tensor> {
    let q = empty_like_preserve(op, self_, self_.dtype())?;
    exponential_(&q, 1.0, Some(gen)).map_err(|e| e.with_op(op))?;
    let ratio = crate::binary::div(self_, &q).map_err(|e| e.with_op(op))?;
    let last = self_.dim() as i64 - 1;
    if num_samples == 1 {
        return crate::reductions::argmax(&ratio, Some(last), true).map_err(|e| e.with_op(op));
    }
    let (_, indices) = crate::sort::topk(&ratio, num_samples, last, true, true).map_err(|e| e.with_op(op))?;
    Ok(indices)
}
