//! Sessions in the history store's database (`credit_dashboard_sessions`), which servers sharing one database
//! share: a row per session, its value encrypted, with when it ends; ended rows are deleted as new ones start.

use super::{bounded, now_s, SessionBackend, SessionError};
use crate::server::history::History;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct SqlSessions {
    history: Arc<History>,
    /// The longest a request waits on the database.
    timeout: Duration,
}

impl SqlSessions {
    pub fn new(history: Arc<History>, timeout: Duration) -> Self {
        SqlSessions { history, timeout }
    }

    async fn ready(&self) -> Result<(), String> {
        self.history.ensure_schema().await.map_err(|error| error.to_string())
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
        Box::pin(bounded(self.timeout, "the history store", async move {
            self.ready().await?;
            let store = self.history.store();
            let written = match existing {
                true => store.update_session(name, &value, ends_s * 1000).await,
                false => {
                    // Sessions that ended are removed as new ones start.
                    store.delete_expired_sessions(now_s() * 1000).await.map_err(|error| error.to_string())?;
                    store.put_session(name, &value, ends_s * 1000).await
                }
            };
            written.map_err(|error| error.to_string())
        }))
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>> {
        Box::pin(bounded(self.timeout, "the history store", async move {
            self.ready().await?;
            self.history.store().get_session(name, now_s() * 1000).await.map_err(|error| error.to_string())
        }))
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(bounded(self.timeout, "the history store", async move {
            self.ready().await?;
            self.history.store().delete_session(name).await.map_err(|error| error.to_string())
        }))
    }
}
