//! Sessions in the shared Redis, which every replica reads: a key per session, its value encrypted, expiring
//! when the session ends.

use super::{now_s, SessionBackend, SessionError};
use crate::server::shared_cache::{Bounded, SharedCache};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

pub struct RedisSessions {
    shared: Arc<SharedCache>,
    /// The largest value read back.
    limit: usize,
}

impl RedisSessions {
    pub fn new(shared: Arc<SharedCache>, limit: usize) -> Self {
        RedisSessions { shared, limit }
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
            self.shared.put_session(name, value.into_bytes(), lives, existing).await.ok_or_else(unavailable)
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>> {
        Box::pin(async move {
            Ok(match self.shared.get_session(name, self.limit).await.ok_or_else(unavailable)? {
                None => None,
                Some(Bounded::Value(bytes)) => String::from_utf8(bytes.to_vec()).ok(),
                Some(other) => {
                    let reason = other.into_value().err().unwrap_or_default();
                    tracing::warn!(%reason, "a session in the shared cache is not one: ignored");
                    None
                }
            })
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(async move { self.shared.delete_session(name).await.ok_or_else(unavailable) })
    }
}
