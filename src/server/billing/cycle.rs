//! The billing cycle, the way billing systems set it: an anchor (an instant that starts some period) and an
//! interval (a calendar month, or a number of days). Periods are the anchor plus whole intervals, before and
//! after it; a month is counted from the anchor each time, so a cycle anchored on the 31st ends on the last day
//! of a shorter month and comes back to the 31st.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// Longest interval in days: no billing period spans more than a year.
const LONGEST_INTERVAL_DAYS: u32 = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Month,
    Days(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BillingCycle {
    anchor: Timestamp,
    interval: Interval,
}

/// A period of the cycle: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CyclePeriod {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl BillingCycle {
    /// The configuration's two keys: both empty (no cycle), or both set. An error names the key at fault.
    pub fn parse(anchor: &str, interval: &str) -> Result<Option<Self>, (&'static str, Option<String>)> {
        let (anchor, interval) = (anchor.trim(), interval.trim());
        match (anchor.is_empty(), interval.is_empty()) {
            (true, true) => return Ok(None),
            (true, false) => return Err(("billing_cycle_anchor", Some("billing_interval is set without it".into()))),
            (false, true) => return Err(("billing_interval", Some("billing_cycle_anchor is set without it".into()))),
            (false, false) => {}
        }
        let anchor: Timestamp = anchor
            .parse()
            .map_err(|error| ("billing_cycle_anchor", Some(format!("not an RFC 3339 instant: {error}"))))?;
        let interval = match interval {
            "month" => Interval::Month,
            days => match days.parse::<u32>() {
                Ok(days) if (1..=LONGEST_INTERVAL_DAYS).contains(&days) => Interval::Days(days),
                _ => return Err(("billing_interval", None)),
            },
        };
        Ok(Some(BillingCycle { anchor, interval }))
    }

    /// The period that contains `time`.
    pub fn period_containing(&self, time: Timestamp) -> CyclePeriod {
        let mut n = self.estimate(time);
        while self.nth_start(n) > time {
            n -= 1;
        }
        while self.nth_start(n + 1) <= time {
            n += 1;
        }
        CyclePeriod { start: self.nth_start(n), end: self.nth_start(n + 1) }
    }

    /// Roughly how many intervals `time` is from the anchor; `period_containing` corrects it.
    fn estimate(&self, time: Timestamp) -> i64 {
        match self.interval {
            Interval::Days(days) => time.duration_since(self.anchor).as_secs().div_euclid(i64::from(days) * 86_400),
            Interval::Month => {
                let (from, to) = (utc(self.anchor), utc(time));
                (i64::from(to.year()) * 12 + i64::from(to.month()))
                    - (i64::from(from.year()) * 12 + i64::from(from.month()))
            }
        }
    }

    /// The start of the period `n` intervals from the anchor (negative: before it).
    fn nth_start(&self, n: i64) -> Timestamp {
        match self.interval {
            Interval::Days(days) => {
                let offset = SignedDuration::from_secs(n.saturating_mul(i64::from(days) * 86_400));
                self.anchor.checked_add(offset).unwrap_or(if n < 0 { Timestamp::MIN } else { Timestamp::MAX })
            }
            Interval::Month => {
                let start = utc(self.anchor).checked_add(n.months()).ok();
                start.and_then(|start| TimeZone::UTC.to_timestamp(start).ok()).unwrap_or(if n < 0 {
                    Timestamp::MIN
                } else {
                    Timestamp::MAX
                })
            }
        }
    }
}

fn utc(time: Timestamp) -> DateTime {
    TimeZone::UTC.to_datetime(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn period(cycle: &BillingCycle, time: &str) -> (String, String) {
        let period = cycle.period_containing(at(time));
        (period.start.to_string(), period.end.to_string())
    }

    fn cycle(anchor: &str, interval: &str) -> BillingCycle {
        BillingCycle::parse(anchor, interval).unwrap().unwrap()
    }

    #[test]
    fn monthly_periods_start_on_the_anchors_day() {
        let monthly = cycle("2024-04-29T00:00:00Z", "month");
        assert_eq!(
            period(&monthly, "2024-05-06T12:00:00Z"),
            ("2024-04-29T00:00:00Z".into(), "2024-05-29T00:00:00Z".into())
        );
        assert_eq!(
            period(&monthly, "2024-05-29T00:00:00Z"),
            ("2024-05-29T00:00:00Z".into(), "2024-06-29T00:00:00Z".into())
        );
        assert_eq!(
            period(&monthly, "2024-04-28T23:59:59Z"),
            ("2024-03-29T00:00:00Z".into(), "2024-04-29T00:00:00Z".into())
        );
        assert_eq!(
            period(&monthly, "2026-12-01T00:00:00Z"),
            ("2026-11-29T00:00:00Z".into(), "2026-12-29T00:00:00Z".into())
        );
    }

    #[test]
    fn a_cycle_anchored_on_the_31st_ends_on_a_short_months_last_day_and_comes_back() {
        let monthly = cycle("2024-01-31T00:00:00Z", "month");
        assert_eq!(
            period(&monthly, "2024-02-15T00:00:00Z"),
            ("2024-01-31T00:00:00Z".into(), "2024-02-29T00:00:00Z".into())
        );
        assert_eq!(
            period(&monthly, "2024-03-15T00:00:00Z"),
            ("2024-02-29T00:00:00Z".into(), "2024-03-31T00:00:00Z".into())
        );
    }

    #[test]
    fn periods_of_days_before_and_after_the_anchor() {
        let fortnightly = cycle("2024-04-29T00:00:00Z", "14");
        assert_eq!(
            period(&fortnightly, "2024-05-14T00:00:00Z"),
            ("2024-05-13T00:00:00Z".into(), "2024-05-27T00:00:00Z".into())
        );
        assert_eq!(
            period(&fortnightly, "2024-04-20T00:00:00Z"),
            ("2024-04-15T00:00:00Z".into(), "2024-04-29T00:00:00Z".into())
        );
    }

    #[test]
    fn both_keys_or_neither_and_each_names_itself() {
        assert_eq!(BillingCycle::parse("", ""), Ok(None));
        assert_eq!(BillingCycle::parse("2024-04-29T00:00:00Z", "").unwrap_err().0, "billing_interval");
        assert_eq!(BillingCycle::parse("", "month").unwrap_err().0, "billing_cycle_anchor");
        assert_eq!(BillingCycle::parse("yesterday", "month").unwrap_err().0, "billing_cycle_anchor");
        for bad in ["0", "367", "fortnight", "-7", "1.5"] {
            assert_eq!(BillingCycle::parse("2024-04-29T00:00:00Z", bad).unwrap_err().0, "billing_interval", "{bad}");
        }
    }
}
