//! A fleet of replicas in front of one fake upstream (wiremock) and one Redis: the period they serve, the
//! upstream's counts, and the replicas' own answers.

use super::redis::Redis;
use super::replica::Replica;
use super::*;
use serde_json::{json, Value};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const MESSAGES: &str = "/messages/current-period";
/// The reports the period's messages name; 104 does not exist.
pub const REPORTS: [u64; 5] = [100, 101, 102, 103, 104];

/// `count` messages, every sixth priced by its text, the others by one of the reports; ids from `first_id`.
pub fn messages(first_id: i64, count: i64) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let report = (i % 6 != 5).then(|| json!(REPORTS[(i % 6) as usize]));
            let day = 1 + i % 20;
            message(first_id + i, &"words ".repeat(1 + i as usize % 7), &format!("2024-05-{day:02}T10:00:00Z"), report)
        })
        .collect()
}

/// The upstream: `messages` (answered after `delay`), and the reports (104 is a 404); it is ready (`HEAD`).
pub async fn serve(upstream: &MockServer, messages: Vec<Value>, delay: Duration) {
    let ready = ResponseTemplate::new(200);
    Mock::given(method("HEAD")).and(path(MESSAGES)).respond_with(ready).mount(upstream).await;
    let body = json!({ "messages": messages });
    respond(upstream, MESSAGES, ResponseTemplate::new(200).set_body_json(body).set_delay(delay)).await;
    for id in &REPORTS[..4] {
        serve_report(upstream, *id, &format!("Report {id}"), json!(10 + id)).await;
    }
    respond(upstream, "/reports/104", ResponseTemplate::new(404)).await;
}

/// How many GETs the upstream answered for `route` (readiness probes are HEADs).
pub async fn gets(upstream: &MockServer, route: &str) -> usize {
    let requests = upstream.received_requests().await.unwrap_or_default();
    requests.iter().filter(|request| request.method.as_str() == "GET" && request.url.path() == route).count()
}

/// `count` replicas sharing `redis`, each with `env` on top; returns once each one shares.
pub async fn replicas(count: usize, upstream: &MockServer, redis: &Redis, env: &[(&str, &str)]) -> Vec<Replica> {
    let url = redis.url();
    let mut shared = vec![("SHARED_CACHE_URL", url.as_str()), ("SHARED_CACHE_TIMEOUT_MS", "2000")];
    shared.extend_from_slice(env);
    let mut started = Vec::new();
    for _ in 0..count {
        started.push(Replica::start(&upstream.uri(), &shared).await);
    }
    for replica in &started {
        eventually("the replica shares", || async { readiness(replica).await == "ready (sharing)" }).await;
    }
    started
}

pub async fn readiness(replica: &Replica) -> String {
    match reqwest::get(replica.url("/readyz")).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub async fn fetch(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the replica answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The page's "Data as of" time.
pub fn as_of(html: &str) -> String {
    let start = html.find("Data as of ").expect("the as-of line") + "Data as of ".len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

/// One page of the table through its server function, as the island asks for it.
pub async fn replica_table_page(replica: &Replica, view: &str) -> Value {
    let response = reqwest::Client::new()
        .post(replica.url("/api/table_page"))
        .header("accept", "application/json")
        .json(&json!({ "view": view }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub fn row_ids(page: &Value) -> Vec<i64> {
    page["rows"].as_array().unwrap().iter().map(|row| row["message_id"].as_i64().unwrap()).collect()
}

/// Once `waiters` replicas wait on another's lease, as Redis saw it: since `scripts_before` (its count of
/// scripts run), each one has looked for the period, tried for the lease, read who holds it (3 scripts) and
/// looked again at least once (3 more, every 50 ms).
pub async fn until_waiting_on_the_lease(redis: &Redis, scripts_before: u64, waiters: u64) {
    eventually("the replicas wait on the lease", || async {
        redis.info("commandstats", "cmdstat_eval") >= scripts_before + 6 * waiters
    })
    .await;
}
