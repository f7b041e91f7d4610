//! Replicas of the real server sharing one Redis (a real `redis-server` each test starts) in front of one fake
//! upstream: one download for many cold requests over three replicas, one "as of"; a replica killed while it
//! computes, and one stopped with SIGTERM; Redis going away, hung, refusing writes, and coming back; a password
//! never shown; foreign values under the keys; a period too large to share; and a paging walk that alternates
//! replicas across a refresh.

use crate::support::fleet::*;
use crate::support::redis::Redis;
use crate::support::replica::Replica;
use crate::support::*;
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::{MockServer, ResponseTemplate};

/// An upstream of ten messages whose first download takes `delay` (long enough to catch the replica that
/// computes in the middle of it); the next ones are quick.
async fn slow_first_download(delay: Duration) -> MockServer {
    let upstream = MockServer::start().await;
    let body = json!({ "messages": messages(1, 10) });
    respond_first(&upstream, MESSAGES, ResponseTemplate::new(200).set_body_json(body).set_delay(delay), 1).await;
    serve(&upstream, messages(1, 10), Duration::ZERO).await;
    upstream
}

/// A request to `replica`, once it is downloading the period (and so holds the lease).
async fn computing_on(replica: &Replica, upstream: &MockServer) -> tokio::task::JoinHandle<(u16, String)> {
    let computing = tokio::spawn(fetch(replica.url("/usage")));
    eventually("the replica is downloading", || async { gets(upstream, MESSAGES).await == 1 }).await;
    computing
}

#[tokio::test]
async fn cold_requests_over_three_replicas_share_one_download_each_report_once_and_one_as_of() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1000, 40), Duration::from_millis(800)).await;
    let redis = Redis::start();
    let replicas = replicas(3, &upstream, &redis, &[]).await;

    let requests = (0..150).map(|i| {
        let path = if i % 2 == 0 { "/usage" } else { "/" };
        fetch(replicas[i % 3].url(path))
    });
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(status, _)| *status == 200), "every request answered 200");
    let usage: Vec<&String> = answers.iter().step_by(2).map(|(_, body)| body).collect();
    assert!(usage.windows(2).all(|pair| pair[0] == pair[1]), "the same numbers from every replica");
    assert!(usage[0].contains("\"message_id\":1039"));

    assert_eq!(gets(&upstream, MESSAGES).await, 1, "one download for 150 cold requests over 3 replicas");
    for id in REPORTS {
        assert_eq!(gets(&upstream, &format!("/reports/{id}")).await, 1, "report {id} fetched once");
    }
    let mut shown = Vec::new();
    for replica in &replicas {
        shown.push(as_of(&fetch(replica.url("/")).await.1));
    }
    assert!(shown.iter().all(|time| *time == shown[0]), "one as-of time: {shown:?}");
    assert_eq!(gets(&upstream, MESSAGES).await, 1);
}

#[tokio::test]
async fn a_replica_killed_while_it_computes_is_taken_over_within_the_deadline_and_its_lease() {
    let upstream = slow_first_download(Duration::from_secs(3)).await;
    let redis = Redis::start();
    // The lease lives for the deadline, a second, and the time to write a value of the size limit (the 2 s
    // call timeout, and 1 ms): about 7 s.
    let env =
        [("USAGE_DEADLINE_MS", "4000"), ("UPSTREAM_TIMEOUT_MS", "3500"), ("SHARED_CACHE_MAX_VALUE_BYTES", "50000")];
    let mut replicas = replicas(3, &upstream, &redis, &env).await;

    let computing = computing_on(&replicas[0], &upstream).await;
    let started = Instant::now();
    let scripts = redis.info("commandstats", "cmdstat_eval");
    let waiting: Vec<_> = replicas[1..].iter().map(|replica| tokio::spawn(fetch(replica.url("/usage")))).collect();
    until_waiting_on_the_lease(&redis, scripts, 2).await;
    replicas[0].signal("-KILL");
    assert!(computing.await.unwrap_err().is_panic(), "the killed replica answered nothing");
    for answer in waiting {
        let (status, body) = answer.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"message_id\":10"));
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4 + 7 + 3), "answered within the deadline and the lease: {waited:?}");
    assert_eq!(gets(&upstream, MESSAGES).await, 2, "the dead replica's download, then one other's");
    replicas[0].wait(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn sigterm_gives_the_lease_back_so_another_replica_computes_at_once() {
    let upstream = slow_first_download(Duration::from_secs(6)).await;
    let redis = Redis::start();
    // The lease would live about 13 s; the first download takes 6.
    let env =
        [("USAGE_DEADLINE_MS", "10000"), ("UPSTREAM_TIMEOUT_MS", "9000"), ("SHARED_CACHE_MAX_VALUE_BYTES", "50000")];
    let mut replicas = replicas(2, &upstream, &redis, &env).await;

    let computing = computing_on(&replicas[0], &upstream).await;
    let started = Instant::now();
    let scripts = redis.info("commandstats", "cmdstat_eval");
    let waiting = tokio::spawn(fetch(replicas[1].url("/usage")));
    until_waiting_on_the_lease(&redis, scripts, 1).await;
    replicas[0].signal("-TERM");
    let (status, _) = waiting.await.unwrap();
    let waited = started.elapsed();
    assert_eq!(status, 200);
    assert!(waited < Duration::from_secs(4), "taken over at once, not after the lease or the download: {waited:?}");
    let (status, _) = computing.await.unwrap();
    assert_eq!(status, 200, "the request in flight on the stopping replica finishes");
    assert!(replicas[0].wait(Duration::from_secs(15)).await.success());
    assert!(replicas[0].log().contains("lease on the period's computation given back"));
}

#[tokio::test]
async fn with_redis_gone_each_replica_serves_correct_numbers_alone_and_shares_again_when_it_returns() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 30), Duration::from_millis(200)).await;
    let mut redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "1500")];
    let replicas = replicas(3, &upstream, &redis, &env).await;
    let alone = Replica::start(&upstream.uri(), &env).await;
    let (_, expected) = fetch(alone.url("/usage")).await;
    for replica in &replicas {
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()));
    }

    // Requests keep coming while Redis goes away: none fails.
    let urls: Vec<String> = replicas.iter().map(|replica| replica.url("/usage")).collect();
    let load = tokio::spawn(async move {
        let mut answers = Vec::new();
        let until = Instant::now() + Duration::from_secs(4);
        while Instant::now() < until {
            for url in &urls {
                answers.push(fetch(url.clone()).await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        answers
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.stop();
    let answers = load.await.unwrap();
    assert!(answers.len() > 10);
    for (status, body) in &answers {
        assert_eq!((*status, body), (200, &expected), "correct numbers, no 5xx");
    }
    for replica in &replicas {
        let readiness = readiness(replica).await;
        assert!(readiness.starts_with("degraded: the shared cache redis://127.0.0.1:"), "{readiness}");
        let log = replica.log();
        assert_eq!(log.matches("shared cache unavailable").count(), 1, "the change is logged once: {log}");
    }

    redis.resume();
    let returned = Instant::now();
    for replica in &replicas {
        eventually("sharing again", || async { readiness(replica).await == "ready (sharing)" }).await;
    }
    assert!(returned.elapsed() < Duration::from_secs(10), "back within seconds: {:?}", returned.elapsed());
    let before = gets(&upstream, MESSAGES).await;
    let burst = (0..30).map(|i| fetch(replicas[i % 3].url("/usage")));
    for (status, body) in futures::future::join_all(burst).await {
        assert_eq!((status, body), (200, expected.clone()));
    }
    assert_eq!(gets(&upstream, MESSAGES).await - before, 1, "one download, shared again");
}

#[tokio::test]
async fn a_hung_redis_or_one_refusing_writes_is_a_fallback_with_correct_numbers_until_it_recovers() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 20), Duration::ZERO).await;
    let redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "500"), ("SHARED_CACHE_TIMEOUT_MS", "300")];
    let replicas = replicas(2, &upstream, &redis, &env).await;
    let (_, expected) = fetch(replicas[0].url("/usage")).await;

    // Hung: every call runs into its own timeout, and the replicas serve from their own memory.
    redis.pause();
    tokio::time::sleep(Duration::from_millis(600)).await;
    for replica in &replicas {
        let started = Instant::now();
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()));
        assert!(started.elapsed() < Duration::from_secs(3), "not held up by the hung cache: {:?}", started.elapsed());
        eventually("degraded", || async { readiness(replica).await.starts_with("degraded:") }).await;
    }
    redis.unpause();
    for replica in &replicas {
        eventually("sharing again", || async { readiness(replica).await == "ready (sharing)" }).await;
    }

    // Refusing writes (out of memory, no eviction): reads alone cannot share a period.
    redis.cli(&["CONFIG", "SET", "maxmemory", "1"]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    for replica in &replicas {
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()));
        eventually("degraded", || async { readiness(replica).await.starts_with("degraded:") }).await;
    }
    redis.cli(&["CONFIG", "SET", "maxmemory", "0"]);
    for replica in &replicas {
        eventually("sharing again", || async { readiness(replica).await == "ready (sharing)" }).await;
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()));
        let log = replica.log();
        assert!(log.matches("shared cache unavailable").count() >= 2, "each outage logged: {log}");
    }
}

#[tokio::test]
async fn the_password_in_the_url_is_never_shown() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 5), Duration::ZERO).await;
    let redis = Redis::start();
    let port = redis.url().rsplit(':').next().unwrap().trim_end_matches("/0").to_owned();
    redis.cli(&["CONFIG", "SET", "requirepass", "right-secret-1"]);
    let right = format!("redis://:right-secret-1@127.0.0.1:{port}/0");
    let wrong = format!("redis://user:wrong-secret-2@127.0.0.1:{port}/0");
    let sharing = Replica::start(&upstream.uri(), &[("SHARED_CACHE_URL", &right)]).await;
    let refused = Replica::start(&upstream.uri(), &[("SHARED_CACHE_URL", &wrong)]).await;
    eventually("the right password shares", || async { readiness(&sharing).await == "ready (sharing)" }).await;
    eventually("the wrong one does not", || async { readiness(&refused).await.starts_with("degraded:") }).await;
    for (replica, secret) in [(&sharing, "right-secret-1"), (&refused, "wrong-secret-2")] {
        let mut shown = vec![readiness(replica).await, replica.log()];
        for path in ["/usage", "/", "/usage.csv", "/usage/summary"] {
            let (status, body) = fetch(replica.url(path)).await;
            assert_eq!(status, 200, "{path}");
            shown.push(body);
        }
        shown.push(replica.log());
        for text in shown {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }
    assert!(readiness(&refused).await.contains("redis://127.0.0.1:"), "the server is named, without credentials");
}

#[tokio::test]
async fn a_foreign_truncated_or_oversized_value_under_the_keys_is_ignored_and_recomputed() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::ZERO).await;
    let redis = Redis::start();
    let metrics_addr =
        format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let env =
        [("KEPT_PERIOD_TTL_MS", "1000"), ("SHARED_CACHE_MAX_VALUE_BYTES", "100000"), ("METRICS_ADDR", &metrics_addr)];
    let replicas = replicas(1, &upstream, &redis, &env).await;
    let replica = &replicas[0];
    let (_, expected) = fetch(replica.url("/usage")).await;
    let pointer = redis.keys("}:period").into_iter().find(|key| key.ends_with("}:period")).expect("the pointer");
    // The pointer reads `<version>.<fetch time in ms>`; the value lives under `…period:<version>`.
    let version_of = |text: String| text.split('.').next().unwrap_or_default().to_owned();
    let version = version_of(redis.cli(&["GET", &pointer]));
    assert_eq!(version.len(), 13, "a 13-digit hex version");
    let value = format!("{pointer}:{version}");
    assert!(redis.cli(&["GET", &value]).starts_with("credit-dashboard period 1"));

    let fake = format!("{pointer}:0000000000abc");
    let plantings: [(&str, Vec<&str>); 5] = [
        ("foreign", vec!["SET", &fake, "hello"]),
        ("another format", vec!["SET", &fake, "credit-dashboard period 2\n{}"]),
        (
            "truncated",
            vec![
                "EVAL",
                "redis.call('SET', KEYS[2], string.sub(redis.call('GET', KEYS[1]), 1, 60))",
                "2",
                &value,
                &fake,
            ],
        ),
        ("oversized", vec!["EVAL", "redis.call('SET', KEYS[1], string.rep('x', 200000))", "1", &fake]),
        ("not a string", vec!["RPUSH", &fake, "x"]),
    ];
    for (what, planting) in plantings {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        redis.cli(&["DEL", &fake]);
        redis.cli(&planting);
        redis.cli(&["SET", &pointer, "0000000000abc.1714356509375", "PX", "60000"]);
        let ignored = replica.log().matches("shared value ignored").count();
        let before = gets(&upstream, MESSAGES).await;
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()), "{what}");
        assert_eq!(gets(&upstream, MESSAGES).await - before, 1, "{what}: recomputed");
        assert_eq!(replica.log().matches("shared value ignored").count(), ignored + 1, "{what}: logged");
        assert_eq!(version_of(redis.cli(&["GET", &pointer])), version, "{what}: the shared period is ours again");
    }

    // A lease key that no replica wrote (no expiry, or not a string) would hold every replica up for ever: it
    // is taken over at once, and logged.
    let lease = format!("{pointer}:lease");
    for planting in [vec!["SET", &lease, "someone"], vec!["RPUSH", &lease, "x"]] {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        redis.cli(&["DEL", &pointer, &lease]);
        redis.cli(&planting);
        let taken_over = replica.log().matches("taken over").count();
        let started = Instant::now();
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()), "{planting:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "not held up: {:?}", started.elapsed());
        assert_eq!(replica.log().matches("taken over").count(), taken_over + 1, "{planting:?}: logged");
        assert!(redis.keys("}:period:lease").is_empty(), "{planting:?}: given back after the computation");
    }

    // The operator sees it: every refused value counted, shared lookups by layer, no shared-cache error.
    let text = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap().text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found = scrape.samples.iter().find(|sample| {
            sample.metric == name && labels.iter().all(|(key, value)| sample.labels.get(key) == Some(*value))
        });
        match found.map(|sample| &sample.value) {
            Some(prometheus_parse::Value::Counter(value) | prometheus_parse::Value::Gauge(value)) => *value,
            _ => panic!("no {name} {labels:?} in {text}"),
        }
    };
    assert!(value("shared_cache_values_refused_total", &[]) >= 5.0);
    assert!(value("cache_lookups_total", &[("cache", "kept_period"), ("layer", "shared"), ("result", "miss")]) >= 5.0);
    assert!(value("shared_cache_calls_total", &[("operation", "read_pointer"), ("result", "ok")]) >= 6.0);
    assert_eq!(value("shared_cache_degraded", &[]), 0.0);
}

#[tokio::test]
async fn a_period_over_the_size_limit_is_shared_by_none_and_each_replica_computes_its_own_without_a_lease() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 40), Duration::from_millis(100)).await;
    let redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "60000"), ("SHARED_CACHE_MAX_VALUE_BYTES", "1000")];
    let replicas = replicas(3, &upstream, &redis, &env).await;
    let (_, expected) = fetch(replicas[0].url("/usage")).await;
    let pointer = redis.keys("}:period").into_iter().find(|key| key.ends_with("}:period")).expect("the pointer");
    assert_eq!(redis.cli(&["GET", &pointer]), "not-shared", "the replicas are told");
    assert!(redis.keys("}:period:lease").is_empty(), "no lease left behind");

    let before = gets(&upstream, MESSAGES).await;
    let others = futures::future::join_all([1, 2].map(|i| fetch(replicas[i].url("/usage")))).await;
    assert_eq!(others, vec![(200, expected.clone()), (200, expected.clone())]);
    assert_eq!(gets(&upstream, MESSAGES).await - before, 2, "each computes its own");
    for replica in &replicas {
        assert_eq!(fetch(replica.url("/usage")).await, (200, expected.clone()), "then keeps it");
    }
    assert_eq!(gets(&upstream, MESSAGES).await - before, 2, "kept, not downloaded again");
    let warned: Vec<usize> = replicas
        .iter()
        .map(|replica| replica.log().matches("larger than shared_cache_max_value_bytes").count())
        .collect();
    assert_eq!(warned, vec![1, 0, 0], "said once, by the replica that found out");
    for replica in &replicas {
        assert!(!replica.log().contains("shared value ignored"), "{}", replica.log());
    }
}

#[tokio::test]
async fn a_paging_walk_alternating_replicas_stays_on_its_version_across_a_refresh_or_says_it_was_refreshed() {
    let upstream = MockServer::start().await;
    let first = messages(1000, 35);
    serve(&upstream, first.clone(), Duration::ZERO).await;
    let redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "1000"), ("TABLE_PAGE_SIZE", "10")];
    let replicas = replicas(3, &upstream, &redis, &env).await;

    let start = replica_table_page(&replicas[0], "").await;
    let view = start["view"].as_str().unwrap().to_owned();
    assert!(view.starts_with("v="), "the walk carries its version: {view}");
    let mut walked = row_ids(&start);

    // The upstream changes: five new messages come first, so every later row moves down a page.
    upstream.reset().await;
    let mut second = messages(2000, 5);
    second.extend(first.iter().cloned());
    serve(&upstream, second, Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = replica_table_page(&replicas[1], "").await;
    assert_eq!(row_ids(&fresh)[0], 2000, "a new walk sees the new data");

    for (page, replica) in [(2, &replicas[1]), (3, &replicas[2]), (4, &replicas[0])] {
        let page = replica_table_page(replica, &format!("{view}&page={page}")).await;
        assert_eq!((page["refreshed"].as_bool(), page["as_of"].clone()), (Some(false), start["as_of"].clone()));
        walked.extend(row_ids(&page));
    }
    assert_eq!(walked, (1000..1035).collect::<Vec<_>>(), "every row of the walk's version once, in order");

    // A version no longer kept: the latest data, and the page says so (the server function and the page alike).
    let gone = replica_table_page(&replicas[2], "page=2&v=0000000000001").await;
    assert_eq!(gone["refreshed"].as_bool(), Some(true));
    assert_eq!(row_ids(&gone), row_ids(&replica_table_page(&replicas[2], "page=2").await));
    let (status, html) = fetch(replicas[1].url("/?page=2&v=0000000000001")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"data-refreshed\"") && html.contains("The data was refreshed"));
    let (_, html) = fetch(replicas[1].url(&format!("/?{view}&page=2"))).await;
    assert!(!html.contains("id=\"data-refreshed\""), "a kept version has no notice");
    assert!(html.contains(&format!("page=3&amp;{view}")), "its page links carry the version");
}
