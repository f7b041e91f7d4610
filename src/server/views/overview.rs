//! The overview of a period in one zone and day: the header's figures and the breakdown for the view's days,
//! the chart's bars for every day in the zone, and the chart drawn from them.

use super::breakdown::breakdown;
use super::chart::render_daily_chart;
use super::checked_view::CheckedView;
use super::day_totals::{chart_totals, with_projected_days};
use super::zones::format_day;
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::page_data::{HeaderFigures, Overview};
use crate::server::error::UsageError;
use crate::server::pricing::period_checks::credits_overflow;
use crate::server::pricing::priced_period::PricedPeriod;
use jiff::civil::Date;

/// Where the period is heading, for the chart: the days still to come, each at the pace so far, and the
/// budget's daily allowance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Forecast {
    /// The day of "as of", in the view's zone: the last day with actual figures.
    pub today: Date,
    pub future_days: Vec<Date>,
    pub pace: Credits,
    pub allowance: Option<Credits>,
}

/// `dates` holds each row's day in the view's zone.
pub fn build_overview(
    period: &PricedPeriod,
    dates: &[Date],
    view: &CheckedView,
    forecast: Option<&Forecast>,
) -> Result<Overview, UsageError> {
    let mut days = chart_totals(dates.iter().copied().zip(period.rows.iter().map(|row| row.credits_used)))?;
    if let Some(forecast) = forecast.filter(|forecast| !forecast.future_days.is_empty()) {
        days = with_projected_days(days, forecast.today, &forecast.future_days, forecast.pace);
    }
    let allowance = forecast.and_then(|forecast| forecast.allowance);
    let chart_svg = if days.is_empty() { String::new() } else { render_daily_chart(&days, allowance)? };
    // The header and the breakdown cover the view's days: all of them, or the chosen one.
    let rows: Vec<&UsageRow> =
        period.rows.iter().zip(dates).filter(|(_, date)| view.admits_date(**date)).map(|(row, _)| row).collect();
    let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).ok_or_else(credits_overflow)?;
    let (first, last) = match view.day {
        Some(day) => (Some(day), Some(day)),
        None => (dates.iter().min().copied(), dates.iter().max().copied()),
    };
    let summary = HeaderFigures {
        first_day: first.map(format_day),
        last_day: last.map(format_day),
        total_credits: total,
        message_count: rows.len(),
        report_priced_count: rows.iter().filter(|row| row.report_name.is_some()).count(),
    };
    Ok(Overview { summary, breakdown: breakdown(rows.iter().copied(), total)?, days, allowance, chart_svg })
}
