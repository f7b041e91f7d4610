//! The alert ledger, in the history store: each alert (a period, a kind, a threshold) is a row, inserted —
//! claimed — before it is sent, with its payload. The primary key makes the claim exclusive: of two servers,
//! or the same one before and after a restart, one inserts the row and sends; the others see it there. A
//! delivery that has not succeeded is taken over by one server at a time (an update of the claim), and every
//! attempt is recorded.

use super::store::HistoryStore;
use sqlx::Row;

pub const SENDING: &str = "sending";
pub const DELIVERED: &str = "delivered";
pub const FAILING: &str = "failing";

/// An alert as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    pub period_id: String,
    pub kind: String,
    pub threshold_permille: i64,
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub last_attempt_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_ms: Option<i64>,
}

impl HistoryStore {
    /// Inserts the alert if no server has; `true` when this call did, and so is to send it.
    pub async fn claim_alert(
        &self,
        period_id: &str,
        kind: &str,
        threshold_permille: i64,
        body: &str,
        claimer: &str,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO alerts (period_id, kind, threshold_permille, body, claimed_by, claimed_ms, state, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (period_id, kind, threshold_permille) DO NOTHING",
        )
        .bind(period_id)
        .bind(kind)
        .bind(threshold_permille)
        .bind(body)
        .bind(claimer)
        .bind(now_ms)
        .bind(SENDING)
        .execute(self.pool())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Takes over an alert that is not delivered and whose claim (or last attempt) is older than `lease_ms`: its
    /// sender gave up for this check, or died. `true` when this call did.
    pub async fn claim_retry(
        &self,
        alert: &AlertRecord,
        claimer: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE alerts SET claimed_by = $1, claimed_ms = $2 \
             WHERE period_id = $3 AND kind = $4 AND threshold_permille = $5 AND state <> $6 AND claimed_ms <= $7",
        )
        .bind(claimer)
        .bind(now_ms)
        .bind(alert.period_id.as_str())
        .bind(alert.kind.as_str())
        .bind(alert.threshold_permille)
        .bind(DELIVERED)
        .bind(now_ms - lease_ms)
        .execute(self.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Records a delivery attempt by `claimer`: delivered, or failing with why. The attempt renews the claim, so
    /// another server takes the alert over only a lease after this one last tried. `false` when the claim is no
    /// longer this server's (another took it over): it then stops.
    pub async fn record_attempt(
        &self,
        alert: &AlertRecord,
        claimer: &str,
        now_ms: i64,
        error: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE alerts SET attempts = attempts + 1, last_attempt_ms = $1, claimed_ms = $1, state = $2, \
             last_error = $3, delivered_ms = $4 \
             WHERE period_id = $5 AND kind = $6 AND threshold_permille = $7 AND claimed_by = $8",
        )
        .bind(now_ms)
        .bind(if error.is_none() { DELIVERED } else { FAILING })
        .bind(error)
        .bind(error.is_none().then_some(now_ms))
        .bind(alert.period_id.as_str())
        .bind(alert.kind.as_str())
        .bind(alert.threshold_permille)
        .bind(claimer)
        .execute(self.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Every alert not delivered yet, of any period: each is retried until it is.
    pub async fn undelivered_alerts(&self) -> Result<Vec<AlertRecord>, sqlx::Error> {
        self.alerts_where("state <> $1", DELIVERED).await
    }

    /// A period's alerts: the thresholds, lowest first, then the projected overrun.
    pub async fn alerts_of(&self, period_id: &str) -> Result<Vec<AlertRecord>, sqlx::Error> {
        self.alerts_where("period_id = $1", period_id).await
    }

    async fn alerts_where(&self, condition: &str, value: &str) -> Result<Vec<AlertRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT period_id, kind, threshold_permille, body, state, attempts, last_attempt_ms, last_error, \
             delivered_ms FROM alerts WHERE {condition} ORDER BY period_id, kind DESC, threshold_permille"
        );
        let rows = sqlx::query(&sql).bind(value).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(AlertRecord {
                    period_id: row.try_get("period_id")?,
                    kind: row.try_get("kind")?,
                    threshold_permille: row.try_get("threshold_permille")?,
                    body: row.try_get("body")?,
                    state: row.try_get("state")?,
                    attempts: row.try_get("attempts")?,
                    last_attempt_ms: row.try_get("last_attempt_ms")?,
                    last_error: row.try_get("last_error")?,
                    delivered_ms: row.try_get("delivered_ms")?,
                })
            })
            .collect()
    }
}
