//! The history store's one adapter, for both engines: SQLite (a file, the default) and PostgreSQL (what
//! several replicas share), through sqlx's Any driver with runtime queries and bound parameters. Every write of
//! a refresh is one transaction; rows are upserted, so a period recorded twice — by two replicas, or again
//! after a restart — is one period with one row per message.

use super::schema::{migrate, SchemaError};
use crate::server::upstream::urls::redacted;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::{Executor, Row};
use std::time::Duration;

/// Rows per INSERT (8 parameters each, well under both engines' limits on parameters per statement). Measured
/// on 100 000 rows (`bench/RESULTS.md`): SQLite through sqlx binds a large statement's parameters slowly (500
/// rows a statement took 4.2 s, 100 rows 1.2 s, 50 rows 0.85 s), PostgreSQL prefers fewer round trips (0.63 s at
/// 500, 0.76 s at 100).
const SQLITE_ROWS_PER_STATEMENT: usize = 50;
const POSTGRES_ROWS_PER_STATEMENT: usize = 500;

/// A period as the store keeps it (instants in milliseconds since the epoch, credits in hundredths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPeriod {
    /// The UTC date of its first message, `YYYY-MM-DD`.
    pub id: String,
    pub first_message_ms: i64,
    pub last_message_ms: i64,
    pub first_seen_ms: i64,
    /// When it was last seen upstream.
    pub last_seen_ms: i64,
    /// When the upstream's period moved on; `None` while it is the upstream's current one.
    pub closed_ms: Option<i64>,
    pub message_count: i64,
    pub total_hundredths: i64,
}

/// One priced row as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoredRow {
    pub message_id: i64,
    /// Upstream order.
    pub position: i64,
    /// The upstream's timestamp, verbatim.
    pub timestamp: String,
    pub report_id: Option<i64>,
    pub report_name: Option<String>,
    pub credits_hundredths: i64,
    /// How the price was reached (`PriceBasis` as JSON).
    pub basis: String,
}

/// What one refresh records: the period's bounds, when it was seen, and the rows that changed.
pub struct Refresh<'a> {
    pub id: &'a str,
    pub first_message_ms: i64,
    pub last_message_ms: i64,
    pub seen_ms: i64,
    pub rows: &'a [&'a StoredRow],
}

pub struct HistoryStore {
    pool: AnyPool,
    rows_per_statement: usize,
    /// The database URL without credentials, for the logs.
    shown: String,
}

impl HistoryStore {
    /// A pool that connects on first use (and again after an outage), each connection waiting at most
    /// `timeout`: the store being down never holds a page up. A SQLite file's folder is created.
    pub fn open(url: &str, timeout: Duration) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let (url, sqlite) = prepared_url(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .acquire_timeout(timeout)
            .after_connect(|connection, _| {
                Box::pin(async move {
                    if connection.backend_name().eq_ignore_ascii_case("sqlite") {
                        // Readers do not wait for the writer; a second process writing waits its turn.
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(&url)
            .map_err(|error| format!("not a database URL: {error}"))?;
        let rows_per_statement = if sqlite { SQLITE_ROWS_PER_STATEMENT } else { POSTGRES_ROWS_PER_STATEMENT };
        Ok(HistoryStore { pool, rows_per_statement, shown: shown_url(&url) })
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL without credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub async fn migrate(&self) -> Result<(), SchemaError> {
        migrate(&self.pool).await
    }

    /// Records one refresh of the period `refresh.id` in one transaction: the period (created, or its bounds
    /// and last sighting brought forward), the changed rows (upserted), its count and total from the rows it
    /// holds; and closes every older period still open, since the upstream has moved on from it.
    pub async fn record(&self, refresh: &Refresh<'_>) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO periods (id, first_message_ms, last_message_ms, first_seen_ms, last_seen_ms, closed_ms, \
             message_count, total_hundredths) VALUES ($1, $2, $3, $4, $4, NULL, 0, 0) \
             ON CONFLICT (id) DO UPDATE SET \
             first_message_ms = CASE WHEN excluded.first_message_ms < periods.first_message_ms \
                 THEN excluded.first_message_ms ELSE periods.first_message_ms END, \
             last_message_ms = CASE WHEN excluded.last_message_ms > periods.last_message_ms \
                 THEN excluded.last_message_ms ELSE periods.last_message_ms END, \
             last_seen_ms = CASE WHEN excluded.last_seen_ms > periods.last_seen_ms \
                 THEN excluded.last_seen_ms ELSE periods.last_seen_ms END",
        )
        .bind(refresh.id)
        .bind(refresh.first_message_ms)
        .bind(refresh.last_message_ms)
        .bind(refresh.seen_ms)
        .execute(&mut *transaction)
        .await?;
        for chunk in refresh.rows.chunks(self.rows_per_statement) {
            let sql = upsert_rows_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(refresh.id)
                    .bind(row.message_id)
                    .bind(row.position)
                    .bind(row.timestamp.as_str())
                    .bind(row.report_id)
                    .bind(row.report_name.as_deref())
                    .bind(row.credits_hundredths)
                    .bind(row.basis.as_str());
            }
            query.execute(&mut *transaction).await?;
        }
        if !refresh.rows.is_empty() {
            sqlx::query(
                "UPDATE periods SET \
                 message_count = (SELECT COUNT(*) FROM period_rows WHERE period_id = $1), \
                 total_hundredths = (SELECT CAST(COALESCE(SUM(credits_hundredths), 0) AS BIGINT) \
                     FROM period_rows WHERE period_id = $1) \
                 WHERE id = $1",
            )
            .bind(refresh.id)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query("UPDATE periods SET closed_ms = $2 WHERE id < $1 AND closed_ms IS NULL")
            .bind(refresh.id)
            .bind(refresh.seen_ms)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await
    }

    /// Closes every open period: the upstream's current period has no messages yet, so it has moved on from
    /// them.
    pub async fn close_open_periods(&self, seen_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE periods SET closed_ms = $1 WHERE closed_ms IS NULL")
            .bind(seen_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every period, the most recent first.
    pub async fn periods(&self) -> Result<Vec<StoredPeriod>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, first_message_ms, last_message_ms, first_seen_ms, last_seen_ms, closed_ms, message_count, \
             total_hundredths FROM periods ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredPeriod {
                    id: row.try_get("id")?,
                    first_message_ms: row.try_get("first_message_ms")?,
                    last_message_ms: row.try_get("last_message_ms")?,
                    first_seen_ms: row.try_get("first_seen_ms")?,
                    last_seen_ms: row.try_get("last_seen_ms")?,
                    closed_ms: row.try_get("closed_ms")?,
                    message_count: row.try_get("message_count")?,
                    total_hundredths: row.try_get("total_hundredths")?,
                })
            })
            .collect()
    }

    /// A period's rows in upstream order.
    pub async fn rows_of(&self, id: &str) -> Result<Vec<StoredRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT message_id, position, timestamp, report_id, report_name, credits_hundredths, basis \
             FROM period_rows WHERE period_id = $1 ORDER BY position, message_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredRow {
                    message_id: row.try_get("message_id")?,
                    position: row.try_get("position")?,
                    timestamp: row.try_get("timestamp")?,
                    report_id: row.try_get("report_id")?,
                    report_name: row.try_get("report_name")?,
                    credits_hundredths: row.try_get("credits_hundredths")?,
                    basis: row.try_get("basis")?,
                })
            })
            .collect()
    }

    /// Deletes every period but the `keep` most recent, with their rows; returns the ids deleted.
    pub async fn keep_most_recent(&self, keep: usize) -> Result<Vec<String>, sqlx::Error> {
        let ids: Vec<String> = sqlx::query("SELECT id FROM periods ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        let older = ids.into_iter().skip(keep).collect::<Vec<_>>();
        if older.is_empty() {
            return Ok(older);
        }
        let mut transaction = self.pool.begin().await?;
        for id in &older {
            sqlx::query("DELETE FROM period_rows WHERE period_id = $1").bind(id).execute(&mut *transaction).await?;
            sqlx::query("DELETE FROM periods WHERE id = $1").bind(id).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(older)
    }
}

/// `INSERT … VALUES ($1, …, $8), ($9, …) ON CONFLICT … DO UPDATE` for `rows` rows.
fn upsert_rows_sql(rows: usize) -> String {
    const COLUMNS: usize = 8;
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let parameters: Vec<String> = (1..=COLUMNS).map(|column| format!("${}", row * COLUMNS + column)).collect();
            format!("({})", parameters.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO period_rows (period_id, message_id, position, timestamp, report_id, report_name, \
         credits_hundredths, basis) VALUES {} ON CONFLICT (period_id, message_id) DO UPDATE SET \
         position = excluded.position, timestamp = excluded.timestamp, report_id = excluded.report_id, \
         report_name = excluded.report_name, credits_hundredths = excluded.credits_hundredths, \
         basis = excluded.basis",
        values.join(", ")
    )
}

/// The URL sqlx is given: a SQLite file is opened read-write and created with its folder when missing.
fn prepared_url(url: &str) -> Result<(String, bool), String> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let (file, query) = path.split_once('?').unwrap_or((path, ""));
        if file.is_empty() {
            return Err("a sqlite:// URL names a file: sqlite://data/history.sqlite3".into());
        }
        if let Some(folder) = std::path::Path::new(file).parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|error| format!("cannot create the folder {}: {error}", folder.display()))?;
        }
        let query = if query.is_empty() { "mode=rwc".to_owned() } else { query.to_owned() };
        return Ok((format!("sqlite://{file}?{query}"), true));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_owned(), false));
    }
    Err("must start with sqlite:// or postgres://".into())
}

/// The database URL without credentials: a file's path, or a server's scheme, host, port and database.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.scheme() != "sqlite" => redacted(&parsed),
        _ => url.split('?').next().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_upserted_with_numbered_parameters() {
        let sql = upsert_rows_sql(2);
        assert!(sql
            .contains("VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT"));
    }

    #[test]
    fn database_urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("postgres://dash:s3cret@db.test:5433/history?sslmode=require"),
            "postgres://db.test:5433/history?…"
        );
        assert_eq!(shown_url("sqlite://data/history.sqlite3?mode=rwc"), "sqlite://data/history.sqlite3");
    }
}
