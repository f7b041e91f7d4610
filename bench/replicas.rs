//! Three replicas with and without a shared cache: cold requests at once, then warm ones.

use crate::*;
use std::time::{Duration, Instant};

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
pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let redis = redis::Redis::start();
    let shared_url = redis.url();
    let commands = || redis.info("stats", "total_commands_processed");
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
                until_sharing(client, replica).await;
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
