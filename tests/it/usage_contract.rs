//! `GET /usage` against a fake upstream: the exact contract and the credit rules end to end.

use crate::support::*;
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn serves_the_exact_contract_text() {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1000, "Generate a Tenant Obligations Report", "2024-04-29T02:08:29.375Z", Some(json!(5392))),
            message(1001, "abcdefghi", "2024-04-29T03:25:03.613Z", None),
            message(1002, &"x".repeat(44), "2024-04-30T10:00:00+02:00", None),
            message(1003, "Lease comparison", "2024-05-01T08:00:00.000Z", Some(json!(61))),
        ],
    )
    .await;
    serve_report(&upstream, 5392, "Tenant Obligations Report", json!(79)).await;
    serve_report(&upstream, 61, "Lease \"Comparison\" <Report>", json!(61.5)).await;

    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;

    assert_eq!(status, 200);
    assert_eq!(
        body,
        concat!(
            r#"{"usage":["#,
            r#"{"message_id":1000,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Tenant Obligations Report","credits_used":79.00},"#,
            r#"{"message_id":1001,"timestamp":"2024-04-29T03:25:03.613Z","credits_used":1.20},"#,
            r#"{"message_id":1002,"timestamp":"2024-04-30T10:00:00+02:00","credits_used":4.40},"#,
            r#"{"message_id":1003,"timestamp":"2024-05-01T08:00:00.000Z","report_name":"Lease \"Comparison\" <Report>","credits_used":61.50}"#,
            r#"]}"#
        )
    );
}

#[tokio::test]
async fn usage_is_json() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let response = tower::ServiceExt::oneshot(
        app(&test_config(&upstream)),
        axum::http::Request::get("/usage").body(axum::body::Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn empty_period_is_an_empty_list() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, r#"{"usage":[]}"#));
}

#[tokio::test]
async fn report_404_falls_back_to_text_rule() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(7, "abcdefghi", "2024-04-29T02:08:29.375Z", Some(json!(9999)))]).await;
    respond(&upstream, "/reports/9999", ResponseTemplate::new(404)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"usage":[{"message_id":7,"timestamp":"2024-04-29T02:08:29.375Z","credits_used":1.20}]}"#);
}

#[tokio::test]
async fn report_refused_with_400_falls_back_to_text_rule() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(7, "", "2024-04-29T02:08:29.375Z", Some(json!(12)))]).await;
    respond(&upstream, "/reports/12", ResponseTemplate::new(400)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"usage":[{"message_id":7,"timestamp":"2024-04-29T02:08:29.375Z","credits_used":1.00}]}"#);
}

#[tokio::test]
async fn unusable_report_id_is_priced_by_text_without_asking_upstream() {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1, "abcdefghi", "2024-04-29T02:08:29.375Z", Some(json!("../admin"))),
            message(2, "abcdefghi", "2024-04-29T02:08:29.375Z", Some(json!(-4))),
            message(3, "abcdefghi", "2024-04-29T02:08:29.375Z", Some(json!(null))),
        ],
    )
    .await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage").await;
    assert_eq!(status, 200);
    let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
    for row in parsed["usage"].as_array().unwrap() {
        assert_eq!(row.get("report_name"), None);
        assert_eq!(row["credits_used"].to_string(), "1.2");
    }
    assert!(body.contains(r#""credits_used":1.20"#));
    let report_calls =
        upstream.received_requests().await.unwrap().iter().filter(|r| r.url.path().starts_with("/reports")).count();
    assert_eq!(report_calls, 0);
}

#[tokio::test]
async fn each_distinct_report_is_fetched_once_and_then_cached() {
    let upstream = MockServer::start().await;
    let messages = (0..12).map(|i| message(i, "hello", "2024-04-29T02:08:29.375Z", Some(json!(100 + i % 3)))).collect();
    serve_messages(&upstream, messages).await;
    for id in 100..103 {
        serve_report(&upstream, id, &format!("Report {id}"), json!(10)).await;
    }
    // No kept period, so that the second request computes again and finds the reports in their cache.
    let config = credit_dashboard::server::config::Config { kept_period_ttl_ms: 0, ..test_config(&upstream) };
    let app = app(&config);
    assert_eq!(get(&app, "/usage").await.0, 200);
    assert_eq!(get(&app, "/usage").await.0, 200);
    for id in 100..103 {
        assert_eq!(calls_to(&upstream, &format!("/reports/{id}")).await, 1, "report {id}");
    }
    assert_eq!(calls_to(&upstream, "/messages/current-period").await, 2);
}
