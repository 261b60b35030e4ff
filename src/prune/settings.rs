//! What a study prunes with: the settings as written (`[pruner]` in a space,
//! `nas run --pruner`) and the [`Pruner`] they make for a training budget.

use serde::{Deserialize, Serialize};

use super::rungs::{bracket_of, bracket_weights, ladder, Bracket};
use crate::names::named;

/// η when the space does not say: keep the best third at each rung, the
/// value of both papers.
pub const DEFAULT_REDUCTION_FACTOR: usize = 3;

/// Which early-stopping rule a study uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrunerKind {
    /// Every trial trains to the end.
    None,
    /// Asynchronous successive halving: one ladder of rungs.
    Asha,
    /// Several ASHA ladders (brackets) with different first rungs.
    Hyperband,
}

named!(PrunerKind, "pruner");

impl PrunerKind {
    pub const ALL: [PrunerKind; 3] = [PrunerKind::None, PrunerKind::Asha, PrunerKind::Hyperband];

    pub fn as_str(&self) -> &'static str {
        match self {
            PrunerKind::None => "none",
            PrunerKind::Asha => "asha",
            PrunerKind::Hyperband => "hyperband",
        }
    }
}

/// The settings of a pruner, stored with its study (as JSON) so that a
/// resumed run decides as the first one did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunerSettings {
    pub kind: PrunerKind,
    /// The first rung, in training steps.
    pub min_steps: usize,
    /// η: a rung keeps the best `1/η` of the trials that reach it.
    pub reduction_factor: usize,
    /// Hyperband's brackets; `None`: as many as the budget holds, the last
    /// one training every trial to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brackets: Option<usize>,
    /// Rank at a rung by the loss alone, not by (loss, costs) as MO-ASHA
    /// does. The replay of the default space found the best design more
    /// often so (README, "Early stopping").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_loss: bool,
}

impl PrunerSettings {
    /// The default settings of `kind` for a training budget of `steps`: a
    /// first rung at a ninth of the budget, so that at η = 3 ASHA compares
    /// trials at a ninth and a third of it.
    pub fn default_for(kind: PrunerKind, steps: usize) -> PrunerSettings {
        let eta = DEFAULT_REDUCTION_FACTOR;
        PrunerSettings {
            kind,
            min_steps: (steps / (eta * eta)).max(1),
            reduction_factor: eta,
            brackets: None,
            by_loss: false,
        }
    }

    /// Whether it prunes at all.
    pub fn is_active(&self) -> bool {
        self.kind != PrunerKind::None
    }

    /// Checks the settings against a training budget of `max_steps`; the
    /// error says which setting to change and how.
    pub fn check(&self, max_steps: usize) -> Result<(), PrunerError> {
        if self.reduction_factor < 2 {
            return Err(PrunerError::ReductionFactor(self.reduction_factor));
        }
        if self.min_steps == 0 || (self.is_active() && self.max_brackets(max_steps) == 1) {
            return Err(PrunerError::MinSteps {
                min_steps: self.min_steps,
                eta: self.reduction_factor,
                max_steps,
            });
        }
        if let Some(brackets) = self.brackets {
            let most = self.max_brackets(max_steps);
            if self.kind != PrunerKind::Hyperband || brackets == 0 || brackets > most {
                return Err(PrunerError::Brackets {
                    brackets,
                    kind: self.kind,
                    most,
                });
            }
        }
        Ok(())
    }

    fn max_brackets(&self, max_steps: usize) -> usize {
        ladder(self.min_steps, self.reduction_factor, max_steps, 0).len() + 1
    }

    /// The pruner for a training budget of `max_steps` (checked first).
    pub fn pruner(&self, max_steps: usize) -> Result<Pruner, PrunerError> {
        self.check(max_steps)?;
        let eta = self.reduction_factor;
        let count = match self.kind {
            PrunerKind::None => 0,
            PrunerKind::Asha => 1,
            PrunerKind::Hyperband => self
                .brackets
                .unwrap_or_else(|| self.max_brackets(max_steps)),
        };
        let brackets: Vec<Bracket> = (0..count)
            .map(|index| Bracket {
                index,
                rungs: ladder(self.min_steps, eta, max_steps, index as u32),
            })
            .collect();
        let first = brackets.first().map_or(0, |b| b.rungs.len());
        Ok(Pruner {
            settings: self.clone(),
            max_steps,
            weights: bracket_weights(first, eta, count.max(1)),
            brackets,
        })
    }
}

/// Settings that cannot prune a training budget, by the setting to change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrunerError {
    #[error("reduction_factor must be at least 2 (got {0}): a rung keeps the best 1/η")]
    ReductionFactor(usize),
    #[error(
        "min_steps {min_steps} x reduction_factor {eta} is beyond the training budget of \
         {max_steps} steps: there is no rung to prune at (min_steps from 1 to {})",
        max_steps / eta
    )]
    MinSteps {
        min_steps: usize,
        eta: usize,
        max_steps: usize,
    },
    #[error(
        "{}",
        if *kind != PrunerKind::Hyperband {
            format!("brackets applies to the hyperband pruner only, not to {kind}")
        } else {
            format!(
                "brackets {brackets} is not between 1 and {most} (the rungs below the budget, \
                 and one bracket more that trains every trial to the end)"
            )
        }
    )]
    Brackets {
        brackets: usize,
        kind: PrunerKind,
        most: usize,
    },
}

/// A pruner for one training budget: its brackets and how trials are dealt
/// to them.
#[derive(Clone, Debug, PartialEq)]
pub struct Pruner {
    pub settings: PrunerSettings,
    pub max_steps: usize,
    /// Empty for `none`; one for ASHA.
    pub brackets: Vec<Bracket>,
    weights: Vec<usize>,
}

impl Pruner {
    pub fn eta(&self) -> usize {
        self.settings.reduction_factor
    }

    /// The bracket trial `number` runs in; `None` when nothing is pruned.
    pub fn bracket(&self, number: i64) -> Option<&Bracket> {
        if self.brackets.is_empty() {
            return None;
        }
        self.brackets
            .get(bracket_of(number.max(0) as u64, &self.weights))
    }

    /// Every step at which some bracket has a rung, increasing: where the
    /// trainer evaluates besides its own interval.
    pub fn all_rungs(&self) -> Vec<usize> {
        let mut steps: Vec<usize> = self
            .brackets
            .iter()
            .flat_map(|b| b.rungs.iter().copied())
            .collect();
        steps.sort_unstable();
        steps.dedup();
        steps
    }

    /// One line for the start of a run: `asha: rungs at 33, 99 of 300
    /// steps, keeping the best 1/3 at each`.
    pub fn describe(&self) -> String {
        let list = |r: &[usize]| {
            r.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rank = if self.settings.by_loss {
            ", ranked by the loss alone"
        } else {
            ""
        };
        let line: String = match self.settings.kind {
            PrunerKind::None => return "no pruning: every trial trains to the end".into(),
            PrunerKind::Asha => format!(
                "asha: rungs at {} of {} steps, keeping the best 1/{} at each",
                list(&self.brackets[0].rungs),
                self.max_steps,
                self.eta()
            ),
            PrunerKind::Hyperband => format!(
                "hyperband: {} brackets (first rungs at {} of {} steps), keeping the best 1/{} \
                 at each rung",
                self.brackets.len(),
                self.brackets
                    .iter()
                    .map(|b| b.rungs.first().map_or("none".into(), |s| s.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.max_steps,
                self.eta()
            ),
        };
        format!("{line}{rank}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: PrunerKind) -> PrunerSettings {
        PrunerSettings {
            kind,
            min_steps: 33,
            reduction_factor: 3,
            brackets: None,
            by_loss: false,
        }
    }

    #[test]
    fn asha_has_one_bracket_and_hyperband_one_per_first_rung() {
        let asha = settings(PrunerKind::Asha).pruner(300).unwrap();
        assert_eq!(asha.brackets.len(), 1);
        assert_eq!(asha.brackets[0].rungs, vec![33, 99]);
        assert_eq!(asha.bracket(17).unwrap().index, 0);
        let hb = settings(PrunerKind::Hyperband).pruner(300).unwrap();
        let rungs: Vec<Vec<usize>> = hb.brackets.iter().map(|b| b.rungs.clone()).collect();
        assert_eq!(rungs, vec![vec![33, 99], vec![99], vec![]]);
        assert_eq!(hb.all_rungs(), vec![33, 99]);
        let none = settings(PrunerKind::None).pruner(300).unwrap();
        assert!(none.bracket(0).is_none());
        assert!(none.all_rungs().is_empty());
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let message = |s: &PrunerSettings| s.check(300).unwrap_err().to_string();
        let mut s = settings(PrunerKind::Asha);
        s.reduction_factor = 1;
        assert!(message(&s).contains("at least 2"));
        let mut s = settings(PrunerKind::Asha);
        s.min_steps = 101;
        assert!(message(&s).contains("from 1 to 100"), "{}", message(&s));
        s.min_steps = 100;
        assert!(s.check(300).is_ok());
        let mut s = settings(PrunerKind::Asha);
        s.brackets = Some(2);
        assert!(message(&s).contains("hyperband pruner only"));
        let mut s = settings(PrunerKind::Hyperband);
        s.brackets = Some(4);
        assert!(message(&s).contains("between 1 and 3"));
    }

    #[test]
    fn defaults_compare_at_a_ninth_and_a_third_of_the_budget() {
        let s = PrunerSettings::default_for(PrunerKind::Asha, 300);
        assert_eq!(s.min_steps, 33);
        assert_eq!(s.pruner(300).unwrap().brackets[0].rungs, vec![33, 99]);
    }
}
