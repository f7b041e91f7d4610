use crate::contract::ErrorDetail;
use crate::ui::error_panel::ErrorPanel;
use crate::ui::period_header::PeriodHeader;
use crate::ui::usage_breakdown::UsageBreakdown;
use crate::ui::usage_chart::UsageChart;
use crate::ui::usage_table::UsageTable;
use crate::ui::zone_picker::ZonePicker;
use crate::view::DashboardData;
use crate::view_query::ViewQuery;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};

/// Loads the period's overview and the table page the URL asks for. On failure the page gets the status
/// `/usage` would (503 for an upstream problem) and the same error code.
#[server]
pub async fn load_dashboard(query: String) -> Result<DashboardData, ErrorDetail> {
    use crate::server::{dashboard::build_dashboard, resolved_view::ResolvedView, AppState};
    let state = expect_context::<AppState>();
    let view = ResolvedView::resolve(&ViewQuery::from_query(&query));
    let outcome = match state.usage.usage().await {
        Ok(period) => build_dashboard(&period, &view, state.config.table_page_size),
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
fn requested_view_query() -> ViewQuery {
    #[cfg(feature = "ssr")]
    let query = use_context::<axum::http::request::Parts>().and_then(|parts| parts.uri.query().map(str::to_owned));
    #[cfg(not(feature = "ssr"))]
    let query: Option<String> = None;
    query.map(|query| ViewQuery::from_query(&query)).unwrap_or_default()
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = requested_view_query().query_string();
    let dashboard = Resource::new_blocking(|| (), move |_| load_dashboard(query.clone()));
    view! {
        <main class="page">
            <header class="page-header">
                <h1>"Credit usage"</h1>
                <p class="subtitle">"Current billing period"</p>
            </header>
            <Transition fallback=|| view! { <p class="loading">"Loading usage…"</p> }>
                {move || {
                    Suspend::new(async move {
                        match dashboard.await {
                            Ok(data) => view! { <Dashboard data/> }.into_any(),
                            Err(error) => view! {
                                <Title text="Credit usage: not available"/>
                                <ErrorPanel error/>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
        </main>
    }
}

#[component]
fn Dashboard(data: DashboardData) -> impl IntoView {
    let overview = data.overview;
    // The server's checked query: an unknown zone or an impossible day does not travel on in links.
    let query = ViewQuery::from_query(&data.query);
    let period = match (&overview.summary.first_day, &overview.summary.last_day) {
        (Some(first), Some(last)) if first == last => first.clone(),
        (Some(first), Some(last)) => format!("{first} → {last}"),
        _ => "no usage yet".to_owned(),
    };
    let description = format!(
        "Credits used {period}: {} credits over {} messages, by day, by report and message by message, in {}.",
        overview.summary.total_credits, overview.summary.message_count, data.zone.name
    );
    view! {
        <Title text=format!("Credit usage · {period}")/>
        <Meta name="description" content=description/>
        <ZonePicker zone=data.zone query=query.clone()/>
        <PeriodHeader summary=overview.summary day=data.day/>
        <UsageChart days=overview.days svg=overview.chart_svg query=query.clone()/>
        <UsageBreakdown lines=overview.breakdown query/>
        <UsageTable initial=data.table/>
    }
    .into_any()
}
