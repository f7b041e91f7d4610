//! `GET /openapi.json`: the JSON endpoints described in OpenAPI 3.1, generated (utoipa) from the same types that
//! serialise them, so a consumer can generate a client and every body can be checked against it.

use super::usage;
use crate::contract::{
    ErrorBody, ErrorDetail, RunOutSummary, SummaryBudget, SummaryDay, SummaryPeriod, SummaryProjection, UsageResponse,
    UsageRow, UsageSummary,
};
use crate::money::Credits;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Credit usage",
        description = "The credit usage of the current billing period, and of past ones: the /usage contract, its \
                       CSV, and a summary with the budget and the projection. Errors are `{\"error\":{\"code\",\"message\"}}` \
                       with a stable code."
    ),
    paths(usage::usage, usage::usage_csv, usage::usage_summary),
    components(schemas(
        UsageResponse,
        UsageRow,
        Credits,
        ErrorBody,
        ErrorDetail,
        UsageSummary,
        SummaryPeriod,
        SummaryDay,
        SummaryBudget,
        RunOutSummary,
        SummaryProjection
    ))
)]
struct ApiDoc;

/// Written once per process.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the API description serialises"));

pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], DOCUMENT.as_str())
        .into_response()
}
