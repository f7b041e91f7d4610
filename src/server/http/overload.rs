//! A bound on requests in flight. Past it a request is refused at once with 503 and `Retry-After`, rather
//! than queued: a queue only turns overload into timeouts for everyone.

use crate::server::error::UsageError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Seconds a refused client is asked to wait.
const RETRY_AFTER_SECS: &str = "1";

pub async fn limit_in_flight(State(slots): State<Arc<Semaphore>>, request: Request, next: Next) -> Response {
    match slots.try_acquire_owned() {
        Ok(_slot) => next.run(request).await,
        Err(_) => {
            let error = UsageError::Overloaded;
            metrics::counter!("http_requests_refused_total").increment(1);
            tracing::warn!(code = error.code(), route = request.uri().path(), "request refused: too many in flight");
            let mut response = error.into_response();
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static(RETRY_AFTER_SECS));
            response
        }
    }
}
