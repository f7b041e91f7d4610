//! The billing period and its budget: the cycle the configuration defines (so a period's end is known), the
//! projection of the period's end from its pace, with a range, and the alerts that warn before the budget is
//! gone.

pub mod alert_ledger;
pub mod alert_policy;
pub mod alert_sender;
pub mod alerts;
pub mod cycle;
pub mod projection;
pub mod webhook_signature;

use crate::money::Credits;
use crate::server::config::{Config, KeyError};
use crate::server::history::archive::{period_id, period_start};
use crate::server::pricing::priced_period::PricedPeriod;
use cycle::BillingCycle;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use projection::{project, Projection};
use std::collections::BTreeMap;

/// What the budget is measured against: the configured cycle and budget.
#[derive(Clone, Debug, Default)]
pub struct BudgetSettings {
    pub cycle: Option<BillingCycle>,
    pub budget: Option<Credits>,
}

impl BudgetSettings {
    /// The cycle and budget `config` names, checked.
    pub fn from_config(config: &Config) -> Result<Self, KeyError> {
        let cycle =
            BillingCycle::parse(&config.billing_cycle_anchor, &config.billing_interval, &config.billing_time_zone)?;
        let budget = config.budget()?;
        Ok(BudgetSettings { cycle, budget })
    }
}

/// The period's bounds and projection. `past`: a period the upstream has moved on from, final whatever its
/// cycle says.
pub fn projection(period: &PricedPeriod, zone: &TimeZone, settings: &BudgetSettings, past: bool) -> Option<Bounded> {
    let latest = *period.times.iter().max()?;
    let (start, end) = match &settings.cycle {
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

/// Every billing period the data has usage in, oldest first, each named as the alert ledger names it (the
/// cycle's first day, or the period's id without a cycle) with its bounds and projection: a period the
/// upstream still lists can hold the last messages of a cycle that has just ended.
pub fn periods_with_usage(period: &PricedPeriod, settings: &BudgetSettings) -> Vec<(String, Bounded)> {
    let utc = TimeZone::UTC;
    let Some(cycle) = &settings.cycle else {
        let current = period_id(period).zip(projection(period, &utc, settings, false));
        return current.into_iter().collect();
    };
    let cycles: BTreeMap<Timestamp, Timestamp> = period
        .times
        .iter()
        .map(|time| {
            let bounds = cycle.period_containing(*time);
            (bounds.start, bounds.end)
        })
        .collect();
    let usage: Vec<(Timestamp, Credits)> =
        period.times.iter().copied().zip(period.rows.iter().map(|row| row.credits_used)).collect();
    cycles
        .into_iter()
        .map(|(start, end)| {
            let projection = project(&usage, &utc, start, Some(end), period.fetched_at, settings.budget);
            (cycle.period_key(start), Bounded { start, end: Some(end), projection })
        })
        .collect()
}

/// A projection with the bounds it was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounded {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub projection: Projection,
}
