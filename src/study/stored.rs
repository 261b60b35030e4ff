//! A study as read back from the store: every stored name decoded into its
//! type and the space text parsed, once, here.
//!
//! One failure policy for every command: a stored name that does not decode
//! (an unknown strategy, objective or evaluator) is [`StudyError::Corrupt`]
//! at once. A stored space that no longer parses (a later release checks more
//! than the one that stored it) keeps the study readable: its trials list,
//! plot and export as before, and [`StoredStudy::space`] answers
//! [`StudyError::StoredSpace`], naming the study and the problem, only to the
//! work that needs the space (a DARTS report, continuing the study).

use std::sync::Arc;

use super::{StudyError, StudyStrategy};
use crate::evaluate::EvaluatorKind;
use crate::objective::Objective;
use crate::prune::{Pruner, PrunerKind, PrunerSettings};
use crate::space::StrategyName;
use crate::space::{SearchSpace, SpaceError};
use crate::store::{Store, Study, StudySummary};

/// A stored study, typed.
#[derive(Clone, Debug)]
pub struct StoredStudy {
    pub id: i64,
    pub name: String,
    /// The stored space, parsed; see [`StoredStudy::space`].
    space: Result<SearchSpace, Arc<SpaceError>>,
    pub space_hash: String,
    pub strategy: StudyStrategy,
    /// Validation perplexity first, then the costs, as the space lists them.
    pub objectives: Vec<Objective>,
    /// `None` for a study an earlier release created before any trial of it
    /// completed; the next run records its evaluator.
    pub evaluator: Option<EvaluatorKind>,
    pub seed: u64,
    pub budget: usize,
    pub code_version: String,
    /// Unix seconds.
    pub created: f64,
    /// How its trials are pruned (kind `none` when they are not).
    pub pruner: PrunerSettings,
}

impl StoredStudy {
    /// Decodes a stored row, parsing its space text.
    pub fn decode(row: Study) -> Result<Self, StudyError> {
        let origin = format!("study `{}`", row.name);
        let space = SearchSpace::parse(&row.space_text, &origin).map_err(Arc::new);
        Self::with_space(row, space)
    }

    /// Decodes a stored row whose space the caller has parsed already (the
    /// same text: `open_or_continue` stores the space it was given).
    pub(super) fn with_space(
        row: Study,
        space: Result<SearchSpace, Arc<SpaceError>>,
    ) -> Result<Self, StudyError> {
        let corrupt = |what: String| StudyError::Corrupt {
            study: row.name.clone(),
            what,
        };
        let strategy = row
            .strategy
            .parse()
            .map_err(|e| corrupt(format!("an unknown strategy: {e}")))?;
        let objectives = row
            .objectives
            .iter()
            .map(|o| o.parse::<Objective>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(format!("an unknown objective: {e}")))?;
        let evaluator = row
            .evaluator
            .as_deref()
            .map(str::parse::<EvaluatorKind>)
            .transpose()
            .map_err(|e| corrupt(format!("an unknown evaluator: {e}")))?;
        let pruner = match &row.pruner {
            None => PrunerSettings::default_for(PrunerKind::None, 1),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| corrupt(format!("unreadable pruner settings: {e}")))?,
        };
        Ok(StoredStudy {
            id: row.id,
            name: row.name,
            space,
            space_hash: row.space_hash,
            strategy,
            objectives,
            evaluator,
            seed: row.seed,
            budget: row.budget,
            code_version: row.code_version,
            created: row.created,
            pruner,
        })
    }

    /// The study's search space, or why the stored text no longer parses.
    pub fn space(&self) -> Result<&SearchSpace, StudyError> {
        self.space
            .as_ref()
            .map_err(|source| StudyError::StoredSpace {
                study: self.name.clone(),
                source: source.clone(),
            })
    }

    pub fn is_darts(&self) -> bool {
        self.strategy == StudyStrategy::Search(StrategyName::Darts)
    }

    /// Its pruner for its space's training budget; `None` when nothing is
    /// pruned (or the stored space no longer parses).
    pub fn active_pruner(&self) -> Option<Pruner> {
        let steps = self.space.as_ref().ok()?.training.steps;
        self.pruner
            .is_active()
            .then(|| self.pruner.pruner(steps).ok())
            .flatten()
    }

    /// The cost objectives a pruner ranks trials by at a rung, besides the
    /// loss: those known before training (latency is measured after it).
    pub fn rung_costs(&self) -> Vec<Objective> {
        self.objectives
            .iter()
            .copied()
            .filter(|o| o.is_cost() && *o != Objective::Latency)
            .collect()
    }

    /// The first cost objective (the cost axis of fronts and `--max-cost`).
    pub fn cost_objective(&self) -> Option<Objective> {
        self.objectives.iter().copied().find(Objective::is_cost)
    }

    /// Whether the study's values are the analytic evaluator's stand-ins.
    pub fn is_stand_in(&self) -> bool {
        self.evaluator.is_some_and(|e| e.is_stand_in())
    }

    /// The warning to print beside the study's values, if they are stand-ins.
    pub fn stand_in_note(&self) -> Option<&'static str> {
        self.evaluator.and_then(|e| e.stand_in_note())
    }

    /// The evaluator's name, `-` when none is recorded yet.
    pub fn evaluator_name(&self) -> &'static str {
        self.evaluator.map_or("-", |e| e.as_str())
    }

    /// The evaluator for JSON: its name, or `null` when none is recorded.
    pub fn evaluator_json(&self) -> serde_json::Value {
        self.evaluator
            .map_or(serde_json::Value::Null, |e| e.as_str().into())
    }
}

/// The study named `name`; a missing one is an error that lists those the
/// store holds.
pub fn find(store: &dyn Store, name: &str) -> Result<StoredStudy, StudyError> {
    match store.find_study(name)? {
        Some(row) => StoredStudy::decode(row),
        None => {
            let names: Vec<String> = store
                .list_studies()?
                .into_iter()
                .map(|s| s.study.name)
                .collect();
            Err(StudyError::NotFound {
                name: name.to_string(),
                known: if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                },
            })
        }
    }
}

/// Every study with its trial counts, oldest first.
pub fn list(store: &dyn Store) -> Result<Vec<(StoredStudy, StudySummary)>, StudyError> {
    store
        .list_studies()?
        .into_iter()
        .map(|summary| Ok((StoredStudy::decode(summary.study.clone())?, summary)))
        .collect()
}
