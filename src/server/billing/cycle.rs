//! The billing cycle, the way billing systems set it: an anchor (a wall-clock time in the billing zone that
//! starts some period) and an interval (a calendar month, or a number of calendar days). Periods are the anchor
//! plus whole intervals, before and after it, counted on the billing zone's calendar: a cycle anchored at
//! midnight in Berlin starts at midnight in Berlin in summer and in winter, a day is 23 or 25 hours across a DST
//! change, and a month is counted from the anchor each time, so a cycle anchored on the 31st ends on the last
//! day of a shorter month and comes back to the 31st.

use crate::server::config::KeyError;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Longest interval in days: no billing period spans more than a year.
const LONGEST_INTERVAL_DAYS: u32 = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Month,
    Days(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingCycle {
    /// The anchor on the billing zone's clock.
    anchor: DateTime,
    zone: TimeZone,
    interval: Interval,
}

/// A period of the cycle: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CycleBounds {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl BillingCycle {
    /// The configuration's keys: the anchor and the interval both empty (no cycle), or both set; the zone an
    /// IANA name. The anchor is a local date-time in the zone (`2024-04-29T00:00:00`, or a date for its
    /// midnight), or an RFC 3339 instant, taken as the zone's wall-clock time at that instant. An error names
    /// the key at fault.
    pub fn parse(anchor: &str, interval: &str, zone: &str) -> Result<Option<Self>, KeyError> {
        let (anchor, interval) = (anchor.trim(), interval.trim());
        match (anchor.is_empty(), interval.is_empty()) {
            (true, true) => return Ok(None),
            (true, false) => {
                return Err(KeyError::because("billing_cycle_anchor", "billing_interval is set without it"))
            }
            (false, true) => {
                return Err(KeyError::because("billing_interval", "billing_cycle_anchor is set without it"))
            }
            (false, false) => {}
        }
        let zone = billing_zone(zone)?;
        let anchor = match anchor.parse::<Timestamp>() {
            Ok(instant) => zone.to_datetime(instant),
            Err(_) => anchor
                .parse::<DateTime>()
                .or_else(|_| anchor.parse::<Date>().map(|date| date.to_datetime(jiff::civil::Time::midnight())))
                .map_err(|_| KeyError::new("billing_cycle_anchor"))?,
        };
        let interval = match interval {
            "month" => Interval::Month,
            days => match days.parse::<u32>() {
                Ok(days) if (1..=LONGEST_INTERVAL_DAYS).contains(&days) => Interval::Days(days),
                _ => return Err(KeyError::new("billing_interval")),
            },
        };
        Ok(Some(BillingCycle { anchor, zone, interval }))
    }

    /// The zone whose calendar the cycle counts on.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The period that contains `time`.
    pub fn period_containing(&self, time: Timestamp) -> CycleBounds {
        let mut n = self.estimate(time);
        while self.nth_start(n) > time {
            n -= 1;
        }
        while self.nth_start(n + 1) <= time {
            n += 1;
        }
        CycleBounds { start: self.nth_start(n), end: self.nth_start(n + 1) }
    }

    /// The ledger's and the page's name for the period starting at `start`: its first day in the billing zone.
    pub fn period_key(&self, start: Timestamp) -> String {
        self.zone.to_datetime(start).date().to_string()
    }

    /// How many days of the billing zone's calendar `period` spans: 30 for a 30-day interval, the month's days
    /// for a month, whatever the viewer's zone.
    pub fn days_in(&self, period: &CycleBounds) -> i64 {
        let (first, end) = (self.zone.to_datetime(period.start).date(), self.zone.to_datetime(period.end).date());
        first.until(end).map(|span| i64::from(span.get_days())).unwrap_or(1).max(1)
    }

    /// Roughly how many intervals `time` is from the anchor; `period_containing` corrects it.
    fn estimate(&self, time: Timestamp) -> i64 {
        let local = self.zone.to_datetime(time);
        match self.interval {
            Interval::Days(days) => {
                let elapsed = self.anchor.date().until(local.date()).map(|span| i64::from(span.get_days()));
                elapsed.unwrap_or(0).div_euclid(i64::from(days))
            }
            Interval::Month => {
                (i64::from(local.year()) * 12 + i64::from(local.month()))
                    - (i64::from(self.anchor.year()) * 12 + i64::from(self.anchor.month()))
            }
        }
    }

    /// The start of the period `n` intervals from the anchor (negative: before it), on the zone's calendar: a
    /// wall-clock time a DST change skips starts the period when the clock resumes; one it repeats, at its
    /// first occurrence.
    fn nth_start(&self, n: i64) -> Timestamp {
        let span = match self.interval {
            Interval::Days(days) => {
                n.checked_mul(i64::from(days)).and_then(|days| jiff::Span::new().try_days(days).ok())
            }
            Interval::Month => jiff::Span::new().try_months(n).ok(),
        };
        let local = span.and_then(|span| self.anchor.checked_add(span).ok());
        local.and_then(|local| self.zone.to_ambiguous_timestamp(local).compatible().ok()).unwrap_or(if n < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
    }
}

/// `billing_time_zone`: an IANA name from the embedded database.
pub fn billing_zone(name: &str) -> Result<TimeZone, KeyError> {
    TimeZone::get(name.trim()).map_err(|_| KeyError::new("billing_time_zone"))
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
        zoned(anchor, interval, "UTC")
    }

    fn zoned(anchor: &str, interval: &str, zone: &str) -> BillingCycle {
        BillingCycle::parse(anchor, interval, zone).unwrap().unwrap()
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
    fn a_cycle_anchored_at_midnight_in_berlin_starts_at_midnight_in_berlin_in_summer_and_in_winter() {
        // Worked out by hand: Berlin is UTC+1 in winter (CET) and UTC+2 in summer (CEST, from 31 March 2024).
        let monthly = zoned("2024-01-01T00:00:00", "month", "Europe/Berlin");
        assert_eq!(
            period(&monthly, "2024-01-15T12:00:00Z"),
            ("2023-12-31T23:00:00Z".into(), "2024-01-31T23:00:00Z".into())
        );
        assert_eq!(
            period(&monthly, "2024-04-15T12:00:00Z"),
            ("2024-03-31T22:00:00Z".into(), "2024-04-30T22:00:00Z".into()),
            "midnight of 1 April in summer time is 22:00 UTC, not 23:00 (nor 01:00 local)"
        );
        // 00:30 Berlin on 1 May is 22:30 UTC on 30 April: May's period, though April's by the UTC date.
        assert_eq!(
            period(&monthly, "2024-04-30T22:30:00Z"),
            ("2024-04-30T22:00:00Z".into(), "2024-05-31T22:00:00Z".into())
        );
        // An instant with an offset is taken as the zone's wall-clock time then: the same cycle.
        assert_eq!(zoned("2023-12-31T23:00:00Z", "month", "Europe/Berlin"), monthly);
    }

    #[test]
    fn days_are_calendar_days_of_the_zone_across_a_dst_change() {
        // Seven days from Monday 25 March 2024, 00:00 London (GMT): the next starts Monday 1 April, 00:00 BST,
        // which is 23:00 UTC on 31 March: the week was 167 hours long.
        let weekly = zoned("2024-03-25", "7", "Europe/London");
        assert_eq!(
            period(&weekly, "2024-03-30T12:00:00Z"),
            ("2024-03-25T00:00:00Z".into(), "2024-03-31T23:00:00Z".into())
        );
        let week = weekly.period_containing(at("2024-03-30T12:00:00Z"));
        assert_eq!(weekly.days_in(&week), 7);
        assert_eq!(week.end.duration_since(week.start).as_hours(), 167);
    }

    #[test]
    fn a_period_counts_the_days_of_the_billing_zones_calendar() {
        let monthly = zoned("2024-04-29T00:00:00", "month", "Europe/London");
        let may = monthly.period_containing(at("2024-05-06T12:00:00Z"));
        assert_eq!(monthly.days_in(&may), 30, "29 April to 28 May, in London");
        assert_eq!(monthly.period_key(may.start), "2024-04-29");
        assert_eq!(may.start.to_string(), "2024-04-28T23:00:00Z", "midnight in London in BST");
        let thirty = zoned("2024-04-29T00:00:00Z", "30", "UTC");
        assert_eq!(thirty.days_in(&thirty.period_containing(at("2024-05-06T12:00:00Z"))), 30);
    }

    #[test]
    fn the_keys_name_themselves_when_wrong() {
        assert_eq!(BillingCycle::parse("", "", "UTC"), Ok(None));
        assert_eq!(BillingCycle::parse("2024-04-29T00:00:00Z", "", "UTC").unwrap_err().key, "billing_interval");
        assert_eq!(BillingCycle::parse("", "month", "UTC").unwrap_err().key, "billing_cycle_anchor");
        assert_eq!(BillingCycle::parse("yesterday", "month", "UTC").unwrap_err().key, "billing_cycle_anchor");
        assert_eq!(BillingCycle::parse("2024-04-29", "month", "Mars/Olympus").unwrap_err().key, "billing_time_zone");
        for bad in ["0", "367", "fortnight", "-7", "1.5"] {
            assert_eq!(
                BillingCycle::parse("2024-04-29T00:00:00Z", bad, "UTC").unwrap_err().key,
                "billing_interval",
                "{bad}"
            );
        }
    }
}
