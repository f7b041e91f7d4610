//! `GET /usage`, the contract, and `GET /usage.csv`, the view's CSV: each the whole answer or the JSON error,
//! never part of one.

use crate::server::error::UsageError;
use crate::server::views::resolved_view::ResolvedView;
use crate::server::views::{csv_export, summary};
use crate::server::AppState;
use crate::view_query::ViewQuery;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `GET /usage`: the contract, or a 503 with the error shape.
pub async fn usage(State(state): State<AppState>) -> Response {
    match state.current_views().await {
        Ok(views) => {
            let headers = [(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "application/json")];
            (headers, views.usage_json()).into_response()
        }
        Err(error) => failure(&state, "/usage", error),
    }
}

/// `GET /usage.csv?period=…&tz=…&day=…&report=…&sort=…`: the view's rows, every page of them, as CSV, of the
/// current period or a past one; or the JSON error, never half a file (the body is written in full before
/// anything is sent).
pub async fn usage_csv(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let asked = ViewQuery::from_query(query.as_deref().unwrap_or(""));
    let shown = match state.views_for(&asked).await {
        Ok(shown) => shown,
        Err(error) => return failure(&state, "/usage.csv", error),
    };
    match csv_export::usage_csv(&shown.views, &ResolvedView::resolve(&asked)) {
        Ok((file_name, body)) => {
            let disposition = format!("attachment; filename=\"{file_name}\"");
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ];
            (headers, body).into_response()
        }
        Err(error) => failure(&state, "/usage.csv", UsageError::Internal { cause: format!("CSV: {error}") }),
    }
}

/// `GET /usage/summary?tz=…`: the current period in figures (`UsageSummary`), or the JSON error.
pub async fn usage_summary(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let view = ResolvedView::resolve(&ViewQuery::from_query(query.as_deref().unwrap_or("")));
    let outcome = match state.current_views().await {
        Ok(views) => summary::usage_summary(&views, &view.zone, &state.budget_settings()),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(summary) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(summary)).into_response(),
        Err(error) => failure(&state, "/usage/summary", error),
    }
}

fn failure(state: &AppState, route: &str, error: UsageError) -> Response {
    state.log_failure(route, &error);
    error.into_response()
}
