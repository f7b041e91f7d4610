//! Benchmark driver: a fake upstream with adjustable latency and size, in this process, and the release
//! server as a child process in front of it. Prints Markdown tables; `bench/run.sh` builds and calls it.
//!
//! Every latency is compared with a baseline measured in the same run: the round trip of one request
//! straight to the fake upstream. The server keeps the priced period for `KEPT_PERIOD_TTL_MS`, so a
//! measurement of computing it starts the server with 0, and the fake upstream counts its messages downloads:
//! each figure can say whether it was computed or served from the kept period.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
#[path = "../tests/it/support/oidc.rs"]
#[allow(dead_code)]
mod oidc;
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "../tests/it/support/redis.rs"]
#[allow(dead_code)]
mod redis;

mod access_cost;
mod browser;
mod builds;
mod history_store;
mod large_history;
mod organisations;
mod replicas;
mod serving;
mod shared_values_cost;
mod structure;
mod unusual_days;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVER_BINARY: &str = "target/release/credit-dashboard";

/// For the measurements of computing the period: the server keeps nothing, so every request downloads the
/// messages (concurrent requests would still share one download).
const NOTHING_KEPT: &[(&str, &str)] = &[("KEPT_PERIOD_TTL_MS", "0")];

/// Cold `/usage` medians of the previous run (no kept period then), per upstream latency and distinct reports.
/// Copied from bench/RESULTS.md: the code that produced them is gone.
const PREVIOUS_COLD_MEDIANS: [((u64, u64), &str); 6] = [
    ((0, 8), "1.5 ms"),
    ((0, 200), "9.1 ms"),
    ((20, 8), "45.8 ms"),
    ((20, 200), "51.2 ms"),
    ((50, 8), "105.6 ms"),
    ((50, 200), "112.0 ms"),
];

/// What the fake upstream serves; changed between measurements.
#[derive(Default)]
struct Upstream {
    latency_ms: AtomicU64,
    messages: AtomicU64,
    distinct_reports: AtomicU64,
    /// Report ids start here; when `fresh_ids` is set each messages call moves it on, so that every
    /// request finds a cold cache.
    id_base: AtomicU64,
    fresh_ids: AtomicU64,
    /// Messages requests since the last `take_message_downloads`: what the kept period is meant to save.
    message_downloads: AtomicU64,
    /// Report requests since the last `take_report_calls`.
    report_calls: AtomicU64,
    /// Which billing period is served: each one a year after the one before, with ids of its own.
    period: AtomicU64,
    /// When set, each messages call numbers the messages anew (the same texts and reports): every refresh is a
    /// new version of the period.
    new_ids_each_call: AtomicU64,
}

impl Upstream {
    fn set(&self, latency_ms: u64, messages: u64, distinct_reports: u64, fresh_ids: bool) {
        self.latency_ms.store(latency_ms, Ordering::SeqCst);
        self.messages.store(messages, Ordering::SeqCst);
        self.distinct_reports.store(distinct_reports, Ordering::SeqCst);
        self.fresh_ids.store(fresh_ids as u64, Ordering::SeqCst);
        self.id_base.fetch_add(1_000_000, Ordering::SeqCst);
    }

    /// The messages downloads since the last call, and a new count from zero.
    fn take_message_downloads(&self) -> u64 {
        self.message_downloads.swap(0, Ordering::SeqCst)
    }

    fn take_report_calls(&self) -> u64 {
        self.report_calls.swap(0, Ordering::SeqCst)
    }

    async fn delay(&self) {
        let latency = self.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
    }
}

async fn messages(State(upstream): State<Arc<Upstream>>) -> impl IntoResponse {
    let download = upstream.message_downloads.fetch_add(1, Ordering::SeqCst);
    // A new version at every call: the ids move on (the reports stay the same).
    let renumbered = match upstream.new_ids_each_call.load(Ordering::SeqCst) {
        0 => 0,
        _ => download * 1_000_000,
    };
    upstream.delay().await;
    let count = upstream.messages.load(Ordering::SeqCst);
    let reports = upstream.distinct_reports.load(Ordering::SeqCst).max(1);
    let base = if upstream.fresh_ids.load(Ordering::SeqCst) == 1 {
        upstream.id_base.fetch_add(reports, Ordering::SeqCst)
    } else {
        upstream.id_base.load(Ordering::SeqCst)
    };
    let period = upstream.period.load(Ordering::SeqCst);
    let (year, first_id) = (2024 + period, period * 10_000_000);
    let mut body = String::with_capacity(count as usize * 120);
    body.push_str("{\"messages\":[");
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        // Spread over a week; every other message has a report.
        let second = i * 604_800 / count.max(1);
        let (day, hour, minute) = (29 + second / 86_400, (second / 3600) % 24, (second / 60) % 60);
        let (month, day) = if day > 30 { (5, day - 30) } else { (4, day) };
        body.push_str(&format!(
            "{{\"id\":{},\"text\":\"Summarise the tenant's repair obligations, message {i}.\",\"timestamp\":\"{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:00.000Z\"",
            first_id + renumbered + i
        ));
        if i % 2 == 0 {
            body.push_str(&format!(",\"report_id\":{}", base + (i / 2) % reports));
        }
        body.push('}');
    }
    body.push_str("]}");
    ([(header::CONTENT_TYPE, "application/json")], body)
}

async fn report(State(upstream): State<Arc<Upstream>>, Path(id): Path<u64>) -> impl IntoResponse {
    upstream.report_calls.fetch_add(1, Ordering::SeqCst);
    upstream.delay().await;
    let body = format!("{{\"id\":{id},\"name\":\"Report {id}\",\"credit_cost\":{}.5}}", 10 + id % 90);
    ([(header::CONTENT_TYPE, "application/json")], body)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// `env` is added to the server's configuration, after (so over) the benchmark's own settings.
    async fn start(port: u16, upstream_url: &str, env: &[(&str, &str)]) -> Server {
        Server::start_binary(Command::new(SERVER_BINARY), port, upstream_url, env).await
    }

    async fn start_binary(mut command: Command, port: u16, upstream_url: &str, env: &[(&str, &str)]) -> Server {
        let child = command
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("UPSTREAM_BASE_URL", upstream_url)
            .env("USAGE_DEADLINE_MS", "120000")
            .env("UPSTREAM_TIMEOUT_MS", "60000")
            .env("RUST_LOG", "warn")
            // No history store unless a measurement asks for one (the default would write under data/).
            .env("DATABASE_URL", "")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}; build it with bench/run.sh"));
        // Owned from here on, so that `Drop` stops the child on every path, a failed start included.
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    /// Peak resident memory so far, from /proc.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Once `server` says it shares through Redis (`/readyz`).
async fn until_sharing(client: &reqwest::Client, server: &Server) {
    let ready = format!("{}/readyz", server.base);
    while client.get(&ready).send().await.unwrap().text().await.unwrap() != "ready (sharing)" {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests per second from `clients` concurrent clients, each sending GETs of `url` one after another for
/// `seconds`; every answer must be a success.
async fn throughput(client: &reqwest::Client, url: &str, clients: usize, seconds: u64) -> (f64, u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let response = client.get(&url).send().await.expect("request");
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.expect("body");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    (total as f64 / seconds as f64, total)
}

/// One GET of `url`, read to its end, timed; it must succeed.
async fn timed_get(client: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let response = client.get(url).send().await.expect("request");
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await.expect("body");
    started.elapsed()
}

/// Times `count` sequential GETs; returns the durations and the last body's size.
async fn time_requests(client: &reqwest::Client, url: &str, count: usize) -> (Vec<Duration>, usize) {
    let mut times = Vec::with_capacity(count);
    let mut size = 0;
    for _ in 0..count {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("request");
        assert!(response.status().is_success(), "{url}: {}", response.status());
        size = response.bytes().await.expect("body").len();
        times.push(started.elapsed());
    }
    (times, size)
}

/// The status of a GET whose body was read to the end; `None` when the request or its body failed.
async fn status_of(client: reqwest::Client, url: String) -> Option<reqwest::StatusCode> {
    let response = client.get(url).send().await.ok()?;
    let status = response.status();
    response.bytes().await.ok().map(|_| status)
}

fn median(times: &[Duration]) -> Duration {
    percentile(times, 0.5)
}

fn percentile(times: &[Duration], fraction: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let upstream = Arc::new(Upstream::default());
    let fake = Router::new()
        .route("/messages/current-period", get(messages))
        .route("/reports/{id}", get(report))
        .with_state(Arc::clone(&upstream));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, fake).await.unwrap() });

    // No proxy, no compression: the bytes of the contract, as other services read it. The timeout is past the
    // server's deadline (USAGE_DEADLINE_MS), so that a stuck request fails the run instead of stalling it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap();
    // `BENCH_ONLY=history,replicas`: only those sections (for working on them; the results file has all).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runs = |section: &str| only.is_empty() || only.split(',').any(|name| name.trim() == section);
    if runs("serving") {
        serving::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("history") {
        history_store::figures().await;
        history_store::past_period_page_figures(&client, &upstream, &upstream_url).await;
    }
    if runs("large_history") {
        large_history::large_history_figures(&client, &upstream, &upstream_url).await;
    }
    if runs("shared_values") {
        shared_values_cost::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("replicas") {
        replicas::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("browser") {
        browser::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("access") {
        access_cost::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("organisations") {
        organisations::figures(&client, &upstream, &upstream_url).await;
    }
    if runs("unusual_days") {
        unusual_days::figures();
    }
    if runs("structure") {
        structure::figures(&client, &upstream, &upstream_url).await;
    }
}
