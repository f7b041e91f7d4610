use crate::figures;
use crate::page_data::{BreakdownGroup, BreakdownRow};
use crate::view_query::{ReportFilter, ViewQuery, FOLLOWS_SORT};
use leptos::prelude::*;

/// What drove the bill: one line per report name (the largest ten; the rest summed as "other reports") and
/// one for the messages priced by their text, largest first. Each name and the text-priced line link to the
/// table filtered to them (static links: they work without JavaScript).
#[component]
pub fn UsageBreakdown(lines: Vec<BreakdownRow>, view: ViewQuery) -> impl IntoView {
    let body = if lines.is_empty() {
        view! { <p class="empty">"No usage yet in this period."</p> }.into_any()
    } else {
        let rows = lines
            .into_iter()
            .map(|line| {
                let filter = match &line.group {
                    BreakdownGroup::Report(name) => Some(ReportFilter::Named(name.clone())),
                    BreakdownGroup::TextPriced => Some(ReportFilter::TextPriced),
                    BreakdownGroup::OtherReports(_) => None,
                };
                let selected = filter.is_some() && view.report == filter;
                let share = format!("{}.{} %", line.share_permille / 10, line.share_permille % 10);
                // "Other reports" has no filter of its own: its names are one sort of the table away.
                let label = match (&filter, &line.group) {
                    (Some(filter), _) => {
                        let href = view.with_report(Some(filter.clone())).href();
                        view! {
                            <a href=href class=FOLLOWS_SORT aria-current=selected.then_some("true")>
                                {filter.label().to_owned()}
                            </a>
                        }
                        .into_any()
                    }
                    (None, BreakdownGroup::OtherReports(names)) => {
                        format!("{} other reports", figures::count(*names)).into_any()
                    }
                    (None, _) => "".into_any(),
                };
                let data_report = filter.as_ref().map(|filter| filter.to_param().to_owned());
                view! {
                    <tr class:selected=selected data-report=data_report>
                        <th scope="row">{label}</th>
                        <td class="numeric">{figures::count(line.messages)}</td>
                        <td class="numeric">{figures::amount(line.credits)}</td>
                        <td class="numeric share">
                            <span class="share-bar" style=format!("--share: {}%", line.share_permille as f32 / 10.0)></span>
                            {share}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table id="breakdown-table">
                <thead>
                    <tr>
                        <th scope="col">"Report"</th>
                        <th scope="col" class="numeric">"Messages"</th>
                        <th scope="col" class="numeric">"Credits"</th>
                        <th scope="col" class="numeric">"Share"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card" id="usage-breakdown" aria-labelledby="usage-breakdown-title">
            <h2 id="usage-breakdown-title">"What drove the bill"</h2>
            {body}
        </section>
    }
}
