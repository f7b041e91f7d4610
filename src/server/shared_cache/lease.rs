//! The lease on the period's computation: one replica takes it (`SET NX` with an expiry, in a script that takes
//! over a key no replica wrote) and computes for all; the others wait for its period or its lease's end. A lease
//! whose take timed out here (Redis usually set it all the same) or whose release could not be sent is kept,
//! and given back as soon as a probe finds Redis answering again, until it would have ended anyway.

use super::client::{bounded, px_of, SharedCache};
use super::scripts::{RELEASE_LEASE, TAKE_LEASE};
use fred::prelude::{ClientLike, LuaInterface};
use fred::types::Value;
use std::time::{Duration, Instant};

/// The largest lease read: a token is 16 hex digits.
const LEASE_MAX_BYTES: usize = 64;

/// How taking the lease went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseTaken {
    Taken,
    /// Taken over a key that held no lease of ours, and why it was none.
    TakenOverForeign(&'static str),
    /// Another replica holds it.
    Held,
}

impl SharedCache {
    /// Takes the computation's lease for `lives` unless another replica holds it. `None`: the cache cannot be
    /// asked.
    pub async fn take_lease(&self, token: &str, lives: Duration) -> Option<LeaseTaken> {
        let keys = vec![self.key("period:lease")];
        let args: Vec<Value> = vec![token.into(), px_of(lives).into()];
        let taken =
            self.call("take_lease", self.timeout, self.client.eval::<i64, _, _, _>(TAKE_LEASE, keys, args)).await;
        let Some(taken) = taken else {
            // Timed out here, Redis has usually set the key all the same: given back as soon as it answers.
            self.release_later(token, lives);
            return None;
        };
        Some(match taken {
            1 => LeaseTaken::Taken,
            2 => LeaseTaken::TakenOverForeign("no expiry"),
            3 => LeaseTaken::TakenOverForeign("not a string"),
            _ => LeaseTaken::Held,
        })
    }

    /// Who holds the lease, if anyone.
    pub async fn lease_holder(&self) -> Option<Option<String>> {
        let names = ["period:lease".to_owned()];
        let holder = self.read_values("lease_holder", &names, LEASE_MAX_BYTES, self.timeout, false).await?;
        Some(match holder.into_iter().next().flatten() {
            Some(Ok(token)) => Some(String::from_utf8_lossy(&token).into_owned()),
            // Something no replica wrote holds the key: `take_lease` takes it over.
            Some(_) => Some(String::new()),
            None => None,
        })
    }

    /// Gives the lease back, if it is still ours, so that another replica can take it at once. Tried even
    /// while this replica does not share (a call just failed): a lease left behind would hold the others up
    /// until it ends (`ends`: when Redis ends it anyway).
    pub async fn release_lease(&self, token: &str, ends: Instant) {
        if !self.give_back(token).await {
            // Retried as soon as Redis answers again, until the lease would have ended anyway.
            let lives = ends.saturating_duration_since(Instant::now());
            if !lives.is_zero() {
                self.release_later(token, lives);
            }
        }
    }

    /// One attempt at giving the lease `token` back; whether Redis answered.
    async fn give_back(&self, token: &str) -> bool {
        if !self.client.is_connected() {
            return false;
        }
        let keys = vec![self.key("period:lease")];
        let release = self.client.eval::<i64, _, _, _>(RELEASE_LEASE, keys, vec![token]);
        let answered = bounded("release_lease", self.timeout, release).await.is_ok();
        let result = if answered { "ok" } else { "error" };
        metrics::counter!("shared_cache_calls_total", "operation" => "release_lease", "result" => result).increment(1);
        answered
    }

    /// Keeps the lease `token`, which Redis may hold for `lives` more, to give back when it answers again.
    fn release_later(&self, token: &str, lives: Duration) {
        let mut orphans = self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orphans.push((token.to_owned(), Instant::now() + lives));
    }

    /// Gives back the leases kept by `release_later` that have not ended on their own; keeps those Redis did not
    /// answer for.
    pub(super) async fn release_orphans(&self) {
        let now = Instant::now();
        let orphans = std::mem::take(&mut *self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for (token, until) in orphans.into_iter().filter(|(_, until)| *until > now) {
            if !self.give_back(&token).await {
                self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((token, until));
            }
        }
    }

    /// How many leases are kept to be given back when Redis answers again.
    pub fn orphaned_leases(&self) -> usize {
        self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }
}
