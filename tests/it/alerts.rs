//! Budget alerts against a real HTTP receiver (a server of this test's, not a mock of the sending code): each
//! delivery verified with the Standard Webhooks library (`standardwebhooks`) under either of two secrets, as a
//! receiver rotating its secret would; both thresholds crossed in one check fire, in order; a restart and a
//! second server fire nothing again; a receiver that fails, or never answers, gets the alert later, once
//! accepted; one that refuses it for good, or keeps failing past the retry window, ends it failed; a cycle that
//! has just ended still gets its alert; a live claim is left alone and an abandoned one taken over.

use crate::support::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use credit_dashboard::server::billing::alert_ledger::{AlertKey, AlertKind, AlertLedger, AttemptOutcome};
use credit_dashboard::server::config::Config;
use credit_dashboard::server::database::Database;
use credit_dashboard::server::upstream::settings::UpstreamSettings;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::MockServer;

/// The receiver's old and new secrets, both configured while it rotates: every delivery verifies under each.
const OLD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW_SECRET: &str = "whsec_c2Vjb25kLXNlY3JldC1rZXktb2YtMzItYnl0ZXMhIQ==";

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
            .map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned())
            .collect()
    }

    /// Every alert id the receiver was sent, accepted or not, in order.
    fn ids(&self) -> Vec<String> {
        self.received().iter().map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned()).collect()
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

/// What a receiver does with an alert, with the Standard Webhooks library: the signature of the id, the
/// timestamp (at most five minutes away) and the body, under its secret.
fn verified(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    standardwebhooks::Webhook::new(secret).unwrap().verify(body.as_bytes(), headers).is_ok()
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
        alert_webhook_secret: format!("{OLD_SECRET} {NEW_SECRET}"),
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
        assert!(verified(OLD_SECRET, &headers, &body), "signed with the old secret: {headers:?}");
        assert!(verified(NEW_SECRET, &headers, &body), "signed with the new secret: {headers:?}");
        assert_eq!(headers["content-type"], "application/json");
        // The id is signed: the same delivery replayed under another id does not verify.
        let mut replayed = headers.clone();
        replayed.insert("webhook-id", "2024-05-02/threshold/900".parse().unwrap());
        assert!(!verified(NEW_SECRET, &replayed, &body));
        assert!(!verified("whsec_c29tZS1vdGhlci1zZWNyZXQtb2YtMjQ=", &headers, &body), "another secret");
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
    assert!(!html.contains("T0K3N") && !html.contains(OLD_SECRET) && !html.contains(NEW_SECRET));

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
    assert_eq!(receiver.ids(), vec!["2024-05-02/threshold/500"; 4], "three refused, one accepted");
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

fn threshold(period: &str, permille: i64) -> AlertKey {
    AlertKey { period_id: period.into(), kind: AlertKind::Threshold, threshold_permille: permille }
}

async fn ledger(config: &Config) -> AlertLedger {
    let db = Database::open(&config.database_url, Duration::from_secs(5), Duration::from_secs(30)).unwrap();
    db.ensure_schema().await.unwrap();
    AlertLedger::new(Arc::new(db), &UpstreamSettings::from_config(config).unwrap().identity)
}

#[tokio::test]
async fn an_abandoned_claim_is_taken_over_and_delivered_once_and_a_live_one_is_left_alone() {
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    // A webhook timeout of 2 s makes a claim's lease 3 × 2 s + the backoff + 1 s = 9 s.
    let config = Config { alert_webhook_timeout_ms: 2_000, ..config(&upstream, &directory, &webhook) };
    // A server claimed the 50 % alert a minute ago and died before any attempt; another claimed the 80 % one
    // just now and is sending it.
    let store = ledger(&config).await;
    let now = jiff::Timestamp::now().as_millisecond();
    let abandoned = r#"{"alert_id":"2024-05-02/threshold/500"}"#;
    assert!(store.claim_alert(&threshold("2024-05-02", 500), abandoned, "a-dead-server", now - 60_000).await.unwrap());
    assert!(store.claim_alert(&threshold("2024-05-02", 800), "{}", "a-live-server", now).await.unwrap());
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("the abandoned alert accepted", || async { !receiver.accepted().is_empty() }).await;
    // Three checks later, the live claim (its lease is 9 s) is still left to its server.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(receiver.accepted(), ["2024-05-02/threshold/500"]);
    // The taken-over alert went with the body claimed with it.
    assert_eq!(receiver.received()[0].1, abandoned);
}

#[tokio::test]
async fn a_sender_whose_claim_was_taken_over_cannot_record_and_so_stops() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/history.sqlite3", directory.path().display());
    let store = ledger(&Config { database_url: url, ..Config::default() }).await;
    let key = threshold("2024-05-02", 500);
    assert!(store.claim_alert(&key, "{}", "slow-server", 0).await.unwrap());
    assert!(!store.claim_retry(&key, "other-server", 1_000, 60_000).await.unwrap(), "a live claim is kept");
    assert!(store.claim_retry(&key, "other-server", 61_000, 60_000).await.unwrap(), "a lease later it is taken");
    let failing = AttemptOutcome::Failing { error: "HTTP 500", next_attempt_ms: 62_000 };
    assert!(!store.record_attempt(&key, "slow-server", 61_500, &failing).await.unwrap(), "the old sender stops");
    assert!(store.record_attempt(&key, "other-server", 61_500, &AttemptOutcome::Delivered).await.unwrap());
    assert!(store.undelivered_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_receiver_that_refuses_an_alert_for_good_gets_one_attempt_and_the_alert_is_failed() {
    let (receiver, webhook) = Receiver::start(&[Answer::Status(404), Answer::Status(410)]).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let config = config(&upstream, &directory, &webhook);
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("both refused and shown failed", || async {
        let html = get(&app, "/").await.1;
        html.contains("50.0 % of the budget reached: failed (HTTP 404 Not Found, 1 attempt; not retried")
            && html.contains("80.0 % of the budget reached: failed (HTTP 410 Gone, 1 attempt; not retried")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(receiver.ids(), ["2024-05-02/threshold/500", "2024-05-02/threshold/800"], "never again");
}

#[tokio::test]
async fn a_delivery_failing_past_the_retry_window_is_failed_and_retried_no_more() {
    let plan = [Answer::Status(503); 64];
    let (receiver, webhook) = Receiver::start(&plan).await;
    let upstream = upstream().await;
    let directory = tempfile::tempdir().unwrap();
    let config =
        Config { credit_budget: "160".into(), alert_retry_window_secs: 2, ..config(&upstream, &directory, &webhook) };
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("given up", || async { get(&app, "/").await.1.contains("given up after 2 s of retries") }).await;
    let attempts = receiver.ids().len();
    // Rounds of three attempts, with backoff between rounds (1 s, then 2 s, ...): within the window, at most
    // three rounds, where retrying at every check would have made more.
    assert!((3..=9).contains(&attempts) && attempts % 3 == 0, "{attempts} attempts");
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    assert_eq!(receiver.ids().len(), attempts, "no attempt after the window");
}

#[tokio::test]
async fn a_threshold_crossed_just_before_a_cycle_ends_fires_though_the_next_cycle_has_begun() {
    // A monthly cycle from the 1st: 85.00 of 100.00 at 23:59:50 on 31 May, then 1.00 at 00:00:05 on 1 June.
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = MockServer::start().await;
    let messages =
        vec![message(1, "x", "2024-05-31T23:59:50Z", Some(json!(1))), message(2, "abcd", "2024-06-01T00:00:05Z", None)];
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 1, "Lease", json!(85)).await;
    let directory = tempfile::tempdir().unwrap();
    let config = Config {
        billing_cycle_anchor: "2024-01-01T00:00:00Z".into(),
        billing_interval: "month".into(),
        ..config(&upstream, &directory, &webhook)
    };
    let (app, _state) = app_and_state(&config);
    get(&app, "/usage").await;
    eventually("May's alerts", || async { receiver.accepted().len() >= 2 }).await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(receiver.accepted(), ["2024-05-01/threshold/500", "2024-05-01/threshold/800"]);
    let body: Value = serde_json::from_str(&receiver.received()[1].1).unwrap();
    assert_eq!(
        (&body["period"], &body["used"], &body["projected_total"]),
        (
            &json!({"id": "2024-05-01", "start": "2024-05-01T00:00:00Z", "end": "2024-06-01T00:00:00Z"}),
            &json!(85.0),
            &Value::Null
        )
    );
}

#[tokio::test]
async fn two_real_servers_starting_together_on_postgresql_fire_each_alert_once() {
    use crate::support::postgres::Postgres;
    use crate::support::replica::Replica;
    let (receiver, webhook) = Receiver::start(&[]).await;
    let upstream = upstream().await;
    let database = Postgres::start();
    let url = database.database("alerts").await;
    let secret = format!("{OLD_SECRET} {NEW_SECRET}");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CREDIT_BUDGET", "100"),
        ("BILLING_CYCLE_ANCHOR", ""),
        ("BILLING_INTERVAL", ""),
        ("ALERT_WEBHOOK_URL", webhook.as_str()),
        ("ALERT_WEBHOOK_SECRET", secret.as_str()),
        ("ALERT_CHECK_INTERVAL_SECS", "1"),
        ("ALERT_WEBHOOK_TIMEOUT_MS", "300"),
    ];
    let upstream_url = upstream.uri();
    let (first, second) =
        futures::future::join(Replica::start(&upstream_url, &env), Replica::start(&upstream_url, &env)).await;
    let client = reqwest::Client::new();
    let (a, b) =
        futures::future::join(client.get(first.url("/usage")).send(), client.get(second.url("/usage")).send()).await;
    assert_eq!((a.unwrap().status().as_u16(), b.unwrap().status().as_u16()), (200, 200));
    eventually("two alerts accepted", || async { receiver.accepted().len() >= 2 }).await;
    // Three more checks on each server.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let mut accepted = receiver.accepted();
    accepted.sort();
    assert_eq!(accepted, ["2024-05-02/threshold/500", "2024-05-02/threshold/800"]);
    assert_eq!(receiver.received().len(), 2, "each sent once, by one of the two");
    for (headers, body) in receiver.received() {
        assert!(verified(NEW_SECRET, &headers, &body));
    }
}
