//! The alert ledger, a table of the dashboard's database (`credit_dashboard_alerts`), each call bounded by the
//! database's work timeout: each alert (a period, a kind, a threshold) is a row, inserted —
//! claimed — before it is sent, with its payload. The primary key makes the claim exclusive: of two servers,
//! or the same one before and after a restart, one inserts the row and sends; the others see it there. A
//! delivery that has not succeeded is taken over by one server at a time (an update of the claim) once its next
//! attempt is due, and every attempt is recorded. What is read back is checked: a state or kind this binary
//! does not know is an error, never a guess.

use crate::server::database::Database;
use sqlx::AnyPool;
use sqlx::Row;
use std::sync::Arc;

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// Usage reached a share of the budget.
    Threshold,
    /// The projection says the budget will be exceeded before the period ends.
    ProjectedOverrun,
}

impl AlertKind {
    /// As the ledger and the payload write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Threshold => "threshold",
            AlertKind::ProjectedOverrun => "projected_overrun",
        }
    }

    fn parse(text: &str) -> Result<Self, UnknownWord> {
        match text {
            "threshold" => Ok(AlertKind::Threshold),
            "projected_overrun" => Ok(AlertKind::ProjectedOverrun),
            other => Err(UnknownWord::new("kind", other)),
        }
    }
}

/// A kind or state the ledger does not know (a row written by another binary, or changed by hand): the row is
/// refused, the first 40 characters named.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an alert of unknown {what} `{text}`")]
pub struct UnknownWord {
    what: &'static str,
    text: String,
}

impl UnknownWord {
    fn new(what: &'static str, text: &str) -> Self {
        UnknownWord { what, text: text.chars().take(40).collect() }
    }
}

/// Where an alert's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    /// Claimed; no attempt has ended yet.
    Sending,
    Delivered,
    /// Attempts failed; another is due at `next_attempt_ms`.
    Failing,
    /// Given up: the receiver refused it for good (a 4xx other than 408 and 429), or it kept failing for the
    /// whole retry window.
    Failed,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Sending => "sending",
            AlertState::Delivered => "delivered",
            AlertState::Failing => "failing",
            AlertState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, UnknownWord> {
        match text {
            "sending" => Ok(AlertState::Sending),
            "delivered" => Ok(AlertState::Delivered),
            "failing" => Ok(AlertState::Failing),
            "failed" => Ok(AlertState::Failed),
            other => Err(UnknownWord::new("state", other)),
        }
    }
}

/// An alert's key: the period (or cycle) it is about, its kind and its threshold (0 for an overrun).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub period_id: String,
    pub kind: AlertKind,
    pub threshold_permille: i64,
}

impl AlertKey {
    /// The alert's id, the same on every server and every retry: `2024-04-29/threshold/800`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.period_id, self.kind.as_str(), self.threshold_permille)
    }
}

/// An alert as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub key: AlertKey,
    pub body: String,
    pub state: AlertState,
    pub attempts: i64,
    /// When it was first claimed: the retry window counts from here.
    pub raised_ms: i64,
    pub last_attempt_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_ms: Option<i64>,
}

/// How an attempt ended, as the ledger records it.
pub enum AttemptOutcome<'a> {
    Delivered,
    /// Failed; the next attempt is not before `next_attempt_ms`.
    Failing {
        error: &'a str,
        next_attempt_ms: i64,
    },
    /// Failed for good.
    Failed {
        error: &'a str,
    },
}

/// The alerts of one upstream, in the database.
pub struct AlertLedger {
    db: Arc<Database>,
    upstream: String,
}

impl AlertLedger {
    pub fn new(db: Arc<Database>, upstream: &str) -> Self {
        AlertLedger { db, upstream: upstream.to_owned() }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    fn pool(&self) -> &AnyPool {
        self.db.pool()
    }

    pub(super) fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Inserts the alert if no server has; `true` when this call did, and so is to send it.
    pub async fn claim_alert(
        &self,
        key: &AlertKey,
        body: &str,
        claimer: &str,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        self.db.bounded(async move {
            let inserted = sqlx::query(
                "INSERT INTO credit_dashboard_alerts (upstream, period_id, kind, threshold_permille, body, claimed_by, \
                 claimed_ms, state, attempts, raised_ms, next_attempt_ms) VALUES ($8, $1, $2, $3, $4, $5, $6, $7, 0, $6, $6) \
                 ON CONFLICT (upstream, period_id, kind, threshold_permille) DO NOTHING",
            )
            .bind(key.period_id.as_str())
            .bind(key.kind.as_str())
            .bind(key.threshold_permille)
            .bind(body)
            .bind(claimer)
            .bind(now_ms)
            .bind(AlertState::Sending.as_str())
            .bind(self.upstream())
            .execute(self.pool())
            .await?;
            Ok(inserted.rows_affected() == 1)
        })
        .await
    }

    /// Takes over an alert that is neither delivered nor failed for good, whose next attempt is due and whose
    /// claim (or last attempt) is older than `lease_ms`: its sender gave up for now, or died. `true` when this
    /// call did. A live claim is never taken over.
    pub async fn claim_retry(
        &self,
        key: &AlertKey,
        claimer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        self.db.bounded(async move {
            let updated = sqlx::query(
                "UPDATE credit_dashboard_alerts SET claimed_by = $1, claimed_ms = $2 \
                 WHERE upstream = $9 AND period_id = $3 AND kind = $4 AND threshold_permille = $5 AND state IN ($6, $7) \
                 AND claimed_ms <= $8 AND COALESCE(next_attempt_ms, 0) <= $2",
            )
            .bind(claimer)
            .bind(now_ms)
            .bind(key.period_id.as_str())
            .bind(key.kind.as_str())
            .bind(key.threshold_permille)
            .bind(AlertState::Sending.as_str())
            .bind(AlertState::Failing.as_str())
            .bind(now_ms - lease_ms)
            .bind(self.upstream())
            .execute(self.pool())
            .await?;
            Ok(updated.rows_affected() == 1)
        })
        .await
    }

    /// Records a delivery attempt by `claimer`. The attempt renews the claim, so another server takes the alert
    /// over only a lease after this one last tried. `false` when the claim is no longer this server's (another
    /// took it over): it then stops.
    pub async fn record_attempt(
        &self,
        key: &AlertKey,
        claimer: &str,
        now_ms: i64,
        outcome: &AttemptOutcome<'_>,
    ) -> Result<bool, sqlx::Error> {
        self.db
            .bounded(async move {
                let (state, error, next_attempt_ms) = match outcome {
                    AttemptOutcome::Delivered => (AlertState::Delivered, None, None),
                    AttemptOutcome::Failing { error, next_attempt_ms } => {
                        (AlertState::Failing, Some(*error), Some(*next_attempt_ms))
                    }
                    AttemptOutcome::Failed { error } => (AlertState::Failed, Some(*error), None),
                };
                let updated = sqlx::query(
                "UPDATE credit_dashboard_alerts SET attempts = attempts + 1, last_attempt_ms = $1, claimed_ms = $1, \
                 state = $2, last_error = $3, delivered_ms = $4, next_attempt_ms = $5 \
                 WHERE upstream = $10 AND period_id = $6 AND kind = $7 AND threshold_permille = $8 AND claimed_by = $9",
            )
            .bind(now_ms)
            .bind(state.as_str())
            .bind(error)
            .bind((state == AlertState::Delivered).then_some(now_ms))
            .bind(next_attempt_ms)
            .bind(key.period_id.as_str())
            .bind(key.kind.as_str())
            .bind(key.threshold_permille)
            .bind(claimer)
            .bind(self.upstream())
            .execute(self.pool())
            .await?;
                Ok(updated.rows_affected() == 1)
            })
            .await
    }

    /// Every alert still to be delivered (sending or failing), of any period: each is retried until it is
    /// delivered or fails for good.
    pub async fn undelivered_alerts(&self) -> Result<Vec<AlertRecord>, sqlx::Error> {
        self.db
            .bounded(async move {
                self.alerts_where("state IN ($2, $3)", &[AlertState::Sending.as_str(), AlertState::Failing.as_str()])
                    .await
            })
            .await
    }

    /// The alerts of these periods: by period, the thresholds, lowest first, then the projected overrun.
    pub async fn alerts_of(&self, period_ids: &[&str]) -> Result<Vec<AlertRecord>, sqlx::Error> {
        self.db
            .bounded(async move {
                if period_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let placeholders: Vec<String> = (2..period_ids.len() + 2).map(|n| format!("${n}")).collect();
                self.alerts_where(&format!("period_id IN ({})", placeholders.join(", ")), period_ids).await
            })
            .await
    }

    async fn alerts_where(&self, condition: &str, values: &[&str]) -> Result<Vec<AlertRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT period_id, kind, threshold_permille, body, state, attempts, raised_ms, \
             last_attempt_ms, last_error, delivered_ms FROM credit_dashboard_alerts WHERE upstream = $1 AND {condition} \
             ORDER BY period_id, kind DESC, threshold_permille"
        );
        let mut query = sqlx::query(&sql).bind(self.upstream());
        for value in values {
            query = query.bind(*value);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let unreadable = |error: UnknownWord| sqlx::Error::Decode(Box::new(error));
                Ok(AlertRecord {
                    key: AlertKey {
                        period_id: row.try_get("period_id")?,
                        kind: AlertKind::parse(row.try_get("kind")?).map_err(unreadable)?,
                        threshold_permille: row.try_get("threshold_permille")?,
                    },
                    body: row.try_get("body")?,
                    state: AlertState::parse(row.try_get("state")?).map_err(unreadable)?,
                    attempts: row.try_get("attempts")?,
                    raised_ms: row.try_get("raised_ms")?,
                    last_attempt_ms: row.try_get("last_attempt_ms")?,
                    last_error: row.try_get("last_error")?,
                    delivered_ms: row.try_get("delivered_ms")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_read_back_as_written_and_anything_else_is_refused() {
        for kind in [AlertKind::Threshold, AlertKind::ProjectedOverrun] {
            assert_eq!(AlertKind::parse(kind.as_str()), Ok(kind));
        }
        for state in [AlertState::Sending, AlertState::Delivered, AlertState::Failing, AlertState::Failed] {
            assert_eq!(AlertState::parse(state.as_str()), Ok(state));
        }
        assert_eq!(AlertState::parse("Delivered").unwrap_err().to_string(), "an alert of unknown state `Delivered`");
        assert!(AlertKind::parse("").is_err());
    }

    #[test]
    fn an_alerts_id_names_its_period_kind_and_threshold() {
        let key = AlertKey { period_id: "2024-04-29".into(), kind: AlertKind::Threshold, threshold_permille: 800 };
        assert_eq!(key.id(), "2024-04-29/threshold/800");
    }
}
