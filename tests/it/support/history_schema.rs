//! The schema checks both engines' tests run: the schema applied to an empty database is the one the code
//! expects, applying it again changes nothing, and a database a newer binary migrated is refused, untouched.

use credit_dashboard::server::history::schema::{known_version, SchemaError, EXPECTED_COLUMNS};
use credit_dashboard::server::history::store::HistoryStore;
use credit_dashboard::server::history::{History, Listing};
use std::time::Duration;

async fn columns(url: &str, sqlite: bool) -> Vec<(String, Vec<String>)> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().connect(url).await.unwrap();
    let mut tables = Vec::new();
    for (table, _) in EXPECTED_COLUMNS {
        let sql = if sqlite {
            format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
        } else {
            format!("SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position")
        };
        let names =
            sqlx::query(&sql).fetch_all(&pool).await.unwrap().iter().map(|row| row.get::<String, _>("name")).collect();
        tables.push((table.to_owned(), names));
    }
    tables
}

fn expected_columns() -> Vec<(String, Vec<String>)> {
    EXPECTED_COLUMNS
        .iter()
        .map(|(table, names)| (table.to_string(), names.iter().map(|name| name.to_string()).collect()))
        .collect()
}

/// Marks the database as migrated by a binary with one more migration than this one.
async fn migrated_by_a_newer_binary(url: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().connect(url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from the future', TRUE, $2, 0)",
    )
    .bind(known_version() + 1)
    .bind(vec![0u8; 48])
    .execute(&pool)
    .await
    .unwrap();
}

/// The same schema checks for both engines.
pub async fn the_schema_is_the_expected_one_and_a_newer_database_is_refused(url: &str, sqlite: bool) {
    let history = History::new(HistoryStore::open(url, Duration::from_secs(5)).unwrap(), 0, Duration::from_secs(5));
    history.ensure_schema().await.unwrap();
    assert_eq!(columns(url, sqlite).await, expected_columns());
    // Applying it again is a no-op.
    let again = History::new(HistoryStore::open(url, Duration::from_secs(5)).unwrap(), 0, Duration::from_secs(5));
    again.ensure_schema().await.unwrap();
    migrated_by_a_newer_binary(url).await;
    let refused = History::new(HistoryStore::open(url, Duration::from_secs(5)).unwrap(), 0, Duration::from_secs(5));
    match refused.ensure_schema().await {
        Err(SchemaError::NewerThanBinary { found, known }) => {
            assert_eq!((found, known), (known_version() + 1, known_version()))
        }
        other => panic!("a newer database must be refused, got {other:?}"),
    }
    assert!(matches!(refused.listing(), Listing::Refused(reason) if reason.contains("newer than this server")));
    assert_eq!(columns(url, sqlite).await, expected_columns(), "and left as it was");
}
