use crate::contract::ErrorDetail;
use crate::sorting::SortSpec;
use crate::ui::error_panel::ErrorPanel;
use crate::ui::period_header::PeriodHeader;
use crate::ui::sort_state::use_url_sort;
use crate::ui::usage_chart::UsageChart;
use crate::ui::usage_table::UsageTable;
use crate::view::DashboardData;
use leptos::prelude::*;

/// Loads the period's usage on the server. On failure the page gets the status `/usage` would (503 for an
/// upstream problem) and the same error code.
#[server]
pub async fn load_dashboard() -> Result<DashboardData, ErrorDetail> {
    use crate::server::{dashboard::build_dashboard, AppState};
    let state = expect_context::<AppState>();
    let outcome = match state.usage.usage().await {
        Ok(period) => build_dashboard(&period),
        Err(error) => Err(error),
    };
    outcome.map_err(|error| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
        error.detail()
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
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn Dashboard(data: DashboardData, sort: RwSignal<SortSpec>) -> impl IntoView {
    view! {
        <PeriodHeader summary=data.summary/>
        <UsageChart days=data.days svg=data.chart_svg/>
        <UsageTable rows=data.usage times=data.table_times sort/>
    }
    .into_any()
}
