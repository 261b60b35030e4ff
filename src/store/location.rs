//! Where a store lives: a plain path or a `sqlite:` URL, read the way
//! Optuna and SQLAlchemy users write them.
//!
//! - `PATH`: the file, relative to the working directory or absolute.
//! - `sqlite:///relative.db`: relative (SQLAlchemy: three slashes, then the
//!   path); `sqlite:////abs/path.db`: absolute (four slashes).
//! - `sqlite://PATH` and `sqlite:PATH` (the forms of earlier releases and of
//!   sqlx): `PATH` as written.
//!
//! `sqlite:///x` is where the two conventions meet: sqlx reads it as `/x`,
//! SQLAlchemy as `x`. It is read as SQLAlchemy does; [`resolve`] refuses it
//! when `x` does not exist but `/x` does, so that a URL meant the sqlx way
//! never opens (or creates) a different, empty store.
//!
//! A URL's query (`?mode=rwc` and the like) is dropped: the store sets its own
//! options. An in-memory database is refused: it would be private to each
//! pooled connection.

use std::path::{Path, PathBuf};

use super::StoreError;

/// A location, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// Written `sqlite:///x` with `x` relative: the form two conventions read
    /// differently (see the module docs).
    pub triple_slash: bool,
}

/// Parses `url_or_path` without looking at the file system.
pub fn parse(url_or_path: &str) -> Result<Location, StoreError> {
    let bad = || StoreError::BadLocation(url_or_path.to_string());
    let Some(rest) = url_or_path.strip_prefix("sqlite:") else {
        if url_or_path.is_empty() {
            return Err(bad());
        }
        return Ok(Location {
            path: PathBuf::from(url_or_path),
            triple_slash: false,
        });
    };
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    let (raw, triple_slash) = match rest.strip_prefix("///") {
        // `sqlite:////abs` keeps its leading slash; `sqlite:///rel` does not.
        Some(after) => (after, !after.starts_with('/')),
        None => (rest.strip_prefix("//").unwrap_or(rest), false),
    };
    if raw.is_empty() || raw.starts_with(":memory:") || url_or_path.contains("mode=memory") {
        return Err(bad());
    }
    Ok(Location {
        path: PathBuf::from(raw),
        triple_slash,
    })
}

/// The database file that `url_or_path` names; a `sqlite:///x` whose `x` is
/// absent while `/x` exists is [`StoreError::AmbiguousLocation`].
pub fn resolve(url_or_path: &str) -> Result<PathBuf, StoreError> {
    let location = parse(url_or_path)?;
    if location.triple_slash && !location.path.exists() {
        let absolute = Path::new("/").join(&location.path);
        if absolute.exists() {
            return Err(StoreError::AmbiguousLocation {
                url: url_or_path.to_string(),
                relative: location.path.display().to_string(),
                absolute: absolute.display().to_string(),
            });
        }
    }
    Ok(location.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> PathBuf {
        parse(s).unwrap().path
    }

    #[test]
    fn sqlalchemy_urls_count_their_slashes() {
        assert_eq!(path("sqlite:///relative.db"), PathBuf::from("relative.db"));
        assert_eq!(path("sqlite:///runs/nas.db"), PathBuf::from("runs/nas.db"));
        assert_eq!(
            path("sqlite:////abs/path.db"),
            PathBuf::from("/abs/path.db")
        );
        assert!(parse("sqlite:///relative.db").unwrap().triple_slash);
        assert!(!parse("sqlite:////abs/path.db").unwrap().triple_slash);
    }

    #[test]
    fn the_forms_of_earlier_releases_keep_working() {
        assert_eq!(path("sqlite://runs/nas.db"), PathBuf::from("runs/nas.db"));
        assert_eq!(path("sqlite:runs/nas.db"), PathBuf::from("runs/nas.db"));
        assert_eq!(path("sqlite:/abs/nas.db"), PathBuf::from("/abs/nas.db"));
        assert_eq!(path("runs/nas.db"), PathBuf::from("runs/nas.db"));
        assert_eq!(path("/abs/nas.db"), PathBuf::from("/abs/nas.db"));
        assert_eq!(path("sqlite://x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(path("sqlite:///x.db?mode=rwc"), PathBuf::from("x.db"));
        assert!(!parse("sqlite://runs/nas.db").unwrap().triple_slash);
    }

    #[test]
    fn memory_and_empty_locations_are_refused() {
        for bad in [
            "",
            "sqlite:",
            "sqlite://",
            "sqlite:///",
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://x.db?mode=memory",
        ] {
            assert!(
                matches!(parse(bad), Err(StoreError::BadLocation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_triple_slash_url_meant_the_sqlx_way_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nas.db");
        std::fs::write(&db, b"").unwrap();
        // `sqlite:///tmp/.../nas.db`: the relative file is absent (the tests
        // run in the crate root), the absolute one exists.
        let url = format!("sqlite://{}", db.display());
        let err = resolve(&url).unwrap_err();
        assert!(matches!(err, StoreError::AmbiguousLocation { .. }), "{err}");
        assert!(err.to_string().contains("sqlite:///"), "{err}");
        assert!(err.is_usage());
        // Written the SQLAlchemy way, it opens the file.
        assert_eq!(resolve(&format!("sqlite:///{}", db.display())).unwrap(), db);
        // No absolute file either: a new relative store, as SQLAlchemy reads it.
        assert_eq!(
            resolve("sqlite:///no-such-dir-xyz/nas.db").unwrap(),
            PathBuf::from("no-such-dir-xyz/nas.db")
        );
    }
}
