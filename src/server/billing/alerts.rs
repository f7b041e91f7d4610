//! Budget alerts, delivered to a webhook exactly once. A background task checks the latest priced period every
//! `alert_check_interval_secs` (reading what the kept period already holds: no upstream traffic of its own) and
//! fires when usage has reached a threshold of the budget — any it has reached, so one crossed between two
//! checks still fires — and once when the projection first says the budget will be exceeded.
//!
//! Each alert is claimed in the ledger (the history store) before it is sent, so it fires once per period, kind
//! and threshold across restarts and replicas. Delivery is a signed POST, retried with backoff; a 2xx ends it.
//! One that keeps failing stays in the ledger as failing and is taken up again at the next check.

use super::{projection, BudgetSettings};
use crate::money::Credits;
use crate::server::history::alert_ledger::AlertRecord;
use crate::server::history::archive::period_id;
use crate::server::history::History;
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::server::pricing::priced_period::PricedPeriod;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

pub const THRESHOLD: &str = "threshold";
pub const PROJECTED_OVERRUN: &str = "projected_overrun";
/// Attempts within one check; a delivery still failing is taken up again at the next.
const ATTEMPTS_PER_CHECK: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Where and how alerts are sent.
#[derive(Clone)]
pub struct AlertSettings {
    pub url: reqwest::Url,
    pub secret: String,
    pub check_every: Duration,
    pub timeout: Duration,
    /// Tenths of a percent of the budget, increasing.
    pub thresholds: Vec<u32>,
}

/// An alert that is due: what usage (or the projection) has reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub kind: &'static str,
    /// For a threshold, in tenths of a percent; 0 for the projected overrun.
    pub threshold_permille: u32,
}

/// The alerts due for usage `used` of `budget`, in order: each threshold reached, lowest first, then the
/// projected overrun when the projected total exceeds the budget (and usage has not already).
pub fn due(used: Credits, budget: Credits, thresholds: &[u32], projected: Option<Credits>) -> Vec<Due> {
    let reached =
        |permille: u32| i128::from(used.hundredths()) * 1000 >= i128::from(budget.hundredths()) * i128::from(permille);
    let mut due: Vec<Due> = thresholds
        .iter()
        .filter(|permille| reached(**permille))
        .map(|permille| Due { kind: THRESHOLD, threshold_permille: *permille })
        .collect();
    if used < budget && projected.is_some_and(|projected| projected > budget) {
        due.push(Due { kind: PROJECTED_OVERRUN, threshold_permille: 0 });
    }
    due
}

/// The alert's id, the same on every server: `2024-04-29/threshold/800`.
pub fn alert_id(period: &str, due: &Due) -> String {
    format!("{period}/{}/{}", due.kind, due.threshold_permille)
}

/// `HMAC-SHA256(secret, "<timestamp>.<body>")` in lower-case hex: what `X-Dashboard-Signature` carries after
/// `sha256=`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What the page shows of the period's alerts.
#[derive(Clone, Debug, Default)]
pub struct AlertsShown {
    pub period: Option<String>,
    pub alerts: Vec<AlertRecord>,
}

pub struct AlertChecker {
    history: Arc<History>,
    settings: AlertSettings,
    budget: BudgetSettings,
    http: reqwest::Client,
    /// This process, in the ledger's claims.
    claimer: String,
    shown: RwLock<AlertsShown>,
}

impl AlertChecker {
    pub fn new(history: Arc<History>, settings: AlertSettings, budget: BudgetSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend and resolver are available");
        let claimer = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        AlertChecker { history, settings, budget, http, claimer, shown: RwLock::default() }
    }

    /// The current period's alerts as of the last check.
    pub fn shown(&self) -> AlertsShown {
        self.shown.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The webhook without its path and query, where its secrets travel: safe to log.
    fn shown_url(&self) -> String {
        format!("{}://{}/…", self.settings.url.scheme(), self.settings.url.host_str().unwrap_or(""))
    }

    /// Checks every `check_every` until the keeper is gone.
    pub async fn run(self: Arc<Self>, keeper: Weak<PeriodKeeper>) {
        loop {
            let Some(period) = keeper.upgrade().map(|keeper| keeper.latest()) else { return };
            if let Some(period) = period {
                if let Err(error) = self.check(&period).await {
                    tracing::warn!(%error, webhook = self.shown_url(), "alert check failed; retrying at the next");
                }
            }
            tokio::time::sleep(self.settings.check_every).await;
        }
    }

    /// One check of `period`: claim and send what is due, take up what is still failing, and read back the
    /// period's alerts for the page.
    pub async fn check(&self, period: &PricedPeriod) -> Result<(), sqlx::Error> {
        let (Some(budget), Some(bounded)) =
            (self.budget.budget, projection(period, &jiff::tz::TimeZone::UTC, &self.budget, false))
        else {
            return Ok(());
        };
        if let Err(error) = self.history.ensure_schema().await {
            tracing::warn!(%error, "the alert ledger is not ready; checking again at the next interval");
            return Ok(());
        }
        // The budget is per billing period: the cycle's start names it, or the period's own id without one.
        let key = match self.budget.cycle {
            Some(_) => bounded.start.strftime("%Y-%m-%d").to_string(),
            None => period_id(period).unwrap_or_default(),
        };
        let store = self.history.store();
        let projected = bounded.projection.projected.map(|projected| projected.total);
        for due in due(bounded.projection.to_date, budget, &self.settings.thresholds, projected) {
            let body = payload(&key, &due, budget, &bounded.projection, bounded.start, bounded.end);
            if store
                .claim_alert(&key, due.kind, i64::from(due.threshold_permille), &body, &self.claimer, now_ms())
                .await?
            {
                let record = AlertRecord {
                    period_id: key.clone(),
                    kind: due.kind.to_owned(),
                    threshold_permille: i64::from(due.threshold_permille),
                    body,
                    state: String::new(),
                    attempts: 0,
                    last_attempt_ms: None,
                    last_error: None,
                    delivered_ms: None,
                };
                self.deliver(&record).await?;
            }
        }
        // Every delivery still failing, of this period or an earlier one, once its lease has run out.
        for alert in store.undelivered_alerts().await? {
            if store.claim_retry(&alert, &self.claimer, now_ms(), self.lease().as_millis() as i64).await? {
                self.deliver(&alert).await?;
            }
        }
        let alerts = store.alerts_of(&key).await?;
        *self.shown.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            AlertsShown { period: Some(key), alerts };
        Ok(())
    }

    /// How long a claim (or an attempt) holds an alert before another server may take it over: longer than one
    /// check's attempts can take, with their timeouts and backoff, and at least one check interval.
    fn lease(&self) -> Duration {
        let attempts = self.settings.timeout * ATTEMPTS_PER_CHECK + FIRST_BACKOFF * (1 << ATTEMPTS_PER_CHECK);
        self.settings.check_every.max(attempts + Duration::from_secs(1))
    }

    /// Sends `alert` until a 2xx, at most `ATTEMPTS_PER_CHECK` times with backoff, recording each attempt.
    async fn deliver(&self, alert: &AlertRecord) -> Result<(), sqlx::Error> {
        let id = format!("{}/{}/{}", alert.period_id, alert.kind, alert.threshold_permille);
        let mut wait = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS_PER_CHECK {
            let timestamp = Timestamp::now().as_second();
            let outcome = self
                .http
                .post(self.settings.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("X-Dashboard-Alert-Id", id.as_str())
                .header("X-Dashboard-Timestamp", timestamp.to_string())
                .header(
                    "X-Dashboard-Signature",
                    format!("sha256={}", signature(&self.settings.secret, timestamp, &alert.body)),
                )
                .body(alert.body.clone())
                .send()
                .await;
            let error = match outcome {
                Ok(response) if response.status().is_success() => None,
                Ok(response) => Some(format!("HTTP {}", response.status())),
                Err(error) if error.is_timeout() => {
                    Some(format!("no answer within {} ms", self.settings.timeout.as_millis()))
                }
                Err(_) => Some("the webhook could not be reached".to_owned()),
            };
            if !self.history.store().record_attempt(alert, &self.claimer, now_ms(), error.as_deref()).await? {
                tracing::warn!(alert = id, "alert taken over by another server; this one stops");
                return Ok(());
            }
            match error {
                None => {
                    tracing::info!(alert = id, attempt, webhook = self.shown_url(), "alert delivered");
                    return Ok(());
                }
                Some(error) => {
                    tracing::warn!(alert = id, attempt, %error, webhook = self.shown_url(), "alert not delivered");
                    if attempt < ATTEMPTS_PER_CHECK {
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The alert's JSON body (documented in the README), fixed when the alert is claimed.
fn payload(
    key: &str,
    due: &Due,
    budget: Credits,
    projection: &super::projection::Projection,
    start: Timestamp,
    end: Option<Timestamp>,
) -> String {
    // Rounded half up, as /usage/summary writes it.
    let (used, whole) = (i128::from(projection.to_date.hundredths()), i128::from(budget.hundredths()));
    let used_permille = ((used * 2000 + whole) / (whole * 2)) as i64;
    let raw = |credits: Credits| serde_json::value::RawValue::from_string(credits.to_string()).expect("a number");
    serde_json::json!({
        "alert_id": alert_id(key, due),
        "kind": due.kind,
        "threshold_permille": due.threshold_permille,
        "period": {"id": key, "start": start.to_string(), "end": end.map(|end| end.to_string())},
        "budget": raw(budget),
        "used": raw(projection.to_date),
        "used_permille": used_permille,
        "projected_total": projection.projected.map(|projected| raw(projected.total)),
        "as_of": projection.as_of.to_string(),
    })
    .to_string()
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(hundredths: i64) -> Credits {
        Credits::from_hundredths(hundredths)
    }

    #[test]
    fn every_threshold_reached_is_due_lowest_first_then_a_projected_overrun() {
        let thresholds = [500, 800, 1000];
        let names = |due: Vec<Due>| due.into_iter().map(|due| (due.kind, due.threshold_permille)).collect::<Vec<_>>();
        assert_eq!(names(due(c(4_999), c(10_000), &thresholds, None)), []);
        assert_eq!(names(due(c(5_000), c(10_000), &thresholds, None)), [(THRESHOLD, 500)], "reached exactly");
        // Crossed 50 % and 80 % between two checks: both.
        assert_eq!(names(due(c(8_500), c(10_000), &thresholds, Some(c(9_000)))), [(THRESHOLD, 500), (THRESHOLD, 800)]);
        assert_eq!(
            names(due(c(6_000), c(10_000), &thresholds, Some(c(10_001)))),
            [(THRESHOLD, 500), (PROJECTED_OVERRUN, 0)],
            "the projection says the budget will be exceeded"
        );
        assert_eq!(
            names(due(c(10_000), c(10_000), &thresholds, Some(c(20_000)))).last(),
            Some(&(THRESHOLD, 1000)),
            "exceeded: no projection alert"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body_in_hex() {
        // RFC 4231, test case 2 (key "Jefe"), with the message written as the receiver rebuilds it.
        let (timestamp, body) = (1_700_000_000, "what do ya want for nothing?");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1700000000.what do ya want for nothing?");
        assert_eq!(signature("Jefe", timestamp, body), hex::encode(mac.finalize().into_bytes()));
        assert_eq!(signature("Jefe", timestamp, body).len(), 64);
        assert_ne!(signature("Jefe", 1, "x"), signature("Jefe", 2, "x"), "the timestamp is signed");
    }
}
