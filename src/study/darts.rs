//! The supernet stage of a DARTS study: before its trials can be proposed,
//! the supernets train (or resume from their checkpoints), and what they
//! derive sets the study's budget.

use std::collections::HashSet;

use super::{darts_budget, StoredStudy, StudyError, ThreadSplit};
use crate::data::Corpus;
use crate::search::darts::{DartsObserver, DartsSearch, Derived, DerivedStrategy};
use crate::store::Store;

/// Runs every unfinished supernet phase of `study` with all the cores (a
/// supernet is one model), then sets the study's budget to the designs they
/// derived ([`darts_budget`]). Returns what each search derived, in shape
/// and λ order, and the strategy that proposes those designs as trials.
pub fn derive(
    store: &dyn Store,
    study: &mut StoredStudy,
    corpus: &Corpus,
    observer: &mut dyn DartsObserver,
    (threads, device): (ThreadSplit, crate::device::ComputeDevice),
) -> Result<(Vec<Derived>, DerivedStrategy), StudyError> {
    let search = DartsSearch {
        store,
        study_id: study.id,
        space: study.space()?,
        corpus,
        seed: study.seed,
        device,
    };
    let derived = threads.with_all(|| search.run(observer))?;
    let hashes: HashSet<String> = derived.iter().map(|d| d.arch.hash()).collect();
    let budget = darts_budget(&store.trials(study.id)?, &hashes);
    if budget != study.budget {
        store.set_budget(study.id, budget)?;
        study.budget = budget;
    }
    Ok((derived.clone(), DerivedStrategy::new(derived)))
}

/// Whether `study`'s budget is final. It is, except for a DARTS study whose
/// supernets have not all finished: until they derive their designs, its
/// budget is one trial per search, an upper bound (two searches may derive
/// the same design, which trains once).
pub fn budget_is_final(store: &dyn Store, study: &StoredStudy) -> Result<bool, StudyError> {
    if !study.is_darts() {
        return Ok(true);
    }
    let progress = DartsSearch::progress(store, study.id, study.space()?)?;
    Ok(progress
        .iter()
        .flat_map(|shape| &shape.searches)
        .all(|search| search.as_ref().is_some_and(|m| m.result.is_some())))
}
