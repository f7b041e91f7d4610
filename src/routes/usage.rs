//! `GET /usage`, the contract, and `GET /usage.csv`, the view's CSV: each the whole answer or the JSON error,
//! never part of one.

#[allow(unused_imports)] // named in the API description's attributes
use crate::contract::{ErrorBody, UsageAnomalies, UsageResponse, UsageSummary};
use crate::server::error::UsageError;
use crate::server::http::conditional;
use crate::server::organisations::tenants::Scope;
use crate::server::views::checked_view::CheckedView;
use crate::server::views::{anomalies, csv_export, summary};
use crate::view_query::ViewQuery;
use axum::extract::RawQuery;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

/// `GET /usage`: the contract, or a 503 with the error shape.
#[utoipa::path(
    get,
    path = "/usage",
    description = "Every message of the current billing period, priced, in upstream order. `report_name` is \
                   omitted when no report priced the message; `timestamp` is the upstream's, verbatim.",
    responses(
        (status = 200, description = "The current period's usage", body = UsageResponse),
        (status = 503, description = "The upstream failed or is malformed (see the code)", body = ErrorBody),
        (status = 401, description = "Access control is on and the request has no credentials, or not valid ones (`unauthorized`, with `WWW-Authenticate: Bearer`)", body = ErrorBody),
        (status = 403, description = "A valid token without the scope `usage:read` (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn usage(scope: Scope, request: HeaderMap) -> Response {
    match scope.periods.current().await {
        Ok(views) if conditional::matches(&request, views.usage_tag()) => conditional::not_modified(views.usage_tag()),
        Ok(views) => {
            let mut response = ([(header::CONTENT_TYPE, "application/json")], views.usage_json()).into_response();
            conditional::add_headers(&mut response, views.usage_tag());
            response
        }
        Err(error) => failure(&scope, "/usage", error),
    }
}

#[utoipa::path(
    get,
    path = "/usage.csv",
    description = "A view of a period (the page's query: `period`, `tz`, `day`, `report`, `sort`) as CSV: \
                   message_id, timestamp, report_name, credits_used, local_time, time_zone, explanation.",
    params(
        ("period" = Option<String>, Query, description = "A past period's id, YYYY-MM-DD; none: the current one"),
        ("tz" = Option<String>, Query, description = "An IANA zone for local_time; UTC when it is not one"),
        ("day" = Option<String>, Query, description = "One day in that zone, YYYY-MM-DD"),
        ("report" = Option<String>, Query, description = "A report name, or ~text for the text-priced messages"),
        ("sort" = Option<String>, Query, description = "report_name:asc,credits_used:desc, highest priority first"),
    ),
    responses(
        (status = 200, description = "The view's rows", content_type = "text/csv", body = String),
        (status = 404, description = "A period the history does not keep", body = ErrorBody),
        (status = 503, description = "The upstream or the history store failed", body = ErrorBody),
        (status = 401, description = "Access control is on and the request has no credentials, or not valid ones (`unauthorized`, with `WWW-Authenticate: Bearer`)", body = ErrorBody),
        (status = 403, description = "A valid token without the scope `usage:read` (`forbidden`)", body = ErrorBody),
    )
)]
/// `GET /usage.csv?period=…&tz=…&day=…&report=…&sort=…`: the view's rows, every page of them, as CSV, of the
/// current period or a past one; or the JSON error, never half a file (the body is written in full before
/// anything is sent).
pub async fn usage_csv(scope: Scope, RawQuery(query): RawQuery, request: HeaderMap) -> Response {
    let asked = ViewQuery::from_query(query.as_deref().unwrap_or(""))
        .on_organisation(scope.organisation.as_ref().map(ToString::to_string));
    let shown = match scope.periods.shown_for(&asked).await {
        Ok(shown) => shown,
        Err(error) => return failure(&scope, "/usage.csv", error),
    };
    let view = CheckedView::resolve(&asked);
    // The period's version and the view (its link, the page left out, and its zone) make the CSV.
    let link = view.query.href_to("/usage.csv", false);
    let etag =
        conditional::entity_tag("c", &[shown.views.usage_tag().as_bytes(), link.as_bytes(), view.zone.name.as_bytes()]);
    if conditional::matches(&request, &etag) {
        return conditional::not_modified(&etag);
    }
    match csv_export::usage_csv(&shown.views, &view) {
        Ok((file_name, body)) => {
            let disposition = format!("attachment; filename=\"{file_name}\"");
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ];
            let mut response = (headers, body).into_response();
            conditional::add_headers(&mut response, &etag);
            response
        }
        Err(error) => failure(&scope, "/usage.csv", UsageError::Internal { cause: format!("CSV: {error}") }),
    }
}

/// `GET /usage/summary?tz=…`: the current period in figures (`UsageSummary`), or the JSON error.
#[utoipa::path(
    get,
    path = "/usage/summary",
    description = "The current period in figures: its bounds, total, messages, credits per day in the zone, the \
                   budget and the projection of its end.",
    params(("tz" = Option<String>, Query, description = "An IANA zone for the days; UTC when it is not one")),
    responses(
        (status = 200, description = "The current period's summary", body = UsageSummary),
        (status = 503, description = "The upstream failed or is malformed (see the code)", body = ErrorBody),
        (status = 401, description = "Access control is on and the request has no credentials, or not valid ones (`unauthorized`, with `WWW-Authenticate: Bearer`)", body = ErrorBody),
        (status = 403, description = "A valid token without the scope `usage:read` (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn usage_summary(scope: Scope, RawQuery(query): RawQuery) -> Response {
    let view = CheckedView::resolve(&ViewQuery::from_query(query.as_deref().unwrap_or("")));
    let outcome = match scope.periods.current().await {
        Ok(views) => summary::usage_summary(&views, &view.zone, scope.periods.budget()),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(summary) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(summary)).into_response(),
        Err(error) => failure(&scope, "/usage/summary", error),
    }
}

fn failure(scope: &Scope, route: &str, error: UsageError) -> Response {
    scope.periods.log_failure(route, &error);
    error.into_response()
}

/// `GET /usage/anomalies?tz=…&period=…`: the period's unusual days, each with what drove it, or the JSON error.
#[utoipa::path(
    get,
    path = "/usage/anomalies",
    description = "A period's unusual days: each compared with the days before it (across periods the history \
                   keeps; the same weekday's median when there are two, else all days'; at least 7 days, at most \
                   28), unusual when at least 50.00 credits and 2× above that baseline and above 3 spreads (the \
                   scaled median absolute deviation), with the drivers that explain at least 80 % of the excess.",
    params(
        ("period" = Option<String>, Query, description = "A past period's id, YYYY-MM-DD; none: the current one"),
        ("tz" = Option<String>, Query, description = "An IANA zone whose calendar the days are; UTC when it is not one"),
    ),
    responses(
        (status = 200, description = "The period's unusual days", body = UsageAnomalies),
        (status = 404, description = "A period the history does not keep", body = ErrorBody),
        (status = 503, description = "The upstream or the history store failed", body = ErrorBody),
        (status = 401, description = "Access control is on and the request has no credentials, or not valid ones (`unauthorized`, with `WWW-Authenticate: Bearer`)", body = ErrorBody),
        (status = 403, description = "A valid token without the scope `usage:read` (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn usage_anomalies(scope: Scope, RawQuery(query): RawQuery) -> Response {
    let asked = ViewQuery::from_query(query.as_deref().unwrap_or(""));
    let view = CheckedView::resolve(&asked);
    match scope.periods.shown_for(&ViewQuery { version: None, ..asked }).await {
        Ok(shown) => {
            let found = anomalies::anomalies(&scope.periods, &shown.views.period, &view.zone, shown.past).await;
            ([(header::CACHE_CONTROL, "no-store")], axum::Json(&*found)).into_response()
        }
        Err(error) => failure(&scope, "/usage/anomalies", error),
    }
}
