//! The HTTP surface, on top of everything else: the `/usage` contract, health checks, the embedded sample
//! upstream, the dashboard page and its server function, static files, and the layers every response goes
//! through (security headers, compression, CORS for `/usage`, the bound on requests in flight).

use crate::app::shell;
use crate::server::error::UsageError;
use crate::server::overload::limit_in_flight;
use crate::server::resolved_view::ResolvedView;
use crate::server::security::{set_page_content_security_policy, FALLBACK_CONTENT_SECURITY_POLICY};
use crate::server::{assets, csv_export, sample_upstream, AppState};
use crate::view_query::ViewQuery;
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use leptos::prelude::{provide_context, use_context};
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
    let page_context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // Leptos has put this response's nonce in the context; the policy allows only scripts carrying it.
            set_page_content_security_policy();
            // The page's data is live: a browser asks again each time (the assets it names are cached).
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.insert_header(header::CACHE_CONTROL, assets::REVALIDATE);
            }
        }
    };
    let server_fn_context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let leptos_options = state.leptos_options.clone();
    let stylesheet = assets::stylesheet_href(&leptos_options);
    let not_found = {
        let page = not_found_page(&stylesheet);
        move || {
            let page = page.clone();
            async move { (StatusCode::NOT_FOUND, Html(page)).into_response() }
        }
    };
    // Async rendering: the response waits for the data, so an upstream failure can still set a 503 status.
    let dashboard = leptos_axum::render_app_async_with_context(page_context, move || {
        shell(leptos_options.clone(), stylesheet.clone())
    });
    let server_functions =
        move |request: Request<Body>| leptos_axum::handle_server_fns_with_context(server_fn_context.clone(), request);
    let files = ServeDir::new(&*state.leptos_options.site_root).not_found_service(not_found.clone().into_service());
    let hashed_names = state.leptos_options.hash_files;
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
    let in_flight = Arc::new(Semaphore::new(state.config.max_requests_in_flight));

    let mut router = Router::new()
        .route("/", get(dashboard))
        .route("/api/{*function}", post(server_functions))
        .route("/usage", cross_origin(get(usage), &state.config.cors_allowed_origins))
        .route("/usage.csv", cross_origin(get(usage_csv), &state.config.cors_allowed_origins))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness));
    // The sample upstream is served only when it is the upstream: elsewhere it would be invented billing data.
    if state.config.uses_sample_upstream() {
        router = router.merge(sample_upstream::router());
    }
    router
        .fallback(static_files)
        .layer(CompressionLayer::new())
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        // The page sets its own policy with a per-response nonce; this one covers everything else.
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, FALLBACK_CONTENT_SECURITY_POLICY))
        .layer(axum::middleware::from_fn_with_state(in_flight, limit_in_flight))
        .with_state(state)
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

fn header_layer(name: header::HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// `GET /usage`: the contract, or a 503 with the error shape.
async fn usage(State(state): State<AppState>) -> Response {
    match state.usage.usage().await {
        Ok(period) => {
            let headers = [(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "application/json")];
            (headers, period.usage_json()).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// `GET /usage.csv?tz=…&day=…&report=…&sort=…`: the view's rows, every page of them, as CSV; or the JSON error, never
/// half a file (the body is written in full before anything is sent).
async fn usage_csv(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let period = match state.usage.usage().await {
        Ok(period) => period,
        Err(error) => return error.into_response(),
    };
    let view = ResolvedView::resolve(&ViewQuery::from_query(query.as_deref().unwrap_or("")));
    match csv_export::usage_csv(&period, &view) {
        Ok((file_name, body)) => {
            let disposition = format!("attachment; filename=\"{file_name}\"");
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ];
            (headers, body).into_response()
        }
        Err(error) => UsageError::Internal { cause: format!("CSV: {error}") }.into_response(),
    }
}

/// `GET /readyz`: 200 when the upstream answers, else 503 with the error shape.
async fn readiness(State(state): State<AppState>) -> Response {
    match state.usage.readiness().await {
        Ok(()) => ([(header::CACHE_CONTROL, "no-store")], "ready").into_response(),
        Err(error) => error.into_response(),
    }
}

fn not_found_page(stylesheet: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Page not found</title><link rel=\"stylesheet\" href=\"{stylesheet}\"></head>\
         <body><main class=\"page\"><section class=\"card panel\"><h1>Page not found</h1>\
         <p>There is nothing at this address.</p><a class=\"button\" href=\"/\">Go to the dashboard</a>\
         </section></main></body></html>"
    )
}
