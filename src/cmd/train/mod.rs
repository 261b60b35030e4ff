//! `nas train`: train one architecture on a task, print its metrics and cost,
//! and write the checkpoint (safetensors), the architecture, the metrics and
//! (for text) the vocabulary beside it.

mod output;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use hybrid_nas::arch::Architecture;
use hybrid_nas::data::Corpus;
// The vocabulary file beside a text checkpoint, where `nas generate` reads it.
use hybrid_nas::generate::checkpoint::VOCAB_FILE;
use hybrid_nas::space::RecallSettings;
use hybrid_nas::tasks::digits::Digits;
use hybrid_nas::tasks::{eval_starts, TaskData, TaskKind, TextTask};
use hybrid_nas::train::{self, TrainConfig, TrainReport};

use super::UsageError;
use crate::cli::TrainArgs;

/// The training settings: each flag given, else the design file's
/// `[training]` table, else the task's defaults.
fn config(args: &TrainArgs, task: TaskKind) -> anyhow::Result<TrainConfig> {
    let path = Path::new(&args.arch);
    let base = if path.is_file() {
        TrainConfig::from_design_file(path)?
    } else {
        None
    };
    // A design file's [training] is its text model's: a task keeps its own.
    let base = match (base, task) {
        (Some(_), t) if t != TaskKind::Text => {
            if !args.json {
                eprintln!(
                    "note: {}'s [training] is for text; the {t} task uses its own defaults",
                    args.arch
                );
            }
            None
        }
        (base, _) => base,
    };
    let from_file = base.is_some();
    let base = base.unwrap_or_else(|| TrainConfig::for_task(task));
    let cfg = TrainConfig {
        steps: args.steps.unwrap_or(base.steps),
        batch_size: args.batch.unwrap_or(base.batch_size),
        seq_len: args.seq_len.unwrap_or(base.seq_len),
        lr: args.lr.unwrap_or(base.lr),
        weight_decay: args.weight_decay.unwrap_or(base.weight_decay),
        eval_interval: args.eval_interval.unwrap_or(base.eval_interval),
        eval_batches: args.eval_batches.unwrap_or(base.eval_batches),
        seed: args.seed.unwrap_or(base.seed),
        rungs: Vec::new(),
        device: args
            .device
            .device
            .resolve(0)
            .map_err(|e| UsageError(e.to_string()))?,
    };
    if from_file && !args.json {
        eprintln!("training settings from {} (flags override them)", args.arch);
    }
    Ok(cfg)
}

/// The task's data, a line saying what it is, and for text the corpus
/// (its path and vocabulary).
fn task_data(
    args: &TrainArgs,
    task: TaskKind,
    cfg: &TrainConfig,
) -> anyhow::Result<(Box<dyn TaskData>, String, Option<Corpus>)> {
    if task != TaskKind::Text && args.seq_len.is_some() {
        return Err(UsageError(format!(
            "--seq-len applies to text: the {task} task sets its own sequence length"
        ))
        .into());
    }
    Ok(match task {
        TaskKind::Text => {
            let corpus = Corpus::load(args.corpus.as_deref())?;
            corpus.check_seq_len(cfg.seq_len)?;
            let what = format!(
                "{} ({} characters, vocabulary {})",
                corpus.path.display(),
                corpus.train.len() + corpus.valid.len(),
                corpus.vocab_size()
            );
            let data = Box::new(TextTask::new(&corpus, cfg.seq_len));
            (data, what, Some(corpus))
        }
        TaskKind::Digits => {
            let digits = Digits::load(None)?;
            let what = format!("digits ({} held-out images)", digits.test_len());
            (Box::new(digits), what, None)
        }
        _ => {
            let mut settings = RecallSettings::task_defaults();
            if let Some(pairs) = &args.pairs {
                settings.pairs = pairs.clone();
            }
            if let Some(vocab) = args.vocab {
                (settings.keys, settings.values, settings.tokens) = (vocab, vocab, vocab);
            }
            if let Some(copies) = &args.copies {
                settings.copies = copies.clone();
            }
            settings.check().map_err(UsageError)?;
            (settings.task(task), task.to_string(), None)
        }
    })
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let task: TaskKind = args.task.into();
    let mut arch = Architecture::load(&args.arch)?;
    let cfg = config(&args, task)?;
    let (data, what, corpus) = task_data(&args, task, &cfg)?;
    if arch.vocab_size != 0 && arch.vocab_size != data.vocab_size() {
        eprintln!(
            "note: the architecture was exported with a vocabulary of {}; this task has {}",
            arch.vocab_size,
            data.vocab_size()
        );
    }
    arch.vocab_size = data.vocab_size();
    let default_out =
        PathBuf::from("runs")
            .join("train")
            .join(format!("{}-s{}", arch.hash(), cfg.seed));
    let claimed = output::claim(args.out.as_deref(), args.overwrite, &default_out)
        .with_context(|| format!("creating the output folder for {}", default_out.display()))?;
    let out = claimed.dir.clone();

    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        eprintln!("training {} on {what}", arch.short_form());
        eprintln!("writing to {}", out.display());
        ProgressBar::new(cfg.steps as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} step {pos}/{len}  loss {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid progress template"),
    );
    let trained = train::train_on(&arch, data.as_ref(), &cfg, |p| {
        bar.set_position(p.step as u64);
        bar.set_message(format!("{:.4}  {:.0} tok/s", p.loss, p.tokens_per_s));
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    let trained = match trained {
        Ok(t) => t,
        Err(e) => {
            output::release_unused(&claimed);
            return Err(e.into());
        }
    };
    let report = &trained.report;

    let checkpoint = out.join("model.safetensors");
    trained
        .vs
        .save(&checkpoint)
        .with_context(|| format!("writing {}", checkpoint.display()))?;
    std::fs::write(out.join("arch.toml"), arch.to_toml())?;
    if let Some(corpus) = &corpus {
        write_vocab(&out.join(VOCAB_FILE), corpus)?;
    }
    let metrics = json!({
        "evaluator": "train",
        "task": task.as_str(),
        "arch": arch.short_form(),
        "hash": arch.hash(),
        "training": TrainConfig { seq_len: data.seq_len(), ..cfg.clone() },
        "corpus": corpus.as_ref().map(|c| &c.path),
        "vocab": corpus.as_ref().map(|_| out.join(VOCAB_FILE)),
        "validation": corpus.as_ref().map(|c| validation(c, &cfg, data.seq_len())),
        "report": report,
        "checkpoint": checkpoint,
    });
    std::fs::write(
        out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics)?,
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        print_report(&arch, report, data.seq_len());
        println!("checkpoint       {}", checkpoint.display());
    }
    Ok(())
}

/// Which text the reported validation loss is the mean over: `batches` of
/// window offsets into the corpus's validation split, which starts at
/// character `split_at`. With the vocabulary, another program (the PyTorch
/// reference, scripts/reference_model.py) scores the same windows.
fn validation(corpus: &Corpus, cfg: &TrainConfig, seq_len: usize) -> serde_json::Value {
    json!({
        "split_at": corpus.train.len(),
        "seq_len": seq_len,
        "batches": eval_starts(corpus.valid.len(), seq_len, cfg.batch_size, cfg.eval_batches),
    })
}

/// Writes the character vocabulary: token `i` is `tokens[i]`. Without it a
/// checkpoint cannot be decoded back to text, since the ids depend on the
/// corpus it was trained on.
fn write_vocab(path: &Path, corpus: &Corpus) -> anyhow::Result<()> {
    let tokens: Vec<String> = corpus.chars.iter().map(|c| c.to_string()).collect();
    let vocab = json!({
        "kind": "characters",
        "corpus": corpus.path,
        "size": tokens.len(),
        "tokens": tokens,
    });
    std::fs::write(path, serde_json::to_string_pretty(&vocab)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn print_report(arch: &Architecture, report: &TrainReport, seq_len: usize) {
    let c = &report.cost;
    println!("architecture     {}", arch.short_form());
    println!("attention ratio  {:.2}", arch.attention_ratio());
    println!("val loss         {:.4}", report.val_loss);
    match report.recall_acc {
        Some(acc) => {
            println!("accuracy         {acc:.3} (exact match at the answers)");
            for s in report.scores.iter().filter(|s| !s.name.is_empty()) {
                let acc = s.accuracy.unwrap_or(f64::NAN);
                println!("  difficulty {:<4} {acc:.3}  (loss {:.4})", s.name, s.loss);
            }
        }
        None => println!("val perplexity   {:.3}", report.val_ppl),
    }
    println!("parameters       {}", report.params);
    println!(
        "FLOPs / token    {:.3} M (forward, T = {seq_len})",
        c.flops_per_token / 1e6
    );
    println!(
        "KV cache         {} bytes (bf16, T = {seq_len})",
        c.kv_cache_bytes
    );
    println!("SSM state        {} bytes (bf16)", c.ssm_state_bytes);
    println!(
        "train time       {:.1} s ({:.0} tokens/s)",
        report.train_seconds, report.tokens_per_s
    );
    println!(
        "latency          {:.2} ms / forward (batch 1, T = {seq_len})",
        report.latency_ms
    );
    let acc = report.recall_acc.is_some();
    println!(
        "learning curve   step  train   val{}",
        if acc { "     acc" } else { "" }
    );
    for p in &report.curve {
        let a = p.accuracy.map_or(String::new(), |a| format!("  {a:.3}"));
        println!(
            "                 {:>4}  {:.4}  {:.4}{a}",
            p.step, p.train_loss, p.val_loss
        );
    }
}
