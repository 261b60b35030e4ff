//! `nas generate`: continue a prompt with a trained text model, streaming
//! the text to stdout as it is drawn.

use std::io::Write;

use hybrid_nas::generate::{Sampling, TextModel};

use crate::cli::GenerateArgs;

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let model = TextModel::load(&args.checkpoint)?;
    let sampling = Sampling {
        temperature: args.temperature,
        top_k: args.top_k,
        seed: args.seed,
    };
    sampling.check()?;
    // Refuse a prompt the model cannot read before printing any of it.
    model.vocab.encode(&args.prompt)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", args.prompt)?;
    out.flush()?;
    let mut written = Ok(());
    model.generate(&args.prompt, args.tokens, &sampling, |c| {
        if written.is_ok() {
            written = write!(out, "{c}").and_then(|()| out.flush());
        }
    })?;
    written?;
    writeln!(out)?;
    Ok(())
}
