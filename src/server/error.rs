//! Why a `/usage` request or the dashboard could not be answered. Every upstream problem is a 503: the client
//! may retry, and no partial or guessed numbers are ever served. A fault of this server is a 500.

use crate::contract::{ErrorBody, ErrorDetail};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Serialisable, so that a replica waiting on another's computation answers with the same error (`shared_values`).
#[derive(Clone, Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UsageError {
    /// The upstream could not be reached, or kept failing after the retries.
    #[error("the upstream {resource} could not be fetched: {cause}")]
    UpstreamUnavailable { resource: String, cause: String },
    /// The upstream answered, but not with what the contract promises.
    #[error("the upstream {resource} is malformed: {cause}")]
    UpstreamMalformed { resource: String, cause: String },
    /// An upstream body larger than the configured limit.
    #[error("the upstream {resource} is larger than the {limit_bytes}-byte limit")]
    UpstreamTooLarge { resource: String, limit_bytes: usize },
    /// The whole request ran past its deadline.
    #[error("the usage could not be computed within {deadline_ms} ms")]
    DeadlineExceeded { deadline_ms: u128 },
    /// More requests in flight than the server takes at once.
    #[error("the server is busy; try again in a moment")]
    Overloaded,
    /// A past period was asked for and the history store cannot be read.
    #[error("past periods are unavailable: {cause}")]
    HistoryUnavailable { cause: String },
    /// A past period was asked for that the history store does not hold.
    #[error("there is no recorded billing period {id}")]
    PeriodNotFound { id: String },
    /// An organisation the caller may not read, or that does not exist: the same answer either way, so that
    /// nobody learns which organisations there are.
    #[error("there is no such organisation")]
    OrganisationNotFound,
    /// This server failed (drawing the chart, say): not the upstream's fault, and not worth retrying at once.
    #[error("this server failed: {cause}")]
    Internal { cause: String },
}

impl UsageError {
    /// Stable codes: clients branch on these, so they never change.
    pub fn code(&self) -> &'static str {
        match self {
            UsageError::UpstreamUnavailable { .. } => "upstream_unavailable",
            UsageError::UpstreamMalformed { .. } => "upstream_malformed",
            UsageError::UpstreamTooLarge { .. } => "upstream_too_large",
            UsageError::DeadlineExceeded { .. } => "upstream_timeout",
            UsageError::Overloaded => "overloaded",
            UsageError::HistoryUnavailable { .. } => "history_unavailable",
            UsageError::PeriodNotFound { .. } => "period_not_found",
            UsageError::OrganisationNotFound => "organisation_not_found",
            UsageError::Internal { .. } => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            UsageError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            UsageError::PeriodNotFound { .. } | UsageError::OrganisationNotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail { code: self.code().to_owned(), message: self.to_string() }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: self.detail() }
    }
}

impl IntoResponse for UsageError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_of_this_server_is_an_internal_error_not_an_upstream_outage() {
        let error = UsageError::Internal { cause: "the chart has no data".into() };
        assert_eq!((error.code(), error.status()), ("internal_error", StatusCode::INTERNAL_SERVER_ERROR));
        let error = UsageError::UpstreamUnavailable { resource: "messages".into(), cause: "HTTP 500".into() };
        assert_eq!((error.code(), error.status()), ("upstream_unavailable", StatusCode::SERVICE_UNAVAILABLE));
    }
}
