//! The messages table: the page's one island. The server renders the page of rows the URL asks for; after
//! hydration a click on a sort header or a page link fetches only the new page (`load_table_page`), swaps it
//! in and records the new URL with `pushState`; back and forward load the page their URL names. Before
//! hydration, or without JavaScript, the same links simply load the next page from the server.

use crate::contract::ErrorDetail;
use crate::sorting::{SortColumn, SortDirection};
use crate::view::{TablePage, TableRow};
use crate::view_query::ViewQuery;
use leptos::prelude::*;

/// One page of the table for a view (the query string of its URL): the whole period in the view's zone,
/// filtered and sorted, then cut. `POST /api/table_page` with a form body `query=…`.
#[server(endpoint = "table_page")]
pub async fn load_table_page(query: String) -> Result<TablePage, ErrorDetail> {
    use crate::server::{resolved_view::ResolvedView, table::table_page, AppState};
    let state = expect_context::<AppState>();
    let view = ResolvedView::resolve(&ViewQuery::from_query(&query));
    match state.usage.usage().await {
        Ok(period) => Ok(table_page(&period, &view, state.config.table_page_size)),
        Err(error) => Err(error.detail()),
    }
}

#[island]
pub fn UsageTable(initial: TablePage) -> impl IntoView {
    let page = RwSignal::new(initial);
    let loading = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    // The view asked for last: it changes at the click, before its page arrives, so that a second click builds
    // on the first even while the first is loading.
    let query = RwSignal::new(page.with_untracked(|page| ViewQuery::from_query(&page.query)));
    let navigator = Navigator { page, query, loading, failure, latest: StoredValue::new(0) };
    navigator.follow_back_and_forward();
    mark_hydrated();

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
                // The day also narrows the header and the breakdown, which are not part of this island: removing
                // it loads the page.
                {move || page.with(|page| page.day.clone()).map(|day| {
                    let without = query.with(|query| query.with_day(None)).href();
                    view! {
                        <a class="chip" id="day-chip" href=without rel="external">
                            {day}
                            <span aria-hidden="true">" ✕"</span>
                            <span class="visually-hidden">", show every day"</span>
                        </a>
                    }
                })}
                {move || query.with(|query| query.report.clone()).map(|filter| {
                    let without = query.with(|query| query.with_report(None));
                    view! {
                        <a
                            class="chip"
                            id="report-chip"
                            href=without.href()
                            on:click=move |event| navigator.follow(&event, without.clone())
                        >
                            {filter.label().to_owned()}
                            <span aria-hidden="true">" ✕"</span>
                            <span class="visually-hidden">", remove this filter"</span>
                        </a>
                    }
                })}
                <span id="data-as-of">{move || page.with(|page| format!("Data as of {}", page.as_of))}</span>
                <a id="export-csv" href=move || query.with(|query| query.href_to("/usage.csv", false)) download>
                    "Export CSV"
                </a>
            </p>
            <div class="table-scroll">
                <table id="usage-table" role="table" aria-busy=move || loading.get().to_string()>
                    <thead role="rowgroup">
                        <tr role="row">
                            <th role="columnheader" scope="col" class="numeric">"Message ID"</th>
                            <th role="columnheader" scope="col">{move || page.with(|page| format!("Timestamp ({})", page.zone))}</th>
                            <SortableHeader column=SortColumn::ReportName label="Report Name" query navigator/>
                            <SortableHeader column=SortColumn::CreditsUsed label="Credits Used" query navigator numeric=true/>
                        </tr>
                    </thead>
                    <tbody role="rowgroup">{rows}</tbody>
                </table>
            </div>
            {move || {
                failure.get().map(|message| {
                    view! {
                        <p class="table-error" role="alert">
                            {format!("This page could not be loaded: {message}. ")}
                            <a href=move || query.get().href() rel="external">"Reload"</a>
                        </p>
                    }
                })
            }}
            <Pager page query navigator/>
        </section>
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
                    <summary>{row.credits.to_string()}</summary>
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
    format!("Rows {}–{} of {}", group_digits(page.first_row), group_digits(last), group_digits(page.total_rows))
}

/// Digits in groups of three, separated by a narrow no-break space: 100 000.
fn group_digits(number: usize) -> String {
    let digits = number.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push('\u{202F}');
        }
        grouped.push(digit);
    }
    grouped
}

/// Swaps pages in place. `latest` numbers the loads, so that a slow answer to an earlier click never
/// replaces the page a later one asked for.
/// Only the browser navigates; the server renders the first page and never reads these.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Navigator {
    page: RwSignal<TablePage>,
    query: RwSignal<ViewQuery>,
    loading: RwSignal<bool>,
    failure: RwSignal<Option<String>>,
    latest: StoredValue<u64>,
}

impl Navigator {
    /// Follows a table link in place. Clicks that mean something else (a new tab, a download) are left to the
    /// browser, and so is everything before hydration: the link then simply loads the next view.
    fn follow(self, event: &leptos::ev::MouseEvent, next: ViewQuery) {
        let modified =
            event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
        if modified || event.default_prevented() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let Ok(history) = window().history() else { return };
            if history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&next.href())).is_err() {
                return;
            }
            event.prevent_default();
            self.load(next);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (self, next);
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn load(self, next: ViewQuery) {
        let ticket = self.latest.get_value() + 1;
        self.latest.set_value(ticket);
        self.loading.set(true);
        self.query.set(next.clone());
        leptos::task::spawn_local(async move {
            let outcome = load_table_page(next.query_string()).await;
            if self.latest.get_value() != ticket {
                return;
            }
            self.loading.set(false);
            match outcome {
                Ok(page) => {
                    self.failure.set(None);
                    // The server's view: the page clamped to the pages there are.
                    self.query.set(ViewQuery::from_query(&page.query));
                    self.page.set(page);
                }
                Err(error) => self.failure.set(Some(error.message)),
            }
        });
    }

    /// Back and forward: load the page the URL now names.
    fn follow_back_and_forward(self) {
        #[cfg(feature = "hydrate")]
        {
            let listener = window_event_listener(leptos::ev::popstate, move |_| {
                let search = window().location().search().unwrap_or_default();
                self.load(ViewQuery::from_query(search.trim_start_matches('?')));
            });
            on_cleanup(move || listener.remove());
        }
    }
}

/// A marker for the browser tests (and anyone debugging) that the table is now interactive.
fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}

/// A header that links to its next sort state (from page 1).
#[component]
fn SortableHeader(
    column: SortColumn,
    label: &'static str,
    query: RwSignal<ViewQuery>,
    navigator: Navigator,
    #[prop(optional)] numeric: bool,
) -> impl IntoView {
    let state = move || query.with(|query| query.sort.state_of(column));
    let several_keys = move || query.with(|query| query.sort.keys().len() > 1);
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
    view! {
        <th role="columnheader" scope="col" class:numeric=numeric aria-sort=aria_sort data-column=column.url_name()>
            <a
                class="sort-link"
                href=move || query.with(|query| query.toggled(column).href())
                on:click=move |event| navigator.follow(&event, query.with_untracked(|query| query.toggled(column)))
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
fn Pager(page: RwSignal<TablePage>, query: RwSignal<ViewQuery>, navigator: Navigator) -> impl IntoView {
    let link = move |label: &'static str, rel: &'static str, target: fn(u32, u32) -> Option<u32>| {
        move || {
            let (current, count) = page.with(|page| (page.page, page.page_count));
            match target(current, count).filter(|&to| to != current) {
                Some(to) => {
                    let next = query.with(|query| query.at_page(to));
                    view! {
                        <a
                            href=next.href()
                            rel=rel
                            data-page=to
                            on:click=move |event| navigator.follow(&event, next.clone())
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
                {move || page.with(|page| format!("Page {} of {}", page.page, page.page_count))}
            </span>
            {link("Next ›", "next", |current, count| Some(current + 1).filter(|&to| to <= count))}
            {link("Last »", "last", |_, count| Some(count))}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits_by_three() {
        assert_eq!(group_digits(7), "7");
        assert_eq!(group_digits(100), "100");
        assert_eq!(group_digits(1000), "1\u{202F}000");
        assert_eq!(group_digits(100_000), "100\u{202F}000");
        assert_eq!(group_digits(1_234_567), "1\u{202F}234\u{202F}567");
    }
}
