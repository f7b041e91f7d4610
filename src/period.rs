//! What a billing period adds up to: credits per UTC day and the headline figures.

use crate::contract::UsageRow;
use crate::money::Credits;
use serde::{Deserialize, Serialize};

/// The credits of one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    /// `DD-MM-YYYY`.
    pub day: String,
    pub credits: Credits,
}

/// One entry per day from the first to the last message's day inclusive; days without usage are zero.
/// Rows whose timestamp cannot be read are left out (the server refuses them before they get here).
/// Server-only, like the date library it needs.
#[cfg(feature = "ssr")]
pub fn daily_totals(rows: &[UsageRow]) -> Vec<DayTotal> {
    use crate::timestamps::{format_day, parse_utc};
    use chrono::NaiveDate;
    use std::collections::BTreeMap;

    let mut per_day: BTreeMap<NaiveDate, Credits> = BTreeMap::new();
    for row in rows {
        if let Some(time) = parse_utc(&row.timestamp) {
            let total = per_day.entry(time.date_naive()).or_default();
            *total = *total + row.credits_used;
        }
    }
    let (Some(&first), Some(&last)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| DayTotal {
            day: format_day(day),
            credits: per_day.get(&day).copied().unwrap_or_default(),
        })
        .collect()
}

/// The figures in the dashboard's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// First and last message day, `DD-MM-YYYY`; `None` for an empty period.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub total_credits: Credits,
    pub message_count: usize,
    pub report_priced_count: usize,
}

pub fn summarise(rows: &[UsageRow], days: &[DayTotal]) -> PeriodSummary {
    PeriodSummary {
        first_day: days.first().map(|day| day.day.clone()),
        last_day: days.last().map(|day| day.day.clone()),
        total_credits: rows.iter().map(|row| row.credits_used).sum(),
        message_count: rows.len(),
        report_priced_count: rows.iter().filter(|row| row.report_name.is_some()).count(),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn row(timestamp: &str, hundredths: i64, report_name: Option<&str>) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: timestamp.into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    fn totals(rows: &[UsageRow]) -> Vec<(String, String)> {
        daily_totals(rows).into_iter().map(|d| (d.day, d.credits.to_string())).collect()
    }

    fn pair(day: &str, credits: &str) -> (String, String) {
        (day.to_owned(), credits.to_owned())
    }

    #[test]
    fn empty_period_has_no_days() {
        assert!(daily_totals(&[]).is_empty());
        let summary = summarise(&[], &[]);
        assert_eq!(summary.first_day, None);
        assert_eq!(summary.total_credits, Credits::ZERO);
    }

    #[test]
    fn sums_each_day_and_fills_gaps_with_zero() {
        let rows = [
            row("2024-04-29T02:08:29.375Z", 7900, Some("Tenant Obligations Report")),
            row("2024-04-29T23:59:59.999Z", 120, None),
            row("2024-05-02T08:00:00Z", 440, None),
        ];
        assert_eq!(
            totals(&rows),
            vec![
                pair("29-04-2024", "80.20"),
                pair("30-04-2024", "0.00"),
                pair("01-05-2024", "0.00"),
                pair("02-05-2024", "4.40"),
            ]
        );
    }

    #[test]
    fn days_are_utc_days() {
        // Midnight UTC starts a new day; an offset timestamp belongs to its UTC day.
        let rows = [
            row("2024-04-30T00:00:00.000Z", 100, None),
            row("2024-04-29T23:59:59.999Z", 200, None),
            row("2024-04-30T01:00:00+02:00", 300, None),
        ];
        assert_eq!(totals(&rows), vec![pair("29-04-2024", "5.00"), pair("30-04-2024", "1.00")]);
    }

    #[test]
    fn input_order_does_not_matter() {
        let rows = [row("2024-05-02T08:00:00Z", 100, None), row("2024-04-30T08:00:00Z", 100, None)];
        assert_eq!(totals(&rows).len(), 3);
    }

    #[test]
    fn summary_counts_and_totals_exactly() {
        let rows = [
            row("2024-04-29T02:08:29Z", 7900, Some("Tenant Obligations Report")),
            row("2024-05-01T10:00:00Z", 440, None),
            row("2024-05-01T11:00:00Z", 10, None),
        ];
        let summary = summarise(&rows, &daily_totals(&rows));
        assert_eq!(
            summary,
            PeriodSummary {
                first_day: Some("29-04-2024".into()),
                last_day: Some("01-05-2024".into()),
                total_credits: Credits::from_hundredths(8350),
                message_count: 3,
                report_priced_count: 1,
            }
        );
    }
}
