//! Values under names, read as input: every read is bounded in size in one server-side script (`READ_BOUNDED`:
//! a value over the limit is left unread, a key of another type said so), and with `shared_cache_secret`
//! every value of the upstream's is sealed when written and must be when read (`seal.rs`). The owners of the
//! values (the kept period, the report lookups, the sessions) decide their names and what they hold.

use super::client::{px, SharedCache};
use super::scripts::READ_BOUNDED;
use super::seal::{unsealed_without_keys, Unsealed};
use axum::body::Bytes;
use fred::prelude::{KeysInterface, LuaInterface};
use fred::types::Value;
use std::time::Duration;

/// A value read under a size limit, or why it cannot be used.
pub type Bounded = Result<Bytes, NotAValue>;

/// Why what a key holds is not a value of ours.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAValue {
    /// Larger than the limit: left unread.
    #[error("{0} bytes, over the limit")]
    TooLarge(u64),
    /// Not a string: a foreign value.
    #[error("not a string")]
    NotAString,
    /// Not sealed under a `shared_cache_secret` of this replica: written by someone else, or edited.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
}

impl SharedCache {
    /// The upstream's values named `names`, each of at most `limit` bytes, in one call, each authenticated;
    /// `None` for each there is none. `None`: the cache cannot be asked.
    pub async fn read_named(
        &self,
        operation: &'static str,
        names: &[String],
        limit: usize,
    ) -> Option<Vec<Option<Bounded>>> {
        let timeout = self.timeout_for(names.len() * limit.min(self.max_value_bytes));
        self.read_values(operation, names, limit, timeout, true).await
    }

    /// Writes the upstream's values, each under its name for its own time, sealed: one pipeline.
    pub async fn write_named(&self, operation: &'static str, values: Vec<(String, Bytes, Duration)>) {
        if values.is_empty() {
            return;
        }
        let timeout = self.timeout_for(values.iter().map(|(_, value, _)| value.len()).sum());
        let pipeline = self.client.pipeline();
        let queued = async {
            for (name, value, lives) in values {
                let key = self.key(&name);
                let value = self.sealed(&key, value);
                let () = pipeline.set(key, value, Some(px(lives)), None, false).await?;
            }
            pipeline.all::<Vec<Value>>().await.map(|_| ())
        };
        let _: Option<()> = self.call(operation, timeout, queued).await;
    }

    /// Keeps `value` (sealed by its owner) under the whole key `key` for `lives`; when `existing`, only over a
    /// value that is there (`SET … XX`). `None`: the cache cannot be asked.
    pub async fn put_at(
        &self,
        operation: &'static str,
        key: &str,
        value: Vec<u8>,
        lives: Duration,
        existing: bool,
    ) -> Option<()> {
        let commands = self.commands();
        let only = existing.then_some(fred::types::SetOptions::XX);
        let write = commands.set::<Value, _, _>(key, value, Some(px(lives)), only, false);
        self.call(operation, self.timeout, write).await.map(|_| ())
    }

    /// The value under the whole key `key`, at most `limit` bytes, as stored (its owner checks it).
    pub async fn get_at(&self, operation: &'static str, key: &str, limit: usize) -> Option<Option<Bounded>> {
        let read = self.client.eval::<Value, _, _, _>(READ_BOUNDED, vec![key.to_owned()], vec![limit.to_string()]);
        let value = self.call(operation, self.timeout, read).await?.into_array().into_iter().next();
        Some(bounded_value(value.unwrap_or(Value::Null)))
    }

    pub async fn delete_at(&self, operation: &'static str, key: &str) -> Option<()> {
        let commands = self.commands();
        let delete = commands.del::<i64, _>(key);
        self.call(operation, self.timeout, delete).await.map(|_| ())
    }

    /// One value of the upstream's of at most `limit` bytes, authenticated; `Some(None)` when there is none.
    pub(super) async fn read_one(
        &self,
        operation: &'static str,
        name: &str,
        limit: usize,
        timeout: Duration,
    ) -> Option<Option<Bounded>> {
        Some(self.read_values(operation, &[name.to_owned()], limit, timeout, true).await?.pop().flatten())
    }

    /// The values of `names`, each of at most `limit` bytes (`READ_BOUNDED`), in one call; each authenticated
    /// when `sealed` (every value but the lease's token).
    pub(super) async fn read_values(
        &self,
        operation: &'static str,
        names: &[String],
        limit: usize,
        timeout: Duration,
        sealed: bool,
    ) -> Option<Vec<Option<Bounded>>> {
        let keys: Vec<String> = names.iter().map(|name| self.key(name)).collect();
        let read = self.client.eval::<Value, _, _, _>(READ_BOUNDED, keys.clone(), vec![limit.to_string()]);
        let mut values = self.call(operation, timeout, read).await?.into_array().into_iter();
        let read = keys.iter().map(|key| {
            let value = bounded_value(values.next().unwrap_or(Value::Null))?;
            Some(match value {
                Ok(bytes) if sealed => self.unsealed(key, bytes),
                other => other,
            })
        });
        Some(read.collect())
    }

    /// `value`, sealed for `key` when a secret is set.
    pub(super) fn sealed(&self, key: &str, value: Bytes) -> Bytes {
        match &self.keys {
            Some(keys) => Bytes::from(keys.seal(key, &value)),
            None => value,
        }
    }

    /// The value read under `key`, if this replica's secrets sealed it there (without secrets: as read).
    fn unsealed(&self, key: &str, bytes: Bytes) -> Bounded {
        let inner = match &self.keys {
            None => unsealed_without_keys(&bytes),
            Some(keys) => match keys.unseal(key, &bytes) {
                Unsealed::Value(inner) => inner,
                Unsealed::Unauthenticated(why) => return Err(NotAValue::Unauthenticated(why)),
            },
        };
        let start = bytes.len() - inner.len();
        Ok(bytes.slice(start..))
    }
}

/// What `READ_BOUNDED` answered for one key: nothing, a value, or its size (over the limit) or -2 (not a string).
fn bounded_value(value: Value) -> Option<Bounded> {
    match value {
        Value::Null | Value::Integer(0) => None,
        Value::Integer(-2) => Some(Err(NotAValue::NotAString)),
        Value::Integer(size) => Some(Err(NotAValue::TooLarge(size.max(0) as u64))),
        value => Some(Ok(value.into_bytes().unwrap_or_default())),
    }
}
