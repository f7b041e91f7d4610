use crate::view::BreakdownRow;
use crate::view_query::{ReportFilter, ViewQuery};
use leptos::prelude::*;

/// What drove the bill: one line per report name and one for the messages priced by their text, largest
/// first. Each line links to the table filtered to it (static links: they work without JavaScript).
#[component]
pub fn UsageBreakdown(lines: Vec<BreakdownRow>, query: ViewQuery) -> impl IntoView {
    let body = if lines.is_empty() {
        view! { <p class="empty">"No usage yet in this period."</p> }.into_any()
    } else {
        let rows = lines
            .into_iter()
            .map(|line| {
                let filter = match &line.report_name {
                    Some(name) => ReportFilter::Named(name.clone()),
                    None => ReportFilter::TextPriced,
                };
                let selected = query.report.as_ref() == Some(&filter);
                let href = query.with_report(Some(filter.clone())).href();
                let share = format!("{}.{} %", line.share_permille / 10, line.share_permille % 10);
                view! {
                    <tr class:selected=selected data-report=filter.to_param().to_owned()>
                        <th scope="row">
                            <a href=href aria-current=selected.then_some("true")>{filter.label().to_owned()}</a>
                        </th>
                        <td class="numeric">{line.messages}</td>
                        <td class="numeric">{line.credits.to_string()}</td>
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
