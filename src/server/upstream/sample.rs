//! An embedded copy of the upstream billing API with a week of sample data. The default configuration
//! points the upstream client here, so a default run goes through the same HTTP path as production.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::LazyLock;

pub const MOUNT_PATH: &str = "/sample-upstream";

const MESSAGES_JSON: &str = include_str!("sample_data/messages.json");
const REPORTS_JSON: &str = include_str!("sample_data/reports.json");

/// Each report's JSON body by id, built once from the embedded list.
static REPORTS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let reports: Vec<serde_json::Value> = serde_json::from_str(REPORTS_JSON).expect("embedded reports are valid JSON");
    reports.into_iter().map(|report| (report["id"].to_string(), report.to_string())).collect()
});

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let router = Router::new()
        .route("/messages/current-period", get(|| async { json(MESSAGES_JSON.to_owned()) }))
        .route("/reports/{id}", get(report));
    Router::new().nest(MOUNT_PATH, router)
}

async fn report(Path(id): Path<String>) -> Response {
    match REPORTS.get(&id) {
        Some(body) => json(body.clone()),
        None => (StatusCode::NOT_FOUND, json(r#"{"error":"no such report"}"#.to_owned())).into_response(),
    }
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
