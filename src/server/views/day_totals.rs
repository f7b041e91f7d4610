//! Credits per day for the chart: one bar per day of the viewer's zone from the first to the last message's
//! day, days without usage as zero. A period longer than `LONGEST_DAILY_CHART_DAYS` is drawn in weeks, so the
//! chart has at most 53 bars for the longest period `period_checks` lets through.

use super::zones::format_day;
use crate::money::Credits;
use crate::page_data::DayTotal;
use crate::server::error::UsageError;
use crate::server::pricing::period_checks::credits_overflow;
use jiff::civil::Date;
use jiff::ToSpan;
use std::collections::BTreeMap;

/// Up to about a quarter the chart has one bar per day; beyond, one per week.
pub const LONGEST_DAILY_CHART_DAYS: usize = 92;

/// The chart's bars from each message's day (in the viewer's zone) and credits.
pub fn chart_totals(days: impl IntoIterator<Item = (Date, Credits)>) -> Result<Vec<DayTotal>, UsageError> {
    let mut per_day: BTreeMap<Date, Credits> = BTreeMap::new();
    for (day, credits) in days {
        let total = per_day.entry(day).or_default();
        *total = total.checked_add(credits).ok_or_else(credits_overflow)?;
    }
    let (Some(&first), Some(&last)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return Ok(Vec::new());
    };
    // A priced period's span is checked where periods are (`period_checks`): at most a year and a day here.
    let every_day: Vec<Date> = first.series(1.day()).take_while(|day| *day <= last).collect();
    let days_per_bar = if every_day.len() > LONGEST_DAILY_CHART_DAYS { 7 } else { 1 };
    every_day
        .chunks(days_per_bar)
        .map(|days| {
            let credits = Credits::checked_sum(days.iter().map(|day| per_day.get(day).copied().unwrap_or_default()))
                .ok_or_else(credits_overflow)?;
            Ok(DayTotal {
                day: format_day(days[0]),
                iso_day: days[0].to_string(),
                days: days_per_bar as u32,
                credits,
                projected: false,
            })
        })
        .collect()
}

/// The days after the last bar up to `today` (without usage so far: zero), then the days still to come in the
/// period (`future`), each projected at `pace`: drawn on a daily chart only (a weekly one has no day to put
/// them on).
pub fn with_projected_days(mut bars: Vec<DayTotal>, today: Date, future: &[Date], pace: Credits) -> Vec<DayTotal> {
    let daily = bars.first().is_none_or(|bar| bar.days == 1);
    let Some(last) = bars.last().and_then(|bar| bar.iso_day.parse::<Date>().ok()) else { return bars };
    let so_far: Vec<Date> = last.series(1.day()).skip(1).take_while(|day| *day <= today).collect();
    if !daily || bars.len() + so_far.len() + future.len() > LONGEST_DAILY_CHART_DAYS {
        return bars;
    }
    let bar = |day: Date, credits, projected| DayTotal {
        day: format_day(day),
        iso_day: day.to_string(),
        days: 1,
        credits,
        projected,
    };
    bars.extend(so_far.into_iter().map(|day| bar(day, Credits::ZERO, false)));
    bars.extend(future.iter().filter(|day| **day > last.max(today)).map(|day| bar(*day, pace, true)));
    bars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::pricing::period_checks::parse_timestamp;
    use crate::server::views::zones::Zone;

    fn utc_days(rows: &[(&str, i64)]) -> Vec<(Date, Credits)> {
        in_zone("UTC", rows)
    }

    fn in_zone(zone: &str, rows: &[(&str, i64)]) -> Vec<(Date, Credits)> {
        let zone = Zone::resolve(Some(zone)).unwrap();
        rows.iter()
            .map(|(time, hundredths)| {
                (zone.date_of(parse_timestamp(time).unwrap()), Credits::from_hundredths(*hundredths))
            })
            .collect()
    }

    fn totals(days: Vec<(Date, Credits)>) -> Vec<(String, u32, String)> {
        chart_totals(days).unwrap().into_iter().map(|d| (d.day, d.days, d.credits.to_string())).collect()
    }

    fn bar(day: &str, days: u32, credits: &str) -> (String, u32, String) {
        (day.to_owned(), days, credits.to_owned())
    }

    #[test]
    fn empty_period_has_no_days() {
        assert!(chart_totals([]).unwrap().is_empty());
    }

    #[test]
    fn sums_each_day_and_fills_gaps_with_zero() {
        let days = utc_days(&[
            ("2024-04-29T02:08:29.375Z", 7900),
            ("2024-04-29T23:59:59.999Z", 120),
            ("2024-05-02T08:00:00Z", 440),
        ]);
        assert_eq!(
            totals(days),
            vec![
                bar("29-04-2024", 1, "80.20"),
                bar("30-04-2024", 1, "0.00"),
                bar("01-05-2024", 1, "0.00"),
                bar("02-05-2024", 1, "4.40"),
            ]
        );
    }

    #[test]
    fn days_are_the_zones_days() {
        let rows =
            [("2024-04-30T00:00:00.000Z", 100), ("2024-04-29T23:59:59.999Z", 200), ("2024-04-30T01:00:00+02:00", 300)];
        assert_eq!(totals(utc_days(&rows)), vec![bar("29-04-2024", 1, "5.00"), bar("30-04-2024", 1, "1.00")]);
        // In New York (UTC−4 then) all three are on the 29th.
        assert_eq!(totals(in_zone("America/New_York", &rows)), vec![bar("29-04-2024", 1, "6.00")]);
    }

    #[test]
    fn dst_days_bucket_by_the_local_calendar() {
        // Around New York's 23-hour 10 March and 25-hour 3 November 2024.
        let rows = [
            ("2024-03-10T04:30:00Z", 100), // 9 March, 23:30 EST
            ("2024-03-11T03:30:00Z", 200), // 10 March, 23:30 EDT
            ("2024-03-11T04:30:00Z", 400), // 11 March, 00:30 EDT
        ];
        let ny = totals(in_zone("America/New_York", &rows));
        assert_eq!(ny, vec![bar("09-03-2024", 1, "1.00"), bar("10-03-2024", 1, "2.00"), bar("11-03-2024", 1, "4.00")]);
        let rows = [("2024-11-03T03:59:00Z", 100), ("2024-11-04T04:59:00Z", 200), ("2024-11-04T05:00:00Z", 400)];
        let ny = totals(in_zone("America/New_York", &rows));
        assert_eq!(ny, vec![bar("02-11-2024", 1, "1.00"), bar("03-11-2024", 1, "2.00"), bar("04-11-2024", 1, "4.00")]);
        // London's 23-hour 31 March: 23:30 GMT on the 30th, then 00:30 BST on 1 April.
        let rows = [("2024-03-30T23:30:00Z", 100), ("2024-03-31T23:30:00Z", 400)];
        let london = totals(in_zone("Europe/London", &rows));
        assert_eq!(
            london,
            vec![bar("30-03-2024", 1, "1.00"), bar("31-03-2024", 1, "0.00"), bar("01-04-2024", 1, "4.00")]
        );
        // London's 25-hour 27 October: 00:30 BST and 23:30 GMT are the same day.
        let rows = [("2024-10-26T23:30:00Z", 100), ("2024-10-27T23:30:00Z", 200)];
        assert_eq!(totals(in_zone("Europe/London", &rows)), vec![bar("27-10-2024", 1, "3.00")]);
    }

    #[test]
    fn a_quarter_is_drawn_in_days_and_a_longer_period_in_weeks() {
        assert_eq!(totals(utc_days(&[("2024-01-01T00:00:00Z", 100), ("2024-04-01T00:00:00Z", 100)])).len(), 92);
        let bars = totals(utc_days(&[
            ("2024-01-01T00:00:00Z", 100),
            ("2024-01-07T00:00:00Z", 50),
            ("2024-12-31T12:00:00Z", 200),
        ]));
        assert_eq!(bars.len(), 53);
        assert_eq!(bars[0], bar("01-01-2024", 7, "1.50"));
        assert_eq!(bars[1], bar("08-01-2024", 7, "0.00"));
        assert_eq!(bars[52], bar("30-12-2024", 7, "2.00"));
    }

    #[test]
    fn days_to_come_follow_the_last_bar_at_the_pace() {
        let bars = chart_totals(utc_days(&[("2024-05-01T10:00:00Z", 500), ("2024-05-02T10:00:00Z", 700)])).unwrap();
        let future: Vec<Date> = ["2024-05-02", "2024-05-03", "2024-05-04"].iter().map(|d| d.parse().unwrap()).collect();
        let today = "2024-05-02".parse().unwrap();
        let bars = with_projected_days(bars, today, &future, Credits::from_hundredths(600));
        let shown: Vec<(String, String, bool)> =
            bars.iter().map(|bar| (bar.day.clone(), bar.credits.to_string(), bar.projected)).collect();
        assert_eq!(
            shown,
            [
                ("01-05-2024".into(), "5.00".into(), false),
                ("02-05-2024".into(), "7.00".into(), false),
                ("03-05-2024".into(), "6.00".into(), true),
                ("04-05-2024".into(), "6.00".into(), true),
            ]
        );
        // Today without usage yet is a day so far (zero), not one to come.
        let bars = chart_totals(utc_days(&[("2024-05-01T10:00:00Z", 500)])).unwrap();
        let bars =
            with_projected_days(bars, "2024-05-03".parse().unwrap(), &future[2..], Credits::from_hundredths(600));
        let shown: Vec<(String, bool)> = bars.iter().map(|bar| (bar.credits.to_string(), bar.projected)).collect();
        assert_eq!(
            shown,
            [("5.00".into(), false), ("0.00".into(), false), ("0.00".into(), false), ("6.00".into(), true)]
        );
    }

    #[test]
    fn a_day_total_that_does_not_fit_is_an_error_not_a_wrapped_number() {
        let days = utc_days(&[("2024-04-29T01:00:00Z", i64::MAX - 1), ("2024-04-29T02:00:00Z", 100)]);
        assert!(matches!(chart_totals(days), Err(UsageError::UpstreamMalformed { .. })));
    }
}
