use crate::figures;
use crate::view::PeriodSummary;
use leptos::prelude::*;

/// The billing period's headline figures.
#[component]
pub fn PeriodHeader(summary: PeriodSummary, day: Option<String>) -> impl IntoView {
    let period = match (summary.first_day, summary.last_day) {
        (Some(first), Some(last)) if first == last => view! { <span class="nowrap">{first}</span> }.into_any(),
        (Some(first), Some(last)) => view! {
            <span class="nowrap">{first}</span>
            " → "
            <span class="nowrap">{last}</span>
        }
        .into_any(),
        _ => "No usage yet".into_any(),
    };
    view! {
        <dl class="kpis" id="period-summary">
            <div class="kpi">
                <dt>{if day.is_some() { "Day" } else { "Billing period" }}</dt>
                <dd data-kpi="period">{period}</dd>
            </div>
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
