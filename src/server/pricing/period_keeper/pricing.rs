//! Pricing a period: download the messages, resolve each distinct report once (this process's cache, the
//! shared cache, then the upstream, at most `report_concurrency` at a time), and price every message.

use super::{cache_lookup, PeriodKeeper, Refused, SHARED_REPORTS_AT_ONCE};
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::server::error::UsageError;
use crate::server::pricing::credit_rules::{price_message, PriceBasis};
use crate::server::pricing::period_checks::{credits_overflow, parse_times};
use crate::server::pricing::priced_period::PricedPeriod;
use crate::server::pricing::shared_values::{decode_lookup, encode_lookup};
use crate::server::shared_cache::SharedCache;
use crate::server::upstream::retry::CallBudget;
use crate::server::upstream::wire::{Message, ReportId, ReportLookup};
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

impl PeriodKeeper {
    pub(super) async fn compute_usage(&self, budget: &CallBudget) -> Result<Arc<PricedPeriod>, UsageError> {
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

    /// Each distinct report id once, at most `report_concurrency` at a time: from this process's cache, else
    /// the shared cache's, else the upstream (and then shared). The cache's `try_get_with` makes concurrent
    /// requests for the same uncached id share one upstream call; errors are not cached.
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
        if let Some(shared) = self.sharing() {
            let unknown: Vec<u64> = ids.iter().copied().filter(|id| !self.reports.contains_key(id)).collect();
            self.read_shared_reports(shared, &unknown).await;
        }
        let fetched = Mutex::new(Vec::new());
        let lookups = futures::stream::iter(ids)
            .map(|id| {
                let fetched = &fetched;
                async move {
                    cache_lookup("reports", "local", self.reports.contains_key(&id));
                    self.reports
                        .try_get_with(id, async {
                            let lookup = self.upstream.fetch_report(id, budget).await?;
                            let lives = self.report_ttl(&lookup);
                            fetched.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((
                                id,
                                lookup.clone(),
                                lives,
                            ));
                            Ok((lookup, lives))
                        })
                        .await
                        .map(|(lookup, _)| (id, lookup))
                        .map_err(|shared: Arc<UsageError>| (*shared).clone())
                }
            })
            .buffer_unordered(self.report_concurrency)
            .try_collect()
            .await;
        if let Some(shared) = self.sharing() {
            let fetched = fetched.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
            let values = fetched
                .iter()
                .filter(|(_, _, lives)| !lives.is_zero())
                .map(|(id, lookup, lives)| (report_name(*id), encode_lookup(lookup, *lives), *lives))
                .collect();
            shared.write_named("write_reports", values).await;
        }
        lookups
    }

    /// How long this replica keeps an answer of the upstream about a report.
    pub(super) fn report_ttl(&self, lookup: &ReportLookup) -> Duration {
        match lookup {
            ReportLookup::Found(_) => self.report_found_ttl,
            ReportLookup::NotFound | ReportLookup::Refused(_) => self.report_not_found_ttl,
        }
    }

    /// Takes what the other replicas looked up of these reports into this process's cache.
    async fn read_shared_reports(&self, shared: &SharedCache, ids: &[u64]) {
        for chunk in ids.chunks(SHARED_REPORTS_AT_ONCE) {
            let names: Vec<String> = chunk.iter().map(|id| report_name(*id)).collect();
            let Some(values) = shared.read_named("read_reports", &names, LOOKUP_MAX_BYTES).await else { return };
            for (id, value) in chunk.iter().zip(values) {
                let decoded = value.map(|value| match value {
                    Ok(bytes) => decode_lookup(&bytes, *id).map_err(Refused::from),
                    Err(reason) => Err(Refused::from(reason)),
                });
                let lookup = match decoded {
                    Some(Ok(Some(entry))) => Some(entry),
                    Some(Err(reason)) => self.refused("report", &id.to_string(), reason),
                    Some(Ok(None)) | None => None,
                };
                cache_lookup("reports", "shared", lookup.is_some());
                if let Some((lookup, left)) = lookup {
                    // The expiry was read from Redis: never past this replica's own lifetime for such an answer.
                    let lives = left.min(self.report_ttl(&lookup));
                    self.reports.insert(*id, (lookup, lives)).await;
                }
            }
        }
    }
}

/// The largest report lookup read: a name and a price are a few hundred bytes.
const LOOKUP_MAX_BYTES: usize = 64 * 1024;

/// The name a report's lookup is shared under.
fn report_name(id: u64) -> String {
    format!("report:{id}")
}
