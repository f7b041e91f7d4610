//! The history store on PostgreSQL, a real server each test starts (and stops, whatever happens): two servers
//! recording one period, a restart mid-period, the database going away and coming back, and the schema.

use crate::support::{history_schema, store_semantics};

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
        "SELECT (SELECT COUNT(*) FROM credit_dashboard_periods) AS periods, \
         (SELECT COUNT(*) FROM credit_dashboard_period_rows) AS rows, \
         (SELECT COUNT(DISTINCT message_id) FROM credit_dashboard_period_rows) AS messages, \
         (SELECT CAST(COALESCE(SUM(total_hundredths), 0) AS BIGINT) FROM credit_dashboard_periods) AS total",
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
async fn two_servers_writing_one_period_at_the_same_time_leave_exactly_the_newer_fetch() {
    use sqlx::Connection;
    let database = Postgres::start();
    let url = database.database("two_servers").await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..300).await;
    let (first, first_state) = app_and_state(&config(&upstream, &url));
    let (second, second_state) = app_and_state(&config(&upstream, &url));
    let histories = [first_state.periods.history().cloned().unwrap(), second_state.periods.history().cloned().unwrap()];
    get(&first, "/usage").await;
    eventually("recorded", || async { recorded(&histories[0], 300) }).await;

    // The test holds the period's row: every write of it waits until the test lets go, so the two servers'
    // writes are in flight together.
    let mut holder = <sqlx::AnyConnection as Connection>::connect(&url).await.unwrap();
    let mut hold = holder.begin().await.unwrap();
    sqlx::query("SELECT id FROM credit_dashboard_periods FOR UPDATE").fetch_all(&mut *hold).await.unwrap();
    // The first server fetches 310 messages, the second, later, 320.
    serve(&upstream, 0..310).await;
    usage_once_it_contains(&first, "\"message_id\":309,").await;
    serve(&upstream, 0..320).await;
    let newest = usage_once_it_contains(&second, "\"message_id\":319,").await;
    // Until both servers' writes wait on the period's row (seen from another connection: within a transaction,
    // pg_stat_activity is one snapshot).
    let mut watcher = <sqlx::AnyConnection as Connection>::connect(&url).await.unwrap();
    let mut waiting = 0;
    for _ in 0..200 {
        let sql = "SELECT COUNT(*) FROM pg_stat_activity \
                   WHERE wait_event_type = 'Lock' AND query LIKE '%credit_dashboard_periods%'";
        waiting = sqlx::Row::get::<i64, _>(&sqlx::query(sql).fetch_one(&mut watcher).await.unwrap(), 0);
        if waiting >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(waiting >= 2, "both servers' writes wait on the period's row: {waiting}");
    hold.commit().await.unwrap();
    eventually("the newest fetch recorded", || async { recorded(&histories[1], 320) }).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert_eq!(stored(&url).await, (1, 320, 320, usage_total(&newest)), "the newer fetch, whole, once");
}

#[tokio::test]
async fn a_restart_mid_period_loses_nothing_and_doubles_nothing() {
    let database = Postgres::start();
    let url = database.database("restart").await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..120).await;
    let (app, state) = app_and_state(&config(&upstream, &url));
    get(&app, "/usage").await;
    let history = state.periods.history().cloned().unwrap();
    eventually("the first 120 recorded", || async { recorded(&history, 120) }).await;
    drop((app, state, history));

    // The period goes on while the server is down, and a new server starts on the same store.
    serve(&upstream, 0..200).await;
    let (app, state) = app_and_state(&config(&upstream, &url));
    let (_, usage) = get(&app, "/usage").await;
    let history = state.periods.history().cloned().unwrap();
    eventually("all 200 recorded", || async { recorded(&history, 200) }).await;
    assert_eq!(stored(&url).await, (1, 200, 200, usage_total(&usage)));
}

/// Records 50 messages; then the database goes away as `outage` makes it while the upstream goes on to 80:
/// the current page keeps working, with the upstream's rows, and says past periods are unavailable; `recovery`
/// brings it back, and recording resumes with every row once. `name`: the test's database.
async fn an_outage_and_a_recovery(
    name: &str,
    work_timeout_ms: u64,
    outage: fn(&mut Postgres),
    recovery: fn(&mut Postgres),
) {
    let mut database = Postgres::start();
    let url = database.database(name).await;
    let upstream = MockServer::start().await;
    serve(&upstream, 0..50).await;
    let (app, state) = app_and_state(&Config { history_work_timeout_ms: work_timeout_ms, ..config(&upstream, &url) });
    get(&app, "/usage").await;
    let history = state.periods.history().cloned().unwrap();
    eventually("recorded", || async { recorded(&history, 50) }).await;

    outage(&mut database);
    serve(&upstream, 0..80).await;
    eventually("the page says past periods are unavailable", || async {
        let (status, html) = get(&app, "/").await;
        status == 200 && html.contains("Past periods are unavailable right now: the history store does not answer.")
    })
    .await;
    let (status, html) = get(&app, "/").await;
    assert_eq!((status.as_u16(), table_ids(&html).len()), (200, 80), "the current period is the upstream's");
    let (status, body) = get(&app, "/usage.csv?period=2024-04-01").await;
    assert_eq!((status.as_u16(), error_code(&body).as_str()), (503, "history_unavailable"));

    recovery(&mut database);
    eventually("recording resumed", || async { recorded(&history, 80) }).await;
    let (_, usage) = get(&app, "/usage").await;
    assert_eq!(stored(&url).await, (1, 80, 80, usage_total(&usage)));
}

#[tokio::test]
async fn the_database_going_away_leaves_the_current_dashboard_working_and_recording_resumes() {
    an_outage_and_a_recovery("outage", 30_000, Postgres::stop, Postgres::resume).await;
}

#[tokio::test]
async fn postgres_schema_is_the_expected_one_and_a_newer_database_is_refused() {
    let database = Postgres::start();
    let url = database.database("schema").await;
    history_schema::the_schema_is_the_expected_one_and_a_newer_database_is_refused(&url, false).await;
}

#[tokio::test]
async fn the_alert_ledger_claims_once_and_records_attempts_on_postgres() {
    use credit_dashboard::server::billing::alert_ledger::AlertLedger;
    use credit_dashboard::server::billing::alert_ledger::{AlertKey, AlertKind, AlertState, AttemptOutcome};
    use credit_dashboard::server::database::Database;
    let database = Postgres::start();
    let url = database.database("ledger").await;
    let timeout = std::time::Duration::from_secs(5);
    let db = std::sync::Arc::new(Database::open(&url, timeout, timeout * 6).unwrap());
    db.ensure_schema().await.unwrap();
    let store = AlertLedger::new(db, "an upstream");
    let key = AlertKey { period_id: "2024-05-01".into(), kind: AlertKind::Threshold, threshold_permille: 500 };
    assert!(store.claim_alert(&key, "{}", "one", 1_000).await.unwrap());
    assert!(!store.claim_alert(&key, "{}", "two", 1_001).await.unwrap(), "claimed once");
    let failing = AttemptOutcome::Failing { error: "HTTP 500", next_attempt_ms: 2_000 };
    assert!(!store.record_attempt(&key, "two", 2_000, &failing).await.unwrap(), "not the claimer's");
    assert!(store.record_attempt(&key, "one", 2_000, &failing).await.unwrap());
    assert_eq!(store.undelivered_alerts().await.unwrap().len(), 1);
    // Taken over after the lease, then delivered.
    assert!(!store.claim_retry(&key, "two", 2_500, 1_000).await.unwrap(), "the lease still holds");
    assert!(store.claim_retry(&key, "two", 3_500, 1_000).await.unwrap());
    assert!(store.record_attempt(&key, "two", 3_600, &AttemptOutcome::Delivered).await.unwrap());
    let alert = store.alerts_of(&["2024-05-01"]).await.unwrap().remove(0);
    assert_eq!((alert.state, alert.attempts, alert.delivered_ms), (AlertState::Delivered, 2, Some(3_600)));
    assert!(store.undelivered_alerts().await.unwrap().is_empty());
}

#[tokio::test]
async fn postgres_holds_exactly_the_newest_fetch_of_each_period() {
    let database = Postgres::start();
    let url = database.database("newest").await;
    store_semantics::a_period_holds_exactly_the_newest_fetch_it_was_given(&url).await;
}

#[tokio::test]
async fn postgres_closes_a_period_only_on_newer_evidence() {
    let database = Postgres::start();
    let url = database.database("evidence").await;
    store_semantics::a_period_closes_only_on_newer_evidence_and_a_newer_sighting_reopens_it(&url).await;
}

#[tokio::test]
async fn a_hung_database_fails_each_write_within_the_work_timeout_and_recording_goes_on_when_it_answers() {
    // Frozen mid-run (SIGSTOP): a write of the new rows cannot end. Bounded, it fails, and the recorder goes on
    // to read the listing, which fails too, so the page says so; a recorder stuck in the write never would.
    an_outage_and_a_recovery("hung", 1_000, |database| database.hang(), |database| database.wake()).await;
}
