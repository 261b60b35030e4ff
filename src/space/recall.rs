//! `[recall]`: the in-context tasks a trial trains beside the text model when
//! `recall` is one of the study's objectives, validated by
//! `schema/recall.rs`.

use crate::tasks::copy::SelectiveCopy;
use crate::tasks::mqar::Mqar;
use crate::tasks::{TaskData, TaskKind};
use crate::train::TrainConfig;

/// Recall settings; every field has a default.
#[derive(Clone, Debug, PartialEq)]
pub struct RecallSettings {
    /// The tasks, each trained from fresh weights (default: MQAR alone).
    pub tasks: Vec<TaskKind>,
    /// MQAR and noisy-recall difficulties: key-value pairs per sequence.
    pub pairs: Vec<usize>,
    /// Selective-copy difficulties: tokens to copy.
    pub copies: Vec<usize>,
    /// Distinct key tokens and value tokens (MQAR, noisy recall).
    pub keys: usize,
    pub values: usize,
    /// Distinct data tokens (selective copy).
    pub tokens: usize,
    /// Noise tokens per pair (noisy recall).
    pub noise: usize,
    /// Positions of the first part of a selective-copy sequence.
    pub context: usize,
    /// Steps, batch, learning rate, weight decay, evaluation batches of each
    /// recall model; its sequence length is the task's.
    pub training: TrainConfig,
}

impl Default for RecallSettings {
    /// Settings cheap enough to train beside every trial's text model: 2 and
    /// 4 pairs, where recall is learned within a few hundred steps by the
    /// designs that can recall at all (`nas train --task mqar` defaults to
    /// the harder 4 and 5 pairs with a longer training).
    fn default() -> Self {
        let mqar = Mqar::default_task();
        let copy = SelectiveCopy::default_task();
        RecallSettings {
            tasks: vec![TaskKind::Mqar],
            pairs: vec![2, 4],
            copies: copy.copies,
            keys: mqar.keys,
            values: mqar.values,
            tokens: copy.tokens,
            noise: Mqar::default_noisy().noise,
            context: copy.context,
            training: Self::default_training(),
        }
    }
}

impl RecallSettings {
    /// What `nas train --task` trains on: each task's own default (MQAR at 4
    /// and 5 pairs, harder than a study's default, with a longer training).
    pub fn task_defaults() -> Self {
        RecallSettings {
            pairs: Mqar::default_task().pairs,
            ..Self::default()
        }
    }

    /// Training of one recall model in a study: cheap beside the text
    /// model's (see the README's timing of a recall trial).
    pub fn default_training() -> TrainConfig {
        TrainConfig {
            steps: 300,
            batch_size: 32,
            seq_len: 0,
            lr: 3e-3,
            weight_decay: 0.1,
            eval_interval: 0,
            eval_batches: 8,
            seed: 0,
            rungs: Vec::new(),
            device: Default::default(),
        }
    }

    /// Whether every difficulty fits: pairs need as many distinct keys,
    /// copies as many context positions (the space's schema reports the same
    /// with positions; this serves settings made elsewhere).
    pub fn check(&self) -> Result<(), String> {
        if self.pairs.is_empty() || self.copies.is_empty() || self.pairs.contains(&0) {
            return Err("difficulties must be one or more counts >= 1".into());
        }
        if let Some(p) = self.pairs.iter().find(|&&p| p > self.keys) {
            return Err(format!(
                "{p} pairs need {p} distinct keys; there are {}",
                self.keys
            ));
        }
        if let Some(c) = self.copies.iter().find(|&&c| c == 0 || c > self.context) {
            return Err(format!(
                "{c} tokens to copy do not fit a context of {}",
                self.context
            ));
        }
        Ok(())
    }

    /// The generator of `task` with these settings.
    pub fn task(&self, task: TaskKind) -> Box<dyn TaskData> {
        let mqar = |noise| Mqar {
            keys: self.keys,
            values: self.values,
            pairs: self.pairs.clone(),
            noise,
        };
        match task {
            TaskKind::Mqar => Box::new(mqar(0)),
            TaskKind::NoisyRecall => Box::new(mqar(self.noise)),
            TaskKind::SelectiveCopy => Box::new(SelectiveCopy {
                tokens: self.tokens,
                context: self.context,
                copies: self.copies.clone(),
            }),
            TaskKind::Text | TaskKind::Digits => {
                unreachable!("validated: [recall] tasks are in-context tasks")
            }
        }
    }
}
