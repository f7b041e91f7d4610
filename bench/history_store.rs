//! The history store: recording a 100 000-message period in SQLite and PostgreSQL, and a past period's page
//! read from the store against the current one from memory.

use crate::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A priced period of `count` messages, a week from 29 April 2024, every other one priced by one of 5 000
/// reports: the shape of the large period above, built in this process.
fn large_period(count: i64) -> credit_dashboard::server::pricing::priced_period::PricedPeriod {
    use credit_dashboard::contract::UsageRow;
    use credit_dashboard::money::Credits;
    use credit_dashboard::server::pricing::credit_rules::{PriceBasis, TextCharge};
    use credit_dashboard::server::pricing::priced_period::PricedPeriod;
    let start: jiff::Timestamp = "2024-04-29T00:00:00Z".parse().unwrap();
    let (mut rows, mut bases, mut times) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..count {
        let time = start.checked_add(jiff::SignedDuration::from_secs(i * 604_800 / count)).unwrap();
        let (name, basis, hundredths) = if i % 2 == 0 {
            let report = (i / 2) % 5_000;
            (
                Some(format!("Report {report}")),
                PriceBasis::Report { report_id: report as u64, name: format!("Report {report}") },
                1_050,
            )
        } else {
            (
                None,
                PriceBasis::Text {
                    charge: TextCharge { characters: 55, tokens: 14, minimum_applied: false },
                    fallback: None,
                },
                560,
            )
        };
        rows.push(UsageRow {
            message_id: i,
            timestamp: time.to_string(),
            report_name: name,
            credits_used: Credits::from_hundredths(hundredths),
        });
        bases.push(basis);
        times.push(time);
    }
    let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).unwrap();
    PricedPeriod::new(rows, bases, times, total, start)
}

/// Recording a 100 000-message period in each engine: the first refresh (every row), a later one (1 % of the
/// rows changed, which is all the recorder writes), and the size on disk.
pub async fn figures() {
    use credit_dashboard::server::database::Database;
    use credit_dashboard::server::history::archive::stored_rows;
    use credit_dashboard::server::history::store::{Delta, HistoryStore, Refresh};
    println!("\n## The history store\n");
    println!("Recording a 100 000-message period (5 000 reports), in this process, through the store's own");
    println!("code: the first refresh writes every row (batches of 50 rows on SQLite, 500 on PostgreSQL, in one");
    println!("transaction); a later refresh");
    println!("writes only the rows that changed since (here 1 000: 1 %), which is what the recorder sends.");
    println!("SQLite: a file on this machine's disk (WAL). PostgreSQL 15: a server started for the run (fsync off,");
    println!("as in the tests). 3 runs each, median.\n");
    println!("| engine | first refresh (100 000 rows) | rows/s | later refresh (1 000 rows) | size on disk |");
    println!("|---|---:|---:|---:|---:|");
    let period = large_period(100_000);
    let rows = stored_rows(&period);
    let mut changed_rows = rows.clone();
    for row in changed_rows.iter_mut().take(1_000) {
        row.credits_hundredths += 1;
    }
    let postgres = postgres::Postgres::start();
    for engine in ["SQLite", "PostgreSQL"] {
        let (mut first, mut later, mut size) = (Vec::new(), Vec::new(), 0u64);
        for run in 0..3 {
            let directory = tempfile::tempdir().unwrap();
            let url = match engine {
                "SQLite" => format!("sqlite://{}/history.sqlite3", directory.path().display()),
                _ => postgres.database(&format!("bench_{run}")).await,
            };
            let db = Database::open(&url, Duration::from_secs(30), Duration::from_secs(300)).unwrap();
            db.ensure_schema().await.unwrap();
            let store = HistoryStore::new(std::sync::Arc::new(db), "bench");
            let refresh = |rows, seen_ms, version, delta| Refresh {
                id: "2024-04-29",
                first_message_ms: 0,
                last_message_ms: 0,
                seen_ms,
                version,
                message_count: 100_000,
                total_hundredths: 0,
                rows,
                delta,
            };
            let started = Instant::now();
            store.record(&refresh(&rows, 1, "first", None)).await.unwrap();
            first.push(started.elapsed());
            let changed =
                Delta { base: "first", changed: changed_rows.iter().take(1_000).collect(), removed: Vec::new() };
            let started = Instant::now();
            store.record(&refresh(&changed_rows, 2, "later", Some(changed))).await.unwrap();
            later.push(started.elapsed());
            size = match engine {
                "SQLite" => std::fs::read_dir(directory.path())
                    .unwrap()
                    .filter_map(|entry| entry.ok()?.metadata().ok())
                    .map(|metadata| metadata.len())
                    .sum(),
                _ => postgres_size(&url).await,
            };
        }
        let first_median = median(&first);
        println!(
            "| {engine} | {} ms | {:.0} | {} ms | {:.1} MB |",
            ms(first_median),
            100_000.0 / first_median.as_secs_f64(),
            ms(median(&later)),
            size as f64 / 1e6
        );
    }
}

async fn postgres_size(url: &str) -> u64 {
    use sqlx::Row;
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT CAST(pg_total_relation_size('credit_dashboard_period_rows') + pg_total_relation_size('credit_dashboard_periods') AS BIGINT) AS size",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    row.get::<i64, _>("size") as u64
}

/// `GET /?period=<past>` of a 100 000-message period read from the store, against `GET /` of the current
/// period served from memory, on one server.
pub async fn past_period_page_figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/history.sqlite3", directory.path().display());
    let server =
        Server::start(3209, upstream_url, &[("DATABASE_URL", database.as_str()), ("KEPT_PERIOD_TTL_MS", "2000")]).await;
    upstream.set(0, 100_000, 5_000, false);
    upstream.period.store(0, Ordering::SeqCst);
    let current = format!("{}/", server.base);
    time_requests(client, &current, 1).await;
    // The next period: the server records it and closes this one, which is then served from the store.
    upstream.period.store(1, Ordering::SeqCst);
    // Until the store holds it closed (read from the database itself, not through the server).
    let deadline = Instant::now() + Duration::from_secs(300);
    let store = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&database).await.unwrap();
    loop {
        time_requests(client, &current, 1).await;
        let closed =
            sqlx::query("SELECT id FROM credit_dashboard_periods WHERE id = '2024-04-29' AND closed_ms IS NOT NULL")
                .fetch_optional(&store)
                .await
                .is_ok_and(|row| row.is_some());
        if closed {
            break;
        }
        assert!(Instant::now() < deadline, "the past period was not recorded and closed within 300 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    store.close().await;
    // A new server on the same store, so the past period's first request reads it from the database.
    drop(server);
    let server = Server::start(3210, upstream_url, &[("DATABASE_URL", database.as_str())]).await;
    let (current, past) = (format!("{}/", server.base), format!("{}/?period=2024-04-29", server.base));
    // The past period first: its first request reads it from the database (the current page, compared with
    // it, would read it too).
    let (first_past, past_size) = time_requests(client, &past, 1).await;
    time_requests(client, &current, 1).await;
    let (past_times, _) = time_requests(client, &past, 20).await;
    let (current_times, _) = time_requests(client, &current, 20).await;
    drop(server);
    println!("\n### A past period's page\n");
    println!("100 000 messages recorded (SQLite), then the upstream moved on to the next period. A new server on the");
    println!("same store: its first `GET /?period=2024-04-29` reads the period from the database; then 20 requests");
    println!("each, against `GET /` of the current period (100 000 messages, served from memory).\n");
    println!("| request | first | median | p95 | HTML | target |\n|---|---:|---:|---:|---:|---:|");
    println!(
        "| `GET /?period=2024-04-29` (past, from the store) | {} ms | {} ms | {} ms | {:.1} KB | median ≤ 2 × current |",
        ms(first_past[0]),
        ms(median(&past_times)),
        ms(percentile(&past_times, 0.95)),
        past_size as f64 / 1024.0
    );
    println!(
        "| `GET /` (current, from memory) | — | {} ms | {} ms | — | — |",
        ms(median(&current_times)),
        ms(percentile(&current_times, 0.95))
    );
    println!(
        "\nPast ÷ current, medians: {:.2}.",
        median(&past_times).as_secs_f64() / median(&current_times).as_secs_f64()
    );
}
