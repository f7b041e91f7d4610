//! The shared cache's Lua scripts, each run on a real `redis-server` as the replicas run them: what each answers
//! and leaves behind, foreign values under their keys included.

use crate::support::redis::Redis;
use credit_dashboard::server::shared_cache::scripts::*;

fn eval(redis: &Redis, script: &str, keys: &[&str], args: &[&str]) -> String {
    let count = keys.len().to_string();
    let mut command = vec!["EVAL", script, &count];
    command.extend_from_slice(keys);
    command.extend_from_slice(args);
    redis.cli(&command)
}

#[test]
fn read_bounded_gives_each_value_within_the_limit_else_its_size_or_what_it_is() {
    let redis = Redis::start();
    redis.cli(&["SET", "small", "abc"]);
    redis.cli(&["SET", "large", &"x".repeat(100)]);
    redis.cli(&["RPUSH", "list", "x"]);
    let read = eval(&redis, READ_BOUNDED, &["small", "large", "list", "none"], &["10"]);
    assert_eq!(read.lines().collect::<Vec<_>>(), ["abc", "100", "-2", "0"]);
}

#[test]
fn read_pointer_names_the_version_its_lifetime_and_its_values_size() {
    let redis = Redis::start();
    let pointer = "{p}:period";
    assert_eq!(eval(&redis, READ_POINTER, &[pointer], &["", NOT_SHARED_TEXT]), "", "no pointer");
    redis.cli(&["SET", pointer, "0123456789abc.1714356509375", "PX", "60000"]);
    redis.cli(&["SET", "{p}:period:0123456789abc", "value"]);
    let read = eval(&redis, READ_POINTER, &[pointer], &["", NOT_SHARED_TEXT]);
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!((lines[0], lines[2]), ("0123456789abc.1714356509375", "5"));
    assert!(lines[1].parse::<i64>().unwrap() > 59_000, "its time to live: {}", lines[1]);
    let known = eval(&redis, READ_POINTER, &[pointer], &["0123456789abc.1714356509375", NOT_SHARED_TEXT]);
    assert_eq!(known.lines().nth(2), Some("-1"), "the caller has it: nothing to read");
    redis.cli(&["DEL", "{p}:period:0123456789abc"]);
    let gone = eval(&redis, READ_POINTER, &[pointer], &["", NOT_SHARED_TEXT]);
    assert_eq!(gone.lines().nth(2), Some("0"), "its value is gone");
    redis.cli(&["DEL", pointer]);
    redis.cli(&["RPUSH", pointer, "x"]);
    let foreign = eval(&redis, READ_POINTER, &[pointer], &["", NOT_SHARED_TEXT]);
    assert!(foreign.ends_with("1\n-2"), "not a string: {foreign:?}");
}

const NOT_SHARED_TEXT: &str = "not-shared";

#[test]
fn a_lease_is_taken_once_taken_over_from_what_no_replica_wrote_and_released_only_by_its_holder() {
    let redis = Redis::start();
    let lease = "{p}:period:lease";
    assert_eq!(eval(&redis, TAKE_LEASE, &[lease], &["a", "60000"]), "1");
    assert_eq!(eval(&redis, TAKE_LEASE, &[lease], &["b", "60000"]), "0", "held by a");
    assert_eq!(eval(&redis, RELEASE_LEASE, &[lease], &["b"]), "0", "not b's to release");
    assert_eq!(redis.cli(&["GET", lease]), "a");
    assert_eq!(eval(&redis, RELEASE_LEASE, &[lease], &["a"]), "1");
    redis.cli(&["SET", lease, "someone"]);
    assert_eq!(eval(&redis, TAKE_LEASE, &[lease], &["c", "60000"]), "2", "no expiry: taken over");
    redis.cli(&["DEL", lease]);
    redis.cli(&["RPUSH", lease, "x"]);
    assert_eq!(eval(&redis, TAKE_LEASE, &[lease], &["d", "60000"]), "3", "not a string: taken over");
    assert_eq!(redis.cli(&["GET", lease]), "d");
}

#[test]
fn a_period_is_written_only_under_its_lease_and_redis_keeps_the_newest_versions_only() {
    let redis = Redis::start();
    let (lease, pointer, versions) = ("{p}:period:lease", "{p}:period", "{p}:period:versions");
    let write = |token: &str, version: &str| {
        let value = format!("{{p}}:period:{version}");
        let text = format!("{version}.1");
        eval(
            &redis,
            WRITE_PERIOD,
            &[lease, &value, pointer, versions],
            &[token, "v", &text, "60000", "1000", "3", "{p}:period:"],
        )
    };
    assert_eq!(write("a", "0000000000001"), "0", "no lease: nothing written");
    assert!(redis.keys("period:0000000000001").is_empty());
    eval(&redis, TAKE_LEASE, &[lease], &["a", "60000"]);
    for version in ["0000000000001", "0000000000002", "0000000000003", "0000000000004", "0000000000002"] {
        assert_eq!(write("a", version), "1");
    }
    let kept: Vec<String> = redis.keys("}:period:000").into_iter().map(|key| key.replace("{p}:period:", "")).collect();
    assert_eq!(kept, ["0000000000002", "0000000000003", "0000000000004"], "the three newest");
    assert_eq!(redis.cli(&["GET", pointer]), "0000000000002.1");
    // A list entry that is not one of this deployment's versions is never deleted.
    redis.cli(&["SET", "elsewhere", "x"]);
    redis.cli(&["RPUSH", versions, "elsewhere"]);
    write("a", "0000000000005");
    assert_eq!(redis.cli(&["GET", "elsewhere"]), "x");
}
