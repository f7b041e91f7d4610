//! Sessions in the dashboard's database (`credit_dashboard_sessions`), which servers sharing one database share:
//! a row per session, its value encrypted, with when it ends; ended rows are deleted as new ones start. Each call
//! waits at most the database's request timeout, and a database not answering is the store being unavailable
//! (a 503, never an open door).

use super::{now_s, SessionBackend, SessionError};
use crate::server::database::Database;
use futures::future::BoxFuture;
use sqlx::Row;
use std::sync::Arc;

pub struct SqlSessions {
    db: Arc<Database>,
}

impl SqlSessions {
    pub fn new(db: Arc<Database>) -> Self {
        SqlSessions { db }
    }

    /// `call` on a database brought to this binary's schema, within the request's timeout.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SessionError> {
        let unavailable = |reason: String| SessionError::Unavailable(format!("the history store failed: {reason}"));
        self.db.ensure_schema().await.map_err(|error| unavailable(error.to_string()))?;
        self.db.waited(call).await.map_err(|error| unavailable(error.to_string()))
    }

    async fn put_now(&self, name: &str, value: &str, expires_ms: i64, existing: bool) -> Result<(), sqlx::Error> {
        let pool = self.db.pool();
        if existing {
            // Only a session that is still there: one deleted meanwhile stays deleted.
            sqlx::query("UPDATE credit_dashboard_sessions SET value = $2, expires_ms = $3 WHERE name = $1")
                .bind(name)
                .bind(value)
                .bind(expires_ms)
                .execute(pool)
                .await?;
            return Ok(());
        }
        // Sessions that ended are removed as new ones start.
        sqlx::query("DELETE FROM credit_dashboard_sessions WHERE expires_ms <= $1")
            .bind(now_s() * 1000)
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO credit_dashboard_sessions (name, value, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
        )
        .bind(name)
        .bind(value)
        .bind(expires_ms)
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn get_now(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT value, expires_ms FROM credit_dashboard_sessions WHERE name = $1")
            .bind(name)
            .fetch_optional(self.db.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_ms: i64 = row.try_get("expires_ms")?;
        Ok(if expires_ms > now_s() * 1000 { Some(row.try_get("value")?) } else { None })
    }
}

impl SessionBackend for SqlSessions {
    fn kind(&self) -> &'static str {
        "the history store"
    }

    fn put<'a>(
        &'a self,
        name: &'a str,
        value: String,
        ends_s: i64,
        existing: bool,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(async move { self.call(self.put_now(name, &value, ends_s * 1000, existing)).await })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>> {
        Box::pin(self.call(self.get_now(name)))
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>> {
        let delete = sqlx::query("DELETE FROM credit_dashboard_sessions WHERE name = $1").bind(name);
        Box::pin(async move { self.call(async { delete.execute(self.db.pool()).await.map(|_| ()) }).await })
    }
}
