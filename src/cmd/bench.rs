//! `nas bench`: one JSON line of training speed, comparable with the peer.

use hybrid_nas::arch::Architecture;
use hybrid_nas::bench;

use crate::cli::BenchArgs;

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let arch = if args.arch.contains(' ') {
        Architecture::parse_short_form(&args.arch)?
    } else {
        Architecture::from_pattern(&args.arch, args.d, args.heads, args.state)?
    };
    let result = bench::speed(&arch, &args.arch, args.b, args.t, args.steps, args.warmup)?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
