//! The billing period and its budget: the cycle the configuration defines (so a period's end is known), the
//! projection of the period's end from its pace, with a range, and the alerts that warn before the budget is
//! gone.

pub mod alerts;
pub mod cycle;
pub mod projection;

use crate::money::Credits;
use crate::server::history::archive::{period_id, period_start};
use crate::server::pricing::priced_period::PricedPeriod;
use cycle::BillingCycle;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use projection::{project, Projection};

/// What the budget is measured against: the configured cycle and budget.
#[derive(Clone, Copy, Debug, Default)]
pub struct BudgetSettings {
    pub cycle: Option<BillingCycle>,
    pub budget: Option<Credits>,
}

/// The period's bounds and projection. `past`: a period the upstream has moved on from, final whatever its
/// cycle says.
pub fn projection(period: &PricedPeriod, zone: &TimeZone, settings: &BudgetSettings, past: bool) -> Option<Bounded> {
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
    let projection = project(&usage, zone, start, end, fetched_at, settings.budget);
    Some(Bounded { start, end, projection })
}

/// A projection with the bounds it was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounded {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub projection: Projection,
}
