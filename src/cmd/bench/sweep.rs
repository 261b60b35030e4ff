//! `nas bench --sweep-T`: every (design, T) point measured in a child `nas`
//! process of its own (`--sweep-point T`), so that each point's peak memory
//! is its own; the parent prints a row (or a JSON line) as each point ends,
//! then how each design's cost grew over the sweep, and draws the figure.

use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, Context};
use hybrid_nas::arch::Architecture;
use hybrid_nas::bench::sweep::{forward_point, SweepPoint};
use hybrid_nas::limits::MAX_SEQ_LEN;
use hybrid_nas::plot::{self, Format};

use crate::cli::BenchArgs;
use crate::cmd::UsageError;

/// Timed forward passes per point unless `--steps` says.
const DEFAULT_FORWARDS: usize = 3;

/// `--sweep-point T`: one design at one T, in this process, as one JSON line.
pub fn one_point(archs: &[Architecture], args: &BenchArgs, t: usize) -> anyhow::Result<i32> {
    let [arch] = archs else {
        return Err(UsageError("--sweep-point measures exactly one --arch".into()).into());
    };
    let forwards = args.steps.unwrap_or(DEFAULT_FORWARDS);
    let point = forward_point(arch, &args.arch[0], t, forwards)?;
    println!("{}", serde_json::to_string(&point)?);
    Ok(0)
}

pub fn run(
    archs: &[Architecture],
    args: &BenchArgs,
    lengths: &[usize],
    threads: usize,
) -> anyhow::Result<i32> {
    let mut lengths = lengths.to_vec();
    lengths.sort_unstable();
    lengths.dedup();
    if let Some(&bad) = lengths.iter().find(|&&t| t == 0 || t > MAX_SEQ_LEN) {
        return Err(UsageError(format!(
            "--sweep-T {bad}: expected context lengths from 1 to {MAX_SEQ_LEN}"
        ))
        .into());
    }
    // A figure name that cannot be drawn is refused before an hour of points.
    if let Some(path) = &args.plot {
        Format::from_path(path).map_err(|e| UsageError(e.to_string()))?;
    }
    if !args.json {
        println!(
            "{:<14} {:>6} {:>10} {:>11} {:>9} {:>10} {:>12} {:>11} {:>11}",
            "arch",
            "T",
            "ms/token",
            "forward ms",
            "peak MiB",
            "model MiB",
            "FLOPs/token",
            "KV cache B",
            "SSM state B"
        );
    }
    let mut points = Vec::new();
    let mut failed = 0;
    for (arch, label) in archs.iter().zip(&args.arch) {
        for &t in &lengths {
            match measure(arch, label, t, args, threads) {
                Ok(p) => {
                    print_point(&p, args.json)?;
                    points.push(p);
                }
                Err(e) => {
                    failed += 1;
                    print_failure(label, t, &e, args.json);
                }
            }
        }
    }
    if !args.json {
        print_growth(&points, &args.arch);
    }
    if let Some(path) = &args.plot {
        draw(path, &points, &args.arch)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Runs one point in a child process: `nas --threads N bench --sweep-point T`
/// on the design's full short form.
fn measure(
    arch: &Architecture,
    label: &str,
    t: usize,
    args: &BenchArgs,
    threads: usize,
) -> anyhow::Result<SweepPoint> {
    let exe = std::env::current_exe().context("cannot find the nas binary to run a point")?;
    let forwards = args.steps.unwrap_or(DEFAULT_FORWARDS);
    let out = Command::new(exe)
        .args(["--threads", &threads.to_string(), "bench"])
        .args(["--sweep-point", &t.to_string()])
        .args(["--steps", &forwards.to_string()])
        .args(["--arch", &arch.short_form()])
        .output()
        .context("cannot start a point's process")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
        return Err(anyhow!("its process ended with {}: {last}", out.status));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let mut point: SweepPoint = serde_json::from_str(line.trim())
        .with_context(|| format!("a point printed what is not a point: {line}"))?;
    point.arch = label.to_string();
    Ok(point)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn print_point(p: &SweepPoint, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(p)?);
    } else {
        println!(
            "{:<14} {:>6} {:>10.4} {:>11.1} {:>9.1} {:>10.1} {:>12.3e} {:>11} {:>11}",
            p.arch,
            p.t,
            p.ms_per_token,
            p.forward_ms,
            mib(p.peak_bytes),
            mib(p.model_peak_bytes),
            p.flops_per_token,
            p.kv_cache_bytes,
            p.ssm_state_bytes
        );
    }
    Ok(())
}

fn print_failure(label: &str, t: usize, e: &anyhow::Error, json: bool) {
    if json {
        let v = serde_json::json!({ "arch": label, "T": t, "error": format!("{e:#}") });
        println!("{v}");
    } else {
        println!("{label:<14} {t:>6}  failed: {e:#}");
    }
}

/// Per design, how time per token and the model's peak grew from the
/// shortest measured T to the longest.
fn print_growth(points: &[SweepPoint], labels: &[String]) {
    for label in labels {
        let mine: Vec<&SweepPoint> = points.iter().filter(|p| &p.arch == label).collect();
        let (Some(first), Some(last)) = (mine.first(), mine.last()) else {
            continue;
        };
        if first.t == last.t {
            continue;
        }
        println!(
            "{label}: T {} -> {}: ms/token x{:.2}, model memory x{:.2}",
            first.t,
            last.t,
            last.ms_per_token / first.ms_per_token,
            mib(last.model_peak_bytes) / mib(first.model_peak_bytes).max(f64::MIN_POSITIVE),
        );
    }
}

fn draw(path: &Path, points: &[SweepPoint], labels: &[String]) -> anyhow::Result<()> {
    let series: Vec<plot::SweepSeries> = labels
        .iter()
        .map(|label| plot::SweepSeries {
            label: label.clone(),
            points: points
                .iter()
                .filter(|p| &p.arch == label)
                .map(|p| (p.t as f64, p.ms_per_token, mib(p.model_peak_bytes)))
                .collect(),
        })
        .collect();
    plot::draw_sweep(path, "Full forward at batch 1, by context length", &series)?;
    Ok(())
}
