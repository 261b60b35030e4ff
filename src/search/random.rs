//! Random search: every proposal is a fresh sample of the space. Duplicates of
//! evaluated designs are refused by the store's claim and drawn again.

use rand_chacha::ChaCha8Rng;

use super::{Proposal, Strategy};
use crate::space::SearchSpace;
use crate::store::TrialRecord;

pub struct RandomSearch {
    space: SearchSpace,
}

impl RandomSearch {
    pub fn new(space: SearchSpace) -> Self {
        RandomSearch { space }
    }
}

impl Strategy for RandomSearch {
    fn ask(&mut self, _history: &[TrialRecord], rng: &mut ChaCha8Rng) -> Option<Proposal> {
        Some(Proposal {
            arch: self.space.sample(rng),
            extra: None,
            seed: None,
        })
    }
}
