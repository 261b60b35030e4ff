//! Drawing and checking architectures inside a [`SearchSpace`] (mutation is
//! in `mutate.rs`).
//!
//! Where attention goes is described by a [`Placement`]: a pattern with its
//! parameter (the period k for `alternating`, the attention count otherwise).
//! Every pattern but `free` fixes the positions completely, so an architecture
//! lies in the space when its attention mask equals the mask of some allowed
//! placement (or any mask with an allowed count, under `free`).

use std::ops::RangeInclusive;

use rand::seq::IndexedRandom;
use rand::Rng;

use super::{Pattern, SearchSpace};
use crate::arch::{Architecture, Layer, DEFAULT_SSM_HEAD_DIM};

/// Draws of [`SearchSpace::sample`] before it gives up (validation makes every
/// draw valid; this only bounds a bug).
const SAMPLE_ATTEMPTS: usize = 1000;
/// Slack when turning ratio bounds into layer counts (0.3 * 10 is 3.0000000000000004).
const RATIO_EPS: f64 = 1e-9;

/// One concrete way to place attention layers in a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Attention at layers k-1, 2k-1, ...: `depth / k` of them.
    Alternating {
        every: usize,
    },
    ClusteredFirst(usize),
    ClusteredLast(usize),
    ClusteredMiddle(usize),
    Uniform(usize),
    /// This many attention layers anywhere.
    Free(usize),
}

impl Placement {
    /// The placement of `n` attention layers by a pattern other than `alternating`
    /// (for `alternating`, `n` is taken as the period).
    pub fn with_count(pattern: Pattern, n: usize) -> Placement {
        match pattern {
            Pattern::Alternating => Placement::Alternating { every: n },
            Pattern::ClusteredFirst => Placement::ClusteredFirst(n),
            Pattern::ClusteredLast => Placement::ClusteredLast(n),
            Pattern::ClusteredMiddle => Placement::ClusteredMiddle(n),
            Pattern::Uniform => Placement::Uniform(n),
            Pattern::Free => Placement::Free(n),
        }
    }

    pub fn pattern(&self) -> Pattern {
        match self {
            Placement::Alternating { .. } => Pattern::Alternating,
            Placement::ClusteredFirst(_) => Pattern::ClusteredFirst,
            Placement::ClusteredLast(_) => Pattern::ClusteredLast,
            Placement::ClusteredMiddle(_) => Pattern::ClusteredMiddle,
            Placement::Uniform(_) => Pattern::Uniform,
            Placement::Free(_) => Pattern::Free,
        }
    }

    /// Attention layers in a stack of `depth`.
    pub fn count(&self, depth: usize) -> usize {
        match *self {
            Placement::Alternating { every } => depth / every.max(1),
            Placement::ClusteredFirst(n)
            | Placement::ClusteredLast(n)
            | Placement::ClusteredMiddle(n)
            | Placement::Uniform(n)
            | Placement::Free(n) => n.min(depth),
        }
    }

    /// Which layers are attention, or `None` under `free` (any positions).
    pub fn mask(&self, depth: usize) -> Option<Vec<bool>> {
        let n = self.count(depth);
        let mut mask = vec![false; depth];
        match *self {
            Placement::Alternating { every } => {
                for (i, m) in mask.iter_mut().enumerate() {
                    *m = i % every == every - 1;
                }
            }
            Placement::ClusteredFirst(_) => mask[..n].fill(true),
            Placement::ClusteredLast(_) => mask[depth - n..].fill(true),
            Placement::ClusteredMiddle(_) => {
                let start = (depth - n) / 2;
                mask[start..start + n].fill(true);
            }
            Placement::Uniform(_) => {
                // Centres of n equal slices; they are distinct since depth / n >= 1.
                for j in 0..n {
                    mask[(2 * j + 1) * depth / (2 * n)] = true;
                }
            }
            Placement::Free(_) => return None,
        }
        Some(mask)
    }
}

/// A different element of `choices`, if there is one.
pub(super) fn other<T: Copy + PartialEq>(
    choices: &[T],
    current: T,
    rng: &mut impl Rng,
) -> Option<T> {
    let rest: Vec<T> = choices.iter().copied().filter(|c| *c != current).collect();
    rest.choose(rng).copied()
}

pub(super) fn mask_of(arch: &Architecture) -> Vec<bool> {
    arch.layers.iter().map(Layer::is_attention).collect()
}

pub(super) fn is_shared(arch: &Architecture) -> bool {
    arch.layers
        .iter()
        .any(|l| matches!(l, Layer::Attention { shared: true, .. }))
}

/// Whether the design's attending layers are parallel layers.
pub(super) fn is_parallel(arch: &Architecture) -> bool {
    arch.layers
        .iter()
        .any(|l| matches!(l, Layer::Parallel { .. }))
}

/// Heads and window of every attending layer (attention or parallel), in order.
pub(super) fn attention_settings(arch: &Architecture) -> Vec<(usize, usize)> {
    arch.layers
        .iter()
        .filter_map(Layer::attention_part)
        .collect()
}

/// State dim and expand of every layer with an SSM (SSM or parallel), in order.
pub(super) fn ssm_settings(arch: &Architecture) -> Vec<(usize, usize)> {
    arch.layers.iter().filter_map(Layer::ssm_part).collect()
}

/// How a design's attending layers are built: shared attention, plain
/// attention, or parallel layers (never shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Attending {
    pub shared: bool,
    pub parallel: bool,
}

impl Attending {
    pub(super) fn of(arch: &Architecture) -> Attending {
        Attending {
            shared: is_shared(arch),
            parallel: is_parallel(arch),
        }
    }
}

impl SearchSpace {
    /// The attention counts the ratio bounds allow at `depth`, if any.
    pub fn attention_counts(&self, depth: usize) -> Option<RangeInclusive<usize>> {
        let d = depth as f64;
        let lo = (self.attention.ratio_min * d - RATIO_EPS).ceil().max(0.0) as usize;
        let hi = ((self.attention.ratio_max * d + RATIO_EPS).floor() as usize).min(depth);
        (lo <= hi).then_some(lo..=hi)
    }

    /// The placements of `pattern` at `depth` that meet the ratio bounds (none
    /// when the pattern is not allowed).
    pub fn feasible(&self, pattern: Pattern, depth: usize) -> Vec<Placement> {
        let Some(counts) = self.attention_counts(depth) else {
            return Vec::new();
        };
        if !self.attention.patterns.contains(&pattern) {
            return Vec::new();
        }
        match pattern {
            Pattern::Alternating => self
                .attention
                .every
                .iter()
                .map(|&every| Placement::Alternating { every })
                .filter(|p| counts.contains(&p.count(depth)))
                .collect(),
            _ => counts.map(|n| Placement::with_count(pattern, n)).collect(),
        }
    }

    /// The allowed patterns with at least one placement at `depth`.
    pub fn feasible_patterns(&self, depth: usize) -> Vec<Pattern> {
        self.attention
            .patterns
            .iter()
            .copied()
            .filter(|p| !self.feasible(*p, depth).is_empty())
            .collect()
    }

    /// The allowed placements that put attention exactly where `arch` has it.
    pub fn placements_of(&self, arch: &Architecture) -> Vec<Placement> {
        let depth = arch.layers.len();
        let mask = mask_of(arch);
        let n = mask.iter().filter(|&&a| a).count();
        self.attention
            .patterns
            .iter()
            .flat_map(|&p| self.feasible(p, depth))
            .filter(|pl| pl.count(depth) == n)
            .filter(|pl| pl.mask(depth).is_none_or(|m| m == mask))
            .collect()
    }

    /// A random architecture of the space: depth, d_model, pattern, then the
    /// attention count (or period), positions, and the settings of each layer.
    pub fn sample(&self, rng: &mut impl Rng) -> Architecture {
        for _ in 0..SAMPLE_ATTEMPTS {
            let arch = self.draw(rng);
            if self.check(&arch).is_ok() {
                return arch;
            }
        }
        panic!(
            "search space `{}` gave no valid architecture in {SAMPLE_ATTEMPTS} draws; \
             its validation missed a case",
            self.name
        );
    }

    fn draw(&self, rng: &mut impl Rng) -> Architecture {
        let depths: Vec<usize> = self
            .model
            .depth
            .iter()
            .copied()
            .filter(|&d| !self.feasible_patterns(d).is_empty())
            .collect();
        // Validation guarantees a feasible depth; an empty list only yields an
        // invalid draw that `sample` rejects.
        let depth = depths.choose(rng).copied().unwrap_or(0);
        let d_model = *self.model.d_model.choose(rng).expect("validated non-empty");
        let mask = match self.feasible_patterns(depth).choose(rng) {
            Some(&pattern) => {
                let placement = *self.feasible(pattern, depth).choose(rng).expect("feasible");
                self.realise(placement, depth, rng)
            }
            None => Vec::new(),
        };
        let n = mask.iter().filter(|&&a| a).count();
        let attending = self.draw_attending(n, rng);
        Architecture {
            d_model,
            vocab_size: 0,
            mlp_ratio: *self
                .model
                .mlp_ratio
                .choose(rng)
                .expect("validated non-empty"),
            ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
            rope: false,
            layers: self.fill(&mask, &[], &[], attending, rng),
        }
    }

    /// The mask of a placement; under `free`, random positions.
    fn realise(&self, placement: Placement, depth: usize, rng: &mut impl Rng) -> Vec<bool> {
        placement.mask(depth).unwrap_or_else(|| {
            let mut mask = vec![false; depth];
            for i in rand::seq::index::sample(rng, depth, placement.count(depth)) {
                mask[i] = true;
            }
            mask
        })
    }

    /// Sharing means nothing with fewer than two attention layers; such designs
    /// are written unshared (when the space allows it) so that equal models
    /// have equal short forms.
    pub fn canonical_shared(&self) -> bool {
        !self.attention.shared.contains(&false)
    }

    /// Parallel or not, then shared or not, for a design with `n` attending
    /// layers. The parallel choice is drawn only when the space offers one,
    /// so spaces without it draw what they drew before it existed.
    fn draw_attending(&self, n: usize, rng: &mut impl Rng) -> Attending {
        let parallel = match self.attention.parallel[..] {
            [only] => only,
            _ if n == 0 => false,
            _ => *self
                .attention
                .parallel
                .choose(rng)
                .expect("validated non-empty"),
        };
        let shared = if parallel {
            false
        } else if n >= 2 {
            *self
                .attention
                .shared
                .choose(rng)
                .expect("validated non-empty")
        } else {
            self.canonical_shared()
        };
        Attending { shared, parallel }
    }

    pub(super) fn draw_attention(&self, rng: &mut impl Rng) -> (usize, usize) {
        (
            *self
                .attention
                .heads
                .choose(rng)
                .expect("validated non-empty"),
            *self
                .attention
                .window
                .choose(rng)
                .expect("validated non-empty"),
        )
    }

    pub(super) fn draw_ssm(&self, rng: &mut impl Rng) -> (usize, usize) {
        (
            *self.ssm.state_dim.choose(rng).expect("validated non-empty"),
            *self.ssm.expand.choose(rng).expect("validated non-empty"),
        )
    }

    /// Layers for `mask`, reusing the given attention and SSM settings in order
    /// and drawing any that run short. Shared attention takes one setting for
    /// all; a parallel layer takes an attention setting and an SSM setting.
    pub(super) fn fill(
        &self,
        mask: &[bool],
        attention: &[(usize, usize)],
        ssm: &[(usize, usize)],
        attending: Attending,
        rng: &mut impl Rng,
    ) -> Vec<Layer> {
        let one = if attending.shared {
            Some(match attention.first() {
                Some(&s) => s,
                None => self.draw_attention(rng),
            })
        } else {
            None
        };
        let (mut attention, mut ssm) = (attention.iter(), ssm.iter());
        let mut next_ssm = |rng: &mut _| match ssm.next() {
            Some(&s) => s,
            None => self.draw_ssm(rng),
        };
        mask.iter()
            .map(|&is_attention| {
                if !is_attention {
                    let (state_dim, expand) = next_ssm(rng);
                    return Layer::Ssm { state_dim, expand };
                }
                let (heads, window) = match one.or_else(|| attention.next().copied()) {
                    Some(s) => s,
                    None => self.draw_attention(rng),
                };
                if attending.parallel {
                    let (state_dim, expand) = next_ssm(rng);
                    Layer::Parallel {
                        heads,
                        window,
                        state_dim,
                        expand,
                    }
                } else {
                    Layer::Attention {
                        heads,
                        window,
                        shared: attending.shared,
                    }
                }
            })
            .collect()
    }

    /// `Ok` when `arch` lies in the space, else the first reason it does not.
    /// The vocabulary size is not part of the space and is ignored.
    pub fn check(&self, arch: &Architecture) -> Result<(), String> {
        arch.validate().map_err(|e| e.to_string())?;
        fn choice<T: PartialEq + std::fmt::Debug>(
            what: &str,
            v: T,
            choices: &[T],
        ) -> Result<(), String> {
            if choices.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{what} {v:?} is not a choice of the space ({choices:?})"
                ))
            }
        }
        if arch.ssm_head_dim != DEFAULT_SSM_HEAD_DIM {
            return Err(format!(
                "ssm_head_dim {} is not the space's {DEFAULT_SSM_HEAD_DIM}",
                arch.ssm_head_dim
            ));
        }
        if arch.rope {
            return Err("rotary position embedding is not part of the space".into());
        }
        let depth = arch.layers.len();
        choice("depth", depth, &self.model.depth)?;
        choice("d_model", arch.d_model, &self.model.d_model)?;
        choice("mlp_ratio", arch.mlp_ratio, &self.model.mlp_ratio)?;

        let settings = attention_settings(arch);
        let n = settings.len();
        let shared = is_shared(arch);
        if n > 0 {
            let all = arch
                .layers
                .iter()
                .all(|l| !matches!(l, Layer::Attention { shared: false, .. }));
            if shared && !all {
                return Err("some attention layers share weights and others do not".into());
            }
            let parallel = is_parallel(arch);
            if parallel
                && arch
                    .layers
                    .iter()
                    .any(|l| matches!(l, Layer::Attention { .. }))
            {
                return Err("some attending layers are parallel and others are attention".into());
            }
            choice("parallel", parallel, &self.attention.parallel)?;
            // Parallel layers are never shared, whatever `shared` allows.
            if !parallel {
                choice("shared", shared, &self.attention.shared)?;
            }
            if shared && settings.iter().any(|s| *s != settings[0]) {
                return Err("shared attention layers differ in heads or window".into());
            }
        }
        for (i, layer) in arch.layers.iter().enumerate() {
            if let Some((heads, window)) = layer.attention_part() {
                choice(&format!("layer {i}: heads"), heads, &self.attention.heads)?;
                choice(
                    &format!("layer {i}: window"),
                    window,
                    &self.attention.window,
                )?;
            }
            if let Some((state_dim, expand)) = layer.ssm_part() {
                choice(
                    &format!("layer {i}: state_dim"),
                    state_dim,
                    &self.ssm.state_dim,
                )?;
                choice(&format!("layer {i}: expand"), expand, &self.ssm.expand)?;
            }
        }

        let (lo, hi) = (self.attention.ratio_min, self.attention.ratio_max);
        if !self.attention_counts(depth).is_some_and(|c| c.contains(&n)) {
            return Err(format!(
                "{n} attention layers of {depth} (ratio {:.3}) is outside the ratio bounds [{lo}, {hi}]",
                arch.attention_ratio()
            ));
        }
        if self.placements_of(arch).is_empty() {
            let at: Vec<usize> = (0..depth)
                .filter(|&i| arch.layers[i].is_attention())
                .collect();
            let patterns: Vec<&str> = self.attention.patterns.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "attention at layers {at:?} of {depth} follows none of the patterns {patterns:?} \
                 (alternating every {:?})",
                self.attention.every
            ));
        }
        Ok(())
    }
}
