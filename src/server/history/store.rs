//! The history store's one adapter, for both engines: SQLite (a file, the default) and PostgreSQL (what
//! several replicas share), through sqlx's Any driver with runtime queries and bound parameters.
//!
//! A period holds exactly the newest fetch of it the store was given: each write is one transaction that
//! carries its fetch time and version, is dropped when the store already holds a newer fetch, and otherwise
//! leaves the period's rows those of its fetch (rows the upstream stopped listing go). A period is closed only on
//! evidence newer than its own last sighting (a later fetch of another period), and a later sighting of it
//! reopens it; an empty answer closes nothing. Written twice — by two replicas, or again after a restart — a
//! fetch is one period with one row per message.

use crate::server::database::schema::begin_writing;
use crate::server::database::Database;
use sqlx::AnyPool;
use sqlx::Row;
use std::sync::Arc;

/// Rows per INSERT (9 parameters each, well under both engines' limits on parameters per statement). Measured
/// on 100 000 rows (`bench/RESULTS.md`): SQLite through sqlx binds a large statement's parameters slowly (500
/// rows a statement took 4.2 s, 100 rows 1.2 s, 50 rows 0.85 s), PostgreSQL prefers fewer round trips (0.63 s at
/// 500, 0.76 s at 100).
const SQLITE_ROWS_PER_STATEMENT: usize = 50;
const POSTGRES_ROWS_PER_STATEMENT: usize = 500;
/// Message ids per DELETE of the rows a fetch no longer lists.
const DELETED_IDS_PER_STATEMENT: usize = 500;

/// A period as the store keeps it (instants in milliseconds since the epoch, credits in hundredths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodRecord {
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
pub struct RowRecord {
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

/// One fetch of a period, to record: its bounds, when it was fetched, its version, its count and total, every
/// row, and what changed since the version this recorder last wrote, when it knows that.
pub struct Refresh<'a> {
    pub id: &'a str,
    pub first_message_ms: i64,
    pub last_message_ms: i64,
    pub seen_ms: i64,
    pub version: &'a str,
    pub message_count: i64,
    pub total_hundredths: i64,
    pub rows: &'a [RowRecord],
    pub delta: Option<Delta<'a>>,
}

/// The rows of a fetch that differ from the version `base`: written alone while the store still holds `base`.
pub struct Delta<'a> {
    pub base: &'a str,
    pub changed: Vec<&'a RowRecord>,
    pub removed: Vec<i64>,
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The period now holds this fetch; this many rows were written or deleted.
    Rows(usize),
    /// The store held this version already: the sighting only.
    Sighting,
    /// The store holds a newer fetch of the period: nothing written.
    Stale,
}

pub struct HistoryStore {
    db: Arc<Database>,
    /// The upstream whose periods this store reads and writes: every row is keyed by it.
    upstream: String,
    rows_per_statement: usize,
}

impl HistoryStore {
    /// The periods of the upstream `upstream` (its identity, `UpstreamUrls::identity`) in `db`.
    pub fn new(db: Arc<Database>, upstream: &str) -> Self {
        let rows_per_statement = if db.is_sqlite() { SQLITE_ROWS_PER_STATEMENT } else { POSTGRES_ROWS_PER_STATEMENT };
        HistoryStore { db, upstream: upstream.to_owned(), rows_per_statement }
    }

    fn pool(&self) -> &AnyPool {
        self.db.pool()
    }

    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// Records one fetch of the period `refresh.id`, in one transaction (see the module comment).
    pub async fn record(&self, refresh: &Refresh<'_>) -> Result<Recorded, sqlx::Error> {
        let mut transaction = begin_writing(self.pool(), self.db.is_sqlite()).await?;
        // The period's row, created empty (never written: -1) when new; PostgreSQL then locks it (SQLite's write
        // lock is the transaction's already), so that what is read next cannot change before this commits.
        sqlx::query(
            "INSERT INTO credit_dashboard_periods (upstream, id, first_message_ms, last_message_ms, first_seen_ms, \
             last_seen_ms, closed_ms, message_count, total_hundredths, version) \
             VALUES ($1, $2, $3, $4, $5, -1, NULL, 0, 0, '') ON CONFLICT (upstream, id) DO NOTHING",
        )
        .bind(self.upstream.as_str())
        .bind(refresh.id)
        .bind(refresh.first_message_ms)
        .bind(refresh.last_message_ms)
        .bind(refresh.seen_ms)
        .execute(&mut *transaction)
        .await?;
        let lock = if self.db.is_sqlite() { "" } else { " FOR UPDATE" };
        let sql =
            format!("SELECT version, last_seen_ms FROM credit_dashboard_periods WHERE upstream = $1 AND id = $2{lock}");
        let stored =
            sqlx::query(&sql).bind(self.upstream.as_str()).bind(refresh.id).fetch_one(&mut *transaction).await?;
        let (stored_version, stored_seen): (String, i64) = (stored.try_get(0)?, stored.try_get(1)?);
        if stored_seen > refresh.seen_ms || (stored_seen == refresh.seen_ms && stored_version == refresh.version) {
            transaction.rollback().await?;
            return Ok(Recorded::Stale);
        }
        let recorded = if stored_version == refresh.version {
            Recorded::Sighting
        } else if let Some(delta) = refresh.delta.as_ref().filter(|delta| delta.base == stored_version) {
            self.upsert_rows(&mut transaction, refresh.id, &delta.changed).await?;
            self.delete_rows(&mut transaction, refresh.id, &delta.removed).await?;
            Recorded::Rows(delta.changed.len() + delta.removed.len())
        } else {
            // The store holds another writer's version (or none): the fetch replaces it whole.
            sqlx::query("DELETE FROM credit_dashboard_period_rows WHERE upstream = $1 AND period_id = $2")
                .bind(self.upstream.as_str())
                .bind(refresh.id)
                .execute(&mut *transaction)
                .await?;
            let all: Vec<&RowRecord> = refresh.rows.iter().collect();
            self.upsert_rows(&mut transaction, refresh.id, &all).await?;
            Recorded::Rows(all.len())
        };
        // A sighting newer than the evidence that closed the period reopens it.
        sqlx::query(
            "UPDATE credit_dashboard_periods SET first_message_ms = $3, last_message_ms = $4, last_seen_ms = $5, \
             version = $6, message_count = $7, total_hundredths = $8, \
             closed_ms = CASE WHEN closed_ms < $5 THEN NULL ELSE closed_ms END WHERE upstream = $1 AND id = $2",
        )
        .bind(self.upstream.as_str())
        .bind(refresh.id)
        .bind(refresh.first_message_ms)
        .bind(refresh.last_message_ms)
        .bind(refresh.seen_ms)
        .bind(refresh.version)
        .bind(refresh.message_count)
        .bind(refresh.total_hundredths)
        .execute(&mut *transaction)
        .await?;
        // The upstream has moved on from every other open period last seen before this fetch.
        sqlx::query(
            "UPDATE credit_dashboard_periods SET closed_ms = $3 \
             WHERE upstream = $1 AND id <> $2 AND closed_ms IS NULL AND last_seen_ms < $3",
        )
        .bind(self.upstream.as_str())
        .bind(refresh.id)
        .bind(refresh.seen_ms)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(recorded)
    }

    async fn upsert_rows(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        rows: &[&RowRecord],
    ) -> Result<(), sqlx::Error> {
        for chunk in rows.chunks(self.rows_per_statement) {
            let sql = upsert_rows_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(self.upstream.as_str())
                    .bind(id)
                    .bind(row.message_id)
                    .bind(row.position)
                    .bind(row.timestamp.as_str())
                    .bind(row.report_id)
                    .bind(row.report_name.as_deref())
                    .bind(row.credits_hundredths)
                    .bind(row.basis.as_str());
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }

    async fn delete_rows(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        message_ids: &[i64],
    ) -> Result<(), sqlx::Error> {
        for chunk in message_ids.chunks(DELETED_IDS_PER_STATEMENT) {
            let placeholders: Vec<String> = (3..chunk.len() + 3).map(|n| format!("${n}")).collect();
            let sql = format!(
                "DELETE FROM credit_dashboard_period_rows WHERE upstream = $1 AND period_id = $2 AND message_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(self.upstream.as_str()).bind(id);
            for message_id in chunk {
                query = query.bind(*message_id);
            }
            query.execute(&mut **transaction).await?;
        }
        Ok(())
    }

    /// Every period of this upstream, the most recent first.
    pub async fn periods(&self) -> Result<Vec<PeriodRecord>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, first_message_ms, last_message_ms, first_seen_ms, last_seen_ms, closed_ms, message_count, \
             total_hundredths FROM credit_dashboard_periods WHERE upstream = $1 AND last_seen_ms >= 0 ORDER BY id DESC",
        )
        .bind(self.upstream.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PeriodRecord {
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
    pub async fn rows_of(&self, id: &str) -> Result<Vec<RowRecord>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT message_id, position, timestamp, report_id, report_name, credits_hundredths, basis \
             FROM credit_dashboard_period_rows WHERE upstream = $1 AND period_id = $2 ORDER BY position, message_id",
        )
        .bind(self.upstream.as_str())
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RowRecord {
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

    /// Deletes every period but the `keep` most recent from the listing (their rows stay until
    /// `delete_row_batch` takes them); returns the ids deleted.
    pub async fn forget_older_periods(&self, keep: usize) -> Result<Vec<String>, sqlx::Error> {
        let older: Vec<String> = self.periods().await?.into_iter().skip(keep).map(|period| period.id).collect();
        for id in &older {
            sqlx::query("DELETE FROM credit_dashboard_periods WHERE upstream = $1 AND id = $2")
                .bind(self.upstream.as_str())
                .bind(id)
                .execute(self.pool())
                .await?;
        }
        Ok(older)
    }

    /// The periods whose rows are still there though the period is not (deleted by the retention).
    pub async fn periods_of_orphaned_rows(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query(
            "SELECT DISTINCT period_id FROM credit_dashboard_period_rows WHERE upstream = $1 \
             AND period_id NOT IN (SELECT id FROM credit_dashboard_periods WHERE upstream = $1)",
        )
        .bind(self.upstream.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect()
    }

    /// Deletes at most `batch` rows of the period `id`, in one statement of its own; how many it deleted.
    pub async fn delete_row_batch(&self, id: &str, batch: usize) -> Result<u64, sqlx::Error> {
        let deleted = sqlx::query(
            "DELETE FROM credit_dashboard_period_rows WHERE upstream = $1 AND period_id = $2 AND message_id IN \
             (SELECT message_id FROM credit_dashboard_period_rows WHERE upstream = $1 AND period_id = $2 LIMIT $3)",
        )
        .bind(self.upstream.as_str())
        .bind(id)
        .bind(batch as i64)
        .execute(self.pool())
        .await?;
        Ok(deleted.rows_affected())
    }
}

/// `INSERT … VALUES ($1, …, $9), ($10, …) ON CONFLICT … DO UPDATE` for `rows` rows.
fn upsert_rows_sql(rows: usize) -> String {
    const COLUMNS: usize = 9;
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let parameters: Vec<String> = (1..=COLUMNS).map(|column| format!("${}", row * COLUMNS + column)).collect();
            format!("({})", parameters.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO credit_dashboard_period_rows (upstream, period_id, message_id, position, timestamp, report_id, \
         report_name, credits_hundredths, basis) VALUES {} ON CONFLICT (upstream, period_id, message_id) DO UPDATE \
         SET position = excluded.position, timestamp = excluded.timestamp, report_id = excluded.report_id, \
         report_name = excluded.report_name, credits_hundredths = excluded.credits_hundredths, \
         basis = excluded.basis",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_upserted_with_numbered_parameters() {
        let sql = upsert_rows_sql(2);
        assert!(sql.contains(
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT"
        ));
    }
}
