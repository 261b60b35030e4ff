//! What a database file holds, read before anything is written to it, and
//! the read-only connections of the commands that only read.
//!
//! A file given as a store is one of: absent or empty (a zero-byte file, or
//! a SQLite file without tables: it may become a new store), ours (its
//! `_sqlx_migrations` table holds our first migration), or anything else,
//! which is refused before any write: no table is created, the journal mode
//! is not switched, no `_sqlx_migrations` appears. The inspection itself
//! opens the file read-only.
//!
//! Reading a WAL database read-only needs its `-shm` file, which SQLite
//! creates beside it; in a folder nobody may write, with no `-shm` left
//! there, that open fails, and the file is opened `immutable` instead (no
//! locks, no WAL): sound when no write-ahead log holds commits, which is
//! checked first.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use super::{BUSY_TIMEOUT, MAX_CONNECTIONS, MIGRATOR};
use crate::store::StoreError;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Tables named in a refusal, at most.
const TABLES_NAMED: usize = 6;

/// What a store file holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Contents {
    /// No such file.
    Absent,
    /// Zero bytes, or a SQLite database without tables.
    Empty,
    /// A store of ours; `pending` when migrations of this version are not
    /// applied yet (an earlier release wrote it, or another process is
    /// creating it right now).
    Ours { pending: bool },
}

/// Reads what `path` holds without writing to it; a file that is neither
/// empty nor ours is [`StoreError::Foreign`] or [`StoreError::NotSqlite`].
pub(super) async fn inspect(path: &Path) -> Result<Contents, StoreError> {
    let len = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Absent),
        Err(source) => return Err(io_error(path, source)),
    };
    if len == 0 {
        return Ok(Contents::Empty);
    }
    let mut header = [0u8; 16];
    let read = {
        use std::io::Read;
        std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut header))
            .map_err(|source| io_error(path, source))?
    };
    if read < header.len() || &header != SQLITE_HEADER {
        return Err(StoreError::NotSqlite(path.display().to_string()));
    }
    let pool = read_only_pool(path, 1).await?;
    let result = classify(&pool, path).await;
    pool.close().await;
    result
}

async fn classify(pool: &SqlitePool, path: &Path) -> Result<Contents, StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    if tables.is_empty() {
        return Ok(Contents::Empty);
    }
    let foreign = || StoreError::Foreign {
        path: path.display().to_string(),
        tables: named(&tables),
    };
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(foreign());
    }
    // Another program using sqlx has a `_sqlx_migrations` table too, maybe
    // of another shape: one that cannot be read as ours is not ours.
    let applied = match applied_migrations(pool).await {
        Ok(applied) => applied,
        Err(e) if super::is_busy(&e) => return Err(e.into()),
        Err(_) => return Err(foreign()),
    };
    if applied.is_empty() && tables.len() == 1 {
        // Another nas is creating this store: its first migration (tables
        // and row in one transaction) has not committed yet.
        return Ok(Contents::Ours { pending: true });
    }
    // Ours holds our first migration, with its checksum.
    let first = MIGRATOR.iter().next().expect("the store has migrations");
    let ours = applied
        .iter()
        .any(|(v, c)| *v == first.version && c[..] == first.checksum[..]);
    if !ours {
        return Err(foreign());
    }
    let pending = MIGRATOR
        .iter()
        .any(|m| !applied.iter().any(|(v, _)| *v == m.version));
    Ok(Contents::Ours { pending })
}

/// The (version, checksum) rows of `_sqlx_migrations`.
async fn applied_migrations(pool: &SqlitePool) -> Result<Vec<(i64, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query("SELECT version, checksum FROM _sqlx_migrations")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("version")?, row.try_get("checksum")?)))
        .collect()
}

/// "a, b, c" (and how many more).
fn named(tables: &[String]) -> String {
    let mut text = tables
        .iter()
        .take(TABLES_NAMED)
        .map(|t| crate::terminal::quote(t, 40))
        .collect::<Vec<_>>()
        .join(", ");
    if tables.len() > TABLES_NAMED {
        text.push_str(&format!(" and {} more", tables.len() - TABLES_NAMED));
    }
    text
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A pool of read-only connections to `path`, opened `immutable` when a
/// plain read-only open fails for want of a writable folder.
pub(super) async fn read_only_pool(
    path: &Path,
    connections: u32,
) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(BUSY_TIMEOUT);
    let plain = connect(options.clone(), connections).await;
    match plain {
        Err(StoreError::Sqlx(e)) if cannot_open_read_only(&e) && wal_is_empty(path) => {
            connect(options.immutable(true), connections).await
        }
        other => other,
    }
}

/// Connects and reads the schema once, which is where a read-only WAL
/// database that cannot be opened says so.
async fn connect(
    options: SqliteConnectOptions,
    connections: u32,
) -> Result<SqlitePool, StoreError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(connections.clamp(1, MAX_CONNECTIONS))
        .min_connections(0)
        .acquire_timeout(BUSY_TIMEOUT * 2)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    if let Err(e) = sqlx::query("SELECT count(*) FROM sqlite_master")
        .fetch_one(&pool)
        .await
    {
        pool.close().await;
        return Err(e.into());
    }
    Ok(pool)
}

/// SQLITE_CANTOPEN or SQLITE_READONLY (with their extended codes): what a
/// read-only open of a WAL database answers when its `-shm` cannot be made.
fn cannot_open_read_only(e: &sqlx::Error) -> bool {
    super::sqlite_code(e).is_some_and(|c| matches!(c & 0xff, 8 | 14))
}

/// No write-ahead log beside the database, or an empty one: the main file
/// holds every commit, and an immutable open reads them all.
fn wal_is_empty(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::metadata(Path::new(&wal)) {
        Ok(meta) => meta.len() == 0,
        Err(_) => true,
    }
}

/// Whether this process may write `path` (when it exists) and its folder,
/// as SQLite needs for its journal.
pub(super) fn writable(path: &Path) -> bool {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let may_write = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            // SAFETY: a valid NUL-terminated path; access only reads it.
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    (!path.exists() || may_write(path)) && may_write(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn files_are_told_apart_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let rt = rt();
        let at = |name: &str| dir.path().join(name);
        assert_eq!(
            rt.block_on(inspect(&at("none.db"))).unwrap(),
            Contents::Absent
        );
        std::fs::write(at("zero.db"), b"").unwrap();
        assert_eq!(
            rt.block_on(inspect(&at("zero.db"))).unwrap(),
            Contents::Empty
        );
        std::fs::write(at("text.db"), b"name,value\nx,1\n").unwrap();
        let err = rt.block_on(inspect(&at("text.db"))).unwrap_err();
        assert!(matches!(err, StoreError::NotSqlite(_)), "{err}");

        // A SQLite file of another program, with a sqlx migrations table of
        // its own: refused, and left as it was.
        let foreign = at("foreign.db");
        rt.block_on(async {
            let options = SqliteConnectOptions::new()
                .filename(&foreign)
                .create_if_missing(true);
            let pool = SqlitePool::connect_with(options).await.unwrap();
            for sql in [
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, checksum BLOB)",
                "INSERT INTO _sqlx_migrations VALUES (1, X'00')",
            ] {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        });
        let before = std::fs::read(&foreign).unwrap();
        let err = rt.block_on(inspect(&foreign)).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("notes"), "{err}");
        assert_eq!(std::fs::read(&foreign).unwrap(), before);
    }

    #[test]
    fn an_up_to_date_store_is_ours_with_nothing_pending() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nas.db");
        drop(super::super::SqliteStore::open(db.to_str().unwrap()).unwrap());
        let contents = rt().block_on(inspect(&db)).unwrap();
        assert_eq!(contents, Contents::Ours { pending: false });
        assert!(writable(&db));
    }
}
