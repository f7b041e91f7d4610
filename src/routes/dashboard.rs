//! `GET /`: the dashboard. The view is parsed from the URL once, here; the data is loaded before rendering, so
//! the status can say what happened (503 for an upstream problem, as `/usage` would, 500 for a fault of this
//! server), and the page is rendered from it.

use super::organisations;
use crate::app::shell;
use crate::page_data::DashboardPageData;
use crate::server::access::Caller;
use crate::server::error::UsageError;
use crate::server::http::assets;
use crate::server::http::security::set_page_content_security_policy;
use crate::server::organisations::tenants::Scope;
use crate::server::views::anomalies::anomalies;
use crate::server::views::budget::alert_lines;
use crate::server::views::checked_view::CheckedView;
use crate::server::views::page_data::build_dashboard;
use crate::server::views::periods::periods_view;
use crate::server::AppState;
use crate::view_query::ViewQuery;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::header;
use axum::response::Response;
use leptos::prelude::{provide_context, use_context};
use std::sync::Arc;

pub async fn page(
    State(state): State<AppState>,
    scope: Result<Scope, UsageError>,
    RawQuery(query): RawQuery,
    request: Request<Body>,
) -> Response {
    let caller = request.extensions().get::<Caller>();
    // `GET /` of a deployment with organisations: to the caller's, at its own address.
    if !state.organisations.get().is_single() && request.uri().path() == "/" {
        return organisations::landing(&state, caller, query.as_deref()).await;
    }
    let Ok(scope) = scope else { return super::not_found(&state) };
    let organisation = scope.organisation.as_ref().map(ToString::to_string);
    let asked = ViewQuery::from_query(query.as_deref().unwrap_or("")).on_organisation(organisation);
    let shown = scope.periods.shown_for(&asked).await;
    let shown_views = shown.as_ref().ok().map(|shown| (&shown.views, shown.past));
    let periods = periods_view(scope.periods.history().map(|history| &**history), shown_views).await;
    let page_size = state.page.table_page_size;
    let budget = scope.periods.budget();
    // The unusual days, in the view's zone (a day's link opens it there).
    let checked = CheckedView::resolve(&asked);
    let unusual = match &shown {
        Ok(shown) => Some(anomalies(&scope.periods, &shown.views.period, &checked.zone, shown.past).await),
        Err(_) => None,
    };
    let dashboard = shown.and_then(|shown| {
        let unusual = unusual.map(|found| (*found).clone());
        let mut data = build_dashboard(&shown.views, &checked, page_size, budget, shown.past, unusual)?;
        data.table.refreshed = shown.refreshed;
        // The alerts of the current period, as of the last check.
        if let (Some(card), Some(alerts), false) = (data.budget.as_mut(), &scope.alerts, shown.past) {
            card.alerts = alert_lines(&alerts.shown().alerts);
        }
        Ok(data)
    });
    let status = dashboard.as_ref().err().map(UsageError::status);
    if let Err(error) = &dashboard {
        scope.periods.log_failure("/", error);
    }
    // Who is signed in, when access control is on (the guard put the caller in the request).
    let signed_in = match caller {
        Some(Caller::Person(session)) => Some(session.shown_name.clone()),
        _ => None,
    };
    let form_targets = state.access.as_ref().and_then(|access| access.provider_origin()).unwrap_or_default();
    let data =
        Arc::new(DashboardPageData { asked, dashboard: dashboard.map_err(|error| error.detail()), periods, signed_in });
    let (options, stylesheet) = (state.page.leptos_options.clone(), state.page.stylesheet.clone());
    let context = move || {
        provide_context(data.clone());
        // Leptos has put this response's nonce in the context; the policy allows only scripts carrying it.
        set_page_content_security_policy(&form_targets);
        // The page's data is live: a browser asks again each time (the assets it names are cached).
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(header::CACHE_CONTROL, assets::REVALIDATE);
        }
    };
    let render =
        leptos_axum::render_app_async_with_context(context, move || shell(options.clone(), stylesheet.to_string()));
    let mut response = render(request).await;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    response
}
