//! Budget alerts against a real HTTP receiver (a server of this test's, not a mock of the sending code): the
//! body, the signature and its timestamp checked as a receiver would; both thresholds crossed in one check fire,
//! in order; a restart and a second server fire nothing again; a receiver that fails, or never answers, gets the
//! alert later, once accepted.

use crate::support::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use credit_dashboard::server::config::Config;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::MockServer;

const SECRET: &str = "whsec-0123456789abcdef";

/// What the receiver does with the next request: answer with a status, or never answer.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    Never,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    plan: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    /// Listens on a free port; answers 200 unless its plan says otherwise.
    async fn start(plan: &[Answer]) -> (Receiver, String) {
        let receiver = Receiver { plan: Arc::new(Mutex::new(plan.iter().copied().collect())), ..Receiver::default() };
        let router = axum::Router::new().route("/hooks/T0K3N", post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/T0K3N", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (receiver, url)
    }

    fn received(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().unwrap().clone()
    }

    /// The alert ids the receiver accepted (answered 2xx), in order.
    fn accepted(&self) -> Vec<String> {
        self.received()
            .iter()
            .filter(|(headers, _)| headers.contains_key("x-test-accepted"))
            .map(|(headers, _)| headers["x-dashboard-alert-id"].to_str().unwrap().to_owned())
            .collect()
    }
}

async fn receive(State(receiver): State<Receiver>, mut headers: HeaderMap, body: String) -> StatusCode {
    let answer = receiver.plan.lock().unwrap().pop_front().unwrap_or(Answer::Status(200));
    let status = match answer {
        Answer::Status(status) => StatusCode::from_u16(status).unwrap(),
        Answer::Never => {
            receiver.received.lock().unwrap().push((headers, body));
            tokio::time::sleep(Duration::from_secs(30)).await;
            return StatusCode::OK;
        }
    };
    if status.is_success() {
        headers.insert("x-test-accepted", "1".parse().unwrap());
    }
    receiver.received.lock().unwrap().push((headers, body));
    status
}

/// What a receiver does with an alert: the signature is HMAC-SHA256 of "<timestamp>.<body>" under the shared
/// secret, and a timestamp more than 5 minutes away is a replay.
fn verified(headers: &HeaderMap, body: &str) -> bool {
    let timestamp: i64 = headers["x-dashboard-timestamp"].to_str().unwrap().parse().unwrap();
    if (jiff::Timestamp::now().as_second() - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    headers["x-dashboard-signature"].to_str().unwrap() == expected
}

/// 85.00 credits in May 2024 (a report costing 85), against a budget of 100.00.
async fn upstream() -> MockServer {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "x", "2024-05-02T10:00:00Z", Some(json!(1)))]).await;
    serve_report(&upstream, 1, "Lease", json!(85)).await;
    upstream
}

fn config(upstream: &MockServer, directory: &tempfile::TempDir, webhook: &str) -> Config {
    Config {
        database_url: format!("sqlite://{}/history.sqlite3", directory.path().display()),
        credit_budget: "100".into(),
        alert_webhook_url: webhook.into(),
        alert_webhook_secret: SECRET.into(),
        alert_check_interval_secs: 1,
        alert_webhook_timeout_ms: 300,
        ..test_config(upstream)
    }
}

#[tokio::test]
async fn both_thresholds_crossed_in_one_check_fire_in_order_signed_and_once_across_a_restart_and_a_second_server() {
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let (app, _state) = app_and_state(&config(&upstream, &directory, &webhook));
    get(&app, "/usage").await;
    eventually("two alerts accepted", || async { receiver.accepted().len() >= 2 }).await;
    assert_eq!(receiver.accepted(), ["2024-05-02/threshold/500", "2024-05-02/threshold/800"]);
    for (headers, body) in receiver.received() {
        assert!(verified(&headers, &body), "a valid signature: {headers:?}");
        assert_eq!(headers["content-type"], "application/json");
    }
    let (_, body) = &receiver.received()[1];
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        body,
        json!({
            "alert_id": "2024-05-02/threshold/800",
            "kind": "threshold",
            "threshold_permille": 800,
            "period": {"id": "2024-05-02", "start": "2024-05-02T00:00:00Z", "end": null},
            "budget": 100.00,
            "used": 85.00,
            "used_permille": 850,
            "projected_total": null,
            "as_of": body["as_of"],
        })
    );
    // The page lists them, delivered; neither the webhook's secret path nor the secret is anywhere in it.
    eventually("the page lists the alerts", || async {
        get(&app, "/").await.1.contains("80.0 % of the budget reached: delivered")
    })
    .await;
    let (_, html) = get(&app, "/").await;
    assert!(html.contains("50.0 % of the budget reached: delivered"));
    assert!(!html.contains("T0K3N") && !html.contains(SECRET));

    // A restart on the same store, and a second server beside it: nothing fires again.
    drop((app, _state));
    let (restarted, _restarted_state) = app_and_state(&config(&upstream, &directory, &webhook));
    let (second, _second_state) = app_and_state(&config(&upstream, &directory, &webhook));
    get(&restarted, "/usage").await;
    get(&second, "/usage").await;
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(receiver.received().len(), 2, "each alert was sent once");
}

#[tokio::test]
async fn two_servers_starting_together_fire_each_alert_once() {
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let (first, _first_state) = app_and_state(&config(&upstream, &directory, &webhook));
    let (second, _second_state) = app_and_state(&config(&upstream, &directory, &webhook));
    futures::future::join(get(&first, "/usage"), get(&second, "/usage")).await;
    eventually("two alerts accepted", || async { receiver.accepted().len() >= 2 }).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut accepted = receiver.accepted();
    accepted.sort();
    assert_eq!(accepted, ["2024-05-02/threshold/500", "2024-05-02/threshold/800"]);
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_alert_later_accepted_once() {
    // The first alert meets three 500s (one check's attempts), then a 200 at the next check.
    let (receiver, webhook) = Receiver::start(&[Answer::Status(500), Answer::Status(500), Answer::Status(500)]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let config = Config { credit_budget: "160".into(), ..config(&upstream, &directory, &webhook) };
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("the failing alert shown", || async {
        get(&app, "/")
            .await
            .1
            .contains("50.0 % of the budget reached: failing (HTTP 500 Internal Server Error, 3 attempts")
    })
    .await;
    eventually("accepted at the next check", || async { receiver.accepted().len() == 1 }).await;
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|(headers, _)| headers["x-dashboard-alert-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec!["2024-05-02/threshold/500"; 4], "three refused, one accepted");
    eventually("the page says delivered", || async {
        get(&app, "/").await.1.contains("50.0 % of the budget reached: delivered")
    })
    .await;
    let (_, html) = get(&app, "/").await;
    assert!(html.contains("4 attempts)"), "every attempt counted");
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_bounded_by_the_timeout_and_retried_at_the_next_check() {
    let (receiver, webhook) = Receiver::start(&[Answer::Never, Answer::Never, Answer::Never]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let config = Config { credit_budget: "160".into(), ..config(&upstream, &directory, &webhook) };
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("failing after three timeouts", || async {
        get(&app, "/").await.1.contains("failing (no answer within 300 ms, 3 attempts")
    })
    .await;
    eventually("accepted at a later check", || async { receiver.accepted() == ["2024-05-02/threshold/500"] }).await;
}

#[tokio::test]
async fn a_projected_overrun_fires_once() {
    // A 30-day cycle that started ten days ago: 5.00 a day, 50.00 so far of a 120.00 budget; at 5.00 a day the
    // period ends near 150.00.
    let (receiver, webhook) = Receiver::start(&[]).await;
    let today = jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date();
    let start = today.checked_sub(jiff::ToSpan::days(10)).unwrap();
    let upstream = MockServer::start().await;
    let messages = (0..10)
        .map(|i| {
            message(i, "x", &format!("{}T12:00:00Z", start.checked_add(jiff::ToSpan::days(i)).unwrap()), Some(json!(1)))
        })
        .collect();
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 1, "Lease", json!(5)).await;
    let directory = tempfile::tempdir().unwrap();
    let config = Config {
        credit_budget: "120".into(),
        billing_cycle_anchor: format!("{start}T00:00:00Z"),
        billing_interval: "30".into(),
        ..config(&upstream, &directory, &webhook)
    };
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("the overrun alert", || async { receiver.accepted().contains(&format!("{start}/projected_overrun/0")) })
        .await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        receiver.accepted(),
        [format!("{start}/projected_overrun/0")],
        "used 41.7 %: no threshold; the overrun once"
    );
    let body: Value = serde_json::from_str(&receiver.received()[0].1).unwrap();
    assert!(body["projected_total"].as_f64().unwrap() > 120.0, "{body}");
}

#[tokio::test]
async fn an_alert_whose_sender_died_mid_send_is_taken_over_and_delivered_once() {
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let config = config(&upstream, &directory, &webhook);
    // A server claimed the 50 % alert a minute ago and died before any attempt.
    let store =
        credit_dashboard::server::history::store::HistoryStore::open(&config.database_url, Duration::from_secs(5))
            .unwrap();
    store.migrate().await.unwrap();
    let a_minute_ago = jiff::Timestamp::now().as_millisecond() - 60_000;
    let body = r#"{"alert_id":"2024-05-02/threshold/500"}"#;
    assert!(store.claim_alert("2024-05-02", "threshold", 500, body, "a-dead-server", a_minute_ago).await.unwrap());
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("both alerts accepted", || async { receiver.accepted().len() >= 2 }).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let mut accepted = receiver.accepted();
    accepted.sort();
    assert_eq!(accepted, ["2024-05-02/threshold/500", "2024-05-02/threshold/800"]);
    // The taken-over alert went with the body claimed with it.
    assert!(receiver.received().iter().any(|(_, sent)| sent == body));
}
