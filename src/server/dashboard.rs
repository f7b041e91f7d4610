//! The dashboard's data, assembled on the server from a priced period: the overview (header figures, the
//! chart's bars and SVG), built once per kept period, and the table page the URL asks for.

use super::breakdown::breakdown;
use super::chart::render_daily_chart;
use super::day_totals::chart_totals;
use super::error::UsageError;
use super::priced_period::PricedPeriod;
use super::table::table_page;
use super::timestamps::{format_day, parse_utc};
use crate::table_query::TableQuery;
use crate::view::{DashboardData, PeriodOverview, PeriodSummary};
use chrono::NaiveDate;

pub fn build_dashboard(
    period: &PricedPeriod,
    query: &TableQuery,
    page_size: usize,
) -> Result<DashboardData, UsageError> {
    let overview = period.overview(build_overview)?;
    Ok(DashboardData { overview: (*overview).clone(), table: table_page(period, query, page_size) })
}

fn build_overview(period: &PricedPeriod) -> Result<PeriodOverview, UsageError> {
    let days = chart_totals(&period.rows)?;
    let chart_svg = if days.is_empty() {
        String::new()
    } else {
        render_daily_chart(&days).map_err(|cause| UsageError::Internal { cause: format!("chart: {cause}") })?
    };
    let breakdown = breakdown(&period.rows, period.total)?;
    Ok(PeriodOverview { summary: summarise(period), breakdown, days, chart_svg })
}

fn summarise(period: &PricedPeriod) -> PeriodSummary {
    let days: Vec<NaiveDate> =
        period.rows.iter().filter_map(|row| parse_utc(&row.timestamp)).map(|time| time.date_naive()).collect();
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
        let period = PricedPeriod::from_rows(rows);
        let data = build_dashboard(&period, &TableQuery::default(), 100).unwrap();
        assert_eq!(
            data.overview.summary,
            PeriodSummary {
                first_day: Some("29-04-2024".into()),
                last_day: Some("01-05-2024".into()),
                total_credits: Credits::from_hundredths(8350),
                message_count: 3,
                report_priced_count: 1,
            }
        );
        assert_eq!(data.overview.days.len(), 3);
        assert_eq!(data.table.rows[1].time, "29-04-2024 02:08");
        assert!(data.overview.chart_svg.starts_with("<svg"));
    }

    #[test]
    fn an_empty_period_has_no_chart() {
        let period = PricedPeriod::from_rows(Vec::new());
        let overview = build_dashboard(&period, &TableQuery::default(), 100).unwrap().overview;
        assert_eq!((overview.summary.first_day, overview.days.len(), overview.chart_svg.as_str()), (None, 0, ""));
    }

    #[test]
    fn the_overview_is_built_once_per_period() {
        let period = PricedPeriod::from_rows(vec![row("2024-05-01T10:00:00Z", 440, None)]);
        let first = period.overview(build_overview).unwrap();
        let again = period.overview(|_| panic!("built a second time")).unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &again));
    }
}
