//! `[darts]`: settings of the DARTS strategy and the supernet shapes they
//! give. `schema/darts.rs` reads and validates the table.

use super::{Objective, SearchSpace};

/// DARTS settings; every field has a default that works on the bundled spaces.
#[derive(Clone, Debug, PartialEq)]
pub struct DartsSettings {
    /// Cost penalties λ, one supernet search and one derived architecture each.
    pub lambdas: Vec<f64>,
    /// The cost in the α objective: flops, params or kv_cache. Default: the
    /// study's cost objective when it is one of those, else flops.
    pub cost: Objective,
    /// Layer slots of the supernets (depth choices; default: the largest).
    pub depth: Vec<usize>,
    /// Widths of the supernets (d_model choices; default: the largest). One
    /// supernet is searched per (depth, d_model) pair, so that the derived
    /// designs cover the cost axis that depth and width span.
    pub d_model: Vec<usize>,
    /// Network-weight steps with uniform α before any α step, shared by all λ.
    pub warmup_steps: usize,
    /// Bilevel steps (one weight step, one α step) per λ.
    pub search_steps: usize,
    /// Adam learning rate of α.
    pub arch_lr: f64,
    /// Learning rate of the network weights (default: `[training] lr`).
    pub weight_lr: f64,
    /// GDAS: sample one candidate per slot (Gumbel-softmax, straight-through)
    /// instead of running all of them.
    pub gumbel: bool,
    /// Gumbel-softmax temperature, annealed linearly from the first value to
    /// the second over the search steps.
    pub tau: (f64, f64),
    /// Whether derived architectures share attention weights (a choice of
    /// `[attention] shared`; default: its first).
    pub shared: bool,
    /// Steps between checkpoints of the supernet in the store.
    pub checkpoint_every: usize,
}

/// Costs DARTS can put in its objective: those that add up over layers.
pub const DARTS_COSTS: [Objective; 3] = [Objective::Flops, Objective::Params, Objective::KvCache];

/// The depth and width of one supernet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SupernetShape {
    pub depth: usize,
    pub d_model: usize,
}

impl std::fmt::Display for SupernetShape {
    /// `d64x3`: width, then depth.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "d{}x{}", self.d_model, self.depth)
    }
}

/// One supernet phase of a study: a shape's warm-up (`lambda` is `None`) or
/// its search at one λ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlannedPhase {
    pub shape: SupernetShape,
    pub lambda: Option<f64>,
    pub steps: usize,
}

impl DartsSettings {
    /// Every phase in the order a study runs them: for each shape (as
    /// [`Self::shapes`] orders them), its warm-up, then its search at each λ.
    pub fn phases(&self) -> Vec<PlannedPhase> {
        let mut out = Vec::new();
        for shape in self.shapes() {
            out.push(PlannedPhase {
                shape,
                lambda: None,
                steps: self.warmup_steps,
            });
            out.extend(self.lambdas.iter().map(|&l| PlannedPhase {
                shape,
                lambda: Some(l),
                steps: self.search_steps,
            }));
        }
        out
    }

    /// Every (depth, d_model) pair, narrow and shallow first.
    pub fn shapes(&self) -> Vec<SupernetShape> {
        let mut out = Vec::new();
        for &d_model in &self.d_model {
            for &depth in &self.depth {
                out.push(SupernetShape { depth, d_model });
            }
        }
        out.sort_by_key(|s| (s.d_model, s.depth));
        out
    }

    /// A placeholder while the space is being built.
    pub(super) fn unset() -> Self {
        DartsSettings {
            lambdas: Vec::new(),
            cost: Objective::Flops,
            depth: Vec::new(),
            d_model: Vec::new(),
            warmup_steps: 0,
            search_steps: 0,
            arch_lr: 0.0,
            weight_lr: 0.0,
            gumbel: false,
            tau: (1.0, 1.0),
            shared: false,
            checkpoint_every: 1,
        }
    }

    /// The defaults for a space (before its `[darts]` table is read).
    pub(super) fn defaults(space: &SearchSpace) -> Self {
        let cost = space
            .objectives
            .iter()
            .copied()
            .find(|o| DARTS_COSTS.contains(o))
            .unwrap_or(Objective::Flops);
        DartsSettings {
            lambdas: vec![0.0, 0.1, 0.3, 1.0],
            cost,
            depth: vec![*space.model.depth.iter().max().expect("validated non-empty")],
            d_model: vec![*space
                .model
                .d_model
                .iter()
                .max()
                .expect("validated non-empty")],
            warmup_steps: space.training.steps / 2,
            search_steps: space.training.steps,
            arch_lr: 3e-2,
            weight_lr: space.training.lr,
            gumbel: false,
            tau: (2.0, 0.5),
            shared: space.attention.shared[0],
            checkpoint_every: 25,
        }
    }
}
