//! Turns the upstream's messages and reports into `/usage` rows: fetch the messages, resolve each distinct
//! report once (concurrently, through a cache shared by all requests), then price every message.

use super::config::Config;
use super::error::UsageError;
use super::upstream::{Message, ReportLookup, UpstreamClient};
use crate::contract::UsageRow;
use crate::credit_rules::credits_for_text;
use crate::timestamps::parse_utc;
use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a readiness answer is reused, so that probes do not hammer the upstream.
const READINESS_TTL: Duration = Duration::from_secs(5);

pub struct UsageService {
    upstream: UpstreamClient,
    reports: Cache<u64, ReportLookup>,
    readiness: Cache<(), Result<(), UsageError>>,
    report_concurrency: usize,
    deadline: Duration,
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

impl UsageService {
    pub fn new(config: &Config) -> Self {
        let reports = Cache::builder()
            .max_capacity(config.report_cache_capacity)
            .expire_after(ReportExpiry { found: config.report_cache_ttl, not_found: config.report_not_found_ttl })
            .build();
        UsageService {
            upstream: UpstreamClient::new(config),
            reports,
            readiness: Cache::builder().max_capacity(1).time_to_live(READINESS_TTL).build(),
            report_concurrency: config.report_concurrency,
            deadline: config.usage_deadline,
        }
    }

    pub fn upstream(&self) -> &UpstreamClient {
        &self.upstream
    }

    /// Whether the upstream answers, as of at most `READINESS_TTL` ago.
    pub async fn readiness(&self) -> Result<(), UsageError> {
        self.readiness.get_with((), self.upstream.probe()).await
    }

    /// The current period's usage, or why it cannot be given. Never partial, never past the deadline.
    pub async fn usage(&self) -> Result<Vec<UsageRow>, UsageError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.deadline, self.compute_usage())
            .await
            .unwrap_or(Err(UsageError::DeadlineExceeded { deadline_ms: self.deadline.as_millis() }));
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(rows) => tracing::info!(rows = rows.len(), elapsed_ms, "usage computed"),
            Err(error) => tracing::error!(code = error.code(), %error, elapsed_ms, "usage failed"),
        }
        outcome
    }

    async fn compute_usage(&self) -> Result<Vec<UsageRow>, UsageError> {
        let messages = self.upstream.fetch_messages().await?;
        check_timestamps(&messages)?;
        let reports = self.resolve_reports(&messages).await?;
        Ok(messages.iter().map(|message| price_message(message, &reports)).collect())
    }

    /// Each distinct report id once, at most `report_concurrency` at a time. The cache's `try_get_with`
    /// makes concurrent requests for the same uncached id share one upstream call; errors are not cached.
    async fn resolve_reports(&self, messages: &[Message]) -> Result<HashMap<u64, ReportLookup>, UsageError> {
        let mut seen = HashSet::new();
        let ids: Vec<u64> =
            messages.iter().filter_map(Message::usable_report_id).filter(|id| seen.insert(*id)).collect();
        futures::stream::iter(ids)
            .map(|id| async move {
                self.reports
                    .try_get_with(id, self.upstream.fetch_report(id))
                    .await
                    .map(|lookup| (id, lookup))
                    .map_err(|shared: Arc<UsageError>| (*shared).clone())
            })
            .buffer_unordered(self.report_concurrency)
            .try_collect()
            .await
    }
}

/// The dashboard buckets by day, so a timestamp it cannot read is as bad as a missing one.
fn check_timestamps(messages: &[Message]) -> Result<(), UsageError> {
    match messages.iter().find(|message| parse_utc(&message.timestamp).is_none()) {
        Some(message) => Err(UsageError::UpstreamMalformed {
            resource: "messages".into(),
            cause: format!("message {} has timestamp `{}`, which is not RFC 3339", message.id, message.timestamp),
        }),
        None => Ok(()),
    }
}

/// The credit rules: a found report sets the price and the name; anything else is priced by the text.
pub fn price_message(message: &Message, reports: &HashMap<u64, ReportLookup>) -> UsageRow {
    let report = message.usable_report_id().and_then(|id| match reports.get(&id) {
        Some(ReportLookup::Found(report)) => Some(report),
        _ => None,
    });
    UsageRow {
        message_id: message.id,
        timestamp: message.timestamp.clone(),
        report_name: report.map(|report| report.name.clone()),
        credits_used: report.map_or_else(|| credits_for_text(&message.text), |report| report.credit_cost),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Credits;
    use crate::server::upstream::Report;

    fn message(text: &str, report_id: Option<u64>) -> Message {
        Message {
            id: 1000,
            text: text.into(),
            timestamp: "2024-04-29T02:08:29.375Z".into(),
            report_id: report_id.map(serde_json::Value::from),
        }
    }

    fn reports() -> HashMap<u64, ReportLookup> {
        HashMap::from([
            (5392, ReportLookup::Found(Report { id: 5392, name: "Tenant Obligations Report".into(), credit_cost: Credits::from_hundredths(7900) })),
            (404, ReportLookup::NotFound),
            (400, ReportLookup::Refused(400)),
        ])
    }

    #[test]
    fn found_report_sets_price_and_name() {
        let row = price_message(&message("short", Some(5392)), &reports());
        assert_eq!(row.report_name.as_deref(), Some("Tenant Obligations Report"));
        assert_eq!(row.credits_used.to_string(), "79.00");
        assert_eq!(row.timestamp, "2024-04-29T02:08:29.375Z");
    }

    #[test]
    fn report_404_falls_back_to_text_rule() {
        let row = price_message(&message("abcdefghi", Some(404)), &reports());
        assert_eq!((row.report_name, row.credits_used.to_string()), (None, "1.20".to_owned()));
    }

    #[test]
    fn refused_report_id_falls_back_to_text_rule() {
        let row = price_message(&message("abcdefghi", Some(400)), &reports());
        assert_eq!((row.report_name, row.credits_used.to_string()), (None, "1.20".to_owned()));
    }

    #[test]
    fn message_without_report_is_priced_by_text() {
        let row = price_message(&message(&"x".repeat(44), None), &reports());
        assert_eq!((row.report_name, row.credits_used.to_string()), (None, "4.40".to_owned()));
    }

    #[test]
    fn unreadable_timestamp_is_refused() {
        let mut bad = message("t", None);
        bad.timestamp = "last tuesday".into();
        assert!(matches!(check_timestamps(&[bad]), Err(UsageError::UpstreamMalformed { .. })));
        assert!(check_timestamps(&[message("t", None)]).is_ok());
    }
}
