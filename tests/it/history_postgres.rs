//! The history store on PostgreSQL, a real server each test starts (and stops, whatever happens): two servers
//! recording one period, a restart mid-period, the database going away and coming back, and the schema.

use crate::support::history_schema;

use crate::support::postgres::Postgres;
use crate::support::*;
use credit_dashboard::server::config::Config;
use credit_dashboard::server::history::{History, Listing};
use serde_json::{json, Value};
use sqlx::Row;
use wiremock::MockServer;

fn messages(ids: std::ops::Range<i64>) -> Vec<Value> {
    ids.map(|id| {
        let timestamp = format!("2024-04-{:02}T{:02}:15:00Z", 1 + id % 28, id % 24);
        message(id, &"y".repeat((id as usize * 3) % 29), &timestamp, (id % 4 == 0).then(|| json!(7)))
    })
    .collect()
}

async fn serve(upstream: &MockServer, ids: std::ops::Range<i64>) {
    upstream.reset().await;
    serve_messages(upstream, messages(ids)).await;
    serve_report(upstream, 7, "Title Search", json!(30)).await;
}

fn config(upstream: &MockServer, database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        kept_period_ttl_ms: 150,
        history_timeout_ms: 1_000,
        ..test_config(upstream)
    }
}

/// (periods, rows, distinct messages, the stored total in hundredths) as PostgreSQL holds them.
async fn stored(url: &str) -> (i64, i64, i64, i64) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM periods) AS periods, (SELECT COUNT(*) FROM period_rows) AS rows, \
         (SELECT COUNT(DISTINCT message_id) FROM period_rows) AS messages, \
         (SELECT CAST(COALESCE(SUM(total_hundredths), 0) AS BIGINT) FROM periods) AS total",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    (row.get("periods"), row.get("rows"), row.get("messages"), row.get("total"))
}

/// The sum of `/usage`'s credits, in hundredths.
fn usage_total(usage: &str) -> i64 {
    let usage: Value = serde_json::from_str(usage).unwrap();
    usage["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["credits_used"].as_f64().unwrap() * 100.0).round() as i64)
        .sum()
}

fn recorded(history: &History, messages: i64) -> bool {
    matches!(history.listing(), Listing::Read(periods) if periods.iter().any(|period| period.message_count == messages))
}

#[tokio::test]
async fn two_servers_recording_one_period_at_once_make_one_period_without_duplicates() {
    let database = Postgres::start();
    let url = database.database("two_servers").await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..300).await;
    let (first, first_state) = app_and_state(&config(&upstream, &url));
    let (second, second_state) = app_and_state(&config(&upstream, &url));
    let requests = (0..20).map(|i| {
        let app = if i % 2 == 0 { first.clone() } else { second.clone() };
        async move { get(&app, "/usage").await }
    });
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(status, _)| *status == 200));
    for history in [first_state.history.clone().unwrap(), second_state.history.clone().unwrap()] {
        // Each server wrote the period itself, not only read what the other wrote.
        eventually("both servers have recorded", || async { history.writes() > 0 && recorded(&history, 300) }).await;
    }
    assert_eq!(stored(&url).await, (1, 300, 300, usage_total(&answers[0].1)));
}

#[tokio::test]
async fn a_restart_mid_period_loses_nothing_and_doubles_nothing() {
    let database = Postgres::start();
    let url = database.database("restart").await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..120).await;
    let (app, state) = app_and_state(&config(&upstream, &url));
    get(&app, "/usage").await;
    let history = state.history.clone().unwrap();
    eventually("the first 120 recorded", || async { recorded(&history, 120) }).await;
    drop((app, state, history));

    // The period goes on while the server is down, and a new server starts on the same store.
    serve(&upstream, 0..200).await;
    let (app, state) = app_and_state(&config(&upstream, &url));
    let (_, usage) = get(&app, "/usage").await;
    let history = state.history.clone().unwrap();
    eventually("all 200 recorded", || async { recorded(&history, 200) }).await;
    assert_eq!(stored(&url).await, (1, 200, 200, usage_total(&usage)));
}

#[tokio::test]
async fn the_database_going_away_leaves_the_current_dashboard_working_and_recording_resumes() {
    let mut database = Postgres::start();
    let url = database.database("outage").await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..50).await;
    let (app, state) = app_and_state(&config(&upstream, &url));
    get(&app, "/usage").await;
    let history = state.history.clone().unwrap();
    eventually("recorded", || async { recorded(&history, 50) }).await;

    database.stop();
    serve(&upstream, 0..80).await;
    eventually("the page says past periods are unavailable", || async {
        let (status, html) = get(&app, "/").await;
        status == 200 && html.contains("Past periods are unavailable right now: the history store does not answer.")
    })
    .await;
    // The current dashboard keeps working, with the upstream's latest rows.
    let (status, html) = get(&app, "/").await;
    assert_eq!((status.as_u16(), table_ids(&html).len()), (200, 80));
    let (status, body) = get(&app, "/usage.csv?period=2024-03-01").await;
    assert_eq!((status.as_u16(), error_code(&body).as_str()), (503, "history_unavailable"));

    database.resume();
    eventually("recording resumed", || async { recorded(&history, 80) }).await;
    let (_, usage) = get(&app, "/usage").await;
    assert_eq!(stored(&url).await, (1, 80, 80, usage_total(&usage)));
}

#[tokio::test]
async fn postgres_schema_is_the_expected_one_and_a_newer_database_is_refused() {
    let database = Postgres::start();
    let url = database.database("schema").await;
    history_schema::the_schema_is_the_expected_one_and_a_newer_database_is_refused(&url, false).await;
}

#[tokio::test]
async fn the_alert_ledger_claims_once_and_records_attempts_on_postgres() {
    use credit_dashboard::server::history::store::HistoryStore;
    let database = Postgres::start();
    let url = database.database("ledger").await;
    let store = HistoryStore::open(&url, std::time::Duration::from_secs(5)).unwrap();
    store.migrate().await.unwrap();
    assert!(store.claim_alert("2024-05-01", "threshold", 500, "{}", "one", 1_000).await.unwrap());
    assert!(!store.claim_alert("2024-05-01", "threshold", 500, "{}", "two", 1_001).await.unwrap(), "claimed once");
    let alert = store.alerts_of("2024-05-01").await.unwrap().remove(0);
    assert!(!store.record_attempt(&alert, "two", 2_000, Some("HTTP 500")).await.unwrap(), "not the claimer's");
    assert!(store.record_attempt(&alert, "one", 2_000, Some("HTTP 500")).await.unwrap());
    assert_eq!(store.undelivered_alerts().await.unwrap().len(), 1);
    // Taken over after the lease, then delivered.
    assert!(!store.claim_retry(&alert, "two", 2_500, 1_000).await.unwrap(), "the lease still holds");
    assert!(store.claim_retry(&alert, "two", 3_500, 1_000).await.unwrap());
    assert!(store.record_attempt(&alert, "two", 3_600, None).await.unwrap());
    let alert = store.alerts_of("2024-05-01").await.unwrap().remove(0);
    assert_eq!((alert.state.as_str(), alert.attempts, alert.delivered_ms), ("delivered", 2, Some(3_600)));
    assert!(store.undelivered_alerts().await.unwrap().is_empty());
}
