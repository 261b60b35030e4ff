//! `nas bench`: JSON lines of training speed, comparable with the peer; with
//! `--decode` of decode latency and cache bytes by context length; with
//! `--sweep-T` the forward cost by context length ([`sweep`]).

mod sweep;

use hybrid_nas::arch::Architecture;
use hybrid_nas::bench::{self, decode};

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
            let result = bench::speed(arch, label, args.b, args.t, steps, args.warmup)?;
            println!("{}", serde_json::to_string(&result)?);
        }
    }
    Ok(0)
}
