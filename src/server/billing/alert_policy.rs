//! Which alerts are due and when a failing one is tried again: pure functions of the usage, the budget, the
//! ledger and the clock, which the checker (`alerts.rs`) passes in.
//!
//! - Every billing period with usage in the data is checked, not only the latest: a threshold crossed at
//!   23:59:50 of a cycle's last day fires even when the next message, at 00:00:05, opened the next cycle.
//! - Each threshold reached is due (one crossed between two checks still fires), lowest first, then the
//!   projected overrun, once the projection says the budget will be exceeded and usage has not yet.
//! - What the ledger holds is never due again, whatever its state.
//! - A failing delivery is tried again after a backoff that doubles with each failed round (from the check
//!   interval, at most an hour) until the retry window from its first claim is over; then it has failed.

use crate::money::Credits;
use crate::server::billing::alert_ledger::{AlertKey, AlertKind};
use std::collections::HashSet;
use std::time::Duration;

/// The longest wait between two rounds of attempts.
pub const LONGEST_BACKOFF: Duration = Duration::from_secs(3600);

/// One billing period's usage, as the checker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleUsage {
    /// The ledger's name for the period: its cycle's first day, or the period's id without a cycle.
    pub id: String,
    pub used: Credits,
    /// The projected total of a period still running; `None` once it has ended, or while too early to say.
    pub projected: Option<Credits>,
}

/// The alerts due for `periods` under `budget`, leaving out those in `ledger`: by period, in the order given,
/// each threshold reached (tenths of a percent, lowest first), then the projected overrun.
pub fn alerts_due(
    periods: &[CycleUsage],
    budget: Credits,
    thresholds: &[u32],
    ledger: &HashSet<AlertKey>,
) -> Vec<AlertKey> {
    let mut due = Vec::new();
    for period in periods {
        let reached = |permille: u32| {
            i128::from(period.used.hundredths()) * 1000 >= i128::from(budget.hundredths()) * i128::from(permille)
        };
        let key = |kind: AlertKind, threshold_permille: u32| AlertKey {
            period_id: period.id.clone(),
            kind,
            threshold_permille: i64::from(threshold_permille),
        };
        due.extend(
            thresholds
                .iter()
                .filter(|permille| reached(**permille))
                .map(|permille| key(AlertKind::Threshold, *permille)),
        );
        if period.used < budget && period.projected.is_some_and(|projected| projected > budget) {
            due.push(key(AlertKind::ProjectedOverrun, 0));
        }
    }
    due.retain(|key| !ledger.contains(key));
    due
}

/// When to try a failing alert again, after `failed_rounds` rounds of attempts (at least one), counted from
/// `now_ms`; `None` once the retry window since `raised_ms` is over: it has failed.
pub fn next_attempt_ms(
    raised_ms: i64,
    now_ms: i64,
    failed_rounds: u32,
    check_every: Duration,
    window: Duration,
) -> Option<i64> {
    let window_ends = raised_ms.saturating_add(window.as_millis() as i64);
    if now_ms >= window_ends {
        return None;
    }
    let doublings = failed_rounds.saturating_sub(1).min(20);
    let backoff = check_every.saturating_mul(1 << doublings).min(LONGEST_BACKOFF);
    Some(now_ms.saturating_add(backoff.as_millis() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(hundredths: i64) -> Credits {
        Credits::from_hundredths(hundredths)
    }

    fn usage(id: &str, used: i64, projected: Option<i64>) -> CycleUsage {
        CycleUsage { id: id.into(), used: c(used), projected: projected.map(c) }
    }

    fn named(due: Vec<AlertKey>) -> Vec<String> {
        due.iter().map(AlertKey::id).collect()
    }

    const THRESHOLDS: [u32; 3] = [500, 800, 1000];

    #[test]
    fn the_alerts_due_for_one_period() {
        let none = HashSet::new();
        let table: [(i64, Option<i64>, &[&str]); 6] = [
            (4_999, None, &[]),
            (5_000, None, &["p/threshold/500"]),
            // Crossed 50 % and 80 % between two checks: both, lowest first.
            (8_500, Some(9_000), &["p/threshold/500", "p/threshold/800"]),
            (6_000, Some(10_001), &["p/threshold/500", "p/projected_overrun/0"]),
            (6_000, Some(10_000), &["p/threshold/500"]),
            // Exceeded already: no projection alert.
            (10_000, Some(20_000), &["p/threshold/500", "p/threshold/800", "p/threshold/1000"]),
        ];
        for (used, projected, expected) in table {
            assert_eq!(
                named(alerts_due(&[usage("p", used, projected)], c(10_000), &THRESHOLDS, &none)),
                expected,
                "{used}"
            );
        }
    }

    #[test]
    fn a_period_that_just_ended_is_checked_beside_the_next_one() {
        // 85.00 of 100.00 by 23:59:50 of April's cycle; May's cycle opened with 1.00 at 00:00:05.
        let periods = [usage("2024-04-01", 8_500, None), usage("2024-05-01", 100, Some(3_000))];
        assert_eq!(
            named(alerts_due(&periods, c(10_000), &THRESHOLDS, &HashSet::new())),
            ["2024-04-01/threshold/500", "2024-04-01/threshold/800"]
        );
    }

    #[test]
    fn what_the_ledger_holds_is_not_due_again() {
        let ledger: HashSet<AlertKey> =
            [AlertKey { period_id: "p".into(), kind: AlertKind::Threshold, threshold_permille: 500 }].into();
        assert_eq!(named(alerts_due(&[usage("p", 9_000, None)], c(10_000), &THRESHOLDS, &ledger)), ["p/threshold/800"]);
        assert_eq!(
            named(alerts_due(&[usage("q", 9_000, None)], c(10_000), &THRESHOLDS, &ledger)),
            ["q/threshold/500", "q/threshold/800"],
            "another period's alerts are its own"
        );
    }

    #[test]
    fn failing_deliveries_back_off_doubling_to_an_hour_until_the_window_ends() {
        let minute = Duration::from_secs(60);
        let day = Duration::from_secs(86_400);
        let table: [(i64, u32, Option<i64>); 6] = [
            (0, 1, Some(60_000)),
            (0, 2, Some(120_000)),
            (0, 3, Some(240_000)),
            (0, 7, Some(3_600_000)),
            (0, 40, Some(3_600_000)),
            (86_400_000, 9, None),
        ];
        for (now, rounds, expected) in table {
            assert_eq!(next_attempt_ms(0, now, rounds, minute, day), expected, "{now} {rounds}");
        }
        assert_eq!(next_attempt_ms(0, 86_399_999, 9, minute, day), Some(86_399_999 + 3_600_000));
    }
}
