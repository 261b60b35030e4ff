//! Deleting and renaming studies, and the files on disk that carry a
//! study's name.
//!
//! The store holds everything a study is (its trials, their values and
//! curves, a DARTS supernet's checkpoints): deleting it removes all of that
//! in one transaction. Files a command wrote under `runs/<study>/` (plots)
//! are not the store's; they are listed for the user to keep or remove, and
//! never deleted here.

use std::path::{Path, PathBuf};

use super::{find, name, StoredStudy, StudyError};
use crate::store::Store;

/// Deletes `study` with all its rows; returns how many trials it had.
pub fn delete(store: &dyn Store, study: &StoredStudy) -> Result<usize, StudyError> {
    Ok(store.delete_study(study.id)?)
}

/// Renames the study `old` to `new`. An unknown `old` is
/// [`StudyError::NotFound`], a `new` outside the alphabet of study names
/// [`StudyError::Name`], and one another study has
/// [`crate::store::StoreError::NameTaken`]; none changes anything.
pub fn rename(store: &dyn Store, old: &str, new: &str) -> Result<StoredStudy, StudyError> {
    let study = find(store, old)?;
    // A rename creates a name, so it keeps the rule new studies keep.
    name::check(new)?;
    store.rename_study(study.id, new)?;
    find(store, new)
}

/// The folders under `root` named after the study `name`: its own
/// (`runs/<study>/`) and those of overlays that include it
/// (`runs/<a>+<study>/`), as [`name::output_dir`] derives them.
pub fn folders(root: &Path, name: &str) -> Vec<PathBuf> {
    let part = name::path_component(name);
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.split('+').any(|p| p == part))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Budget, SqliteStore, StoreError, StudySpec};

    fn spec(name: &str) -> StudySpec {
        StudySpec {
            name: name.into(),
            space_text: String::new(),
            space_hash: "h".into(),
            objectives: vec!["val_ppl".into()],
            strategy: "random".into(),
            evaluator: "analytic".into(),
            seed: 0,
            budget: Budget::Set(1),
            code_version: "test".into(),
            pruner: None,
        }
    }

    #[test]
    fn renames_refuse_taken_unknown_and_invalid_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("nas.db").to_str().unwrap()).unwrap();
        let a = store.open_study(&spec("a"), false).unwrap();
        store.open_study(&spec("b"), false).unwrap();

        let err = rename(&store, "a", "b").unwrap_err();
        assert!(
            matches!(err, StudyError::Store(StoreError::NameTaken(_))),
            "{err}"
        );
        assert!(err.is_usage());
        let err = rename(&store, "zzz", "c").unwrap_err();
        assert!(matches!(err, StudyError::NotFound { .. }), "{err}");
        let err = rename(&store, "a", "../up").unwrap_err();
        assert!(matches!(err, StudyError::Name(_)), "{err}");
        assert_eq!(store.find_study("a").unwrap().unwrap().id, a.id);

        let renamed = rename(&store, "a", "c").unwrap();
        assert_eq!(renamed.id, a.id);
        assert_eq!(store.find_study("a").unwrap(), None);
    }

    #[test]
    fn folders_named_after_a_study_are_found() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["s", "s+t", "t+s", "st", "t"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("s+u"), b"a file").unwrap();
        let names: Vec<String> = folders(dir.path(), "s")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["s", "s+t", "t+s"]);
        assert!(folders(&dir.path().join("none"), "s").is_empty());
    }
}
