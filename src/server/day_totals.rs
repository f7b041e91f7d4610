//! Credits per day for the chart: one bar per UTC day from the first to the last message's day, days
//! without usage as zero. A period longer than `LONGEST_DAILY_CHART_DAYS` is drawn in weeks, so the chart
//! never has more than `LONGEST_PERIOD_DAYS / 7` bars; a longer period is refused by the usage service.

use super::error::UsageError;
use super::timestamps::{format_day, parse_utc};
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::view::DayTotal;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// No billing period spans more than a year; timestamps further apart are not a billing period.
pub const LONGEST_PERIOD_DAYS: i64 = 366;
/// Up to about a quarter the chart has one bar per day; beyond, one per week.
pub const LONGEST_DAILY_CHART_DAYS: i64 = 92;

/// The chart's bars, each covering `days` days from its first. Rows whose timestamp cannot be read are left
/// out (the usage service refuses them before they get here).
pub fn chart_totals(rows: &[UsageRow]) -> Result<Vec<DayTotal>, UsageError> {
    let mut per_day: BTreeMap<NaiveDate, Credits> = BTreeMap::new();
    for row in rows {
        if let Some(time) = parse_utc(&row.timestamp) {
            let total = per_day.entry(time.date_naive()).or_default();
            *total = total.checked_add(row.credits_used).ok_or_else(total_overflow)?;
        }
    }
    let (Some(&first), Some(&last)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return Ok(Vec::new());
    };
    let span = (last - first).num_days() + 1;
    if span > LONGEST_PERIOD_DAYS {
        return Err(period_too_long(span));
    }
    let days_per_bar: u32 = if span > LONGEST_DAILY_CHART_DAYS { 7 } else { 1 };
    let mut bars = Vec::new();
    let mut start = first;
    while start <= last {
        let end = start + chrono::Days::new(u64::from(days_per_bar));
        let credits =
            Credits::checked_sum(per_day.range(start..end).map(|(_, credits)| *credits)).ok_or_else(total_overflow)?;
        bars.push(DayTotal { day: format_day(start), days: days_per_bar, credits });
        start = end;
    }
    Ok(bars)
}

/// Refuses timestamps that no billing period can span, before anything is bucketed or drawn.
pub fn check_period_span(times: impl IntoIterator<Item = NaiveDate>) -> Result<(), UsageError> {
    let (mut first, mut last) = (NaiveDate::MAX, NaiveDate::MIN);
    for day in times {
        first = first.min(day);
        last = last.max(day);
    }
    let span = (last - first).num_days() + 1;
    if first <= last && span > LONGEST_PERIOD_DAYS {
        return Err(period_too_long(span));
    }
    Ok(())
}

fn period_too_long(span: i64) -> UsageError {
    UsageError::UpstreamMalformed {
        resource: "messages".into(),
        cause: format!("the messages span {span} days; a billing period spans at most {LONGEST_PERIOD_DAYS}"),
    }
}

pub fn total_overflow() -> UsageError {
    UsageError::UpstreamMalformed {
        resource: "reports".into(),
        cause: "the credits add up to more than can be represented".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(timestamp: &str, hundredths: i64) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: timestamp.into(),
            report_name: None,
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    fn totals(rows: &[UsageRow]) -> Vec<(String, u32, String)> {
        chart_totals(rows).unwrap().into_iter().map(|d| (d.day, d.days, d.credits.to_string())).collect()
    }

    fn bar(day: &str, days: u32, credits: &str) -> (String, u32, String) {
        (day.to_owned(), days, credits.to_owned())
    }

    #[test]
    fn empty_period_has_no_days() {
        assert!(chart_totals(&[]).unwrap().is_empty());
    }

    #[test]
    fn sums_each_day_and_fills_gaps_with_zero() {
        let rows = [
            row("2024-04-29T02:08:29.375Z", 7900),
            row("2024-04-29T23:59:59.999Z", 120),
            row("2024-05-02T08:00:00Z", 440),
        ];
        assert_eq!(
            totals(&rows),
            vec![
                bar("29-04-2024", 1, "80.20"),
                bar("30-04-2024", 1, "0.00"),
                bar("01-05-2024", 1, "0.00"),
                bar("02-05-2024", 1, "4.40"),
            ]
        );
    }

    #[test]
    fn days_are_utc_days() {
        // Midnight UTC starts a new day; an offset timestamp belongs to its UTC day.
        let rows = [
            row("2024-04-30T00:00:00.000Z", 100),
            row("2024-04-29T23:59:59.999Z", 200),
            row("2024-04-30T01:00:00+02:00", 300),
        ];
        assert_eq!(totals(&rows), vec![bar("29-04-2024", 1, "5.00"), bar("30-04-2024", 1, "1.00")]);
    }

    #[test]
    fn input_order_does_not_matter() {
        let rows = [row("2024-05-02T08:00:00Z", 100), row("2024-04-30T08:00:00Z", 100)];
        assert_eq!(totals(&rows).len(), 3);
    }

    #[test]
    fn a_quarter_is_drawn_in_days_and_a_longer_period_in_weeks() {
        let quarter = [row("2024-01-01T00:00:00Z", 100), row("2024-04-01T00:00:00Z", 100)];
        assert_eq!(totals(&quarter).len(), 92);
        let year =
            [row("2024-01-01T00:00:00Z", 100), row("2024-01-07T00:00:00Z", 50), row("2024-12-31T12:00:00Z", 200)];
        let bars = totals(&year);
        assert_eq!(bars.len(), 53);
        assert_eq!(bars[0], bar("01-01-2024", 7, "1.50"));
        assert_eq!(bars[1], bar("08-01-2024", 7, "0.00"));
        assert_eq!(bars[52], bar("30-12-2024", 7, "2.00"));
    }

    #[test]
    fn timestamps_no_billing_period_can_span_are_refused() {
        let rows = [row("0001-01-01T00:00:00Z", 100), row("9999-12-31T00:00:00Z", 100)];
        assert!(matches!(chart_totals(&rows), Err(UsageError::UpstreamMalformed { .. })));
        let days = |texts: &[&str]| texts.iter().map(|t| parse_utc(t).unwrap().date_naive()).collect::<Vec<_>>();
        assert!(check_period_span(days(&["1970-01-01T00:00:00Z", "2024-04-29T00:00:00Z"])).is_err());
        assert!(check_period_span(days(&["2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"])).is_ok());
        assert!(check_period_span(days(&["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"])).is_err());
        assert!(check_period_span([]).is_ok());
    }

    #[test]
    fn a_day_total_that_does_not_fit_is_an_error_not_a_wrapped_number() {
        let rows = [row("2024-04-29T01:00:00Z", i64::MAX - 1), row("2024-04-29T02:00:00Z", 100)];
        assert!(matches!(chart_totals(&rows), Err(UsageError::UpstreamMalformed { .. })));
    }
}
