//! The schema checks both engines' tests run: the schema applied to a database another application migrates
//! too is the one the code expects, applying it again changes nothing, a newer binary's additive migration is
//! accepted, and a database a newer binary changed otherwise is refused, untouched.

use credit_dashboard::server::database::schema::{known_version, SchemaError, EXPECTED_COLUMNS};
use credit_dashboard::server::database::Database;
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

async fn execute(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let url = match url.starts_with("sqlite://") {
        true => format!("{url}?mode=rwc"),
        false => url.to_owned(),
    };
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

/// Records a migration of a newer binary: `additive` or not.
async fn migrated_by_a_newer_binary(url: &str, version: i64, additive: bool) {
    let additive = i64::from(additive);
    execute(
        url,
        &format!(
            "INSERT INTO credit_dashboard_migrations (version, description, checksum, additive, applied_ms) \
             VALUES ({version}, 'from the future', 'unknown', {additive}, 0)"
        ),
    )
    .await;
}

/// The migrations the database records as applied: version and checksum.
async fn applied(url: &str) -> Vec<(i64, String)> {
    use sqlx::Row;
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    let sql = "SELECT version, checksum FROM credit_dashboard_migrations ORDER BY version";
    let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.iter().map(|row| (row.get(0), row.get(1))).collect()
}

fn history(url: &str) -> History {
    let db = Database::open(url, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    History::new(HistoryStore::new(std::sync::Arc::new(db), "an upstream"), 0)
}

/// The same schema checks for both engines.
pub async fn the_schema_is_the_expected_one_and_a_newer_database_is_refused(url: &str, sqlite: bool) {
    // Opening the store creates a SQLite file's folders.
    let first = history(url);
    // Another application migrates the same database with sqlx: its migrations are not this one's business.
    execute(
        url,
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL); \
         INSERT INTO _sqlx_migrations (version, description) VALUES (20240101, 'another application')",
    )
    .await;
    first.ensure_schema().await.unwrap();
    assert_eq!(columns(url, sqlite).await, expected_columns());
    let before = (columns(url, sqlite).await, applied(url).await);
    assert_eq!(before.1.len() as i64, known_version(), "every migration applied once");
    history(url).ensure_schema().await.unwrap();
    assert_eq!((columns(url, sqlite).await, applied(url).await), before, "applying it again changes nothing");
    // A rolling deploy: a newer binary added what this one does not read. This one runs on it.
    migrated_by_a_newer_binary(url, known_version() + 1, true).await;
    history(url).ensure_schema().await.unwrap();
    // A newer binary changed the schema in a way this one cannot use: refused, and left as it was.
    migrated_by_a_newer_binary(url, known_version() + 2, false).await;
    let refused = history(url);
    match refused.ensure_schema().await {
        Err(SchemaError::NewerThanBinary { found, known }) => {
            assert_eq!((found, known), (known_version() + 2, known_version()))
        }
        other => panic!("a newer database must be refused, got {other:?}"),
    }
    assert!(matches!(refused.listing(), Listing::Refused(reason) if reason.contains("newer than this server")));
    assert_eq!(columns(url, sqlite).await, expected_columns(), "and left as it was");
}
