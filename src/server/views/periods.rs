//! The page's periods: the current one and those the history store keeps (the picker), and the period shown
//! against the one before it. Read from the store's listing as last read, so the current period's page never
//! waits on a store that is down; it says past periods are unavailable instead.

use super::comparison::{compare, days};
use super::derived::Derived;
use super::zones::{format_day, Zone};
use crate::money::Credits;
use crate::page_data::{PastPeriods, PeriodChoice};
use crate::server::history::archive::{period_id, period_start};
use crate::server::history::store::PeriodRecord;
use crate::server::history::{History, Listing};
use jiff::Timestamp;

/// `shown`: the period the page shows, and whether it was read from the store; `None` when it could not be
/// loaded (the page then still lists the past periods, which the store serves without the upstream).
pub async fn periods_view(history: Option<&History>, shown: Option<(&Derived, bool)>) -> PastPeriods {
    let past = shown.is_some_and(|(_, past)| past);
    let current_shown = shown.filter(|(_, past)| !past).map(|(views, _)| &views.period);
    let shown_id = shown.and_then(|(views, _)| period_id(&views.period));
    let current = PeriodChoice {
        id: None,
        days: current_shown.and_then(|period| days(period)),
        total_credits: current_shown.map(|period| period.total),
        message_count: current_shown.map(|period| period.rows.len()),
        shown: current_shown.is_some(),
    };
    let Some(history) = history else {
        return PastPeriods {
            choices: vec![current],
            past,
            note: Some("Past periods are not kept: no history database is configured.".into()),
            comparison: None,
            comparison_note: None,
        };
    };
    let (past_periods, note) = match history.listing() {
        Listing::Pending => (Vec::new(), Some("Past periods are being read.".to_owned())),
        Listing::Unavailable(_) => {
            (Vec::new(), Some("Past periods are unavailable right now: the history store does not answer.".into()))
        }
        Listing::Refused(reason) => (Vec::new(), Some(format!("Past periods are unavailable: {reason}"))),
        Listing::Read(periods) => {
            let closed: Vec<PeriodRecord> =
                periods.iter().filter(|period| period.closed_ms.is_some()).cloned().collect();
            let note = closed.is_empty().then(|| "No past period is kept yet.".to_owned());
            (closed, note)
        }
    };
    let mut choices = vec![current];
    choices.extend(past_periods.iter().map(|period| PeriodChoice {
        id: Some(period.id.clone()),
        days: stored_days(period),
        total_credits: Some(Credits::from_hundredths(period.total_hundredths)),
        message_count: usize::try_from(period.message_count).ok(),
        shown: past && shown_id.as_deref() == Some(period.id.as_str()),
    }));
    let (comparison, comparison_note) = match (shown, shown_id) {
        (Some((views, _)), Some(id)) => compared_with_previous(history, views, &id).await,
        _ => (None, None),
    };
    PastPeriods { choices, past, note, comparison, comparison_note }
}

async fn compared_with_previous(
    history: &History,
    shown: &Derived,
    id: &str,
) -> (Option<crate::page_data::Comparison>, Option<String>) {
    if !matches!(history.listing(), Listing::Read(_)) {
        return (None, None);
    }
    let Some(previous) = history.previous_of(id) else {
        return (None, Some("No previous period is kept to compare with.".into()));
    };
    if let Some(kept) = shown.kept_comparison(&previous.id) {
        return (kept, None);
    }
    let previous_period = match history.past_period(&previous.id).await {
        Ok(Some(period)) => period,
        Ok(None) => return (None, Some("No previous period is kept to compare with.".into())),
        Err(_) => return (None, Some("The previous period could not be read from the history store.".into())),
    };
    let comparison = match (period_start(id), period_start(&previous.id)) {
        (Some(start), Some(previous_start)) => compare(&shown.period, start, &previous_period, previous_start),
        _ => None,
    };
    shown.keep_comparison(&previous.id, comparison.clone());
    (comparison, None)
}

/// A stored period's first and last message day (UTC).
fn stored_days(period: &PeriodRecord) -> Option<String> {
    let day = |ms: i64| Timestamp::from_millisecond(ms).ok().map(|time| format_day(Zone::utc().date_of(time)));
    Some(format!("{} → {}", day(period.first_message_ms)?, day(period.last_message_ms)?))
}
