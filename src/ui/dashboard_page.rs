use crate::contract::UsageRow;
use crate::period::{summarise, DayTotal};
use crate::sorting::SortSpec;
use crate::ui::error_panel::ErrorPanel;
use crate::ui::period_header::PeriodHeader;
use crate::ui::usage_chart::UsageChart;
use crate::ui::usage_table::UsageTable;
use crate::ui::sort_state::use_url_sort;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the dashboard shows. The rows are the `/usage` contract's own type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub usage: Vec<UsageRow>,
    /// Each row's time as the table shows it, `DD-MM-YYYY HH:mm` in UTC. Formatted on the server so that
    /// the WASM carries no date library.
    pub table_times: Vec<String>,
    pub days: Vec<DayTotal>,
    /// The chart, drawn on the server.
    pub chart_svg: String,
}

/// Loads the period's usage on the server. On failure the page answers 503, like `/usage`.
#[server]
pub async fn load_dashboard() -> Result<DashboardData, ServerFnError> {
    use crate::period::daily_totals;
    use crate::server::{chart::render_daily_chart, AppState};
    use crate::timestamps::format_for_table;
    let state = expect_context::<AppState>();
    let outcome = state.usage.usage().await.map_err(|error| error.to_string()).and_then(|usage| {
        let days = daily_totals(&usage);
        let chart_svg = if days.is_empty() { String::new() } else { render_daily_chart(&days)? };
        let table_times = usage.iter().map(|row| format_for_table(&row.timestamp)).collect();
        Ok(DashboardData { usage, table_times, days, chart_svg })
    });
    outcome.map_err(|message| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        }
        ServerFnError::ServerError(message)
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Keyed on nothing: a new sort is a new URL but the same data, so it never refetches.
    let dashboard = Resource::new_blocking(|| (), |_| load_dashboard());
    let sort = use_url_sort();
    view! {
        <main class="page">
            <header class="page-header">
                <h1>"Credit usage"</h1>
                <p class="subtitle">"Current billing period · all times UTC"</p>
            </header>
            <Transition fallback=|| view! { <p class="loading">"Loading usage…"</p> }>
                {move || Suspend::new(async move {
                    match dashboard.await {
                        Ok(data) => view! { <Dashboard data sort/> }.into_any(),
                        Err(error) => {
                            let message = match error {
                                ServerFnError::ServerError(message) => message,
                                other => other.to_string(),
                            };
                            view! { <ErrorPanel message/> }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn Dashboard(data: DashboardData, sort: RwSignal<SortSpec>) -> impl IntoView {
    let summary = summarise(&data.usage, &data.days);
    view! {
        <PeriodHeader summary/>
        <UsageChart days=data.days svg=data.chart_svg/>
        <UsageTable rows=data.usage times=data.table_times sort/>
    }
    .into_any()
}
