use crate::figures;
use crate::money::Credits;
use crate::page_data::DayTotal;
use crate::view_query::{ViewQuery, FOLLOWS_SORT};
use leptos::prelude::*;

/// The per-day chart (per week for a long period). The SVG comes from the server (charts-rs is not in the
/// WASM); the totals are repeated as a list for screen readers.
#[component]
///
/// Days still to come (projected at the pace so far) are drawn lighter and listed as projected; a budget's daily
/// allowance is a dashed line, and said in words under the chart.
pub fn UsageChart(
    days: Vec<DayTotal>,
    svg: String,
    view: ViewQuery,
    allowance: Option<Credits>,
    /// The unusual days, `YYYY-MM-DD`, with their excess: said in the day list, as the chart marks them.
    #[prop(optional)]
    unusual: Vec<(String, Credits)>,
) -> impl IntoView {
    let weekly = days.first().is_some_and(|bar| bar.days > 1);
    let projected = days.iter().any(|bar| bar.projected);
    let title = if weekly { "Credits per week" } else { "Credits per day" };
    let body = if days.is_empty() {
        view! { <p class="empty">"No usage yet in this period."</p> }.into_any()
    } else {
        view! {
            <div class="chart-scroll">
                <div class="chart-svg" role="img" aria-label=format!("Bar chart of {}", title.to_lowercase()) inner_html=svg></div>
            </div>
            // Shown to screen readers, and to keyboard users once a day in it has focus.
            <ol class="visually-hidden-until-focus chart-days">
                {days
                    .into_iter()
                    .map(|bar| {
                        let credits = figures::amount(bar.credits);
                        let text = if bar.days > 1 {
                            format!("Week from {}: {credits} credits", bar.day)
                        } else if bar.projected {
                            format!("{}: projected {credits} credits", bar.day)
                        } else {
                            format!("{}: {credits} credits", bar.day)
                        };
                        let text = match unusual.iter().find(|(day, _)| *day == bar.iso_day) {
                            Some((_, impact)) => format!("{text}, unusual: {} above the usual", figures::amount(*impact)),
                            None => text,
                        };
                        let selected = view.day.as_deref() == Some(bar.iso_day.as_str());
                        // A week has no single day to link to, and a day to come no messages.
                        let entry = if bar.days > 1 || bar.projected {
                            text.into_any()
                        } else {
                            let href = view.with_day(Some(bar.iso_day.clone())).href();
                            view! { <a href=href class=FOLLOWS_SORT aria-current=selected.then_some("date")>{text}</a> }
                                .into_any()
                        };
                        view! {
                            <li data-day=bar.day.clone() data-credits=bar.credits.to_string() class:selected=selected class:projected=bar.projected>
                                {entry}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {(allowance.is_some() || projected).then(|| {
                let line = allowance.map(|allowance| {
                    format!("Dashed line: the budget's daily allowance, {} credits a day.", figures::amount(allowance))
                });
                let bars = projected.then_some("Lighter bars: the days to come, at the pace so far.");
                view! {
                    <p class="chart-legend-text" id="chart-allowance">
                        {line.into_iter().chain(bars.map(str::to_owned)).collect::<Vec<_>>().join(" ")}
                    </p>
                }
            })}
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
