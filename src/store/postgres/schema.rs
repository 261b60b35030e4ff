//! What the database holds, read from the catalogue: the tables a store is
//! recognised by, and the columns the two backends' schemas are compared by.

use sqlx::postgres::PgPool;
use sqlx::Row;

use super::super::{Column, StoreError};

/// Tables of the connection's current schema, by name.
pub(super) async fn tables(pool: &PgPool) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() ORDER BY table_name",
    )
    .fetch_all(pool)
    .await?)
}

/// The store's columns (sqlx's own bookkeeping table left out), sorted.
pub(super) async fn columns(pool: &PgPool) -> Result<Vec<Column>, StoreError> {
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
           is_nullable::text AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
         ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let ty: String = row.try_get("ty")?;
            let kind = match ty.as_str() {
                "bigint" | "integer" | "smallint" => "integer",
                "double precision" | "real" => "real",
                "text" => "text",
                "bytea" => "blob",
                other => other,
            };
            Ok(Column {
                table: row.try_get("t")?,
                name: row.try_get("c")?,
                kind: kind.to_string(),
                not_null: row.try_get::<String, _>("nullable")? == "NO",
            })
        })
        .collect()
}
