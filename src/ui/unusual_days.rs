//! The period's unusual days, above the table: each day's sentence (what drove it) and a link to that day's
//! drill-down; while too few earlier days are known, says so rather than guessing. Plain links: no JavaScript.

use crate::contract::{UsageAnomalies, ANOMALY_HISTORY_DAYS};
use crate::view_query::{ViewQuery, FOLLOWS_SORT};
use leptos::prelude::*;

#[component]
pub fn UnusualDays(unusual: UsageAnomalies, view: ViewQuery) -> impl IntoView {
    let body = if !unusual.enough_history {
        let (have, need) = (unusual.baseline_days, ANOMALY_HISTORY_DAYS);
        view! { <p class="empty">{format!("Not enough history yet ({have} of {need} days): no day is judged unusual.")}</p> }
            .into_any()
    } else if unusual.days.is_empty() {
        view! { <p class="empty">"No unusual day in this period."</p> }.into_any()
    } else {
        let items = unusual
            .days
            .into_iter()
            .map(|day| {
                let href = view.with_day(Some(day.date.clone())).href();
                let shown = crate::figures::day_label(&day.date);
                let so_far = day.ongoing.then_some(" (unusual so far)");
                view! {
                    <li data-unusual-day=day.date.clone()>
                        <a href=href class=FOLLOWS_SORT>{shown}</a>
                        {so_far}
                        ": "
                        {day.explanation}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="unusual-days">{items}</ul> }.into_any()
    };
    view! {
        <section class="card" id="unusual-days" aria-labelledby="unusual-days-title">
            <h2 id="unusual-days-title">"Unusual days"</h2>
            {body}
        </section>
    }
}
