//! The period's end, projected from its pace so far. Pure: the period's usage, the zone whose days count, the
//! period's bounds and when its data was fetched go in; the figures come out, in exact hundredths.
//!
//! - **To date**: the credits of the period's messages up to "as of", the fetch time clamped to the period.
//!   A fetch at or past the period's end makes it closed: its final figures, no projection.
//! - **Pace**: credits per day over the *full* days so far in the viewer's zone (every hour of the day inside
//!   the period and before "as of"), days without usage counting as zero. Today's partial day, and a partial
//!   first day, are in the total to date but not in the pace.
//! - **Projected total**: to date, plus the pace over the time left until the period's end.
//! - **Range**: an 80 % interval, as if the days left vary as the full days so far did: the projection ± 1.2816
//!   × s × √(days left), s the standard deviation of the full days' totals; never below what is used already.
//!   Fewer than three full days say the projection is not yet meaningful rather than show a number.
//! - **Run-out day**: the day (in the zone) the budget is used up at this pace, the day it was crossed if it
//!   already was, or none before the period's end.

use crate::money::Credits;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// Full days needed before the projection means anything.
pub const MEANINGFUL_FULL_DAYS: usize = 3;
/// The 80 % interval's z, in ten-thousandths.
const Z_80_PERCENT: u128 = 12_816;
const DAY_SECS: i128 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Projection {
    /// The fetch time, clamped to the period.
    pub as_of: Timestamp,
    /// Fetched at or after the period's end: the figures are final.
    pub closed: bool,
    pub to_date: Credits,
    /// Full days so far, in the zone.
    pub full_days: usize,
    /// Credits per day over the full days; `None` before the first full day.
    pub pace: Option<Credits>,
    /// `None` when closed, when the end is unknown, or with fewer than `MEANINGFUL_FULL_DAYS` full days.
    pub projected: Option<ProjectedTotal>,
    /// `None` without a budget.
    pub run_out: Option<RunOut>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectedTotal {
    pub total: Credits,
    pub low: Credits,
    pub high: Credits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOut {
    /// Usage reached the budget on this day.
    Reached(Date),
    /// At this pace, the budget runs out on this day, before the period's end.
    Projected(Date),
    /// Not before the period's end (or it ended under budget).
    NotInThisPeriod,
    /// Too few full days to say.
    Unknown,
}

/// `usage`: every message's time and credits. `end`: `None` when no billing cycle is configured.
pub fn project(
    usage: &[(Timestamp, Credits)],
    zone: &TimeZone,
    start: Timestamp,
    end: Option<Timestamp>,
    fetched_at: Timestamp,
    budget: Option<Credits>,
) -> Projection {
    let in_period = |time: &Timestamp| *time >= start && end.is_none_or(|end| *time < end);
    let mut usage: Vec<(Timestamp, Credits)> = usage.iter().copied().filter(|(time, _)| in_period(time)).collect();
    usage.sort_by_key(|(time, _)| *time);
    let latest = usage.last().map(|(time, _)| *time);
    // A message after the fetch (a clock ahead of ours) is still usage to date.
    let mut as_of = fetched_at.max(start).max(latest.unwrap_or(start));
    let closed = end.is_some_and(|end| fetched_at >= end);
    if let Some(end) = end {
        as_of = as_of.min(end);
    }
    let to_date = Credits::checked_sum(usage.iter().map(|(_, credits)| *credits)).unwrap_or_default();
    let daily = full_day_totals(&usage, zone, start, as_of);
    let full_days = daily.len();
    let sum: i128 = daily.iter().map(|credits| i128::from(credits.hundredths())).sum();
    let pace = (full_days > 0).then(|| Credits::from_hundredths(round_div(sum, full_days as i128) as i64));
    let remaining_secs = end.map(|end| i128::from(end.duration_since(as_of).as_secs().max(0)));
    let meaningful = full_days >= MEANINGFUL_FULL_DAYS && !closed;
    let projected = remaining_secs.filter(|_| meaningful).map(|remaining| {
        let n = full_days as i128;
        let total = i128::from(to_date.hundredths()) + round_div(sum * remaining, n * DAY_SECS);
        let squares: i128 = daily.iter().map(|credits| i128::from(credits.hundredths()).pow(2)).sum();
        // (n Σx² − (Σx)²) ÷ (n (n − 1)) is the sample variance; times the days left, in hundredths².
        let spread = ((n * squares - sum * sum) * remaining / (n * (n - 1) * DAY_SECS)).max(0) as u128;
        let half = (spread.isqrt() * Z_80_PERCENT / 10_000) as i128;
        let credits = |hundredths: i128| Credits::from_hundredths(hundredths as i64);
        ProjectedTotal {
            total: credits(total),
            low: credits((total - half).max(i128::from(to_date.hundredths()))),
            high: credits(total + half),
        }
    });
    let run_out = budget.map(|budget| {
        if to_date >= budget {
            return RunOut::Reached(day_reached(&usage, budget, zone));
        }
        match (closed, projected, end) {
            (true, _, _) => RunOut::NotInThisPeriod,
            (false, Some(_), Some(end)) if sum > 0 => {
                let left = i128::from(budget.hundredths() - to_date.hundredths());
                let secs = round_div(left * full_days as i128 * DAY_SECS, sum);
                match as_of.checked_add(SignedDuration::from_secs(secs as i64)) {
                    Ok(when) if when < end => RunOut::Projected(zone.to_datetime(when).date()),
                    _ => RunOut::NotInThisPeriod,
                }
            }
            (false, Some(_), _) => RunOut::NotInThisPeriod,
            (false, None, _) => RunOut::Unknown,
        }
    });
    Projection { as_of, closed, to_date, full_days, pace, projected, run_out }
}

/// Each full day's total, in order: the zone's days whose every hour is in `[start, as_of)`.
fn full_day_totals(
    usage: &[(Timestamp, Credits)],
    zone: &TimeZone,
    start: Timestamp,
    as_of: Timestamp,
) -> Vec<Credits> {
    let midnight =
        |day: Date| zone.to_ambiguous_timestamp(day.to_datetime(jiff::civil::Time::midnight())).compatible().ok();
    let mut per_day: BTreeMap<Date, i64> = BTreeMap::new();
    for (time, credits) in usage {
        *per_day.entry(zone.to_datetime(*time).date()).or_default() += credits.hundredths();
    }
    let mut day = zone.to_datetime(start).date();
    if midnight(day).is_none_or(|first| first < start) {
        day = day.tomorrow().unwrap_or(day);
    }
    let mut totals = Vec::new();
    while let (Some(from), Some(next)) = (midnight(day), day.tomorrow().ok()) {
        match midnight(next) {
            Some(to) if from >= start && to <= as_of => {
                totals.push(Credits::from_hundredths(*per_day.get(&day).unwrap_or(&0)))
            }
            _ => break,
        }
        day = next;
    }
    totals
}

/// The zone day on which the running total first reached `budget`.
fn day_reached(usage: &[(Timestamp, Credits)], budget: Credits, zone: &TimeZone) -> Date {
    let mut total = 0i64;
    for (time, credits) in usage {
        total = total.saturating_add(credits.hundredths());
        if total >= budget.hundredths() {
            return zone.to_datetime(*time).date();
        }
    }
    usage.last().map_or(Date::MIN, |(time, _)| zone.to_datetime(*time).date())
}

/// `a ÷ b` rounded half up, for non-negative `a` and positive `b`.
fn round_div(a: i128, b: i128) -> i128 {
    (2 * a + b) / (2 * b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn c(credits: &str) -> Credits {
        Credits::parse_decimal(credits).unwrap()
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    /// One message at noon UTC on each May day from the 1st, of these credits.
    fn daily(credits: &[&str]) -> Vec<(Timestamp, Credits)> {
        credits
            .iter()
            .enumerate()
            .map(|(i, amount)| (at(&format!("2024-05-{:02}T12:00:00Z", i + 1)), c(amount)))
            .collect()
    }

    /// May 2024, 30 days: from the 1st to the 31st, 00:00 UTC.
    fn may(usage: &[(Timestamp, Credits)], fetched: &str, budget: Option<&str>) -> Projection {
        let (start, end) = (at("2024-05-01T00:00:00Z"), at("2024-05-31T00:00:00Z"));
        project(usage, &TimeZone::UTC, start, Some(end), at(fetched), budget.map(c))
    }

    #[test]
    fn a_steady_period() {
        // 10.00 a day for six days, and 5.00 this morning: 65.00 so far; 23.5 days left at 10.00 a day.
        let mut usage = daily(&["10", "10", "10", "10", "10", "10"]);
        usage.push((at("2024-05-07T08:00:00Z"), c("5")));
        let projection = may(&usage, "2024-05-07T12:00:00Z", Some("200"));
        assert_eq!((projection.to_date, projection.full_days, projection.pace), (c("65"), 6, Some(c("10"))));
        assert_eq!(projection.projected, Some(ProjectedTotal { total: c("300"), low: c("300"), high: c("300") }));
        // 135.00 left of the budget at 10.00 a day: 13.5 days after 7 May, 12:00, is 21 May, 00:00.
        assert_eq!(projection.run_out, Some(RunOut::Projected(day("2024-05-21"))));
        assert!(!projection.closed);
    }

    #[test]
    fn an_accelerating_period_has_a_range() {
        // 10, 20, … 60: 210.00 in six full days, 35.00 a day, 24 days left: 210 + 840 = 1 050.00.
        // s² = 350 credits² = 3 500 000 hundredths²; × 24 days = 84 000 000; √ = 9 165 (whole hundredths);
        // × 1.2816 = 11 745 hundredths: 1 050.00 ± 117.45.
        let usage = daily(&["10", "20", "30", "40", "50", "60"]);
        let projection = may(&usage, "2024-05-07T00:00:00Z", Some("900"));
        assert_eq!(projection.pace, Some(c("35")));
        assert_eq!(
            projection.projected,
            Some(ProjectedTotal { total: c("1050"), low: c("932.55"), high: c("1167.45") })
        );
        // 690.00 left at 35.00 a day: 19.714… days after 7 May, 00:00: 26 May, 17:08.
        assert_eq!(projection.run_out, Some(RunOut::Projected(day("2024-05-26"))));
    }

    #[test]
    fn one_spike_day_widens_the_range_but_never_below_what_is_used() {
        // 100.00 on one of six days: 16.67 a day, 100 + 100 × 24 ÷ 6 = 500.00. n Σx² − (Σx)² = 6 × 10⁸ − 10⁸;
        // ÷ (6 × 5) × 24 = 4 × 10⁸ hundredths²; √ = 20 000; × 1.2816 = 256.32: 243.68 to 756.32.
        let usage = daily(&["0", "0", "0", "100", "0", "0"]);
        let projection = may(&usage, "2024-05-07T00:00:00Z", None);
        assert_eq!(projection.pace, Some(c("16.67")));
        assert_eq!(projection.projected, Some(ProjectedTotal { total: c("500"), low: c("243.68"), high: c("756.32") }));
        assert_eq!(projection.run_out, None, "no budget, no run-out day");
    }

    #[test]
    fn days_without_usage_count_as_zero() {
        let projection = may(&[], "2024-05-06T00:00:00Z", Some("100"));
        assert_eq!(
            (projection.to_date, projection.full_days, projection.pace),
            (Credits::ZERO, 5, Some(Credits::ZERO))
        );
        assert_eq!(
            projection.projected,
            Some(ProjectedTotal { total: Credits::ZERO, low: Credits::ZERO, high: Credits::ZERO })
        );
        assert_eq!(projection.run_out, Some(RunOut::NotInThisPeriod));
    }

    #[test]
    fn one_day_of_data_is_not_yet_a_projection() {
        let projection = may(&daily(&["12.34"]), "2024-05-02T06:00:00Z", Some("100"));
        assert_eq!((projection.full_days, projection.pace), (1, Some(c("12.34"))));
        assert_eq!((projection.projected, projection.run_out), (None, Some(RunOut::Unknown)));
    }

    #[test]
    fn a_closed_period_shows_its_final_figures() {
        let usage = daily(&["40", "40", "40"]);
        let projection = may(&usage, "2024-06-05T00:00:00Z", Some("100"));
        assert!(projection.closed);
        assert_eq!((projection.as_of, projection.to_date), (at("2024-05-31T00:00:00Z"), c("120")));
        assert_eq!(projection.projected, None);
        // The third day's 40.00 took it past 100.00.
        assert_eq!(projection.run_out, Some(RunOut::Reached(day("2024-05-03"))));
        assert_eq!(may(&usage, "2024-06-05T00:00:00Z", Some("500")).run_out, Some(RunOut::NotInThisPeriod));
    }

    #[test]
    fn without_an_end_only_the_pace_is_known() {
        let usage = daily(&["10", "20", "30", "40"]);
        let projection =
            project(&usage, &TimeZone::UTC, at("2024-05-01T00:00:00Z"), None, at("2024-05-05T00:00:00Z"), None);
        assert_eq!((projection.pace, projection.projected, projection.closed), (Some(c("25")), None, false));
    }

    #[test]
    fn full_days_are_the_viewers_zones() {
        // In New York (UTC−4 in May) the period, starting at 00:00 UTC, starts at 20:00 on 30 April: 1 May is the
        // first full day there; fetched at 03:59 UTC on the 4th, it is still the 3rd, whose day is not over.
        let usage = daily(&["10", "10", "10"]);
        let new_york = TimeZone::get("America/New_York").unwrap();
        let (start, end) = (at("2024-05-01T00:00:00Z"), at("2024-05-31T00:00:00Z"));
        let projection = project(&usage, &new_york, start, Some(end), at("2024-05-04T03:59:00Z"), None);
        assert_eq!(projection.full_days, 2);
        assert_eq!(project(&usage, &new_york, start, Some(end), at("2024-05-04T04:00:00Z"), None).full_days, 3);
    }
}
