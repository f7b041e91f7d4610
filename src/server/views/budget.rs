//! The budget card's figures: the period's bounds (from the billing cycle, or from the period's own start when
//! none is configured), its usage to date against the budget, and the projection of its end, in the view's zone.

use super::derived::Derived;
use super::overview::Forecast;
use super::zones::{format_day, Zone};
use crate::money::Credits;
use crate::page_data::{AlertLine, BudgetFigures};
use crate::server::billing::alert_ledger::{AlertKind, AlertRecord, AlertState};
use crate::server::billing::cycle::CycleBounds;
use crate::server::billing::projection::{RunOut, MEANINGFUL_FULL_DAYS};
use crate::server::billing::{Bounded, BudgetSettings};
use jiff::Timestamp;

/// The card, in the view's zone.
pub fn budget_view(views: &Derived, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<BudgetFigures> {
    let bounded = views.projection(zone, settings, past)?;
    let Bounded { start, end, projection } = bounded.as_ref();
    let (start, end) = (*start, *end);
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
    Some(BudgetFigures {
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
        alerts: Vec::new(),
    })
}

/// What the chart draws of where the period is heading: the days after today to the period's end at the pace
/// so far (when the projection means something), and the budget's daily allowance. `None` without a cycle.
pub fn forecast(views: &Derived, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<Forecast> {
    let bounded = views.projection(zone, settings, past)?;
    let Bounded { start, end, projection } = bounded.as_ref();
    let start = *start;
    let end = (*end)?;
    let last_day = zone.date_of(end.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap_or(end));
    let future_days = match (projection.projected, projection.pace) {
        (Some(_), Some(_)) => zone
            .date_of(projection.as_of)
            .tomorrow()
            .map(|first| first.series(jiff::ToSpan::day(1)).take_while(|day| *day <= last_day).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    // The cycle's own days (30 for a 30-day cycle), not the dates the viewer's zone happens to cut it into.
    let period_days = settings.cycle.as_ref()?.days_in(&CycleBounds { start, end });
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

/// The period's alerts as the card lists them.
pub fn alert_lines(alerts: &[AlertRecord]) -> Vec<AlertLine> {
    let utc = Zone::utc();
    alerts
        .iter()
        .map(|alert| {
            let permille = alert.key.threshold_permille;
            let what = match alert.key.kind {
                AlertKind::ProjectedOverrun => "The budget projected to be exceeded".to_owned(),
                AlertKind::Threshold => format!("{}.{} % of the budget reached", permille / 10, permille % 10),
            };
            let attempts = format!("{} attempt{}", alert.attempts, if alert.attempts == 1 { "" } else { "s" });
            let when = |ms: Option<i64>| {
                ms.and_then(|ms| Timestamp::from_millisecond(ms).ok())
                    .map(|time| format!("{} UTC", utc.format_minute(time)))
                    .unwrap_or_default()
            };
            let detail = match (alert.state, &alert.last_error) {
                (AlertState::Delivered, _) => format!("{}, {attempts}", when(alert.delivered_ms)),
                (AlertState::Failed, Some(error)) => format!("{error}, {attempts}; not retried"),
                (_, Some(error)) => format!("{error}, {attempts}; retried with backoff"),
                _ => attempts,
            };
            AlertLine { what, state: alert.state.as_str().to_owned(), detail }
        })
        .collect()
}
