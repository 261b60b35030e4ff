//! What continuing a stored study changes, as [`Store::open_study`]
//! describes it: one rule for both backends, which then write the result.
//!
//! [`Store::open_study`]: super::Store::open_study

use super::{Budget, StoreError, Study, StudySpec};

/// The stored `study` as `spec` continues it: a different space is refused
/// unless `force` (which replaces it and, with [`Budget::KeepOr`], brings
/// that budget); [`Budget::Set`] always sets the budget; an evaluator the
/// study did not record yet is taken from `spec`. Nothing else changes.
pub(crate) fn continued(
    mut study: Study,
    spec: &StudySpec,
    force: bool,
) -> Result<Study, StoreError> {
    if study.space_hash != spec.space_hash {
        if !force {
            return Err(StoreError::SpaceMismatch {
                study: spec.name.clone(),
            });
        }
        study.space_text = spec.space_text.clone();
        study.space_hash = spec.space_hash.clone();
        if let Budget::KeepOr(n) = spec.budget {
            // A replaced space brings its own budget.
            study.budget = n;
        }
    }
    if let Budget::Set(n) = spec.budget {
        study.budget = n;
    }
    study
        .evaluator
        .get_or_insert_with(|| spec.evaluator.clone());
    Ok(study)
}
