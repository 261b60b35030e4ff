//! Where tensors live: `--device auto|cpu|cuda|cuda:N`.
//!
//! A choice is resolved once per worker: `cuda` gives worker k of
//! `--jobs K` the GPU k mod N, `cuda:N` pins every worker to GPU N, `auto`
//! is `cuda` when libtorch sees a GPU and the CPU otherwise. Without CUDA
//! (the default build links libtorch's CPU libraries only; `scripts/setup.sh
//! --cuda` links the CUDA ones) asking for `cuda` is an error, never a
//! silent fall-back to the CPU.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    /// Every GPU, worker k on k mod N.
    Cuda,
    /// This GPU.
    CudaIndex(usize),
}

/// A resolved device, as training and benchmarks use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComputeDevice {
    #[default]
    Cpu,
    Cuda(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error(
        "--device {asked}: libtorch sees no CUDA device here (this build links libtorch's CPU \
         libraries; on a machine with an NVIDIA GPU run `scripts/setup.sh --cuda` and rebuild), \
         or use --device cpu"
    )]
    NoCuda { asked: String },
    #[error("--device cuda:{index}: there are {count} CUDA device(s) (cuda:0 to cuda:{last})", last = count.saturating_sub(1))]
    NoSuchGpu { index: usize, count: usize },
    #[error("unknown device '{0}' (expected auto, cpu, cuda or cuda:N)")]
    Unknown(String),
}

impl FromStr for DeviceChoice {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceChoice::CudaIndex)
                .ok_or_else(|| DeviceError::Unknown(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda => f.write_str("cuda"),
            DeviceChoice::CudaIndex(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComputeDevice::Cpu => f.write_str("cpu"),
            ComputeDevice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// CUDA devices libtorch sees (0 in a CPU-only build).
pub fn cuda_count() -> usize {
    if tch::Cuda::is_available() {
        tch::Cuda::device_count().max(0) as usize
    } else {
        0
    }
}

impl DeviceChoice {
    /// The device of worker `worker`, given `gpus` visible CUDA devices.
    pub fn resolve_with(self, worker: usize, gpus: usize) -> Result<ComputeDevice, DeviceError> {
        match self {
            DeviceChoice::Cpu => Ok(ComputeDevice::Cpu),
            DeviceChoice::Auto if gpus == 0 => Ok(ComputeDevice::Cpu),
            DeviceChoice::Auto | DeviceChoice::Cuda if gpus > 0 => {
                Ok(ComputeDevice::Cuda(worker % gpus))
            }
            DeviceChoice::CudaIndex(index) if index < gpus => Ok(ComputeDevice::Cuda(index)),
            DeviceChoice::CudaIndex(index) if gpus > 0 => {
                Err(DeviceError::NoSuchGpu { index, count: gpus })
            }
            other => Err(DeviceError::NoCuda {
                asked: other.to_string(),
            }),
        }
    }

    /// The device of worker `worker` on this machine.
    pub fn resolve(self, worker: usize) -> Result<ComputeDevice, DeviceError> {
        self.resolve_with(worker, cuda_count())
    }
}

impl ComputeDevice {
    pub fn tch(self) -> tch::Device {
        match self {
            ComputeDevice::Cpu => tch::Device::Cpu,
            ComputeDevice::Cuda(n) => tch::Device::Cuda(n),
        }
    }

    /// Waits for the device's queued work, so that a wall-clock time
    /// measures it (CUDA kernels run asynchronously; the CPU needs nothing).
    pub fn synchronize(self) {
        if let ComputeDevice::Cuda(n) = self {
            tch::Cuda::synchronize(n as i64);
        }
    }
}

thread_local! {
    /// The device of the search worker running on this thread (set by the
    /// driver before its first trial), read where a trial's training is set
    /// up. As libtorch's thread count, it is a property of the thread.
    static WORKER_DEVICE: Cell<ComputeDevice> = const { Cell::new(ComputeDevice::Cpu) };
}

/// Makes `device` this thread's worker device.
pub fn set_worker_device(device: ComputeDevice) {
    WORKER_DEVICE.with(|d| d.set(device));
}

/// This thread's worker device (the CPU unless the driver set another).
pub fn worker_device() -> ComputeDevice {
    WORKER_DEVICE.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_resolve() {
        for s in ["auto", "cpu", "cuda", "cuda:1"] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap().to_string(), s);
        }
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert!("tpu".parse::<DeviceChoice>().is_err());
        // Without a GPU: auto is the CPU, cuda an error.
        assert_eq!(
            DeviceChoice::Auto.resolve_with(3, 0),
            Ok(ComputeDevice::Cpu)
        );
        assert!(matches!(
            DeviceChoice::Cuda.resolve_with(0, 0),
            Err(DeviceError::NoCuda { .. })
        ));
        assert!(matches!(
            DeviceChoice::CudaIndex(0).resolve_with(0, 0),
            Err(DeviceError::NoCuda { .. })
        ));
        // With three GPUs: worker k takes k mod 3; an index past them fails.
        let on: Vec<_> = (0..5)
            .map(|k| DeviceChoice::Cuda.resolve_with(k, 3).unwrap())
            .collect();
        assert_eq!(on[3], ComputeDevice::Cuda(0));
        assert_eq!(on[4], ComputeDevice::Cuda(1));
        assert_eq!(
            DeviceChoice::Auto.resolve_with(2, 3),
            Ok(ComputeDevice::Cuda(2))
        );
        assert_eq!(
            DeviceChoice::CudaIndex(5).resolve_with(0, 3),
            Err(DeviceError::NoSuchGpu { index: 5, count: 3 })
        );
    }

    #[test]
    fn this_build_sees_no_gpu_and_refuses_cuda() {
        // The CPU build this suite runs on (CI has no GPU).
        if cuda_count() == 0 {
            assert_eq!(DeviceChoice::Auto.resolve(0), Ok(ComputeDevice::Cpu));
            let err = DeviceChoice::Cuda.resolve(0).unwrap_err().to_string();
            assert!(err.contains("setup.sh --cuda"), "{err}");
        }
    }
}
