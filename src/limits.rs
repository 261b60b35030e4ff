//! Upper bounds on every size a space file, a design or a training flag can
//! ask for. They are far above what a proxy search trains (the bundled spaces
//! stay under a tenth of each) and exist so that a typo or a hostile file
//! (`depth = 10000000`) is refused with its position instead of allocating
//! until the process is killed or the store grows without end. Whether a
//! design within the caps fits this machine is a separate check, made per
//! trial before training (see [`crate::memory`]).

/// Layers of one design (`model.depth`, the layers of a short form).
pub const MAX_DEPTH: usize = 256;
/// Model width (`model.d_model`, `dN` of a short form).
pub const MAX_D_MODEL: usize = 8192;
/// MLP expansion (`model.mlp_ratio`, `mN`).
pub const MAX_MLP_RATIO: usize = 16;
/// Attention heads of one layer (`attention.heads`, `AN`).
pub const MAX_HEADS: usize = 256;
/// SSM state size (`ssm.state_dim`, `SN`).
pub const MAX_STATE_DIM: usize = 1024;
/// SSM expansion (`ssm.expand`, `SNeE`).
pub const MAX_SSM_EXPAND: usize = 8;
/// Tokens per training sequence (`task.seq_len`, `--seq-len`, `recall.context`),
/// and the largest attention window.
pub const MAX_SEQ_LEN: usize = 65_536;
/// Sequences per batch (`training.batch_size`, `--batch`, `recall.batch_size`).
pub const MAX_BATCH: usize = 4096;
/// Optimiser steps of one training (`training.steps`, `--steps`, DARTS phases).
pub const MAX_STEPS: usize = 1_000_000;
/// Validation batches (`training.eval_batches`, `--eval-batches`).
pub const MAX_EVAL_BATCHES: usize = 10_000;
/// Vocabulary of a synthetic task (`recall.keys`, `recall.values`, `recall.tokens`).
pub const MAX_VOCAB: usize = 65_536;

/// `Err` naming the first training size of `steps`, `batch` (sequences per
/// batch), `seq_len` and `eval_batches` above its cap, for a flag or a
/// design file's `[training]` table.
pub fn check_training(
    steps: usize,
    batch: usize,
    seq_len: usize,
    eval_batches: usize,
) -> Result<(), String> {
    let over = [
        ("steps", steps, MAX_STEPS),
        ("batch size", batch, MAX_BATCH),
        ("sequence length", seq_len, MAX_SEQ_LEN),
        ("eval batches", eval_batches, MAX_EVAL_BATCHES),
    ]
    .into_iter()
    .find(|(_, v, max)| v > max);
    match over {
        Some((what, v, max)) => Err(format!("{what} {v} is above the cap of {max}")),
        None => Ok(()),
    }
}
