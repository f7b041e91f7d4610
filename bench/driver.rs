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
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "../tests/it/support/redis.rs"]
#[allow(dead_code)]
mod redis;

mod builds;
mod large_history;
mod shared_values_cost;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVER_BINARY: &str = "target/release/credit-dashboard";

/// The build before the second review, for the figures measured side by side with it: `bench/run.sh` builds
/// its server (from `BASELINE_REV`) into this directory, which is also its working directory (its own
/// Leptos.toml).
const BASELINE_DIR: &str = "target/bench-baseline";

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
    /// When set, each messages call words the texts anew (the same ids and reports): every refresh is a new
    /// version of the period.
    new_text_each_call: AtomicU64,
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
    let wording = match upstream.new_text_each_call.load(Ordering::SeqCst) {
        0 => String::new(),
        _ => format!(", call {download}"),
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
            "{{\"id\":{},\"text\":\"Summarise the tenant's repair obligations, message {i}{wording}.\",\"timestamp\":\"{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:00.000Z\"",
            first_id + i
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

    /// The baseline build, in its own directory; `None` when `bench/run.sh` did not build one.
    async fn start_baseline(port: u16) -> Option<Server> {
        let binary = std::path::Path::new(BASELINE_DIR).join("credit-dashboard");
        let binary = binary.canonicalize().ok()?;
        let mut command = Command::new(binary);
        command.current_dir(BASELINE_DIR);
        Some(Server::start_binary(command, port, "", &[]).await)
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
    // `BENCH_ONLY=history`: only the history store's figures (for working on them; the results file has all).
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "history") {
        history_store_figures().await;
        past_period_page_figures(&client, &upstream, &upstream_url).await;
        large_history::large_history_figures(&client, &upstream, &upstream_url).await;
        return;
    }
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "replicas") {
        shared_values_cost::figures(&client, &upstream, &upstream_url).await;
        replica_figures(&client, &upstream, &upstream_url).await;
        return;
    }
    let server = Server::start(3200, &upstream_url, NOTHING_KEPT).await;
    let usage_url = format!("{}/usage", server.base);
    let samples = 20;

    println!("## `/usage` latency\n");
    println!("500 messages; half carry a report id. Cold: every request sees report ids it has never seen.");
    println!("Warm: the same ids again. The server runs with `KEPT_PERIOD_TTL_MS=0`: it keeps no priced period,");
    println!("so every request downloads and prices the messages, as in the previous run (its cold medians, copied,");
    println!("are in the last column). Baseline: one request straight to the fake upstream, measured here.");
    println!("{samples} requests each.\n");
    println!(
        "| upstream latency | distinct reports | upstream round trip (median) | cold median | cold p95 | warm median \
         | warm p95 | cold ÷ round trip | cold median, previous run |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for latency in [0, 20, 50] {
        for reports in [8, 200] {
            upstream.set(latency, 500, reports, false);
            let (round_trips, _) = time_requests(&client, &format!("{upstream_url}/reports/{}", 1), samples).await;
            upstream.set(latency, 500, reports, true);
            let (cold, _) = time_requests(&client, &usage_url, samples).await;
            upstream.set(latency, 500, reports, false);
            time_requests(&client, &usage_url, 1).await;
            let (warm, _) = time_requests(&client, &usage_url, samples).await;
            let round_trip = median(&round_trips);
            let previous = PREVIOUS_COLD_MEDIANS
                .iter()
                .find(|(measured, _)| *measured == (latency, reports))
                .map_or("—", |(_, figure)| *figure);
            println!(
                "| {latency} ms | {reports} | {} ms | {} ms | {} ms | {} ms | {} ms | {:.2} | {previous} |",
                ms(round_trip),
                ms(median(&cold)),
                ms(percentile(&cold, 0.95)),
                ms(median(&warm)),
                ms(percentile(&warm, 0.95)),
                median(&cold).as_secs_f64() / round_trip.as_secs_f64()
            );
        }
    }
    drop(server);

    println!("\n## Warm throughput\n");
    let server = Server::start(3201, &upstream_url, &[]).await;
    let usage_url = format!("{}/usage", server.base);
    upstream.set(0, 500, 8, false);
    time_requests(&client, &usage_url, 1).await;
    upstream.take_message_downloads();
    let (per_second, total) = throughput(&client, &usage_url, 64, 10).await;
    let downloads = upstream.take_message_downloads();
    println!("64 concurrent clients for 10 s, upstream latency 0 ms, 500 messages, 8 reports, default");
    println!("`KEPT_PERIOD_TTL_MS` (30 s): after a first request, every response is served from the kept period");
    println!("({downloads} messages downloads during the run). **{per_second:.0} requests/s** ({total} requests).");
    println!("Previous run, which downloaded and priced the messages for every request: 1303 requests/s.");
    drop(server);

    println!("\n## A large period\n");
    println!("100 000 messages, 5 000 distinct reports, upstream latency 0 ms. The \"before\" figures are those of");
    println!("the previous run, copied from bench/RESULTS.md: they cannot be measured again, since the code that");
    println!("produced them is gone.\n");

    let cold_samples = 3;
    let server = Server::start(3202, &upstream_url, NOTHING_KEPT).await;
    upstream.set(0, 100_000, 5_000, true);
    let (upstream_direct, upstream_size) =
        time_requests(&client, &format!("{upstream_url}/messages/current-period"), 1).await;
    let (cold_usage, usage_size) = time_requests(&client, &format!("{}/usage", server.base), cold_samples).await;
    let (cold_page, page_size) = time_requests(&client, &format!("{}/", server.base), cold_samples).await;
    drop(server);
    println!("### Computed for each request\n");
    println!("`KEPT_PERIOD_TTL_MS=0`, and new report ids for every messages download: each request downloads");
    println!("the messages and looks every report up. {cold_samples} requests each, median.\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!(
        "| fake upstream messages body (baseline) | {:.1} MB in {} ms | — | 12.9 MB in 70.5 ms |",
        upstream_size as f64 / 1e6,
        ms(upstream_direct[0])
    );
    println!("| `GET /usage` | {} ms | — | 441.9 ms (1 request) |", ms(median(&cold_usage)));
    println!("| `GET /` | {} ms | — | 1078.9 ms (1 request) |", ms(median(&cold_page)));
    println!(
        "| cold `/` ÷ cold `/usage` | {:.2} | ≤ 1.2 | 2.44 |",
        median(&cold_page).as_secs_f64() / median(&cold_usage).as_secs_f64()
    );
    println!("| `/usage` response size | {:.1} MB | — | 9.6 MB |", usage_size as f64 / 1e6);
    println!(
        "| `/` HTML size | {:.1} KB (first page of the table) | ≤ 150 KB | 33.3 MB (the whole table) |",
        page_size as f64 / 1024.0
    );

    println!("\n### Served from the kept period\n");
    let server = Server::start(3203, &upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, false);
    upstream.take_message_downloads();
    println!("Default `KEPT_PERIOD_TTL_MS` (30 s). The first request for `/` computes the period; the first with");
    println!("a new sort computes that order over the whole period, which is then kept with it. Then {samples}");
    println!("requests each. No before figures: the previous server kept nothing.\n");
    println!("| request | first | median | p95 | target (median) |\n|---|---:|---:|---:|---:|");
    for (path, target) in [
        ("/", "≤ 10 ms"),
        ("/?sort=credits_used:desc&page=500", "—"),
        ("/?sort=report_name:asc,credits_used:desc&page=2", "—"),
    ] {
        let url = format!("{}{path}", server.base);
        let (first, _) = time_requests(&client, &url, 1).await;
        let (kept, _) = time_requests(&client, &url, samples).await;
        println!(
            "| `GET {path}` | {} ms | {} ms | {} ms | {target} |",
            ms(first[0]),
            ms(median(&kept)),
            ms(percentile(&kept, 0.95))
        );
    }
    println!(
        "\nMessages downloads at the upstream for all of these: {} (1 is the first request's).",
        upstream.take_message_downloads()
    );
    drop(server);

    let concurrent = 50;
    println!("\n### {concurrent} concurrent requests on a cold server\n");
    let server = Server::start(3204, &upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, true);
    upstream.take_message_downloads();
    let rss_idle = server.peak_rss_kib();
    let started = Instant::now();
    let requests: Vec<_> = (0..concurrent)
        .map(|index| {
            let path = if index % 2 == 0 { "/" } else { "/usage" };
            tokio::spawn(status_of(client.clone(), format!("{}{path}", server.base)))
        })
        .collect();
    let mut succeeded = 0;
    for request in requests {
        if request.await.unwrap() == Some(reqwest::StatusCode::OK) {
            succeeded += 1;
        }
    }
    let wall = started.elapsed();
    let downloads = upstream.take_message_downloads();
    let rss_after = server.peak_rss_kib();
    drop(server);
    println!("A new server (default TTL, nothing computed yet), new report ids; {concurrent} requests sent at once,");
    println!("alternately `/` and `/usage`: they share one computation of the period.\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!("| messages downloads at the upstream | {downloads} | 1 | — |");
    println!("| responses with status 200 | {succeeded} of {concurrent} | all | — |");
    println!("| wall time, until the last response | {} ms | — | — |", ms(wall));
    println!(
        "| peak RSS (VmHWM): idle → after | {} → {} | ≤ 250 MiB | 8.1 → 165.5 MiB (one `/usage`, then one `/`) |",
        mib(rss_idle),
        mib(rss_after)
    );

    println!("\n## The dashboard page (sample-sized period)\n");
    let server = Server::start(3205, &upstream_url, &[]).await;
    upstream.set(0, 120, 7, false);
    time_requests(&client, &format!("{}/", server.base), 1).await;
    let (times, size) = time_requests(&client, &format!("{}/", server.base), samples).await;
    let (usage_times, _) = time_requests(&client, &format!("{}/usage", server.base), samples).await;
    drop(server);
    println!("120 messages, 7 reports, upstream latency 0 ms; default TTL, so after a first request both are");
    println!("served from the kept period. {samples} requests each. Before: the previous run, copied (its server");
    println!("downloaded and priced the messages for every request).\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!("| `GET /` median (server render) | {} ms | ≤ 3 ms | 2.2 ms |", ms(median(&times)));
    println!("| `GET /` p95 | {} ms | — | 2.5 ms |", ms(percentile(&times, 0.95)));
    println!("| `GET /` HTML size, uncompressed | {:.1} KB | — | 53.5 KB |", size as f64 / 1024.0);
    println!("| `GET /usage` median | {} ms | — | 0.5 ms |", ms(median(&usage_times)));
    println!("| `GET /usage` p95 | {} ms | — | 0.7 ms |", ms(percentile(&usage_times, 0.95)));

    println!("\n## `GET /` throughput on the sample data, side by side with the build before the review\n");
    // Both on the embedded sample upstream (their default), one after the other on this machine.
    let server = Server::start(3207, "", &[]).await;
    let url = format!("{}/", server.base);
    time_requests(&client, &url, 1).await;
    let (now, now_total) = throughput(&client, &url, 64, 10).await;
    let (_, size) = time_requests(&client, &url, 1).await;
    drop(server);
    let before = match Server::start_baseline(3208).await {
        Some(server) => {
            let url = format!("{}/", server.base);
            time_requests(&client, &url, 1).await;
            let (before, _) = throughput(&client, &url, 64, 10).await;
            let (_, before_size) = time_requests(&client, &url, 1).await;
            Some((before, before_size))
        }
        None => None,
    };
    println!("64 concurrent clients for 10 s each, `GET /` of the 120-message sample (the default configuration:");
    println!("the embedded sample upstream, the kept period), against this build and against the build before");
    println!("the second review (`BASELINE_REV`), started one after the other in this run.\n");
    println!("| build | requests/s | HTML size | ratio |\n|---|---:|---:|---:|");
    match before {
        Some((before, before_size)) => {
            println!("| before the review | {before:.0} | {:.1} KB | 1.00 |", before_size as f64 / 1024.0);
            println!(
                "| this build | {now:.0} ({now_total} requests) | {:.1} KB | {:.2} (target ≥ 2) |",
                size as f64 / 1024.0,
                now / before
            );
        }
        None => println!(
            "| this build | {now:.0} ({now_total} requests) | {:.1} KB | no baseline built |",
            size as f64 / 1024.0
        ),
    }

    history_store_figures().await;
    past_period_page_figures(&client, &upstream, &upstream_url).await;
    large_history::large_history_figures(&client, &upstream, &upstream_url).await;
    shared_values_cost::figures(&client, &upstream, &upstream_url).await;
    replica_figures(&client, &upstream, &upstream_url).await;

    println!("\n## The table of a 100 000-message period, in Chromium\n");
    let server = Server::start(3206, &upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, false);
    let url = format!("{}/", server.base);
    // The period is computed before the browser starts: the visit measures serving it, not the upstream.
    time_requests(&client, &url, 1).await;
    upstream.take_message_downloads();
    // Off the runtime's threads, which keep serving the fake upstream meanwhile.
    let measured =
        tokio::task::spawn_blocking(move || Command::new("node").arg("bench/table_clicks.js").arg(url).output())
            .await
            .expect("node runner");
    let downloads = upstream.take_message_downloads();
    drop(server);
    match measured {
        Ok(output) if output.status.success() => {
            println!("100 000 messages, 5 000 reports; a default-TTL server, whose period one request computed");
            println!("just before. `hydratedMs`: navigation to hydrated. `clicks`: each from the click to the next");
            println!("frame after the table shows the new page, which the server sorts and cuts (target ≤ 100 ms");
            println!("each): Credits ↑, Credits ↓, + Report Name ↑ (each the first request for its order, which the");
            println!("server then keeps), Next, Last and Previous page. `firstVisit` / `repeatVisit`: bytes of JS,");
            println!("WASM and CSS under `/pkg/` that came over the network (DevTools protocol), and how many of");
            println!("those requests the cache served; the repeat visit (hydrated in `repeatHydratedMs`) loads the");
            println!("same URL again in the same browser context (target 0 bytes).\n");
            println!("`{}`\n", String::from_utf8_lossy(&output.stdout).trim());
            println!("Messages downloads at the upstream during the browser run: {downloads} (0: all served from");
            println!("the kept period). Previous run, copied (5 000 rows, all in the page, sorted in the browser):");
            println!("hydrated in 1226 ms; sort clicks 359, 266, 43, 32, 37 and 278 ms.");
        }
        Ok(output) => println!("not measured: {}", String::from_utf8_lossy(&output.stderr).trim()),
        Err(error) => println!("not measured: {error}"),
    }
}

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
async fn history_store_figures() {
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
            let store = HistoryStore::open(&url, "bench", Duration::from_secs(30)).unwrap();
            store.migrate().await.unwrap();
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
async fn past_period_page_figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
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

/// What one setup of three replicas measured.
struct ReplicaRun {
    cold_wall: Duration,
    cold_page: Vec<Duration>,
    cold_usage: Vec<Duration>,
    downloads: u64,
    report_calls: u64,
    warm_page: Vec<Duration>,
    warm_usage: Vec<Duration>,
    /// Redis commands per request, cold and warm; `None` without Redis.
    commands: Option<(f64, f64)>,
    peak_rss_kib: u64,
}

/// Three replicas of a 100 000-message period, without a shared cache and with one Redis: 150 cold requests at
/// once over the three, then warm requests one after another, round robin.
async fn replica_figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let redis = redis::Redis::start();
    let shared_url = redis.url();
    let commands = || -> u64 {
        let stats = redis.cli(&["INFO", "stats"]);
        let line = stats.lines().find_map(|line| line.strip_prefix("total_commands_processed:"));
        line.and_then(|count| count.trim().parse().ok()).unwrap_or(0)
    };
    let (cold_requests, warm_requests) = (150, 60);
    let mut runs = Vec::new();
    for (first_port, shared) in [(3220, false), (3230, true)] {
        let env: Vec<(&str, &str)> = if shared { vec![("SHARED_CACHE_URL", shared_url.as_str())] } else { vec![] };
        let mut replicas = Vec::new();
        for port in first_port..first_port + 3 {
            replicas.push(Server::start(port, upstream_url, &env).await);
        }
        if shared {
            for replica in &replicas {
                let ready = format!("{}/readyz", replica.base);
                while client.get(&ready).send().await.unwrap().text().await.unwrap() != "ready (sharing)" {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        upstream.set(0, 100_000, 5_000, true);
        upstream.take_message_downloads();
        upstream.take_report_calls();
        let commands_before = commands();
        let started = Instant::now();
        let cold: Vec<_> = (0..cold_requests)
            .map(|index| {
                let path = if index % 2 == 0 { "/" } else { "/usage" };
                let (client, url) = (client.clone(), format!("{}{path}", replicas[index % 3].base));
                tokio::spawn(async move {
                    let started = Instant::now();
                    let response = client.get(url).send().await.expect("request");
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.expect("body");
                    started.elapsed()
                })
            })
            .collect();
        let mut cold_times = Vec::new();
        for request in cold {
            cold_times.push(request.await.unwrap());
        }
        let cold_wall = started.elapsed();
        let cold_commands = commands() - commands_before;
        let (downloads, report_calls) = (upstream.take_message_downloads(), upstream.take_report_calls());
        upstream.set(0, 100_000, 5_000, false);
        let commands_before = commands();
        let (mut warm_page, mut warm_usage) = (Vec::new(), Vec::new());
        for index in 0..warm_requests {
            let replica = &replicas[index % 3];
            warm_page.extend(time_requests(client, &format!("{}/", replica.base), 1).await.0);
            warm_usage.extend(time_requests(client, &format!("{}/usage", replica.base), 1).await.0);
        }
        // The probe, once a second on each replica, is not a request's.
        let warm_commands = commands() - commands_before;
        let peak_rss_kib = replicas.iter().map(Server::peak_rss_kib).max().unwrap_or(0);
        let per_request = |count: u64, requests: usize| count as f64 / requests as f64;
        runs.push(ReplicaRun {
            cold_wall,
            cold_page: cold_times.iter().step_by(2).copied().collect(),
            cold_usage: cold_times.iter().skip(1).step_by(2).copied().collect(),
            downloads,
            report_calls,
            warm_page,
            warm_usage,
            commands: shared
                .then(|| (per_request(cold_commands, cold_requests), per_request(warm_commands, 2 * warm_requests))),
            peak_rss_kib,
        });
    }
    println!("\n## Three replicas, with and without a shared cache\n");
    println!("Three release servers on this machine in front of one fake upstream (100 000 messages, 5 000 reports,");
    println!("latency 0 ms, new report ids for the cold requests), default `KEPT_PERIOD_TTL_MS` (30 s); with a");
    println!("shared cache, one `redis-server` (Debian's, no persistence) started for the run. Cold: {cold_requests} requests sent");
    println!("at once, alternately `/` and `/usage`, round robin over the replicas. Warm: then {warm_requests} of each, one after");
    println!("another, round robin. Redis commands per request from `INFO stats` (the warm figure includes each");
    println!("replica's probe, a write once a second).\n");
    println!("| measure | without (in-process) | with Redis | ratio |\n|---|---:|---:|---:|");
    let (alone, shared) = (&runs[0], &runs[1]);
    let row = |name: &str, without: String, with: String, ratio: String| {
        println!("| {name} | {without} | {with} | {ratio} |")
    };
    let ratio = |a: Duration, b: Duration| format!("{:.2}", b.as_secs_f64() / a.as_secs_f64());
    row("messages downloads (cold)", alone.downloads.to_string(), shared.downloads.to_string(), "target: 1".into());
    row(
        "report lookups at the upstream (cold)",
        alone.report_calls.to_string(),
        shared.report_calls.to_string(),
        "—".into(),
    );
    row(
        "cold wall time, all answered",
        format!("{} ms", ms(alone.cold_wall)),
        format!("{} ms", ms(shared.cold_wall)),
        ratio(alone.cold_wall, shared.cold_wall),
    );
    for (name, a, b) in [
        ("cold `GET /` median", &alone.cold_page, &shared.cold_page),
        ("cold `GET /usage` median", &alone.cold_usage, &shared.cold_usage),
        ("warm `GET /` median", &alone.warm_page, &shared.warm_page),
        ("warm `GET /usage` median", &alone.warm_usage, &shared.warm_usage),
    ] {
        row(name, format!("{} ms", ms(median(a))), format!("{} ms", ms(median(b))), ratio(median(a), median(b)));
    }
    for (name, a, b) in [
        ("warm `GET /` p95", &alone.warm_page, &shared.warm_page),
        ("warm `GET /usage` p95", &alone.warm_usage, &shared.warm_usage),
    ] {
        row(
            name,
            format!("{} ms", ms(percentile(a, 0.95))),
            format!("{} ms", ms(percentile(b, 0.95))),
            ratio(percentile(a, 0.95), percentile(b, 0.95)),
        );
    }
    let (cold_commands, warm_commands) = shared.commands.unwrap_or_default();
    row("Redis commands per request, cold", "—".into(), format!("{cold_commands:.2}"), "—".into());
    row("Redis commands per request, warm", "—".into(), format!("{warm_commands:.2}"), "—".into());
    row(
        "peak RSS of the largest replica (VmHWM)",
        mib(alone.peak_rss_kib),
        mib(shared.peak_rss_kib),
        format!("{:.2}", shared.peak_rss_kib as f64 / alone.peak_rss_kib as f64),
    );
    let added = |a: &[Duration], b: &[Duration]| median(b).as_secs_f64() * 1000.0 - median(a).as_secs_f64() * 1000.0;
    println!(
        "\nThe shared path on a warm request, against the in-process one: {:+.2} ms at the median for `/`, {:+.2} ms for",
        added(&alone.warm_page, &shared.warm_page),
        added(&alone.warm_usage, &shared.warm_usage)
    );
    println!("`/usage` (target ≤ 1 ms added). A warm request asks Redis nothing: each replica keeps the shared period");
    println!("for as long as Redis's pointer to it lives, then reads the pointer again (and the value only when its");
    println!("version is new).");
}
