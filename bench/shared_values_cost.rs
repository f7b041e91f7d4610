//! What authenticating the shared values (`shared_cache_secret`) costs a cold and a warm request, and how much
//! memory Redis holds for a 100 000-message period that changes at every refresh, on this build and on the
//! build before the third review (which kept every version for its TTL plus 5 minutes, with no cap).

use crate::builds::this_and_before_third_review;
use crate::{median, mib, ms, redis, time_requests, until_sharing, Server, Upstream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const SECRET: &str = "a-shared-cache-secret-of-at-least-32-characters";

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    authentication_cost(client, upstream, upstream_url).await;
    redis_memory(client, upstream, upstream_url).await;
}

struct Cost {
    computing: Duration,
    read_from_redis: Vec<Duration>,
    warm_page: Vec<Duration>,
    warm_usage: Vec<Duration>,
}

async fn authentication_cost(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let rounds = 5;
    upstream.set(0, 100_000, 5_000, false);
    // Two deployments side by side, each with its own Redis: without and with the secret.
    let (plain_redis, sealed_redis) = (redis::Redis::start(), redis::Redis::start());
    let (plain_url, sealed_url) = (plain_redis.url(), sealed_redis.url());
    let plain = vec![("SHARED_CACHE_URL", plain_url.as_str()), ("KEPT_PERIOD_TTL_MS", "600000")];
    let mut sealed = vec![("SHARED_CACHE_URL", sealed_url.as_str()), ("KEPT_PERIOD_TTL_MS", "600000")];
    sealed.push(("SHARED_CACHE_SECRET", SECRET));
    let mut costs = Vec::new();
    let mut computing = Vec::new();
    for (port, env) in [(3250, &plain), (3251, &sealed)] {
        let server = Server::start(port, upstream_url, env).await;
        until_sharing(client, &server).await;
        let (first, _) = time_requests(client, &format!("{}/usage", server.base), 1).await;
        costs.push(Cost {
            computing: first[0],
            read_from_redis: Vec::new(),
            warm_page: Vec::new(),
            warm_usage: Vec::new(),
        });
        computing.push(server);
    }
    for _ in 0..rounds {
        // New replicas that have nothing yet: the first request of each reads the period from Redis.
        let mut readers = Vec::new();
        for (index, (port, env)) in [(3252, &plain), (3253, &sealed)].into_iter().enumerate() {
            let reader = Server::start(port, upstream_url, env).await;
            until_sharing(client, &reader).await;
            costs[index].read_from_redis.extend(time_requests(client, &format!("{}/usage", reader.base), 1).await.0);
            readers.push(reader);
        }
        // Warm requests, one to each in turn, so that both see the same machine at the same moment.
        for _ in 0..100 {
            for (index, reader) in readers.iter().enumerate() {
                costs[index].warm_page.extend(time_requests(client, &format!("{}/", reader.base), 1).await.0);
            }
        }
        for _ in 0..10 {
            for (index, reader) in readers.iter().enumerate() {
                costs[index].warm_usage.extend(time_requests(client, &format!("{}/usage", reader.base), 1).await.0);
            }
        }
    }
    drop(computing);
    println!("\n## Authenticated shared values\n");
    println!("100 000 messages (5 000 reports), `KEPT_PERIOD_TTL_MS` of 10 minutes; two deployments side by side,");
    println!("each with its own `redis-server`, one without and one with `shared_cache_secret`. In each, a replica");
    println!("computes the period and shares it (sealing it with the secret); then, {rounds} times, a new replica's");
    println!("first `/usage` reads it from Redis (verifying the seal), followed by 100 warm `GET /` and 10 warm");
    println!("`/usage`, sent to the two new replicas in turn (served from memory: no Redis, no MAC).\n");
    println!("| measure | without secret | with `shared_cache_secret` | added |\n|---|---:|---:|---:|");
    let (off, on) = (&costs[0], &costs[1]);
    let added = |a: Duration, b: Duration| format!("{:+.2} ms", (b.as_secs_f64() - a.as_secs_f64()) * 1000.0);
    let row = |name: &str, a: Duration, b: Duration| {
        println!("| {name} | {} ms | {} ms | {} |", ms(a), ms(b), added(a, b));
    };
    row("computing replica's first `/usage` (computes, seals, writes)", off.computing, on.computing);
    row(
        "another replica's first `/usage` (reads from Redis), median",
        median(&off.read_from_redis),
        median(&on.read_from_redis),
    );
    row("warm `GET /` median", median(&off.warm_page), median(&on.warm_page));
    row("warm `GET /usage` median", median(&off.warm_usage), median(&on.warm_usage));
    println!(
        "\nWarm `GET /` with the secret: {} at the median (target: within 0.1 ms).",
        added(median(&off.warm_page), median(&on.warm_page))
    );
}

async fn redis_memory(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let seconds = 40;
    let mut lines = Vec::new();
    for build in this_and_before_third_review() {
        for ttl in ["1000", "30000"] {
            let redis = redis::Redis::start();
            let url = redis.url();
            let env = [("SHARED_CACHE_URL", url.as_str()), ("KEPT_PERIOD_TTL_MS", ttl)];
            upstream.set(0, 100_000, 5_000, false);
            upstream.new_ids_each_call.store(1, Ordering::SeqCst);
            let server = build.start(3252, upstream_url, &env).await;
            until_sharing(client, &server).await;
            upstream.take_message_downloads();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(seconds) {
                time_requests(client, &format!("{}/usage", server.base), 1).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let versions = upstream.take_message_downloads();
            upstream.new_ids_each_call.store(0, Ordering::SeqCst);
            let kept = redis.period_versions();
            let used = redis.info("memory", "used_memory");
            let peak = redis.info("memory", "used_memory_peak");
            drop(server);
            lines.push(format!(
                "| {} | {ttl} | {versions} | {kept} | {} | {} |",
                build.name,
                mib(used / 1024),
                mib(peak / 1024)
            ));
        }
    }
    println!("\n## Redis memory for a period that changes at every refresh\n");
    println!("One replica, one `redis-server` each, 100 000 messages numbered anew at every download (a new");
    println!("version at every refresh, about 20 MB each), `/usage` asked every 200 ms for {seconds} s; Redis' `used_memory`");
    println!("at the end and its peak, and the versions of the period it holds. The build before the review kept");
    println!("every version for its TTL plus 5 minutes, with no cap.\n");
    println!("| build | `kept_period_ttl_ms` | versions computed | versions in Redis | `used_memory` | peak |");
    println!("|---|---:|---:|---:|---:|---:|");
    for line in lines {
        println!("{line}");
    }
}
