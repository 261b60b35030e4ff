//! Drawing, checking and mutating architectures inside a [`SearchSpace`].
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

/// Tries of [`SearchSpace::mutate`] before it falls back to a fresh sample.
const MUTATION_ATTEMPTS: usize = 64;
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

/// One kind of random change to an architecture (see [`SearchSpace::mutate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MutationOp {
    /// Turn one layer from attention to SSM or back (under a fixed pattern:
    /// one attention layer more or fewer, re-placed by the pattern).
    Flip,
    Heads,
    Window,
    StateDim,
    Expand,
    /// Toggle shared attention weights.
    Shared,
    /// Move an attention layer (under a fixed pattern: re-place all of them by
    /// another allowed placement with the same count).
    Move,
    /// Step to the next smaller or larger depth choice.
    Depth,
    DModel,
    MlpRatio,
}

impl MutationOp {
    pub const ALL: [MutationOp; 10] = [
        MutationOp::Flip,
        MutationOp::Heads,
        MutationOp::Window,
        MutationOp::StateDim,
        MutationOp::Expand,
        MutationOp::Shared,
        MutationOp::Move,
        MutationOp::Depth,
        MutationOp::DModel,
        MutationOp::MlpRatio,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MutationOp::Flip => "flip",
            MutationOp::Heads => "heads",
            MutationOp::Window => "window",
            MutationOp::StateDim => "state_dim",
            MutationOp::Expand => "expand",
            MutationOp::Shared => "shared",
            MutationOp::Move => "move",
            MutationOp::Depth => "depth",
            MutationOp::DModel => "d_model",
            MutationOp::MlpRatio => "mlp_ratio",
        }
    }

    fn index(self) -> usize {
        MutationOp::ALL
            .iter()
            .position(|o| *o == self)
            .expect("in ALL")
    }
}

/// Relative probabilities of the mutation kinds; all 1 unless the space says
/// otherwise in `[evolution] mutation_weights`.
#[derive(Clone, Debug, PartialEq)]
pub struct MutationWeights {
    weights: [f64; MutationOp::ALL.len()],
}

impl Default for MutationWeights {
    fn default() -> Self {
        MutationWeights {
            weights: [1.0; MutationOp::ALL.len()],
        }
    }
}

impl MutationWeights {
    pub fn get(&self, op: MutationOp) -> f64 {
        self.weights[op.index()]
    }

    pub fn set(&mut self, op: MutationOp, weight: f64) {
        self.weights[op.index()] = weight;
    }

    pub fn total(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// A kind drawn in proportion to its weight (never one of weight 0).
    pub fn choose(&self, rng: &mut impl Rng) -> MutationOp {
        let mut r = rng.random::<f64>() * self.total();
        let mut last = MutationOp::Flip;
        for op in MutationOp::ALL {
            let w = self.get(op);
            if w <= 0.0 {
                continue;
            }
            last = op;
            if r < w {
                return op;
            }
            r -= w;
        }
        last
    }
}

/// A different element of `choices`, if there is one.
fn other<T: Copy + PartialEq>(choices: &[T], current: T, rng: &mut impl Rng) -> Option<T> {
    let rest: Vec<T> = choices.iter().copied().filter(|c| *c != current).collect();
    rest.choose(rng).copied()
}

fn mask_of(arch: &Architecture) -> Vec<bool> {
    arch.layers.iter().map(Layer::is_attention).collect()
}

fn is_shared(arch: &Architecture) -> bool {
    arch.layers
        .iter()
        .any(|l| matches!(l, Layer::Attention { shared: true, .. }))
}

/// Heads and window of every attention layer, in order.
fn attention_settings(arch: &Architecture) -> Vec<(usize, usize)> {
    arch.layers
        .iter()
        .filter_map(|l| match *l {
            Layer::Attention { heads, window, .. } => Some((heads, window)),
            Layer::Ssm { .. } => None,
        })
        .collect()
}

/// State dim and expand of every SSM layer, in order.
fn ssm_settings(arch: &Architecture) -> Vec<(usize, usize)> {
    arch.layers
        .iter()
        .filter_map(|l| match *l {
            Layer::Ssm { state_dim, expand } => Some((state_dim, expand)),
            Layer::Attention { .. } => None,
        })
        .collect()
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
        let shared = if n >= 2 {
            *self
                .attention
                .shared
                .choose(rng)
                .expect("validated non-empty")
        } else {
            self.canonical_shared()
        };
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
            layers: self.fill(&mask, &[], &[], shared, rng),
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
    fn canonical_shared(&self) -> bool {
        !self.attention.shared.contains(&false)
    }

    fn draw_attention(&self, rng: &mut impl Rng) -> (usize, usize) {
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

    fn draw_ssm(&self, rng: &mut impl Rng) -> (usize, usize) {
        (
            *self.ssm.state_dim.choose(rng).expect("validated non-empty"),
            *self.ssm.expand.choose(rng).expect("validated non-empty"),
        )
    }

    /// Layers for `mask`, reusing the given attention and SSM settings in order
    /// and drawing any that run short. Shared attention takes one setting for all.
    fn fill(
        &self,
        mask: &[bool],
        attention: &[(usize, usize)],
        ssm: &[(usize, usize)],
        shared: bool,
        rng: &mut impl Rng,
    ) -> Vec<Layer> {
        let one = if shared {
            Some(match attention.first() {
                Some(&s) => s,
                None => self.draw_attention(rng),
            })
        } else {
            None
        };
        let (mut attention, mut ssm) = (attention.iter(), ssm.iter());
        mask.iter()
            .map(|&is_attention| {
                if is_attention {
                    let (heads, window) = match one.or_else(|| attention.next().copied()) {
                        Some(s) => s,
                        None => self.draw_attention(rng),
                    };
                    Layer::Attention {
                        heads,
                        window,
                        shared,
                    }
                } else {
                    let (state_dim, expand) = match ssm.next() {
                        Some(&s) => s,
                        None => self.draw_ssm(rng),
                    };
                    Layer::Ssm { state_dim, expand }
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
            choice("shared", shared, &self.attention.shared)?;
            if shared && settings.iter().any(|s| *s != settings[0]) {
                return Err("shared attention layers differ in heads or window".into());
            }
        }
        for (i, layer) in arch.layers.iter().enumerate() {
            match *layer {
                Layer::Attention { heads, window, .. } => {
                    choice(&format!("layer {i}: heads"), heads, &self.attention.heads)?;
                    choice(
                        &format!("layer {i}: window"),
                        window,
                        &self.attention.window,
                    )?;
                }
                Layer::Ssm { state_dim, expand } => {
                    choice(
                        &format!("layer {i}: state_dim"),
                        state_dim,
                        &self.ssm.state_dim,
                    )?;
                    choice(&format!("layer {i}: expand"), expand, &self.ssm.expand)?;
                }
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

    /// One random change that stays in the space: a kind drawn by the mutation
    /// weights, retried on failure; after [`MUTATION_ATTEMPTS`] failures (a
    /// space too small to change in place, or `arch` outside the space) a fresh
    /// sample, different from `arch` when the space allows.
    pub fn mutate(&self, arch: &Architecture, rng: &mut impl Rng) -> Architecture {
        if self.check(arch).is_ok() {
            for _ in 0..MUTATION_ATTEMPTS {
                let op = self.mutation_weights.choose(rng);
                if let Some(mut child) = self.apply(op, arch, rng) {
                    self.normalise_shared(&mut child);
                    if child != *arch && self.check(&child).is_ok() {
                        return child;
                    }
                }
            }
        }
        let mut child = self.sample(rng);
        child.vocab_size = arch.vocab_size;
        for _ in 0..MUTATION_ATTEMPTS {
            if child != *arch {
                break;
            }
            child = self.sample(rng);
            child.vocab_size = arch.vocab_size;
        }
        child
    }

    /// See [`SearchSpace::canonical_shared`].
    fn normalise_shared(&self, arch: &mut Architecture) {
        if attention_settings(arch).len() <= 1 {
            let canonical = self.canonical_shared();
            for layer in &mut arch.layers {
                if let Layer::Attention { shared, .. } = layer {
                    *shared = canonical;
                }
            }
        }
    }

    /// The same attention and SSM settings, placed by `mask`.
    fn replace(&self, arch: &Architecture, mask: &[bool], rng: &mut impl Rng) -> Architecture {
        let shared = if attention_settings(arch).is_empty() {
            self.canonical_shared()
        } else {
            is_shared(arch)
        };
        let layers = self.fill(
            mask,
            &attention_settings(arch),
            &ssm_settings(arch),
            shared,
            rng,
        );
        Architecture {
            layers,
            ..arch.clone()
        }
    }

    /// A new attention layer for `arch`: a copy of its shared one if it shares.
    fn new_attention(&self, arch: &Architecture, rng: &mut impl Rng) -> Layer {
        if let Some(l) = arch
            .layers
            .iter()
            .find(|l| matches!(l, Layer::Attention { shared: true, .. }))
        {
            return *l;
        }
        let (heads, window) = self.draw_attention(rng);
        let shared = attention_settings(arch).is_empty() && self.canonical_shared();
        Layer::Attention {
            heads,
            window,
            shared,
        }
    }

    fn new_ssm(&self, rng: &mut impl Rng) -> Layer {
        let (state_dim, expand) = self.draw_ssm(rng);
        Layer::Ssm { state_dim, expand }
    }

    /// One attempt at `op`; `None` when it does not apply to `arch`. The result
    /// may still fall outside the space; the caller checks.
    fn apply(
        &self,
        op: MutationOp,
        arch: &Architecture,
        rng: &mut impl Rng,
    ) -> Option<Architecture> {
        let depth = arch.layers.len();
        let attention: Vec<usize> = (0..depth)
            .filter(|&i| arch.layers[i].is_attention())
            .collect();
        let ssm: Vec<usize> = (0..depth)
            .filter(|&i| !arch.layers[i].is_attention())
            .collect();
        let shared = is_shared(arch);
        let mut child = arch.clone();
        match op {
            MutationOp::Heads | MutationOp::Window => {
                let &i = attention.choose(rng)?;
                let Layer::Attention { heads, window, .. } = arch.layers[i] else {
                    unreachable!("an attention index")
                };
                let (heads, window) = if op == MutationOp::Heads {
                    (other(&self.attention.heads, heads, rng)?, window)
                } else {
                    (heads, other(&self.attention.window, window, rng)?)
                };
                // Shared layers have one setting: change them together.
                let targets = if shared { attention.clone() } else { vec![i] };
                for t in targets {
                    child.layers[t] = Layer::Attention {
                        heads,
                        window,
                        shared,
                    };
                }
            }
            MutationOp::StateDim | MutationOp::Expand => {
                let &i = ssm.choose(rng)?;
                let Layer::Ssm { state_dim, expand } = arch.layers[i] else {
                    unreachable!("an SSM index")
                };
                child.layers[i] = if op == MutationOp::StateDim {
                    Layer::Ssm {
                        state_dim: other(&self.ssm.state_dim, state_dim, rng)?,
                        expand,
                    }
                } else {
                    Layer::Ssm {
                        state_dim,
                        expand: other(&self.ssm.expand, expand, rng)?,
                    }
                };
            }
            MutationOp::Shared => {
                if attention.len() < 2 || !self.attention.shared.contains(&!shared) {
                    return None;
                }
                // Turning sharing on: every attention layer takes one layer's setting.
                let &source = attention.choose(rng)?;
                let Layer::Attention { heads, window, .. } = arch.layers[source] else {
                    unreachable!("an attention index")
                };
                for &t in &attention {
                    child.layers[t] = match arch.layers[t] {
                        Layer::Attention { .. } if !shared => Layer::Attention {
                            heads,
                            window,
                            shared: true,
                        },
                        Layer::Attention { heads, window, .. } => Layer::Attention {
                            heads,
                            window,
                            shared: false,
                        },
                        l => l,
                    };
                }
            }
            MutationOp::DModel => child.d_model = other(&self.model.d_model, arch.d_model, rng)?,
            MutationOp::MlpRatio => {
                child.mlp_ratio = other(&self.model.mlp_ratio, arch.mlp_ratio, rng)?
            }
            MutationOp::Flip => match *self.placements_of(arch).choose(rng)? {
                Placement::Free(_) => {
                    let i = rng.random_range(0..depth);
                    child.layers[i] = if arch.layers[i].is_attention() {
                        self.new_ssm(rng)
                    } else {
                        self.new_attention(arch, rng)
                    };
                }
                Placement::Alternating { every } => {
                    let periods: Vec<usize> = self
                        .feasible(Pattern::Alternating, depth)
                        .iter()
                        .map(|p| match p {
                            Placement::Alternating { every } => *every,
                            _ => unreachable!("alternating placements"),
                        })
                        .filter(|&k| depth / k != depth / every)
                        .collect();
                    let &k = periods.choose(rng)?;
                    let mask = Placement::Alternating { every: k }.mask(depth)?;
                    child = self.replace(arch, &mask, rng);
                }
                placement => {
                    let n = attention.len();
                    let counts = self.attention_counts(depth)?;
                    let options: Vec<usize> = [n.checked_sub(1), Some(n + 1)]
                        .into_iter()
                        .flatten()
                        .filter(|m| counts.contains(m))
                        .collect();
                    let &m = options.choose(rng)?;
                    let mask = Placement::with_count(placement.pattern(), m).mask(depth)?;
                    child = self.replace(arch, &mask, rng);
                }
            },
            MutationOp::Move => match *self.placements_of(arch).choose(rng)? {
                Placement::Free(_) => {
                    let (&i, &j) = (attention.choose(rng)?, ssm.choose(rng)?);
                    child.layers.swap(i, j);
                }
                _ => {
                    // Another fixed placement of the same number of layers.
                    let current = mask_of(arch);
                    let masks: Vec<Vec<bool>> = self
                        .attention
                        .patterns
                        .iter()
                        .flat_map(|&p| self.feasible(p, depth))
                        .filter(|pl| pl.count(depth) == attention.len())
                        .filter_map(|pl| pl.mask(depth))
                        .filter(|m| *m != current)
                        .collect();
                    let mask = masks.choose(rng)?;
                    child = self.replace(arch, mask, rng);
                }
            },
            MutationOp::Depth => {
                let at = self.model.depth.iter().position(|&d| d == depth)?;
                let neighbours: Vec<usize> = [at.checked_sub(1), Some(at + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| self.model.depth.get(j).copied())
                    .collect();
                let &new_depth = neighbours.choose(rng)?;
                match *self.placements_of(arch).choose(rng)? {
                    Placement::Free(_) => {
                        while child.layers.len() > new_depth {
                            child.layers.remove(rng.random_range(0..child.layers.len()));
                        }
                        while child.layers.len() < new_depth {
                            let layer = if rng.random_bool(0.5) {
                                self.new_attention(&child, rng)
                            } else {
                                self.new_ssm(rng)
                            };
                            child
                                .layers
                                .insert(rng.random_range(0..=child.layers.len()), layer);
                        }
                    }
                    Placement::Alternating { every } => {
                        let mask = Placement::Alternating { every }.mask(new_depth)?;
                        child = self.replace(arch, &mask, rng);
                    }
                    placement => {
                        // Keep the attention ratio as near as the bounds allow.
                        let counts = self.attention_counts(new_depth)?;
                        let scaled = (attention.len() * new_depth) as f64 / depth as f64;
                        let n = (scaled.round() as usize).clamp(*counts.start(), *counts.end());
                        let mask = Placement::with_count(placement.pattern(), n).mask(new_depth)?;
                        child = self.replace(arch, &mask, rng);
                    }
                }
            }
        }
        Some(child)
    }
}
