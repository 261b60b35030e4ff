//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The default proxy architecture: the peer's SSSASS at d_model 64, 4 heads,
/// state 16 (the configuration whose quality DESIGN.md compares).
pub const DEFAULT_ARCH: &str = "d64 S16 S16 S16 A4 S16 S16";

#[derive(Parser, Debug)]
#[command(
    name = "nas",
    version,
    about = "Search hybrid attention + state-space LM architectures with proxy training",
    long_about = "Search hybrid attention + state-space (Mamba-2) language-model \
architectures: train each candidate as a small proxy model on libtorch, measure its \
validation perplexity and its cost, and compare them.\n\n\
Architectures are written in a short form, one token per layer after the width:\n  \
d128 S16 S16 S16 A4* S16 S16 S16 A4*\n\
d128 = d_model 128; S16 = Mamba-2 SSM layer with state 16 (S16e1: expand 1);\n\
A4 = causal attention with 4 heads (A4w64: sliding window of 64; A4*: the weights\n\
shared by every starred layer, Zamba-style); m2 = MLP ratio 2; rope = rotary positions."
)]
pub struct Cli {
    /// libtorch intra-op threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one architecture as a proxy model and report its quality and cost.
    #[command(
        after_help = "Examples:\n  nas train\n  nas train --arch \"d128 S16 S16 A4* S16 S16 A4*\" --steps 500\n  \
nas train --arch exported.toml --corpus my.txt --json"
    )]
    Train(TrainArgs),
    /// Measure training-step speed, printing one JSON line like the PyTorch
    /// peer's `speed` mode (`pytorch_hybrid.py speed --arch SSSASS`).
    #[command(
        after_help = "Example, side by side with the peer:\n  nas bench --arch SSSASS --d 128 --T 256 --B 16\n  \
python3 ../shared/peers/pytorch_hybrid.py speed --arch SSSASS --d 128 --T 256 --B 16"
    )]
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Architecture: a .toml or .json file (an exported trial works as is),
    /// or a short form such as "d128 S16 S16 A4 S16".
    #[arg(long, default_value = DEFAULT_ARCH)]
    pub arch: String,
    /// UTF-8 text to train on, character-level; the last 10% is held out.
    /// Default: the Shakespeare corpus that scripts/setup.sh installs.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Optimiser steps.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Sequences per batch.
    #[arg(long, visible_alias = "B", default_value_t = 32)]
    pub batch: usize,
    /// Characters per sequence (the context length T).
    #[arg(long, visible_alias = "T", default_value_t = 128)]
    pub seq_len: usize,
    /// Peak learning rate (linear warm-up over 5% of steps, then cosine to 0).
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    /// AdamW weight decay, applied to matrices only.
    #[arg(long, default_value_t = 0.1)]
    pub weight_decay: f64,
    /// Evaluate on the fixed validation batches every this many steps.
    #[arg(long, default_value_t = 100)]
    pub eval_interval: usize,
    /// Validation batches per evaluation.
    #[arg(long, default_value_t = 20)]
    pub eval_batches: usize,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory for the checkpoint, architecture and metrics
    /// (default: runs/train/<arch hash>-s<seed>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Print one JSON object with every metric instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Letters, one per layer: A attention, S Mamba-2 SSM (as the peer's --arch);
    /// or a full short form such as "d128 S16 A4w64 S16".
    #[arg(long, default_value = "SSSASS")]
    pub arch: String,
    /// d_model (ignored when --arch is a short form).
    #[arg(long = "d", default_value_t = 128)]
    pub d: usize,
    /// Attention heads for A letters.
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// SSM state size for S letters.
    #[arg(long, default_value_t = 16)]
    pub state: usize,
    /// Sequence length.
    #[arg(long = "T", default_value_t = 256)]
    pub t: usize,
    /// Batch size.
    #[arg(long = "B", default_value_t = 16)]
    pub b: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
}
