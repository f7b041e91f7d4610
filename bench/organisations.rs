//! A thousand organisations in one process, each of 100 messages on the fake upstream: their first requests
//! (each fetched on demand), the warm `GET /o/{organisation}/` against a deployment of one's warm `GET /` in the
//! same run (sent in turn), the resident memory of each, and a full alert round: every organisation over its
//! budget, the time until the webhook has every alert.

use crate::{median, mib, ms, percentile, timed_get, Server, Upstream};
use axum::routing::post;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANY_PORT: u16 = 3280;
const ONE_PORT: u16 = 3281;
const ALERTS_PORT: u16 = 3282;
const ORGANISATIONS: usize = 1_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn id(index: usize) -> String {
    format!("firm-{index:04}")
}

/// A folder of `count` organisations, each `firm-NNNN` on `upstream_url`.
fn folder(count: usize, upstream_url: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for index in 0..count {
        let body = format!("name = \"Firm {index}\"\nupstream_base_url = \"{upstream_url}\"\n");
        std::fs::write(folder.path().join(format!("{}.toml", id(index))), body).unwrap();
    }
    folder
}

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    upstream.set(0, 100, 10, false);
    let organisations = folder(ORGANISATIONS, upstream_url);
    let path = organisations.path().display().to_string();
    let kept = ("KEPT_PERIOD_TTL_MS", "600000");
    let many = Server::start(MANY_PORT, upstream_url, &[kept, ("ORGANISATIONS_PATH", &path)]).await;
    let one = Server::start(ONE_PORT, upstream_url, &[kept]).await;

    // Every organisation's first page: its period fetched on demand, one after another.
    let started = Instant::now();
    let mut first = Vec::with_capacity(ORGANISATIONS);
    for index in 0..ORGANISATIONS {
        first.push(timed_get(client, &format!("{}/o/{}/", many.base, id(index))).await);
    }
    let warm_up = started.elapsed();
    timed_get(client, &format!("{}/", one.base)).await;

    let rounds = 2_000;
    let (mut organisation, mut single) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        // Organisations in a scattered order, each warm.
        let index = (round * 7_919) % ORGANISATIONS;
        organisation.push(timed_get(client, &format!("{}/o/{}/", many.base, id(index))).await);
        single.push(timed_get(client, &format!("{}/", one.base)).await);
    }
    let (many_rss, one_rss) = (many.peak_rss_kib(), one.peak_rss_kib());
    drop((many, one));

    println!("\n## A thousand organisations in one process\n");
    println!(
        "{ORGANISATIONS} organisations (a folder of `<id>.toml` files), each of 100 messages and 10 reports on the"
    );
    println!("fake upstream, no access control; a deployment of one on the same upstream beside it. {rounds} warm");
    println!("requests of each, sent in turn, the organisations in a scattered order.\n");
    println!("| | median | p95 | p99 |\n|---|---:|---:|---:|");
    let row = |name: &str, times: &[Duration]| {
        let (a, b, c) = (median(times), percentile(times, 0.95), percentile(times, 0.99));
        println!("| {name} | {} ms | {} ms | {} ms |", ms(a), ms(b), ms(c));
    };
    row("first `GET /o/{organisation}/` (fetched on demand)", &first);
    row("warm `GET /o/{organisation}/`", &organisation);
    row("warm `GET /`, a deployment of one", &single);
    let ratio = median(&organisation).as_secs_f64() / median(&single).as_secs_f64();
    let ratio_p99 = percentile(&organisation, 0.99).as_secs_f64() / percentile(&single, 0.99).as_secs_f64();
    println!(
        "\nWarm organisation ÷ deployment of one: {ratio:.3} at the median, {ratio_p99:.3} at p99 (target ≤ 1.10). All \
         {ORGANISATIONS} first pages: {:.1} s.",
        warm_up.as_secs_f64()
    );
    println!(
        "Peak resident memory: {} with {ORGANISATIONS} organisations warm, {} for the deployment of one (target: \
         under 1 GiB at 1 000 organisations).",
        mib(many_rss),
        mib(one_rss)
    );

    alert_round(client, upstream_url, &path).await;
}

/// Every organisation over a budget of 1 credit: the time from the first page of each until the webhook has
/// received every alert, and how many.
async fn alert_round(client: &reqwest::Client, upstream_url: &str, organisations: &str) {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let sink = axum::Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let sink = tokio::spawn(async move { axum::serve(listener, sink).await.unwrap() });
    let store = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", store.path().join("history.sqlite3").display());
    let env = [
        ("KEPT_PERIOD_TTL_MS", "600000"),
        ("ORGANISATIONS_PATH", organisations),
        ("DATABASE_URL", database.as_str()),
        ("CREDIT_BUDGET", "1"),
        ("ALERT_WEBHOOK_URL", hook.as_str()),
        ("ALERT_WEBHOOK_SECRET", SECRET),
        ("ALERT_CHECK_INTERVAL_SECS", "10"),
    ];
    let server = Server::start(ALERTS_PORT, upstream_url, &env).await;
    let started = Instant::now();
    for index in 0..ORGANISATIONS {
        timed_get(client, &format!("{}/o/{}/usage", server.base, id(index))).await;
    }
    let fetched = started.elapsed();
    // Until nothing more arrives for one whole interval (and a bit): every check has had its round.
    let (mut last_count, mut last_change) = (0, Instant::now());
    while last_change.elapsed() < Duration::from_secs(12) && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let count = received.load(Ordering::SeqCst);
        if count != last_count {
            (last_count, last_change) = (count, Instant::now());
        }
    }
    let round = last_change.duration_since(started);
    let rss = server.peak_rss_kib();
    drop(server);
    sink.abort();
    println!(
        "\nA full alert round: {ORGANISATIONS} organisations, each over a budget of 1 credit, checked every 10 s \
         (spread over the interval), each recording into one SQLite history store: {last_count} alerts \
         delivered, the last {:.1} s after the first page (the pages took {:.1} s); peak resident memory {}.",
        round.as_secs_f64(),
        fetched.as_secs_f64(),
        mib(rss)
    );
}
