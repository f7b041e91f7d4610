use crate::view::DayTotal;
use leptos::prelude::*;

/// The per-day chart (per week for a long period). The SVG comes from the server (charts-rs is not in the
/// WASM); the totals are repeated as a list for screen readers.
#[component]
pub fn UsageChart(days: Vec<DayTotal>, svg: String) -> impl IntoView {
    let weekly = days.first().is_some_and(|bar| bar.days > 1);
    let title = if weekly { "Credits per week" } else { "Credits per day" };
    let body = if days.is_empty() {
        view! { <p class="empty">"No usage yet in this period."</p> }.into_any()
    } else {
        view! {
            <div class="chart-scroll">
                <div class="chart-svg" role="img" aria-label=format!("Bar chart of {}", title.to_lowercase()) inner_html=svg></div>
            </div>
            <ol class="visually-hidden chart-days">
                {days
                    .into_iter()
                    .map(|bar| {
                        let label = if bar.days > 1 { format!("Week from {}", bar.day) } else { bar.day.clone() };
                        view! {
                            <li data-day=bar.day.clone() data-credits=bar.credits.to_string()>
                                {format!("{label}: {} credits", bar.credits)}
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
            <h2 id="usage-chart-title">{title}</h2>
            {body}
        </section>
    }
}
