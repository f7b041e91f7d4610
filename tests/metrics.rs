//! `GET /metrics`, read by a real Prometheus exposition parser. Alone in its test binary: the metrics recorder
//! is the process's.

#[path = "it/support/mod.rs"]
mod support;

use axum::body::Body;
use axum::http::Request;
use credit_dashboard::server::http::metrics;
use http_body_util::BodyExt;
use serde_json::json;
use support::*;
use tower::ServiceExt;
use wiremock::MockServer;

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == name && labels.iter().all(|(key, value)| sample.labels.get(key) == Some(*value))
        })
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(value) | prometheus_parse::Value::Gauge(value) => value,
            prometheus_parse::Value::Untyped(value) => value,
            _ => f64::NAN,
        })
}

#[tokio::test]
async fn the_metrics_parse_and_count_requests_upstream_calls_caches_and_the_period() {
    let handle = metrics::install();
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "abc", "2024-04-29T02:08:29.375Z", Some(json!(7)))]).await;
    serve_report(&upstream, 7, "Lease", json!(12.5)).await;
    let (app, state) = app_and_state(&test_config(&upstream));
    for uri in ["/usage", "/usage", "/", "/../../etc/passwd?secret=1", "/usage/summary"] {
        get(&app, uri).await;
    }
    // A client that hangs up while its request waits on a slow upstream: the server drops the request's future.
    let slow = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/messages/current-period"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&slow)
        .await;
    let slow_app = support::app(&test_config(&slow));
    let gave_up = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        slow_app.oneshot(Request::get("/usage").body(Body::empty()).unwrap()),
    )
    .await;
    assert!(gave_up.is_err(), "the request was still waiting on the upstream");
    let version = state.periods.keeper().latest().expect("the kept period").version;
    let metrics_router = credit_dashboard::routes::metrics_router(state, handle);
    let response = metrics_router.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("the exposition format");

    assert_eq!(value(&scrape, "http_requests_total", &[("route", "/usage"), ("status", "200")]), Some(2.0));
    assert_eq!(value(&scrape, "http_requests_total", &[("route", "/"), ("status", "200")]), Some(1.0));
    assert_eq!(
        value(&scrape, "http_requests_total", &[("route", "other"), ("status", "404")]),
        Some(1.0),
        "a raw path is never a label"
    );
    assert!(!text.contains("passwd") && !text.contains("secret"));
    let buckets = scrape.samples.iter().find(|sample| {
        sample.metric == "http_request_duration_seconds" && sample.labels.get("route") == Some("/usage")
    });
    assert!(
        matches!(buckets.map(|sample| &sample.value), Some(prometheus_parse::Value::Histogram(_))),
        "a latency histogram: {text}"
    );
    assert_eq!(
        value(&scrape, "upstream_requests_total", &[("endpoint", "messages"), ("outcome", "success")]),
        Some(1.0),
        "one download, kept"
    );
    assert_eq!(
        value(&scrape, "upstream_requests_total", &[("endpoint", "reports"), ("outcome", "success")]),
        Some(1.0)
    );
    // One miss each: the app's first request, and the one given up on the slow upstream.
    assert_eq!(value(&scrape, "cache_lookups_total", &[("cache", "kept_period"), ("result", "miss")]), Some(2.0));
    assert!(value(&scrape, "cache_lookups_total", &[("cache", "kept_period"), ("result", "hit")]).unwrap() >= 3.0);
    assert_eq!(value(&scrape, "period_messages", &[]), Some(1.0));
    assert_eq!(value(&scrape, "period_credits", &[]), Some(12.5));
    let age = value(&scrape, "kept_period_age_seconds", &[]).unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    assert_eq!(value(&scrape, "kept_period_version", &[]), Some(version as f64));
    assert_eq!(value(&scrape, "http_requests_in_flight", &[]), Some(0.0), "the request given up is not in flight");
    assert_eq!(
        value(&scrape, "http_requests_total", &[("route", "/usage"), ("status", "cancelled")]),
        Some(1.0),
        "the request given up is counted as cancelled"
    );
}
