//! A migrated copy of a store that an earlier release wrote, for the
//! commands that only read.
//!
//! Listing must not change the file (a read-only command never creates or
//! migrates a store, and the file may be shared with an older `nas` still
//! running on it), yet this version reads only its own schema. So the store
//! is copied with `VACUUM INTO` from a read-only connection (a consistent
//! snapshot, write-ahead log included, taken without writing the original),
//! and the copy is migrated and read instead. The copy lives in a temporary
//! folder that goes when the store is dropped.

use std::path::{Path, PathBuf};

use super::open::read_only_pool;
use super::StoreError;

/// A temporary, migrated-on-open copy of a store.
pub(super) struct Snapshot {
    /// Held so the folder and its copy last as long as the store.
    _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
}

/// Copies the store at `path` into a fresh temporary folder, without
/// writing to `path` or anything beside it.
pub(super) async fn take(path: &Path) -> Result<Snapshot, StoreError> {
    let io = |source| StoreError::Io {
        path: std::env::temp_dir().display().to_string(),
        source,
    };
    let dir = tempfile::Builder::new()
        .prefix("nas-store-")
        .tempdir()
        .map_err(io)?;
    let copy = dir.path().join("store.db");
    let pool = read_only_pool(path, 1).await?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(copy.to_string_lossy().into_owned())
        .execute(&pool)
        .await;
    pool.close().await;
    copied?;
    Ok(Snapshot {
        _dir: dir,
        path: copy,
    })
}
