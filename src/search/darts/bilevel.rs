//! One phase of supernet training: the warm-up (network weights only, all
//! candidates equally weighted) or the first-order bilevel search at one λ
//! (alternately a network-weight step on a training batch and an α step on a
//! held-out batch of the training split).
//!
//! The α objective is the held-out cross-entropy plus λ times the expected
//! normalised cost, `mean_s sum_c p[s, c] cost[c]`, with `p = softmax(α)`.
//! Every random stream is a ChaCha generator whose position is checkpointed,
//! and both optimisers keep their moments in tensors, so a phase resumed from
//! a checkpoint continues exactly as if it had not stopped. Every λ phase
//! draws the same batches and Gumbel noise (common random numbers), so the
//! searches of a sweep differ only by λ.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Kind, Tensor};

use super::checkpoint::{self, AlphaPoint, PhaseMeta, PhaseResult};
use super::{describe, DartsError};
use crate::arch::Architecture;
use crate::data::Batches;
use crate::device::ComputeDevice;
use crate::model::supernet::{Mixing, Supernet, SupernetSpec};
use crate::optim::AdamW;
use crate::space::DartsSettings;
use crate::train::TrainConfig;

/// Independent random streams of a phase: batches for the weight steps,
/// batches for the α steps, Gumbel noise.
const STREAMS: [u64; 3] = [0x7765_6967, 0x616c_7068, 0x6775_6d62];
/// ChaCha stream numbers: the warm-up and the searches draw apart.
const WARMUP_STREAM: u64 = 0;
const SEARCH_STREAM: u64 = 1;
/// Adam β1 for α, as in DARTS (a short memory suits the moving target).
const ARCH_BETA1: f64 = 0.5;
/// Points kept per trajectory (at most about this many).
const TRAJECTORY_POINTS: usize = 100;

/// Turns final per-slot probabilities into an architecture of the space.
pub type Discretise<'a> = dyn Fn(&[Vec<f64>]) -> Result<Architecture, String> + 'a;

/// Stores a phase's checkpoint blob, given with the metadata it holds.
pub type SaveCheckpoint<'a> = dyn FnMut(&PhaseMeta, &[u8]) -> Result<(), DartsError> + 'a;

/// Named tensors of a checkpoint.
pub type Named = Vec<(String, Tensor)>;

/// What a checkpoint keeps besides the metadata. A running phase needs
/// everything to resume exactly; a finished warm-up only its weights (the λ
/// phases start from them); a finished λ phase nothing (its result is in the
/// metadata). For the default space's supernet, everything is about 100 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    Everything,
    Weights,
    Nothing,
}

/// What every phase of a study shares.
pub struct PhaseSetup<'a> {
    /// The supernet; its template has the corpus vocabulary.
    pub spec: &'a SupernetSpec,
    /// Normalised cost per candidate, `(C)`.
    pub costs: &'a [f64],
    pub settings: &'a DartsSettings,
    /// Batch size, sequence length and weight decay of the network steps.
    pub training: &'a TrainConfig,
    /// The first 90% of the training split (network weights).
    pub weight_data: &'a Batches,
    /// The last 10% of the training split (α); never the validation split.
    pub arch_data: &'a Batches,
    /// Initial weights and the random streams derive from it.
    pub seed: u64,
    /// Where the supernet, α and the batches live. Checkpoints hold CPU
    /// tensors whatever it is, so a study resumes on another device.
    pub device: ComputeDevice,
}

/// Progress after one step of a phase.
#[derive(Clone, Copy, Debug)]
pub struct PhaseProgress {
    /// `None` during the warm-up.
    pub lambda: Option<f64>,
    pub step: usize,
    pub steps: usize,
    pub loss: f64,
}

/// A phase in memory: the network, α, both optimisers and the streams.
pub struct Phase<'a> {
    setup: &'a PhaseSetup<'a>,
    net: Supernet,
    /// Variable names of the network, sorted: the order of `weights` and of
    /// the network optimiser's moments.
    names: Vec<String>,
    weights: Vec<Tensor>,
    /// Per weight, the (slot, candidate) it belongs to; `None` for weights
    /// every step uses (embedding, norms, MLPs, head).
    owners: Vec<Option<(usize, usize)>>,
    /// `(S, C)` architecture weights, zeros at the start (uniform mixing).
    alpha: Tensor,
    /// `(1, C)` normalised candidate costs, built once for every α step.
    costs: Tensor,
    weight_opt: AdamW,
    arch_opt: AdamW,
    rngs: Vec<ChaCha8Rng>,
    pub meta: PhaseMeta,
}

/// `slot3.cand5.ssm.in_proj.weight` (a VarStore name) -> `Some((3, 5))`.
fn owner(name: &str) -> Option<(usize, usize)> {
    let mut parts = name.split('.');
    let slot = parts.next()?.strip_prefix("slot")?.parse().ok()?;
    let cand = parts.next()?.strip_prefix("cand")?.parse().ok()?;
    Some((slot, cand))
}

/// Takes the network weights out of autograd for an α step and puts them
/// back when dropped, also if the step panics.
struct Frozen<'a>(&'a [Tensor]);

impl<'a> Frozen<'a> {
    fn new(weights: &'a [Tensor]) -> Self {
        for w in weights {
            let _ = w.set_requires_grad(false);
        }
        Frozen(weights)
    }
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        for w in self.0 {
            let _ = w.set_requires_grad(true);
        }
    }
}

impl<'a> Phase<'a> {
    /// A fresh phase: network initialised from the seed, α zero.
    pub fn new(
        setup: &'a PhaseSetup<'a>,
        lambda: Option<f64>,
        steps: usize,
        fingerprint: String,
    ) -> Self {
        let device = setup.device.tch();
        let vs = nn::VarStore::new(device);
        let net = Supernet::new(&vs.root(), setup.spec, setup.seed);
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let (names, weights): (Vec<String>, Vec<Tensor>) = named.into_iter().unzip();
        let owners: Vec<_> = names.iter().map(|n| owner(n)).collect();
        debug_assert!(
            owners.iter().any(Option::is_some),
            "candidate weights are named slotS.candC.*"
        );
        // Matrices and conv kernels decay, vectors do not (as in the trainer).
        let decay = weights.iter().map(|w| w.dim() >= 2).collect();
        let weight_opt = AdamW::new(
            weights.iter().map(Tensor::shallow_clone).collect(),
            decay,
            setup.training.weight_decay,
        );
        let shape = [setup.spec.depth as i64, setup.spec.candidates.len() as i64];
        let alpha = Tensor::zeros(shape, (Kind::Float, device)).set_requires_grad(true);
        let costs = Tensor::from_slice(setup.costs)
            .to_kind(Kind::Float)
            .to_device(device)
            .unsqueeze(0);
        let mut arch_opt = AdamW::new(vec![alpha.shallow_clone()], vec![false], 0.0);
        arch_opt.beta1 = ARCH_BETA1;
        let stream = if lambda.is_some() {
            SEARCH_STREAM
        } else {
            WARMUP_STREAM
        };
        let rngs = STREAMS
            .iter()
            .map(|s| {
                let mut rng = ChaCha8Rng::seed_from_u64(setup.seed ^ s);
                rng.set_stream(stream);
                rng
            })
            .collect();
        Phase {
            setup,
            net,
            names,
            weights,
            owners,
            alpha,
            costs,
            weight_opt,
            arch_opt,
            rngs,
            meta: PhaseMeta {
                lambda,
                fingerprint,
                step: 0,
                steps,
                seconds: 0.0,
                rng_positions: Vec::new(),
                pending: Default::default(),
                trajectory: Vec::new(),
                result: None,
            },
        }
    }

    /// What the phase was built from.
    pub fn setup(&self) -> &'a PhaseSetup<'a> {
        self.setup
    }

    /// Copies the network weights of a checkpoint (the warm-up's, to start a
    /// λ phase from), leaving α and the optimisers alone.
    pub fn load_weights(&mut self, tensors: &[(String, Tensor)]) -> Result<(), DartsError> {
        let _guard = tch::no_grad_guard();
        for (name, w) in self.names.iter().zip(self.weights.iter_mut()) {
            let key = format!("net/{name}");
            let src = tensors
                .iter()
                .find(|(n, _)| *n == key)
                .map(|(_, t)| t)
                .filter(|t| t.size() == w.size())
                .ok_or_else(|| DartsError::Checkpoint(format!("missing or misshapen {key}")))?;
            w.copy_(src);
        }
        Ok(())
    }

    /// Restores everything a checkpoint of this same phase holds.
    pub fn restore(
        &mut self,
        meta: PhaseMeta,
        tensors: &[(String, Tensor)],
    ) -> Result<(), DartsError> {
        self.load_weights(tensors)?;
        let find = |name: &str| {
            tensors
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.shallow_clone())
        };
        let missing = |n: String| DartsError::Checkpoint(format!("missing or misshapen {n}"));
        let alpha = find("alpha")
            .filter(|a| a.size() == self.alpha.size())
            .ok_or_else(|| missing("alpha".into()))?;
        tch::no_grad(|| self.alpha.copy_(&alpha));
        self.weight_opt.load_state("wopt/", find).map_err(missing)?;
        self.arch_opt.load_state("aopt/", find).map_err(missing)?;
        if meta.rng_positions.len() != self.rngs.len() {
            return Err(DartsError::Checkpoint(
                "random stream positions missing".into(),
            ));
        }
        for (rng, pos) in self.rngs.iter_mut().zip(&meta.rng_positions) {
            let pos: u128 = pos
                .parse()
                .map_err(|_| DartsError::Checkpoint(format!("bad stream position {pos}")))?;
            rng.set_word_pos(pos);
        }
        self.meta = meta;
        Ok(())
    }

    /// The network weights, named as in a checkpoint.
    pub fn weights(&self) -> Named {
        self.names
            .iter()
            .zip(&self.weights)
            .map(|(n, w)| (format!("net/{n}"), w.shallow_clone()))
            .collect()
    }

    /// The phase as a checkpoint blob holding what `keep` says.
    pub fn checkpoint(&mut self, keep: Keep) -> Result<Vec<u8>, DartsError> {
        self.meta.rng_positions = self
            .rngs
            .iter()
            .map(|r| r.get_word_pos().to_string())
            .collect();
        let tensors = match keep {
            Keep::Everything => {
                let mut t = self.weights();
                t.push(("alpha".into(), self.alpha.detach()));
                t.extend(self.weight_opt.state("wopt/"));
                t.extend(self.arch_opt.state("aopt/"));
                t
            }
            Keep::Weights => self.weights(),
            Keep::Nothing => Vec::new(),
        };
        let tensors: Named = tensors
            .into_iter()
            .map(|(n, t)| (n, t.to_device(tch::Device::Cpu)))
            .collect();
        Ok(checkpoint::encode(&self.meta, &tensors)?)
    }

    /// Per slot, the softmax of α.
    pub fn probs(&self) -> Vec<Vec<f64>> {
        let p = self
            .alpha
            .detach()
            .softmax(-1, Kind::Float)
            .to_device(tch::Device::Cpu);
        let rows = p.size()[0];
        (0..rows)
            .map(|s| Vec::<f64>::try_from(p.get(s).to_kind(Kind::Double)).expect("f64 row"))
            .collect()
    }

    /// Gumbel noise `(S, C)` from the phase's stream.
    fn gumbel_noise(&mut self) -> Tensor {
        let n = self.alpha.numel();
        let values: Vec<f32> = (0..n)
            .map(|_| {
                let u: f64 = self.rngs[2].random_range(1e-10..1.0);
                -(-u.ln()).ln() as f32
            })
            .collect();
        Tensor::from_slice(&values)
            .view_(self.alpha.size())
            .to_device(self.alpha.device())
    }

    /// Per slot, the candidate with the largest value of `t` `(S, C)`, and the
    /// one-hot `(S, C)` of that choice.
    fn choose(t: &Tensor) -> (Vec<usize>, Tensor) {
        let idx = t.argmax(-1, false);
        let one_hot = t
            .detach()
            .zeros_like()
            .scatter_value(-1, &idx.unsqueeze(-1), 1.0);
        let chosen = Vec::<i64>::try_from(idx.to_device(tch::Device::Cpu))
            .expect("i64 indices")
            .into_iter()
            .map(|i| i as usize)
            .collect();
        (chosen, one_hot)
    }

    fn cross_entropy(&self, x: &Tensor, y: &Tensor, mixing: &Mixing) -> Tensor {
        let logits = self.net.forward(x, mixing);
        let v = logits.size()[2];
        logits
            .reshape([-1, v])
            .cross_entropy_for_logits(&y.reshape([-1]))
    }

    /// One network-weight step; α is held fixed (detached). With Gumbel
    /// sampling only the sampled candidates run, and only they (and the
    /// shared weights) are updated.
    fn weight_step(&mut self, lr: f64) -> f64 {
        let cfg = self.setup.training;
        let (x, y) = self
            .setup
            .weight_data
            .sample(&mut self.rngs[0], cfg.batch_size, cfg.seq_len);
        let (x, y) = (
            x.to_device(self.alpha.device()),
            y.to_device(self.alpha.device()),
        );
        let (loss, reached) = if self.setup.settings.gumbel {
            let noise = self.gumbel_noise();
            let (chosen, one_hot) = Self::choose(&(self.alpha.detach() + noise));
            let loss = self.cross_entropy(
                &x,
                &y,
                &Mixing::Hard {
                    chosen: &chosen,
                    w: &one_hot,
                },
            );
            let reached: Vec<bool> = self
                .owners
                .iter()
                .map(|o| o.is_none_or(|(s, c)| chosen[s] == c))
                .collect();
            (loss, Some(reached))
        } else {
            let p = self.alpha.detach().softmax(-1, Kind::Float);
            (self.cross_entropy(&x, &y, &Mixing::Soft(&p)), None)
        };
        self.weight_opt.zero_grad();
        loss.backward();
        self.weight_opt.clip_grad_norm(1.0, reached.as_deref());
        self.weight_opt.step_reached(lr, reached.as_deref());
        loss.double_value(&[])
    }

    /// One α step at penalty `lambda` with temperature `tau` (Gumbel only);
    /// returns the held-out cross-entropy.
    fn arch_step(&mut self, lambda: f64, tau: f64) -> f64 {
        let cfg = self.setup.training;
        let (x, y) = self
            .setup
            .arch_data
            .sample(&mut self.rngs[1], cfg.batch_size, cfg.seq_len);
        let (x, y) = (
            x.to_device(self.alpha.device()),
            y.to_device(self.alpha.device()),
        );
        let noise = self.setup.settings.gumbel.then(|| self.gumbel_noise());
        // The network is fixed here: no weight gradients to compute.
        let _frozen = Frozen::new(&self.weights);
        let p = self.alpha.softmax(-1, Kind::Float); // (S, C)
        let ce = match noise {
            Some(noise) => {
                let soft = ((&self.alpha + noise) / tau).softmax(-1, Kind::Float);
                let (chosen, hard) = Self::choose(&soft);
                // Value: the one-hot; gradient: that of the soft sample (GDAS).
                let w = hard - soft.detach() + &soft;
                self.cross_entropy(
                    &x,
                    &y,
                    &Mixing::Hard {
                        chosen: &chosen,
                        w: &w,
                    },
                )
            }
            None => self.cross_entropy(&x, &y, &Mixing::Soft(&p)),
        };
        let expected_cost = (&p * &self.costs)
            .sum_dim_intlist(-1, false, Kind::Float)
            .mean(Kind::Float);
        let objective = &ce + expected_cost * lambda;
        self.arch_opt.zero_grad();
        objective.backward();
        self.arch_opt.step(self.setup.settings.arch_lr);
        ce.double_value(&[])
    }

    fn non_finite(&self, loss: f64) -> DartsError {
        DartsError::NonFinite {
            phase: describe(self.meta.lambda),
            step: self.meta.step + 1,
            loss,
        }
    }

    /// Runs the phase to its end from wherever it stands. `save` receives the metadata and a
    /// checkpoint every `checkpoint_every` steps, when `on_step` breaks, and
    /// at the end (then with the result of `derive` on the final α).
    pub fn run(
        &mut self,
        on_step: &mut dyn FnMut(PhaseProgress) -> ControlFlow<()>,
        save: &mut SaveCheckpoint,
        derive: &Discretise,
    ) -> Result<(), DartsError> {
        let settings = self.setup.settings;
        let steps = self.meta.steps;
        let record_every = steps.div_ceil(TRAJECTORY_POINTS).max(1);
        // Each phase ramps the weights' learning rate up over 5% of its
        // steps: the warm-up from a fresh network, a search from a fresh
        // optimiser.
        let ramp = (steps / 20).max(1);
        let mut started = Instant::now();
        if self.meta.lambda.is_some() && self.meta.trajectory.is_empty() {
            self.meta.trajectory.push(AlphaPoint {
                step: 0,
                probs: self.probs(),
                train_loss: None,
                arch_loss: None,
            });
        }
        while self.meta.step < steps {
            let step = self.meta.step;
            let lr = settings.weight_lr * ((step + 1) as f64 / ramp as f64).min(1.0);
            let loss = self.weight_step(lr);
            if !loss.is_finite() {
                return Err(self.non_finite(loss));
            }
            let arch_loss = match self.meta.lambda {
                None => 0.0,
                Some(lambda) => {
                    let progress = step as f64 / (steps.max(2) - 1) as f64;
                    let tau = settings.tau.0 + (settings.tau.1 - settings.tau.0) * progress;
                    let ce = self.arch_step(lambda, tau);
                    if !ce.is_finite() {
                        return Err(self.non_finite(ce));
                    }
                    ce
                }
            };
            let pending = &mut self.meta.pending;
            pending.train_sum += loss;
            pending.arch_sum += arch_loss;
            pending.count += 1;
            self.meta.step += 1;
            let done = self.meta.step >= steps;
            if self.meta.lambda.is_some() && (self.meta.step.is_multiple_of(record_every) || done) {
                let p = std::mem::take(&mut self.meta.pending);
                let probs = self.probs();
                if probs.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(self.non_finite(f64::NAN));
                }
                self.meta.trajectory.push(AlphaPoint {
                    step: self.meta.step,
                    probs,
                    train_loss: Some(p.train_sum / p.count as f64),
                    arch_loss: Some(p.arch_sum / p.count as f64),
                });
            }
            let flow = on_step(PhaseProgress {
                lambda: self.meta.lambda,
                step: self.meta.step,
                steps,
                loss,
            });
            let stop = flow.is_break();
            if done || stop || self.meta.step.is_multiple_of(settings.checkpoint_every) {
                self.meta.seconds += started.elapsed().as_secs_f64();
                started = Instant::now();
                if done && self.meta.lambda.is_some() {
                    // The last trajectory point holds the final α already.
                    let probs = self
                        .meta
                        .trajectory
                        .last()
                        .expect("recorded at the end")
                        .probs
                        .clone();
                    let arch = derive(&probs).map_err(DartsError::Derive)?;
                    self.meta.result = Some(PhaseResult { probs, arch });
                }
                let keep = match (done, self.meta.lambda) {
                    (false, _) => Keep::Everything,
                    (true, None) => Keep::Weights,
                    (true, Some(_)) => Keep::Nothing,
                };
                let blob = self.checkpoint(keep)?;
                save(&self.meta, &blob)?;
            }
            if stop {
                return Err(DartsError::Interrupted);
            }
        }
        Ok(())
    }
}
