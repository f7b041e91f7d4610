//! The dashboard's data, assembled on the server from a priced period and a checked view: the overview
//! (header figures and breakdown for the view's days, the chart's bars and SVG in the view's zone), built once
//! per period, zone and day, and the table page the URL asks for.

use super::breakdown::breakdown;
use super::chart::{link_bars, render_daily_chart};
use super::day_totals::{chart_totals, total_overflow};
use super::error::UsageError;
use super::priced_period::PricedPeriod;
use super::resolved_view::ResolvedView;
use super::table::table_page;
use super::timestamps::{format_day, zone_names};
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::view::{DashboardData, PeriodOverview, PeriodSummary, ZoneView};
use std::sync::LazyLock;

/// Every zone the server knows, for the zone picker's suggestions.
static ZONE_NAMES: LazyLock<Vec<String>> = LazyLock::new(zone_names);

pub fn build_dashboard(
    period: &PricedPeriod,
    view: &ResolvedView,
    page_size: usize,
) -> Result<DashboardData, UsageError> {
    let kept = period.overview((view.zone.name.clone(), view.day), |period| build_overview(period, view))?;
    // The bars link to their days with the rest of this view's state, so the links are this request's.
    // A week's bar has no single day to link to.
    let selected = view.day.map(|day| day.to_string());
    let chart_svg = link_bars(&kept.chart_svg, |label| {
        let bar = kept.days.iter().find(|bar| bar.day == label && bar.days == 1)?;
        let href = view.query.with_day(Some(bar.iso_day.clone())).href();
        Some((href, selected.as_deref() == Some(bar.iso_day.as_str())))
    });
    let overview = PeriodOverview { chart_svg, ..(*kept).clone() };
    let zone = ZoneView {
        name: view.zone.name.clone(),
        offset: view.zone.offset_label(jiff::Timestamp::now()),
        unknown: view.unknown_zone.clone(),
        names: ZONE_NAMES.clone(),
    };
    Ok(DashboardData {
        overview,
        table: table_page(period, view, page_size),
        zone,
        query: view.query.query_string(),
        day: view.day.map(format_day),
    })
}

fn build_overview(period: &PricedPeriod, view: &ResolvedView) -> Result<PeriodOverview, UsageError> {
    let dates = period.dates_in(&view.zone);
    let days = chart_totals(dates.iter().copied().zip(period.rows.iter().map(|row| row.credits_used)))?;
    let chart_svg = if days.is_empty() {
        String::new()
    } else {
        render_daily_chart(&days).map_err(|cause| UsageError::Internal { cause: format!("chart: {cause}") })?
    };
    // The header and the breakdown cover the view's days: all of them, or the chosen one.
    let rows: Vec<&UsageRow> =
        period.rows.iter().zip(dates.iter()).filter(|(_, date)| view.admits_date(**date)).map(|(row, _)| row).collect();
    let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).ok_or_else(total_overflow)?;
    let (first, last) = match view.day {
        Some(day) => (Some(day), Some(day)),
        None => (dates.iter().min().copied(), dates.iter().max().copied()),
    };
    let summary = PeriodSummary {
        first_day: first.map(format_day),
        last_day: last.map(format_day),
        total_credits: total,
        message_count: rows.len(),
        report_priced_count: rows.iter().filter(|row| row.report_name.is_some()).count(),
    };
    Ok(PeriodOverview { summary, breakdown: breakdown(rows.iter().copied(), total)?, days, chart_svg })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_query::ViewQuery;

    fn row(timestamp: &str, hundredths: i64, report_name: Option<&str>) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: timestamp.into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    fn dashboard(period: &PricedPeriod, query: &str) -> DashboardData {
        build_dashboard(period, &ResolvedView::resolve(&ViewQuery::from_query(query)), 100).unwrap()
    }

    fn period() -> PricedPeriod {
        PricedPeriod::from_rows(vec![
            row("2024-05-01T10:00:00Z", 440, None),
            row("2024-04-29T02:08:29Z", 7900, Some("Tenant Obligations Report")),
            row("2024-05-01T11:00:00Z", 10, None),
        ])
    }

    #[test]
    fn summary_counts_and_totals_exactly() {
        let data = dashboard(&period(), "");
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
        assert!(data.overview.chart_svg.contains("<a href=\"/?day=2024-04-30\""), "every bar links to its day");
    }

    #[test]
    fn a_day_narrows_the_header_breakdown_and_table_but_not_the_chart() {
        let data = dashboard(&period(), "day=2024-05-01");
        assert_eq!(data.overview.summary.total_credits, Credits::from_hundredths(450));
        assert_eq!(
            (data.overview.summary.message_count, data.overview.summary.first_day.as_deref()),
            (2, Some("01-05-2024"))
        );
        assert_eq!(data.overview.breakdown.len(), 1);
        assert_eq!(data.overview.days.len(), 3);
        assert_eq!(data.table.total_rows, 2);
        assert_eq!(data.day.as_deref(), Some("01-05-2024"));
        assert!(data.overview.chart_svg.contains("class=\"bar-link selected\""));
        // A day outside the period: the empty state, not an error.
        let data = dashboard(&period(), "day=2023-01-01");
        assert_eq!((data.overview.summary.message_count, data.table.total_rows), (0, 0));
    }

    #[test]
    fn a_zone_moves_messages_to_its_own_days() {
        // 02:08 UTC on the 29th is the evening of the 28th in New York.
        let data = dashboard(&period(), "tz=America/New_York");
        assert_eq!(data.overview.summary.first_day.as_deref(), Some("28-04-2024"));
        assert_eq!(data.table.rows[1].time, "28-04-2024 22:08");
        assert_eq!((data.zone.name.as_str(), data.zone.unknown.as_deref()), ("America/New_York", None));
        let data = dashboard(&period(), "tz=Nowhere/Special");
        assert_eq!((data.zone.name.as_str(), data.zone.unknown.as_deref()), ("UTC", Some("Nowhere/Special")));
    }

    #[test]
    fn an_empty_period_has_no_chart() {
        let overview = dashboard(&PricedPeriod::from_rows(Vec::new()), "").overview;
        assert_eq!((overview.summary.first_day, overview.days.len(), overview.chart_svg.as_str()), (None, 0, ""));
    }

    #[test]
    fn the_overview_is_built_once_per_zone_and_day() {
        let period = period();
        let view = ResolvedView::resolve(&ViewQuery::default());
        let first = period.overview(("UTC".into(), None), |period| build_overview(period, &view)).unwrap();
        let again = period.overview(("UTC".into(), None), |_| panic!("built a second time")).unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &again));
    }
}
