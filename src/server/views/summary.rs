//! `/usage/summary`'s body, from the current period's views in a zone: the period's bounds, its days and
//! totals, the budget and the projection (the same figures as the page's budget card).

use super::derived::Derived;
use super::zones::Zone;
use crate::contract::{RunOutSummary, SummaryBudget, SummaryDay, SummaryPeriod, SummaryProjection, UsageSummary};
use crate::money::Credits;
use crate::server::billing::projection::RunOut;
use crate::server::billing::BudgetSettings;
use crate::server::error::UsageError;
use crate::server::pricing::period_checks::credits_overflow;
use jiff::civil::Date;
use std::collections::BTreeMap;

pub fn usage_summary(views: &Derived, zone: &Zone, settings: &BudgetSettings) -> Result<UsageSummary, UsageError> {
    let period = &views.period;
    let bounded = views.projection(zone, settings, false);
    let dates = views.dates_in(zone);
    let mut per_day: BTreeMap<Date, Credits> = BTreeMap::new();
    for (date, row) in dates.iter().zip(&period.rows) {
        let total = per_day.entry(*date).or_default();
        *total = total.checked_add(row.credits_used).ok_or_else(credits_overflow)?;
    }
    let days = match (per_day.keys().next(), per_day.keys().next_back()) {
        (Some(&first), Some(&last)) => first
            .series(jiff::ToSpan::day(1))
            .take_while(|day| *day <= last)
            .map(|day| SummaryDay { day: day.to_string(), credits: per_day.get(&day).copied().unwrap_or_default() })
            .collect(),
        _ => Vec::new(),
    };
    let day = |date: Date| Some(date.to_string());
    let (period_bounds, projection) = match &bounded {
        Some(bounded) => {
            let projection = &bounded.projection;
            (
                SummaryPeriod {
                    start: bounded.start.to_string(),
                    end: bounded.end.map(|end| end.to_string()),
                    as_of: projection.as_of.to_string(),
                    closed: projection.closed,
                },
                SummaryProjection {
                    full_days: projection.full_days,
                    pace_per_day: projection.pace,
                    total: projection.projected.map(|projected| projected.total),
                    low: projection.projected.map(|projected| projected.low),
                    high: projection.projected.map(|projected| projected.high),
                },
            )
        }
        None => (
            SummaryPeriod { start: String::new(), end: None, as_of: period.fetched_at.to_string(), closed: false },
            SummaryProjection { full_days: 0, pace_per_day: None, total: None, low: None, high: None },
        ),
    };
    let budget = settings.budget.map(|limit| {
        let used = bounded.as_ref().map_or(Credits::ZERO, |bounded| bounded.projection.to_date);
        let run_out = match bounded.as_ref().and_then(|bounded| bounded.projection.run_out) {
            Some(RunOut::Reached(on)) => RunOutSummary { state: "reached".into(), day: day(on) },
            Some(RunOut::Projected(on)) => RunOutSummary { state: "projected".into(), day: day(on) },
            Some(RunOut::NotInThisPeriod) => RunOutSummary { state: "not_in_this_period".into(), day: None },
            Some(RunOut::Unknown) | None => RunOutSummary { state: "unknown".into(), day: None },
        };
        SummaryBudget {
            credits: limit,
            used_permille: ((i128::from(used.hundredths().max(0)) * 2000 + i128::from(limit.hundredths()))
                / (i128::from(limit.hundredths()) * 2))
                .min(i128::from(u32::MAX)) as u32,
            remaining: Credits::from_hundredths(limit.hundredths() - used.hundredths()),
            run_out,
        }
    });
    Ok(UsageSummary {
        period: period_bounds,
        time_zone: zone.name.clone(),
        total_credits: period.total,
        messages: period.rows.len(),
        days,
        budget,
        projection,
    })
}
