//! The on-disk schema of a search space and its validation.
//!
//! The file is read into `Raw*` structs that keep every value's byte span
//! (`toml::Spanned`) and take integers as `i64`, so that a bad value is reported
//! by our own message at its line and column instead of serde's "expected usize".
//! Unknown keys are denied by serde; toml reports those at the key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::darts::{DartsSettings, RawDarts};
use super::mutate::{MutationOp, MutationWeights};
use super::{
    AttentionChoices, ModelChoices, Objective, Pattern, SearchSpace, SpaceError, SsmChoices,
    StrategyName, Task,
};
use crate::arch::{DEFAULT_MLP_RATIO, DEFAULT_SSM_EXPAND, DEFAULT_SSM_HEAD_DIM};
use crate::train::TrainConfig;

pub(super) type List<T> = Spanned<Vec<Spanned<T>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpace {
    name: Option<Spanned<String>>,
    objectives: List<String>,
    model: RawModel,
    attention: RawAttention,
    ssm: RawSsm,
    task: RawTask,
    training: RawTraining,
    search: RawSearch,
    // Kept as written for the strategies; only `mutation_weights` is read here
    // (through `WeightsView`, which keeps its spans).
    evolution: Option<toml::Value>,
    darts: Option<RawDarts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    depth: List<i64>,
    d_model: List<i64>,
    mlp_ratio: Option<List<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttention {
    ratio: List<f64>,
    pattern: List<String>,
    every: Option<List<i64>>,
    heads: List<i64>,
    window: Option<List<i64>>,
    shared: Option<List<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsm {
    state_dim: List<i64>,
    expand: Option<List<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    corpus: Option<Spanned<String>>,
    seq_len: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraining {
    steps: Spanned<i64>,
    batch_size: Spanned<i64>,
    lr: Spanned<f64>,
    weight_decay: Option<Spanned<f64>>,
    eval_interval: Option<Spanned<i64>>,
    eval_batches: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSearch {
    strategy: Spanned<String>,
    trials: Spanned<i64>,
    seed: Option<Spanned<i64>>,
}

/// A second, lenient view of the file: just the mutation weights, with spans.
#[derive(Deserialize)]
struct WeightsView {
    evolution: Option<EvolutionView>,
}

#[derive(Deserialize)]
struct EvolutionView {
    mutation_weights: Option<BTreeMap<Spanned<String>, Spanned<f64>>>,
}

/// Turns byte spans into `origin:line:column` errors.
pub(super) struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(super) fn invalid(
        &self,
        span: &Range<usize>,
        key: &str,
        problem: impl Into<String>,
        expected: impl Into<String>,
    ) -> SpaceError {
        let (line, column) = self.position(span.start);
        SpaceError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            key: key.to_string(),
            problem: problem.into(),
            expected: expected.into(),
        }
    }

    /// toml's own error at its span. Messages about keys are reworded to name
    /// the key with its table (`model.depht`); messages about a value get the
    /// key in front, since toml does not name it.
    fn toml(&self, err: toml::de::Error) -> SpaceError {
        let offset = err.span().map_or(0, |s| s.start).min(self.text.len());
        let (line, column) = self.position(offset);
        // toml splits some messages over lines ("invalid array\nexpected `]`").
        let raw: Vec<&str> = err
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let raw = raw
            .join(": ")
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number")
            .replace("expected a sequence", "expected a list `[...]`");
        let on_header = line_at(self.text, offset).trim_start().starts_with('[');
        let message = if let Some(rest) = raw.strip_prefix("unknown field `") {
            let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
            // An unknown `[table]` header is an unknown key of the top level.
            let table = if on_header {
                None
            } else {
                table_before(self.text, offset)
            };
            let expected = expected.trim_start_matches(", ").trim();
            let expected = if expected.is_empty() {
                String::new()
            } else {
                format!(" ({expected})")
            };
            format!("`{}`: unknown key{expected}", dotted(table, field))
        } else if let Some(rest) = raw.strip_prefix("missing field `") {
            let field = rest.trim_end_matches('`');
            let table = if TOP_LEVEL.contains(&field) {
                None
            } else {
                table_before(self.text, line_end(self.text, offset))
            };
            format!("`{}`: missing (expected this key)", dotted(table, field))
        } else {
            match key_of_value_at(self.text, offset) {
                Some(key) => format!("`{key}`: {raw}"),
                None => raw,
            }
        };
        SpaceError::Toml {
            origin: self.origin.to_string(),
            line,
            column,
            message,
        }
    }
}

/// Keys of the top level (tables included), to tell where a missing key belongs.
const TOP_LEVEL: &[&str] = &[
    "name",
    "objectives",
    "model",
    "attention",
    "ssm",
    "task",
    "training",
    "search",
    "evolution",
    "darts",
];

fn dotted(table: Option<String>, key: &str) -> String {
    match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    }
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, offset: usize) -> usize {
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

fn line_at(text: &str, offset: usize) -> &str {
    &text[line_start(text, offset)..line_end(text, offset)]
}

/// The name of the last `[table]` header that ends before `offset`.
fn table_before(text: &str, offset: usize) -> Option<String> {
    text[..offset].lines().rev().find_map(|l| {
        let inner = l.trim().strip_prefix('[')?.split(']').next()?;
        let name = inner.trim_start_matches('[').trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The dotted key (`table.key`) whose value starts on the line of `offset`,
/// when `offset` lies after that line's `=`.
fn key_of_value_at(text: &str, offset: usize) -> Option<String> {
    let start = line_start(text, offset);
    let (key, _) = text[start..offset].split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
        return None;
    }
    Some(dotted(table_before(text, start), key))
}

/// What is wrong with an integer under its lower bound.
fn below_min(n: i64) -> String {
    if n < 0 {
        format!("{n} is negative")
    } else {
        format!("{n} is too small")
    }
}

/// Validated choice lists keep each value's span for later cross-checks.
type Checked<T> = Vec<(T, Range<usize>)>;

fn values<T: Copy>(checked: &Checked<T>) -> Vec<T> {
    checked.iter().map(|(v, _)| *v).collect()
}

impl Ctx<'_> {
    /// A non-empty list of distinct integers, each at least `min`.
    pub(super) fn ints(
        &self,
        list: &List<i64>,
        key: &str,
        min: i64,
        what: &str,
    ) -> Result<Checked<usize>, SpaceError> {
        if list.get_ref().is_empty() {
            return Err(self.invalid(
                &list.span(),
                key,
                "the list is empty",
                format!("one or more {what}"),
            ));
        }
        let mut out: Checked<usize> = Vec::new();
        for item in list.get_ref() {
            let v = *item.get_ref();
            if v < min {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    below_min(v),
                    format!("{what} >= {min}"),
                ));
            }
            if out.iter().any(|(u, _)| *u as i64 == v) {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    format!("{v} is listed twice"),
                    "each choice once",
                ));
            }
            out.push((v as usize, item.span()));
        }
        Ok(out)
    }

    fn opt_ints(
        &self,
        list: &Option<List<i64>>,
        key: &str,
        min: i64,
        what: &str,
        default: usize,
    ) -> Result<Checked<usize>, SpaceError> {
        match list {
            Some(list) => self.ints(list, key, min, what),
            None => Ok(vec![(default, 0..0)]),
        }
    }

    /// An optional integer of at least `min` (`expected` says what is
    /// wanted), or `default` when the key is absent.
    pub(super) fn opt_at_least(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        expected: &str,
        default: usize,
    ) -> Result<usize, SpaceError> {
        let Some(v) = v else { return Ok(default) };
        let n = *v.get_ref();
        if n < min {
            return Err(self.invalid(&v.span(), key, below_min(n), expected));
        }
        Ok(n as usize)
    }

    fn positive(&self, v: &Spanned<i64>, key: &str, what: &str) -> Result<usize, SpaceError> {
        let n = *v.get_ref();
        if n <= 0 {
            return Err(self.invalid(
                &v.span(),
                key,
                format!("{n} is not positive"),
                format!("{what} >= 1"),
            ));
        }
        Ok(n as usize)
    }

    /// Values of a list of names, each parsed by `FromStr`, distinct.
    fn names<T: std::str::FromStr + PartialEq + Copy>(
        &self,
        list: &List<String>,
        key: &str,
        expected: &str,
    ) -> Result<Checked<T>, SpaceError> {
        if list.get_ref().is_empty() {
            return Err(self.invalid(&list.span(), key, "the list is empty", expected));
        }
        let mut out: Checked<T> = Vec::new();
        for item in list.get_ref() {
            let name = item.get_ref();
            let v: T = name.parse().map_err(|_| {
                self.invalid(
                    &item.span(),
                    key,
                    format!("unknown name `{name}`"),
                    expected,
                )
            })?;
            if out.iter().any(|(u, _)| *u == v) {
                return Err(self.invalid(
                    &item.span(),
                    key,
                    format!("`{name}` is listed twice"),
                    "each name once",
                ));
            }
            out.push((v, item.span()));
        }
        Ok(out)
    }
}

fn one_of<T: Copy>(all: &[T], name: impl Fn(&T) -> &'static str) -> String {
    let names: Vec<_> = all.iter().map(|v| format!("`{}`", name(v))).collect();
    format!("one of {}", names.join(", "))
}

pub(super) fn parse(text: &str, origin: &str) -> Result<SearchSpace, SpaceError> {
    let ctx = Ctx { text, origin };
    let raw: RawSpace = toml::from_str(text).map_err(|e| ctx.toml(e))?;
    let view: WeightsView = toml::from_str(text).map_err(|e| ctx.toml(e))?;

    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(ctx.invalid(
                &n.span(),
                "name",
                "the name is empty",
                "a short name for the space",
            ));
        }
        Some(n) => n.get_ref().clone(),
        None => Path::new(origin)
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| s.trim_start_matches("bundled:").to_string())
            .unwrap_or_else(|| origin.to_string()),
    };

    // Objectives: val_ppl first, then at least one distinct cost.
    let objectives_expected = format!(
        "`val_ppl` first, then costs from {}",
        one_of(&Objective::ALL[1..], |o| o.as_str())
    );
    let objectives: Checked<Objective> =
        ctx.names(&raw.objectives, "objectives", &objectives_expected)?;
    if objectives[0].0 != Objective::ValPpl {
        return Err(ctx.invalid(
            &objectives[0].1,
            "objectives",
            format!("the first objective is `{}`", objectives[0].0),
            objectives_expected,
        ));
    }
    if objectives.len() < 2 {
        return Err(ctx.invalid(
            &raw.objectives.span(),
            "objectives",
            "only one objective",
            format!("at least two: {objectives_expected}"),
        ));
    }

    // [model]
    let m = &raw.model;
    let depth = ctx.ints(&m.depth, "model.depth", 1, "layer counts")?;
    let d_model = ctx.ints(&m.d_model, "model.d_model", 1, "widths")?;
    let mlp_ratio = ctx.opt_ints(
        &m.mlp_ratio,
        "model.mlp_ratio",
        1,
        "MLP ratios",
        DEFAULT_MLP_RATIO,
    )?;

    // [attention]
    let a = &raw.attention;
    let ratio_expected = "`[min, max]` with 0 <= min <= max <= 1";
    let ratio = a.ratio.get_ref();
    if ratio.len() != 2 {
        return Err(ctx.invalid(
            &a.ratio.span(),
            "attention.ratio",
            format!("{} values", ratio.len()),
            ratio_expected,
        ));
    }
    for bound in ratio {
        let v = *bound.get_ref();
        if !(0.0..=1.0).contains(&v) {
            return Err(ctx.invalid(
                &bound.span(),
                "attention.ratio",
                format!("{v} lies outside [0, 1]"),
                ratio_expected,
            ));
        }
    }
    let (ratio_min, ratio_max) = (*ratio[0].get_ref(), *ratio[1].get_ref());
    if ratio_min > ratio_max {
        return Err(ctx.invalid(
            &a.ratio.span(),
            "attention.ratio",
            format!("min {ratio_min} is above max {ratio_max}"),
            ratio_expected,
        ));
    }
    let patterns: Checked<Pattern> = ctx.names(
        &a.pattern,
        "attention.pattern",
        &one_of(&Pattern::ALL, |p| p.as_str()),
    )?;
    let has_alternating = patterns.iter().any(|(p, _)| *p == Pattern::Alternating);
    let every = match (&a.every, has_alternating) {
        (Some(list), true) => ctx.ints(list, "attention.every", 1, "periods k")?,
        (None, true) => {
            let span = &patterns
                .iter()
                .find(|(p, _)| *p == Pattern::Alternating)
                .unwrap()
                .1;
            return Err(ctx.invalid(
                span,
                "attention.pattern",
                "`alternating` is listed but `attention.every` is missing",
                "`every = [k, ...]`: attention every k layers",
            ));
        }
        (Some(list), false) => {
            return Err(ctx.invalid(
                &list.span(),
                "attention.every",
                "given, but `alternating` is not among the patterns",
                "`every` only with `alternating` in `attention.pattern`",
            ));
        }
        (None, false) => Vec::new(),
    };
    let heads = ctx.ints(&a.heads, "attention.heads", 1, "head counts")?;
    let window = ctx.opt_ints(&a.window, "attention.window", 0, "windows", 0)?;
    let shared: Checked<bool> = match &a.shared {
        None => vec![(false, 0..0)],
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err(ctx.invalid(
                    &list.span(),
                    "attention.shared",
                    "the list is empty",
                    "`[false]`, `[true]` or `[false, true]`",
                ));
            }
            let mut out: Checked<bool> = Vec::new();
            for item in list.get_ref() {
                if out.iter().any(|(b, _)| b == item.get_ref()) {
                    return Err(ctx.invalid(
                        &item.span(),
                        "attention.shared",
                        format!("{} is listed twice", item.get_ref()),
                        "each choice once",
                    ));
                }
                out.push((*item.get_ref(), item.span()));
            }
            out
        }
    };
    for (h, span) in &heads {
        if let Some((d, _)) = d_model.iter().find(|(d, _)| d % h != 0) {
            return Err(ctx.invalid(
                span,
                "attention.heads",
                format!("{h} does not divide d_model {d}"),
                "heads that divide every d_model choice",
            ));
        }
    }

    // [ssm]
    let s = &raw.ssm;
    let state_dim = ctx.ints(&s.state_dim, "ssm.state_dim", 1, "state sizes")?;
    let expand = ctx.opt_ints(&s.expand, "ssm.expand", 1, "expansions", DEFAULT_SSM_EXPAND)?;
    let head = DEFAULT_SSM_HEAD_DIM;
    for (e, e_span) in &expand {
        if let Some((d, d_span)) = d_model.iter().find(|(d, _)| (e * d) % head != 0) {
            // Point at `expand` when the file gives it, else at the d_model choice.
            let (span, key) = if s.expand.is_some() {
                (e_span, "ssm.expand")
            } else {
                (d_span, "model.d_model")
            };
            return Err(ctx.invalid(
                span,
                key,
                format!(
                    "SSM inner width expand {e} x d_model {d} = {} is not a multiple of {head}",
                    e * d
                ),
                format!(
                    "expand * d_model a multiple of the SSM head width {head} for every choice"
                ),
            ));
        }
    }

    // [task]
    let seq_len = ctx.positive(&raw.task.seq_len, "task.seq_len", "a sequence length")?;
    let corpus = match &raw.task.corpus {
        Some(c) if c.get_ref().trim().is_empty() => {
            return Err(ctx.invalid(
                &c.span(),
                "task.corpus",
                "the path is empty",
                "a text file, or no `corpus` for the default corpus",
            ));
        }
        Some(c) => Some(PathBuf::from(c.get_ref())),
        None => None,
    };

    // [training]
    let t = &raw.training;
    let defaults = TrainConfig::default();
    let lr = *t.lr.get_ref();
    if !(lr.is_finite() && lr > 0.0) {
        return Err(ctx.invalid(
            &t.lr.span(),
            "training.lr",
            format!("{lr} is not positive"),
            "a learning rate > 0",
        ));
    }
    let weight_decay = match &t.weight_decay {
        Some(w) if !(w.get_ref().is_finite() && *w.get_ref() >= 0.0) => {
            return Err(ctx.invalid(
                &w.span(),
                "training.weight_decay",
                format!("{} is negative", w.get_ref()),
                "a weight decay >= 0",
            ));
        }
        Some(w) => *w.get_ref(),
        None => defaults.weight_decay,
    };
    let eval_interval = ctx.opt_at_least(
        &t.eval_interval,
        "training.eval_interval",
        0,
        "steps between evaluations >= 0 (0 = only at the end)",
        defaults.eval_interval,
    )?;
    let eval_batches = match &t.eval_batches {
        Some(v) => ctx.positive(v, "training.eval_batches", "validation batches")?,
        None => defaults.eval_batches,
    };
    let training = TrainConfig {
        steps: ctx.positive(&t.steps, "training.steps", "optimiser steps")?,
        batch_size: ctx.positive(&t.batch_size, "training.batch_size", "sequences per batch")?,
        seq_len,
        lr,
        weight_decay,
        eval_interval,
        eval_batches,
        seed: 0,
    };

    // [search]
    let strategy: StrategyName = raw.search.strategy.get_ref().parse().map_err(|_| {
        ctx.invalid(
            &raw.search.strategy.span(),
            "search.strategy",
            format!("unknown strategy `{}`", raw.search.strategy.get_ref()),
            one_of(&StrategyName::ALL, |s| s.as_str()),
        )
    })?;
    let trials = ctx.positive(&raw.search.trials, "search.trials", "a trial budget")?;
    let seed = ctx.opt_at_least(&raw.search.seed, "search.seed", 0, "a seed >= 0", 0)? as u64;

    let mutation_weights = mutation_weights(&ctx, &view)?;

    let space = SearchSpace {
        name,
        text: text.to_string(),
        origin: origin.to_string(),
        model: ModelChoices {
            depth: {
                let mut d = values(&depth);
                d.sort_unstable();
                d
            },
            d_model: values(&d_model),
            mlp_ratio: values(&mlp_ratio),
        },
        attention: AttentionChoices {
            ratio_min,
            ratio_max,
            patterns: values(&patterns),
            every: values(&every),
            heads: values(&heads),
            window: values(&window),
            shared: values(&shared),
        },
        ssm: SsmChoices {
            state_dim: values(&state_dim),
            expand: values(&expand),
        },
        task: Task { corpus, seq_len },
        training,
        objectives: values(&objectives),
        strategy,
        trials,
        seed,
        mutation_weights,
        evolution: raw.evolution,
        darts: DartsSettings::unset(),
    };
    let mut space = space;
    space.darts = DartsSettings::defaults(&space);
    space.darts = ctx.darts(&raw.darts.unwrap_or_default(), &space)?;

    // Placement: the ratio bounds must leave something to sample, and every
    // listed depth and pattern must be usable somewhere (a choice that can never
    // be drawn is a mistake in the file).
    let ratio_text = format!("[{ratio_min}, {ratio_max}]");
    if depth
        .iter()
        .all(|(d, _)| space.feasible_patterns(*d).is_empty())
    {
        return Err(ctx.invalid(
            &a.ratio.span(),
            "attention.ratio",
            format!("no depth and pattern choice gives an attention ratio within {ratio_text}"),
            "bounds that some depth/pattern combination can meet",
        ));
    }
    for (d, span) in &depth {
        if space.feasible_patterns(*d).is_empty() {
            return Err(ctx.invalid(
                span,
                "model.depth",
                format!(
                    "no pattern places attention layers at depth {d} within the ratio {ratio_text}"
                ),
                "depths where some pattern meets the ratio bounds",
            ));
        }
    }
    for (p, span) in &patterns {
        if depth.iter().all(|(d, _)| space.feasible(*p, *d).is_empty()) {
            let why = if *p == Pattern::Alternating {
                format!(
                    "no `every` choice {:?} gives an attention ratio within {ratio_text} at any depth",
                    space.attention.every
                )
            } else {
                format!("no depth choice admits an attention count within {ratio_text}")
            };
            return Err(ctx.invalid(
                span,
                "attention.pattern",
                format!("`{p}` can never be used: {why}"),
                "patterns that fit the ratio bounds at some depth",
            ));
        }
    }
    Ok(space)
}

fn mutation_weights(ctx: &Ctx<'_>, view: &WeightsView) -> Result<MutationWeights, SpaceError> {
    let mut weights = MutationWeights::default();
    let Some(given) = view
        .evolution
        .as_ref()
        .and_then(|e| e.mutation_weights.as_ref())
    else {
        return Ok(weights);
    };
    let key = "evolution.mutation_weights";
    let expected_ops = one_of(&MutationOp::ALL, |o| o.as_str());
    for (name, w) in given {
        let op: MutationOp = name.get_ref().parse().map_err(|_| {
            ctx.invalid(
                &name.span(),
                key,
                format!("unknown mutation `{}`", name.get_ref()),
                expected_ops.clone(),
            )
        })?;
        let v = *w.get_ref();
        if !(v.is_finite() && v >= 0.0) {
            return Err(ctx.invalid(
                &w.span(),
                key,
                format!("weight {v} for `{op}` is negative"),
                "weights >= 0",
            ));
        }
        weights.set(op, v);
    }
    if weights.total() <= 0.0 {
        let span = given.keys().next().map_or(0..0, |k| k.span());
        return Err(ctx.invalid(
            &span,
            key,
            "every weight is zero",
            "at least one positive weight",
        ));
    }
    Ok(weights)
}
