//! The budget card's figures: the period's bounds (from the billing cycle, or from the period's own start when
//! none is configured), its usage to date against the budget, and the projection of its end, in the view's zone.

use super::overview::Forecast;
use super::period_views::PeriodViews;
use super::zones::{format_day, Zone};
use crate::money::Credits;
use crate::server::billing::cycle::BillingCycle;
use crate::server::billing::projection::{project, Projection, RunOut, MEANINGFUL_FULL_DAYS};
use crate::server::history::archive::{period_id, period_start};
use crate::server::pricing::priced_period::PricedPeriod;
use crate::view::BudgetView;
use jiff::Timestamp;

/// What the budget is measured against: the configured cycle and budget.
#[derive(Clone, Copy, Debug, Default)]
pub struct BudgetSettings {
    pub cycle: Option<BillingCycle>,
    pub budget: Option<Credits>,
}

/// The period's bounds and projection. `past`: a period the upstream has moved on from, final whatever its
/// cycle says.
pub fn projection(period: &PricedPeriod, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<Bounded> {
    let latest = *period.times.iter().max()?;
    let (start, end) = match settings.cycle {
        Some(cycle) => {
            let bounds = cycle.period_containing(latest);
            (bounds.start, Some(bounds.end))
        }
        None => (period_start(&period_id(period)?)?, None),
    };
    let fetched_at = match (past, end) {
        (true, Some(end)) => period.fetched_at.max(end),
        _ => period.fetched_at,
    };
    let usage: Vec<(Timestamp, Credits)> =
        period.times.iter().copied().zip(period.rows.iter().map(|row| row.credits_used)).collect();
    let projection = project(&usage, &zone.tz, start, end, fetched_at, settings.budget);
    Some(Bounded { start, end, projection })
}

/// A projection with the bounds it was made for.
pub struct Bounded {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub projection: Projection,
}

/// The card, in the view's zone.
pub fn budget_view(views: &PeriodViews, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<BudgetView> {
    let Bounded { start, end, projection } = projection(&views.period, zone, settings, past)?;
    let day = |time: Timestamp| format_day(zone.date_of(time));
    // The last day is the one before the end's midnight (a period ends at the start of its next).
    let last_day = end.map(|end| day(end.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(end)));
    let budget = settings.budget;
    let used_permille = budget.map(|budget| permille(projection.to_date, budget));
    let remaining =
        budget.map(|budget| Credits::from_hundredths(budget.hundredths() - projection.to_date.hundredths()));
    let projection_note = match (&projection.projected, end) {
        (Some(_), _) => None,
        _ if projection.closed => {
            Some(format!("The period ended on {}: these are its final figures.", last_day.clone().unwrap_or_default()))
        }
        (None, None) => Some("The period's end is unknown (no billing cycle is configured): the pace only.".to_owned()),
        (None, Some(_)) => Some(format!(
            "Too early to project: {} full day{} so far, {MEANINGFUL_FULL_DAYS} needed.",
            projection.full_days,
            if projection.full_days == 1 { "" } else { "s" }
        )),
    };
    let run_out = projection.run_out.map(|run_out| match run_out {
        RunOut::Reached(on) => format!("The budget was used up on {}.", format_day(on)),
        RunOut::Projected(on) => format!("At this pace the budget runs out on {}.", format_day(on)),
        RunOut::NotInThisPeriod if projection.closed => "The period ended within its budget.".to_owned(),
        RunOut::NotInThisPeriod => "At this pace the budget lasts the period.".to_owned(),
        RunOut::Unknown => "Too early to say when the budget runs out.".to_owned(),
    });
    Some(BudgetView {
        first_day: day(start),
        last_day,
        closed: projection.closed,
        as_of: zone.format_minute(projection.as_of) + " " + &zone.name,
        to_date: projection.to_date,
        budget,
        used_permille,
        remaining,
        pace: projection.pace,
        full_days: projection.full_days,
        projected: projection.projected.map(|projected| (projected.total, projected.low, projected.high)),
        projection_note,
        run_out,
    })
}

/// What the chart draws of where the period is heading: the days after today to the period's end at the pace
/// so far (when the projection means something), and the budget's daily allowance. `None` without a cycle.
pub fn forecast(period: &PricedPeriod, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<Forecast> {
    let Bounded { start, end, projection } = projection(period, zone, settings, past)?;
    let end = end?;
    let last_day = zone.date_of(end.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(end));
    let future_days = match (projection.projected, projection.pace) {
        (Some(_), Some(_)) => zone
            .date_of(projection.as_of)
            .tomorrow()
            .map(|first| first.series(jiff::ToSpan::day(1)).take_while(|day| *day <= last_day).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let period_days = i64::from(zone.date_of(start).until(last_day).ok()?.get_days()) + 1;
    let allowance = settings
        .budget
        .map(|budget| Credits::from_hundredths((2 * budget.hundredths() + period_days) / (2 * period_days)));
    Some(Forecast {
        today: zone.date_of(projection.as_of),
        future_days,
        pace: projection.pace.unwrap_or_default(),
        allowance,
    })
}

/// `part ÷ whole` in tenths of a percent, rounded half up.
fn permille(part: Credits, whole: Credits) -> u32 {
    let (part, whole) = (i128::from(part.hundredths().max(0)), i128::from(whole.hundredths()));
    ((part * 2000 + whole) / (whole * 2)).min(i128::from(u32::MAX)) as u32
}
