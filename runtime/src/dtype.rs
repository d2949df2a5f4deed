//! Element types and PyTorch's type-promotion lattice.
//!
//! Promotion is derived, not tabulated: a dtype has a category
//! (bool < integral < floating), integers have a width and a signedness,
//! floats a width, and [`promote_types`] takes the least upper bound.

use half::{bf16, f16};
use std::fmt;

/// The ten element types of FrankenTorch V1, in PyTorch's `ScalarType` order.
///
/// ```
/// use ft_runtime::DType;
/// assert_eq!(DType::F32.to_string(), "torch.float32");
/// assert_eq!(DType::BF16.itemsize(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `torch.bool`
    Bool,
    /// `torch.uint8`
    U8,
    /// `torch.int8`
    I8,
    /// `torch.int16`
    I16,
    /// `torch.int32`
    I32,
    /// `torch.int64`
    I64,
    /// `torch.float16`
    F16,
    /// `torch.bfloat16`
    BF16,
    /// `torch.float32`
    F32,
    /// `torch.float64`
    F64,
}

/// The promotion category of a dtype: bool < integral < floating.
///
/// ```
/// use ft_runtime::{DType, Category};
/// assert!(Category::of(DType::I8) < Category::of(DType::F16));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `bool`
    Bool,
    /// signed and unsigned integers
    Integral,
    /// floating point
    Floating,
}

impl Category {
    /// The category of `dtype`.
    pub fn of(dtype: DType) -> Category {
        match dtype {
            DType::Bool => Category::Bool,
            DType::U8 | DType::I8 | DType::I16 | DType::I32 | DType::I64 => Category::Integral,
            DType::F16 | DType::BF16 | DType::F32 | DType::F64 => Category::Floating,
        }
    }
}

impl DType {
    /// Every V1 dtype, in `ScalarType` order.
    pub const ALL: [DType; 10] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }
    /// True for float16, bfloat16, float32, float64.
    pub fn is_floating_point(self) -> bool {
        Category::of(self) == Category::Floating
    }
    /// True for the integer types; `include_bool` also counts `bool`.
    pub fn is_integral(self, include_bool: bool) -> bool {
        match Category::of(self) {
            Category::Integral => true,
            Category::Bool => include_bool,
            Category::Floating => false,
        }
    }
    /// True for the signed types (ints and floats).
    pub fn is_signed(self) -> bool {
        !matches!(self, DType::Bool | DType::U8)
    }
    /// PyTorch's Python name, e.g. `float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }
    /// PyTorch's C++ `ScalarType` name, used in its error messages (`Float`, `Long`).
    pub fn scalar_type_name(self) -> &'static str {
        match self {
            DType::Bool => "Bool",
            DType::U8 => "Byte",
            DType::I8 => "Char",
            DType::I16 => "Short",
            DType::I32 => "Int",
            DType::I64 => "Long",
            DType::F16 => "Half",
            DType::BF16 => "BFloat16",
            DType::F32 => "Float",
            DType::F64 => "Double",
        }
    }
    /// The legacy tensor type name used in autograd messages (`torch.FloatTensor`).
    pub fn tensor_type_name(self) -> String {
        format!("torch.{}Tensor", self.scalar_type_name())
    }
    /// The dtype of a c10 `ScalarType` code (`4` is int64), as schema
    /// defaults and boxed calls spell dtypes; `None` for codes outside V1.
    ///
    /// ```
    /// use ft_runtime::DType;
    /// assert_eq!(DType::from_scalar_type_code(4), Some(DType::I64));
    /// assert_eq!(DType::from_scalar_type_code(15), Some(DType::BF16));
    /// assert_eq!(DType::from_scalar_type_code(8), None); // complex32
    /// ```
    pub fn from_scalar_type_code(code: i64) -> Option<DType> {
        Some(match code {
            0 => DType::U8,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::I64,
            5 => DType::F16,
            6 => DType::F32,
            7 => DType::F64,
            11 => DType::Bool,
            15 => DType::BF16,
            _ => return None,
        })
    }

    /// Parses a Python dtype name (`float32`, `torch.float32`, or an alias like `float`, `long`).
    pub fn from_name(name: &str) -> Option<DType> {
        let n = name.strip_prefix("torch.").unwrap_or(name);
        Some(match n {
            "bool" => DType::Bool,
            "uint8" => DType::U8,
            "int8" => DType::I8,
            "int16" | "short" => DType::I16,
            "int32" | "int" => DType::I32,
            "int64" | "long" => DType::I64,
            "float16" | "half" => DType::F16,
            "bfloat16" => DType::BF16,
            "float32" | "float" => DType::F32,
            "float64" | "double" => DType::F64,
            _ => return None,
        })
    }
    /// The dtype used for intermediate arithmetic (PyTorch's `opmath_type`):
    /// float32 for float16/bfloat16, the dtype itself otherwise.
    pub fn opmath(self) -> DType {
        match self {
            DType::F16 | DType::BF16 => DType::F32,
            d => d,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torch.{}", self.name())
    }
}

/// The default floating dtype (`torch.get_default_dtype()`), float32 as in PyTorch.
pub const DEFAULT_DTYPE: DType = DType::F32;

/// PyTorch's `promote_types`: the smallest dtype both `a` and `b` convert to
/// without losing category.
///
/// ```
/// use ft_runtime::{promote_types, DType::*};
/// assert_eq!(promote_types(U8, I8), I16);
/// assert_eq!(promote_types(Bool, I32), I32);
/// assert_eq!(promote_types(F16, BF16), F32);
/// assert_eq!(promote_types(I64, F16), F16);
/// ```
pub fn promote_types(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    let (ca, cb) = (Category::of(a), Category::of(b));
    if ca != cb {
        return if ca > cb { a } else { b };
    }
    match ca {
        Category::Bool => Bool,
        Category::Integral => {
            let (ua, ub) = (a == U8, b == U8);
            if ua || ub {
                // uint8 with a signed type: the signed type if wider, else int16.
                let signed = if ua { b } else { a };
                if signed.itemsize() > 1 {
                    signed
                } else {
                    I16
                }
            } else if a.itemsize() >= b.itemsize() {
                a
            } else {
                b
            }
        }
        Category::Floating => match (a, b) {
            (F16, BF16) | (BF16, F16) => F32,
            _ if a.itemsize() >= b.itemsize() => a,
            _ => b,
        },
    }
}

/// Whether a value of dtype `from` may be written into an output of dtype `to`
/// (PyTorch's `canCast`: no float into integral, no non-bool into bool).
///
/// ```
/// use ft_runtime::{can_cast, DType::*};
/// assert!(can_cast(I64, F32));
/// assert!(!can_cast(F32, I64));
/// assert!(!can_cast(I32, Bool));
/// ```
pub fn can_cast(from: DType, to: DType) -> bool {
    Category::of(from) <= Category::of(to)
}

/// A Rust type that is the element type of one [`DType`].
///
/// Conversions follow C++ casts as PyTorch uses them: float to integer
/// truncates toward zero (saturating at the type bounds, where C++ is undefined),
/// anything to bool is `!= 0`.
pub trait Element: Copy + Send + Sync + PartialEq + PartialOrd + Default + fmt::Debug + 'static {
    /// The dtype this type stores.
    const DTYPE: DType;
    /// Converts to f64 (exact for every type but i64 beyond 2^53).
    fn to_f64(self) -> f64;
    /// Converts from f64 with C-cast semantics.
    fn from_f64(v: f64) -> Self;
    /// Converts to i64 (floats truncate).
    fn to_i64(self) -> i64;
    /// Converts from i64 with C-cast (wrapping) semantics.
    fn from_i64(v: i64) -> Self;
    /// Converts from bool (0 or 1).
    fn from_bool(v: bool) -> Self;
    /// `self != 0`.
    fn to_bool(self) -> bool;
}

macro_rules! int_element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn from_bool(v: bool) -> Self {
                v as $t
            }
            fn to_bool(self) -> bool {
                self != 0
            }
        }
    };
}
int_element!(u8, U8);
int_element!(i8, I8);
int_element!(i16, I16);
int_element!(i32, I32);
int_element!(i64, I64);

macro_rules! float_element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn from_bool(v: bool) -> Self {
                v as u8 as $t
            }
            fn to_bool(self) -> bool {
                self != 0.0
            }
        }
    };
}
float_element!(f32, F32);
float_element!(f64, F64);

macro_rules! half_element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self.to_f64()
            }
            // PyTorch converts double and int64 to half types through float
            // (`c10::Half(float)`), so the value is rounded twice; a direct
            // f64 -> f16 rounding differs on halfway-adjacent values.
            fn from_f64(v: f64) -> Self {
                <$t>::from_f32(v as f32)
            }
            fn to_i64(self) -> i64 {
                self.to_f32() as i64
            }
            fn from_i64(v: i64) -> Self {
                <$t>::from_f32(v as f32)
            }
            fn from_bool(v: bool) -> Self {
                <$t>::from_f32(v as u8 as f32)
            }
            fn to_bool(self) -> bool {
                self.to_f32() != 0.0
            }
        }
    };
}
half_element!(f16, F16);
half_element!(bf16, BF16);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    fn from_bool(v: bool) -> Self {
        v
    }
    fn to_bool(self) -> bool {
        self
    }
}

/// Runs `$body` with the type alias `$T` bound to the Rust element type of `$dtype`.
///
/// ```
/// use ft_runtime::{dispatch_dtype, DType, Element};
/// let size = dispatch_dtype!(DType::F16, T => std::mem::size_of::<T>());
/// assert_eq!(size, 2);
/// ```
#[macro_export]
macro_rules! dispatch_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        match $dtype {
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::F16 => {
                type $T = $crate::half::f16;
                $body
            }
            $crate::DType::BF16 => {
                type $T = $crate::half::bf16;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_is_symmetric_and_idempotent() {
        for a in DType::ALL {
            assert_eq!(promote_types(a, a), a);
            for b in DType::ALL {
                assert_eq!(promote_types(a, b), promote_types(b, a), "{a} {b}");
            }
        }
    }

    #[test]
    fn promotion_matches_pytorch_table_samples() {
        use DType::*;
        assert_eq!(promote_types(U8, I16), I16);
        assert_eq!(promote_types(I8, I64), I64);
        assert_eq!(promote_types(Bool, U8), U8);
        assert_eq!(promote_types(F32, F64), F64);
        assert_eq!(promote_types(BF16, F32), F32);
        assert_eq!(promote_types(I32, BF16), BF16);
        assert_eq!(promote_types(Bool, F16), F16);
    }

    #[test]
    fn half_types_round_doubles_through_float_like_torch() {
        // torch.tensor(1 + 2**-8 + 2**-30, dtype=torch.float64).bfloat16() == 1.0:
        // the float step drops 2**-30, leaving a tie that rounds to even.
        let v = 1.0 + 2f64.powi(-8) + 2f64.powi(-30);
        assert_eq!(<bf16 as Element>::from_f64(v).to_f64(), 1.0);
        let v = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(<f16 as Element>::from_f64(v).to_f64(), 1.0);
        // int64 goes through float as well: 2**24 + 1 becomes 2**24 first.
        let i = (1i64 << 24) + 1;
        assert_eq!(<f16 as Element>::from_i64(i).to_f64(), f64::INFINITY);
        assert_eq!(<bf16 as Element>::from_i64(i).to_f64(), 16777216.0);
    }
}
