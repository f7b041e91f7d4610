//! The dashboard's data, assembled on the server from a priced period: the header's figures, the chart (its
//! bars and its SVG) and the table's formatted times.

use super::chart::render_daily_chart;
use super::day_totals::chart_totals;
use super::error::UsageError;
use super::timestamps::{format_day, format_for_table, parse_utc};
use super::usage_service::PricedPeriod;
use crate::view::{DashboardData, PeriodSummary};
use chrono::NaiveDate;

pub fn build_dashboard(period: &PricedPeriod) -> Result<DashboardData, UsageError> {
    let days = chart_totals(&period.rows)?;
    let chart_svg = if days.is_empty() {
        String::new()
    } else {
        render_daily_chart(&days).map_err(|cause| UsageError::Internal { cause: format!("chart: {cause}") })?
    };
    let summary = summarise(period);
    let table_times = period.rows.iter().map(|row| format_for_table(&row.timestamp)).collect();
    Ok(DashboardData { summary, usage: period.rows.clone(), table_times, days, chart_svg })
}

fn summarise(period: &PricedPeriod) -> PeriodSummary {
    let days: Vec<NaiveDate> =
        period.rows.iter().filter_map(|row| parse_utc(&row.timestamp)).map(|t| t.date_naive()).collect();
    PeriodSummary {
        first_day: days.iter().min().copied().map(format_day),
        last_day: days.iter().max().copied().map(format_day),
        total_credits: period.total,
        message_count: period.rows.len(),
        report_priced_count: period.rows.iter().filter(|row| row.report_name.is_some()).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;
    use crate::money::Credits;

    fn row(timestamp: &str, hundredths: i64, report_name: Option<&str>) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: timestamp.into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    #[test]
    fn summary_counts_and_totals_exactly() {
        let rows = vec![
            row("2024-05-01T10:00:00Z", 440, None),
            row("2024-04-29T02:08:29Z", 7900, Some("Tenant Obligations Report")),
            row("2024-05-01T11:00:00Z", 10, None),
        ];
        let period = PricedPeriod { rows, total: Credits::from_hundredths(8350) };
        let data = build_dashboard(&period).unwrap();
        assert_eq!(
            data.summary,
            PeriodSummary {
                first_day: Some("29-04-2024".into()),
                last_day: Some("01-05-2024".into()),
                total_credits: Credits::from_hundredths(8350),
                message_count: 3,
                report_priced_count: 1,
            }
        );
        assert_eq!(data.days.len(), 3);
        assert_eq!(data.table_times[1], "29-04-2024 02:08");
        assert!(data.chart_svg.starts_with("<svg"));
    }

    #[test]
    fn an_empty_period_has_no_chart() {
        let data = build_dashboard(&PricedPeriod { rows: Vec::new(), total: Credits::ZERO }).unwrap();
        assert_eq!((data.summary.first_day, data.days.len(), data.chart_svg.as_str()), (None, 0, ""));
    }
}
