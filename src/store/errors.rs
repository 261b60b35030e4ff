//! Database errors in words, once. sqlx's errors print their cause inside
//! their own message and again as their source ("error returned from
//! database: (code: 8) attempt to write a readonly database" twice), and
//! SQLite's codes say little to a user; these say what the code means here.

use sqlx::migrate::MigrateError;

/// The database's message and code, with what it means for a store.
pub(super) fn describe_sqlx(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = e else {
        return e.to_string();
    };
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return format!("{} (PostgreSQL SQLSTATE {})", pg.message(), pg.code());
    }
    let code = db.code().and_then(|c| c.parse::<i32>().ok());
    let base = match code {
        Some(c) => format!("{} (SQLite code {c})", db.message()),
        None => db.message().to_string(),
    };
    match code.map(|c| c & 0xff).and_then(meaning) {
        Some(meaning) => format!("{base}: {meaning}"),
        None => base,
    }
}

/// What a primary SQLite result code means for a store.
fn meaning(primary: i32) -> Option<&'static str> {
    Some(match primary {
        5 | 6 => "another process held the database lock for longer than the 30 s nas waits",
        8 => "the store is read-only here (this process may not write the file or its folder)",
        10 => "an I/O error reading or writing the file",
        11 => "the file is damaged (`sqlite3 FILE 'PRAGMA integrity_check'` says where)",
        13 => "the disk is full",
        14 => "the file cannot be opened (a missing folder, or one this process may not write)",
        26 => "the file is not a SQLite database",
        _ => return None,
    })
}

/// A migration error with its database error described once.
pub(super) fn describe_migrate(e: &MigrateError) -> String {
    match e {
        MigrateError::Execute(inner) => describe_sqlx(inner),
        MigrateError::ExecuteMigration(inner, version) => {
            format!("migration {version}: {}", describe_sqlx(inner))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::StoreError;

    #[test]
    fn a_store_error_prints_its_cause_once() {
        let e = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(std::error::Error::source(&e).is_none());
        let migrate = StoreError::from(sqlx::migrate::MigrateError::Execute(
            sqlx::Error::PoolTimedOut,
        ));
        let text = migrate.to_string();
        assert_eq!(text.matches("pool timed out").count(), 1, "{text}");
        assert!(std::error::Error::source(&migrate).is_none());
    }
}
