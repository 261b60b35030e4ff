//! A whole study read out of one store to be written into another
//! (`nas db copy`): the study, its trials with their values and curves, its
//! rung decisions and its strategy state.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{CurveStep, Store, StoreError, StoredRungReport, Study, TrialRecord};

/// A study and everything that belongs to it. Trial ids are the source
/// store's; rung reports name their trial by that id.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyDump {
    pub study: Study,
    /// Ordered by number, each with its curve.
    pub trials: Vec<(TrialRecord, Vec<CurveStep>)>,
    pub rungs: Vec<StoredRungReport>,
    pub state: Vec<(String, Vec<u8>)>,
}

/// What a dump holds, counted: the check a copy makes of what it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpCounts {
    /// Trials by state name.
    pub trials: BTreeMap<String, usize>,
    pub values: usize,
    pub curve_values: usize,
    pub rung_reports: usize,
    pub state_entries: usize,
}

impl StudyDump {
    /// Reads the study and all that belongs to it. (Another process writing
    /// the study meanwhile may add trials after the trial list was read;
    /// the copy holds what was read.)
    pub fn read(store: &dyn Store, study: &Study) -> Result<StudyDump, StoreError> {
        let trials = store
            .trials(study.id)?
            .into_iter()
            .map(|t| {
                let curve = store.curve(t.id)?;
                Ok((t, curve))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(StudyDump {
            study: study.clone(),
            trials,
            rungs: store.rung_reports(study.id)?,
            state: store.strategy_state(study.id)?,
        })
    }

    pub fn counts(&self) -> DumpCounts {
        let mut trials = BTreeMap::new();
        for (t, _) in &self.trials {
            *trials.entry(t.state.to_string()).or_insert(0) += 1;
        }
        DumpCounts {
            trials,
            values: self.trials.iter().map(|(t, _)| t.values.len()).sum(),
            curve_values: self
                .trials
                .iter()
                .flat_map(|(_, c)| c.iter().map(|p| p.values.len()))
                .sum(),
            rung_reports: self.rungs.len(),
            state_entries: self.state.len(),
        }
    }

    /// The trial number of each source trial id, for the rung reports.
    pub fn numbers(&self) -> HashMap<i64, i64> {
        self.trials.iter().map(|(t, _)| (t.id, t.number)).collect()
    }

    /// Each rung report with its trial named by number (the id a store
    /// gives a trial is its own).
    pub fn rungs_by_number(&self) -> Result<Vec<(i64, &StoredRungReport)>, StoreError> {
        let numbers = self.numbers();
        self.rungs
            .iter()
            .map(|r| {
                numbers
                    .get(&r.trial_id)
                    .map(|&n| (n, r))
                    .ok_or_else(|| StoreError::NotFound(format!("trial with id {}", r.trial_id)))
            })
            .collect()
    }
}

/// The result of [`copy_study`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CopyReport {
    pub study: String,
    pub counts: DumpCounts,
    /// Trials that were running in the source: copied as running, they are
    /// reaped in the copy once their heartbeat is stale and then retried.
    pub running: usize,
}

/// Why a copy could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no study named {names} in {source_store} (it has: {known})")]
    UnknownStudy {
        names: String,
        source_store: String,
        known: String,
    },
    #[error(
        "{target} has a study named {names} already; nothing was copied (rename one first: \
         nas study rename OLD NEW --storage ...)"
    )]
    NameTaken { names: String, target: String },
    #[error("{0} has no studies to copy")]
    Empty(String),
    #[error(
        "the copy of study `{study}` does not match its source (source {source_counts:?}, \
         copy {copied:?}); the copy was left for inspection"
    )]
    Mismatch {
        study: String,
        // Boxed: a rare error should not make every Result large.
        source_counts: Box<DumpCounts>,
        copied: Box<DumpCounts>,
    },
}

impl CopyError {
    /// Whether the user can fix it by changing the command (exit status 2).
    pub fn is_usage(&self) -> bool {
        match self {
            CopyError::Store(e) => e.is_usage(),
            CopyError::UnknownStudy { .. } | CopyError::NameTaken { .. } | CopyError::Empty(_) => {
                true
            }
            CopyError::Mismatch { .. } => false,
        }
    }
}

/// The studies of `from` a copy takes: those named (all when none is),
/// each of which must be in `from` (`from_shown` names it in errors).
/// Checked before the target is opened, so a mistyped name creates nothing.
pub fn choose_studies(
    from: &dyn Store,
    names: &[String],
    from_shown: &str,
) -> Result<Vec<Study>, CopyError> {
    let available: Vec<Study> = from.list_studies()?.into_iter().map(|s| s.study).collect();
    let chosen: Vec<Study> = if names.is_empty() {
        available.clone()
    } else {
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !available.iter().any(|s| &s.name == *n))
            .collect();
        if !missing.is_empty() {
            return Err(CopyError::UnknownStudy {
                names: listed(missing.iter().map(|n| n.as_str())),
                source_store: from_shown.to_string(),
                known: if available.is_empty() {
                    "none".into()
                } else {
                    listed(available.iter().map(|s| s.name.as_str()))
                },
            });
        }
        available
            .into_iter()
            .filter(|s| names.contains(&s.name))
            .collect()
    };
    if chosen.is_empty() {
        return Err(CopyError::Empty(from_shown.to_string()));
    }
    Ok(chosen)
}

/// Refuses the copy, before anything is written, when `to` has a study of
/// one of these names already.
pub fn check_names_free(to: &dyn Store, chosen: &[Study], to_shown: &str) -> Result<(), CopyError> {
    let mut taken = Vec::new();
    for s in chosen {
        if to.find_study(&s.name)?.is_some() {
            taken.push(s.name.as_str());
        }
    }
    if !taken.is_empty() {
        return Err(CopyError::NameTaken {
            names: listed(taken.into_iter()),
            target: to_shown.to_string(),
        });
    }
    Ok(())
}

fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Copies study `study` of `from` into `to` under the same name, in one
/// transaction of `to`, then reads the copy back and checks its counts
/// against the source. A name `to` has already is
/// [`StoreError::NameTaken`] and writes nothing.
pub fn copy_study(
    from: &dyn Store,
    to: &dyn Store,
    study: &Study,
) -> Result<CopyReport, CopyError> {
    let dump = StudyDump::read(from, study)?;
    let written = to.import_study(&dump)?;
    let copied = StudyDump::read(to, &written)?.counts();
    let source_counts = dump.counts();
    if copied != source_counts {
        return Err(CopyError::Mismatch {
            study: study.name.clone(),
            source_counts: Box::new(source_counts),
            copied: Box::new(copied),
        });
    }
    Ok(CopyReport {
        study: study.name.clone(),
        running: source_counts.trials.get("running").copied().unwrap_or(0),
        counts: source_counts,
    })
}
