//! Sessions in the shared Redis, which every replica reads: a key per session, its value encrypted, expiring
//! when the session ends.

use super::{now_s, SessionBackend, SessionError};
use crate::server::shared_cache::SharedCache;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct RedisSessions {
    shared: Arc<SharedCache>,
    /// Sessions are the deployment's, tied to neither the upstream nor the credit rules.
    prefix: String,
    /// The largest value read back.
    limit: usize,
}

impl RedisSessions {
    pub fn new(shared: Arc<SharedCache>, limit: usize) -> Self {
        RedisSessions { prefix: shared.deployment_prefix("sessions"), shared, limit }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

fn unavailable() -> SessionError {
    SessionError::Unavailable("the shared cache did not answer".into())
}

impl SessionBackend for RedisSessions {
    fn kind(&self) -> &'static str {
        "the shared cache"
    }

    fn put<'a>(
        &'a self,
        name: &'a str,
        value: String,
        ends_s: i64,
        existing: bool,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        let lives = Duration::from_secs(ends_s.saturating_sub(now_s()).max(1) as u64);
        Box::pin(async move {
            let key = self.key(name);
            self.shared.put_at("put_session", &key, value.into_bytes(), lives, existing).await.ok_or_else(unavailable)
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>> {
        Box::pin(async move {
            let read = self.shared.get_at("get_session", &self.key(name), self.limit).await;
            Ok(match read.ok_or_else(unavailable)? {
                None => None,
                Some(Ok(bytes)) => String::from_utf8(bytes.to_vec()).ok(),
                Some(Err(reason)) => {
                    tracing::warn!(%reason, "a session in the shared cache is not one: ignored");
                    None
                }
            })
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(async move { self.shared.delete_at("delete_session", &self.key(name)).await.ok_or_else(unavailable) })
    }
}
