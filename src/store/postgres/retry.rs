//! Retrying what a restarting server or a dropped connection interrupted.
//!
//! Each store call is one transaction, so an interrupted call changed
//! nothing and is simply run again; the one whose commit reached the server
//! but whose answer did not is handled by the call itself (`finish` finds
//! its own result). A worker therefore waits out a server restart instead of
//! failing its trial, and gives up, with the error, only after
//! [`RETRY_FOR`](super::RETRY_FOR).

use std::future::Future;
use std::time::{Duration, Instant};

use super::super::StoreError;

/// First pause after a transient error; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Runs `op` until it succeeds, fails for a reason retrying cannot change,
/// or transient errors have lasted [`RETRY_FOR`](super::RETRY_FOR).
pub(super) async fn retrying<T, F, Fut>(shown: &str, op: F) -> Result<T, StoreError>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + super::RETRY_FOR;
    let mut pause = FIRST_PAUSE;
    let mut attempt = 0;
    loop {
        match op(attempt).await {
            Err(StoreError::Sqlx(e)) if is_transient(&e) && Instant::now() < deadline => {
                if attempt == 0 {
                    tracing::warn!("PostgreSQL store {shown}: {e}; retrying");
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                attempt += 1;
            }
            Err(StoreError::Sqlx(e)) if is_transient(&e) => {
                return Err(StoreError::Unreachable {
                    url: shown.to_string(),
                    seconds: super::RETRY_FOR.as_secs(),
                    reason: super::super::errors::describe_sqlx(&e),
                })
            }
            result => {
                if attempt > 0 && result.is_ok() {
                    tracing::info!("PostgreSQL store {shown}: reached again");
                }
                return result;
            }
        }
    }
}

/// Errors that say nothing about the request: the connection or the server
/// failed, or PostgreSQL asks for the transaction to be run again.
pub(super) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P01-03: the server is shutting
            // down or starting; 53300: too many connections; 40001, 40P01:
            // serialisation failure and deadlock, retried by definition.
            code.starts_with("08")
                || matches!(
                    &*code,
                    "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                )
        }),
        _ => false,
    }
}

/// A unique constraint refused the statement (SQLSTATE 23505).
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_are_transient_and_constraint_errors_are_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_transient(&io));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn a_permanent_error_is_returned_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let result: Result<(), _> = rt.block_on(retrying("db", |_| async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(StoreError::NotFound("x".into()))
        }));
        assert!(matches!(result, Err(StoreError::NotFound(_))));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_transient_error_is_retried_until_it_passes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(retrying("db", |attempt| async move {
            if attempt < 3 {
                Err(StoreError::Sqlx(sqlx::Error::PoolTimedOut))
            } else {
                Ok(attempt)
            }
        }));
        assert_eq!(result.unwrap(), 3);
    }
}
