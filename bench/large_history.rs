//! A past period of 500 000 rows, and the retention of 2 million, measured on this build and on the build before
//! the third review of the history store (`HISTORY_BASELINE_REV`), in one run. Both are driven from outside, the
//! same way: each records the same five periods from the fake upstream into a SQLite file of its own, then a new
//! server on that file serves a past period, then one told to keep a single period deletes the other four.

use crate::builds::{this_and_before_third_review, Build};
use crate::{median, ms, percentile, Upstream};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PERIOD_MESSAGES: i64 = 500_000;
/// Four closed periods (the 2 million rows the retention deletes) and the current one.
const PERIODS: u64 = 5;
/// The past period whose page is asked for: the fourth, 2027's.
const PAST_PERIOD: &str = "2027-04-29";

/// The names each build's schema gives the two tables.
fn tables(build: &Build) -> (&'static str, &'static str) {
    match build.before_review {
        true => ("periods", "period_rows"),
        false => ("credit_dashboard_periods", "credit_dashboard_period_rows"),
    }
}

struct Figures {
    recording: Vec<Duration>,
    past_first: (Duration, String),
    past: Vec<Duration>,
    past_statuses: String,
    retention: Option<Duration>,
    longest_writer_wait: Duration,
    rows_left: i64,
}

pub async fn large_history_figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let builds = this_and_before_third_review();
    let mut measured = Vec::new();
    for build in &builds {
        measured.push(measure(build, client, upstream, upstream_url).await);
    }

    println!("\n### A past period of 500 000 messages, and the retention of 2 million rows\n");
    println!("Each build, from outside and the same way, on a SQLite file of its own: five periods of 500 000");
    println!("messages (5 000 reports), a year apart, served by the fake upstream one after the other and recorded");
    println!("by the server (time from the upstream moving on to the period's rows all in the store, median of the");
    println!("five). Then a new server on that file: `GET /?period={PAST_PERIOD}` once (the first request reads the");
    println!("period from the database) and 20 times more. Then a server told to keep one period");
    println!("(`HISTORY_RETENTION_PERIODS=1`), asked for `/usage` once: the time until the four older periods' 2");
    println!("million rows are gone, and the longest that another writer of the same file (a loop of one-row");
    println!("`BEGIN IMMEDIATE` transactions, every 20 ms) waited meanwhile.\n");
    println!("| build | recording 500 000 rows | past period: first | median | p95 | statuses | retention of 2 000 000 rows | longest wait of another writer | rows of older periods left |");
    println!("|---|---:|---:|---:|---:|---|---:|---:|---:|");
    for (build, figures) in builds.iter().zip(&measured) {
        println!(
            "| {} | {} ms | {} ms ({}) | {} ms | {} ms | {} | {} | {} ms | {} |",
            build.name,
            ms(median(&figures.recording)),
            ms(figures.past_first.0),
            figures.past_first.1,
            ms(median(&figures.past)),
            ms(percentile(&figures.past, 0.95)),
            figures.past_statuses,
            figures.retention.map_or("not done within 600 s".to_owned(), |took| format!("{} ms", ms(took))),
            ms(figures.longest_writer_wait),
            figures.rows_left,
        );
    }
    if builds.len() == 1 {
        println!("\nNo build before the review was built (`bench/run.sh` builds it from `HISTORY_BASELINE_REV`).");
    }
}

async fn measure(build: &Build, client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) -> Figures {
    let (periods, rows) = tables(build);
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("history.sqlite3");
    let database = format!("sqlite://{}", file.display());
    let settings = |retention: &str| {
        vec![
            ("DATABASE_URL", database.clone()),
            ("HISTORY_RETENTION_PERIODS", retention.to_owned()),
            ("KEPT_PERIOD_TTL_MS", "1000".to_owned()),
            ("UPSTREAM_MAX_BODY_BYTES", (512 * 1024 * 1024).to_string()),
        ]
    };
    let (keep_all, keep_one) = (settings("0"), settings("1"));
    let (keep_all, keep_one) = (borrowed(&keep_all), borrowed(&keep_one));

    // Five periods recorded, the first four closed by the next one.
    let server = build.start(3240, upstream_url, &keep_all).await;
    upstream.set(0, PERIOD_MESSAGES as u64, 5_000, false);
    let mut recording = Vec::new();
    for period in 0..PERIODS {
        upstream.period.store(period, Ordering::SeqCst);
        let id = format!("{}-04-29", 2024 + period);
        let started = Instant::now();
        let count = format!("SELECT COUNT(*) FROM {rows} WHERE period_id = '{id}'");
        while count_of(&file, &count).await != PERIOD_MESSAGES {
            assert!(started.elapsed() < Duration::from_secs(600), "{}: period {id} not recorded in 600 s", build.name);
            let _ = client.get(format!("{}/usage", server.base)).send().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        recording.push(started.elapsed());
    }
    let closed = format!("SELECT COUNT(*) FROM {periods} WHERE closed_ms IS NOT NULL");
    let started = Instant::now();
    while count_of(&file, &closed).await != PERIODS as i64 - 1 {
        assert!(started.elapsed() < Duration::from_secs(120), "{}: older periods not closed", build.name);
        let _ = client.get(format!("{}/usage", server.base)).send().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(server);

    // A new server: the past period's first request reads it from the database.
    let server = build.start(3241, upstream_url, &keep_all).await;
    let url = format!("{}/?period={PAST_PERIOD}", server.base);
    let (first, first_status) = timed_status(client, &url).await;
    let (mut past, mut statuses) = (Vec::new(), std::collections::BTreeMap::<String, u32>::new());
    for _ in 0..20 {
        let (took, status) = timed_status(client, &url).await;
        past.push(took);
        *statuses.entry(status).or_default() += 1;
    }
    drop(server);
    let past_statuses = statuses.iter().map(|(status, count)| format!("{count} × {status}")).collect::<Vec<_>>();

    // Retention: keep one period, so the four older ones go.
    let older = format!("SELECT COUNT(*) FROM {rows} WHERE period_id <> '{}-04-29'", 2024 + PERIODS - 1);
    assert_eq!(count_of(&file, &older).await, (PERIODS as i64 - 1) * PERIOD_MESSAGES);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(other_writer(file.clone(), Arc::clone(&stop)));
    let server = build.start(3242, upstream_url, &keep_one).await;
    let started = Instant::now();
    let _ = client.get(format!("{}/usage", server.base)).send().await;
    let mut retention = None;
    while started.elapsed() < Duration::from_secs(600) {
        if count_of(&file, &older).await == 0 {
            retention = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let longest_writer_wait = writer.await.unwrap();
    let rows_left = count_of(&file, &older).await;
    drop(server);
    Figures {
        recording,
        past_first: (first, first_status),
        past,
        past_statuses: past_statuses.join(", "),
        retention,
        longest_writer_wait,
        rows_left,
    }
}

fn borrowed<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(key, value)| (*key, value.as_str())).collect()
}

async fn timed_status(client: &reqwest::Client, url: &str) -> (Duration, String) {
    let started = Instant::now();
    let status = match client.get(url).send().await {
        Ok(response) => {
            let status = response.status().as_u16().to_string();
            let _ = response.bytes().await;
            status
        }
        Err(error) => format!("error: {error}"),
    };
    (started.elapsed(), status)
}

/// A reader of its own (WAL: never blocked by a writer); -1 while the table does not exist yet.
async fn count_of(file: &Path, sql: &str) -> i64 {
    let Ok(mut connection) = connect(file).await else { return -1 };
    let count = match sqlx::query(sql).fetch_one(&mut connection).await {
        Ok(row) => row.get::<i64, _>(0),
        Err(_) => -1,
    };
    let _ = connection.close().await;
    count
}

async fn connect(file: &Path) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
        .busy_timeout(Duration::from_secs(600))
        .connect()
        .await
}

/// Another writer of the same file, until `stop`: one-row transactions every 20 ms; returns the longest one.
async fn other_writer(file: PathBuf, stop: Arc<AtomicBool>) -> Duration {
    let mut connection = connect(&file).await.unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_other_writer (at BIGINT)").execute(&mut connection).await.unwrap();
    let mut longest = Duration::ZERO;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut connection).await.unwrap();
        sqlx::query("INSERT INTO bench_other_writer (at) VALUES (1)").execute(&mut connection).await.unwrap();
        sqlx::query("COMMIT").execute(&mut connection).await.unwrap();
        longest = longest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    longest
}
