//! Stores for tests that run against both backends: a temporary SQLite file,
//! or a throwaway database on the PostgreSQL server `NAS_TEST_POSTGRES`
//! names (an admin URL; `.ci/run` starts one with
//! `scripts/postgres_server.sh start`). Without that variable the
//! PostgreSQL tests skip with one line, except in CI, where they fail.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming the test server.
pub const POSTGRES_ENV: &str = "NAS_TEST_POSTGRES";

/// A store location that lives as long as this value: the SQLite file's
/// folder is removed, the PostgreSQL database dropped.
pub struct TestStore {
    pub location: String,
    _dir: Option<tempfile::TempDir>,
    drop_db: Option<(String, String)>,
}

impl TestStore {
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().join("nas.db").display().to_string();
        TestStore {
            location,
            _dir: Some(dir),
            drop_db: None,
        }
    }

    /// A new, empty database; `None` (after one line on stderr) when no
    /// server is configured outside CI.
    pub fn postgres() -> Option<TestStore> {
        let admin = match std::env::var(POSTGRES_ENV) {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var_os("CI").is_some() => panic!(
                "CI is set but {POSTGRES_ENV} is not: .ci/run starts a PostgreSQL server for \
                 the store tests (scripts/postgres_server.sh start prints its URL)"
            ),
            _ => {
                eprintln!(
                    "skipping: PostgreSQL store test ({POSTGRES_ENV} unset; \
                     `export {POSTGRES_ENV}=$(scripts/postgres_server.sh start)` runs them)"
                );
                return None;
            }
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "nas_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        admin_sql(&admin, &format!("CREATE DATABASE {name}"));
        Some(TestStore {
            location: with_database(&admin, &name),
            _dir: None,
            drop_db: Some((admin, name)),
        })
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_db {
            // FORCE: a killed worker's connections may linger a moment.
            admin_sql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs one statement on the admin database.
pub fn admin_sql(admin: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test server {admin}: {e}"));
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.ok();
    });
}

/// One `#[test]` per backend, `NAME::sqlite` and `NAME::postgres`, each
/// calling `body(&location)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[test]
            fn sqlite() {
                let store = $crate::common::backends::TestStore::sqlite();
                $body(&store.location);
            }

            #[test]
            fn postgres() {
                if let Some(store) = $crate::common::backends::TestStore::postgres() {
                    $body(&store.location);
                }
            }
        }
    };
}
