use crate::contract::ErrorDetail;
use crate::table_query::TableQuery;
use crate::ui::error_panel::ErrorPanel;
use crate::ui::period_header::PeriodHeader;
use crate::ui::usage_breakdown::UsageBreakdown;
use crate::ui::usage_chart::UsageChart;
use crate::ui::usage_table::UsageTable;
use crate::view::DashboardData;
use leptos::prelude::*;

/// Loads the period's overview and the table page the URL asks for. On failure the page gets the status
/// `/usage` would (503 for an upstream problem) and the same error code.
#[server]
pub async fn load_dashboard(sort: String, page: u32, report: String) -> Result<DashboardData, ErrorDetail> {
    use crate::server::{dashboard::build_dashboard, AppState};
    let state = expect_context::<AppState>();
    let query = TableQuery::from_values(&sort, page, &report);
    let outcome = match state.usage.usage().await {
        Ok(period) => build_dashboard(&period, &query, state.config.table_page_size),
        Err(error) => Err(error),
    };
    outcome.map_err(|error| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
        error.detail()
    })
}

/// The table's state in the requested URL. Only the server renders this component (the table is the
/// island), so only the server reads it.
fn requested_table_query() -> TableQuery {
    #[cfg(feature = "ssr")]
    let query = use_context::<axum::http::request::Parts>().and_then(|parts| parts.uri.query().map(str::to_owned));
    #[cfg(not(feature = "ssr"))]
    let query: Option<String> = None;
    query.map(|query| TableQuery::from_query(&query)).unwrap_or_default()
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = requested_table_query();
    let dashboard = {
        let sort = query.sort.to_param().unwrap_or_default();
        let report = query.report.as_ref().map(|report| report.to_param().to_owned()).unwrap_or_default();
        let page = query.page;
        Resource::new_blocking(|| (), move |_| load_dashboard(sort.clone(), page, report.clone()))
    };
    view! {
        <main class="page">
            <header class="page-header">
                <h1>"Credit usage"</h1>
                <p class="subtitle">"Current billing period · all times UTC"</p>
            </header>
            <Transition fallback=|| view! { <p class="loading">"Loading usage…"</p> }>
                {move || {
                    let query = query.clone();
                    Suspend::new(async move {
                        match dashboard.await {
                            Ok(data) => view! { <Dashboard data query/> }.into_any(),
                            Err(error) => view! { <ErrorPanel error/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </main>
    }
}

#[component]
fn Dashboard(data: DashboardData, query: TableQuery) -> impl IntoView {
    let overview = data.overview;
    view! {
        <PeriodHeader summary=overview.summary/>
        <UsageChart days=overview.days svg=overview.chart_svg/>
        <UsageBreakdown lines=overview.breakdown query/>
        <UsageTable initial=data.table/>
    }
    .into_any()
}
