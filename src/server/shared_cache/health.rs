//! Whether this replica shares through Redis, as one state: connecting (before the first answer), sharing, or
//! degraded with why (it serves from its own memory meanwhile). Any failed call degrades it (logged once, shown on
//! `/readyz` and `/metrics`); a probe (a write) every second brings it back, after two answers in a row with no
//! failure between them, so a Redis that answers only now and then does not make the replicas drop and retake
//! their periods over and over. A server that refuses this replica for good (a database number it does not have)
//! stops the start.

use super::client::{bounded, px, CallFailed, SharedCache};
use fred::prelude::{ClientLike, KeysInterface};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Weak};
use std::time::Duration;

/// How often the connection is probed: a replica shares again about two probes after the server is back.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Whether this replica shares, as `/readyz` and `/metrics` tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharingStatus {
    Sharing,
    /// Falling back to this replica's own memory, and why.
    Degraded(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Connecting,
    Sharing,
    Degraded(String),
}

/// The server refuses this replica for good: it has no such database number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shared_cache_url: the server has no such database number")]
pub struct NoSuchDatabase;

pub(super) struct Health {
    state: Mutex<State>,
    /// Whether `state` is `Sharing`, read on every call without the lock.
    sharing: AtomicBool,
    /// Failures so far: a probe that began before one does not end the fallback.
    failures: AtomicU64,
    /// The first probe's end: `Some(Ok)` once it answered or failed for a reason that may pass, `Some(Err)` when
    /// the server refuses this replica for good.
    first_probed: tokio::sync::watch::Sender<Option<Result<(), NoSuchDatabase>>>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            state: Mutex::default(),
            sharing: AtomicBool::new(false),
            failures: AtomicU64::new(0),
            first_probed: tokio::sync::watch::Sender::new(None),
        }
    }
}

impl Health {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn is_sharing(&self) -> bool {
        self.sharing.load(Ordering::Acquire)
    }

    fn status(&self) -> SharingStatus {
        match &*self.state() {
            State::Sharing => SharingStatus::Sharing,
            State::Degraded(reason) => SharingStatus::Degraded(reason.clone()),
            State::Connecting => SharingStatus::Degraded("not connected yet".into()),
        }
    }

    /// A call or a probe failed: degraded, logged when it starts.
    pub(super) fn degrade(&self, shown: &str, reason: String) {
        let mut state = self.state();
        self.sharing.store(false, Ordering::Release);
        self.failures.fetch_add(1, Ordering::AcqRel);
        if !matches!(*state, State::Degraded(_)) {
            tracing::warn!(cache = %shown, %reason, "shared cache unavailable: this replica serves from its own memory");
            metrics::gauge!("shared_cache_degraded").set(1.0);
        }
        *state = State::Degraded(reason);
    }

    fn share_again(&self, shown: &str) {
        let mut state = self.state();
        *state = State::Sharing;
        if !self.sharing.swap(true, Ordering::AcqRel) {
            tracing::info!(cache = %shown, "shared cache available: sharing the period with the other replicas");
            metrics::gauge!("shared_cache_degraded").set(0.0);
        }
    }
}

impl SharedCache {
    /// Whether calls go to the server; while they do not, this replica keeps its own.
    pub fn is_sharing(&self) -> bool {
        self.health.is_sharing()
    }

    pub fn status(&self) -> SharingStatus {
        self.health.status()
    }

    /// Waits for the first probe (at most twice the first connection's wait and one probe's timeout: 4.25 s by
    /// default, reached only when Redis does not answer): `Err` only when the server refuses this replica for
    /// good.
    pub async fn first_probe(&self) -> Result<(), NoSuchDatabase> {
        let mut probed = self.health.first_probed.subscribe();
        // The first connection's wait, one probe, and (when it failed) the diagnosis's own connection.
        let wait = self.first_connection_wait() * 2 + self.timeout + Duration::from_millis(100);
        let outcome = match tokio::time::timeout(wait, probed.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => outcome.clone().unwrap_or(Ok(())),
            _ => Ok(()),
        };
        outcome
    }

    fn first_connection_wait(&self) -> Duration {
        self.timeout.max(Duration::from_secs(1)) * 2
    }

    /// A write, as the period's sharing needs: a server that answers reads but refuses writes is no use.
    async fn probe_once(&self) -> Result<(), CallFailed> {
        let commands = self.commands();
        let probe = commands.set::<(), _, _>(self.key("probe"), "1", Some(px(Duration::from_secs(5))), None, false);
        bounded("probe", self.timeout, probe).await
    }
}

/// Probes the server every second for as long as the cache is in use. Sharing starts at the first answer, and
/// starts again after a failure only when two probes in a row answered with no failure between them.
pub(super) async fn probe(
    cache: Weak<SharedCache>,
    mut connection_errors: tokio::sync::broadcast::Receiver<(fred::error::Error, Option<fred::types::config::Server>)>,
) {
    // The first probe waits for the first connection attempt (bounded: its notice can be missed), so a
    // replica starting next to a healthy server does not log an outage that never was.
    if let Some(cache) = cache.upgrade() {
        let _ = tokio::time::timeout(cache.first_connection_wait(), cache.client.wait_for_connect()).await;
    }
    let mut answered_in_a_row = 0;
    let mut ever_shared = false;
    let mut failures_seen = 0;
    loop {
        let Some(cache) = cache.upgrade() else { return };
        let health = &cache.health;
        let failures_before = health.failures.load(Ordering::Acquire);
        if failures_before != failures_seen {
            // A call failed since the last probe: the answers in a row start again.
            answered_in_a_row = 0;
            failures_seen = failures_before;
        }
        let probed = cache.probe_once().await;
        let first = health.first_probed.borrow().is_none();
        while let Ok((error, _)) = connection_errors.try_recv() {
            if refused_for_good(error.details()) {
                cache.fall_back(NoSuchDatabase.to_string());
                health.first_probed.send_replace(Some(Err(NoSuchDatabase)));
                return;
            }
        }
        match probed {
            Ok(()) if health.failures.load(Ordering::Acquire) == failures_before => {
                cache.release_orphans().await;
                answered_in_a_row += 1;
                if answered_in_a_row >= if ever_shared { 2 } else { 1 } {
                    health.share_again(cache.shown());
                    ever_shared = true;
                }
            }
            Ok(()) => answered_in_a_row = 0,
            Err(failed) => {
                answered_in_a_row = 0;
                cache.fall_back(failed.to_string());
            }
        }
        if first {
            health.first_probed.send_replace(Some(Ok(())));
        }
        drop(cache);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// Whether the server will never serve this replica, from why a connection failed: a database number it does not
/// have. Every other failure (down, slow, full) may pass, and is retried.
fn refused_for_good(error: &str) -> bool {
    error.contains("DB index is out of range")
}
