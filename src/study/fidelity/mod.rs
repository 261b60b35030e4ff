//! Proxy fidelity: does the short training a study gives every trial rank
//! designs as a longer one would? `nas fidelity` retrains some of a study's
//! designs ([`select`]: its front and a spread of the rest) at `factor` times
//! the steps and on several seeds, in a linked grid study ([`linked`]), and
//! compares ([`analysis`]). Everything measured is stored: a rerun continues
//! the linked study and reports again.

pub mod analysis;
pub mod linked;
pub mod select;
mod show;

use crate::arch::Architecture;
use crate::evaluate::EvaluatorKind;
use crate::space::{SearchSpace, StrategyName};
use crate::store::TrialRecord;
use crate::study::groups::by_design;
use crate::study::{frame, StoredStudy, StudyConfig, StudyError, StudyRequest, StudyStrategy};

pub use analysis::{analyse, Agreement, Fidelity, FidelityRow};
pub use linked::{linked_space, LinkError, LinkedPlan, MAX_FACTOR};

/// Designs retrained when the command does not say.
pub const DEFAULT_SAMPLE: usize = 8;
/// Seeds per retrained design when the command does not say.
pub const DEFAULT_SEEDS: usize = 2;
/// Fewer designs than this rank nothing worth a correlation.
pub const MIN_SAMPLE: usize = 3;

/// What the command asks; `None` takes the default (a new check) or the
/// linked study's own (a continued one).
#[derive(Clone, Debug)]
pub struct FidelityRequest {
    pub factor: usize,
    pub sample: Option<usize>,
    pub seeds: Option<usize>,
    /// The linked study's name (default [`linked_name`]).
    pub linked: Option<String>,
}

/// The linked study's default name: `hybrid-x4` for study `hybrid`, factor 4.
pub fn linked_name(source: &str, factor: usize) -> String {
    format!("{source}-x{factor}")
}

#[derive(Debug, thiserror::Error)]
pub enum FidelityError {
    #[error(
        "study `{study}` has {complete} designs with complete trials; a fidelity check needs \
         at least {MIN_SAMPLE} (run more trials first)"
    )]
    TooFew { study: String, complete: usize },
    #[error("--sample {0}: expected at least {MIN_SAMPLE} designs")]
    Sample(usize),
    /// The linked study exists but was made otherwise.
    #[error("study `{linked}` {why}; pass --linked NEW_NAME for a new check")]
    Mismatch { linked: String, why: String },
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Study(#[from] StudyError),
}

impl FidelityError {
    /// Whether the user can fix it by changing the command (exit status 2).
    pub fn is_usage(&self) -> bool {
        match self {
            FidelityError::Study(e) => e.is_usage(),
            _ => true,
        }
    }
}

/// The linked study to train: its config (a grid over `designs`) and whether
/// it is new.
#[derive(Clone, Debug)]
pub struct Planned {
    pub config: StudyConfig,
    pub designs: Vec<Architecture>,
    pub existing: bool,
}

/// Plans the check of `source`: continues `existing` (the linked study, when
/// stored) after checking it was made with this factor, sample and seed
/// count; otherwise chooses the designs and writes the linked space.
pub fn plan(
    source: &StoredStudy,
    source_trials: &[TrialRecord],
    existing: Option<&StoredStudy>,
    request: &FidelityRequest,
) -> Result<Planned, FidelityError> {
    let source_space = source.space()?;
    let name = request
        .linked
        .clone()
        .unwrap_or_else(|| linked_name(&source.name, request.factor));
    let space = match existing {
        Some(linked) => continued(source_space, linked, request)?,
        None => fresh(source, source_space, source_trials, request, &name)?,
    };
    let designs = space
        .grid
        .as_ref()
        .map(|g| g.designs.clone())
        .unwrap_or_default();
    let config = StudyConfig::new(
        space,
        StudyRequest {
            name: Some(name),
            trials: None,
            seed: Some(source.seed),
            strategy: Some(StudyStrategy::Search(StrategyName::Grid)),
            evaluator: Some(source.evaluator.unwrap_or(EvaluatorKind::Train)),
            pruner: None,
        },
    )?;
    Ok(Planned {
        config,
        designs,
        existing: existing.is_some(),
    })
}

fn fresh(
    source: &StoredStudy,
    source_space: &SearchSpace,
    trials: &[TrialRecord],
    request: &FidelityRequest,
    name: &str,
) -> Result<SearchSpace, FidelityError> {
    let sample = request.sample.unwrap_or(DEFAULT_SAMPLE);
    if sample < MIN_SAMPLE {
        return Err(FidelityError::Sample(sample));
    }
    let groups = by_design(trials);
    let picks = select::select(&groups, &source.objectives, sample);
    if picks.len() < MIN_SAMPLE {
        return Err(FidelityError::TooFew {
            study: source.name.clone(),
            complete: picks.len(),
        });
    }
    // The exact design of each group's first trial, not its short form.
    let designs: Vec<Architecture> = picks
        .iter()
        .filter_map(|p| {
            let first = groups[p.group].trials[0];
            trials
                .iter()
                .find(|t| t.number == first)
                .and_then(frame::design)
        })
        .collect();
    let plan = LinkedPlan {
        name,
        source: &source.name,
        factor: request.factor,
        seeds: request.seeds.unwrap_or(DEFAULT_SEEDS),
        seed: source.seed,
        designs: &designs,
    };
    Ok(linked_space(source_space, &plan)?)
}

/// The stored linked study's space, if it matches the request.
fn continued(
    source_space: &SearchSpace,
    linked: &StoredStudy,
    request: &FidelityRequest,
) -> Result<SearchSpace, FidelityError> {
    let mismatch = |why: String| FidelityError::Mismatch {
        linked: linked.name.clone(),
        why,
    };
    let space = linked.space()?;
    let Some(grid) = space
        .grid
        .as_ref()
        .filter(|_| space.strategy == StrategyName::Grid)
    else {
        return Err(mismatch("is not a grid study of retrained designs".into()));
    };
    let steps = source_space.training.steps * request.factor;
    if space.training.steps != steps {
        return Err(mismatch(format!(
            "trains {} steps, not {steps} ({} x {})",
            space.training.steps, source_space.training.steps, request.factor
        )));
    }
    if let Some(sample) = request.sample.filter(|&s| s != grid.designs.len()) {
        return Err(mismatch(format!(
            "retrains {} designs, not --sample {sample}",
            grid.designs.len()
        )));
    }
    if let Some(seeds) = request.seeds.filter(|&s| s != grid.repeats) {
        return Err(mismatch(format!(
            "trains {} seeds per design, not --seeds {seeds}",
            grid.repeats
        )));
    }
    Ok(space.clone())
}

/// A check's finding with what it compared: the JSON of `nas fidelity`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FidelityReport {
    pub study: String,
    pub linked: String,
    pub factor: usize,
    pub proxy_steps: usize,
    pub long_steps: usize,
    /// The long budget's seeds (the first is the proxy trials' own).
    pub seeds: Vec<u64>,
    pub evaluator: &'static str,
    /// True when the values are the analytic evaluator's stand-ins.
    pub stand_in: bool,
    #[serde(flatten)]
    pub finding: Fidelity,
}

impl FidelityReport {
    /// Compares `source`'s trials with the linked study's for `planned`.
    pub fn new(
        source: &StoredStudy,
        source_trials: &[TrialRecord],
        planned: &Planned,
        linked_trials: &[TrialRecord],
    ) -> Result<FidelityReport, FidelityError> {
        let long = &planned.config.space;
        let repeats = long.grid.as_ref().map_or(1, |g| g.repeats);
        Ok(FidelityReport {
            study: source.name.clone(),
            linked: planned.config.name.clone(),
            factor: long.training.steps / source.space()?.training.steps.max(1),
            proxy_steps: source.space()?.training.steps,
            long_steps: long.training.steps,
            seeds: (0..repeats as u64).map(|r| source.seed + r).collect(),
            evaluator: source.evaluator_name(),
            stand_in: source.is_stand_in(),
            finding: analyse(
                &planned.designs,
                source_trials,
                linked_trials,
                &source.objectives,
            ),
        })
    }
}
