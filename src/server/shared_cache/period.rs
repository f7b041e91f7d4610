//! The shared period: its value under its version (kept for the paging walks that started on it, at most
//! `VERSIONS_KEPT` of them), and the pointer to the current one (`<version>.<fetch ms>`, for as long as the
//! period is shared), both written by the lease's holder in one script that first checks the lease is still its
//! own; or the word that the period is too large to share; and how a computation that shared none ended.

use super::client::{px, px_of, SharedCache};
use super::reads::{Bounded, NotAValue};
use super::scripts::{READ_POINTER, WRITE_NOT_SHARED, WRITE_PERIOD};
use axum::body::Bytes;
use fred::prelude::{KeysInterface, LuaInterface};
use fred::types::Value;
use std::time::Duration;

/// The largest outcome read: an error's code and cause.
const OUTCOME_MAX_BYTES: usize = 64 * 1024;

/// The versions of the period Redis keeps at most, for paging walks (the latest included): with a period of
/// S bytes, Redis holds at most `VERSIONS_KEPT` × S of periods for one deployment.
pub const VERSIONS_KEPT: usize = 3;

/// The pointer's text while the period is too large to share.
const NOT_SHARED: &str = "not-shared";

/// The pointer to the shared period: which version, fetched when, and for how much longer it is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    pub version: String,
    pub fetched_ms: i64,
}

impl Pointer {
    pub fn text(&self) -> String {
        format!("{}.{}", self.version, self.fetched_ms)
    }

    fn parse(text: &str) -> Option<Pointer> {
        let (version, fetched_ms) = text.split_once('.')?;
        let fetched_ms = fetched_ms.parse().ok()?;
        let shaped = version.len() == 13 && version.bytes().all(|b| b.is_ascii_hexdigit());
        shaped.then(|| Pointer { version: version.to_owned(), fetched_ms })
    }
}

/// What the shared pointer says.
#[derive(Clone, Debug)]
pub enum Pointed {
    Period(Pointer),
    /// The period is too large to share: each replica computes its own.
    NotShared,
    /// Not a pointer of ours (shortened).
    Foreign(String),
}

/// The shared period as found: its pointer, for how much longer it holds, and its value (`None`: nothing to
/// read, the caller has it or it is not shared).
#[derive(Debug)]
pub struct SharedRead {
    pub pointer: Pointed,
    pub lives: Duration,
    pub value: Option<Bounded>,
}

impl SharedCache {
    /// The shared period: its pointer, its time to live and its value (up to the size limit), unless the
    /// caller has that very pointer (`known`). `Some(None)` when there is none; `None` when the cache cannot
    /// be asked.
    pub async fn read_period(&self, known: Option<&Pointer>) -> Option<Option<SharedRead>> {
        let keys = vec![self.key("period")];
        let known = known.map(Pointer::text).unwrap_or_default();
        let args = vec![known, NOT_SHARED.to_owned()];
        let read: Value = self.call("read_pointer", self.timeout, self.client.eval(READ_POINTER, keys, args)).await?;
        let mut parts = read.into_array().into_iter();
        let (Some(pointer), Some(ttl), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            return Some(None);
        };
        let text = pointer.as_string().unwrap_or_default();
        let pointer = match Pointer::parse(&text) {
            Some(pointer) => Pointed::Period(pointer),
            None if text == NOT_SHARED => Pointed::NotShared,
            None => Pointed::Foreign(text.chars().take(40).collect()),
        };
        // A pointer without an expiry is not one this server wrote: it is not served.
        let lives = Duration::from_millis(ttl.as_i64().filter(|ttl| *ttl > 0).unwrap_or(0) as u64);
        let size = size.as_i64().unwrap_or(-2);
        if let (Pointed::Period(_), 0) = (&pointer, size) {
            // Its value is gone (evicted: a Redis run as an LRU cache): no period.
            return Some(None);
        }
        let value = match (&pointer, size) {
            (_, -1) | (Pointed::NotShared, _) => None,
            (Pointed::Foreign(_), _) | (_, -2) => Some(Err(NotAValue::NotAString)),
            (Pointed::Period(pointer), size) => {
                let name = format!("period:{}", pointer.version);
                let timeout = self.timeout_for((size as usize).min(self.max_value_bytes));
                match self.read_one("read_period", &name, self.max_value_bytes, timeout).await? {
                    Some(value) => Some(value),
                    // Gone since the pointer was read: no period.
                    None => return Some(None),
                }
            }
        };
        Some(Some(SharedRead { pointer, lives, value }))
    }

    /// The value of one period's version, while it is kept.
    pub async fn read_version(&self, version: &str) -> Option<Option<Bounded>> {
        let timeout = self.timeout_for(self.max_value_bytes);
        self.read_one("read_version", &format!("period:{version}"), self.max_value_bytes, timeout).await
    }

    /// Shares a period, if the lease `token` is still ours: its value under its version (kept for `keep`, for
    /// paging walks that started on it), then the pointer to it (for `lives`). `Some(false)`: the lease was
    /// lost; `None`: it could not be written.
    pub async fn write_period(
        &self,
        token: &str,
        pointer: &Pointer,
        value: Bytes,
        lives: Duration,
        keep: Duration,
    ) -> Option<bool> {
        let keys = vec![
            self.key("period:lease"),
            self.key(&format!("period:{}", pointer.version)),
            self.key("period"),
            self.key("period:versions"),
        ];
        let value = self.sealed(&keys[1], value);
        let timeout = self.timeout_for(value.len());
        let args: Vec<Value> = vec![
            token.into(),
            Value::Bytes(value),
            pointer.text().into(),
            px_of(keep).into(),
            px_of(lives).into(),
            (VERSIONS_KEPT as i64).into(),
            self.key("period:").into(),
        ];
        let written: i64 = self.call("write_period", timeout, self.client.eval(WRITE_PERIOD, keys, args)).await?;
        Some(written == 1)
    }

    /// Says the period is not shared, for `lives`, if the lease `token` is still ours.
    pub async fn write_not_shared(&self, token: &str, lives: Duration) {
        let keys = vec![self.key("period:lease"), self.key("period")];
        let args: Vec<Value> = vec![token.into(), NOT_SHARED.into(), px_of(lives).into()];
        let _: Option<i64> =
            self.call("write_not_shared", self.timeout, self.client.eval(WRITE_NOT_SHARED, keys, args)).await;
    }

    /// Tells the replicas waiting on the lease `token` how its computation ended, when it shared no period
    /// (for a few seconds).
    pub async fn write_outcome(&self, token: &str, outcome: Bytes) {
        let key = self.key(&format!("period:outcome:{token}"));
        let outcome = self.sealed(&key, outcome);
        let commands = self.commands();
        let write = commands.set(key, outcome, Some(px(Duration::from_secs(5))), None, false);
        let _: Option<()> = self.call("write_outcome", self.timeout, write).await;
    }

    /// How the computation of the lease `token` ended, if it shared no period.
    pub async fn read_outcome(&self, token: &str) -> Option<Option<Bounded>> {
        let name = format!("period:outcome:{token}");
        self.read_one("read_outcome", &name, OUTCOME_MAX_BYTES, self.timeout_for(OUTCOME_MAX_BYTES)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_is_a_version_and_a_fetch_time() {
        let pointer = Pointer { version: "0123456789abc".into(), fetched_ms: 1714356509375 };
        assert_eq!(Pointer::parse(&pointer.text()), Some(pointer));
        for foreign in ["0123456789abc", "0123456789ab.1", "0123456789abg.1", "0123456789abc.x", NOT_SHARED, ""] {
            assert_eq!(Pointer::parse(foreign), None, "{foreign}");
        }
    }
}
