//! Budget alerts, delivered to a webhook exactly once. A background task checks the latest priced period every
//! `alert_check_interval_secs` (reading what the kept period already holds: no upstream traffic of its own):
//! which alerts are due is `alert_policy`'s (every billing period with usage, every threshold reached, the
//! projected overrun), the ledger (`alert_ledger`) makes each fire once across restarts and replicas by
//! being claimed before it is sent, and `alert_sender` posts it, signed. A delivery is tried a few times within
//! a check, then again with backoff at later checks until the retry window ends or the receiver refuses it for
//! good; either way it ends failed, on the page and in `/metrics`.

use super::alert_ledger::{AlertKey, AlertLedger, AlertRecord, AlertState, AttemptOutcome};
use super::alert_policy::{alerts_due, next_attempt_ms, CycleUsage};
use super::alert_sender::{Delivery, WebhookSender};
use super::projection::Projection;
use super::webhook_signature::WebhookSecrets;
use super::{periods_with_usage, Bounded, BudgetSettings};
use crate::money::Credits;
use crate::server::config::{Config, KeyError};
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::server::pricing::priced_period::PricedPeriod;
use jiff::Timestamp;
use std::collections::HashSet;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// Attempts within one round (one check); a delivery still failing waits for a later check.
const ATTEMPTS_PER_ROUND: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Where and how alerts are sent.
pub struct AlertSettings {
    pub sender: WebhookSender,
    pub check_every: Duration,
    /// Tenths of a percent of the budget, increasing.
    pub thresholds: Vec<u32>,
    /// How long a failing delivery is retried, from its first claim.
    pub retry_window: Duration,
    pub timeout: Duration,
}

impl AlertSettings {
    /// The alerts `config` asks for; `None` without a webhook.
    pub fn from_config(config: &Config) -> Result<Option<Self>, KeyError> {
        if config.alert_webhook_url.is_empty() {
            return Ok(None);
        }
        let url = reqwest::Url::parse(&config.alert_webhook_url).map_err(|_| KeyError::new("alert_webhook_url"))?;
        let secrets = WebhookSecrets::parse(&config.alert_webhook_secret)
            .map_err(|reason| KeyError::because("alert_webhook_secret", reason.to_string()))?;
        let timeout = Duration::from_millis(config.alert_webhook_timeout_ms);
        Ok(Some(AlertSettings {
            sender: WebhookSender::new(url, secrets, timeout),
            check_every: Duration::from_secs(config.alert_check_interval_secs),
            thresholds: config.alert_thresholds_permille(),
            retry_window: Duration::from_secs(config.alert_retry_window_secs),
            timeout,
        }))
    }
}

/// What the page shows of the current period's alerts.
#[derive(Clone, Debug, Default)]
pub struct AlertsShown {
    pub period: Option<String>,
    pub alerts: Vec<AlertRecord>,
}

pub struct AlertChecker {
    ledger: AlertLedger,
    settings: AlertSettings,
    budget: BudgetSettings,
    /// This process, in the ledger's claims.
    claimer: String,
    shown: RwLock<AlertsShown>,
}

impl AlertChecker {
    pub fn new(ledger: AlertLedger, settings: AlertSettings, budget: BudgetSettings) -> Self {
        let claimer = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        AlertChecker { ledger, settings, budget, claimer, shown: RwLock::default() }
    }

    /// The current period's alerts as of the last check.
    pub fn shown(&self) -> AlertsShown {
        self.shown.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Checks every `check_every` until the keeper is gone.
    pub async fn run(self: Arc<Self>, keeper: Weak<PeriodKeeper>) {
        // The checks of many organisations are spread over the interval, each at a place of its own (its
        // upstream's identity), rather than all at once.
        tokio::time::sleep(self.first_wait()).await;
        loop {
            let Some(period) = keeper.upgrade().map(|keeper| keeper.latest()) else { return };
            if let Some(period) = period {
                if let Err(error) = self.check(&period).await {
                    let webhook = self.settings.sender.shown_url();
                    tracing::warn!(%error, webhook, "alert check failed; retrying at the next");
                }
            }
            tokio::time::sleep(self.settings.check_every).await;
        }
    }

    /// Where in the interval this checker's rounds fall: a fraction of it named by its upstream's identity.
    fn first_wait(&self) -> Duration {
        let place =
            self.ledger.upstream().bytes().fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(byte as u64));
        let interval = self.settings.check_every.as_millis().max(1) as u64;
        Duration::from_millis(place % interval)
    }

    /// One check of `period`: claim and send what is due in every billing period it has usage in, take up the
    /// failing deliveries whose next attempt is due, and read back the current period's alerts for the page.
    pub async fn check(&self, period: &PricedPeriod) -> Result<(), sqlx::Error> {
        let Some(budget) = self.budget.budget else { return Ok(()) };
        let periods = periods_with_usage(period, &self.budget);
        let Some((current, _)) = periods.last() else { return Ok(()) };
        let current = current.clone();
        if let Err(error) = self.ledger.database().ensure_schema().await {
            tracing::warn!(%error, "the alert ledger is not ready; checking again at the next interval");
            return Ok(());
        }
        let store = &self.ledger;
        let ids: Vec<&str> = periods.iter().map(|(id, _)| id.as_str()).collect();
        let ledger: HashSet<AlertKey> = store.alerts_of(&ids).await?.into_iter().map(|alert| alert.key).collect();
        let usage: Vec<CycleUsage> = periods
            .iter()
            .map(|(id, bounded)| CycleUsage {
                id: id.clone(),
                used: bounded.projection.to_date,
                projected: bounded.projection.projected.map(|projected| projected.total),
            })
            .collect();
        for key in alerts_due(&usage, budget, &self.settings.thresholds, &ledger) {
            let Some((_, bounded)) = periods.iter().find(|(id, _)| *id == key.period_id) else { continue };
            let body = payload(&key, budget, bounded);
            let now = now_ms();
            if store.claim_alert(&key, &body, &self.claimer, now).await? {
                let alert = AlertRecord {
                    key,
                    body,
                    state: AlertState::Sending,
                    attempts: 0,
                    raised_ms: now,
                    last_attempt_ms: None,
                    last_error: None,
                    delivered_ms: None,
                };
                self.deliver(&alert).await?;
            }
        }
        // Every delivery still to be made, of this period or an earlier one, once its next attempt is due and no
        // live claim holds it.
        for alert in store.undelivered_alerts().await? {
            let lease_ms = self.lease().as_millis() as i64;
            if store.claim_retry(&alert.key, &self.claimer, now_ms(), lease_ms).await? {
                self.deliver(&alert).await?;
            }
        }
        let alerts = store.alerts_of(&[current.as_str()]).await?;
        *self.shown.write().unwrap_or_else(std::sync::PoisonError::into_inner) =
            AlertsShown { period: Some(current), alerts };
        Ok(())
    }

    /// How long a claim (or an attempt) holds an alert before another server may take it over: longer than one
    /// round's attempts can take, with their timeouts and backoff, and at least one check interval.
    fn lease(&self) -> Duration {
        let round = self.settings.timeout * ATTEMPTS_PER_ROUND + FIRST_BACKOFF * (1 << ATTEMPTS_PER_ROUND);
        self.settings.check_every.max(round + Duration::from_secs(1))
    }

    /// One round: sends `alert` until it is delivered or refused, at most `ATTEMPTS_PER_ROUND` times with
    /// backoff, recording each attempt; the last failure schedules the next round, or ends the retry window.
    async fn deliver(&self, alert: &AlertRecord) -> Result<(), sqlx::Error> {
        let id = alert.key.id();
        let webhook = self.settings.sender.shown_url();
        let mut wait = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS_PER_ROUND {
            let delivery = self.settings.sender.send(&id, &alert.body).await;
            let now = now_ms();
            let given_up;
            let outcome = match &delivery {
                Delivery::Delivered => AttemptOutcome::Delivered,
                Delivery::Refused(error) => AttemptOutcome::Failed { error },
                Delivery::Retry(error) if attempt < ATTEMPTS_PER_ROUND => {
                    AttemptOutcome::Failing { error, next_attempt_ms: now }
                }
                Delivery::Retry(error) => {
                    let rounds = (alert.attempts as u32 + attempt).div_ceil(ATTEMPTS_PER_ROUND);
                    let window = self.settings.retry_window;
                    match next_attempt_ms(alert.raised_ms, now, rounds, self.settings.check_every, window) {
                        Some(next_attempt_ms) => AttemptOutcome::Failing { error, next_attempt_ms },
                        None => {
                            given_up = format!("{error}; given up after {} s of retries", window.as_secs());
                            AttemptOutcome::Failed { error: &given_up }
                        }
                    }
                }
            };
            if !self.ledger.record_attempt(&alert.key, &self.claimer, now, &outcome).await? {
                tracing::warn!(alert = id, "alert taken over by another server; this one stops");
                return Ok(());
            }
            match outcome {
                AttemptOutcome::Delivered => {
                    metrics::counter!("alert_attempts_total", "outcome" => "delivered").increment(1);
                    tracing::info!(alert = id, attempt, webhook, "alert delivered");
                    return Ok(());
                }
                AttemptOutcome::Failed { error } => {
                    metrics::counter!("alert_attempts_total", "outcome" => "failed").increment(1);
                    tracing::error!(alert = id, attempt, %error, webhook, "alert failed: no more attempts");
                    return Ok(());
                }
                AttemptOutcome::Failing { error, .. } => {
                    metrics::counter!("alert_attempts_total", "outcome" => "failing").increment(1);
                    tracing::warn!(alert = id, attempt, %error, webhook, "alert not delivered");
                    if attempt < ATTEMPTS_PER_ROUND {
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
fn payload(key: &AlertKey, budget: Credits, bounded: &Bounded) -> String {
    let Bounded { start, end, projection } = bounded;
    let Projection { to_date, projected, as_of, .. } = projection;
    // Rounded half up, as /usage/summary writes it.
    let (used, whole) = (i128::from(to_date.hundredths()), i128::from(budget.hundredths()));
    let used_permille = ((used * 2000 + whole) / (whole * 2)) as i64;
    let raw = |credits: Credits| serde_json::value::RawValue::from_string(credits.to_string()).expect("a number");
    serde_json::json!({
        "alert_id": key.id(),
        "kind": key.kind.as_str(),
        "threshold_permille": key.threshold_permille,
        "period": {"id": key.period_id, "start": start.to_string(), "end": end.map(|end| end.to_string())},
        "budget": raw(budget),
        "used": raw(*to_date),
        "used_permille": used_permille,
        "projected_total": projected.map(|projected| raw(projected.total)),
        "as_of": as_of.to_string(),
    })
    .to_string()
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}
