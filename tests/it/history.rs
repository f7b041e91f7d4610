//! The history store on SQLite (a real file in a temporary directory): a period the upstream moved on from is
//! browsable and exportable exactly as `/usage` gave it, the current period is compared with it, retention, and
//! the schema.

use crate::support::{history_schema, store_semantics};

use crate::support::*;
use credit_dashboard::server::config::Config;
use credit_dashboard::server::history::{History, Listing};
use serde_json::{json, Value};
use wiremock::MockServer;

/// `count` messages a day apart from `first_day` at 06:00 UTC, every third priced by report 1.
fn period(first_id: i64, first_day: &str, count: i64) -> Vec<Value> {
    let start: jiff::Timestamp = format!("{first_day}T06:00:00Z").parse().unwrap();
    (0..count)
        .map(|i| {
            let time = start.checked_add(jiff::SignedDuration::from_hours(i * 7)).unwrap();
            let report = (i % 3 == 0).then(|| json!(1));
            message(first_id + i, &"x".repeat((i as usize * 5) % 37), &time.to_string(), report)
        })
        .collect()
}

async fn serve(upstream: &MockServer, messages: Vec<Value>) {
    upstream.reset().await;
    serve_messages(upstream, messages).await;
    serve_report(upstream, 1, "Lease Review", json!(12.5)).await;
}

fn history_config(upstream: &MockServer, directory: &tempfile::TempDir) -> Config {
    Config {
        database_url: format!("sqlite://{}/history.sqlite3", directory.path().display()),
        kept_period_ttl_ms: 150,
        ..test_config(upstream)
    }
}

fn listed(history: &History, id: &str, closed: bool) -> bool {
    matches!(history.listing(), Listing::Read(periods)
        if periods.iter().any(|period| period.id == id && period.closed_ms.is_some() == closed))
}

/// `/usage`'s rows as CSV's first four columns write them.
fn usage_as_csv_columns(usage: &str) -> Vec<[String; 4]> {
    let usage: Value = serde_json::from_str(usage).unwrap();
    usage["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            [
                row["message_id"].to_string(),
                row["timestamp"].as_str().unwrap().to_owned(),
                row["report_name"].as_str().unwrap_or("").to_owned(),
                format!("{:.2}", row["credits_used"].as_f64().unwrap()),
            ]
        })
        .collect()
}

fn csv_columns(csv: &str) -> Vec<[String; 4]> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            [0, 1, 2, 3].map(|i| record[i].to_owned())
        })
        .collect()
}

/// Hundredths of each `/usage` row with its timestamp.
fn usage_credits(usage: &str) -> Vec<(jiff::Timestamp, i64)> {
    let usage: Value = serde_json::from_str(usage).unwrap();
    usage["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let credits = row["credits_used"].as_f64().unwrap();
            (row["timestamp"].as_str().unwrap().parse().unwrap(), (credits * 100.0).round() as i64)
        })
        .collect()
}

fn amount(hundredths: i64) -> String {
    let whole = (hundredths / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{202F}');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02}", hundredths % 100)
}

/// `DD-MM-YYYY`, as the page writes a day.
fn shown_day(day: jiff::civil::Date) -> String {
    day.strftime("%d-%m-%Y").to_string()
}

/// "6 days 4 hours", as the page writes a time, computed here from its definition.
fn elapsed_words(elapsed: jiff::SignedDuration) -> String {
    let hours = elapsed.as_secs() / 3600;
    let unit = |count: i64, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    match (hours / 24, hours % 24) {
        (0, hours) => unit(hours, "hour"),
        (days, 0) => unit(days, "day"),
        (days, hours) => format!("{} {}", unit(days, "day"), unit(hours, "hour")),
    }
}

#[tokio::test]
async fn a_period_the_upstream_moved_on_from_is_browsable_exactly_as_usage_gave_it() {
    // Periods in the recent past, so that "to date" (when the data is fetched: now) falls inside them. Away from
    // a whole hour, where a message of the previous period would sit on the comparison's cutoff.
    while jiff::Timestamp::now().as_second().rem_euclid(3600) < 5
        || jiff::Timestamp::now().as_second().rem_euclid(3600) > 3595
    {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let today = jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date();
    let (day_a, day_b) =
        (today.checked_sub(jiff::ToSpan::days(40)).unwrap(), today.checked_sub(jiff::ToSpan::days(3)).unwrap());
    let (id_a, id_b) = (day_a.to_string(), day_b.to_string());
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    serve(&upstream, period(1000, &id_a, 40)).await;
    let (app, state) = app_and_state(&history_config(&upstream, &directory));
    let history = state.periods.history().cloned().unwrap();
    let (status, usage_a) = get(&app, "/usage").await;
    assert_eq!(status, 200);
    eventually("period A recorded", || async { listed(&history, &id_a, false) }).await;
    let (_, html) = get(&app, "/").await;
    assert!(html.contains("No previous period is kept to compare with."), "the first period has none");
    assert!(html.contains("No past period is kept yet."));

    // The upstream's period moves on: eight messages from three days ago.
    serve(&upstream, period(5000, &id_b, 8)).await;
    eventually("period A closed", || async {
        get(&app, "/usage").await;
        listed(&history, &id_a, true)
    })
    .await;
    let (_, usage_b) = get(&app, "/usage").await;
    assert!(usage_b.contains("\"message_id\":5000"), "/usage is the current period only");

    // A's CSV is A's /usage, row for row.
    let (status, csv) = get(&app, &format!("/usage.csv?period={id_a}")).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv_columns(&csv), usage_as_csv_columns(&usage_a));
    // Its page: every figure from the store.
    let (status, html) = get(&app, &format!("/?period={id_a}")).await;
    assert_eq!(status, 200);
    let ids_a: Vec<String> = usage_as_csv_columns(&usage_a).into_iter().map(|row| row[0].clone()).collect();
    assert_eq!(table_ids(&html), ids_a);
    assert!(html.contains("(past period)</title>"), "the title says it is a past period");
    assert_eq!(kpi_text(&html, "messages"), "40");
    let total_a: i64 = usage_credits(&usage_a).iter().map(|(_, credits)| credits).sum();
    assert_eq!(kpi_text(&html, "total"), amount(total_a));
    // Sorted and paged, from the store, through the table's server function too.
    let (status, _, page) = table_page(&app, &format!("period={id_a}&sort=credits_used:desc")).await;
    assert_eq!(status, 200, "{page}");
    let page: Value = serde_json::from_str(&page).unwrap();
    assert_eq!(
        (page["total_rows"].as_u64(), page["view"].as_str()),
        (Some(40), Some(format!("period={id_a}&sort=credits_used:desc").as_str()))
    );

    // The current page lists A and compares with it, at the same point of each period: from each period's
    // start (its first day, 00:00 UTC) to now, when the data was fetched.
    let (status, html) = get(&app, "/").await;
    let now = jiff::Timestamp::now();
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/?period={id_a}\"")), "the picker links to A");
    let start = |day: jiff::civil::Date| {
        jiff::tz::TimeZone::UTC.to_timestamp(day.to_datetime(jiff::civil::Time::midnight())).unwrap()
    };
    let elapsed = now.duration_since(start(day_b));
    let cutoff = start(day_a).checked_add(elapsed).unwrap();
    let to_date: i64 = usage_credits(&usage_b).iter().map(|(_, credits)| credits).sum();
    let then: i64 =
        usage_credits(&usage_a).iter().filter(|(time, _)| *time <= cutoff).map(|(_, credits)| credits).sum();
    let change = ((to_date - then) as f64 / then as f64 * 1000.0).round() as i64;
    let sign = if change < 0 { "−" } else { "+" };
    let last_a = day_a.checked_add(jiff::ToSpan::days(11)).unwrap();
    let expected = format!(
        "{sign}{}.{} % against the same {} of the previous period ({} → {}): {} credits so far, against {} then; it \
         used {} credits in all.",
        change.abs() / 10,
        change.abs() % 10,
        elapsed_words(elapsed),
        shown_day(day_a),
        shown_day(last_a),
        amount(to_date),
        amount(then),
        amount(total_a)
    );
    assert!(
        html.contains(&expected),
        "expected {expected:?} in {}",
        &html[html.find("period-comparison").unwrap_or(0)..][..400]
    );

    // A period the store does not hold: 404, the page and the CSV.
    assert_eq!(get(&app, "/?period=2023-01-01").await.0, 404);
    let (status, body) = get(&app, "/usage.csv?period=2023-01-01").await;
    assert_eq!((status.as_u16(), error_code(&body).as_str()), (404, "period_not_found"));
    // The current period's id is the current period.
    assert_eq!(table_ids(&get(&app, &format!("/?period={id_b}")).await.1).len(), 8);

    // With the upstream down, the past period is still served from the store, and the failing current
    // period's page still lists it.
    upstream.reset().await;
    respond(&upstream, "/messages/current-period", wiremock::ResponseTemplate::new(500)).await;
    eventually("the current period fails", || async { get(&app, "/").await.0 == 503 }).await;
    let (status, html) = get(&app, &format!("/?period={id_a}")).await;
    assert_eq!((status.as_u16(), table_ids(&html).len()), (200, 40));
    let (_, html) = get(&app, "/").await;
    assert!(
        html.contains("Usage could not be loaded") && html.contains(&format!("href=\"/?period={id_a}\"")),
        "{html}"
    );
}

#[tokio::test]
async fn retention_keeps_the_most_recent_periods() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    let config = Config { history_retention_periods: 2, ..history_config(&upstream, &directory) };
    let (app, state) = app_and_state(&config);
    let history = state.periods.history().cloned().unwrap();
    for (first_id, day) in [(1, "2024-01-01"), (100, "2024-02-01"), (200, "2024-03-01")] {
        serve(&upstream, period(first_id, day, 5)).await;
        eventually(&format!("{day} recorded"), || async {
            get(&app, "/usage").await;
            listed(&history, day, false)
        })
        .await;
    }
    eventually("the oldest period deleted", || async {
        matches!(history.listing(), Listing::Read(periods)
            if periods.iter().map(|period| period.id.as_str()).collect::<Vec<_>>() == ["2024-03-01", "2024-02-01"])
    })
    .await;
    assert_eq!(get(&app, "/usage.csv?period=2024-01-01").await.0, 404);
    assert_eq!(get(&app, "/usage.csv?period=2024-02-01").await.0, 200);
    assert!(history.rows_of("2024-01-01").await.unwrap().is_empty(), "its rows went too");
}

#[tokio::test]
async fn retention_deletes_rows_in_batches_and_clears_what_a_crash_left() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/history.sqlite3", directory.path().display());
    let store = crate::support::store_semantics::store(&url).await;
    let rows: Vec<_> = (0..7)
        .map(|id| credit_dashboard::server::history::store::RowRecord {
            message_id: id,
            position: id,
            timestamp: "2024-01-01T00:00:00Z".into(),
            report_id: None,
            report_name: None,
            credits_hundredths: 100,
            basis: "{}".into(),
        })
        .collect();
    for (period, seen) in [("2024-01-01", 1), ("2024-02-01", 2)] {
        let refresh = credit_dashboard::server::history::store::Refresh {
            id: period,
            first_message_ms: 0,
            last_message_ms: 0,
            seen_ms: seen,
            version: period,
            message_count: 7,
            total_hundredths: 700,
            rows: &rows,
            delta: None,
        };
        store.record(&refresh).await.unwrap();
    }
    assert_eq!(store.forget_older_periods(1).await.unwrap(), ["2024-01-01"]);
    // As a crash after that statement would leave it: January's rows without January.
    assert_eq!(store.periods_of_orphaned_rows().await.unwrap(), ["2024-01-01"]);
    assert_eq!(store.delete_row_batch("2024-01-01", 3).await.unwrap(), 3);
    assert_eq!(store.delete_row_batch("2024-01-01", 3).await.unwrap(), 3);
    assert_eq!(store.delete_row_batch("2024-01-01", 3).await.unwrap(), 1);
    assert_eq!(store.delete_row_batch("2024-01-01", 3).await.unwrap(), 0);
    assert!(store.periods_of_orphaned_rows().await.unwrap().is_empty());
    assert_eq!(store.rows_of("2024-02-01").await.unwrap().len(), 7, "the period kept keeps its rows");
}

#[tokio::test]
async fn a_past_period_whose_first_request_goes_away_is_read_once_in_the_background_and_then_served() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    // 3 000 messages ten minutes apart, from 1 March.
    let start: jiff::Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
    let messages = (0..3_000)
        .map(|i| {
            let time = start.checked_add(jiff::SignedDuration::from_mins(i * 10)).unwrap();
            message(1 + i, "a message", &time.to_string(), None)
        })
        .collect();
    serve(&upstream, messages).await;
    let config = history_config(&upstream, &directory);
    let (recorder, state) = app_and_state(&config);
    let history = state.periods.history().cloned().unwrap();
    get(&recorder, "/usage").await;
    eventually("March recorded", || async { listed(&history, "2024-03-01", false) }).await;
    serve(&upstream, period(5000, "2024-04-01", 3)).await;
    eventually("March closed", || async {
        get(&recorder, "/usage").await;
        listed(&history, "2024-03-01", true)
    })
    .await;
    // A second server on the same store, whose first request goes away after a millisecond: reading 3 000 rows
    // takes longer, and a read started by each request, and ended with it, would never be kept.
    let (app, state) = app_and_state(&config);
    let gave_up =
        tokio::time::timeout(std::time::Duration::from_millis(1), get(&app, "/usage.csv?period=2024-03-01")).await;
    assert!(gave_up.is_err(), "the read takes longer than a millisecond");
    let history = state.periods.history().cloned().unwrap();
    eventually("March read and kept", || async { history.is_kept("2024-03-01").await }).await;
    let (_, csv) = get(&app, "/usage.csv?period=2024-03-01").await;
    assert_eq!(csv.lines().count(), 3_001, "every row, and the header");
}

#[tokio::test]
async fn without_a_store_the_page_says_past_periods_are_not_kept() {
    let upstream = MockServer::start().await;
    serve(&upstream, period(1, "2024-04-01", 3)).await;
    let (status, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Past periods are not kept: no history database is configured."));
}

#[tokio::test]
async fn sqlite_schema_is_the_expected_one_and_a_newer_database_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    // The file's folders are created on first start.
    let url = format!("sqlite://{}/nested/folder/history.sqlite3", directory.path().display());
    history_schema::the_schema_is_the_expected_one_and_a_newer_database_is_refused(&url, true).await;
}

#[tokio::test]
async fn a_new_server_on_the_same_store_serves_the_past_periods_from_its_first_request() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    serve(&upstream, period(1, "2024-03-01", 30)).await;
    let config = history_config(&upstream, &directory);
    let (app, state) = app_and_state(&config);
    let history = state.periods.history().cloned().unwrap();
    let (_, usage_march) = get(&app, "/usage").await;
    eventually("March recorded", || async { listed(&history, "2024-03-01", false) }).await;
    serve(&upstream, period(100, "2024-04-01", 5)).await;
    eventually("March closed", || async {
        get(&app, "/usage").await;
        listed(&history, "2024-03-01", true)
    })
    .await;
    drop((app, state, history));

    let (app, _state) = app_and_state(&config);
    let (status, csv) = get(&app, "/usage.csv?period=2024-03-01").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv_columns(&csv), usage_as_csv_columns(&usage_march));
}

#[tokio::test]
async fn a_period_listing_one_message_twice_is_refused_on_every_path_and_never_recorded() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    let mut messages = period(1000, "2024-04-29", 6);
    messages[4]["id"] = json!(1001);
    serve(&upstream, messages).await;
    let config = history_config(&upstream, &directory);
    let (app, state) = app_and_state(&config);
    let history = state.periods.history().cloned().unwrap();
    for uri in ["/usage", "/usage.csv", "/usage/summary", "/"] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, 503, "{uri}");
        assert!(body.contains("message 1001 is listed more than once"), "{uri} names the id: {body}");
        if uri != "/" {
            assert_eq!(error_code(&body), "upstream_malformed", "{uri}");
        }
    }
    let (status, _, body) = table_page(&app, "").await;
    assert_eq!((status.as_u16(), error_code(&body)), (503, "upstream_malformed".to_owned()));
    // The recorder has read the store and ticked (asking for the period) several times since: nothing written.
    eventually("the store listed", || async { matches!(history.listing(), Listing::Read(_)) }).await;
    tokio::time::sleep(credit_dashboard::server::history::recorder::tick(&config) * 4).await;
    assert_eq!(history.writes(), 0);
    history.refresh_listing().await.unwrap();
    assert_eq!(history.listing(), Listing::Read(Vec::new().into()), "no period recorded");
}

#[tokio::test]
async fn sqlite_holds_exactly_the_newest_fetch_of_each_period() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/history.sqlite3", directory.path().display());
    store_semantics::a_period_holds_exactly_the_newest_fetch_it_was_given(&url).await;
}

#[tokio::test]
async fn sqlite_closes_a_period_only_on_newer_evidence() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/history.sqlite3", directory.path().display());
    store_semantics::a_period_closes_only_on_newer_evidence_and_a_newer_sighting_reopens_it(&url).await;
}

#[tokio::test]
async fn an_upstream_answer_without_messages_does_not_close_the_current_period() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    serve(&upstream, period(1000, "2024-04-29", 12)).await;
    let config = history_config(&upstream, &directory);
    let (app, state) = app_and_state(&config);
    let history = state.periods.history().cloned().unwrap();
    get(&app, "/usage").await;
    eventually("the period recorded", || async { listed(&history, "2024-04-29", false) }).await;
    // One answer without messages (a blip), recorded on; then the period again.
    serve(&upstream, Vec::new()).await;
    eventually("the empty answer served", || async { get(&app, "/usage").await.1 == r#"{"usage":[]}"# }).await;
    let writes = history.writes();
    tokio::time::sleep(credit_dashboard::server::history::recorder::tick(&config) * 4).await;
    history.refresh_listing().await.unwrap();
    assert!(listed(&history, "2024-04-29", false), "still open after the blip");
    assert_eq!(history.writes(), writes, "nothing written for an empty answer");
    serve(&upstream, period(1000, "2024-04-29", 12)).await;
    eventually("the period served again", || async { get(&app, "/usage").await.1.contains("1011") }).await;
    let (status, html) = get(&app, "/?period=2024-04-29").await;
    assert_eq!(status, 200);
    assert!(!html.contains("(past period)"), "the current period is not a past one");
}

#[tokio::test]
async fn a_past_period_is_the_last_fetch_of_it_even_when_it_changed_between_refreshes() {
    let upstream = MockServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    serve(&upstream, period(1000, "2024-03-01", 30)).await;
    let (app, state) = app_and_state(&history_config(&upstream, &directory));
    let history = state.periods.history().cloned().unwrap();
    get(&app, "/usage").await;
    eventually("March recorded", || async { listed(&history, "2024-03-01", false) }).await;
    // Before the month ends the upstream drops two messages, reprices one (another report) and adds one.
    let mut changed = period(1000, "2024-03-01", 30);
    changed.retain(|message| !matches!(message["id"].as_i64(), Some(1004 | 1017)));
    changed[3]["report_id"] = json!(2);
    changed.push(message(1030, "a late message", "2024-03-31T12:00:00Z", None));
    serve(&upstream, changed).await;
    serve_report(&upstream, 2, "Title Search", json!(7)).await;
    let last_usage = usage_once_it_contains(&app, "\"message_id\":1030").await;
    assert!(last_usage.contains("Title Search") && !last_usage.contains("\"message_id\":1004,"), "{last_usage}");
    let writes = history.writes();
    eventually("the change recorded", || async { history.writes() > writes }).await;
    serve(&upstream, period(5000, "2024-04-01", 5)).await;
    eventually("March closed", || async {
        get(&app, "/usage").await;
        listed(&history, "2024-03-01", true)
    })
    .await;
    let (status, csv) = get(&app, "/usage.csv?period=2024-03-01").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv_columns(&csv), usage_as_csv_columns(&last_usage), "March as /usage last gave it");
}

#[tokio::test]
async fn two_upstreams_on_one_store_each_see_and_close_only_their_own_periods() {
    // The one-command run's sample and a real upstream, started from the same folder: one SQLite file.
    let (sample, real) = (MockServer::start().await, MockServer::start().await);
    let directory = tempfile::tempdir().unwrap();
    serve(&sample, period(1, "2024-04-29", 5)).await;
    serve(&real, period(100, "2026-11-01", 5)).await;
    let (sample_app, sample_state) = app_and_state(&history_config(&sample, &directory));
    let (real_app, real_state) = app_and_state(&history_config(&real, &directory));
    let (sample_history, real_history) =
        (sample_state.periods.history().cloned().unwrap(), real_state.periods.history().cloned().unwrap());
    get(&sample_app, "/usage").await;
    get(&real_app, "/usage").await;
    eventually("both recorded", || async {
        listed(&sample_history, "2024-04-29", false) && listed(&real_history, "2026-11-01", false)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for history in [&sample_history, &real_history] {
        history.refresh_listing().await.unwrap();
    }
    let ids = |history: &History| -> Vec<(String, bool)> {
        match history.listing() {
            Listing::Read(periods) => {
                periods.iter().map(|period| (period.id.clone(), period.closed_ms.is_some())).collect()
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(ids(&sample_history), vec![("2024-04-29".to_owned(), false)], "the sample's period, still open");
    assert_eq!(ids(&real_history), vec![("2026-11-01".to_owned(), false)], "the real upstream's alone");
    assert_eq!(get(&real_app, "/usage.csv?period=2024-04-29").await.0, 404);
    assert!(!get(&real_app, "/").await.1.contains("?period=2024-04-29"), "not offered in the picker");
}
