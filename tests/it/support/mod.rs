//! A real HTTP fake of the upstream (wiremock) and the real router in front of it.
#![allow(dead_code)]

pub mod fleet;
pub mod history_schema;
pub mod oidc;
pub mod postgres;
pub mod redis;
pub mod replica;
pub mod store_semantics;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use credit_dashboard::routes::build_router;
use credit_dashboard::server::{config::Config, AppState};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Fast retries and short timeouts, so fault tests finish quickly; no history store, unless a test sets one.
pub fn test_config(upstream: &MockServer) -> Config {
    Config {
        upstream_base_url: upstream.uri(),
        upstream_timeout_ms: 300,
        upstream_retries: 2,
        upstream_retry_base_ms: 5,
        usage_deadline_ms: 5_000,
        database_url: String::new(),
        ..Config::default()
    }
}

pub fn app(config: &Config) -> Router {
    app_and_state(config).0
}

/// The router and the state behind it (its history store, its kept period).
pub fn app_and_state(config: &Config) -> (Router, AppState) {
    let leptos_options = LeptosOptions::builder().output_name("credit-dashboard").build();
    let state = AppState::new(leptos_options, config);
    (build_router(state.clone()), state)
}

/// Waits until `condition` holds, checking every 50 ms for at most 20 s (generous: a loaded 2-core machine).
pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut condition: impl FnMut() -> F) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "still not true after 20 s: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `/usage` as soon as it contains `needle` (the kept period refreshes on its own schedule).
pub async fn usage_once_it_contains(app: &Router, needle: &str) -> String {
    for _ in 0..400 {
        let (_, usage) = get(app, "/usage").await;
        if usage.contains(needle) {
            return usage;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("/usage never contained {needle}");
}

pub async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The table's server function, as the island calls it: a JSON body holding the view, as its URL query.
pub async fn table_page(app: &Router, view: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::post("/api/table_page")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(Body::from(json!({ "view": view }).to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

pub fn message(id: i64, text: &str, timestamp: &str, report_id: Option<Value>) -> Value {
    let mut message = json!({"id": id, "text": text, "timestamp": timestamp});
    if let Some(report_id) = report_id {
        message["report_id"] = report_id;
    }
    message
}

pub async fn serve_messages(upstream: &MockServer, messages: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path("/messages/current-period"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "messages": messages })))
        .mount(upstream)
        .await;
}

pub async fn serve_report(upstream: &MockServer, id: u64, name: &str, credit_cost: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/reports/{id}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": id, "name": name, "credit_cost": credit_cost})),
        )
        .mount(upstream)
        .await;
}

/// Answers every GET of `route` with `response`.
pub async fn respond(upstream: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("GET")).and(path(route)).respond_with(response).mount(upstream).await;
}

/// Answers `route` with `response` for the first `times` calls, then falls through to the other mocks.
pub async fn respond_first(upstream: &MockServer, route: &str, response: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(upstream)
        .await;
}

/// How many requests the fake upstream saw for one path.
pub async fn calls_to(upstream: &MockServer, wanted: &str) -> usize {
    upstream.received_requests().await.unwrap_or_default().iter().filter(|request| request.url.path() == wanted).count()
}

/// The error body, checked for its stable shape; returns the code.
pub fn error_code(body: &str) -> String {
    let value: Value = serde_json::from_str(body).expect("error body is JSON");
    let error = value["error"].as_object().expect("error object");
    assert_eq!(error.len(), 2, "error has exactly code and message: {body}");
    assert!(!error["message"].as_str().unwrap().is_empty());
    error["code"].as_str().unwrap().to_owned()
}

/// Message ids in the order the page's table shows them (the empty-state row has none).
pub fn table_ids(html: &str) -> Vec<String> {
    let table = &html[html.find("id=\"usage-table\"").expect("the table")..];
    let body = &table[table.find("<tbody").expect("table body")..table.find("</tbody>").unwrap()];
    body.split("<tr")
        .skip(1)
        .filter_map(|row| {
            let cell = &row[row.find("<td")?..];
            let text = &cell[cell.find('>')? + 1..];
            let id = &text[..text.find('<')?];
            id.parse::<i64>().is_ok().then(|| id.to_owned())
        })
        .collect()
}

/// The text of a header figure, tags and hydration markers stripped.
pub fn kpi_text(html: &str, kpi: &str) -> String {
    let start = html.find(&format!("data-kpi=\"{kpi}\"")).expect("figure present");
    let element = &html[start..];
    let content = &element[element.find('>').unwrap() + 1..element.find("</dd>").unwrap()];
    let mut text = String::new();
    let mut in_tag = false;
    for c in content.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}
