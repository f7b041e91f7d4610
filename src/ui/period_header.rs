use crate::figures;
use crate::page_data::HeaderFigures;
use leptos::prelude::*;

/// The billing period's headline figures. `cycle`: the billing cycle's first and last day, when one is
/// configured: the period is then named by them (as on the budget card), and the messages' first and last day
/// are said as such.
#[component]
pub fn PeriodHeader(summary: HeaderFigures, day: Option<String>, cycle: Option<(String, String)>) -> impl IntoView {
    let span = |first: String, last: String| {
        if first == last {
            view! { <span class="nowrap">{first}</span> }.into_any()
        } else {
            view! {
                <span class="nowrap">{first}</span>
                " → "
                <span class="nowrap">{last}</span>
            }
            .into_any()
        }
    };
    let messages = match (summary.first_day.clone(), summary.last_day.clone()) {
        (Some(first), Some(last)) => span(first, last),
        _ => "No usage yet".into_any(),
    };
    let (label, period, usage) = match (day, cycle) {
        (Some(_), _) => ("Day", messages, None),
        (None, Some((first, last))) => ("Billing period", span(first, last), Some(messages)),
        (None, None) => ("Billing period", messages, None),
    };
    view! {
        <dl class="kpis" id="period-summary">
            <div class="kpi">
                <dt>{label}</dt>
                <dd data-kpi="period">{period}</dd>
            </div>
            {usage.map(|usage| view! {
                <div class="kpi">
                    <dt>"Messages from"</dt>
                    <dd data-kpi="usage-span">{usage}</dd>
                </div>
            })}
            <div class="kpi">
                <dt>"Total credits"</dt>
                <dd data-kpi="total" class="figure">{figures::amount(summary.total_credits)}</dd>
            </div>
            <div class="kpi">
                <dt>"Messages"</dt>
                <dd data-kpi="messages" class="figure">{figures::count(summary.message_count)}</dd>
            </div>
            <div class="kpi">
                <dt>"Priced by report"</dt>
                <dd data-kpi="report-priced" class="figure">{figures::count(summary.report_priced_count)}</dd>
            </div>
        </dl>
    }
}
