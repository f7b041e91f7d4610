//! The HTTP surface: the `/usage` contract, health checks, the embedded sample upstream, the dashboard
//! pages and their server functions, and the layers every response goes through.

use super::sample_upstream;
use super::security::FALLBACK_CONTENT_SECURITY_POLICY;
use super::AppState;
use crate::app::{shell, App};
use crate::contract::UsageResponse;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn build_router(state: AppState) -> Router {
    let page_routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route("/usage", get(usage))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .merge(sample_upstream::router())
        .leptos_routes(&state, page_routes, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new())
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        // Pages set their own policy with a per-response nonce; this one covers everything else.
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, FALLBACK_CONTENT_SECURITY_POLICY))
        .with_state(state)
}

fn header_layer(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// `GET /readyz`: 200 when the upstream answers, else 503 with the error shape.
async fn readiness(State(state): State<AppState>) -> Response {
    match state.usage.readiness().await {
        Ok(()) => ([(header::CACHE_CONTROL, "no-store")], "ready").into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /usage`: the contract, or a 503 with the error shape.
async fn usage(State(state): State<AppState>) -> Response {
    match state.usage.usage().await {
        Ok(usage) => ([(header::CACHE_CONTROL, "no-store")], Json(UsageResponse { usage })).into_response(),
        Err(error) => error.into_response(),
    }
}
