//! The store's schema: migrations embedded in the binary, applied at start-up by a runner of its own, so that the
//! store can share a database with other applications (sqlx's included): its tables are `credit_dashboard_*`
//! and it records its migrations in `credit_dashboard_migrations`, never in `_sqlx_migrations`.
//!
//! Rolling deploys: each migration says whether it is *additive* — it only adds tables, or columns that may be
//! NULL, which a binary that does not know them never reads and never has to write (every query names its
//! columns). An older binary runs on a database whose newer migrations are all additive, and refuses, untouched,
//! one with a newer migration that is not: that database was changed in a way the older binary cannot use. A
//! migration this binary knows whose SQL was changed since it was applied is refused too.

use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use sqlx::{Executor, Row};

pub const MIGRATIONS_TABLE: &str = "credit_dashboard_migrations";

/// One step of the schema.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
    /// Only adds tables or nullable columns: an older binary may use the database after it.
    pub additive: bool,
}

/// Every migration this binary knows, in order. The same SQL serves SQLite and PostgreSQL.
pub const MIGRATIONS: [Migration; 2] = [
    Migration {
        version: 1,
        description: "periods, their rows and the alert ledger, by upstream",
        sql: include_str!("migrations/0001_credit_dashboard.sql"),
        additive: false,
    },
    Migration {
        version: 2,
        description: "the sessions of people signed in",
        sql: include_str!("migrations/0002_sessions.sql"),
        additive: true,
    },
];

/// The tables and columns the code reads and writes, as the database must have them after the migrations;
/// the schema tests compare both engines with it.
pub const EXPECTED_COLUMNS: [(&str, &[&str]); 4] = [
    (
        "credit_dashboard_periods",
        &[
            "upstream",
            "id",
            "first_message_ms",
            "last_message_ms",
            "first_seen_ms",
            "last_seen_ms",
            "closed_ms",
            "message_count",
            "total_hundredths",
            "version",
        ],
    ),
    (
        "credit_dashboard_period_rows",
        &[
            "upstream",
            "period_id",
            "message_id",
            "position",
            "timestamp",
            "report_id",
            "report_name",
            "credits_hundredths",
            "basis",
        ],
    ),
    (
        "credit_dashboard_alerts",
        &[
            "upstream",
            "period_id",
            "kind",
            "threshold_permille",
            "body",
            "claimed_by",
            "claimed_ms",
            "state",
            "attempts",
            "last_attempt_ms",
            "last_error",
            "delivered_ms",
            "raised_ms",
            "next_attempt_ms",
        ],
    ),
    ("credit_dashboard_sessions", &["name", "value", "expires_ms"]),
];

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A newer binary has changed this database in a way this one cannot use, and it is never "fixed".
    #[error(
        "the history database has schema version {found}, newer than this server's {known} and not additive: it \
         was migrated by a newer version of the dashboard; run that version, or point database_url at another \
         database"
    )]
    NewerThanBinary { found: i64, known: i64 },
    #[error("the history database's migration {version} is not the one this server has: its SQL was changed")]
    Changed { version: i64 },
    #[error("the history database does not answer: {0}")]
    Unavailable(#[from] sqlx::Error),
}

/// The newest schema version this binary knows.
pub fn known_version() -> i64 {
    MIGRATIONS.iter().map(|migration| migration.version).max().unwrap_or(0)
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Brings the database to this binary's schema, in one transaction that concurrent servers take in turn
/// (PostgreSQL: an advisory lock; SQLite: the write lock, taken as the transaction begins), or refuses it.
pub async fn migrate(pool: &AnyPool, sqlite: bool) -> Result<(), SchemaError> {
    let mut transaction = begin_writing(pool, sqlite).await?;
    if !sqlite {
        // A number of this application's own: "credit-dashboard" in ASCII, cut to 8 bytes.
        sqlx::query("SELECT pg_advisory_xact_lock(7165901439040236900)").execute(&mut *transaction).await?;
    }
    // Executor::execute (boxed) rather than RawSql::execute (an async fn generic over its executor), whose
    // future cannot be shown Send inside a spawned task.
    transaction
        .execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS credit_dashboard_migrations (version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, checksum TEXT NOT NULL, additive BIGINT NOT NULL, applied_ms BIGINT NOT NULL)",
        ))
        .await?;
    // `additive` is 1 or 0: sqlx's Any driver reads no SQLite boolean.
    let applied: Vec<(i64, String, i64)> =
        sqlx::query("SELECT version, checksum, additive FROM credit_dashboard_migrations ORDER BY version")
            .fetch_all(&mut *transaction)
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    for (version, applied_checksum, additive) in &applied {
        match MIGRATIONS.iter().find(|migration| migration.version == *version) {
            Some(migration) if checksum(migration.sql) != *applied_checksum => {
                return Err(SchemaError::Changed { version: *version });
            }
            Some(_) => {}
            None if *additive == 1 => {}
            None => return Err(SchemaError::NewerThanBinary { found: *version, known: known_version() }),
        }
    }
    for migration in MIGRATIONS.iter().filter(|migration| !applied.iter().any(|(v, ..)| *v == migration.version)) {
        transaction.execute(sqlx::raw_sql(migration.sql)).await?;
        sqlx::query(
            "INSERT INTO credit_dashboard_migrations (version, description, checksum, additive, applied_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(migration.version)
        .bind(migration.description)
        .bind(checksum(migration.sql))
        .bind(i64::from(migration.additive))
        .bind(jiff::Timestamp::now().as_millisecond())
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// A transaction that writes: on SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so that what it
/// reads cannot change before it commits, and a second writer waits (`busy_timeout`) rather than failing when
/// it would upgrade a read.
pub async fn begin_writing(pool: &AnyPool, sqlite: bool) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match sqlite {
        true => pool.begin_with("BEGIN IMMEDIATE").await,
        false => pool.begin().await,
    }
}
