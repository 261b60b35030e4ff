//! Mutation of architectures inside a [`SearchSpace`], for aging evolution
//! (Real et al.): one small random change per child, drawn by weight.

use rand::seq::IndexedRandom;
use rand::Rng;

use super::sample::{
    attention_settings, is_parallel, is_shared, mask_of, other, ssm_settings, Attending, Placement,
};
use super::{Pattern, SearchSpace};
use crate::arch::{Architecture, Layer};

/// Tries of [`SearchSpace::mutate`] before it falls back to a fresh sample.
const MUTATION_ATTEMPTS: usize = 64;

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
    /// Turn every attention layer into a parallel layer or back (drawn only
    /// in spaces that offer both).
    Parallel,
}

impl MutationOp {
    pub const ALL: [MutationOp; 11] = [
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
        MutationOp::Parallel,
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
            MutationOp::Parallel => "parallel",
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

    /// A kind drawn in proportion to its weight among those `offered` (never
    /// one of weight 0). A kind not offered takes no share, so a space
    /// without a choice draws the same kinds as before that choice existed.
    pub fn choose(&self, offered: impl Fn(MutationOp) -> bool, rng: &mut impl Rng) -> MutationOp {
        let weight = |op: MutationOp| if offered(op) { self.get(op) } else { 0.0 };
        let total: f64 = MutationOp::ALL.iter().map(|&op| weight(op)).sum();
        let mut r = rng.random::<f64>() * total;
        let mut last = MutationOp::Flip;
        for op in MutationOp::ALL {
            let w = weight(op);
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

impl SearchSpace {
    /// One random change that stays in the space: a kind drawn by the mutation
    /// weights, retried on failure; after `MUTATION_ATTEMPTS` failures (a
    /// space too small to change in place, or `arch` outside the space) a fresh
    /// sample, different from `arch` when the space allows.
    pub fn mutate(&self, arch: &Architecture, rng: &mut impl Rng) -> Architecture {
        if self.check(arch).is_ok() {
            for _ in 0..MUTATION_ATTEMPTS {
                let offered = |op| op != MutationOp::Parallel || self.attention.parallel.len() > 1;
                let op = self.evolution.mutation_weights.choose(offered, rng);
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
        let attending = if attention_settings(arch).is_empty() {
            Attending {
                shared: self.canonical_shared(),
                parallel: self.attention.parallel == [true],
            }
        } else {
            Attending::of(arch)
        };
        let layers = self.fill(
            mask,
            &attention_settings(arch),
            &ssm_settings(arch),
            attending,
            rng,
        );
        Architecture {
            layers,
            ..arch.clone()
        }
    }

    /// A new attention layer for `arch`: a copy of its shared one if it
    /// shares, a parallel layer if its attention is parallel.
    fn new_attention(&self, arch: &Architecture, rng: &mut impl Rng) -> Layer {
        if let Some(l) = arch
            .layers
            .iter()
            .find(|l| matches!(l, Layer::Attention { shared: true, .. }))
        {
            return *l;
        }
        let (heads, window) = self.draw_attention(rng);
        let none_yet = attention_settings(arch).is_empty();
        if is_parallel(arch) || (none_yet && self.attention.parallel == [true]) {
            let (state_dim, expand) = self.draw_ssm(rng);
            return Layer::Parallel {
                heads,
                window,
                state_dim,
                expand,
            };
        }
        let shared = none_yet && self.canonical_shared();
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
        match op {
            MutationOp::Heads | MutationOp::Window => self.attention_setting(op, arch, rng),
            MutationOp::StateDim | MutationOp::Expand => self.ssm_setting(op, arch, rng),
            MutationOp::Shared => self.toggle_shared(arch, rng),
            MutationOp::DModel => Some(Architecture {
                d_model: other(&self.model.d_model, arch.d_model, rng)?,
                ..arch.clone()
            }),
            MutationOp::MlpRatio => Some(Architecture {
                mlp_ratio: other(&self.model.mlp_ratio, arch.mlp_ratio, rng)?,
                ..arch.clone()
            }),
            MutationOp::Parallel => self.toggle_parallel(arch, rng),
            MutationOp::Flip => self.flip(arch, rng),
            MutationOp::Move => self.move_attention(arch, rng),
            MutationOp::Depth => self.step_depth(arch, rng),
        }
    }

    /// `heads` or `window`: another choice for one attention layer (for all of
    /// them when they share weights, since shared layers have one setting).
    fn attention_setting(
        &self,
        op: MutationOp,
        arch: &Architecture,
        rng: &mut impl Rng,
    ) -> Option<Architecture> {
        let attention = positions(arch, true);
        let &i = attention.choose(rng)?;
        let (heads, window) = arch.layers[i].attention_part().expect("an attention index");
        let (heads, window) = if op == MutationOp::Heads {
            (other(&self.attention.heads, heads, rng)?, window)
        } else {
            (heads, other(&self.attention.window, window, rng)?)
        };
        let shared = is_shared(arch);
        let targets = if shared { attention } else { vec![i] };
        let mut child = arch.clone();
        for t in targets {
            child.layers[t] = match arch.layers[t] {
                Layer::Parallel {
                    state_dim, expand, ..
                } => Layer::Parallel {
                    heads,
                    window,
                    state_dim,
                    expand,
                },
                _ => Layer::Attention {
                    heads,
                    window,
                    shared,
                },
            };
        }
        Some(child)
    }

    /// `state_dim` or `expand`: another choice for one SSM layer.
    fn ssm_setting(
        &self,
        op: MutationOp,
        arch: &Architecture,
        rng: &mut impl Rng,
    ) -> Option<Architecture> {
        let with_ssm: Vec<usize> = (0..arch.layers.len())
            .filter(|&i| arch.layers[i].ssm_part().is_some())
            .collect();
        let &i = with_ssm.choose(rng)?;
        let (state_dim, expand) = arch.layers[i].ssm_part().expect("an index with an SSM");
        let (state_dim, expand) = if op == MutationOp::StateDim {
            (other(&self.ssm.state_dim, state_dim, rng)?, expand)
        } else {
            (state_dim, other(&self.ssm.expand, expand, rng)?)
        };
        let mut child = arch.clone();
        child.layers[i] = match arch.layers[i] {
            Layer::Parallel { heads, window, .. } => Layer::Parallel {
                heads,
                window,
                state_dim,
                expand,
            },
            _ => Layer::Ssm { state_dim, expand },
        };
        Some(child)
    }

    /// `parallel`: every attention layer becomes a parallel layer with the
    /// same heads and window and a drawn SSM, or every parallel layer the
    /// attention layer of its heads and window (unshared).
    fn toggle_parallel(&self, arch: &Architecture, rng: &mut impl Rng) -> Option<Architecture> {
        let parallel = is_parallel(arch);
        if positions(arch, true).is_empty() || !self.attention.parallel.contains(&!parallel) {
            return None;
        }
        let mut child = arch.clone();
        for layer in &mut child.layers {
            *layer = match *layer {
                Layer::Attention { heads, window, .. } => {
                    let (state_dim, expand) = self.draw_ssm(rng);
                    Layer::Parallel {
                        heads,
                        window,
                        state_dim,
                        expand,
                    }
                }
                Layer::Parallel { heads, window, .. } => Layer::Attention {
                    heads,
                    window,
                    shared: false,
                },
                ssm => ssm,
            };
        }
        Some(child)
    }

    /// `shared`: turning sharing on gives every attention layer the setting of
    /// one of them; turning it off keeps each layer's setting.
    fn toggle_shared(&self, arch: &Architecture, rng: &mut impl Rng) -> Option<Architecture> {
        let attention = positions(arch, true);
        let shared = is_shared(arch);
        if attention.len() < 2 || is_parallel(arch) || !self.attention.shared.contains(&!shared) {
            return None;
        }
        let &source = attention.choose(rng)?;
        let Layer::Attention { heads, window, .. } = arch.layers[source] else {
            unreachable!("an attention index")
        };
        let mut child = arch.clone();
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
        Some(child)
    }

    /// `flip`: one attention layer more or fewer. Under `free` placement one
    /// layer changes type in place; under a fixed pattern the layers are
    /// re-placed by it with the new count.
    fn flip(&self, arch: &Architecture, rng: &mut impl Rng) -> Option<Architecture> {
        let depth = arch.layers.len();
        match *self.placements_of(arch).choose(rng)? {
            Placement::Free(_) => {
                let i = rng.random_range(0..depth);
                let mut child = arch.clone();
                child.layers[i] = if arch.layers[i].is_attention() {
                    self.new_ssm(rng)
                } else {
                    self.new_attention(arch, rng)
                };
                Some(child)
            }
            Placement::Alternating { every } => {
                // Another period that gives a different count at this depth.
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
                Some(self.replace(arch, &mask, rng))
            }
            placement => {
                let n = positions(arch, true).len();
                let counts = self.attention_counts(depth)?;
                let options: Vec<usize> = [n.checked_sub(1), Some(n + 1)]
                    .into_iter()
                    .flatten()
                    .filter(|m| counts.contains(m))
                    .collect();
                let &m = options.choose(rng)?;
                let mask = Placement::with_count(placement.pattern(), m).mask(depth)?;
                Some(self.replace(arch, &mask, rng))
            }
        }
    }

    /// `move`: under `free` placement an attention layer swaps with an SSM
    /// layer; under a fixed pattern all of them are re-placed by another
    /// allowed placement with the same count.
    fn move_attention(&self, arch: &Architecture, rng: &mut impl Rng) -> Option<Architecture> {
        let depth = arch.layers.len();
        let attention = positions(arch, true);
        match *self.placements_of(arch).choose(rng)? {
            Placement::Free(_) => {
                let ssm = positions(arch, false);
                let (&i, &j) = (attention.choose(rng)?, ssm.choose(rng)?);
                let mut child = arch.clone();
                child.layers.swap(i, j);
                Some(child)
            }
            _ => {
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
                Some(self.replace(arch, mask, rng))
            }
        }
    }

    /// `depth`: the next smaller or larger depth choice. Under `free`
    /// placement layers are removed or inserted at random; under a fixed
    /// pattern the layers are re-placed at the new depth, with the same period
    /// (`alternating`) or an attention count that keeps the ratio as near as
    /// the bounds allow.
    fn step_depth(&self, arch: &Architecture, rng: &mut impl Rng) -> Option<Architecture> {
        let depth = arch.layers.len();
        let at = self.model.depth.iter().position(|&d| d == depth)?;
        let neighbours: Vec<usize> = [at.checked_sub(1), Some(at + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| self.model.depth.get(j).copied())
            .collect();
        let &new_depth = neighbours.choose(rng)?;
        match *self.placements_of(arch).choose(rng)? {
            Placement::Free(_) => Some(self.resize_free(arch, new_depth, rng)),
            Placement::Alternating { every } => {
                let mask = Placement::Alternating { every }.mask(new_depth)?;
                Some(self.replace(arch, &mask, rng))
            }
            placement => {
                let counts = self.attention_counts(new_depth)?;
                let scaled = (positions(arch, true).len() * new_depth) as f64 / depth as f64;
                let n = (scaled.round() as usize).clamp(*counts.start(), *counts.end());
                let mask = Placement::with_count(placement.pattern(), n).mask(new_depth)?;
                Some(self.replace(arch, &mask, rng))
            }
        }
    }

    /// `arch` with layers removed at random positions, or new ones (attention
    /// or SSM, even odds) inserted at random positions, until it has `depth`.
    fn resize_free(&self, arch: &Architecture, depth: usize, rng: &mut impl Rng) -> Architecture {
        let mut child = arch.clone();
        while child.layers.len() > depth {
            child.layers.remove(rng.random_range(0..child.layers.len()));
        }
        while child.layers.len() < depth {
            let layer = if rng.random_bool(0.5) {
                self.new_attention(&child, rng)
            } else {
                self.new_ssm(rng)
            };
            child
                .layers
                .insert(rng.random_range(0..=child.layers.len()), layer);
        }
        child
    }
}

/// Indices of the attention layers of `arch` (`attention`), or of its SSM layers.
fn positions(arch: &Architecture, attention: bool) -> Vec<usize> {
    (0..arch.layers.len())
        .filter(|&i| arch.layers[i].is_attention() == attention)
        .collect()
}
