//! `nas bench`: JSON lines of training speed, comparable with the peer; with
//! `--decode` of decode latency and cache bytes by context length; with
//! `--sweep-T` the forward cost by context length ([`sweep`]).

mod sweep;

use hybrid_nas::arch::Architecture;
use hybrid_nas::bench::{self, decode};
use hybrid_nas::device::ComputeDevice;

use super::UsageError;
use crate::cli::BenchArgs;

/// The context lengths `--decode` fills to unless `--context` says.
const DEFAULT_CONTEXTS: [usize; 3] = [512, 2048, 8192];

pub fn run(args: BenchArgs, threads: usize) -> anyhow::Result<i32> {
    // Every design parsed first: a typo in the last is refused before any runs.
    let archs = args
        .arch
        .iter()
        .map(|spec| {
            if spec.contains(' ') {
                Architecture::parse_short_form(spec)
            } else {
                Architecture::from_pattern(spec, args.d, args.heads, args.state)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let device = args
        .device
        .device
        .resolve(0)
        .map_err(|e| UsageError(e.to_string()))?;
    if device != ComputeDevice::Cpu
        && (args.decode || args.sweep_t.is_some() || args.sweep_point.is_some())
    {
        return Err(UsageError(format!(
            "--device {device}: --decode and --sweep-T measure on the CPU only in this release; \
             the training-step benchmark (no --decode, no --sweep-T) runs on {device}"
        ))
        .into());
    }
    if let Some(t) = args.sweep_point {
        return sweep::one_point(&archs, &args, t);
    }
    if let Some(lengths) = &args.sweep_t {
        return sweep::run(&archs, &args, lengths, threads);
    }
    for (arch, label) in archs.iter().zip(&args.arch) {
        if args.decode {
            let contexts = args.context.as_deref().unwrap_or(&DEFAULT_CONTEXTS);
            for result in decode::decode_speed(arch, label, contexts, args.steps.unwrap_or(32)) {
                println!("{}", serde_json::to_string(&result)?);
            }
        } else {
            let steps = args.steps.unwrap_or(5);
            let result = bench::speed(arch, label, (args.b, args.t), (steps, args.warmup), device)?;
            println!("{}", serde_json::to_string(&result)?);
        }
    }
    Ok(0)
}
