//! The candidates of a supernet slot, their costs, and discretisation: from
//! the architecture weights of every slot to one architecture of the space.

use crate::arch::{Architecture, Layer, DEFAULT_SSM_HEAD_DIM};
use crate::cost::Cost;
use crate::space::{DartsSettings, Objective, SearchSpace};

/// Every mixer a slot may hold, attention first: attention with each
/// (heads, window) choice when the ratio bounds allow attention at all, then
/// SSM with each (state_dim, expand) choice when they allow SSM layers.
pub fn candidates(space: &SearchSpace) -> Vec<Layer> {
    let mut out = Vec::new();
    if space.attention.ratio_max > 0.0 {
        for &heads in &space.attention.heads {
            for &window in &space.attention.window {
                out.push(Layer::Attention {
                    heads,
                    window,
                    shared: false,
                });
            }
        }
    }
    if space.attention.ratio_min < 1.0 {
        for &state_dim in &space.ssm.state_dim {
            for &expand in &space.ssm.expand {
                out.push(Layer::Ssm { state_dim, expand });
            }
        }
    }
    out
}

/// The architecture the supernet stands for, without layers: width, MLP
/// ratio (the space's first choice) and the reference head size.
pub fn template(space: &SearchSpace, settings: &DartsSettings) -> Architecture {
    Architecture {
        d_model: settings.d_model,
        vocab_size: 0,
        mlp_ratio: space.model.mlp_ratio[0],
        ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
        rope: false,
        layers: Vec::new(),
    }
}

/// Cost of each candidate mixer (what one layer adds beyond its norms and
/// MLP, which every candidate shares), divided by the largest, so that the
/// expected cost of a slot lies in [0, 1] and λ needs no scale of its own.
pub fn normalised_costs(
    template: &Architecture,
    candidates: &[Layer],
    cost: Objective,
    seq_len: usize,
) -> Vec<f64> {
    let value = |c: &Cost| match cost {
        Objective::Params => c.params as f64,
        Objective::KvCache => c.kv_cache_bytes as f64,
        _ => c.flops_per_token,
    };
    let base = value(&Cost::of(template, seq_len));
    let raw: Vec<f64> = candidates
        .iter()
        .map(|layer| {
            let one = Architecture {
                layers: vec![*layer],
                ..template.clone()
            };
            value(&Cost::of(&one, seq_len)) - base
        })
        .collect();
    let max = raw.iter().copied().fold(0.0, f64::max);
    if max > 0.0 {
        raw.iter().map(|r| r / max).collect()
    } else {
        vec![0.0; raw.len()]
    }
}

/// Every attention mask the space allows at `depth`: the fixed masks of its
/// patterns, and under `free` every mask with an allowed attention count.
fn allowed_masks(space: &SearchSpace, depth: usize) -> Vec<Vec<bool>> {
    let mut masks: Vec<Vec<bool>> = Vec::new();
    for &pattern in &space.attention.patterns {
        for placement in space.feasible(pattern, depth) {
            match placement.mask(depth) {
                Some(mask) => masks.push(mask),
                None => {
                    let n = placement.count(depth);
                    for bits in 0u64..(1u64 << depth) {
                        if bits.count_ones() as usize == n {
                            masks.push((0..depth).map(|i| bits >> i & 1 == 1).collect());
                        }
                    }
                }
            }
        }
    }
    masks.sort();
    masks.dedup();
    masks
}

/// The most probable candidate of `slot` among those `keep` accepts.
fn best(slot: &[f64], candidates: &[Layer], keep: impl Fn(&Layer) -> bool) -> Option<usize> {
    (0..candidates.len())
        .filter(|&c| keep(&candidates[c]))
        .max_by(|&a, &b| slot[a].total_cmp(&slot[b]).then(b.cmp(&a)))
}

/// Discretises `probs` (per slot, the probabilities of `candidates`): per
/// slot the most probable candidate, then the space's constraints enforced.
///
/// The attention mask is the allowed one (ratio bounds and placement
/// patterns) that maximises the product over slots of the probability of
/// the best candidate of the type the mask gives the slot; when the plain
/// per-slot argmax is allowed, that is it. Each slot then takes its most
/// probable candidate of its type. With shared attention, all attention
/// layers take the one (heads, window) with the highest product of
/// probabilities over the attention slots, as shared weights require.
pub fn discretise(
    space: &SearchSpace,
    settings: &DartsSettings,
    candidates: &[Layer],
    probs: &[Vec<f64>],
) -> Result<Architecture, String> {
    let depth = probs.len();
    let log = |p: f64| p.max(1e-30).ln();
    let attn = |l: &Layer| l.is_attention();
    let ssm = |l: &Layer| !l.is_attention();
    let slot_score = |s: usize, is_attn: bool| -> f64 {
        let pick = if is_attn {
            best(&probs[s], candidates, attn)
        } else {
            best(&probs[s], candidates, ssm)
        };
        pick.map_or(f64::NEG_INFINITY, |c| log(probs[s][c]))
    };
    let mask = allowed_masks(space, depth)
        .into_iter()
        .map(|m| {
            let score: f64 = m.iter().enumerate().map(|(s, &a)| slot_score(s, a)).sum();
            (m, score)
        })
        .filter(|(_, score)| score.is_finite())
        // Highest score; ties go to the first mask in sorted order, so the
        // result never depends on enumeration order.
        .fold(None::<(Vec<bool>, f64)>, |acc, (m, score)| match acc {
            Some((_, best)) if best >= score => acc,
            _ => Some((m, score)),
        })
        .map(|(m, _)| m)
        .ok_or_else(|| format!("no attention placement of depth {depth} fits the space"))?;

    let shared_pick = if settings.shared {
        (0..candidates.len())
            .filter(|&c| candidates[c].is_attention())
            .map(|c| {
                let score: f64 = (0..depth)
                    .filter(|&s| mask[s])
                    .map(|s| log(probs[s][c]))
                    .sum();
                (c, score)
            })
            .fold(None::<(usize, f64)>, |acc, (c, score)| match acc {
                Some((_, best)) if best >= score => acc,
                _ => Some((c, score)),
            })
            .map(|(c, _)| c)
    } else {
        None
    };
    let layers = (0..depth)
        .map(|s| {
            let c = match (mask[s], shared_pick) {
                (true, Some(c)) => c,
                (true, None) => best(&probs[s], candidates, attn).expect("scored finite"),
                (false, _) => best(&probs[s], candidates, ssm).expect("scored finite"),
            };
            match candidates[c] {
                Layer::Attention { heads, window, .. } => Layer::Attention {
                    heads,
                    window,
                    shared: settings.shared,
                },
                ssm_layer => ssm_layer,
            }
        })
        .collect();
    let arch = Architecture {
        layers,
        ..template(space, settings)
    };
    space.check(&arch)?;
    Ok(arch)
}
