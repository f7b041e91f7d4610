//! The fault matrix: every upstream failure gives a 503 with the error shape, quickly, or — where the
//! rules say so — a correct answer after retrying.

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMESTAMP: &str = "2024-04-29T02:08:29.375Z";

async fn one_message_with_report(upstream: &MockServer, report_id: u64) {
    serve_messages(upstream, vec![message(1, "abcdefghi", TIMESTAMP, Some(json!(report_id)))]).await;
}

/// Answers `route` with `response` for the first `times` calls, then falls through to the other mocks.
async fn respond_first(upstream: &MockServer, route: &str, response: ResponseTemplate, times: u64) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(upstream)
        .await;
}

async fn serve_slow_report(upstream: &MockServer, id: u64, delay: Duration) {
    let body = json!({"id": id, "name": format!("Report {id}"), "credit_cost": 10});
    respond(upstream, &format!("/reports/{id}"), ResponseTemplate::new(200).set_body_json(body).set_delay(delay)).await;
}

/// Asserts a 503 with the stable error shape and the given code, within `bound`.
async fn assert_unavailable(upstream: &MockServer, code: &str, bound: Duration) {
    let started = Instant::now();
    let (status, body) = get(&app(&test_config(upstream)), "/usage").await;
    let elapsed = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), code, "{body}");
    assert!(elapsed < bound, "took {elapsed:?}, bound {bound:?}");
}

#[tokio::test]
async fn messages_500_is_503_after_retries() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(2)).await;
    assert_eq!(calls_to(&upstream, "/messages/current-period").await, 3, "one call and two retries");
}

#[tokio::test]
async fn messages_timeout_is_503() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_delay(Duration::from_secs(3))).await;
    // Three attempts of a 300 ms timeout, plus backoff.
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(2)).await;
}

#[tokio::test]
async fn messages_malformed_json_is_503() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_string("{\"messages\": [")).await;
    assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn messages_of_the_wrong_shape_is_503() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_json(json!({"messages": {}}))).await;
    assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn message_missing_a_mandatory_field_is_503() {
    for missing in ["id", "text", "timestamp"] {
        let upstream = MockServer::start().await;
        let mut bad = message(1, "hello", TIMESTAMP, None);
        bad.as_object_mut().unwrap().remove(missing);
        serve_messages(&upstream, vec![message(2, "fine", TIMESTAMP, None), bad]).await;
        assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn message_with_unreadable_timestamp_is_503() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "hello", "29/04/2024", None)]).await;
    assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn report_500_then_recovering_gives_the_right_price() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond_first(&upstream, "/reports/5", ResponseTemplate::new(500), 1).await;
    serve_report(&upstream, 5, "Lease Review", json!(79)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"{"usage":[{"message_id":1,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Lease Review","credits_used":79.00}]}"#
    );
    assert_eq!(calls_to(&upstream, "/reports/5").await, 2);
}

#[tokio::test]
async fn report_500_forever_is_503_never_a_text_price() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond(&upstream, "/reports/5", ResponseTemplate::new(500)).await;
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(2)).await;
    assert_eq!(calls_to(&upstream, "/reports/5").await, 3);
}

#[tokio::test]
async fn report_failures_are_not_cached() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond_first(&upstream, "/reports/5", ResponseTemplate::new(503), 3).await;
    serve_report(&upstream, 5, "Lease Review", json!(79)).await;
    let app = app(&test_config(&upstream));
    assert_eq!(get(&app, "/usage").await.0, 503);
    let (status, body) = get(&app, "/usage").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""credits_used":79.00"#), "{body}");
}

#[tokio::test]
async fn report_timeout_is_503() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond(&upstream, "/reports/5", ResponseTemplate::new(200).set_delay(Duration::from_secs(3))).await;
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(2)).await;
}

#[tokio::test]
async fn report_malformed_json_is_503() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond(&upstream, "/reports/5", ResponseTemplate::new(200).set_body_string("<html>oops</html>")).await;
    assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn report_missing_a_mandatory_field_is_503() {
    for body in [
        json!({"id": 5, "name": "Lease Review"}),
        json!({"id": 5, "credit_cost": 79}),
        json!({"name": "Lease Review", "credit_cost": 79}),
        json!({"id": 5, "name": "Lease Review", "credit_cost": "79"}),
        json!({"id": 5, "name": "Lease Review", "credit_cost": -1}),
        json!({"id": 6, "name": "Another report", "credit_cost": 79}),
    ] {
        let upstream = MockServer::start().await;
        one_message_with_report(&upstream, 5).await;
        respond(&upstream, "/reports/5", ResponseTemplate::new(200).set_body_json(&body)).await;
        assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond_first(&upstream, "/reports/5", ResponseTemplate::new(429).insert_header("Retry-After", "1"), 1).await;
    serve_report(&upstream, 5, "Lease Review", json!(79)).await;
    let started = Instant::now();
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""credits_used":79.00"#));
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
}

#[tokio::test]
async fn too_many_requests_with_a_long_retry_after_fails_fast() {
    let upstream = MockServer::start().await;
    one_message_with_report(&upstream, 5).await;
    respond(&upstream, "/reports/5", ResponseTemplate::new(429).insert_header("Retry-After", "3600")).await;
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_string("x".repeat(4096))).await;
    let config = credit_dashboard::server::config::Config { upstream_max_body_bytes: 1024, ..test_config(&upstream) };
    let (status, body) = get(&app(&config), "/usage").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_too_large");
}

#[tokio::test]
async fn the_whole_request_has_a_deadline() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_delay(Duration::from_secs(5))).await;
    let config = credit_dashboard::server::config::Config {
        upstream_timeout: Duration::from_secs(10),
        usage_deadline: Duration::from_millis(400),
        ..test_config(&upstream)
    };
    let started = Instant::now();
    let (status, body) = get(&app(&config), "/usage").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn unreachable_upstream_is_503() {
    let upstream = MockServer::start().await;
    let mut config = test_config(&upstream);
    // A port nothing listens on.
    config.upstream_base_url = "http://127.0.0.1:9".into();
    let (status, body) = get(&app(&config), "/usage").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_unavailable");
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_fetch_each_report_once() {
    let upstream = MockServer::start().await;
    let messages = (0..40).map(|i| message(i, "hello", TIMESTAMP, Some(json!(200 + i % 8)))).collect();
    serve_messages(&upstream, messages).await;
    for id in 200..208 {
        serve_slow_report(&upstream, id, Duration::from_millis(100)).await;
    }
    let app = app(&test_config(&upstream));
    let requests = (0..50).map(|_| {
        let app = app.clone();
        async move { get(&app, "/usage").await }
    });
    let responses = futures::future::join_all(requests).await;
    assert!(responses.iter().all(|(status, _)| *status == 200));
    assert!(responses.windows(2).all(|pair| pair[0].1 == pair[1].1), "all answers are identical");
    for id in 200..208 {
        assert_eq!(calls_to(&upstream, &format!("/reports/{id}")).await, 1, "report {id}");
    }
}

#[tokio::test]
async fn distinct_reports_are_resolved_concurrently() {
    let upstream = MockServer::start().await;
    let messages = (0..20).map(|i| message(i, "hello", TIMESTAMP, Some(json!(300 + i)))).collect();
    serve_messages(&upstream, messages).await;
    for id in 300..320 {
        serve_slow_report(&upstream, id, Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    let (status, _) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    // One after another would take 20 × 100 ms.
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
}
