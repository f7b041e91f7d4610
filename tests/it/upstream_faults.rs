//! The fault matrix: every upstream failure gives a 503 with the error shape, quickly, or — where the
//! rules say so — a correct answer after retrying.

use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::{MockServer, ResponseTemplate};

const TIMESTAMP: &str = "2024-04-29T02:08:29.375Z";

async fn one_message_with_report(upstream: &MockServer, report_id: u64) {
    serve_messages(upstream, vec![message(1, "abcdefghi", TIMESTAMP, Some(json!(report_id)))]).await;
}

async fn serve_slow_report(upstream: &MockServer, id: u64, delay: Duration) {
    let body = json!({"id": id, "name": format!("Report {id}"), "credit_cost": 10});
    respond(upstream, &format!("/reports/{id}"), ResponseTemplate::new(200).set_body_json(body).set_delay(delay)).await;
}

/// Asserts a 503 with the stable error shape and the given code, within `bound` from the request (the app is
/// built first). Bounds keep at least 3× headroom over what the test takes on a loaded 2-core machine, and
/// stay under what the fault would take if it were not bounded.
async fn assert_unavailable(upstream: &MockServer, code: &str, bound: Duration) {
    let app = app(&test_config(upstream));
    let started = Instant::now();
    let (status, body) = get(&app, "/usage").await;
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
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_delay(Duration::from_secs(10))).await;
    // Three attempts of a 300 ms timeout, plus backoff: about 0.95 s. Without the timeout, 10 s.
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(3)).await;
}

#[tokio::test]
async fn messages_malformed_json_is_503() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_string("{\"messages\": ["))
        .await;
    assert_unavailable(&upstream, "upstream_malformed", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn messages_of_the_wrong_shape_is_503() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_json(json!({"messages": {}})))
        .await;
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
    respond(&upstream, "/reports/5", ResponseTemplate::new(200).set_delay(Duration::from_secs(10))).await;
    assert_unavailable(&upstream, "upstream_unavailable", Duration::from_secs(3)).await;
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
    let app = app(&test_config(&upstream));
    let started = Instant::now();
    let (status, body) = get(&app, "/usage").await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""credits_used":79.00"#));
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    // About 1.05 s; a client ignoring the header would retry after 5 ms.
    assert!(elapsed < Duration::from_secs(4), "waited {elapsed:?}");
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
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_delay(Duration::from_secs(10))).await;
    let config = credit_dashboard::server::config::Config {
        upstream_timeout_ms: 20_000,
        usage_deadline_ms: 400,
        ..test_config(&upstream)
    };
    let app = app(&config);
    let started = Instant::now();
    let (status, body) = get(&app, "/usage").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_timeout");
    // About 0.4 s; without the deadline, 10 s.
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
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
        serve_slow_report(&upstream, id, Duration::from_millis(200)).await;
    }
    let app = app(&test_config(&upstream));
    let started = Instant::now();
    let (status, _) = get(&app, "/usage").await;
    assert_eq!(status, 200);
    // Concurrently, about 0.25 s; one after another, 20 × 200 ms.
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn auth_and_proxy_failures_on_a_report_are_503_and_not_cached() {
    for status in [401, 403, 405, 407, 408, 409, 425, 451] {
        let upstream = MockServer::start().await;
        one_message_with_report(&upstream, 5).await;
        respond_first(&upstream, "/reports/5", ResponseTemplate::new(status), 1).await;
        serve_report(&upstream, 5, "Lease Review", json!(79)).await;
        let app = app(&test_config(&upstream));
        let (code, body) = get(&app, "/usage").await;
        assert_eq!(code, 503, "HTTP {status} must not be priced by text: {body}");
        assert_eq!(error_code(&body), "upstream_unavailable");
        // Not kept: the next request asks again and gets the report's price.
        let (code, body) = get(&app, "/usage").await;
        assert_eq!(code, 200, "HTTP {status}: {body}");
        assert!(body.contains(r#""report_name":"Lease Review","credits_used":79.00"#), "{body}");
    }
}

#[tokio::test]
async fn only_answers_about_the_id_use_the_text_rule() {
    for status in [404, 410, 400, 422] {
        let upstream = MockServer::start().await;
        one_message_with_report(&upstream, 5).await;
        respond(&upstream, "/reports/5", ResponseTemplate::new(status)).await;
        let (code, body) = get(&app(&test_config(&upstream)), "/usage").await;
        assert_eq!(code, 200, "HTTP {status}: {body}");
        assert_eq!(
            body, r#"{"usage":[{"message_id":1,"timestamp":"2024-04-29T02:08:29.375Z","credits_used":1.20}]}"#,
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn costs_whose_sum_does_not_fit_are_503_not_a_wrapped_total() {
    let upstream = MockServer::start().await;
    let messages = vec![message(1, "a", TIMESTAMP, Some(json!(5))), message(2, "b", TIMESTAMP, Some(json!(6)))];
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 5, "Huge", json!(92233720368547758u64)).await;
    serve_report(&upstream, 6, "Huge too", json!(92233720368547758u64)).await;
    let app = app(&test_config(&upstream));
    for uri in ["/usage", "/"] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, 503, "{uri}");
        assert!(!body.contains("-0.16"), "{uri} shows a wrapped total");
        if uri == "/usage" {
            assert_eq!(error_code(&body), "upstream_malformed");
        }
    }
}

#[tokio::test]
async fn timestamps_no_billing_period_can_span_are_503_quickly() {
    for (first, last) in [("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"), ("1970-01-01T00:00:00Z", TIMESTAMP)] {
        let upstream = MockServer::start().await;
        serve_messages(&upstream, vec![message(1, "a", first, None), message(2, "b", last, None)]).await;
        let app = app(&test_config(&upstream));
        let started = Instant::now();
        let (status, body) = get(&app, "/").await;
        assert_eq!(status, 503, "{first} → {last}");
        assert!(body.len() < 100_000, "a page of {} bytes", body.len());
        assert!(started.elapsed() < Duration::from_secs(5));
        let (status, body) = get(&app, "/usage").await;
        assert_eq!((status.as_u16(), error_code(&body).as_str()), (503, "upstream_malformed"));
    }
}

#[tokio::test]
async fn an_integral_float_report_id_is_the_report() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "abcdefghi", TIMESTAMP, Some(json!(5.0)))]).await;
    serve_report(&upstream, 5, "Lease Review", json!(79)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""report_name":"Lease Review","credits_used":79.00"#), "{body}");
}

#[tokio::test]
async fn a_lone_surrogate_in_one_text_does_not_fail_the_period() {
    let upstream = MockServer::start().await;
    // Eight characters and a lone surrogate: nine characters, three tokens.
    let body = r#"{"messages":[{"id":1,"text":"abcdefgh\ud800","timestamp":"2024-04-29T02:08:29.375Z"}]}"#;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_body_string(body)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""credits_used":1.20"#), "{body}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let upstream = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    serve_messages(&elsewhere, vec![message(1, "invented", TIMESTAMP, None)]).await;
    let target = format!("{}/messages/current-period", elsewhere.uri());
    respond(
        &upstream,
        "/messages/current-period",
        ResponseTemplate::new(302).insert_header("Location", target.as_str()),
    )
    .await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "upstream_unavailable");
    assert_eq!(calls_to(&elsewhere, "/messages/current-period").await, 0);
}

#[tokio::test]
async fn a_failing_upstream_gets_a_bounded_number_of_calls_per_request() {
    let upstream = MockServer::start().await;
    let messages = (0..50).map(|i| message(i, "hello", TIMESTAMP, Some(json!(400 + i)))).collect();
    serve_messages(&upstream, messages).await;
    for id in 400..450 {
        respond(&upstream, &format!("/reports/{id}"), ResponseTemplate::new(500)).await;
    }
    let config = credit_dashboard::server::config::Config { upstream_retry_budget: 5, ..test_config(&upstream) };
    let (status, _) = get(&app(&config), "/usage").await;
    assert_eq!(status, 503);
    // Every id once, then at most the budget's retries: not 50 × 3.
    let report_calls =
        upstream.received_requests().await.unwrap().iter().filter(|r| r.url.path().starts_with("/reports/")).count();
    assert!(report_calls <= 50 + 5, "{report_calls} report calls");
}

#[tokio::test]
async fn a_hung_upstream_gets_every_attempt_before_the_deadline() {
    // With the deadline sized for every retry, a hung upstream ends as an unavailable upstream after all
    // three attempts, not as a deadline that cut the last one off.
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(200).set_delay(Duration::from_secs(30))).await;
    let defaults = credit_dashboard::server::config::Config::default();
    // The defaults scaled down tenfold, keeping their proportions.
    let config = credit_dashboard::server::config::Config {
        upstream_timeout_ms: defaults.upstream_timeout_ms / 10,
        usage_deadline_ms: defaults.usage_deadline_ms / 10,
        ..test_config(&upstream)
    };
    let (status, body) = get(&app(&config), "/usage").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_unavailable", "{body}");
    assert_eq!(calls_to(&upstream, "/messages/current-period").await, 3);
}
