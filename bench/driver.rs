//! Benchmark driver: a fake upstream with adjustable latency and size, in this process, and the release
//! server as a child process in front of it. Prints Markdown tables; `bench/run.sh` builds and calls it.
//!
//! Every latency is compared with a baseline measured in the same run: the round trip of one request
//! straight to the fake upstream.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVER_BINARY: &str = "target/release/credit-dashboard";

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
}

impl Upstream {
    fn set(&self, latency_ms: u64, messages: u64, distinct_reports: u64, fresh_ids: bool) {
        self.latency_ms.store(latency_ms, Ordering::SeqCst);
        self.messages.store(messages, Ordering::SeqCst);
        self.distinct_reports.store(distinct_reports, Ordering::SeqCst);
        self.fresh_ids.store(fresh_ids as u64, Ordering::SeqCst);
        self.id_base.fetch_add(1_000_000, Ordering::SeqCst);
    }

    async fn delay(&self) {
        let latency = self.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
    }
}

async fn messages(State(upstream): State<Arc<Upstream>>) -> impl IntoResponse {
    upstream.delay().await;
    let count = upstream.messages.load(Ordering::SeqCst);
    let reports = upstream.distinct_reports.load(Ordering::SeqCst).max(1);
    let base = if upstream.fresh_ids.load(Ordering::SeqCst) == 1 {
        upstream.id_base.fetch_add(reports, Ordering::SeqCst)
    } else {
        upstream.id_base.load(Ordering::SeqCst)
    };
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
            "{{\"id\":{i},\"text\":\"Summarise the tenant's repair obligations, message {i}.\",\"timestamp\":\"2024-{month:02}-{day:02}T{hour:02}:{minute:02}:00.000Z\""
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
    upstream.delay().await;
    let body = format!("{{\"id\":{id},\"name\":\"Report {id}\",\"credit_cost\":{}.5}}", 10 + id % 90);
    ([(header::CONTENT_TYPE, "application/json")], body)
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(port: u16, upstream_url: &str) -> Server {
        let child = Command::new(SERVER_BINARY)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("UPSTREAM_BASE_URL", upstream_url)
            .env("USAGE_DEADLINE_MS", "120000")
            .env("UPSTREAM_TIMEOUT_MS", "60000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {SERVER_BINARY}: {error}; build it with bench/run.sh"));
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

    // No proxy, no compression: the bytes of the contract, as other services read it.
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(256).build().unwrap();
    let server = Server::start(3200, &upstream_url).await;
    let usage_url = format!("{}/usage", server.base);
    let samples = 20;

    println!("## `/usage` latency\n");
    println!("500 messages; half carry a report id. Cold: every request sees report ids it has never seen. Warm: the same ids again.");
    println!("Baseline: one request straight to the fake upstream, measured here. {samples} requests each.\n");
    println!("| upstream latency | distinct reports | upstream round trip (median) | cold median | cold p95 | warm median | warm p95 | cold ÷ round trip |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for latency in [0, 20, 50] {
        for reports in [8, 200] {
            upstream.set(latency, 500, reports, false);
            let (round_trips, _) =
                time_requests(&client, &format!("{upstream_url}/reports/{}", 1), samples).await;
            upstream.set(latency, 500, reports, true);
            let (cold, _) = time_requests(&client, &usage_url, samples).await;
            upstream.set(latency, 500, reports, false);
            time_requests(&client, &usage_url, 1).await;
            let (warm, _) = time_requests(&client, &usage_url, samples).await;
            let round_trip = median(&round_trips);
            println!(
                "| {latency} ms | {reports} | {} ms | {} ms | {} ms | {} ms | {} ms | {:.2} |",
                ms(round_trip),
                ms(median(&cold)),
                ms(percentile(&cold, 0.95)),
                ms(median(&warm)),
                ms(percentile(&warm, 0.95)),
                median(&cold).as_secs_f64() / round_trip.as_secs_f64()
            );
        }
    }

    println!("\n## Warm throughput\n");
    upstream.set(0, 500, 8, false);
    time_requests(&client, &usage_url, 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (client, url) = (client.clone(), usage_url.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let response = client.get(&url).send().await.expect("request");
                    assert!(response.status().is_success());
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
    println!("64 concurrent clients for 10 s, upstream latency 0 ms, 500 messages, 8 reports (cached): **{:.0} requests/s** ({total} requests).", total as f64 / 10.0);
    drop(server);

    println!("\n## A large period\n");
    let server = Server::start(3201, &upstream_url).await;
    let rss_before = server.peak_rss_kib();
    upstream.set(0, 100_000, 5_000, true);
    let (upstream_direct, upstream_size) =
        time_requests(&client, &format!("{upstream_url}/messages/current-period"), 1).await;
    let (cold, size) = time_requests(&client, &format!("{}/usage", server.base), 1).await;
    let (page, page_size) = time_requests(&client, &format!("{}/", server.base), 1).await;
    println!("100 000 messages, 5 000 distinct reports, upstream latency 0 ms, cold cache.\n");
    println!("| measure | value |\n|---|---:|");
    println!("| fake upstream messages body | {:.1} MB in {} ms (baseline) |", upstream_size as f64 / 1e6, ms(upstream_direct[0]));
    println!("| `/usage` time (cold) | {} ms |", ms(cold[0]));
    println!("| `/usage` response size | {:.1} MB |", size as f64 / 1e6);
    println!("| dashboard page for the same period | {} ms, {:.1} MB of HTML |", ms(page[0]), page_size as f64 / 1e6);
    println!("| server peak RSS: idle → after | {:.1} MiB → {:.1} MiB |", rss_before as f64 / 1024.0, server.peak_rss_kib() as f64 / 1024.0);
    drop(server);

    println!("\n## The dashboard page (sample-sized period)\n");
    let server = Server::start(3202, &upstream_url).await;
    upstream.set(0, 120, 7, false);
    time_requests(&client, &format!("{}/", server.base), 1).await;
    let (times, size) = time_requests(&client, &format!("{}/", server.base), samples).await;
    let (usage_times, _) = time_requests(&client, &format!("{}/usage", server.base), samples).await;
    println!("120 messages, 7 reports (cached), upstream latency 0 ms, {samples} requests.\n");
    println!("| measure | median | p95 |\n|---|---:|---:|");
    println!("| `GET /` (server render, {:.1} KB of HTML uncompressed) | {} ms | {} ms |", size as f64 / 1024.0, ms(median(&times)), ms(percentile(&times, 0.95)));
    println!("| `GET /usage` | {} ms | {} ms |", ms(median(&usage_times)), ms(percentile(&usage_times, 0.95)));
    drop(server);

    println!("\n## The table with 5 000 rows, in Chromium\n");
    let server = Server::start(3203, &upstream_url).await;
    upstream.set(0, 5_000, 50, false);
    let measured = Command::new("node").arg("bench/table_sort.js").arg(format!("{}/", server.base)).output();
    match measured {
        Ok(output) if output.status.success() => {
            println!("5 000 messages, 50 reports. `hydratedMs`: navigation to hydrated. `clicks`: six sort clicks, each timed from the click to the");
            println!("next frame: Credits ↑ (full re-sort), Credits ↓ (full), + Report Name ↑ and ↓ (ties only), Report Name off (none), Credits off (full).\n");
            println!("`{}`", String::from_utf8_lossy(&output.stdout).trim());
        }
        Ok(output) => println!("not measured: {}", String::from_utf8_lossy(&output.stderr).trim()),
        Err(error) => println!("not measured: {error}"),
    }
}
