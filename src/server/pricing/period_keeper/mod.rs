//! The kept period: fetch the messages, resolve each distinct report once (concurrently, through a cache
//! shared by all requests), price every message, and keep the priced period for `kept_period_ttl_ms`, so that
//! every reader of the usage shares one computation.
//!
//! With a shared cache, replicas share it too: the period (with its fetch time and version), the report
//! lookups, and the computation itself. One replica takes a lease and computes, the others wait for its
//! result (or its failure), and take over if its lease ends without one (it died). Each replica keeps what it
//! read for as long as the shared pointer lives, so all of them change to the next period together. When the
//! cache fails, each replica computes and keeps its own, as without one, until the cache answers again.
//!
//! Here: the caches and what asks them; the lease protocol between replicas is in `lease.rs`, resolving the
//! reports and pricing in `pricing.rs`.

mod lease;
mod pricing;

use super::inconsistent::Inconsistent;
use super::priced_period::PricedPeriod;
use super::shared_values::decode_period;
use crate::server::config::Config;
use crate::server::error::UsageError;
use crate::server::shared_cache::{NotAValue, Pointer, SharedCache, VERSIONS_KEPT};
use crate::server::upstream::client::{ClientSettings, UpstreamClient};
use crate::server::upstream::retry::CallBudget;
use crate::server::upstream::wire::ReportLookup;
use crate::view_query::version_tag;
use moka::future::Cache;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts a lookup in a cache (a bounded label set: the cache, its layer, hit or miss).
fn cache_lookup(cache: &'static str, layer: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("cache_lookups_total", "cache" => cache, "layer" => layer, "result" => result).increment(1);
}

/// How long a version stays readable after it was kept, for the paging walks that started on it.
pub const VERSIONS_KEPT_FOR: Duration = Duration::from_secs(5 * 60);
/// How often a replica waiting on another's computation looks for its result.
const WAIT_POLL: Duration = Duration::from_millis(50);
/// Reports asked of the shared cache at once.
const SHARED_REPORTS_AT_ONCE: usize = 1_000;

/// How long a readiness answer is reused, so that probes do not hammer the upstream.
const READINESS_TTL: Duration = Duration::from_secs(5);

pub struct PeriodKeeper {
    upstream: UpstreamClient,
    /// The kept period: one entry, shared by every request until it expires. `try_get_with` makes concurrent
    /// requests share one computation, and a failure is never kept.
    kept: Cache<(), Kept>,
    keeps_anything: bool,
    kept_for: Duration,
    /// The versions kept lately, by version, for paging walks that started on one of them.
    versions: Cache<u64, Arc<PricedPeriod>>,
    reports: Cache<u64, (ReportLookup, Duration)>,
    shared: Option<Arc<SharedCache>>,
    /// The leases this replica holds while it computes for every replica (one, or a second while an overrun
    /// computation ends), given back at shutdown.
    leases: Mutex<HashMap<String, Instant>>,
    /// Shutting down: no lease is taken any more (what is computed is computed here alone).
    stopping: AtomicBool,
    /// The last shared pointer refused, so that a waiting replica logs it once, not every poll.
    last_refused: Mutex<Option<String>>,
    readiness: Cache<(), Result<(), UsageError>>,
    /// The latest period priced, for whoever keeps a record of them (the history store's recorder).
    latest: tokio::sync::watch::Sender<Option<Arc<PricedPeriod>>>,
    report_found_ttl: Duration,
    report_not_found_ttl: Duration,
    report_concurrency: usize,
    deadline: Duration,
    retry_budget: u32,
}

/// The kept period, for how long it is kept, and whether this replica computed it alone because the shared
/// cache failed (then the shared one is taken as soon as the cache answers again).
#[derive(Clone)]
struct Kept {
    period: Arc<PricedPeriod>,
    lives: Duration,
    alone: bool,
}

/// Each entry for its own time: a period for as long as its shared pointer lives; a found report for the long
/// TTL, 404s and refusals for the short one (so a report created upstream shows up soon), or what is left of
/// it when another replica looked it up.
struct OwnExpiry;

impl moka::Expiry<(), Kept> for OwnExpiry {
    fn expire_after_create(&self, _: &(), kept: &Kept, _created_at: Instant) -> Option<Duration> {
        Some(kept.lives)
    }
}

impl moka::Expiry<u64, (ReportLookup, Duration)> for OwnExpiry {
    fn expire_after_create(&self, _: &u64, entry: &(ReportLookup, Duration), _created_at: Instant) -> Option<Duration> {
        Some(entry.1)
    }
}

/// What the shared cache gave: a period, a failure to answer with, or nothing (compute here: the cache
/// failed, or the period is too large for it).
enum FromShared {
    Period(Kept),
    Failed(UsageError),
    Unavailable,
    /// Not shared, for this long: computed here and kept no longer.
    NotShareable(Duration),
}

impl PeriodKeeper {
    pub fn new(config: &Config, client: ClientSettings, shared: Option<Arc<SharedCache>>) -> Self {
        let reports = Cache::builder().max_capacity(config.report_cache_capacity).expire_after(OwnExpiry).build();
        let kept_for = Duration::from_millis(config.kept_period_ttl_ms);
        PeriodKeeper {
            upstream: UpstreamClient::new(client),
            kept: Cache::builder().max_capacity(1).expire_after(OwnExpiry).build(),
            keeps_anything: config.kept_period_ttl_ms > 0,
            kept_for,
            // Least recently used: a new version is always admitted (TinyLFU could refuse it).
            versions: Cache::builder()
                .max_capacity(VERSIONS_KEPT as u64)
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .time_to_live(kept_for + VERSIONS_KEPT_FOR)
                .build(),
            reports,
            report_found_ttl: config.report_cache_ttl(),
            report_not_found_ttl: config.report_not_found_ttl(),
            shared,
            leases: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            last_refused: Mutex::new(None),
            readiness: Cache::builder().max_capacity(1).time_to_live(READINESS_TTL).build(),
            latest: tokio::sync::watch::Sender::new(None),
            report_concurrency: config.report_concurrency,
            deadline: config.usage_deadline(),
            retry_budget: config.upstream_retry_budget,
        }
    }

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    /// Each period as it is priced: the receiver sees the latest (earlier ones it missed are contained in it).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Option<Arc<PricedPeriod>>> {
        self.latest.subscribe()
    }

    /// The latest period priced, without asking the upstream: what the alert checker reads.
    /// The kept period's gauges, as of a scrape of `/metrics`.
    pub fn observe_gauges(&self) {
        let Some(period) = self.latest() else { return };
        let age = jiff::Timestamp::now().duration_since(period.fetched_at).as_secs_f64().max(0.0);
        metrics::gauge!("kept_period_age_seconds").set(age);
        metrics::gauge!("kept_period_version").set(period.version as f64);
        metrics::gauge!("period_credits").set(period.total.hundredths() as f64 / 100.0);
        metrics::gauge!("period_messages").set(period.rows.len() as f64);
    }

    pub fn latest(&self) -> Option<Arc<PricedPeriod>> {
        self.latest.borrow().clone()
    }

    /// Whether the upstream answers, as of at most `READINESS_TTL` ago.
    pub async fn readiness(&self) -> Result<(), UsageError> {
        self.readiness.get_with((), self.upstream.probe()).await
    }

    /// The shared cache, when there is one.
    pub fn shared(&self) -> Option<&SharedCache> {
        self.shared.as_deref()
    }

    /// The current period, priced, or why it cannot be given. Never partial, never past the deadline (plus, when
    /// another replica was computing it and died, its lease). Served from the kept period while it is fresh;
    /// concurrent callers share one computation, in this process and, with a shared cache, across replicas. The
    /// computation is a task of its own: a client that hangs up does not cancel it (nor strand its lease).
    pub async fn kept_period(self: &Arc<Self>) -> Result<Arc<PricedPeriod>, UsageError> {
        let sharing = self.sharing().is_some();
        let kept = self.kept.get(&()).await;
        cache_lookup("kept_period", "local", kept.is_some());
        if kept.is_some_and(|kept| sharing && kept.alone) {
            // Kept while the shared cache failed: it answers again, so take the shared period (or share ours).
            self.kept.invalidate(&()).await;
        }
        let keeper = Arc::clone(self);
        let obtained = async move {
            tokio::spawn(async move { keeper.obtain().await }).await.unwrap_or_else(|error| {
                Err(UsageError::Internal { cause: format!("the period's computation stopped: {error}") })
            })
        };
        let kept = self.kept.try_get_with((), obtained).await.map_err(|shared| (*shared).clone());
        if !self.keeps_anything {
            // A TTL of 0: share only what was in flight.
            self.kept.invalidate(&()).await;
        }
        kept.map(|kept| kept.period)
    }

    /// The period of version `version`, while it is kept (here, or in the shared cache), for a paging walk that
    /// started on it.
    pub async fn period_version(&self, version: u64) -> Option<Arc<PricedPeriod>> {
        if let Some(kept) = self.kept.get(&()).await.filter(|kept| kept.period.version == version) {
            return Some(kept.period);
        }
        // One read and decoding per version, however many requests ask for it at once.
        self.versions.optionally_get_with(version, self.read_version(version)).await
    }

    /// A version from the shared cache, checked.
    async fn read_version(&self, version: u64) -> Option<Arc<PricedPeriod>> {
        let tag = version_tag(version);
        let bytes = match self.sharing()?.read_version(&tag).await?? {
            Ok(bytes) => bytes,
            Err(reason) => return self.refused("version", &tag, reason),
        };
        match decode_in_background(bytes, tag.clone()).await {
            Ok(period) => Some(period),
            Err(reason) => self.refused("version", &tag, reason),
        }
    }

    fn sharing(&self) -> Option<&SharedCache> {
        self.shared.as_deref().filter(|shared| shared.is_sharing())
    }

    /// The period, from the shared cache (or computed here for every replica), or computed here alone when
    /// there is no shared cache or it fails. All of it within the deadline and, when it waited on another
    /// replica's lease, that lease.
    async fn obtain(&self) -> Result<Kept, UsageError> {
        let started = Instant::now();
        let mut bound = started + self.deadline;
        let from_shared = match self.sharing() {
            Some(shared) if self.keeps_anything && !self.stopping.load(Ordering::SeqCst) => {
                // The deadline, a second, and the time a value of the size limit may take to be written.
                let lease_lives = self.deadline + Duration::from_secs(1) + shared.timeout_for(shared.max_value_bytes());
                bound = started + self.deadline + lease_lives;
                self.obtain_shared(shared, lease_lives, bound).await
            }
            _ => FromShared::Unavailable,
        };
        let kept = match from_shared {
            FromShared::Period(kept) => kept,
            FromShared::Failed(error) => return Err(error),
            // Computed without the shared cache (were it to answer again meanwhile): taken from it next time.
            FromShared::Unavailable => Kept {
                period: self.compute_with_deadline(self.time_left(bound)).await?,
                lives: self.kept_for,
                alone: self.shared.is_some(),
            },
            // Shared by none: each replica keeps its own, and the cache, which answers, is not given it again.
            FromShared::NotShareable(lives) => Kept {
                period: self.compute_with_deadline(self.time_left(bound)).await?,
                lives: lives.min(self.kept_for),
                alone: false,
            },
        };
        if self.keeps_anything {
            self.versions.insert(kept.period.version, kept.period.clone()).await;
        }
        self.latest.send_replace(Some(kept.period.clone()));
        Ok(kept)
    }

    /// The deadline, or what is left before `bound` if that is less.
    fn time_left(&self, bound: Instant) -> Duration {
        self.deadline.min(bound.saturating_duration_since(Instant::now()))
    }

    /// A shared value that cannot be served: logged (once in a row for the same one) and counted; it is
    /// recomputed, and then overwritten. Never an error.
    fn refused<T>(&self, what: &str, name: &str, reason: impl Into<Refused>) -> Option<T> {
        let reason = reason.into();
        metrics::counter!("shared_cache_values_refused_total", "reason" => reason.label()).increment(1);
        let seen = format!("{what} {name} {reason}");
        let mut last = self.last_refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.as_deref() != Some(seen.as_str()) {
            tracing::warn!(what, name, %reason, "shared value ignored");
            *last = Some(seen);
        }
        None
    }

    async fn compute_with_deadline(&self, deadline: Duration) -> Result<Arc<PricedPeriod>, UsageError> {
        let started = Instant::now();
        let budget = CallBudget::new(started + deadline, self.retry_budget);
        let outcome = tokio::time::timeout(deadline, self.compute_usage(&budget))
            .await
            .unwrap_or(Err(UsageError::DeadlineExceeded { deadline_ms: deadline.as_millis() }));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // A failure is logged where it is answered, once per request, with the route (`AppState::log_failure`).
        if let Ok(period) = &outcome {
            tracing::info!(rows = period.rows.len(), elapsed_ms, version = period.version_tag(), "period priced");
        }
        outcome
    }
}

/// The pointer that names `period` in the shared cache: its version and fetch time.
fn pointer_of(period: &PricedPeriod) -> Pointer {
    Pointer { version: period.version_tag(), fetched_ms: period.fetched_at.as_millisecond() }
}

/// Decodes a shared period off the runtime's threads (a large one takes a while).
async fn decode_in_background(bytes: axum::body::Bytes, version: String) -> Result<Arc<PricedPeriod>, Inconsistent> {
    tokio::task::spawn_blocking(move || decode_period(&bytes, &version).map(Arc::new))
        .await
        .unwrap_or_else(|error| Err(Inconsistent(format!("its decoding stopped: {error}"))))
}

/// Why a value read from the shared cache is not served.
#[derive(Debug)]
enum Refused {
    /// Not a value: too large, not a string, or not sealed under this replica's secret.
    Unread(NotAValue),
    /// A value that fails the checks an upstream answer passes.
    Inconsistent(Inconsistent),
    /// A key that holds something no replica writes (a pointer).
    Foreign(&'static str),
    /// A lease key no replica wrote, and why it is none: taken over.
    TakenOver(&'static str),
}

impl Refused {
    /// The label of `shared_cache_values_refused_total`.
    fn label(&self) -> &'static str {
        match self {
            Refused::Unread(NotAValue::Unauthenticated(_)) => "unauthenticated",
            _ => "malformed",
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Unread(reason) => write!(formatter, "{reason}"),
            Refused::Inconsistent(reason) => write!(formatter, "{reason}"),
            Refused::Foreign(reason) => write!(formatter, "{reason}"),
            Refused::TakenOver(why) => write!(formatter, "{why}: taken over"),
        }
    }
}

impl From<NotAValue> for Refused {
    fn from(reason: NotAValue) -> Self {
        Refused::Unread(reason)
    }
}

impl From<Inconsistent> for Refused {
    fn from(reason: Inconsistent) -> Self {
        Refused::Inconsistent(reason)
    }
}
