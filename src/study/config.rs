//! What a command asks of a study, and the rules for creating or continuing
//! one. Every rule is checked before the store is written: a refused request
//! leaves the store as it was.

use std::collections::HashSet;

use super::{StoredStudy, StudyError, StudyStrategy};
use crate::data::Corpus;
use crate::evaluate::EvaluatorKind;
use crate::objective::Objective;
use crate::prune::{PrunerKind, PrunerSettings};
use crate::search::darts::check_corpus;
use crate::search::{make_strategy, Strategy};
use crate::space::{SearchSpace, StrategyName};
use crate::store::{Budget, Store, StoreError, Study, StudySpec, TrialRecord, TrialState};

/// The overrides a command line gives; `None` takes the space's (or, when
/// the study exists, the stored) value.
#[derive(Clone, Debug, Default)]
pub struct StudyRequest {
    /// Study name (default: the space's name).
    pub name: Option<String>,
    /// Trial budget (a DARTS study has none to give: its supernets decide).
    pub trials: Option<usize>,
    pub seed: Option<u64>,
    /// `None`: the space's strategy.
    pub strategy: Option<StudyStrategy>,
    pub evaluator: Option<EvaluatorKind>,
    /// `--pruner`: `None` takes the space's `[pruner]`, else the stored one.
    pub pruner: Option<PrunerKind>,
}

/// A study as a command wants it, checked against itself.
#[derive(Clone, Debug)]
pub struct StudyConfig {
    pub name: String,
    pub space: SearchSpace,
    pub strategy: StudyStrategy,
    pub objectives: Vec<Objective>,
    pub evaluator: EvaluatorKind,
    pub seed: u64,
    /// The budget of a new study: `--trials`, else the space's `trials`; for
    /// a grid its size (designs x repeats); for
    /// DARTS one trial per (shape, λ) until the supernets say how many
    /// distinct designs they derived ([`darts_budget`]).
    pub budget: usize,
    /// The version of `nas` that records the trials.
    pub code_version: String,
    /// The pruner asked for (`--pruner`, else `[pruner]`); `None` when
    /// neither says: a new study prunes nothing, a continued one keeps its own.
    pub pruner: Option<PrunerSettings>,
    request: StudyRequest,
}

impl StudyConfig {
    pub fn new(space: SearchSpace, request: StudyRequest) -> Result<Self, StudyError> {
        if request.trials == Some(0) {
            return Err(StudyError::Refused("--trials must be at least 1".into()));
        }
        let strategy = request
            .strategy
            .unwrap_or(StudyStrategy::Search(space.strategy));
        let is_darts = strategy == StudyStrategy::Search(StrategyName::Darts);
        if is_darts && request.trials.is_some() {
            return Err(StudyError::Refused(
                "--trials does not apply to darts: a DARTS study trains one architecture per \
                 [darts] lambdas entry and supernet shape (fewer when two derive the same)"
                    .into(),
            ));
        }
        let is_grid = strategy == StudyStrategy::Search(StrategyName::Grid);
        if is_grid && request.trials.is_some() {
            return Err(StudyError::Refused(
                "--trials does not apply to grid: a grid study trains each [grid] design \
                 `repeats` times, and that is its budget"
                    .into(),
            ));
        }
        if is_grid && space.grid.is_none() {
            return Err(StudyError::Refused(
                crate::search::SearchError::NoGrid(space.name.clone()).to_string(),
            ));
        }
        let budget = if is_darts {
            space.darts.depth.len() * space.darts.d_model.len() * space.darts.lambdas.len()
        } else if is_grid {
            space.grid.as_ref().map_or(space.trials, |g| g.size())
        } else {
            request.trials.unwrap_or(space.trials)
        };
        let pruner = asked_pruner(&space, request.pruner)?;
        if is_darts && pruner.as_ref().is_some_and(PrunerSettings::is_active) {
            return Err(StudyError::Refused(
                "pruning does not apply to darts: its supernets train once and the designs they \
                 derive train to the end; drop --pruner (or [pruner]) or use another strategy"
                    .into(),
            ));
        }
        Ok(StudyConfig {
            name: request.name.clone().unwrap_or_else(|| space.name.clone()),
            pruner,
            strategy,
            objectives: space.objectives.clone(),
            evaluator: request.evaluator.unwrap_or(EvaluatorKind::Train),
            seed: request.seed.unwrap_or(space.seed),
            budget,
            code_version: env!("CARGO_PKG_VERSION").to_string(),
            space,
            request,
        })
    }

    pub fn is_darts(&self) -> bool {
        self.strategy == StudyStrategy::Search(StrategyName::Darts)
    }

    /// The strategy that proposes this study's designs, for the strategies
    /// that propose from the history alone (DARTS first trains supernets:
    /// `crate::search::darts::DartsSearch`).
    pub fn make_strategy(&self) -> Result<Box<dyn Strategy>, StudyError> {
        match self.strategy {
            StudyStrategy::Search(name) => Ok(make_strategy(name, &self.space, self.seed)?),
            StudyStrategy::External => Err(StudyError::Refused(format!(
                "study `{}` is external: its designs come from `nas eval --study`, \
                 not from a strategy of `nas run`",
                self.name
            ))),
        }
    }

    /// The corpus a DARTS supernet trains on (whatever scores the trials),
    /// read and checked before anything is stored; `None` for other strategies.
    pub fn supernet_corpus(&self) -> Result<Option<Corpus>, StudyError> {
        if !self.is_darts() {
            return Ok(None);
        }
        let corpus = Corpus::load(self.space.task.corpus.as_deref())?;
        corpus.check_seq_len(self.space.task.seq_len)?;
        check_corpus(&corpus, self.space.task.seq_len)?;
        Ok(Some(corpus))
    }

    fn spec(&self, budget: Budget) -> StudySpec {
        StudySpec {
            name: self.name.clone(),
            space_text: self.space.text.clone(),
            space_hash: self.space.hash(),
            objectives: self
                .objectives
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            strategy: self.strategy.as_str().to_string(),
            evaluator: self.evaluator.as_str().to_string(),
            seed: self.seed,
            budget,
            code_version: self.code_version.clone(),
            pruner: self
                .pruner
                .as_ref()
                .filter(|p| p.is_active())
                .map(|p| serde_json::to_string(p).expect("pruner settings serialise")),
        }
    }

    /// Refuses to continue a study that prunes with `stored` under another
    /// pruner than the one asked for: decisions taken under one rule would
    /// not compare with the other's.
    fn check_pruner(&self, name: &str, stored: &PrunerSettings) -> Result<(), StudyError> {
        let Some(asked) = &self.pruner else {
            return Ok(());
        };
        if asked == stored || !(asked.is_active() || stored.is_active()) {
            return Ok(());
        }
        let has = if stored.is_active() {
            format!("prunes with {}", describe(stored))
        } else {
            "trains every trial to the end".into()
        };
        Err(StudyError::Refused(format!(
            "study `{name}` {has}; this run asks for {}: continue it without --pruner and with \
             its space, or use --study NEW_NAME",
            describe(asked)
        )))
    }

    /// Refuses to continue `existing` with another strategy, seed or
    /// evaluator. An external request (`nas eval`) may record into any study.
    fn check_continuation(&self, existing: &StoredStudy) -> Result<(), StudyError> {
        let name = &existing.name;
        if existing.strategy == StudyStrategy::External && self.strategy != existing.strategy {
            return Err(StudyError::Refused(format!(
                "study `{name}` is external (its trials come from `nas eval --study {name}`); \
                 `nas run` cannot propose for it: use --study NEW_NAME"
            )));
        }
        if self.strategy != StudyStrategy::External && existing.strategy != self.strategy {
            return Err(StudyError::Refused(if self.request.strategy.is_some() {
                format!(
                    "study `{name}` uses the {} strategy; --strategy {} needs a new --study name",
                    existing.strategy, self.strategy
                )
            } else {
                format!(
                    "study `{name}` uses the {0} strategy, but the space says {1}; pass \
                     --strategy {0} to continue it, or use --study NEW_NAME",
                    existing.strategy, self.strategy
                )
            }));
        }
        if self.request.seed.is_some_and(|seed| seed != existing.seed) {
            return Err(StudyError::Refused(format!(
                "study `{name}` has seed {}; another --seed needs a new --study name",
                existing.seed
            )));
        }
        // Perplexities from the analytic stand-in and from training must
        // never share a front: a study keeps the evaluator it started with.
        if let Some(used) = existing.evaluator.filter(|&e| e != self.evaluator) {
            return Err(StudyError::Refused(format!(
                "study `{name}` holds trials from the {used} evaluator; continue it with \
                 --evaluator {used}, or use --study NEW_NAME"
            )));
        }
        Ok(())
    }
}

/// Creates the study `config` describes, or continues it.
///
/// Continuing keeps the stored strategy, seed and evaluator (another one is
/// refused) and the stored space (a changed space file is refused unless
/// `force`, which replaces it). The budget is `--trials` when given; else a
/// continued study keeps its own, and a new one (or one whose space `force`
/// replaced) takes the space's. A new study's name must keep
/// [`super::name::RULE`]; an existing one is continued whatever its name.
pub fn open_or_continue(
    store: &dyn Store,
    config: &StudyConfig,
    force: bool,
) -> Result<StoredStudy, StudyError> {
    open_or_continue_noting(store, config, force).map(|opened| opened.study)
}

/// A study [`open_or_continue_noting`] opened, with what the request changed
/// that the user should hear about.
#[derive(Clone, Debug)]
pub struct Opened {
    pub study: StoredStudy,
    /// Set when an explicit `--trials` lowered a continued study's budget.
    pub lowered: Option<BudgetLowered>,
}

/// A continued study's budget, lowered by `--trials`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetLowered {
    pub from: usize,
    pub to: usize,
}

impl std::fmt::Display for BudgetLowered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "--trials {} lowers the study's budget from {} to {}",
            self.to, self.from, self.to
        )
    }
}

/// [`open_or_continue`], also saying whether the budget was lowered.
pub fn open_or_continue_noting(
    store: &dyn Store,
    config: &StudyConfig,
    force: bool,
) -> Result<Opened, StudyError> {
    let existing = store
        .find_study(&config.name)?
        .map(|row| StoredStudy::with_space(row, Ok(config.space.clone())))
        .transpose()?;
    match &existing {
        Some(existing) => {
            config.check_continuation(existing)?;
            config.check_pruner(&existing.name, &existing.pruner)?;
        }
        None => super::name::check(&config.name)?,
    }
    // Only an explicit --trials changes a continued study's budget: a
    // second process started without it must not undo the first one's.
    let budget = match config.request.trials {
        Some(trials) => Budget::Set(trials),
        None => Budget::KeepOr(config.budget),
    };
    let row: Study = store
        .open_study(&config.spec(budget), force)
        .map_err(|e| match e {
            StoreError::SpaceMismatch { study } => StudyError::SpaceChanged { study },
            other => other.into(),
        })?;
    let lowered = existing
        .filter(|old| row.budget < old.budget)
        .map(|old| BudgetLowered {
            from: old.budget,
            to: row.budget,
        });
    let study = StoredStudy::with_space(row, Ok(config.space.clone()))?;
    // Another process may have created the study a moment before, with
    // another pruner; then this one wrote nothing of its own.
    config.check_pruner(&study.name, &study.pruner)?;
    Ok(Opened { study, lowered })
}

/// The pruner a request asks for: `--pruner KIND` with the space's
/// `[pruner]` settings when the table names the same kind (else the kind's
/// defaults for the training budget), or the space's table alone.
fn asked_pruner(
    space: &SearchSpace,
    kind: Option<PrunerKind>,
) -> Result<Option<PrunerSettings>, StudyError> {
    let Some(kind) = kind else {
        return Ok(space.pruner.clone());
    };
    let steps = space.training.steps;
    let settings = match &space.pruner {
        Some(table) if table.kind == kind => table.clone(),
        _ => PrunerSettings::default_for(kind, steps),
    };
    settings
        .check(steps)
        .map_err(|e| StudyError::Refused(format!("--pruner {kind}: {e}")))?;
    Ok(Some(settings))
}

/// A pruner's settings in a sentence, for refusals.
fn describe(settings: &PrunerSettings) -> String {
    if !settings.is_active() {
        return "no pruner".into();
    }
    let brackets = settings
        .brackets
        .map_or(String::new(), |b| format!(", brackets {b}"));
    let rank = if settings.by_loss { ", rank loss" } else { "" };
    format!(
        "{} (min_steps {}, reduction_factor {}{brackets}{rank})",
        settings.kind, settings.min_steps, settings.reduction_factor
    )
}

/// The budget of a DARTS study once its supernets derived `derived` (design
/// hashes): one trial per distinct derived design, plus the trials kept from
/// designs no longer derived (λs or the space changed since), which would
/// otherwise use up the new designs' slots.
pub fn darts_budget(trials: &[TrialRecord], derived: &HashSet<String>) -> usize {
    let kept = trials
        .iter()
        .filter(|t| t.state != TrialState::Failed)
        .filter(|t| !derived.contains(&t.arch_hash))
        .count();
    derived.len() + kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FailKind, NewTrial, Outcome, SqliteStore};

    fn tiny() -> SearchSpace {
        SearchSpace::parse(SearchSpace::bundled("tiny").unwrap(), "bundled:tiny").unwrap()
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("nas.db").to_str().unwrap()).unwrap();
        (dir, store)
    }

    fn config(request: StudyRequest) -> StudyConfig {
        StudyConfig::new(tiny(), request).unwrap()
    }

    fn refusal(result: Result<impl std::fmt::Debug, StudyError>) -> String {
        match result {
            Err(e @ StudyError::Refused(_)) => {
                assert!(e.is_usage());
                e.to_string()
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn requests_are_checked_before_any_store() {
        let trials = |n| StudyRequest {
            trials: Some(n),
            ..Default::default()
        };
        assert!(refusal(StudyConfig::new(tiny(), trials(0))).contains("--trials"));
        let darts = StudyRequest {
            trials: Some(5),
            strategy: Some(StudyStrategy::Search(StrategyName::Darts)),
            ..Default::default()
        };
        assert!(refusal(StudyConfig::new(tiny(), darts)).contains("does not apply to darts"));
        let c = config(trials(7));
        assert_eq!((c.name.as_str(), c.budget, c.seed), ("tiny", 7, 0));
        assert_eq!(c.evaluator, EvaluatorKind::Train);
        // DARTS: one trial per shape and λ until the supernets have spoken.
        let darts = config(StudyRequest {
            strategy: Some(StudyStrategy::Search(StrategyName::Darts)),
            ..Default::default()
        });
        let d = &darts.space.darts;
        assert_eq!(
            darts.budget,
            d.depth.len() * d.d_model.len() * d.lambdas.len()
        );
    }

    #[test]
    fn a_study_keeps_its_strategy_seed_and_evaluator() {
        let (_dir, store) = store();
        let first = open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        assert_eq!(first.evaluator, Some(EvaluatorKind::Train));
        assert_eq!(first.strategy, StudyStrategy::Search(StrategyName::Random));

        let evolution = StudyRequest {
            strategy: Some(StudyStrategy::Search(StrategyName::Evolution)),
            ..Default::default()
        };
        let message = refusal(open_or_continue(&store, &config(evolution), false));
        assert!(message.contains("needs a new --study name"), "{message}");
        let mut space = tiny();
        space.strategy = StrategyName::Evolution;
        let implicit = StudyConfig::new(space, StudyRequest::default()).unwrap();
        let message = refusal(open_or_continue(&store, &implicit, false));
        assert!(message.contains("pass --strategy random"), "{message}");

        let seed = StudyRequest {
            seed: Some(3),
            ..Default::default()
        };
        assert!(refusal(open_or_continue(&store, &config(seed), false)).contains("seed 0"));
        let analytic = StudyRequest {
            evaluator: Some(EvaluatorKind::Analytic),
            ..Default::default()
        };
        let message = refusal(open_or_continue(&store, &config(analytic), false));
        assert!(message.contains("--evaluator train"), "{message}");

        // Nothing refused changed the study.
        let again = open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        assert_eq!((again.id, again.seed, again.budget), (first.id, 0, 10));
    }

    #[test]
    fn budgets_are_kept_unless_asked_for() {
        let (_dir, store) = store();
        let trials = |n| StudyRequest {
            trials: Some(n),
            ..Default::default()
        };
        assert_eq!(
            open_or_continue(&store, &config(trials(25)), false)
                .unwrap()
                .budget,
            25
        );
        // Continuing without --trials keeps what was set before.
        let kept = open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        assert_eq!(kept.budget, 25);
        // Lowering takes an explicit --trials, and says so.
        let lowered = open_or_continue_noting(&store, &config(trials(4)), false).unwrap();
        assert_eq!(lowered.study.budget, 4);
        assert_eq!(lowered.lowered, Some(BudgetLowered { from: 25, to: 4 }));
        assert!(lowered
            .lowered
            .unwrap()
            .to_string()
            .contains("from 25 to 4"));
        let raised = open_or_continue_noting(&store, &config(trials(9)), false).unwrap();
        assert_eq!((raised.study.budget, raised.lowered), (9, None));
        let kept = open_or_continue_noting(&store, &config(StudyRequest::default()), false);
        assert_eq!(kept.unwrap().lowered, None);
    }

    #[test]
    fn a_new_study_needs_a_safe_name_an_old_one_keeps_its_own() {
        let (_dir, store) = store();
        let named = |name: &str| StudyRequest {
            name: Some(name.into()),
            ..Default::default()
        };
        for bad in ["../x", "/abs", "..", "", "a\nb", "\u{1b}[2J"] {
            let err = open_or_continue(&store, &config(named(bad)), false).unwrap_err();
            assert!(
                matches!(err, StudyError::Name(_)) && err.is_usage(),
                "{err}"
            );
        }
        assert!(store.list_studies().unwrap().is_empty(), "nothing stored");
        // A study stored under another name (by an earlier release) continues.
        let spec = config(named("ok")).spec(Budget::KeepOr(3));
        let old = StudySpec {
            name: "old/../name".into(),
            ..spec
        };
        store.open_study(&old, false).unwrap();
        let study = open_or_continue(&store, &config(named("old/../name")), false).unwrap();
        assert_eq!(study.name, "old/../name");
    }

    #[test]
    fn a_changed_space_needs_force_and_then_brings_its_budget() {
        let (_dir, store) = store();
        open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        let text = SearchSpace::bundled("tiny")
            .unwrap()
            .replace("trials = 10", "trials = 12");
        let changed = SearchSpace::parse(&text, "tiny.toml").unwrap();
        let changed = StudyConfig::new(changed, StudyRequest::default()).unwrap();
        let err = open_or_continue(&store, &changed, false).unwrap_err();
        assert!(matches!(err, StudyError::SpaceChanged { .. }) && err.is_usage());
        let forced = open_or_continue(&store, &changed, true).unwrap();
        assert_eq!(forced.budget, 12);
        assert_eq!(forced.space_hash, changed.space.hash());
    }

    #[test]
    fn external_evaluations_join_any_study_but_external_studies_are_not_run() {
        let (_dir, store) = store();
        let external = StudyRequest {
            name: Some("ext".into()),
            strategy: Some(StudyStrategy::External),
            ..Default::default()
        };
        let ext = open_or_continue(&store, &config(external.clone()), false).unwrap();
        assert_eq!(ext.strategy, StudyStrategy::External);
        let run = StudyRequest {
            name: Some("ext".into()),
            ..Default::default()
        };
        assert!(refusal(open_or_continue(&store, &config(run), false)).contains("external"));
        assert!(refusal(config(external).make_strategy().map(|_| ())).contains("nas eval"));
        // `nas eval --study` may record into a study `nas run` made.
        open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        let into_random = StudyRequest {
            strategy: Some(StudyStrategy::External),
            ..Default::default()
        };
        let study = open_or_continue(&store, &config(into_random), false).unwrap();
        assert_eq!(study.strategy, StudyStrategy::Search(StrategyName::Random));
    }

    fn trial(store: &SqliteStore, study: i64, hash: &str, failure: Option<FailKind>) {
        let new = NewTrial {
            arch_json: "{}".into(),
            arch_hash: hash.into(),
            arch_short: hash.into(),
            seed: 0,
            worker: "w".into(),
            extra: None,
        };
        let crate::store::Claim::Claimed(t) = store.claim(study, &new).unwrap() else {
            panic!("claimed")
        };
        let outcome = match failure {
            Some(kind) => Outcome::Failed {
                kind,
                error: "worker died, interrupted".into(),
            },
            None => Outcome::Complete {
                values: Default::default(),
                curve: vec![],
            },
        };
        store.finish(t.id, &outcome).unwrap();
    }

    #[test]
    fn darts_budget_counts_derived_designs_and_kept_trials() {
        let (_dir, store) = store();
        let study = open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        trial(&store, study.id, "a", None);
        trial(&store, study.id, "old", None);
        trial(&store, study.id, "gone", Some(FailKind::Diverged));
        let trials = store.trials(study.id).unwrap();
        let derived: HashSet<String> = ["a", "b", "c"].map(String::from).into();
        // a, b, c derived; `old` kept from an earlier derivation; the failed
        // one holds no slot.
        assert_eq!(darts_budget(&trials, &derived), 4);
    }

    #[test]
    fn retries_follow_the_failure_kind_not_its_message() {
        use crate::arch::Architecture;
        use crate::search::darts::{Derived, DerivedStrategy};
        use crate::search::Strategy;
        use crate::space::SupernetShape;
        use rand::SeedableRng;

        let designs =
            ["d32 S8 A4", "d32 S8 S8"].map(|a| Architecture::parse_short_form(a).unwrap());
        let (_dir, store) = store();
        let study = open_or_continue(&store, &config(StudyRequest::default()), false).unwrap();
        // Both messages say "died" and "interrupted"; only the kind counts.
        trial(&store, study.id, &designs[0].hash(), Some(FailKind::Error));
        trial(
            &store,
            study.id,
            &designs[1].hash(),
            Some(FailKind::WorkerDied),
        );
        let trials = store.trials(study.id).unwrap();
        assert!(
            trials[0].is_settled(),
            "an error is the design's: not retried"
        );
        assert!(!trials[1].is_settled(), "a dead worker's trial is retried");

        // DARTS tries each derived design once: the failed-by-error one is
        // not proposed again, the one whose worker died is.
        let derived = designs
            .iter()
            .map(|arch| Derived {
                shape: SupernetShape {
                    depth: 3,
                    d_model: 32,
                },
                lambda: 0.0,
                arch: arch.clone(),
                probs: vec![],
                seconds: 0.0,
            })
            .collect();
        let mut strategy = DerivedStrategy::new(derived);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let next = strategy.ask(&trials, &mut rng).expect("one design is left");
        assert_eq!(next.arch, designs[1]);
    }
}
