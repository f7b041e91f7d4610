//! The server binary as an operator runs it: SIGTERM lets a request in flight finish and exits 0, and its log
//! lines are plain text off a terminal (no colour codes) or, with `log_format = "json"`, one JSON object each.

use crate::support::replica::Replica;
use crate::support::*;
use std::time::Duration;
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_0_with_plain_text_logs() {
    let upstream = MockServer::start().await;
    let messages = serde_json::json!({"messages": [message(1, "abc", "2024-04-29T02:08:29.375Z", None)]});
    respond(
        &upstream,
        "/messages/current-period",
        ResponseTemplate::new(200).set_body_json(messages).set_delay(Duration::from_millis(1500)),
    )
    .await;
    let mut server = Replica::start(&upstream.uri(), &[]).await;
    let slow = tokio::spawn(reqwest::get(server.url("/usage")));
    // The request is in flight once the upstream has seen it.
    eventually("the request reached the upstream", || async {
        calls_to(&upstream, "/messages/current-period").await > 0
    })
    .await;
    server.signal("-TERM");
    let response = slow.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("\"message_id\":1"));
    let status = server.wait(Duration::from_secs(15)).await;
    let output = server.log();
    assert!(status.success(), "exit status {status:?}: {output}");
    assert!(output.contains("shutting down"), "{output}");
    assert!(!output.contains('\u{1b}'), "no colour codes off a terminal: {output:?}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_level_target_message_and_fields() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let mut server = Replica::start(&upstream.uri(), &[("LOG_FORMAT", "json"), ("UPSTREAM_RETRIES", "0")]).await;
    let response = reqwest::get(server.url("/usage")).await.unwrap();
    assert_eq!(response.status(), 503);
    server.signal("-TERM");
    let status = server.wait(Duration::from_secs(15)).await;
    let output = server.log();
    assert!(status.success());
    let lines: Vec<serde_json::Value> =
        output.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    assert!(lines.len() >= 3, "{output}");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["target"].is_string() && line["fields"]["message"].is_string(),
            "{line}"
        );
    }
    let failure =
        lines.iter().find(|line| line["fields"]["message"] == "request failed").expect("the failure is logged");
    assert_eq!(
        (failure["level"].as_str(), failure["fields"]["code"].as_str()),
        (Some("ERROR"), Some("upstream_unavailable"))
    );
    assert_eq!(failure["fields"]["route"], "/usage");
}
