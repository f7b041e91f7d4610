//! The store's schema: migrations embedded in the binary, applied at start-up, and a database that a newer
//! binary has migrated refused rather than touched.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migrate, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// Every migration this binary knows, in order. The same SQL serves SQLite and PostgreSQL.
const MIGRATIONS: [(i64, &str, &str); 2] = [
    (1, "periods", include_str!("migrations/0001_periods.sql")),
    (2, "alerts", include_str!("migrations/0002_alerts.sql")),
];

/// The tables and columns the code reads and writes, as the database must have them after the migrations;
/// the schema tests compare both engines with it.
pub const EXPECTED_COLUMNS: [(&str, &[&str]); 3] = [
    (
        "periods",
        &[
            "id",
            "first_message_ms",
            "last_message_ms",
            "first_seen_ms",
            "last_seen_ms",
            "closed_ms",
            "message_count",
            "total_hundredths",
        ],
    ),
    (
        "period_rows",
        &[
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
        "alerts",
        &[
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
        ],
    ),
];

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A newer binary has migrated this database: this one does not know its schema, and never "fixes" it.
    #[error(
        "the history database has schema version {found}, newer than this server's {known}: it was migrated by a \
         newer version of the dashboard; run that version, or point database_url at another database"
    )]
    NewerThanBinary { found: i64, known: i64 },
    #[error("the history database could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the history database does not answer: {0}")]
    Unavailable(#[from] sqlx::Error),
}

/// The newest schema version this binary knows.
pub fn known_version() -> i64 {
    MIGRATIONS.iter().map(|(version, ..)| *version).max().unwrap_or(0)
}

/// Brings the database to this binary's schema, or refuses a database a newer binary has migrated.
pub async fn migrate(pool: &AnyPool) -> Result<(), SchemaError> {
    let migrator = Migrator::new(Embedded).await?;
    let mut connection = pool.acquire().await?;
    connection.ensure_migrations_table().await?;
    let applied = connection.list_applied_migrations().await?;
    if let Some(found) = applied.iter().map(|applied| applied.version).filter(|v| !migrator.version_exists(*v)).max() {
        return Err(SchemaError::NewerThanBinary { found, known: known_version() });
    }
    drop(connection);
    migrator.run(pool).await?;
    Ok(())
}
