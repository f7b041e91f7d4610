//! What replicas read back from Redis is input: a forged period that adds up is refused by the upstream's checks
//! or, with `shared_cache_secret`, by its seal, and then neither served nor recorded; lifetimes read from Redis
//! are clamped; reads are bounded; a lease whose take timed out is given back; builds and namespaces keep their
//! own keys; old versions are capped and read once; a replica shares from its first request, stops accepting at
//! SIGTERM and lets its requests in flight finish; a Redis database that does not exist stops it at start.

use crate::support::fleet::*;
use crate::support::redis::Redis;
use crate::support::replica::Replica;
use crate::support::*;
use credit_dashboard::money::Credits;
use credit_dashboard::server::pricing::credit_rules::PriceBasis;
use credit_dashboard::server::pricing::priced_period::PricedPeriod;
use credit_dashboard::server::pricing::shared_values::{decode_period, encode_period};
use credit_dashboard::server::shared_cache::seal::unsealed_without_keys;
use std::time::{Duration, Instant};
use wiremock::MockServer;

const SECRET: &str = "a-shared-cache-secret-of-at-least-32-characters";

/// The shared pointer's key and the version it names.
fn pointer(redis: &Redis) -> (String, String) {
    let pointer = redis.keys("}:period").into_iter().find(|key| key.ends_with("}:period")).expect("the pointer");
    let version = redis.cli(&["GET", &pointer]).split('.').next().unwrap_or_default().to_owned();
    (pointer, version)
}

/// Replaces the shared period by a forgery that adds up (its version is the digest of its rows): the real one,
/// as read from Redis, edited by `edit`. Returns the forged version.
fn forge(redis: &Redis, edit: impl FnOnce(&mut Vec<credit_dashboard::contract::UsageRow>, &[PriceBasis])) -> String {
    let (pointer, version) = pointer(redis);
    let stored = redis.cli(&["GET", &format!("{pointer}:{version}")]);
    let real = decode_period(unsealed_without_keys(stored.as_bytes()), &version).expect("the real period");
    let mut rows = real.rows.clone();
    edit(&mut rows, &real.bases);
    let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).unwrap();
    let forged = PricedPeriod::new(rows, real.bases.clone(), real.times.clone(), total, real.fetched_at);
    let tag = forged.version_tag();
    let value = String::from_utf8(encode_period(&forged).to_vec()).unwrap();
    redis.cli(&["SET", &format!("{pointer}:{tag}"), &value, "PX", "60000"]);
    let fetched_ms = real.fetched_at.as_millisecond().to_string();
    redis.cli(&["SET", &pointer, &format!("{tag}.{fetched_ms}"), "PX", "60000"]);
    tag
}

#[tokio::test]
async fn a_forgery_that_adds_up_is_refused_by_the_checks_and_by_the_seal_and_never_recorded() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::ZERO).await;
    let redis = Redis::start();

    // Without a secret: a text price that is not the text rule's, in a value that matches its digest.
    let plain = replicas(1, &upstream, &redis, &[("KEPT_PERIOD_TTL_MS", "1000")]).await;
    let (_, expected) = fetch(plain[0].url("/usage")).await;
    // Message 6 is priced by its text (every sixth is).
    let forged = forge(&redis, |rows, _| rows[5].credits_used = Credits::from_hundredths(1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = gets(&upstream, MESSAGES).await;
    assert_eq!(fetch(plain[0].url("/usage")).await, (200, expected.clone()), "the forgery is not served");
    assert_eq!(gets(&upstream, MESSAGES).await - before, 1, "recomputed");
    let log = plain[0].log();
    assert!(log.contains("shared value ignored") && log.contains("text rule"), "logged with why: {log}");
    assert_ne!(pointer(&redis).1, forged, "the shared period is the real one again");
    drop(plain);

    // With a secret: a report's price changed, which every check accepts (a cost can be any amount), refused
    // because no secret of ours sealed it; the store records the real numbers only.
    let directory = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/history.sqlite3", directory.path().display());
    let env = [("KEPT_PERIOD_TTL_MS", "1000"), ("SHARED_CACHE_SECRET", SECRET), ("DATABASE_URL", &database)];
    let sealed = replicas(1, &upstream, &redis, &env).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, expected) = fetch(sealed[0].url("/usage")).await;
    let (pointer_key, version) = pointer(&redis);
    let stored = redis.cli(&["GET", &format!("{pointer_key}:{version}")]);
    assert!(stored.starts_with("sealed 1 "), "written sealed: {}", &stored[..40.min(stored.len())]);
    let before = gets(&upstream, MESSAGES).await;
    forge(&redis, |rows, bases| {
        assert!(matches!(bases[0], PriceBasis::Report { .. }), "message 1 is priced by a report");
        rows[0].credits_used = Credits::from_hundredths(99_999);
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(fetch(sealed[0].url("/usage")).await, (200, expected), "the unsealed forgery is not served");
    // (The recorder's tick asks for the period too: it may be the one that read the forgery.)
    assert!(gets(&upstream, MESSAGES).await > before, "recomputed");
    assert!(sealed[0].log().contains("unauthenticated"), "logged as unauthenticated");
    // What the store holds for message 1, once the recorder wrote the period: the real price.
    let store = sqlx::any::AnyPoolOptions::new().max_connections(1);
    sqlx::any::install_default_drivers();
    let store = store.connect(&database).await.unwrap();
    let recorded = || async {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT credits_hundredths FROM credit_dashboard_period_rows WHERE message_id = 1")
                .fetch_optional(&store)
                .await
                .ok()
                .flatten();
        row.map(|(hundredths,)| hundredths)
    };
    eventually("the period is recorded", || async { recorded().await.is_some() }).await;
    // Report 100 costs 110.00.
    assert_eq!(recorded().await, Some(11_000), "the store holds the real price");
}

#[tokio::test]
async fn a_lifetime_read_from_redis_is_never_longer_than_the_replicas_own() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::ZERO).await;
    let redis = Redis::start();
    let fleet = replicas(1, &upstream, &redis, &[("KEPT_PERIOD_TTL_MS", "1000")]).await;
    fetch(fleet[0].url("/usage")).await;
    let (pointer, _) = pointer(&redis);
    // Ten years, as another writer of Redis could set it.
    redis.cli(&["PEXPIRE", &pointer, "315360000000"]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Read again from Redis, with its ten years.
    fetch(fleet[0].url("/usage")).await;
    upstream.reset().await;
    serve(&upstream, messages(500, 3), Duration::ZERO).await;
    redis.cli(&["DEL", &pointer]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, usage) = fetch(fleet[0].url("/usage")).await;
    assert!(usage.contains("\"message_id\":500"), "kept no longer than KEPT_PERIOD_TTL_MS: {usage}");
}

#[tokio::test]
async fn an_oversized_value_under_a_report_key_is_never_read() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::ZERO).await;
    let redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "1000"), ("REPORT_CACHE_TTL_SECS", "1")];
    let fleet = replicas(1, &upstream, &redis, &env).await;
    let (_, expected) = fetch(fleet[0].url("/usage")).await;
    let report = redis.keys("}:report:100").pop().expect("report 100 is shared");
    redis.cli(&["EVAL", "redis.call('SET', KEYS[1], string.rep('x', 5000000), 'PX', 60000)", "1", &report]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sent = redis.info("stats", "total_net_output_bytes");
    // Computed again: the reports are looked for in Redis first.
    assert_eq!(fetch(fleet[0].url("/usage")).await, (200, expected));
    let moved = redis.info("stats", "total_net_output_bytes") - sent;
    assert!(moved < 1_000_000, "{moved} bytes sent by Redis: the 5 MB value was read");
}

#[tokio::test]
async fn a_lease_whose_take_timed_out_here_is_given_back_when_redis_answers() {
    use credit_dashboard::server::config::Config;
    use credit_dashboard::server::shared_cache::{SharedCache, SharedSettings};
    let redis = Redis::start();
    let config = Config { shared_cache_url: redis.url(), shared_cache_timeout_ms: 300, ..Config::default() };
    let settings = SharedSettings::from_config(&config, "an upstream", 1).unwrap().unwrap();
    let cache = SharedCache::connect(settings, &tokio::runtime::Handle::current()).unwrap();
    eventually("the cache shares", || async { cache.is_sharing() }).await;
    redis.pause();
    // Redis sets the key once it runs again; this replica has given up on the answer by then.
    assert_eq!(cache.take_lease("0123456789abcdef", Duration::from_secs(60)).await, None);
    assert_eq!(cache.orphaned_leases(), 1);
    redis.unpause();
    eventually("the lease is given back", || async {
        redis.keys("}:period:lease").is_empty() && cache.orphaned_leases() == 0
    })
    .await;
}

#[tokio::test]
async fn builds_of_other_rules_or_namespaces_never_share_keys() {
    use credit_dashboard::server::pricing::credit_rules::RULES_VERSION;
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::ZERO).await;
    let redis = Redis::start();
    let production = replicas(1, &upstream, &redis, &[]).await;
    let staging = replicas(1, &upstream, &redis, &[("SHARED_CACHE_NAMESPACE", "staging")]).await;
    assert_eq!(fetch(production[0].url("/usage")).await.0, 200);
    assert_eq!(fetch(staging[0].url("/usage")).await.0, 200);
    assert_eq!(gets(&upstream, MESSAGES).await, 2, "one download each: nothing shared across namespaces");
    let keys = redis.keys("credit-dashboard");
    assert!(keys.iter().any(|key| key.contains(":staging:")), "{keys:?}");
    let rules = format!(":r{RULES_VERSION}}}");
    assert!(keys.iter().all(|key| key.contains(&rules)), "every key names the rules' version: {keys:?}");
}

#[tokio::test]
async fn redis_keeps_a_few_versions_and_an_old_one_is_read_once_for_many_requests() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 30), Duration::ZERO).await;
    let redis = Redis::start();
    let env = [("KEPT_PERIOD_TTL_MS", "300"), ("TABLE_PAGE_SIZE", "10")];
    let fleet = replicas(1, &upstream, &redis, &env).await;
    let mut versions = Vec::new();
    for change in 0..5 {
        upstream.reset().await;
        serve(&upstream, messages(1000 * (change + 1), 30), Duration::ZERO).await;
        tokio::time::sleep(Duration::from_millis(350)).await;
        fetch(fleet[0].url("/usage")).await;
        versions.push(pointer(&redis).1);
    }
    // The latest stays shared while the second replica reads (the first one asks the upstream no more).
    redis.cli(&["PEXPIRE", &pointer(&redis).0, "60000"]);
    let kept = redis.period_versions();
    assert!(kept <= 3, "at most 3 versions kept in Redis, found {kept}");

    // A replica that never saw the fourth version: 20 requests for one of its pages at once read it once.
    let fresh = replicas(1, &upstream, &redis, &[("KEPT_PERIOD_TTL_MS", "60000"), ("TABLE_PAGE_SIZE", "10")]).await;
    fetch(fresh[0].url("/usage")).await;
    let reads = || redis.info("commandstats", "cmdstat_eval") + redis.info("commandstats", "cmdstat_get");
    let before = reads();
    let view = format!("v={}&page=2", versions[3]);
    let pages = futures::future::join_all((0..20).map(|_| replica_table_page(&fresh[0], &view))).await;
    assert!(pages.iter().all(|page| page["refreshed"].as_bool() == Some(false)), "the kept version served");
    assert!(pages.iter().all(|page| row_ids(page) == (4010..4020).collect::<Vec<_>>()), "its second page");
    let read = reads() - before;
    assert!(read <= 2, "{read} reads of Redis for 20 requests of one version");
    // The first version was pushed out of Redis: its page is the latest data, and says so.
    let gone = replica_table_page(&fresh[0], &format!("v={}&page=2", versions[0])).await;
    assert_eq!(gone["refreshed"].as_bool(), Some(true));
}

#[tokio::test]
async fn a_fleet_started_together_shares_its_first_requests() {
    let upstream = MockServer::start().await;
    serve(&upstream, messages(1, 12), Duration::from_millis(300)).await;
    let redis = Redis::start();
    let url = redis.url();
    let env = [("SHARED_CACHE_URL", url.as_str()), ("SHARED_CACHE_TIMEOUT_MS", "2000")];
    let upstream_url = upstream.uri();
    let fleet = futures::future::join_all((0..3).map(|_| Replica::start(&upstream_url, &env))).await;
    // Each one accepts traffic only once it has probed Redis: ready, sharing, from its first answer.
    for replica in &fleet {
        assert_eq!(readiness(replica).await, "ready (sharing)");
    }
    let requests = (0..30).map(|i| fetch(fleet[i % 3].url("/usage")));
    let answers = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(status, _)| *status == 200));
    assert_eq!(gets(&upstream, MESSAGES).await, 1, "one download for the fleet");
}

#[tokio::test]
async fn sigterm_stops_accepting_at_once_and_lets_a_request_as_long_as_the_deadline_finish() {
    let upstream = MockServer::start().await;
    // Longer than the 10 s a shutdown used to allow, within the deadline.
    serve(&upstream, messages(1, 12), Duration::from_secs(11)).await;
    let env = [("USAGE_DEADLINE_MS", "14000"), ("UPSTREAM_TIMEOUT_MS", "13000"), ("UPSTREAM_RETRIES", "0")];
    let mut replica = Replica::start(&upstream.uri(), &env).await;
    let started = Instant::now();
    let request = tokio::spawn(fetch(replica.url("/usage")));
    eventually("the upstream is asked", || async { gets(&upstream, MESSAGES).await == 1 }).await;
    replica.signal("-TERM");
    eventually("the replica shuts down", || async { replica.log().contains("shutting down") }).await;
    let address = replica.base.trim_start_matches("http://").to_owned();
    eventually("new connections are refused", || async { tokio::net::TcpStream::connect(&address).await.is_err() })
        .await;
    let (status, _) = request.await.unwrap();
    assert_eq!(status, 200, "the request in flight finished after {:?}", started.elapsed());
    assert!(replica.wait(Duration::from_secs(10)).await.success());
}

#[tokio::test]
async fn a_redis_database_the_server_does_not_have_stops_the_replica_at_start_naming_the_key() {
    let redis = Redis::start();
    let url = format!("{}/200", redis.url().rsplit_once('/').unwrap().0);
    let (status, log) = Replica::exits("", &[("SHARED_CACHE_URL", &url)], Duration::from_secs(15)).await;
    assert!(!status.success(), "{log}");
    assert!(log.contains("shared_cache_url") && !log.contains("history store"), "{log}");
}
