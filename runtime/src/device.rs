//! Devices a tensor can live on. V1 has only the CPU; the enum and the
//! dispatch keys leave room for more backends.

use std::fmt;

/// Where a tensor's storage lives.
///
/// ```
/// use ft_runtime::Device;
/// assert_eq!(Device::Cpu.to_string(), "cpu");
/// assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum Device {
    /// Host memory.
    #[default]
    Cpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "cpu" => Ok(Device::Cpu),
            other => Err(crate::Error::not_supported(
                "Device",
                format!("device '{other}' is not available; FrankenTorch V1 supports only 'cpu'"),
            )),
        }
    }
}

/// Memory layout of a tensor. Only dense strided tensors exist in V1.
///
/// ```
/// assert_eq!(ft_runtime::Layout::Strided.to_string(), "torch.strided");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// Dense tensor with sizes and strides.
    #[default]
    Strided,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("torch.strided")
    }
}

/// Requested memory format of a new tensor (PyTorch's `torch.memory_format`).
///
/// ```
/// assert_eq!(ft_runtime::MemoryFormat::default(), ft_runtime::MemoryFormat::Contiguous);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MemoryFormat {
    /// Row-major strides.
    #[default]
    Contiguous,
    /// Keep the input's strides when they are dense and non-overlapping.
    Preserve,
}
