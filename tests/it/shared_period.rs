//! One computation per period, shared: concurrent requests (the page, its server functions, `/usage`)
//! share one upstream download; the priced period is kept for `kept_period_ttl_ms`; failures never are.

use crate::support::*;
use credit_dashboard::server::config::Config;
use serde_json::json;
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

const MESSAGES: &str = "/messages/current-period";

async fn slow_period(upstream: &MockServer, count: i64) {
    let messages: Vec<_> =
        (0..count).map(|i| message(i, "hello", "2024-04-29T02:08:29.375Z", Some(json!(100 + i % 5)))).collect();
    let body = json!({ "messages": messages });
    respond(upstream, MESSAGES, ResponseTemplate::new(200).set_body_json(body).set_delay(Duration::from_millis(200)))
        .await;
    for id in 100..105 {
        serve_report(upstream, id, &format!("Report {id}"), json!(10)).await;
    }
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_download_the_messages_once() {
    let upstream = MockServer::start().await;
    slow_period(&upstream, 40).await;
    let app = app(&test_config(&upstream));
    let requests = (0..50).map(|i| {
        let app = app.clone();
        let uri = ["/", "/usage", "/?sort=credits_used:desc&page=2"][i % 3];
        async move { get(&app, uri).await }
    });
    let responses = futures::future::join_all(requests).await;
    assert!(responses.iter().all(|(status, _)| *status == 200));
    assert_eq!(calls_to(&upstream, MESSAGES).await, 1);
    for id in 100..105 {
        assert_eq!(calls_to(&upstream, &format!("/reports/{id}")).await, 1, "report {id}");
    }
}

#[tokio::test]
async fn paging_through_a_kept_period_does_not_download_it_again() {
    let upstream = MockServer::start().await;
    slow_period(&upstream, 250).await;
    let app = app(&test_config(&upstream));
    for uri in ["/", "/?page=2", "/?page=3&sort=report_name:asc", "/usage"] {
        assert_eq!(get(&app, uri).await.0, 200, "{uri}");
    }
    assert_eq!(calls_to(&upstream, MESSAGES).await, 1);
}

#[tokio::test]
async fn the_kept_period_expires() {
    let upstream = MockServer::start().await;
    slow_period(&upstream, 3).await;
    let app = app(&Config { kept_period_ttl_ms: 300, ..test_config(&upstream) });
    assert_eq!(get(&app, "/usage").await.0, 200);
    assert_eq!(get(&app, "/usage").await.0, 200);
    assert_eq!(calls_to(&upstream, MESSAGES).await, 1);
    // Generous: expiry only has to have happened, whatever the machine's load.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(get(&app, "/usage").await.0, 200);
    assert_eq!(calls_to(&upstream, MESSAGES).await, 2);
}

#[tokio::test]
async fn a_ttl_of_zero_shares_only_what_is_in_flight() {
    let upstream = MockServer::start().await;
    slow_period(&upstream, 3).await;
    let app = app(&Config { kept_period_ttl_ms: 0, ..test_config(&upstream) });
    let together = futures::future::join_all((0..5).map(|_| get(&app, "/usage"))).await;
    assert!(together.iter().all(|(status, _)| *status == 200));
    assert_eq!(calls_to(&upstream, MESSAGES).await, 1, "concurrent requests shared one download");
    assert_eq!(get(&app, "/usage").await.0, 200);
    assert_eq!(calls_to(&upstream, MESSAGES).await, 2, "a later request downloads again");
}

#[tokio::test]
async fn a_failure_is_never_kept() {
    let upstream = MockServer::start().await;
    respond_first(&upstream, MESSAGES, ResponseTemplate::new(500), 3).await;
    slow_period(&upstream, 3).await;
    let app = app(&test_config(&upstream));
    assert_eq!(get(&app, "/usage").await.0, 503);
    assert_eq!(get(&app, "/usage").await.0, 200, "the next request tries again");
}

#[tokio::test]
async fn usage_is_unchanged_by_the_kept_period() {
    let upstream = MockServer::start().await;
    slow_period(&upstream, 2).await;
    let app = app(&test_config(&upstream));
    let expected = r#"{"usage":[{"message_id":0,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Report 100","credits_used":10.00},{"message_id":1,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Report 101","credits_used":10.00}]}"#;
    assert_eq!(get(&app, "/usage").await.1, expected);
    assert_eq!(get(&app, "/usage").await.1, expected, "from the kept period");
}
