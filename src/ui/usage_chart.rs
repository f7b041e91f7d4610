use crate::period::DayTotal;
use leptos::prelude::*;

/// The per-day chart. The SVG comes from the server (charts-rs is not in the WASM); the day totals are
/// repeated as a list for screen readers.
#[component]
pub fn UsageChart(days: Vec<DayTotal>, svg: String) -> impl IntoView {
    let body = if days.is_empty() {
        view! { <p class="empty">"No usage yet in this period."</p> }.into_any()
    } else {
        view! {
            <div class="chart-svg" role="img" aria-label="Bar chart of credits used per day" inner_html=svg></div>
            <ol class="visually-hidden chart-days">
                {days
                    .into_iter()
                    .map(|day| {
                        view! {
                            <li data-day=day.day.clone() data-credits=day.credits.to_string()>
                                {format!("{}: {} credits", day.day, day.credits)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
            .into_any()
    };
    view! {
        <section class="card" id="usage-chart" aria-labelledby="usage-chart-title">
            <h2 id="usage-chart-title">"Credits per day"</h2>
            {body}
        </section>
    }
}
