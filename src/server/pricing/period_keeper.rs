//! The kept period: fetch the messages, resolve each distinct report once (concurrently, through a cache
//! shared by all requests), price every message, and keep the priced period for `kept_period_ttl_ms`, so that
//! every reader of the usage shares one computation.

use super::credit_rules::{price_message, PriceBasis};
use super::period_checks::{credits_overflow, parse_times};
use super::priced_period::PricedPeriod;
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::server::config::Config;
use crate::server::error::UsageError;
use crate::server::upstream::client::UpstreamClient;
use crate::server::upstream::retry::CallBudget;
use crate::server::upstream::wire::{Message, ReportId, ReportLookup};
use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counts a lookup in one of the in-process caches (a bounded label set: the cache, hit or miss).
fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("cache_lookups_total", "cache" => cache, "layer" => "local", "result" => result).increment(1);
}

/// How long a readiness answer is reused, so that probes do not hammer the upstream.
const READINESS_TTL: Duration = Duration::from_secs(5);

pub struct PeriodKeeper {
    upstream: UpstreamClient,
    /// The kept period: one entry, shared by every request until it expires. `try_get_with` makes concurrent
    /// requests share one computation, and a failure is never kept.
    kept: Cache<(), Arc<PricedPeriod>>,
    keeps_anything: bool,
    reports: Cache<u64, ReportLookup>,
    readiness: Cache<(), Result<(), UsageError>>,
    /// The latest period priced, for whoever keeps a record of them (the history store's recorder).
    latest: tokio::sync::watch::Sender<Option<Arc<PricedPeriod>>>,
    report_concurrency: usize,
    deadline: Duration,
    retry_budget: u32,
}

/// Found reports live for the long TTL; 404s and refusals for the short one, so a report created
/// upstream shows up soon.
struct ReportExpiry {
    found: Duration,
    not_found: Duration,
}

impl moka::Expiry<u64, ReportLookup> for ReportExpiry {
    fn expire_after_create(&self, _id: &u64, lookup: &ReportLookup, _created_at: Instant) -> Option<Duration> {
        Some(match lookup {
            ReportLookup::Found(_) => self.found,
            ReportLookup::NotFound | ReportLookup::Refused(_) => self.not_found,
        })
    }
}

impl PeriodKeeper {
    pub fn new(config: &Config) -> Self {
        let reports = Cache::builder()
            .max_capacity(config.report_cache_capacity)
            .expire_after(ReportExpiry { found: config.report_cache_ttl(), not_found: config.report_not_found_ttl() })
            .build();
        let ttl = Duration::from_millis(config.kept_period_ttl_ms);
        let kept = match config.kept_period_ttl_ms {
            0 => Cache::builder().max_capacity(1).build(),
            _ => Cache::builder().max_capacity(1).time_to_live(ttl).build(),
        };
        PeriodKeeper {
            upstream: UpstreamClient::new(config.client_settings()),
            kept,
            keeps_anything: config.kept_period_ttl_ms > 0,
            reports,
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
    pub fn latest(&self) -> Option<Arc<PricedPeriod>> {
        self.latest.borrow().clone()
    }

    /// Whether the upstream answers, as of at most `READINESS_TTL` ago.
    pub async fn readiness(&self) -> Result<(), UsageError> {
        self.readiness.get_with((), self.upstream.probe()).await
    }

    /// The current period, priced, or why it cannot be given. Never partial, never past the deadline. Served
    /// from the kept period while it is fresh; concurrent callers share one computation.
    pub async fn kept_period(&self) -> Result<Arc<PricedPeriod>, UsageError> {
        cache_lookup("kept_period", self.kept.contains_key(&()));
        let period = self.kept.try_get_with((), self.compute_with_deadline()).await.map_err(|shared| (*shared).clone());
        if !self.keeps_anything {
            // A TTL of 0: share only what was in flight.
            self.kept.invalidate(&()).await;
        }
        period
    }

    async fn compute_with_deadline(&self) -> Result<Arc<PricedPeriod>, UsageError> {
        let started = Instant::now();
        let budget = CallBudget::new(started + self.deadline, self.retry_budget);
        let outcome = tokio::time::timeout(self.deadline, self.compute_usage(&budget))
            .await
            .unwrap_or(Err(UsageError::DeadlineExceeded { deadline_ms: self.deadline.as_millis() }));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // A failure is logged where it is answered, once per request, with the route (`AppState::log_failure`).
        if let Ok(period) = &outcome {
            tracing::info!(rows = period.rows.len(), elapsed_ms, "period priced");
            self.latest.send_replace(Some(period.clone()));
        }
        outcome
    }

    async fn compute_usage(&self, budget: &CallBudget) -> Result<Arc<PricedPeriod>, UsageError> {
        let messages = self.upstream.fetch_messages(budget).await?;
        let fetched_at = jiff::Timestamp::now();
        let times = parse_times(&messages)?;
        let reports = self.resolve_reports(&messages, budget).await?;
        let (rows, bases): (Vec<UsageRow>, Vec<PriceBasis>) = messages
            .iter()
            .map(|message| {
                let price = price_message(message, &reports);
                let row = UsageRow {
                    message_id: message.id,
                    timestamp: message.timestamp.clone(),
                    report_name: price.report_name().map(str::to_owned),
                    credits_used: price.credits,
                };
                (row, price.basis)
            })
            .unzip();
        // Every figure the dashboard shows is a sum of some of these non-negative amounts, so when the whole
        // fits, every part does.
        let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).ok_or_else(credits_overflow)?;
        Ok(Arc::new(PricedPeriod::new(rows, bases, times, total, fetched_at)))
    }

    /// Each distinct report id once, at most `report_concurrency` at a time. The cache's `try_get_with`
    /// makes concurrent requests for the same uncached id share one upstream call; errors are not cached.
    async fn resolve_reports(
        &self,
        messages: &[Message],
        budget: &CallBudget,
    ) -> Result<HashMap<u64, ReportLookup>, UsageError> {
        let mut seen = HashSet::new();
        let ids: Vec<u64> = messages
            .iter()
            .filter_map(|message| match message.report_id() {
                ReportId::Usable(id) => Some(id),
                ReportId::Absent | ReportId::Invalid(_) => None,
            })
            .filter(|id| seen.insert(*id))
            .collect();
        futures::stream::iter(ids)
            .map(|id| async move {
                cache_lookup("reports", self.reports.contains_key(&id));
                self.reports
                    .try_get_with(id, self.upstream.fetch_report(id, budget))
                    .await
                    .map(|lookup| (id, lookup))
                    .map_err(|shared: Arc<UsageError>| (*shared).clone())
            })
            .buffer_unordered(self.report_concurrency)
            .try_collect()
            .await
    }
}
