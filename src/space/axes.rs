//! `[grid.axes]`: a grid written as a product of axes rather than a list of
//! designs. Every combination of one value per axis names at most one design:
//! `depth` layers of width `d_model`, `ratio × depth` attention layers placed
//! by `pattern`, every attention layer with the same heads and window and
//! every SSM layer with the same state size and expansion. Combinations the
//! space does not allow (by [`SearchSpace::check`]) are left out, as are
//! designs an earlier combination already named; what is left is the grid.
//!
//! A design with different settings per layer cannot be written as axes:
//! list it under `designs`.

use std::collections::HashSet;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::sample::{Attending, Placement};
use super::{Pattern, SearchSpace};
use crate::arch::{Architecture, DEFAULT_SSM_HEAD_DIM};

/// The most combinations one `[grid.axes]` may name (before those outside
/// the space are left out): expansion checks each one.
pub const MAX_COMBINATIONS: usize = 1_000_000;
/// Slack, in layers, when turning a ratio into a layer count: enough for a
/// rounded third (0.333 × 3 is 0.999 layers), far from half a layer.
const COUNT_EPS: f64 = 0.02;

/// One axis of a grid, in the order combinations are enumerated (the last
/// varies fastest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    Depth,
    DModel,
    MlpRatio,
    Ratio,
    Pattern,
    Heads,
    Window,
    Shared,
    Parallel,
    StateDim,
    Expand,
}

impl Axis {
    pub const ALL: [Axis; 11] = [
        Axis::Depth,
        Axis::DModel,
        Axis::MlpRatio,
        Axis::Ratio,
        Axis::Pattern,
        Axis::Heads,
        Axis::Window,
        Axis::Shared,
        Axis::Parallel,
        Axis::StateDim,
        Axis::Expand,
    ];

    /// The key in `[grid.axes]`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Axis::Depth => "depth",
            Axis::DModel => "d_model",
            Axis::MlpRatio => "mlp_ratio",
            Axis::Ratio => "ratio",
            Axis::Pattern => "pattern",
            Axis::Heads => "heads",
            Axis::Window => "window",
            Axis::Shared => "shared",
            Axis::Parallel => "parallel",
            Axis::StateDim => "state_dim",
            Axis::Expand => "expand",
        }
    }
}

/// Every axis with its values, in [`Axis::ALL`]'s order. An axis the file
/// leaves out takes the space's own choices; `ratio` left out takes every
/// attention count the space's ratio bounds allow at each depth (`None`).
#[derive(Clone, Debug, PartialEq)]
pub struct GridAxes {
    pub depth: Vec<usize>,
    pub d_model: Vec<usize>,
    pub mlp_ratio: Vec<usize>,
    pub ratio: Option<Vec<f64>>,
    /// Never `free`: it names no positions.
    pub pattern: Vec<Pattern>,
    pub heads: Vec<usize>,
    pub window: Vec<usize>,
    pub shared: Vec<bool>,
    pub parallel: Vec<bool>,
    pub state_dim: Vec<usize>,
    pub expand: Vec<usize>,
}

/// One value of each axis, by index (ratio's index is the attention count
/// when `ratio` was left out).
type Pick = [usize; 11];

/// What expansion found.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    /// Distinct designs inside the space, in enumeration order.
    pub designs: Vec<Architecture>,
    /// Combinations enumerated.
    pub combinations: usize,
    /// Combinations outside the space, or naming no whole placement.
    pub outside: usize,
    /// For each axis and each of its values: why the first combination with
    /// that value was left out, when none with it gave a design (`None` for
    /// values that gave one).
    pub unused: Vec<(Axis, Vec<Option<String>>)>,
}

impl GridAxes {
    /// The axes a space offers, each with all of the space's choices.
    pub fn of_space(space: &SearchSpace) -> GridAxes {
        let a = &space.attention;
        GridAxes {
            depth: space.model.depth.clone(),
            d_model: space.model.d_model.clone(),
            mlp_ratio: space.model.mlp_ratio.clone(),
            ratio: None,
            pattern: a
                .patterns
                .iter()
                .copied()
                .filter(|p| *p != Pattern::Free)
                .collect(),
            heads: a.heads.clone(),
            window: a.window.clone(),
            shared: a.shared.clone(),
            parallel: a.parallel.clone(),
            state_dim: space.ssm.state_dim.clone(),
            expand: space.ssm.expand.clone(),
        }
    }

    /// Values per axis; `ratio` left out counts the layer counts 0..=max depth.
    fn lengths(&self) -> Pick {
        let max_depth = self.depth.iter().copied().max().unwrap_or(0);
        [
            self.depth.len(),
            self.d_model.len(),
            self.mlp_ratio.len(),
            self.ratio.as_ref().map_or(max_depth + 1, Vec::len),
            self.pattern.len(),
            self.heads.len(),
            self.window.len(),
            self.shared.len(),
            self.parallel.len(),
            self.state_dim.len(),
            self.expand.len(),
        ]
    }

    /// How many combinations [`GridAxes::expand`] enumerates, saturating.
    pub fn combinations(&self) -> usize {
        self.lengths()
            .iter()
            .fold(1usize, |n, &len| n.saturating_mul(len))
    }

    /// Every combination, checked against `space`; callers bound
    /// [`GridAxes::combinations`] by [`MAX_COMBINATIONS`] first.
    pub fn expand(&self, space: &SearchSpace) -> Expansion {
        let lengths = self.lengths();
        // Per axis and value: whether a combination with it gave a design,
        // and else why the first one with it did not.
        let mut used: Vec<Vec<bool>> = lengths.iter().map(|&n| vec![false; n]).collect();
        let mut why_not: Vec<Vec<Option<String>>> =
            lengths.iter().map(|&n| vec![None; n]).collect();
        let mut seen = HashSet::new();
        let (mut designs, mut combinations, mut outside) = (Vec::new(), 0, 0);
        let mut pick: Pick = [0; 11];
        loop {
            if lengths.iter().all(|&n| n > 0) {
                combinations += 1;
                match self.design(&pick, space) {
                    Ok(arch) => {
                        for (axis, &i) in pick.iter().enumerate() {
                            used[axis][i] = true;
                        }
                        if seen.insert(arch.hash()) {
                            designs.push(arch);
                        }
                    }
                    Err(why) => {
                        outside += 1;
                        for (axis, &i) in pick.iter().enumerate() {
                            why_not[axis][i].get_or_insert_with(|| why.clone());
                        }
                    }
                }
            }
            if !advance(&mut pick, &lengths) {
                break;
            }
        }
        let unused = Axis::ALL
            .iter()
            .zip(used.iter().zip(why_not))
            .map(|(&axis, (used, why))| {
                let why = why
                    .into_iter()
                    .zip(used)
                    .map(|(why, &used)| (!used).then(|| why.unwrap_or_default()))
                    .collect();
                (axis, why)
            })
            .collect();
        Expansion {
            designs,
            combinations,
            outside,
            unused,
        }
    }

    /// The design of one combination, or why there is none.
    fn design(&self, pick: &Pick, space: &SearchSpace) -> Result<Architecture, String> {
        let depth = self.depth[pick[0]];
        let count = match &self.ratio {
            None => pick[3],
            Some(ratios) => layer_count(ratios[pick[3]], depth)?,
        };
        if count > depth {
            return Err(format!("{count} attention layers do not fit in {depth}"));
        }
        let pattern = self.pattern[pick[4]];
        let mask = placement_mask(pattern, count, depth)?;
        let parallel = self.parallel[pick[8]] && count > 0;
        let shared = if parallel {
            false
        } else if count >= 2 {
            self.shared[pick[7]]
        } else {
            space.canonical_shared()
        };
        let attention = vec![(self.heads[pick[5]], self.window[pick[6]]); count];
        let ssm = vec![(self.state_dim[pick[9]], self.expand[pick[10]]); depth];
        // Every setting is given, so `fill` never draws from this generator.
        let mut unused_rng = ChaCha8Rng::seed_from_u64(0);
        let layers = space.fill(
            &mask,
            &attention,
            &ssm,
            Attending { shared, parallel },
            &mut unused_rng,
        );
        let arch = Architecture {
            d_model: self.d_model[pick[1]],
            vocab_size: 0,
            mlp_ratio: self.mlp_ratio[pick[2]],
            ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
            rope: false,
            layers,
        };
        space.check(&arch)?;
        Ok(arch)
    }
}

/// The next combination (the last axis fastest); false after the last one.
fn advance(pick: &mut Pick, lengths: &Pick) -> bool {
    for axis in (0..pick.len()).rev() {
        if pick[axis] + 1 < lengths[axis] {
            pick[axis] += 1;
            return true;
        }
        pick[axis] = 0;
    }
    false
}

/// `ratio × depth` attention layers, when that is a whole number.
fn layer_count(ratio: f64, depth: usize) -> Result<usize, String> {
    let exact = ratio * depth as f64;
    let count = exact.round();
    if (exact - count).abs() > COUNT_EPS {
        return Err(format!(
            "ratio {ratio} of {depth} layers is {exact:.3} layers, not a whole number"
        ));
    }
    Ok(count as usize)
}

/// Which of `depth` layers are attention when `pattern` places `count` of
/// them. `alternating` puts one at the end of each of `count` equal periods.
fn placement_mask(pattern: Pattern, count: usize, depth: usize) -> Result<Vec<bool>, String> {
    if count == 0 {
        return Ok(vec![false; depth]);
    }
    let placement = match pattern {
        Pattern::Alternating if !depth.is_multiple_of(count) => {
            return Err(format!(
                "alternating: {depth} layers do not split into {count} equal periods"
            ))
        }
        Pattern::Alternating => Placement::Alternating {
            every: depth / count,
        },
        p => Placement::with_count(p, count),
    };
    placement
        .mask(depth)
        .ok_or_else(|| "`free` names no positions".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(extra_attention: &str) -> SearchSpace {
        let text = format!(
            "objectives = [\"val_ppl\", \"flops\"]\n\
             [model]\ndepth = [4, 8]\nd_model = [32, 64]\n\
             [attention]\nratio = [0.0, 0.5]\npattern = [\"uniform\", \"alternating\", \"free\"]\n\
             every = [2, 4]\nheads = [2, 4]\n{extra_attention}\n\
             [ssm]\nstate_dim = [8, 16]\nexpand = [1]\n\
             [task]\nseq_len = 32\n\
             [training]\nsteps = 10\nbatch_size = 2\nlr = 1e-3\n\
             [search]\nstrategy = \"random\"\ntrials = 4\nseed = 0\n"
        );
        SearchSpace::parse(&text, "axes-test").unwrap()
    }

    #[test]
    fn every_design_of_the_expansion_lies_in_the_space_and_none_repeats() {
        let space = space("shared = [false, true]");
        let axes = GridAxes::of_space(&space);
        let found = axes.expand(&space);
        assert_eq!(found.combinations, axes.combinations());
        let hashes: HashSet<String> = found.designs.iter().map(|a| a.hash()).collect();
        assert_eq!(hashes.len(), found.designs.len(), "no design twice");
        for arch in &found.designs {
            space.check(arch).unwrap();
        }
        // The same designs counted directly: `free` admits every mask with
        // an allowed count, so each distinct (depth, mask, heads, shared) of
        // the uniform and alternating placements (heads mean nothing without
        // attention, sharing nothing below two layers), at both widths and
        // both state sizes.
        let mut expected = HashSet::new();
        for d in [4usize, 8] {
            for n in 0..=d / 2 {
                for pattern in [Pattern::Uniform, Pattern::Alternating] {
                    let Ok(mask) = placement_mask(pattern, n, d) else {
                        continue;
                    };
                    for h in [2, 4] {
                        for shared in [false, true] {
                            let shared = shared && n >= 2;
                            expected.insert((d, mask.clone(), h * (n > 0) as usize, shared));
                        }
                    }
                }
            }
        }
        assert_eq!(found.designs.len(), expected.len() * 2 * 2);
    }

    #[test]
    fn a_ratio_names_a_whole_number_of_layers_or_nothing() {
        assert_eq!(layer_count(0.125, 8), Ok(1));
        assert_eq!(layer_count(0.1, 10), Ok(1));
        assert_eq!(layer_count(0.333, 3), Ok(1));
        assert!(layer_count(0.3, 3).is_err());
        assert!(layer_count(0.125, 4).unwrap_err().contains("0.500 layers"));
        let space = space("");
        let axes = GridAxes {
            depth: vec![4, 8],
            ratio: Some(vec![0.125]),
            pattern: vec![Pattern::Uniform],
            d_model: vec![64],
            heads: vec![4],
            state_dim: vec![16],
            ..GridAxes::of_space(&space)
        };
        let found = axes.expand(&space);
        assert_eq!(found.combinations, 2);
        assert_eq!(found.outside, 1);
        assert_eq!(
            found
                .designs
                .iter()
                .map(|a| a.short_form())
                .collect::<Vec<_>>(),
            ["d64 S16e1 S16e1 S16e1 S16e1 A4 S16e1 S16e1 S16e1"]
        );
        let (axis, depth) = &found.unused[0];
        assert_eq!(*axis, Axis::Depth);
        assert!(depth[0].as_deref().unwrap().contains("not a whole number"));
        assert_eq!(depth[1], None);
    }

    #[test]
    fn alternating_puts_one_layer_at_the_end_of_each_period() {
        assert_eq!(
            placement_mask(Pattern::Alternating, 2, 8).unwrap(),
            [false, false, false, true, false, false, false, true]
        );
        assert!(placement_mask(Pattern::Alternating, 3, 8).is_err());
        assert_eq!(
            placement_mask(Pattern::ClusteredLast, 0, 3).unwrap(),
            [false; 3]
        );
    }
}
