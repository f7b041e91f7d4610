//! The messages table: the page's one island. The server renders the page of rows the URL asks for; once
//! hydrated, sorting and paging happen in place (`navigation`), each click fetching one page through the
//! table's server function (`table_page`).

mod navigation;
pub mod table_page;

use crate::figures;
use crate::page_data::{TablePage, TableRow};
use crate::sorting::{SortColumn, SortDirection};
use crate::view_query::ViewQuery;
use leptos::prelude::*;
use navigation::{mark_hydrated, Navigator, Place};

/// The id of the notice, outside the table, that a paging walk's version is gone.
pub const REFRESHED_NOTICE: &str = "data-refreshed";

#[island]
pub fn UsageTable(initial: TablePage) -> impl IntoView {
    let navigator = Navigator::new(initial);
    navigator.follow_back_and_forward();
    mark_hydrated();
    let (page, asked) = (navigator.page, navigator.asked);

    let rows = move || {
        page.with(|page| {
            if page.rows.is_empty() {
                view! {
                    <tr role="row">
                        <td role="cell" colspan="4" class="empty">"No usage yet in this period."</td>
                    </tr>
                }
                .into_any()
            } else {
                page.rows.iter().map(table_row).collect_view().into_any()
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="usage-table-title" id="usage-table-card">
            <h2 id="usage-table-title">"Messages"</h2>
            <p class="table-caption">
                <span id="table-range">{move || page.with(range_text)}</span>
                // The filters also narrow the header and the breakdown, which are not part of this island: removing
                // one loads the page.
                {move || page.with(|page| page.day.clone()).map(|day| {
                    let without = asked.with(|view| view.with_day(None)).href();
                    view! {
                        <a class="chip" id="day-chip" href=without>
                            {day}
                            <span aria-hidden="true">" ✕"</span>
                            <span class="visually-hidden">", show every day"</span>
                        </a>
                    }
                })}
                {move || asked.with(|view| view.report.clone()).map(|filter| {
                    let without = asked.with(|view| view.with_report(None)).href();
                    view! {
                        <a class="chip" id="report-chip" href=without>
                            {filter.label().to_owned()}
                            <span aria-hidden="true">" ✕"</span>
                            <span class="visually-hidden">", remove this filter"</span>
                        </a>
                    }
                })}
                <span id="data-as-of">{move || page.with(|page| format!("Data as of {}", page.as_of))}</span>
                <a id="export-csv" href=move || page.with(|page| page.view.href_to("/usage.csv", false)) download>
                    "Export CSV"
                </a>
            </p>
            <LoadFailureNotice navigator place=Place::Header/>
            <div class="table-scroll">
                <table id="usage-table" role="table" aria-busy=move || navigator.loading.get().to_string()>
                    <thead role="rowgroup">
                        <tr role="row">
                            <th role="columnheader" scope="col" class="numeric">"Message ID"</th>
                            <th role="columnheader" scope="col">{move || page.with(|page| format!("Timestamp ({})", page.zone))}</th>
                            <SortableHeader column=SortColumn::ReportName label="Report Name" navigator/>
                            <SortableHeader column=SortColumn::CreditsUsed label="Credits Used" navigator numeric=true/>
                        </tr>
                    </thead>
                    <tbody role="rowgroup">{rows}</tbody>
                </table>
            </div>
            <LoadFailureNotice navigator place=Place::Pager/>
            <Pager navigator/>
        </section>
    }
}

/// Why the page asked for at `place` could not be loaded, with a retry; the table keeps the rows it had.
#[component]
fn LoadFailureNotice(navigator: Navigator, place: Place) -> impl IntoView {
    move || {
        navigator.failure.get().filter(|failure| failure.place == place).map(|failure| {
            view! {
                <p class="table-error" role="alert" data-place=place.name()>
                    {format!("This page could not be loaded: {} ", failure.message)}
                    <a href=failure.view.href() on:click=move |event| {
                        event.prevent_default();
                        navigator.retry();
                    }>"Retry"</a>
                </p>
            }
        })
    }
}

/// A row; its credits open the explanation of how they were reached (a `<details>`: keyboard and no-JS too).
fn table_row(row: &TableRow) -> impl IntoView {
    view! {
        <tr role="row">
            <td role="cell" class="numeric">{row.message_id}</td>
            <td role="cell" class="timestamp">{row.time.clone()}</td>
            <td role="cell">{row.report_name.clone()}</td>
            <td role="cell" class="numeric credits">
                <details>
                    <summary>{figures::amount(row.credits)}</summary>
                    <p class="explanation">{row.explanation.clone()}</p>
                </details>
            </td>
        </tr>
    }
}

/// "Rows 101–200 of 100 000".
fn range_text(page: &TablePage) -> String {
    if page.total_rows == 0 {
        return "No rows".to_owned();
    }
    let last = page.first_row + page.rows.len() - 1;
    format!("Rows {}–{} of {}", figures::count(page.first_row), figures::count(last), figures::count(page.total_rows))
}

/// A header that links to its next sort state (from page 1).
#[component]
fn SortableHeader(
    column: SortColumn,
    label: &'static str,
    navigator: Navigator,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let asked = navigator.asked;
    let state = move || asked.with(|view| view.sort.state_of(column));
    let several_keys = move || asked.with(|view| view.sort.keys().len() > 1);
    let aria_sort = move || state().map_or("none", |(direction, _)| direction.aria_sort());
    let indicator = move || match state() {
        Some((SortDirection::Ascending, _)) => "▲",
        Some((SortDirection::Descending, _)) => "▼",
        None => "↕",
    };
    let priority = move || {
        state()
            .filter(|_| several_keys())
            .map(|(_, priority)| view! { <span class="sort-priority" title="Sort priority">{priority}</span> })
    };
    let description = move || match state() {
        Some((direction, priority)) => format!(", sorted {}, priority {priority}", direction.aria_sort()),
        None => ", not sorted".to_owned(),
    };
    let next = move || asked.with(|view| view.toggled(column));
    view! {
        <th role="columnheader" scope="col" class:numeric=numeric aria-sort=aria_sort data-column=column.url_name()>
            <a
                class="sort-link"
                href=move || next().href()
                on:click=move |event| navigator.follow(&event, asked.with_untracked(|view| view.toggled(column)), Place::Header)
            >
                <span>{label}</span>
                <span class="visually-hidden">{description}</span>
                <span class="sort-indicator" aria-hidden="true">{indicator}</span>
                {priority}
            </a>
        </th>
    }
}

/// First / previous / next / last, as links where they lead somewhere.
#[component]
fn Pager(navigator: Navigator) -> impl IntoView {
    let (page, asked) = (navigator.page, navigator.asked);
    let link = move |label: &'static str, rel: &'static str, target: fn(u32, u32) -> Option<u32>| {
        move || {
            let (current, count) = page.with(|page| (page.view.page, page.page_count));
            match target(current, count).filter(|&to| to != current) {
                Some(to) => {
                    let next: ViewQuery = asked.with(|view| view.at_page(to));
                    view! {
                        <a
                            href=next.href()
                            rel=rel
                            data-page=to
                            on:click=move |event| navigator.follow(&event, next.clone(), Place::Pager)
                        >
                            {label}
                        </a>
                    }
                    .into_any()
                }
                None => view! { <span aria-disabled="true">{label}</span> }.into_any(),
            }
        }
    };
    view! {
        <nav class="pager" aria-label="Table pages">
            {link("« First", "first", |_, _| Some(1))}
            {link("‹ Previous", "prev", |current, _| current.checked_sub(1).filter(|&to| to >= 1))}
            <span class="pager-position" id="page-position">
                {move || page.with(|page| format!("Page {} of {}", figures::count(page.view.page as usize), figures::count(page.page_count as usize)))}
            </span>
            {link("Next ›", "next", |current, count| Some(current + 1).filter(|&to| to <= count))}
            {link("Last »", "last", |_, count| Some(count))}
        </nav>
    }
}
