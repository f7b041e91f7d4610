//! `/usage/anomalies`: a period's unusual days (`unusual_days.rs` judges them) from its messages and those of
//! the periods before it that the history store keeps, by day in the asked zone, each told in a sentence.

use super::choice::Periods;
use super::unusual_days::{unusual_days, DayUsage, DriverKind, Thresholds, UnusualDay, Verdict};
use super::zones::Zone;
use crate::contract::{AnomalyDay, AnomalyDriver, UsageAnomalies};
use crate::figures::amount;
use crate::server::history::archive::period_id;
use crate::server::history::Listing;
use crate::server::pricing::credit_rules::PriceBasis;
use crate::server::pricing::priced_period::PricedPeriod;
use jiff::civil::Date;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How far back the days before a period are looked for: the window, and the periods that cover it.
const LOOK_BACK_DAYS: i64 = 28;

/// What a period's unusual days depend on: its version, the zone, whether it is past, the day in progress and
/// how many periods the history store lists.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnusualKey(u64, String, bool, Option<Date>, usize);

/// The unusual days of `period`, computed once per what they depend on (the page asks at every visit).
pub async fn anomalies(periods: &Periods, period: &PricedPeriod, zone: &Zone, past: bool) -> Arc<UsageAnomalies> {
    let listed = match periods.history().map(|history| history.listing()) {
        Some(Listing::Read(listed)) => listed.len(),
        _ => 0,
    };
    let today = (!past).then(|| zone.date_of(jiff::Timestamp::now()));
    let key = UnusualKey(period.version, zone.name.clone(), past, today, listed);
    if let Some(found) = periods.unusual.get(&key) {
        return found;
    }
    let found = Arc::new(compute(periods, period, zone, past).await);
    periods.unusual.keep(key, found.clone());
    found
}

async fn compute(periods: &Periods, period: &PricedPeriod, zone: &Zone, past: bool) -> UsageAnomalies {
    let thresholds = Thresholds::default();
    let Some(first) = period.times.iter().min().map(|time| zone.date_of(*time)) else {
        return UsageAnomalies { period: None, baseline_days: 0, enough_history: false, days: Vec::new() };
    };
    let mut by_day: BTreeMap<Date, DayUsage> = BTreeMap::new();
    add_period(&mut by_day, period, zone);
    // The periods before, as the store keeps them; a store that does not answer leaves only this period's days.
    if let Some(history) = periods.history() {
        let since = first.checked_sub(jiff::Span::new().days(LOOK_BACK_DAYS + 31)).unwrap_or(first);
        if let Listing::Read(listed) = history.listing() {
            for record in listed.iter().filter(|record| record.closed_ms.is_some()) {
                let Ok(start) = record.id.parse::<Date>() else { continue };
                if start < since || start >= first || Some(record.id.clone()) == period_id(period) {
                    continue;
                }
                if let Ok(Some(earlier)) = history.past_period(&record.id).await {
                    add_period(&mut by_day, &earlier, zone);
                }
            }
        }
    }
    let days = every_day(by_day);
    let today = (!past).then(|| zone.date_of(jiff::Timestamp::now()));
    let id = period_id(period);
    match unusual_days(&days, first, today, &thresholds) {
        Verdict::NotEnoughHistory { have, .. } => {
            UsageAnomalies { period: id, baseline_days: have, enough_history: false, days: Vec::new() }
        }
        Verdict::Judged { days, history_days } => UsageAnomalies {
            period: id,
            baseline_days: history_days,
            enough_history: true,
            days: days.iter().map(shown).collect(),
        },
    }
}

/// Each row of `period` into its day.
fn add_period(by_day: &mut BTreeMap<Date, DayUsage>, period: &PricedPeriod, zone: &Zone) {
    for ((row, basis), time) in period.rows.iter().zip(&period.bases).zip(&period.times) {
        let date = zone.date_of(*time);
        let day = by_day.entry(date).or_insert_with(|| DayUsage { date: Some(date), ..DayUsage::default() });
        day.credits = day.credits.checked_add(row.credits_used).unwrap_or(day.credits);
        match (&row.report_name, basis) {
            (Some(name), _) => {
                let entry = day.reports.entry(name.clone()).or_default();
                *entry = (entry.0 + 1, entry.1.checked_add(row.credits_used).unwrap_or(entry.1));
            }
            (None, PriceBasis::Text { charge, .. }) => {
                day.text_messages += 1;
                day.text_characters += charge.characters;
                day.text_credits = day.text_credits.checked_add(row.credits_used).unwrap_or(day.text_credits);
            }
            (None, PriceBasis::Report { .. }) => {}
        }
    }
}

/// Every day from the first to the last, those without messages as zero.
fn every_day(by_day: BTreeMap<Date, DayUsage>) -> Vec<DayUsage> {
    let (Some(&first), Some(&last)) = (by_day.keys().next(), by_day.keys().next_back()) else { return Vec::new() };
    let mut days = Vec::new();
    let mut date = first;
    loop {
        days.push(by_day.get(&date).cloned().unwrap_or(DayUsage { date: Some(date), ..DayUsage::default() }));
        match date.tomorrow() {
            Ok(next) if date < last => date = next,
            _ => break,
        }
    }
    days
}

fn shown(day: &UnusualDay) -> AnomalyDay {
    AnomalyDay {
        date: day.date.to_string(),
        credits: day.credits,
        baseline: day.baseline,
        impact: day.impact,
        ratio: day.ratio.map(|ratio| (ratio * 10.0).round() / 10.0),
        ongoing: day.ongoing,
        explanation: explanation(day),
        drivers: day
            .drivers
            .iter()
            .map(|driver| {
                let (kind, name) = match &driver.kind {
                    DriverKind::Report { name, .. } => ("report", Some(name.clone())),
                    DriverKind::TextCount { .. } => ("text_count", None),
                    DriverKind::TextLength => ("text_length", None),
                };
                AnomalyDriver {
                    kind: kind.to_owned(),
                    name,
                    credits: driver.credits,
                    baseline: driver.baseline,
                    impact: driver.impact,
                }
            })
            .collect(),
    }
}

/// `+412.00 credits above the usual 96.40 (5.3×): 5 Tenant Obligations Reports (+316.00, usually none), more
/// text messages than usual (+40.00: 90, usually 50).`
pub fn explanation(day: &UnusualDay) -> String {
    let times = day.ratio.map(|ratio| format!(" ({ratio:.1}×)")).unwrap_or_default();
    let so_far = if day.ongoing { " so far" } else { "" };
    let head = format!("+{} credits above the usual {}{times}{so_far}", amount(day.impact), amount(day.baseline));
    let causes: Vec<String> = day
        .drivers
        .iter()
        .map(|driver| match &driver.kind {
            DriverKind::Report { name, messages, usual_messages } => {
                let usually = match usual_messages {
                    0 => "usually none".to_owned(),
                    count => format!("usually {count}"),
                };
                format!("{messages} × {name} (+{}, {usually})", amount(driver.impact))
            }
            DriverKind::TextCount { messages, usual_messages } => format!(
                "more text messages than usual (+{}: {messages}, usually {usual_messages})",
                amount(driver.impact)
            ),
            DriverKind::TextLength => format!("longer text messages than usual (+{})", amount(driver.impact)),
        })
        .collect();
    match causes.is_empty() {
        true => format!("{head}."),
        false => format!("{head}: {}.", causes.join(", ")),
    }
}
