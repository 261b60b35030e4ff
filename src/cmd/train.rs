//! `nas train`: train one architecture, print its metrics and cost, and write
//! the checkpoint (safetensors), the architecture and the metrics beside it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use hybrid_nas::arch::Architecture;
use hybrid_nas::data::Corpus;
use hybrid_nas::train::{self, TrainConfig};

use crate::cli::TrainArgs;

/// The training settings: each flag given, else the design file's
/// `[training]` table, else the defaults.
fn config(args: &TrainArgs) -> anyhow::Result<TrainConfig> {
    let path = Path::new(&args.arch);
    let base = if path.is_file() {
        TrainConfig::from_design_file(path)?
    } else {
        None
    };
    let from_file = base.is_some();
    let base = base.unwrap_or_default();
    let cfg = TrainConfig {
        steps: args.steps.unwrap_or(base.steps),
        batch_size: args.batch.unwrap_or(base.batch_size),
        seq_len: args.seq_len.unwrap_or(base.seq_len),
        lr: args.lr.unwrap_or(base.lr),
        weight_decay: args.weight_decay.unwrap_or(base.weight_decay),
        eval_interval: args.eval_interval.unwrap_or(base.eval_interval),
        eval_batches: args.eval_batches.unwrap_or(base.eval_batches),
        seed: args.seed.unwrap_or(base.seed),
    };
    if from_file && !args.json {
        eprintln!("training settings from {} (flags override them)", args.arch);
    }
    Ok(cfg)
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let mut arch = Architecture::load(&args.arch)?;
    let corpus = Corpus::load(args.corpus.as_deref())?;
    if arch.vocab_size != 0 && arch.vocab_size != corpus.vocab_size() {
        eprintln!(
            "note: the architecture was exported with a vocabulary of {}; this corpus has {}",
            arch.vocab_size,
            corpus.vocab_size()
        );
    }
    arch.vocab_size = corpus.vocab_size();
    let cfg = config(&args)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join("train")
            .join(format!("{}-s{}", arch.hash(), cfg.seed))
    });

    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        eprintln!(
            "training {} on {} ({} characters, vocabulary {})",
            arch.short_form(),
            corpus.path.display(),
            corpus.train.len() + corpus.valid.len(),
            corpus.vocab_size()
        );
        ProgressBar::new(cfg.steps as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} step {pos}/{len}  loss {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid progress template"),
    );
    let trained = train::train(&arch, &corpus, &cfg, |p| {
        bar.set_position(p.step as u64);
        bar.set_message(format!("{:.4}  {:.0} tok/s", p.loss, p.tokens_per_s));
        ControlFlow::Continue(())
    })?;
    bar.finish_and_clear();
    let report = &trained.report;

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let checkpoint = out.join("model.safetensors");
    trained
        .vs
        .save(&checkpoint)
        .with_context(|| format!("writing {}", checkpoint.display()))?;
    std::fs::write(out.join("arch.toml"), arch.to_toml())?;
    let metrics = json!({
        "arch": arch.short_form(),
        "hash": arch.hash(),
        "training": cfg,
        "corpus": corpus.path,
        "report": report,
        "checkpoint": checkpoint,
    });
    std::fs::write(
        out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics)?,
    )?;

    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
        return Ok(());
    }
    let c = &report.cost;
    println!("architecture     {}", arch.short_form());
    println!("attention ratio  {:.2}", arch.attention_ratio());
    println!("val loss         {:.4}", report.val_loss);
    println!("val perplexity   {:.3}", report.val_ppl);
    println!("parameters       {}", report.params);
    println!(
        "FLOPs / token    {:.3} M (forward, T = {})",
        c.flops_per_token / 1e6,
        cfg.seq_len
    );
    println!(
        "KV cache         {} bytes (bf16, T = {})",
        c.kv_cache_bytes, cfg.seq_len
    );
    println!("SSM state        {} bytes (bf16)", c.ssm_state_bytes);
    println!(
        "train time       {:.1} s ({:.0} tokens/s)",
        report.train_seconds, report.tokens_per_s
    );
    println!(
        "latency          {:.2} ms / forward (batch 1, T = {})",
        report.latency_ms, cfg.seq_len
    );
    println!("learning curve   step  train   val");
    for p in &report.curve {
        println!(
            "                 {:>4}  {:.4}  {:.4}",
            p.step, p.train_loss, p.val_loss
        );
    }
    println!("checkpoint       {}", checkpoint.display());
    Ok(())
}
