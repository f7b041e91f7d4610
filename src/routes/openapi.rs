//! `GET /openapi.json`: the JSON endpoints described in OpenAPI 3.1, generated (utoipa) from the same types that
//! serialise them, so a consumer can generate a client and every body can be checked against it.

use super::usage;
use crate::contract::{
    AnomalyDay, AnomalyDriver, ErrorBody, ErrorDetail, RunOutSummary, SummaryBudget, SummaryDay, SummaryPeriod,
    SummaryProjection, UsageAnomalies, UsageResponse, UsageRow, UsageSummary,
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
    paths(usage::usage, usage::usage_csv, usage::usage_summary, usage::usage_anomalies),
    modifiers(&BearerScheme),
    security(("bearer" = ["usage:read"]), ()),
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
        SummaryProjection,
        UsageAnomalies,
        AnomalyDay,
        AnomalyDriver
    ))
)]
struct ApiDoc;

/// With access control on (`auth_issuer`), the JSON routes take a bearer access token from the organisation's
/// OpenID provider, for the dashboard's audience and with the scope `usage:read` (or a person's session cookie).
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token from the organisation's OpenID provider (client credentials), for the dashboard's \
                 audience (`auth_audience`), with the scope `usage:read`. Needed when access control is on.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Written once per process.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the API description serialises"));

pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], DOCUMENT.as_str())
        .into_response()
}
