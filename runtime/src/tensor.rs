//! `Tensor`: a shared handle to (storage, sizes, strides, offset, dtype, device)
//! plus autograd metadata.
//!
//! Cloning a `Tensor` clones the handle (like a Python reference); views are
//! distinct handles sharing storage and one version counter. Sizes and strides
//! of a handle never change after creation, so reading them takes no lock;
//! in-place metadata ops (`t_`, `resize_`) are therefore not offered (see
//! FEATURE_PARITY.md).

use crate::autograd::meta::AutogradMeta;
use crate::device::Device;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::shape::{self, DimVec};
use crate::storage::{Storage, StorageAccess};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The version counter shared by a base and all its views; every in-place
/// write bumps it, and saved tensors check it in backward.
#[derive(Clone, Debug, Default)]
pub struct VersionCounter(Arc<AtomicU64>);

impl VersionCounter {
    /// Current version.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
    /// Increments the version.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
    /// True when both counters are one shared counter.
    pub fn is_same(&self, other: &VersionCounter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The shared state behind a [`Tensor`] handle.
pub struct TensorImpl {
    storage: Storage,
    sizes: DimVec,
    strides: DimVec,
    offset: usize,
    dtype: DType,
    device: Device,
    numel: usize,
    contiguous: bool,
    version: VersionCounter,
    base: Option<Tensor>,
    /// Cache of `requires_grad()`, so the autograd fast path takes no lock.
    requires_grad: AtomicBool,
    pub(crate) autograd: Mutex<Option<Box<AutogradMeta>>>,
}

/// A strided, typed, reference-counted tensor.
///
/// ```
/// use ft_runtime::{Tensor, DType};
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(t.sizes(), &[2, 2]);
/// assert_eq!(t.strides(), &[2, 1]);
/// assert_eq!(t.dtype(), DType::F32);
/// assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

impl Tensor {
    fn build(
        storage: Storage,
        sizes: DimVec,
        strides: DimVec,
        offset: usize,
        dtype: DType,
        version: VersionCounter,
        base: Option<Tensor>,
    ) -> Tensor {
        let numel = shape::numel(&sizes);
        let contiguous = shape::is_contiguous(&sizes, &strides);
        let device = storage.device();
        Tensor(Arc::new(TensorImpl {
            storage,
            sizes,
            strides,
            offset,
            dtype,
            device,
            numel,
            contiguous,
            version,
            base,
            requires_grad: AtomicBool::new(false),
            autograd: Mutex::new(None),
        }))
    }

    /// A tensor over an existing storage. Fails if the described elements do
    /// not fit inside the storage.
    ///
    /// ```
    /// use ft_runtime::{Tensor, Storage, DType};
    /// let s = Storage::zeroed(24);
    /// let t = Tensor::from_storage(s, &[2, 3], &[3, 1], 0, DType::F32).unwrap();
    /// assert_eq!(t.numel(), 6);
    /// ```
    pub fn from_storage(
        storage: Storage,
        sizes: &[usize],
        strides: &[usize],
        offset: usize,
        dtype: DType,
    ) -> Result<Tensor> {
        check_in_bounds("Tensor::from_storage", storage.nbytes(), sizes, strides, offset, dtype)?;
        Ok(Tensor::build(
            storage,
            DimVec::from_slice(sizes),
            DimVec::from_slice(strides),
            offset,
            dtype,
            VersionCounter::default(),
            None,
        ))
    }

    /// A new zero-filled contiguous tensor.
    ///
    /// ```
    /// use ft_runtime::{Tensor, DType};
    /// let t = Tensor::zeros_contiguous(&[2, 0, 3], DType::I64);
    /// assert_eq!(t.numel(), 0);
    /// assert_eq!(t.strides(), &[3, 3, 1]);
    /// ```
    pub fn zeros_contiguous(sizes: &[usize], dtype: DType) -> Tensor {
        let strides = shape::contiguous_strides(sizes);
        Tensor::zeros_strided(sizes, &strides, dtype)
    }

    /// A new zero-filled tensor with the given (dense, non-overlapping) strides.
    pub fn zeros_strided(sizes: &[usize], strides: &[usize], dtype: DType) -> Tensor {
        Tensor::strided_in(Storage::zeroed, sizes, strides, dtype)
    }

    /// A new contiguous tensor whose elements are initialised but unspecified
    /// (see [`Storage::for_overwrite`]; bool tensors are zeroed): for outputs
    /// written entirely before any read, like `torch.empty`.
    ///
    /// ```
    /// use ft_runtime::{Tensor, DType};
    /// let t = Tensor::empty_for_overwrite(&[2, 3], DType::F32);
    /// assert_eq!((t.numel(), t.strides()), (6, &[3usize, 1][..]));
    /// ```
    pub fn empty_for_overwrite(sizes: &[usize], dtype: DType) -> Tensor {
        let strides = shape::contiguous_strides(sizes);
        Tensor::empty_strided_for_overwrite(sizes, &strides, dtype)
    }

    /// [`Tensor::empty_for_overwrite`] with the given (dense, non-overlapping) strides.
    ///
    /// ```
    /// use ft_runtime::{Tensor, DType};
    /// let t = Tensor::empty_strided_for_overwrite(&[2, 3], &[1, 2], DType::I64);
    /// assert_eq!(t.storage().nbytes(), 48);
    /// ```
    pub fn empty_strided_for_overwrite(sizes: &[usize], strides: &[usize], dtype: DType) -> Tensor {
        // A bool element must be 0 or 1: a reused block's stale bytes could
        // be any value, and reading one as `bool` would be undefined behaviour.
        let new_storage = if dtype == DType::Bool {
            Storage::zeroed
        } else {
            Storage::for_overwrite
        };
        Tensor::strided_in(new_storage, sizes, strides, dtype)
    }

    /// A tensor over a new storage of the span of `sizes`/`strides` from `new_storage`.
    fn strided_in(new_storage: fn(usize) -> Storage, sizes: &[usize], strides: &[usize], dtype: DType) -> Tensor {
        let span = if sizes.contains(&0) {
            0
        } else {
            1 + sizes.iter().zip(strides).map(|(&s, &st)| (s - 1) * st).sum::<usize>()
        };
        let storage = new_storage(span * dtype.itemsize());
        Tensor::build(
            storage,
            DimVec::from_slice(sizes),
            DimVec::from_slice(strides),
            0,
            dtype,
            VersionCounter::default(),
            None,
        )
    }

    /// A contiguous tensor holding `data` with shape `sizes`.
    pub fn from_vec<T: Element>(data: Vec<T>, sizes: &[usize]) -> Result<Tensor> {
        Tensor::from_slice(&data, sizes)
    }

    /// A contiguous tensor copied from `data` with shape `sizes`.
    ///
    /// ```
    /// use ft_runtime::Tensor;
    /// assert!(Tensor::from_slice(&[1i64, 2, 3], &[2, 2]).is_err());
    /// ```
    pub fn from_slice<T: Element>(data: &[T], sizes: &[usize]) -> Result<Tensor> {
        if shape::numel(sizes) != data.len() {
            return Err(Error::shape(
                "tensor",
                format!(
                    "{} values cannot fill a tensor of shape {}",
                    data.len(),
                    shape::fmt_sizes(sizes)
                ),
            ));
        }
        let nbytes = std::mem::size_of_val(data);
        // SAFETY: T is a plain Element type (no padding, no pointers); viewing
        // its bytes is valid for the length of the slice.
        let bytes = unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, nbytes) };
        let storage = Storage::from_bytes(bytes);
        let strides = shape::contiguous_strides(sizes);
        Ok(Tensor::build(
            storage,
            DimVec::from_slice(sizes),
            strides,
            0,
            T::DTYPE,
            VersionCounter::default(),
            None,
        ))
    }

    /// A 0-dim tensor holding `value` converted to `dtype`.
    ///
    /// ```
    /// use ft_runtime::{Tensor, DType, Scalar};
    /// let t = Tensor::scalar_tensor(Scalar::from(2.5), DType::F64);
    /// assert_eq!(t.dim(), 0);
    /// assert_eq!(t.item().unwrap(), Scalar::Float(2.5));
    /// ```
    pub fn scalar_tensor(value: Scalar, dtype: DType) -> Tensor {
        crate::dispatch_dtype!(dtype, T => Tensor::from_slice::<T>(&[value.to_elem::<T>()], &[]).expect("1 value fills 0-dim"))
    }

    /// A view of `self` with new sizes, strides and offset over the same storage,
    /// sharing the version counter, with `self`'s root base as its base.
    /// Fails if the view reaches outside the storage.
    pub fn as_view(&self, sizes: &[usize], strides: &[usize], offset: usize) -> Result<Tensor> {
        check_in_bounds(
            "as_strided",
            self.0.storage.nbytes(),
            sizes,
            strides,
            offset,
            self.0.dtype,
        )?;
        let base = Some(self.0.base.clone().unwrap_or_else(|| self.clone()));
        Ok(Tensor::build(
            self.0.storage.clone(),
            DimVec::from_slice(sizes),
            DimVec::from_slice(strides),
            offset,
            self.0.dtype,
            self.0.version.clone(),
            base,
        ))
    }

    /// A new handle to the same data with no autograd history and no base
    /// (PyTorch's `detach`): it shares storage and the version counter.
    pub fn detach(&self) -> Tensor {
        let i = &self.0;
        Tensor::build(
            i.storage.clone(),
            i.sizes.clone(),
            i.strides.clone(),
            i.offset,
            i.dtype,
            i.version.clone(),
            None,
        )
    }

    /// Sizes of each dimension.
    pub fn sizes(&self) -> &[usize] {
        &self.0.sizes
    }
    /// Strides of each dimension, in elements.
    pub fn strides(&self) -> &[usize] {
        &self.0.strides
    }
    /// Size of dimension `dim` (negative counts from the end).
    pub fn size(&self, dim: i64) -> Result<usize> {
        Ok(self.0.sizes[shape::wrap_dim("size", dim, self.dim())?])
    }
    /// Stride of dimension `dim` (negative counts from the end).
    pub fn stride(&self, dim: i64) -> Result<usize> {
        Ok(self.0.strides[shape::wrap_dim("stride", dim, self.dim())?])
    }
    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.0.sizes.len()
    }
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.numel
    }
    /// Element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }
    /// Device.
    pub fn device(&self) -> Device {
        self.0.device
    }
    /// Offset of the first element in the storage, in elements.
    pub fn storage_offset(&self) -> usize {
        self.0.offset
    }
    /// The shared storage.
    pub fn storage(&self) -> &Storage {
        &self.0.storage
    }
    /// True when the strides are row-major (PyTorch's `is_contiguous()`).
    pub fn is_contiguous(&self) -> bool {
        self.0.contiguous
    }
    /// Address of the first element (PyTorch's `data_ptr()`), for aliasing checks.
    pub fn data_ptr(&self) -> usize {
        self.0.storage.data_addr() + self.0.offset * self.0.dtype.itemsize()
    }
    /// The version counter shared with views.
    pub fn version_counter(&self) -> &VersionCounter {
        &self.0.version
    }
    /// Current version (PyTorch's `_version`).
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }
    /// True if this tensor is a view of another (PyTorch's `_is_view()`).
    pub fn is_view(&self) -> bool {
        self.0.base.is_some()
    }
    /// The tensor this is a view of (PyTorch's `_base`).
    pub fn base(&self) -> Option<&Tensor> {
        self.0.base.as_ref()
    }
    /// True when both handles are the same tensor object (Python `is`).
    pub fn is_same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// A stable identity for this handle's tensor object.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
    /// Weak reference to this tensor object (used by retain_grad hooks).
    pub fn downgrade(&self) -> WeakTensor {
        WeakTensor(Arc::downgrade(&self.0))
    }

    /// True if autograd records operations on this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Acquire)
    }
    pub(crate) fn set_requires_grad_cache(&self, v: bool) {
        self.0.requires_grad.store(v, Ordering::Release)
    }
    pub(crate) fn meta_lock(&self) -> MutexGuard<'_, Option<Box<AutogradMeta>>> {
        self.0.autograd.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies the elements out in row-major order. `T` must match the dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            return Err(Error::dtype(
                "to_vec",
                format!("tensor has dtype {} but {} was requested", self.dtype(), T::DTYPE),
            ));
        }
        let access = StorageAccess::lock(&[self.storage()], &[]);
        let base = access.base_ptr(self.storage()) as *const T;
        let mut out = Vec::with_capacity(self.numel());
        for_each_offset(self.sizes(), self.strides(), self.storage_offset(), |off| {
            // SAFETY: offsets were checked against the storage size at creation,
            // and the storage's lock is held for reading.
            out.push(unsafe { base.add(off).read() })
        });
        Ok(out)
    }

    /// Copies the elements out as f64 in row-major order, whatever the dtype.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        crate::dispatch_dtype!(self.dtype(), T => self.to_vec::<T>().expect("dtype matches").into_iter().map(|v| v.to_f64()).collect())
    }

    /// The value of a one-element tensor as a [`Scalar`] (PyTorch's `item()`).
    pub fn item(&self) -> Result<Scalar> {
        if self.numel() != 1 {
            return Err(Error::invalid(
                "item",
                format!("a Tensor with {} elements cannot be converted to Scalar", self.numel()),
            ));
        }
        Ok(crate::dispatch_dtype!(self.dtype(), T => {
            let v = self.to_vec::<T>()?[0];
            if self.dtype().is_floating_point() {
                Scalar::Float(v.to_f64())
            } else if self.dtype() == crate::DType::Bool {
                Scalar::Bool(v.to_bool())
            } else {
                Scalar::Int(v.to_i64())
            }
        }))
    }
}

/// A weak reference to a tensor object.
#[derive(Clone)]
pub struct WeakTensor(std::sync::Weak<TensorImpl>);

impl WeakTensor {
    /// The tensor, if it is still alive.
    pub fn upgrade(&self) -> Option<Tensor> {
        self.0.upgrade().map(Tensor)
    }
}

/// Calls `f` with the storage offset (in elements) of every element in row-major order.
pub fn for_each_offset(sizes: &[usize], strides: &[usize], offset: usize, mut f: impl FnMut(usize)) {
    if sizes.contains(&0) {
        return;
    }
    let nd = sizes.len();
    let mut idx: DimVec = shape::filled(0, nd);
    let mut off = offset;
    loop {
        f(off);
        let mut d = nd;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            off += strides[d];
            if idx[d] < sizes[d] {
                break;
            }
            off -= strides[d] * sizes[d];
            idx[d] = 0;
        }
    }
}

fn check_in_bounds(
    op: &str,
    nbytes: usize,
    sizes: &[usize],
    strides: &[usize],
    offset: usize,
    dtype: DType,
) -> Result<()> {
    if sizes.len() != strides.len() {
        return Err(Error::invalid(
            op,
            format!(
                "mismatch in length of strides ({}) and shape ({})",
                strides.len(),
                sizes.len()
            ),
        ));
    }
    if sizes.contains(&0) {
        return Ok(());
    }
    let mut last = offset as u128;
    for (&s, &st) in sizes.iter().zip(strides) {
        last += (s as u128 - 1) * st as u128;
    }
    let needed = (last + 1) * dtype.itemsize() as u128;
    if needed > nbytes as u128 {
        return Err(Error::invalid(
            op,
            format!(
                "setStorage: sizes {}, strides {}, storage offset {offset}, and itemsize {} requiring a storage size of {needed} are out of bounds for storage of size {nbytes}",
                shape::fmt_sizes(sizes),
                shape::fmt_sizes(strides),
                dtype.itemsize()
            ),
        ));
    }
    Ok(())
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_share_storage_and_version() {
        let t = Tensor::from_vec(vec![1.0f64; 6], &[2, 3]).unwrap();
        let v = t.as_view(&[3, 2], &[1, 3], 0).unwrap();
        assert!(v.storage().is_same(t.storage()));
        assert!(v.version_counter().is_same(t.version_counter()));
        assert!(v.base().unwrap().is_same(&t));
        let vv = v.as_view(&[6], &[1], 0).unwrap();
        assert!(vv.base().unwrap().is_same(&t), "base is the root base");
        t.version_counter().bump();
        assert_eq!(vv.version(), 1);
    }

    #[test]
    fn out_of_bounds_view_is_an_error() {
        let t = Tensor::zeros_contiguous(&[4], DType::F32);
        assert!(t.as_view(&[2], &[3], 1).is_err());
        assert!(t.as_view(&[2], &[3], 0).is_ok());
    }

    #[test]
    fn to_vec_follows_strides() {
        let t = Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]).unwrap();
        let tt = t.as_view(&[3, 2], &[1, 3], 0).unwrap();
        assert_eq!(tt.to_vec::<i32>().unwrap(), vec![1, 4, 2, 5, 3, 6]);
        assert!(!tt.is_contiguous());
    }
}
