use crate::figures;
use crate::page_data::{Comparison, PastPeriods};
use crate::view_query::{ViewQuery, FOLLOWS_SORT};
use leptos::prelude::*;

/// The billing periods the page can show: the current one and those the history store keeps, each a link (no
/// JavaScript needed) that keeps the zone and the sort. Says so when past periods cannot be listed.
#[component]
pub fn PeriodPicker(periods: PastPeriods, view: ViewQuery) -> impl IntoView {
    let items = periods
        .choices
        .iter()
        .map(|choice| {
            let href = view.with_period(choice.id.clone()).href();
            let name = match (&choice.id, &choice.days) {
                (None, _) => "Current period".to_owned(),
                (Some(_), Some(days)) => days.clone(),
                (Some(id), None) => format!("From {id}"),
            };
            let figures = match (choice.message_count, choice.total_credits) {
                (Some(messages), Some(credits)) => {
                    let days =
                        if choice.id.is_none() { choice.days.clone().map(|days| format!("{days} · ")) } else { None };
                    Some(format!(
                        "{}{} messages · {} credits",
                        days.unwrap_or_default(),
                        figures::count(messages),
                        figures::amount(credits)
                    ))
                }
                _ => None,
            };
            view! {
                <li class:shown=choice.shown data-period=choice.id.clone().unwrap_or_else(|| "current".into())>
                    <a href=href class=FOLLOWS_SORT aria-current=choice.shown.then_some("page")>{name}</a>
                    {figures.map(|text| view! { <span class="period-figures">{text}</span> })}
                </li>
            }
        })
        .collect_view();
    let note = periods.note.map(|note| view! { <p class="notice" id="history-note">{note}</p> });
    view! {
        <nav class="card period-picker" id="period-picker" aria-labelledby="period-picker-title">
            <h2 id="period-picker-title">"Billing periods"</h2>
            <ul>{items}</ul>
            {note}
        </nav>
    }
}

/// The period shown against the previous one at the same point, in words that cannot be misread.
#[component]
pub fn PeriodComparison(comparison: Option<Comparison>, note: Option<String>) -> impl IntoView {
    let text = match (comparison, note) {
        (Some(comparison), _) => comparison_words(&comparison),
        (None, Some(note)) => note,
        (None, None) => return None,
    };
    Some(view! { <p class="comparison" id="period-comparison">{text}</p> })
}

/// "+12.4 % against the same 6 days 4 hours of the previous period (01-04-2024 → 28-04-2024): 112.40
/// credits so far, against 100.00 then; the previous period used 250.00 in all."
pub fn comparison_words(comparison: &Comparison) -> String {
    let period = format!("the previous period ({})", comparison.previous_days);
    let all = format!("it used {} credits in all", figures::amount(comparison.previous_total));
    let so_far = figures::amount(comparison.to_date);
    match (comparison.change_permille, &comparison.elapsed) {
        (Some(change), elapsed) => {
            let sign = if change < 0 { "−" } else { "+" };
            let magnitude = change.unsigned_abs();
            let percent = format!("{sign}{}.{} %", magnitude / 10, magnitude % 10);
            match elapsed {
                Some(elapsed) => format!(
                    "{percent} against the same {elapsed} of {period}: {so_far} credits so far, against {} then; {all}.",
                    figures::amount(comparison.previous_to_date),
                ),
                None => format!("{percent} against the whole of {period}: {so_far} credits so far; {all}."),
            }
        }
        (None, Some(elapsed)) => {
            format!("{so_far} credits so far; {period} had no usage in its first {elapsed}, and {all}.")
        }
        (None, None) => format!("{so_far} credits so far; {period} had no usage at all."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Credits;

    fn comparison(change_permille: Option<i64>) -> Comparison {
        Comparison {
            elapsed: Some("6 days 4 hours".into()),
            to_date: Credits::from_hundredths(11_240),
            previous_to_date: Credits::from_hundredths(10_000),
            previous_total: Credits::from_hundredths(250_000),
            change_permille,
            previous_days: "01-04-2024 → 28-04-2024".into(),
        }
    }

    #[test]
    fn a_comparison_reads_as_a_signed_percentage_with_its_figures() {
        assert_eq!(
            comparison_words(&comparison(Some(124))),
            "+12.4 % against the same 6 days 4 hours of the previous period (01-04-2024 → 28-04-2024): 112.40 \
             credits so far, against 100.00 then; it used 2\u{202F}500.00 credits in all."
        );
        assert!(comparison_words(&comparison(Some(-5))).starts_with("−0.5 % against the same"));
        assert_eq!(
            comparison_words(&comparison(None)),
            "112.40 credits so far; the previous period (01-04-2024 → 28-04-2024) had no usage in its first 6 days \
             4 hours, and it used 2\u{202F}500.00 credits in all."
        );
        let whole = Comparison { elapsed: None, ..comparison(Some(-550)) };
        assert_eq!(
            comparison_words(&whole),
            "−55.0 % against the whole of the previous period (01-04-2024 → 28-04-2024): 112.40 credits so far; it \
             used 2\u{202F}500.00 credits in all."
        );
    }
}
