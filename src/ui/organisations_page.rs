//! The operators' list of every organisation: its name (a link to its dashboard), its current period's total
//! as last fetched, that total against its budget, and the last failure its usage was answered with. Read from
//! what is kept: the list never fetches an upstream, so a thousand organisations cost no upstream call.

use super::notice_page::standalone_page;
use leptos::prelude::*;

/// One organisation's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrganisationLine {
    pub name: String,
    pub href: String,
    /// `None` when its period has not been fetched since start.
    pub total: Option<String>,
    /// `2 639.50 of 3 000.00 (88.0 %)`; `None` without a budget or a total.
    pub budget: Option<String>,
    /// `None` when no request has failed since start.
    pub last_failure: Option<String>,
}

/// The document.
pub fn organisations_page(stylesheet: &str, lines: Vec<OrganisationLine>) -> String {
    let count = lines.len();
    let rows = lines
        .into_iter()
        .map(|line| {
            view! {
                <tr>
                    <td><a href=line.href>{line.name}</a></td>
                    <td class="numeric">{line.total.unwrap_or_else(|| "not fetched yet".into())}</td>
                    <td>{line.budget.unwrap_or_else(|| "no budget".into())}</td>
                    <td>{line.last_failure.unwrap_or_else(|| "none".into())}</td>
                </tr>
            }
        })
        .collect_view();
    let body = view! {
        <section class="card" id="organisations">
            <h1>"Organisations"</h1>
            <p>{format!("{count} organisations; totals as last fetched, no upstream asked for this list.")}</p>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Organisation"</th>
                        <th scope="col">"Period total"</th>
                        <th scope="col">"Budget"</th>
                        <th scope="col">"Last failure"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    };
    standalone_page(stylesheet, "Organisations", body)
}
