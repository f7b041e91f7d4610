//! The lease protocol between replicas: one replica takes the computation's lease and computes for every
//! replica, the others wait for its period (or its failure) and take the lease when it ends without one. Each
//! turn of it is a [`Step`]; the caches it fills are the keeper's (`mod.rs`).

use super::{
    cache_lookup, decode_in_background, pointer_of, FromShared, Kept, PeriodKeeper, Refused, VERSIONS_KEPT_FOR,
    WAIT_POLL,
};
use crate::server::error::UsageError;
use crate::server::pricing::priced_period::PricedPeriod;
use crate::server::pricing::shared_values::{decode_outcome, encode_outcome, encode_period, Outcome};
use crate::server::shared_cache::{Bounded, LeaseTaken, Pointed, Pointer, SharedCache};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where this replica stands in the protocol, from one turn to the next.
enum Step {
    /// Look for the shared period; when there is none, try for the lease.
    Look,
    /// Try to take the lease.
    TakeLease,
    /// This replica holds the lease (its token): it computes for every replica.
    Hold(String),
    /// Another replica holds the lease (its token, as read; `None` if it was already gone).
    Wait { holder: Option<String> },
    /// What the shared cache gave, or that it could not.
    Done(FromShared),
}

impl PeriodKeeper {
    /// Gives the lease `token` back, and forgets it (a later computation's lease, held here too when this one
    /// overran its own, stays).
    pub(super) async fn give_back(&self, shared: &SharedCache, token: &str) {
        let ends = self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(token);
        shared.release_lease(token, ends.unwrap_or_else(Instant::now)).await;
    }

    /// Shutdown: takes no lease from now on (a request still computing computes here alone), and gives back
    /// every lease held, so that another replica computes at once. Called at the signal and again at exit (a
    /// computation that took one just before the signal gives it back as it ends, or here).
    pub async fn release_leases(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let held = std::mem::take(&mut *self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if let Some(shared) = self.shared.as_deref() {
            for (token, ends) in held {
                // Tried even while this replica does not share: a lease left behind holds the others up.
                shared.release_lease(&token, ends).await;
                tracing::info!("lease on the period's computation given back");
            }
        }
    }

    /// The shared period; else the lease and the computation for every replica; else waiting for whoever holds
    /// the lease: its period, how it ended, or its lease's end (then the lease is tried here). Each turn is a
    /// [`Step`] of the protocol.
    pub(super) async fn obtain_shared(
        &self,
        shared: &SharedCache,
        lease_lives: Duration,
        bound: Instant,
    ) -> FromShared {
        let mut step = Step::Look;
        loop {
            step = match step {
                Step::Look => match self.read_shared_period(shared).await {
                    Some(Some(found)) => Step::Done(found),
                    Some(None) => Step::TakeLease,
                    None => Step::Done(FromShared::Unavailable),
                },
                Step::TakeLease => self.take_lease(shared, lease_lives).await,
                Step::Hold(token) => Step::Done(self.hold(shared, token, bound).await),
                Step::Wait { holder } => self.wait_on(shared, holder, lease_lives, bound).await,
                Step::Done(found) => return found,
            };
        }
    }

    /// Tries for the lease: held here, or held by another replica (which is then waited on).
    async fn take_lease(&self, shared: &SharedCache, lease_lives: Duration) -> Step {
        let token = format!("{:016x}", rand::random::<u64>());
        let taken = shared.take_lease(&token, lease_lives).await;
        if matches!(taken, Some(LeaseTaken::Taken | LeaseTaken::TakenOverForeign(_))) {
            // Held from now on, until it ends at the latest (given back at shutdown, or retried until then).
            let ends = Instant::now() + lease_lives;
            self.leases.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(token.clone(), ends);
        }
        match taken {
            None => Step::Done(FromShared::Unavailable),
            Some(LeaseTaken::Taken) => Step::Hold(token),
            Some(LeaseTaken::TakenOverForeign(why)) => {
                let _: Option<()> = self.refused("lease", "", Refused::TakenOver(why));
                Step::Hold(token)
            }
            Some(LeaseTaken::Held) => match shared.lease_holder().await {
                None => Step::Done(FromShared::Unavailable),
                Some(holder) => Step::Wait { holder },
            },
        }
    }

    /// Holding the lease `token`: computes for every replica, within the deadline from now, unless the period
    /// was shared just before the lease was free (by a holder that then gave it back): then that one is served,
    /// since a second download would give the replicas two fetch times.
    async fn hold(&self, shared: &SharedCache, token: String, bound: Instant) -> FromShared {
        let bound = bound.min(Instant::now() + self.deadline);
        match self.read_shared_period(shared).await {
            Some(None) => self.compute_for_everyone(shared, token, bound).await,
            found => {
                self.give_back(shared, &token).await;
                found.flatten().unwrap_or(FromShared::Unavailable)
            }
        }
    }

    /// Another replica (`holder`) computes: waits for its period, or how it ended, or its lease's end (then
    /// everything is looked at again, and the lease tried here), all within `bound`.
    async fn wait_on(
        &self,
        shared: &SharedCache,
        holder: Option<String>,
        lease_lives: Duration,
        bound: Instant,
    ) -> Step {
        loop {
            if Instant::now() >= bound {
                let deadline_ms = (self.deadline + lease_lives).as_millis();
                return Step::Done(FromShared::Failed(UsageError::DeadlineExceeded { deadline_ms }));
            }
            tokio::time::sleep(WAIT_POLL).await;
            match self.read_shared_period(shared).await {
                Some(Some(found)) => return Step::Done(found),
                Some(None) => {}
                None => return Step::Done(FromShared::Unavailable),
            }
            if let Some(ended) = self.holders_outcome(shared, holder.as_deref()).await {
                return Step::Done(ended);
            }
            match shared.lease_holder().await {
                None => return Step::Done(FromShared::Unavailable),
                Some(now) if now.is_none() || now != holder => {
                    // Written just before its lease went? Else everything again, the lease included.
                    return match self.holders_outcome(shared, holder.as_deref()).await {
                        Some(ended) => Step::Done(ended),
                        None => Step::Look,
                    };
                }
                Some(_) => {}
            }
        }
    }

    /// How the computation of the lease `holder` ended, if it failed: with its failure.
    async fn holders_outcome(&self, shared: &SharedCache, holder: Option<&str>) -> Option<FromShared> {
        let bytes = match shared.read_outcome(holder?).await.flatten()? {
            Ok(bytes) => bytes,
            Err(reason) => return self.refused("outcome", holder?, reason),
        };
        match decode_outcome(&bytes) {
            Ok(Outcome::Failed(error)) => Some(FromShared::Failed(error)),
            Err(reason) => self.refused("outcome", holder?, reason),
        }
    }

    /// The shared period, if there is one that can be served, or word that it is not shared: a value that is
    /// not one (foreign, truncated, too large, another format) is logged and treated as none. `None`: the
    /// shared cache failed.
    pub(super) async fn read_shared_period(&self, shared: &SharedCache) -> Option<Option<FromShared>> {
        let latest = self.latest();
        let known = latest.as_ref().map(|period| pointer_of(period));
        let found = match shared.read_period(known.as_ref()).await? {
            Some(found) if !found.lives.is_zero() => found,
            _ => {
                cache_lookup("kept_period", "shared", false);
                return Some(None);
            }
        };
        let period = match found.pointer {
            Pointed::Period(pointer) => self.served_from(pointer, found.value, latest).await,
            Pointed::NotShared => {
                cache_lookup("kept_period", "shared", false);
                return Some(Some(FromShared::NotShareable(found.lives)));
            }
            Pointed::Foreign(shown) => {
                self.refused("pointer", &shown, Refused::Foreign("not a version and a fetch time"))
            }
        };
        cache_lookup("kept_period", "shared", period.is_some());
        // Another replica's lifetime, read from Redis: never longer than this replica keeps its own.
        let lives = found.lives.min(self.kept_for);
        Some(period.map(|period| FromShared::Period(Kept { period, lives, alone: false })))
    }

    /// The period a shared pointer and its value give, checked; `None` (logged) when it cannot be served.
    async fn served_from(
        &self,
        pointer: Pointer,
        value: Option<Bounded>,
        latest: Option<Arc<PricedPeriod>>,
    ) -> Option<Arc<PricedPeriod>> {
        // `None`: the caller's own latest period is that very pointer, nothing to read.
        let Some(value) = value else { return latest };
        match value {
            Err(reason) => self.refused("period", &pointer.version, reason),
            Ok(bytes) => match decode_in_background(bytes, pointer.version.clone()).await {
                Ok(period) if period.fetched_at.as_millisecond() == pointer.fetched_ms => Some(period),
                // The same data, fetched again and written between reading the pointer and its value: read
                // again after the lease (or overwritten by its holder), not refused.
                Ok(_) => None,
                Err(reason) => self.refused("period", &pointer.version, reason),
            },
        }
    }

    /// Computes the period holding the lease `token`, and shares the outcome: the period, or (when it shares
    /// none) how it ended, for the replicas waiting on it.
    async fn compute_for_everyone(&self, shared: &SharedCache, token: String, bound: Instant) -> FromShared {
        let outcome = self.compute_with_deadline(self.time_left(bound)).await;
        let mut alone = false;
        match &outcome {
            Ok(period) => {
                let period_for_encoding = Arc::clone(period);
                let value = tokio::task::spawn_blocking(move || encode_period(&period_for_encoding)).await;
                match value {
                    Ok(value) if value.len() <= shared.max_value_bytes() => {
                        let keep = self.kept_for + VERSIONS_KEPT_FOR;
                        let pointer = pointer_of(period);
                        match shared.write_period(&token, &pointer, value, self.kept_for, keep).await {
                            Some(true) => {}
                            // Another replica holds the lease now and shares its own: that one is served next.
                            Some(false) => {
                                tracing::info!("the lease ran out before the period was shared");
                                alone = true;
                            }
                            None => alone = true,
                        }
                    }
                    Ok(value) => {
                        tracing::warn!(
                            bytes = value.len(),
                            "the period is larger than shared_cache_max_value_bytes: not shared"
                        );
                        shared.write_not_shared(&token, self.kept_for).await;
                    }
                    Err(error) => {
                        tracing::error!(%error, "the period could not be encoded");
                        alone = true;
                    }
                }
            }
            Err(error) => shared.write_outcome(&token, encode_outcome(&Outcome::Failed(error.clone()))).await,
        }
        self.give_back(shared, &token).await;
        match outcome {
            Ok(period) => FromShared::Period(Kept { period, lives: self.kept_for, alone }),
            Err(error) => FromShared::Failed(error),
        }
    }
}
