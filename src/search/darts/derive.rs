//! The candidates of a supernet slot, their costs, and discretisation: from
//! the architecture weights of every slot to one architecture of the space.

use crate::arch::{Architecture, Layer, DEFAULT_SSM_HEAD_DIM};
use crate::cost::Cost;
use crate::space::{DartsSettings, Objective, SearchSpace};

/// Every mixer a slot of a supernet `depth` deep may hold, attention first:
/// when the ratio bounds allow an attention layer at that depth, attention
/// with each (heads, window) choice (if the space allows plain attention)
/// and parallel layers with each (heads, window, state_dim, expand) (if it
/// allows parallel layers); then, when they allow an SSM layer, SSM with each
/// (state_dim, expand) choice.
pub fn candidates(space: &SearchSpace, depth: usize) -> Vec<Layer> {
    let counts = space.attention_counts(depth);
    let some_attention = counts.as_ref().is_some_and(|c| *c.end() > 0);
    let some_ssm = counts.as_ref().is_some_and(|c| *c.start() < depth);
    let mut out = Vec::new();
    if some_attention {
        for &heads in &space.attention.heads {
            for &window in &space.attention.window {
                if space.attention.parallel.contains(&false) {
                    out.push(Layer::Attention {
                        heads,
                        window,
                        shared: false,
                    });
                }
                if !space.attention.parallel.contains(&true) {
                    continue;
                }
                for &state_dim in &space.ssm.state_dim {
                    for &expand in &space.ssm.expand {
                        out.push(Layer::Parallel {
                            heads,
                            window,
                            state_dim,
                            expand,
                        });
                    }
                }
            }
        }
    }
    if some_ssm {
        for &state_dim in &space.ssm.state_dim {
            for &expand in &space.ssm.expand {
                out.push(Layer::Ssm { state_dim, expand });
            }
        }
    }
    out
}

/// The architecture a supernet of width `d_model` stands for, without
/// layers: width, MLP ratio (the space's first choice) and the reference
/// head size.
pub fn template(space: &SearchSpace, d_model: usize) -> Architecture {
    Architecture {
        d_model,
        vocab_size: 0,
        mlp_ratio: space.model.mlp_ratio[0],
        ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
        rope: false,
        layers: Vec::new(),
    }
}

/// Cost of each candidate mixer, scaled so that the cheapest counts 0 and the
/// costliest 1 (all 0 when they cost the same). A slot's expected cost then
/// lies in [0, 1], and λ reads as nats of held-out loss per unit of that
/// spread: at λ = 1, taking the costliest candidate instead of the cheapest
/// must buy one nat. Shifting every cost by the same amount (the norms and
/// MLP every candidate shares) does not change the α gradient, so only the
/// spread matters.
pub fn normalised_costs(
    template: &Architecture,
    candidates: &[Layer],
    cost: Objective,
    seq_len: usize,
) -> Vec<f64> {
    let value = |c: &Cost| match cost {
        Objective::Flops => c.flops_per_token,
        Objective::Params => c.params as f64,
        Objective::KvCache => c.kv_cache_bytes as f64,
        Objective::Latency | Objective::ValPpl | Objective::Recall => {
            unreachable!("[darts] cost is validated to be a per-layer cost")
        }
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
    let min = raw.iter().copied().fold(f64::INFINITY, f64::min);
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max > min {
        raw.iter().map(|r| (r - min) / (max - min)).collect()
    } else {
        vec![0.0; raw.len()]
    }
}

/// The best allowed attention mask for per-slot scores: `attn[s]` and
/// `ssm[s]` are the log-probabilities of slot s's best candidate of each type
/// (minus infinity when it has none). A fixed pattern's mask is scored
/// directly; under `free` with n attention layers the best mask puts them
/// where attention gains most over SSM, found by sorting, not by trying all
/// 2^depth masks. Ties go to the first mask in sorted order.
fn best_mask(space: &SearchSpace, attn: &[f64], ssm: &[f64]) -> Option<Vec<bool>> {
    let depth = attn.len();
    let score = |m: &[bool]| mask_score(m, attn, ssm);
    // Slots ordered by how much attention gains there, most first.
    let mut gain: Vec<usize> = (0..depth).collect();
    gain.sort_by(|&a, &b| {
        let (ga, gb) = (attn[a] - ssm[a], attn[b] - ssm[b]);
        gb.partial_cmp(&ga)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut masks: Vec<Vec<bool>> = Vec::new();
    for &pattern in &space.attention.patterns {
        for placement in space.feasible(pattern, depth) {
            masks.push(placement.mask(depth).unwrap_or_else(|| {
                let mut m = vec![false; depth];
                for &s in &gain[..placement.count(depth)] {
                    m[s] = true;
                }
                m
            }));
        }
    }
    masks.sort();
    masks.dedup();
    masks
        .into_iter()
        .map(|m| {
            let sc = score(&m);
            (m, sc)
        })
        .filter(|(_, sc)| sc.is_finite())
        .fold(None::<(Vec<bool>, f64)>, |acc, (m, sc)| match acc {
            Some((_, best)) if best >= sc => acc,
            _ => Some((m, sc)),
        })
        .map(|(m, _)| m)
}

/// The log-probability of `mask` from per-slot scores as [`best_mask`] takes them.
fn mask_score(mask: &[bool], attn: &[f64], ssm: &[f64]) -> f64 {
    mask.iter()
        .enumerate()
        .map(|(s, &a)| if a { attn[s] } else { ssm[s] })
        .sum()
}

/// Whether `layer` is an attending mixer of the kind `parallel` names.
fn attends_as(layer: &Layer, parallel: bool) -> bool {
    match layer {
        Layer::Attention { .. } => !parallel,
        Layer::Parallel { .. } => parallel,
        Layer::Ssm { .. } => false,
    }
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
/// probable candidate of its type. Where the space offers plain and parallel
/// attention, the kind whose best mask scores higher is taken for every
/// attending slot (ties to the kind listed first), as a design is all one
/// or the other. With shared attention, all attention layers take the one
/// (heads, window) with the highest product of probabilities over the
/// attention slots, as shared weights require.
pub fn discretise(
    space: &SearchSpace,
    settings: &DartsSettings,
    d_model: usize,
    candidates: &[Layer],
    probs: &[Vec<f64>],
) -> Result<Architecture, String> {
    let depth = probs.len();
    let log = |p: f64| p.max(1e-30).ln();
    let best_log = |s: usize, keep: &dyn Fn(&Layer) -> bool| -> f64 {
        best(&probs[s], candidates, keep).map_or(f64::NEG_INFINITY, |c| log(probs[s][c]))
    };
    let ssm: Vec<f64> = (0..depth)
        .map(|s| best_log(s, &|l| !l.is_attention()))
        .collect();
    let mut pick: Option<(bool, Vec<bool>, f64)> = None;
    for &parallel in &space.attention.parallel {
        let attn: Vec<f64> = (0..depth)
            .map(|s| best_log(s, &|l| attends_as(l, parallel)))
            .collect();
        let Some(mask) = best_mask(space, &attn, &ssm) else {
            continue;
        };
        let score = mask_score(&mask, &attn, &ssm);
        if pick.as_ref().is_none_or(|(_, _, best)| score > *best) {
            pick = Some((parallel, mask, score));
        }
    }
    let (parallel, mask, _) =
        pick.ok_or_else(|| format!("no attention placement of depth {depth} fits the space"))?;
    let n_attention = mask.iter().filter(|&&a| a).count();
    // Sharing only means something with two attention layers or more; with
    // fewer, a design is written the way the space's sampler writes it.
    // Parallel layers never share.
    let shared = !parallel
        && if n_attention >= 2 {
            settings.shared
        } else {
            space.canonical_shared()
        };

    let shared_pick = if shared {
        (0..candidates.len())
            .filter(|&c| attends_as(&candidates[c], false))
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
                (true, None) => best(&probs[s], candidates, |l| attends_as(l, parallel))
                    .expect("an attention slot scored finite"),
                (false, _) => best(&probs[s], candidates, |l| !l.is_attention())
                    .expect("an SSM slot scored finite"),
            };
            match candidates[c] {
                Layer::Attention { heads, window, .. } => Layer::Attention {
                    heads,
                    window,
                    shared,
                },
                ssm_layer => ssm_layer,
            }
        })
        .collect();
    let arch = Architecture {
        layers,
        ..template(space, d_model)
    };
    space.check(&arch)?;
    Ok(arch)
}
