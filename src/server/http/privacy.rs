//! Answers that carry figures are their caller's alone: `Cache-Control: private` (a shared cache, a CDN or a
//! corporate proxy never keeps one; the browser still revalidates or forgets it as the route says) and `Vary:
//! Cookie, Authorization`, so that a cache that does keep answers never gives one person's, or one token's, to
//! another.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub async fn keep_private(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = match headers.get(header::CACHE_CONTROL).and_then(|value| value.to_str().ok()) {
        Some(policy) if policy.split(',').any(|part| part.trim() == "private") => policy.to_owned(),
        Some(policy) => format!("private, {policy}"),
        None => "private, no-store".to_owned(),
    };
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CACHE_CONTROL, policy);
    }
    headers.append(header::VARY, HeaderValue::from_static("Cookie, Authorization"));
    response
}
