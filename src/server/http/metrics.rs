//! Operators' signals in the Prometheus text format, on their own listen address (`metrics_addr`): requests by
//! route and status with a latency histogram, requests in flight and refused, upstream calls by endpoint and
//! outcome, retries, the kept period's age and version, cache hits and misses, and the current period's credits
//! and messages. Names follow Prometheus' conventions (units in names, `_total` counters), and every label has a
//! bounded set of values: a route is one of the routes the server answers, never the raw path.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Request latency buckets, in seconds: a page from memory is about a millisecond, a cold period a second.
const LATENCY_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once) and returns what renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &LATENCY_BUCKETS)
                .expect("the buckets are not empty")
                .install_recorder()
                .expect("the only metrics recorder of the process")
        })
        .clone()
}

/// The route a path belongs to: a label from a fixed set.
pub fn route_label(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/api/table_page" => "/api/table_page",
        "/usage" => "/usage",
        "/usage.csv" => "/usage.csv",
        "/usage/summary" => "/usage/summary",
        "/openapi.json" => "/openapi.json",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        path if path.starts_with("/pkg/") => "/pkg",
        path if path.starts_with("/sample-upstream/") => "/sample-upstream",
        _ => "other",
    }
}

/// Counts every request, its status and how long it took; the requests in flight.
pub async fn track(request: Request, next: Next) -> Response {
    let mut in_flight = InFlight::start(route_label(request.uri().path()));
    let response = next.run(request).await;
    in_flight.status = Some(response.status().as_u16());
    response
}

/// One request in flight, counted out when it is dropped: after its answer, or when the client hung up and the
/// server dropped the request's future half-way (then with the status `cancelled`), so that the gauge never keeps
/// a request that is gone.
struct InFlight {
    route: &'static str,
    started: Instant,
    status: Option<u16>,
}

impl InFlight {
    fn start(route: &'static str) -> InFlight {
        metrics::gauge!("http_requests_in_flight").increment(1.0);
        InFlight { route, started: Instant::now(), status: None }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("http_requests_in_flight").decrement(1.0);
        let status = self.status.map_or_else(|| "cancelled".to_owned(), |status| status.to_string());
        metrics::counter!("http_requests_total", "route" => self.route, "status" => status).increment(1);
        metrics::histogram!("http_request_duration_seconds", "route" => self.route)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// `GET /metrics`: the process's figures (the caller sets the gauges that are read at the scrape first).
pub fn render(handle: &PrometheusHandle) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response();
    // The period's credits: for the scraper that asked, no cache between.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_bounded_set() {
        assert_eq!(route_label("/usage"), "/usage");
        assert_eq!(route_label("/pkg/credit-dashboard.abc.wasm"), "/pkg");
        assert_eq!(route_label("/../../etc/passwd"), "other");
        assert_eq!(route_label("/usage/../usage"), "other");
    }
}
