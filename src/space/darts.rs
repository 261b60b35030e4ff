//! `[darts]`: settings of the DARTS strategy, validated with the rest of the
//! space so that a bad value stops `nas run` before anything is stored.

use serde::Deserialize;
use toml::Spanned;

use super::schema::{Ctx, List};
use super::{Objective, SearchSpace, SpaceError};

/// The `[darts]` table as written, every value with its span.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDarts {
    lambdas: Option<List<f64>>,
    cost: Option<Spanned<String>>,
    depth: Option<List<i64>>,
    d_model: Option<List<i64>>,
    warmup_steps: Option<Spanned<i64>>,
    search_steps: Option<Spanned<i64>>,
    arch_lr: Option<Spanned<f64>>,
    weight_lr: Option<Spanned<f64>>,
    gumbel: Option<Spanned<bool>>,
    tau: Option<List<f64>>,
    shared: Option<Spanned<bool>>,
    checkpoint_every: Option<Spanned<i64>>,
}

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

impl Ctx<'_> {
    fn darts_count(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        default: usize,
    ) -> Result<usize, SpaceError> {
        self.opt_at_least(v, key, min, &format!("an integer >= {min}"), default)
    }

    /// Some of `[model]`'s choices for `what`, distinct, when given.
    fn darts_choices(
        &self,
        list: &Option<List<i64>>,
        key: &str,
        what: &str,
        choices: &[usize],
    ) -> Result<Option<Vec<usize>>, SpaceError> {
        let Some(list) = list else { return Ok(None) };
        // Non-empty, positive, distinct: as for any list of the schema.
        let checked = self.ints(list, key, 1, &format!("{what} choices of [model]"))?;
        for (v, span) in &checked {
            if !choices.contains(v) {
                return Err(self.invalid(
                    span,
                    key,
                    format!("{v} is not a {what} choice of [model]"),
                    format!("values from {choices:?}"),
                ));
            }
        }
        Ok(Some(checked.into_iter().map(|(v, _)| v).collect()))
    }

    fn darts_rate(
        &self,
        v: &Option<Spanned<f64>>,
        key: &str,
        default: f64,
    ) -> Result<f64, SpaceError> {
        let Some(v) = v else { return Ok(default) };
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0) {
            return Err(self.invalid(
                &v.span(),
                key,
                format!("{x} is not positive"),
                "a number > 0",
            ));
        }
        Ok(x)
    }

    /// Validates `[darts]` against the rest of the space (`space.darts` holds
    /// the defaults on entry).
    pub(super) fn darts(
        &self,
        raw: &RawDarts,
        space: &SearchSpace,
    ) -> Result<DartsSettings, SpaceError> {
        let mut s = space.darts.clone();
        if let Some(list) = &raw.lambdas {
            if list.get_ref().is_empty() {
                return Err(self.invalid(
                    &list.span(),
                    "darts.lambdas",
                    "the list is empty",
                    "one or more cost penalties >= 0",
                ));
            }
            let mut lambdas: Vec<f64> = Vec::new();
            for item in list.get_ref() {
                let v = *item.get_ref();
                if !(v.is_finite() && v >= 0.0) {
                    return Err(self.invalid(
                        &item.span(),
                        "darts.lambdas",
                        format!("{v} is negative or not finite"),
                        "cost penalties >= 0",
                    ));
                }
                if lambdas.contains(&v) {
                    return Err(self.invalid(
                        &item.span(),
                        "darts.lambdas",
                        format!("{v} is listed twice"),
                        "each penalty once",
                    ));
                }
                lambdas.push(v);
            }
            s.lambdas = lambdas;
        }
        if let Some(cost) = &raw.cost {
            let expected = "one of flops, params, kv_cache";
            let o: Objective = cost.get_ref().parse().map_err(|_| {
                self.invalid(
                    &cost.span(),
                    "darts.cost",
                    format!("unknown cost `{}`", cost.get_ref()),
                    expected,
                )
            })?;
            if !DARTS_COSTS.contains(&o) {
                return Err(self.invalid(
                    &cost.span(),
                    "darts.cost",
                    format!("`{o}` is not a per-layer cost"),
                    expected,
                ));
            }
            s.cost = o;
        }
        if let Some(d) =
            self.darts_choices(&raw.depth, "darts.depth", "depth", &space.model.depth)?
        {
            s.depth = d;
        }
        if let Some(d) = self.darts_choices(
            &raw.d_model,
            "darts.d_model",
            "d_model",
            &space.model.d_model,
        )? {
            s.d_model = d;
        }
        s.warmup_steps =
            self.darts_count(&raw.warmup_steps, "darts.warmup_steps", 0, s.warmup_steps)?;
        s.search_steps =
            self.darts_count(&raw.search_steps, "darts.search_steps", 1, s.search_steps)?;
        s.checkpoint_every = self.darts_count(
            &raw.checkpoint_every,
            "darts.checkpoint_every",
            1,
            s.checkpoint_every,
        )?;
        s.arch_lr = self.darts_rate(&raw.arch_lr, "darts.arch_lr", s.arch_lr)?;
        s.weight_lr = self.darts_rate(&raw.weight_lr, "darts.weight_lr", s.weight_lr)?;
        if let Some(g) = &raw.gumbel {
            s.gumbel = *g.get_ref();
        }
        if let Some(tau) = &raw.tau {
            let values: Vec<f64> = tau.get_ref().iter().map(|v| *v.get_ref()).collect();
            if values.len() != 2 || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(self.invalid(
                    &tau.span(),
                    "darts.tau",
                    format!("{values:?} is not a pair of positive temperatures"),
                    "[start, end], both > 0 (e.g. [2.0, 0.5])",
                ));
            }
            s.tau = (values[0], values[1]);
        }
        if let Some(shared) = &raw.shared {
            let v = *shared.get_ref();
            if !space.attention.shared.contains(&v) {
                return Err(self.invalid(
                    &shared.span(),
                    "darts.shared",
                    format!("{v} is not a choice of attention.shared"),
                    format!("one of {:?}", space.attention.shared),
                ));
            }
            s.shared = v;
        }
        Ok(s)
    }
}

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

impl DartsSettings {
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
