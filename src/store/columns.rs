//! A store's tables and columns as either backend's catalogue describes
//! them, in the terms both share, so that a test can check that SQLite's
//! migrations and PostgreSQL's arrive at the same schema.

use serde::Serialize;

/// A column of a store table; `kind` is one of `integer`, `real`, `text`,
/// `blob` (SQLite's storage classes, to which PostgreSQL's types map).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Column {
    pub table: String,
    pub name: String,
    pub kind: String,
    pub not_null: bool,
}
