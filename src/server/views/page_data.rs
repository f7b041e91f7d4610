//! The dashboard's data, assembled on the server from a period's views and a checked view: the overview
//! (kept per period, zone and day) with the chart's bars linked to this view's days, and the table page the
//! URL asks for.

use super::budget::{budget_view, forecast};
use super::chart::{escape_attribute, link_bars, BarLink};
use super::checked_view::CheckedView;
use super::derived::Derived;
use super::table::table_page;
use super::zones::{format_day, zone_names};
use crate::page_data::{DashboardData, ShownZone};
use crate::server::billing::BudgetSettings;
use crate::server::error::UsageError;
use std::sync::{Arc, LazyLock};

/// The zone picker's suggestions as HTML, written once per process: about 420 names, 35 KB that used to be
/// built anew for every page.
static ZONE_SUGGESTIONS: LazyLock<Arc<str>> = LazyLock::new(|| {
    zone_names()
        .iter()
        .map(|name| format!("<option value=\"{}\"></option>", escape_attribute(name)))
        .collect::<String>()
        .into()
});

/// `past`: a period the upstream has moved on from.
pub fn build_dashboard(
    views: &Derived,
    view: &CheckedView,
    page_size: usize,
    budget: &BudgetSettings,
    past: bool,
    unusual: Option<crate::contract::UsageAnomalies>,
) -> Result<DashboardData, UsageError> {
    let forecast = forecast(views, &view.zone, budget, past);
    let overview = views.overview(view, forecast.as_ref())?;
    // The bars link to their days with the rest of this view's state, so the links are this request's.
    // A week's bar has no single day to link to.
    let selected = view.day.map(|day| day.to_string());
    let chart_svg = link_bars(&overview.chart_svg, |label| {
        let bar = overview.days.iter().find(|bar| bar.day == label && bar.days == 1 && !bar.projected)?;
        let href = view.query.with_day(Some(bar.iso_day.clone())).href();
        let selected = selected.as_deref() == Some(bar.iso_day.as_str());
        let unusual = unusual.as_ref().is_some_and(|found| found.days.iter().any(|day| day.date == bar.iso_day));
        Some(BarLink { href, selected, unusual })
    });
    let zone = ShownZone {
        name: view.zone.name.clone(),
        offset: view.zone.offset_label(jiff::Timestamp::now()),
        unknown: view.unknown_zone.clone(),
        suggestions_html: ZONE_SUGGESTIONS.clone(),
    };
    Ok(DashboardData {
        view: view.query.clone(),
        overview,
        chart_svg,
        table: table_page(views, view, page_size),
        zone,
        day: view.day.map(format_day),
        budget: budget_view(views, &view.zone, budget, past),
        unusual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;
    use crate::money::Credits;
    use crate::page_data::HeaderFigures;
    use crate::server::pricing::priced_period::PricedPeriod;
    use crate::view_query::ViewQuery;

    fn row(timestamp: &str, hundredths: i64, report_name: Option<&str>) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: timestamp.into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    fn dashboard(period: &Derived, query: &str) -> DashboardData {
        let view = CheckedView::resolve(&ViewQuery::from_query(query));
        build_dashboard(period, &view, 100, &BudgetSettings::default(), false, None).unwrap()
    }

    fn period() -> Derived {
        Derived::new(Arc::new(PricedPeriod::from_rows(vec![
            row("2024-05-01T10:00:00Z", 440, None),
            row("2024-04-29T02:08:29Z", 7900, Some("Tenant Obligations Report")),
            row("2024-05-01T11:00:00Z", 10, None),
        ])))
    }

    #[test]
    fn summary_counts_and_totals_exactly() {
        let data = dashboard(&period(), "");
        assert_eq!(
            data.overview.summary,
            HeaderFigures {
                first_day: Some("29-04-2024".into()),
                last_day: Some("01-05-2024".into()),
                total_credits: Credits::from_hundredths(8350),
                message_count: 3,
                report_priced_count: 1,
            }
        );
        assert_eq!(data.overview.days.len(), 3);
        assert_eq!(data.table.rows[1].time, "29-04-2024 02:08");
        assert!(data.chart_svg.starts_with("<svg"));
        assert!(data.chart_svg.contains("<a href=\"/?day=2024-04-30\""), "every bar links to its day");
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
        assert!(data.chart_svg.contains("class=\"bar-link follows-sort selected\""));
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
        let data = dashboard(&Derived::new(Arc::new(PricedPeriod::from_rows(Vec::new()))), "");
        let overview = &data.overview;
        assert_eq!((&overview.summary.first_day, overview.days.len(), data.chart_svg.as_str()), (&None, 0, ""));
    }

    #[test]
    fn the_zone_suggestions_are_written_once_for_every_page() {
        let (first, second) = (dashboard(&period(), ""), dashboard(&period(), "tz=Europe/London"));
        assert!(Arc::ptr_eq(&first.zone.suggestions_html, &second.zone.suggestions_html));
        assert!(first.zone.suggestions_html.contains("<option value=\"America/New_York\"></option>"));
    }
}
