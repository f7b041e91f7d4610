use crate::contract::UsageRow;
use crate::sorting::{SortColumn, SortDirection, SortSpec};
use crate::ui::sort_state::{follow_sort_link, DASHBOARD_PATH};
use leptos::prelude::*;
use std::sync::Arc;

/// The messages table. Its order follows the URL's sort state; rows are keyed by their upstream position,
/// so a new sort moves existing rows instead of rebuilding them. `times` holds each row's formatted time.
#[component]
pub fn UsageTable(rows: Vec<UsageRow>, times: Vec<String>, sort: RwSignal<SortSpec>) -> impl IntoView {
    let rows = Arc::new(rows);
    let empty_note = rows.is_empty().then(|| {
        view! {
            <tr>
                <td colspan="4" class="empty">"No usage yet in this period."</td>
            </tr>
        }
    });
    let order = {
        let rows = Arc::clone(&rows);
        move || sort.with(|spec| spec.order(&rows))
    };
    let row_view = move |index: usize| {
        let row = &rows[index];
        view! {
            <tr>
                <td class="numeric">{row.message_id}</td>
                <td class="timestamp">{times.get(index).cloned()}</td>
                <td>{row.report_name.clone()}</td>
                <td class="numeric">{row.credits_used.to_string()}</td>
            </tr>
        }
    };
    view! {
        <section class="card" aria-labelledby="usage-table-title">
            <h2 id="usage-table-title">"Messages"</h2>
            <div class="table-scroll">
                <table id="usage-table">
                    <thead>
                        <tr>
                            <th scope="col" class="numeric">"Message ID"</th>
                            <th scope="col">"Timestamp (UTC)"</th>
                            <SortableHeader column=SortColumn::ReportName label="Report Name" sort/>
                            <SortableHeader column=SortColumn::CreditsUsed label="Credits Used" sort numeric=true/>
                        </tr>
                    </thead>
                    <tbody>
                        {empty_note}
                        <For each=order key=|index| *index children=row_view/>
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// A header that links to its next sort state: a plain link works before hydration and without JavaScript;
/// after hydration the same click updates the table in place.
#[component]
fn SortableHeader(
    column: SortColumn,
    label: &'static str,
    sort: RwSignal<SortSpec>,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let state = move || sort.with(|spec| spec.state_of(column));
    let several_keys = move || sort.with(|spec| spec.keys().len() > 1);
    let aria_sort = move || state().map_or("none", |(direction, _)| direction.aria_sort());
    let indicator = move || match state() {
        Some((SortDirection::Ascending, _)) => "▲",
        Some((SortDirection::Descending, _)) => "▼",
        None => "↕",
    };
    let priority = move || {
        state().filter(|_| several_keys()).map(|(_, priority)| {
            view! { <span class="sort-priority" title="Sort priority">{priority}</span> }
        })
    };
    let description = move || match state() {
        Some((direction, priority)) => format!(", sorted {}, priority {priority}", direction.aria_sort()),
        None => ", not sorted".to_owned(),
    };
    view! {
        <th scope="col" class:numeric=numeric aria-sort=aria_sort data-column=column.url_name()>
            <a
                class="sort-link"
                href=move || sort.with(|spec| spec.toggled(column).href(DASHBOARD_PATH))
                on:click=move |event| follow_sort_link(&event, sort.with_untracked(|spec| spec.toggled(column)), sort)
            >
                <span>{label}</span>
                <span class="visually-hidden">{description}</span>
                <span class="sort-indicator" aria-hidden="true">{indicator}</span>
                {priority}
            </a>
        </th>
    }
}
