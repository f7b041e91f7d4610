//! Why a `/usage` request could not be answered. Every variant is an upstream problem, so every one is a
//! 503: the client may retry, and no partial or guessed numbers are ever served.

use crate::contract::{ErrorBody, ErrorDetail};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Clone, Debug, thiserror::Error)]
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
}

impl UsageError {
    /// Stable codes: clients branch on these, so they never change.
    pub fn code(&self) -> &'static str {
        match self {
            UsageError::UpstreamUnavailable { .. } => "upstream_unavailable",
            UsageError::UpstreamMalformed { .. } => "upstream_malformed",
            UsageError::UpstreamTooLarge { .. } => "upstream_too_large",
            UsageError::DeadlineExceeded { .. } => "upstream_timeout",
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code().to_owned(), message: self.to_string() },
        }
    }
}

impl IntoResponse for UsageError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}
