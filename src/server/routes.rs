//! The HTTP surface: the `/usage` contract, health checks, the embedded sample upstream, the dashboard
//! page and its server function, static files, and the layers every response goes through.

use super::sample_upstream;
use super::security::FALLBACK_CONTENT_SECURITY_POLICY;
use super::AppState;
use crate::app::shell;
use crate::contract::UsageResponse;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::provide_context;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

const LONGEST_ASSET_PATH: usize = 256;

pub fn build_router(state: AppState) -> Router {
    // Rendering spawns tasks on Leptos' executor; an error only means it is already set.
    let _ = any_spawner::Executor::init_tokio();
    let with_state = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let leptos_options = state.leptos_options.clone();
    // Async rendering: the response waits for the data, so an upstream failure can still set a 503 status.
    let dashboard = leptos_axum::render_app_async_with_context(with_state.clone(), move || shell(leptos_options.clone()));
    let server_functions =
        move |request: Request<Body>| leptos_axum::handle_server_fns_with_context(with_state.clone(), request);
    let files = ServeDir::new(&*state.leptos_options.site_root).not_found_service(not_found.into_service());
    // No asset has a long path; a very long one would reach the file system as an error (a 500), not a 404.
    let static_files = move |request: Request<Body>| {
        let files = files.clone();
        async move {
            if request.uri().path().len() > LONGEST_ASSET_PATH {
                return not_found().await;
            }
            files.oneshot(request).await.map(IntoResponse::into_response).unwrap_or_else(|never| match never {})
        }
    };

    Router::new()
        .route("/", get(dashboard))
        .route("/api/{*function}", post(server_functions))
        .route("/usage", get(usage))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .merge(sample_upstream::router())
        .fallback(static_files)
        .layer(CompressionLayer::new())
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        // The page sets its own policy with a per-response nonce; this one covers everything else.
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, FALLBACK_CONTENT_SECURITY_POLICY))
        .with_state(state)
}

fn header_layer(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// `GET /usage`: the contract, or a 503 with the error shape.
async fn usage(State(state): State<AppState>) -> Response {
    match state.usage.usage().await {
        Ok(usage) => ([(header::CACHE_CONTROL, "no-store")], Json(UsageResponse { usage })).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /readyz`: 200 when the upstream answers, else 503 with the error shape.
async fn readiness(State(state): State<AppState>) -> Response {
    match state.usage.readiness().await {
        Ok(()) => ([(header::CACHE_CONTROL, "no-store")], "ready").into_response(),
        Err(error) => error.into_response(),
    }
}

async fn not_found() -> Response {
    let page = concat!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Page not found</title><link rel=\"stylesheet\" href=\"/pkg/credit-dashboard.css\"></head>",
        "<body><main class=\"page\"><section class=\"card panel\"><h1>Page not found</h1>",
        "<p>There is nothing at this address.</p><a class=\"button\" href=\"/\">Go to the dashboard</a>",
        "</section></main></body></html>"
    );
    (StatusCode::NOT_FOUND, Html(page)).into_response()
}
