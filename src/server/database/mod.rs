//! The one database the dashboard keeps its state in (`database_url`): SQLite (a file, the default) or
//! PostgreSQL (what several replicas share), through sqlx's Any driver with runtime queries and bound parameters.
//! Its users each wrap it with their own tables: the history store (periods and rows), the alert ledger, and
//! people's sessions. Here: the pool, the schema (brought to this binary's once, `schema.rs`), and the two bounds
//! on a call: how long a request waits (`timeout`), and how long a piece of the store's own work may take
//! (`work_timeout`), after which a hung connection fails it rather than holding anything up for ever.

pub mod schema;

use crate::server::config::redacted;
use schema::SchemaError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::future::Future;
use std::time::Duration;

/// Why the database cannot even be opened (a URL it cannot use, a folder it cannot create).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(String);

/// Why a call did not answer in time: a timeout, as the store's own errors are told.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the history store does not answer: {0}")]
    Failed(#[from] sqlx::Error),
    #[error("the history store did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
}

pub struct Database {
    pool: AnyPool,
    sqlite: bool,
    /// The URL without credentials, for the logs.
    shown: String,
    timeout: Duration,
    work_timeout: Duration,
    /// Set once the schema is this binary's; concurrent callers wait for the one migration.
    schema: tokio::sync::OnceCell<()>,
}

impl Database {
    /// A pool that connects on first use (and again after an outage), each connection waiting at most
    /// `timeout`: the database being down never holds a page up. A SQLite file's folder is created.
    pub fn open(url: &str, timeout: Duration, work_timeout: Duration) -> Result<Self, OpenError> {
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
            .map_err(|error| OpenError(format!("not a database URL: {error}")))?;
        Ok(Database {
            pool,
            sqlite,
            shown: shown_url(&url),
            timeout,
            work_timeout,
            schema: tokio::sync::OnceCell::new(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// The URL without credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Brings the database to this binary's schema, once (bounded by the work timeout); a failure is tried
    /// again by the next caller.
    pub async fn ensure_schema(&self) -> Result<(), SchemaError> {
        let migrate = || async {
            tokio::time::timeout(self.work_timeout, schema::migrate(&self.pool, self.sqlite)).await.unwrap_or_else(
                |_| {
                    let timeout =
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "the migration did not end in time");
                    Err(SchemaError::Unavailable(sqlx::Error::Io(timeout)))
                },
            )
        };
        self.schema.get_or_try_init(migrate).await.map(|_| ())
    }

    /// A piece of the store's own work (a write, a ledger update, a batch of the retention, a past period's
    /// read), bounded by the work timeout: one that does not end in time fails as a database error does.
    pub async fn bounded<T>(&self, call: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, sqlx::Error> {
        within(self.work_timeout, call).await
    }

    /// A call a request waits for, bounded by the request's timeout.
    pub async fn waited<T>(&self, call: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, CallError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => Err(CallError::TimedOut(self.timeout)),
        }
    }

    pub fn work_timeout(&self) -> Duration {
        self.work_timeout
    }
}

/// `call`, failing as a database error (a timeout) when it has not ended within `budget`.
pub async fn within<T>(budget: Duration, call: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, sqlx::Error> {
    tokio::time::timeout(budget, call).await.unwrap_or_else(|_| {
        Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} ms", budget.as_millis()),
        )))
    })
}

/// The URL sqlx is given: a SQLite file is opened read-write and created with its folder when missing.
fn prepared_url(url: &str) -> Result<(String, bool), OpenError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let (file, query) = path.split_once('?').unwrap_or((path, ""));
        if file.is_empty() {
            return Err(OpenError("a sqlite:// URL names a file: sqlite://data/history.sqlite3".into()));
        }
        if let Some(folder) = std::path::Path::new(file).parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|error| OpenError(format!("cannot create the folder {}: {error}", folder.display())))?;
        }
        let query = if query.is_empty() { "mode=rwc".to_owned() } else { query.to_owned() };
        return Ok((format!("sqlite://{file}?{query}"), true));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_owned(), false));
    }
    Err(OpenError("must start with sqlite:// or postgres://".into()))
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
    fn database_urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("postgres://dash:s3cret@db.test:5433/history?sslmode=require"),
            "postgres://db.test:5433/history?…"
        );
        assert_eq!(shown_url("sqlite://data/history.sqlite3?mode=rwc"), "sqlite://data/history.sqlite3");
    }
}
