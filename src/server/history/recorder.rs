//! Records each kept period in the store, in the background: on every refresh of the kept period (and on its
//! own schedule, so that a period is recorded even when nobody is looking), it writes the fetch, only the rows
//! that changed since its last write when the store still holds that write, in one transaction. A write that
//! fails is logged once, retried on the next tick, and never touches a page; a newer refresh supersedes a failed
//! one, since it holds all its rows. A period without messages is not recorded, and closes nothing.

use super::archive::{message_bounds_ms, period_id, stored_rows};
use super::store::{Delta, Recorded, Refresh, RowRecord};
use super::History;
use crate::server::config::Config;
use crate::server::database::schema::SchemaError;
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::server::pricing::priced_period::PricedPeriod;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// What this recorder last wrote of the open period: its version, and each message's row by a hash of it.
/// After a restart, or once the store is found to hold another writer's fetch, it is empty, and the next write
/// is the whole fetch.
#[derive(Default)]
struct Written {
    period: Option<String>,
    version: String,
    rows: HashMap<i64, u64>,
}

impl Written {
    /// What `rows` change of the version written for `period`; `None` when this recorder has not written it.
    fn delta<'a>(&'a self, period: &str, rows: &'a [RowRecord]) -> Option<Delta<'a>> {
        if self.period.as_deref() != Some(period) {
            return None;
        }
        let changed = rows.iter().filter(|row| self.rows.get(&row.message_id) != Some(&fingerprint(row))).collect();
        let listed: HashSet<i64> = rows.iter().map(|row| row.message_id).collect();
        let removed = self.rows.keys().copied().filter(|id| !listed.contains(id)).collect();
        Some(Delta { base: &self.version, changed, removed })
    }

    fn remember(&mut self, period: &str, version: &str, rows: &[RowRecord]) {
        self.period = Some(period.to_owned());
        self.version = version.to_owned();
        self.rows = rows.iter().map(|row| (row.message_id, fingerprint(row))).collect();
    }

    fn forget(&mut self) {
        *self = Written::default();
    }
}

fn fingerprint(row: &RowRecord) -> u64 {
    let mut hasher = DefaultHasher::new();
    row.hash(&mut hasher);
    hasher.finish()
}

/// Whether the store can be written, so that an outage is logged when it starts and when it ends, not on
/// every tick.
struct Health {
    up: bool,
}

impl Health {
    fn failed(&mut self, what: &str, error: &dyn std::fmt::Display, store: &str) {
        if self.up {
            tracing::warn!(%error, database = store, "history store unavailable: {what}; retrying");
            self.up = false;
        }
    }

    fn succeeded(&mut self, store: &str) {
        if !self.up {
            tracing::info!(database = store, "history store available again");
            self.up = true;
        }
    }
}

/// Refreshes waiting to be written, one per period (a newer refresh of a period holds all of an older one's
/// rows): written oldest period first, so an outage across a rollover loses nothing of the period before it.
#[derive(Default)]
struct Pending {
    periods: BTreeMap<String, Arc<PricedPeriod>>,
    /// The last refresh written, so that the same one seen again (asked for, then announced) is not rewritten.
    last_written: Option<Arc<PricedPeriod>>,
}

impl Pending {
    fn add(&mut self, period: Arc<PricedPeriod>) {
        if self.last_written.as_ref().is_some_and(|last| Arc::ptr_eq(last, &period)) {
            return;
        }
        // A period without messages has nothing to record: the upstream may only have blinked.
        if let Some(id) = period_id(&period) {
            self.periods.insert(id, period);
        }
    }
}

/// How often the recorder asks for the kept period (refreshing it when it has expired) and retries a failed
/// write: as often as the period is kept, within 0.1 to 60 s; every 30 s when nothing is kept (each request then
/// refreshes the period, and each refresh is recorded).
pub fn tick(config: &Config) -> Duration {
    match config.kept_period_ttl_ms {
        0 => Duration::from_secs(30),
        ttl => Duration::from_millis(ttl.clamp(100, 60_000)),
    }
}

/// Runs until the keeper is gone (the server's state dropped). `tick`: how often the kept period is asked for
/// (refreshing it when it has expired) and a failed write retried.
pub async fn record_periods(history: Arc<History>, keeper: Weak<PeriodKeeper>, tick: Duration) {
    let Some(mut latest) = keeper.upgrade().map(|keeper| keeper.subscribe()) else { return };
    let mut written = Written::default();
    let mut pending = Pending::default();
    let mut migrated = false;
    let mut health = Health { up: true };
    let shown = history.shown().to_owned();
    loop {
        if !migrated {
            match history.ensure_schema().await {
                Ok(()) => migrated = true,
                Err(refused @ SchemaError::NewerThanBinary { .. }) => {
                    tracing::error!(error = %refused, database = shown, "history store refused; past periods are not recorded");
                    return;
                }
                Err(error) => health.failed("cannot migrate", &error, &shown),
            }
        }
        if migrated {
            if write_pending(&history, &mut pending, &mut written, &mut health, &shown).await {
                match history.apply_retention().await {
                    Ok(deleted) if !deleted.is_empty() => {
                        tracing::info!(?deleted, "history retention: older periods deleted")
                    }
                    Ok(_) => {}
                    Err(error) => health.failed("cannot apply the retention", &error, &shown),
                }
            }
            if let Err(error) = history.refresh_listing().await {
                health.failed("cannot list the periods", &error, &shown);
            }
        }
        tokio::select! {
            changed = latest.changed() => {
                if changed.is_err() {
                    return;
                }
                if let Some(period) = latest.borrow_and_update().clone() {
                    pending.add(period);
                }
            }
            () = tokio::time::sleep(tick) => {
                let Some(keeper) = keeper.upgrade() else { return };
                // Asking refreshes the kept period when it has expired; the refresh is then announced too, and
                // seen as the same one. A failure is the upstream's, and the page reports it; here it only means
                // nothing new to record.
                if let Ok(period) = keeper.kept_period().await {
                    pending.add(period);
                }
            }
        }
    }
}

/// Writes the pending refreshes, oldest period first, stopping at the first that fails (it is retried on the
/// next tick). Whether anything was written.
async fn write_pending(
    history: &History,
    pending: &mut Pending,
    written: &mut Written,
    health: &mut Health,
    shown: &str,
) -> bool {
    let mut wrote = false;
    while let Some((id, period)) = pending.periods.pop_first() {
        match record(history, &period, written).await {
            Ok(()) => {
                health.succeeded(shown);
                history.recorded();
                pending.last_written = Some(period);
                wrote = true;
            }
            Err(error) => {
                health.failed("cannot record the period", &error, shown);
                pending.periods.insert(id, period);
                break;
            }
        }
    }
    wrote
}

/// Writes one refresh of `period`: only what changed since this recorder's last write of it, when the store
/// still holds that write.
async fn record(history: &History, period: &PricedPeriod, written: &mut Written) -> Result<(), sqlx::Error> {
    let (Some(id), Some((first_ms, last_ms))) = (period_id(period), message_bounds_ms(period)) else {
        return Ok(());
    };
    let rows = stored_rows(period);
    let version = period.version_tag();
    let refresh = Refresh {
        id: &id,
        first_message_ms: first_ms,
        last_message_ms: last_ms,
        seen_ms: period.fetched_at.as_millisecond(),
        version: &version,
        message_count: rows.len() as i64,
        total_hundredths: period.total.hundredths(),
        rows: &rows,
        delta: written.delta(&id, &rows),
    };
    let started = std::time::Instant::now();
    let recorded = history.record(&refresh).await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match recorded {
        Recorded::Rows(rows_written) => {
            tracing::info!(period = id, version, rows = rows_written, elapsed_ms, "period recorded");
            written.remember(&id, &version, &rows);
        }
        Recorded::Sighting => written.remember(&id, &version, &rows),
        Recorded::Stale => {
            tracing::info!(period = id, version, "a newer fetch of the period is recorded already");
            written.forget();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(message_id: i64, credits: i64) -> RowRecord {
        RowRecord {
            message_id,
            position: message_id,
            timestamp: "2024-04-29T02:08:29.375Z".into(),
            report_id: None,
            report_name: None,
            credits_hundredths: credits,
            basis: "{}".into(),
        }
    }

    fn priced(timestamps: &[&str]) -> Arc<PricedPeriod> {
        Arc::new(PricedPeriod::from_rows(
            timestamps
                .iter()
                .enumerate()
                .map(|(id, timestamp)| crate::contract::UsageRow {
                    message_id: id as i64,
                    timestamp: (*timestamp).into(),
                    report_name: None,
                    credits_used: crate::money::Credits::from_hundredths(100),
                })
                .collect(),
        ))
    }

    #[test]
    fn refreshes_wait_one_per_period_and_a_newer_period_does_not_drop_an_older_one() {
        let mut pending = Pending::default();
        let april = priced(&["2024-04-02T00:00:00Z"]);
        let april_again = priced(&["2024-04-02T00:00:00Z", "2024-04-09T00:00:00Z"]);
        let may = priced(&["2024-05-02T00:00:00Z"]);
        pending.add(april.clone());
        pending.add(may.clone());
        pending.add(april_again.clone());
        let waiting: Vec<(&str, bool)> = pending
            .periods
            .iter()
            .map(|(id, period)| (id.as_str(), Arc::ptr_eq(period, &april_again) || Arc::ptr_eq(period, &may)))
            .collect();
        assert_eq!(waiting, [("2024-04-02", true), ("2024-05-02", true)], "the newer April refresh, then May");
        pending.last_written = Some(may.clone());
        pending.periods.clear();
        pending.add(may);
        assert!(pending.periods.is_empty(), "the refresh just written is not written again");
        pending.add(Arc::new(PricedPeriod::from_rows(Vec::new())));
        assert!(pending.periods.is_empty(), "an empty answer is nothing to record, and closes nothing");
    }

    #[test]
    fn only_what_changed_since_the_last_write_is_written_again() {
        let mut written = Written::default();
        let first = vec![row(1, 100), row(2, 200), row(4, 400)];
        assert!(written.delta("2024-04-29", &first).is_none(), "nothing written yet: the whole fetch");
        written.remember("2024-04-29", "v1", &first);
        let second = vec![row(1, 100), row(2, 250), row(3, 300)];
        let delta = written.delta("2024-04-29", &second).unwrap();
        let changed: Vec<i64> = delta.changed.iter().map(|row| row.message_id).collect();
        assert_eq!((delta.base, changed, delta.removed), ("v1", vec![2, 3], vec![4]), "changed, new, and gone");
        assert!(written.delta("2024-05-29", &second).is_none(), "another period: the whole fetch");
        written.forget();
        assert!(written.delta("2024-04-29", &second).is_none(), "forgotten: the whole fetch");
    }
}
