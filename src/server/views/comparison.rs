//! This period against the previous one at the same point. "To date" is when the period's data was fetched
//! (or its latest message, if that is later): the comparison takes the time from the period's start to then,
//! and sums the previous period's credits over the same time from its own start. Once that time is as long as
//! the whole previous period (which ran until this one started), it compares with all of it. Exact: integer
//! hundredths, and the percentage in integer tenths.

use super::zones::{format_day, Zone};
use crate::money::Credits;
use crate::page_data::Comparison;
use crate::server::pricing::priced_period::PricedPeriod;
use jiff::{SignedDuration, Timestamp};

/// `None` when the current period has no messages (nothing is "to date").
pub fn compare(
    current: &PricedPeriod,
    current_start: Timestamp,
    previous: &PricedPeriod,
    previous_start: Timestamp,
) -> Option<Comparison> {
    let latest = current.times.iter().max()?;
    let as_of = current.fetched_at.max(*latest);
    let elapsed = as_of.duration_since(current_start).max(SignedDuration::ZERO);
    let previous_length = current_start.duration_since(previous_start);
    let whole_previous = elapsed >= previous_length;
    let cutoff = previous_start.checked_add(elapsed).unwrap_or(Timestamp::MAX);
    let previous_to_date = match whole_previous {
        true => previous.total,
        false => Credits::checked_sum(
            previous
                .rows
                .iter()
                .zip(&previous.times)
                .filter(|(_, time)| **time <= cutoff)
                .map(|(row, _)| row.credits_used),
        )
        .unwrap_or(previous.total),
    };
    Some(Comparison {
        elapsed: (!whole_previous).then(|| elapsed_words(elapsed)),
        to_date: current.total,
        previous_to_date,
        previous_total: previous.total,
        change_permille: change_permille(current.total, previous_to_date),
        previous_days: days(previous).unwrap_or_default(),
    })
}

/// (now − then) ÷ then in tenths of a percent, rounded half away from zero; `None` when `then` is zero.
fn change_permille(now: Credits, then: Credits) -> Option<i64> {
    let (now, then) = (i128::from(now.hundredths()), i128::from(then.hundredths()));
    if then <= 0 {
        return None;
    }
    let scaled = (now - then) * 1000;
    let rounded = (scaled.abs() * 2 + then) / (then * 2) * scaled.signum();
    i64::try_from(rounded).ok()
}

/// `6 days 4 hours`, `1 day`, `5 hours`, `less than an hour`.
fn elapsed_words(elapsed: SignedDuration) -> String {
    let hours = elapsed.as_secs() / 3600;
    let (days, hours) = (hours / 24, hours % 24);
    let plural = |count: i64, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    match (days, hours) {
        (0, 0) => "less than an hour".to_owned(),
        (0, hours) => plural(hours, "hour"),
        (days, 0) => plural(days, "day"),
        (days, hours) => format!("{} {}", plural(days, "day"), plural(hours, "hour")),
    }
}

/// A period's first and last message day (UTC), `DD-MM-YYYY → DD-MM-YYYY`.
pub fn days(period: &PricedPeriod) -> Option<String> {
    let day = |time: &Timestamp| format_day(Zone::utc().date_of(*time));
    let (first, last) = (period.times.iter().min()?, period.times.iter().max()?);
    Some(format!("{} → {}", day(first), day(last)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;

    fn period(rows: &[(&str, i64)]) -> PricedPeriod {
        PricedPeriod::from_rows(
            rows.iter()
                .enumerate()
                .map(|(i, (timestamp, hundredths))| UsageRow {
                    message_id: i as i64,
                    timestamp: (*timestamp).into(),
                    report_name: None,
                    credits_used: Credits::from_hundredths(*hundredths),
                })
                .collect(),
        )
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn credits_to_date_against_the_same_time_of_the_previous_period() {
        // Six days and four hours in: 112.40 so far.
        let current = period(&[("2024-05-01T10:00:00Z", 5_000), ("2024-05-07T04:00:00Z", 6_240)]);
        // The previous period: 100.00 by the same point (6 days 4 hours from 1 April), 250.00 in all.
        let previous = period(&[
            ("2024-04-01T00:00:00Z", 4_000),
            ("2024-04-07T04:00:00Z", 6_000),
            ("2024-04-07T04:00:01Z", 7_000),
            ("2024-04-20T00:00:00Z", 8_000),
        ]);
        let comparison = compare(&current, at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).unwrap();
        assert_eq!(
            comparison,
            Comparison {
                elapsed: Some("6 days 4 hours".into()),
                to_date: Credits::from_hundredths(11_240),
                previous_to_date: Credits::from_hundredths(10_000),
                previous_total: Credits::from_hundredths(25_000),
                // (112.40 − 100.00) ÷ 100.00 = +12.4 %
                change_permille: Some(124),
                previous_days: "01-04-2024 → 20-04-2024".into(),
            }
        );
    }

    #[test]
    fn a_lighter_period_is_a_negative_change_and_no_previous_usage_is_no_percentage() {
        let current = period(&[("2024-05-02T00:00:00Z", 100)]);
        let previous = period(&[("2024-04-01T12:00:00Z", 300)]);
        let comparison = compare(&current, at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).unwrap();
        // One day in: 1.00 against 3.00, −66.7 %.
        assert_eq!((comparison.elapsed.as_deref(), comparison.change_permille), (Some("1 day"), Some(-667)));
        let previous = period(&[("2024-04-20T00:00:00Z", 300)]);
        let comparison = compare(&current, at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).unwrap();
        assert_eq!((comparison.previous_to_date, comparison.change_permille), (Credits::ZERO, None));
        assert!(compare(&period(&[]), at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).is_none());
    }

    #[test]
    fn to_date_is_when_the_data_was_fetched_and_past_the_previous_periods_length_it_is_all_of_it() {
        let mut current = period(&[("2024-05-02T00:00:00Z", 1_000)]);
        // Fetched ten days in, with nothing since the 2nd: the window is ten days, not one.
        current.fetched_at = at("2024-05-11T00:00:00Z");
        let previous =
            period(&[("2024-04-01T12:00:00Z", 300), ("2024-04-09T12:00:00Z", 200), ("2024-04-20T00:00:00Z", 900)]);
        let comparison = compare(&current, at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).unwrap();
        assert_eq!(
            (comparison.elapsed.as_deref(), comparison.previous_to_date),
            (Some("10 days"), Credits::from_hundredths(500))
        );
        // Fetched long after: the previous period ran 30 days, so this compares with all of it.
        current.fetched_at = at("2026-12-01T00:00:00Z");
        let comparison = compare(&current, at("2024-05-01T00:00:00Z"), &previous, at("2024-04-01T00:00:00Z")).unwrap();
        assert_eq!((comparison.elapsed, comparison.previous_to_date), (None, Credits::from_hundredths(1_400)));
        assert_eq!(comparison.change_permille, Some(-286), "10.00 against 14.00");
    }

    #[test]
    fn changes_round_half_away_from_zero() {
        let c = Credits::from_hundredths;
        assert_eq!(change_permille(c(10_005), c(10_000)), Some(1), "+0.05 % is +0.1 %");
        assert_eq!(change_permille(c(9_995), c(10_000)), Some(-1));
        assert_eq!(change_permille(c(20_000), c(10_000)), Some(1_000));
        assert_eq!(change_permille(c(0), c(10_000)), Some(-1_000));
        assert_eq!(change_permille(c(5), c(0)), None);
    }

    #[test]
    fn elapsed_time_in_words() {
        assert_eq!(elapsed_words(SignedDuration::from_mins(59)), "less than an hour");
        assert_eq!(elapsed_words(SignedDuration::from_hours(1)), "1 hour");
        assert_eq!(elapsed_words(SignedDuration::from_hours(48)), "2 days");
        assert_eq!(elapsed_words(SignedDuration::from_hours(25)), "1 day 1 hour");
    }
}
