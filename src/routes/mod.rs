//! The HTTP surface, on top of everything else. Every route the server answers is here:
//!
//! - `GET /` — the dashboard (`dashboard`), and `POST /api/table_page`, the table's server function;
//! - `/o/{organisation}/…` — an organisation's dashboard and usage routes (`organisations`), with organisations;
//! - `GET /usage`, `GET /usage.csv`, `GET /usage/summary` and `GET /usage/anomalies` — the contract, the view's
//!   CSV, the period in figures and its unusual days (`usage`), described in `GET /openapi.json` (`openapi`),
//!   with CORS for listed origins;
//! - `GET /healthz` and `GET /readyz` — liveness, and whether the upstream answers;
//! - `/pkg/…`, `/favicon.svg` — the browser's assets; anything else is a 404 page;
//! - `/sample-upstream/…` — the embedded sample upstream, only when it is the upstream;
//! - `/auth/…` — sign-in's callback, sign-out, and the signed-out page (`auth`, which also guards the others).
//!
//! and the layers every response goes through: security headers, compression, the bound on requests in flight.

pub mod auth;
mod dashboard;
mod openapi;
mod organisations;
mod usage;

use crate::contract::{ErrorBody, BAD_REQUEST};
use crate::server::error::UsageError;
use crate::server::http::assets;
use crate::server::http::metrics;
use crate::server::http::overload::limit_in_flight;
use crate::server::http::privacy::keep_private;
use crate::server::http::security::FALLBACK_CONTENT_SECURITY_POLICY;
use crate::server::shared_cache::SharingStatus;
use crate::server::upstream::sample;
use crate::server::AppState;
use crate::ui::notice_page::{notice_page, NextStep};
use crate::ui::usage_table::table_page::LoadTablePage;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use leptos::prelude::provide_context;
use leptos::server_fn::ServerFn;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const LONGEST_ASSET_PATH: usize = 256;

pub fn build_router(state: AppState) -> Router {
    // Rendering spawns tasks on Leptos' executor; an error only means it is already set.
    let _ = any_spawner::Executor::init_tokio();
    let server_fn_context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let not_found = {
        let page = not_found_page(&state.page.stylesheet);
        move || {
            let page = page.clone();
            async move { (StatusCode::NOT_FOUND, Html(page)).into_response() }
        }
    };
    // Only the server function the browser calls is routed (the table's); any other `/api/…` is a 404.
    let server_functions = move |request: Request<Body>| {
        let context = server_fn_context.clone();
        async move {
            let response = leptos_axum::handle_server_fns_with_context(context, request).await.into_response();
            client_errors_are_4xx(response).await
        }
    };
    let files = ServeDir::new(&*state.page.leptos_options.site_root)
        .call_fallback_on_method_not_allowed(true)
        .not_found_service(not_found.clone().into_service());
    let hashed_names = state.page.leptos_options.hash_files;
    let static_files = move |request: Request<Body>| {
        let (files, not_found) = (files.clone(), not_found.clone());
        async move {
            // No asset has a long path; a very long one would reach the file system as an error (a 500).
            if request.uri().path().len() > LONGEST_ASSET_PATH {
                return not_found().await;
            }
            let hashed = hashed_names && request.uri().path().starts_with("/pkg/");
            let mut response =
                files.oneshot(request).await.map(IntoResponse::into_response).unwrap_or_else(|never| match never {});
            if response.status().is_success() {
                let policy = if hashed { assets::IMMUTABLE } else { assets::REVALIDATE };
                response.headers_mut().insert(header::CACHE_CONTROL, policy);
            }
            response
        }
    };
    let in_flight = Arc::new(Semaphore::new(state.edge.max_requests_in_flight));
    let origins = &state.edge.cors_allowed_origins;

    // What each route needs (`auth`): nothing with access control off.
    let page_guard = axum::middleware::from_fn_with_state(state.clone(), auth::page_guard);
    let api_guard = axum::middleware::from_fn_with_state(state.clone(), auth::api_guard);
    let function_guard = axum::middleware::from_fn_with_state(state.clone(), auth::server_function_guard);
    // Every answer that carries figures is for its caller only: no shared cache keeps it.
    let private = axum::middleware::from_fn(keep_private);
    let figures = |route: MethodRouter<AppState>| route.route_layer(private.clone());
    // The usage routes: the deployment's, and each organisation's under its prefix (the same handlers; the
    // organisation, and the caller's right to it, come from the path).
    let api = |route: MethodRouter<AppState>| cross_origin(figures(route.route_layer(api_guard.clone())), origins);
    let mut usage_routes = Router::new();
    for prefix in ["", "/o/{organisation}"] {
        usage_routes = usage_routes
            .route(&format!("{prefix}/usage"), api(get(usage::usage)))
            .route(&format!("{prefix}/usage.csv"), api(get(usage::usage_csv)))
            .route(&format!("{prefix}/usage/summary"), api(get(usage::usage_summary)))
            .route(&format!("{prefix}/usage/anomalies"), api(get(usage::usage_anomalies)));
    }
    let router = Router::new()
        .merge(usage_routes)
        .route("/", figures(get(dashboard::page).route_layer(page_guard.clone())))
        .route(<LoadTablePage as ServerFn>::PATH, figures(post(server_functions).route_layer(function_guard)))
        // An organisation's dashboard, under its prefix, checking the caller against it.
        .route("/o/", figures(get(organisations::operators_list).route_layer(page_guard.clone())))
        .route("/o/{organisation}", figures(get(organisations::to_dashboard).route_layer(page_guard.clone())))
        .route("/o/{organisation}/", figures(get(dashboard::page).route_layer(page_guard.clone())))
        .route(crate::server::access::CALLBACK_PATH, get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route(crate::server::access::SIGNED_OUT_PATH, get(auth::signed_out))
        .route("/openapi.json", cross_origin(get(openapi::openapi_json), origins))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .fallback(static_files)
        .layer(CompressionLayer::new())
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        // The page sets its own policy with a per-response nonce; this one covers everything else.
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, FALLBACK_CONTENT_SECURITY_POLICY))
        .layer(axum::middleware::from_fn_with_state(in_flight, limit_in_flight))
        .layer(axum::middleware::from_fn(metrics::track));
    // The sample upstream is served only when it is the upstream: elsewhere it would be invented billing data.
    // It is merged after the layers, so the page's own upstream calls never count against (or are refused by)
    // the bound that protects the dashboard: with the bound reached, the requests holding it wait on these.
    let router = if state.edge.serves_sample_upstream { router.merge(sample::router()) } else { router };
    router.with_state(state)
}

/// The router of `metrics_addr`: `GET /metrics`, behind a bearer token with `metrics:read` on an address that is
/// not loopback (with access control on; the configuration refuses such an address otherwise, unless
/// `metrics_allow_anonymous`).
pub fn metrics_router(state: AppState, handle: metrics_exporter_prometheus::PrometheusHandle) -> Router {
    let route = get(move |State(state): State<AppState>| {
        let handle = handle.clone();
        async move {
            state.periods.keeper().observe_gauges();
            metrics::render(&handle)
        }
    });
    let route = match (state.edge.metrics_need_token, state.access.clone()) {
        (true, Some(access)) => route.route_layer(axum::middleware::from_fn_with_state(access, auth::metrics_guard)),
        _ => route,
    };
    Router::new().route("/metrics", route).with_state(state)
}

/// Opens a route to the listed origins: `GET` and its preflight, without credentials. With no origins
/// listed (the default) the route stays same-origin only.
fn cross_origin(route: MethodRouter<AppState>, origins: &[String]) -> MethodRouter<AppState> {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    if origins.is_empty() {
        return route;
    }
    route.layer(CorsLayer::new().allow_origin(AllowOrigin::list(origins)).allow_methods([Method::GET]))
}

/// Leptos answers a request its server function could not read (a malformed body) with 500 before the function
/// runs; the fault is the client's, so it is a 400, like any hostile input. The body is the error shape, with
/// the code `bad_request` (`ErrorBody`'s conversion of such errors); small, so it is read to tell.
async fn client_errors_are_4xx(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return UsageError::Internal { cause: "a server function's answer could not be read".into() }.into_response();
    };
    let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
    if let Some(body) = body.filter(|body| body.error.code == BAD_REQUEST) {
        let route = <LoadTablePage as ServerFn>::PATH;
        tracing::warn!(code = BAD_REQUEST, route, message = body.error.message, "request refused");
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn header_layer(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// `GET /readyz`: 200 when the upstream answers, else 503 with the error shape. A replica whose shared cache
/// fails still serves correct numbers from its own memory, so it stays ready (200), and its body says
/// `degraded` and why: a load balancer keeps it, an operator sees it.
async fn readiness(State(state): State<AppState>) -> Response {
    match state.periods.keeper().readiness().await {
        Ok(()) => {
            let body = match state.periods.keeper().shared().map(|shared| (shared.status(), shared.shown())) {
                Some((SharingStatus::Degraded(reason), shown)) => format!(
                    "degraded: the shared cache {shown} is not in use ({reason}); this replica serves from its own memory"
                ),
                Some((SharingStatus::Sharing, _)) => "ready (sharing)".to_owned(),
                None => "ready".to_owned(),
            };
            // A reading of the organisations that was refused: the last good ones serve, an operator is told.
            let body = match state.organisations.refused() {
                Some(refused) => format!("{body}; organisations not read again (the last good ones serve): {refused}"),
                None => body,
            };
            ([(header::CACHE_CONTROL, "no-store")], body).into_response()
        }
        Err(error) => {
            state.periods.log_failure("/readyz", &error);
            error.into_response()
        }
    }
}

/// A page of its own (a refusal, a list) that no cache keeps: it is this request's.
fn unstored_page(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The 404 page, answered by a route that found nothing to show (an organisation that is not the caller's).
fn not_found(state: &AppState) -> Response {
    (StatusCode::NOT_FOUND, Html(not_found_page(&state.page.stylesheet))).into_response()
}

fn not_found_page(stylesheet: &str) -> String {
    let text = "There is nothing at this address.";
    notice_page(stylesheet, "Page not found", text, &[NextStep::Dashboard("Go to the dashboard")])
}
