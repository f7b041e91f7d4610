//! What replicas share through Redis or Valkey (`shared_cache_url`): values under keys, a lease, and the health
//! of the connection. It is a cache, never the source of truth. Every call has a timeout of its own and is tried
//! once, and any failure (down, slow, refusing writes) makes this replica fall back to what it keeps itself.
//! The change is logged once and shown on `/readyz`. A probe every second (a write) ends the fallback within
//! about a second of the server answering again, with no restart.
//!
//! The keys are prefixed by a digest of the upstream's URL, so that dashboards of different upstreams can share
//! one Redis. They are in one hash slot (`{…}`), so the scripts that read several keys at once keep working.

use crate::server::config::Config;
use crate::server::upstream::urls::redacted;
use axum::body::Bytes;
use fred::prelude::{ClientLike, Expiration, KeysInterface, LuaInterface};
use fred::types::config::{Options, ReconnectPolicy};
use fred::types::Value;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often the connection is probed: a replica shares again about two probes after the server is back.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The pointer to the shared period, `{prefix}period` = `<version>.<fetched ms>`, with its time to live and
/// what the caller needs to read of its value (`{prefix}period:<version>`): its size, or -1 when there is
/// nothing to read (the caller has that very pointer, `ARGV[1]`, or it says the period is not shared,
/// `ARGV[2]`), or -2 when the value is not a string. Keys that are not strings (foreign values) read as such
/// rather than failing the script; the value's size is 0 when it is gone. The value itself is
/// read apart (`GET`, with a timeout for its size), so the script never copies it.
const READ_POINTER: &str = r"
local pointer = redis.pcall('GET', KEYS[1])
if not pointer then return {} end
if type(pointer) ~= 'string' then return {'', 1, -2} end
local ttl = redis.call('PTTL', KEYS[1])
if pointer == ARGV[1] or pointer == ARGV[2] then return {pointer, ttl, -1} end
local size = redis.pcall('STRLEN', KEYS[1] .. ':' .. string.sub(pointer, 1, 13))
if type(size) ~= 'number' then return {pointer, ttl, -2} end
return {pointer, ttl, size}
";

/// The size of a value: -2 when it is not a string, 0 when there is none.
const SIZE_OF: &str = r"
local size = redis.pcall('STRLEN', KEYS[1])
if type(size) ~= 'number' then return -2 end
return size
";

/// Shares a period only while the lease `ARGV[1]` is still ours: a computation that lost its lease (it ran
/// out, or was given back at shutdown) never overwrites what the new holder wrote.
const WRITE_PERIOD: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[5])
return 1
";

/// Says, only while the lease `ARGV[1]` is still ours, that the period is not shared (`ARGV[2]`, for
/// `ARGV[3]` ms): every replica computes its own meanwhile, without waiting for a lease.
const WRITE_NOT_SHARED: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
";

/// The pointer's text while the period is too large to share.
const NOT_SHARED: &str = "not-shared";

/// Takes the lease `ARGV[1]` for `ARGV[2]` ms: 1 when it was free, 0 when another replica holds it, 2 or 3
/// when the key held something that is no lease of ours (without an expiry, or not a string), which would
/// otherwise hold every replica up for ever: it is taken over.
const TAKE_LEASE: &str = r"
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 3
end
if ttl == -1 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
";

/// Deletes the lease only while it is still ours.
const RELEASE_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// A value read under a size limit.
#[derive(Debug)]
pub enum Bounded {
    Value(Bytes),
    /// Larger than the limit: left unread.
    TooLarge(u64),
    /// Not a string: a foreign value.
    NotAString,
}

impl Bounded {
    /// The value, or why it cannot be one.
    pub fn into_value(self) -> Result<Bytes, String> {
        match self {
            Bounded::Value(bytes) => Ok(bytes),
            Bounded::TooLarge(size) => Err(format!("{size} bytes, over the limit")),
            Bounded::NotAString => Err("not a string".to_owned()),
        }
    }
}

/// The pointer to the shared period: which version, fetched when, and for how much longer it is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    pub version: String,
    pub fetched_ms: i64,
}

impl Pointer {
    pub fn text(&self) -> String {
        format!("{}.{}", self.version, self.fetched_ms)
    }

    fn parse(text: &str) -> Option<Pointer> {
        let (version, fetched_ms) = text.split_once('.')?;
        let fetched_ms = fetched_ms.parse().ok()?;
        let shaped = version.len() == 13 && version.bytes().all(|b| b.is_ascii_hexdigit());
        shaped.then(|| Pointer { version: version.to_owned(), fetched_ms })
    }
}

/// How taking the lease went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseTaken {
    Taken,
    /// Taken over a key that held no lease of ours, and why it was none.
    TakenOverForeign(&'static str),
    /// Another replica holds it.
    Held,
}

/// What the shared pointer says.
#[derive(Clone, Debug)]
pub enum Pointed {
    Period(Pointer),
    /// The period is too large to share: each replica computes its own.
    NotShared,
    /// Not a pointer of ours (shortened).
    Foreign(String),
}

/// The shared period as found: its pointer, for how much longer it holds, and its value (`None`: nothing to
/// read, the caller has it or it is not shared).
#[derive(Debug)]
pub struct SharedPeriod {
    pub pointer: Pointed,
    pub lives: Duration,
    pub value: Option<Bounded>,
}

/// Whether this replica shares, as `/readyz` and `/metrics` tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharingStatus {
    Sharing,
    /// Falling back to this replica's own memory, and why.
    Degraded(String),
}

pub struct SharedCache {
    client: fred::clients::Client,
    prefix: String,
    options: Options,
    timeout: Duration,
    max_value_bytes: usize,
    /// The server's URL without credentials, for the logs and `/readyz`.
    shown: String,
    /// The URL's password, as written and percent-decoded, kept out of every reason shown.
    passwords: Vec<String>,
    sharing: AtomicBool,
    /// Failures so far: a probe that began before one does not end the fallback.
    failures: AtomicU64,
    /// Why it last failed; `None` since it shares again (or before a first failure).
    degraded: Mutex<Option<String>>,
}

impl SharedCache {
    /// The shared cache `config` names, connecting in the background on `runtime` (and probed until it
    /// answers); `None` when it names none.
    pub fn connect(config: &Config, runtime: &tokio::runtime::Handle) -> Result<Option<Arc<SharedCache>>, String> {
        if config.shared_cache_url.is_empty() {
            return Ok(None);
        }
        let url = reqwest::Url::parse(&config.shared_cache_url).map_err(|_| "shared_cache_url: not a URL")?;
        let mut fred_config = fred::types::config::Config::from_url(&config.shared_cache_url)
            .map_err(|_| "shared_cache_url: not a Redis URL".to_owned())?;
        // Not there yet at start-up is not fatal: the connection is retried, and this replica keeps its own.
        fred_config.fail_fast = false;
        let timeout = Duration::from_millis(config.shared_cache_timeout_ms);
        let client = fred::types::Builder::from_config(fred_config)
            .with_connection_config(|connection| {
                connection.connection_timeout = timeout.max(Duration::from_secs(1));
                connection.internal_command_timeout = timeout.max(Duration::from_secs(1));
                connection.max_command_attempts = 1;
                connection.unresponsive.max_timeout = Some(timeout.max(Duration::from_secs(1)) * 2);
                connection.unresponsive.interval = Duration::from_millis(500);
            })
            .with_performance_config(|performance| performance.default_command_timeout = timeout)
            // Reconnect for ever, every half second: the probe tells when it worked.
            .set_policy(ReconnectPolicy::new_constant(0, 500))
            .build()
            .map_err(|error| format!("shared_cache_url: {}", error.details()))?;
        let digest = config.upstream_identity();
        let cache = Arc::new(SharedCache {
            client,
            prefix: format!("{{credit-dashboard:{digest}}}:"),
            options: Options { timeout: Some(timeout), fail_fast: true, max_attempts: Some(1), ..Options::default() },
            timeout,
            max_value_bytes: config.shared_cache_max_value_bytes,
            shown: redacted(&url),
            passwords: url.password().map(both_forms).unwrap_or_default(),
            sharing: AtomicBool::new(false),
            failures: AtomicU64::new(0),
            degraded: Mutex::new(None),
        });
        metrics::gauge!("shared_cache_degraded").set(1.0);
        let _inside = runtime.enter();
        // The connection's task runs (and reconnects) for as long as the client lives.
        let _connection = cache.client.connect();
        runtime.spawn(probe(Arc::downgrade(&cache)));
        Ok(Some(cache))
    }

    /// The server, without credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn max_value_bytes(&self) -> usize {
        self.max_value_bytes
    }

    /// Whether calls go to the server; while they do not, this replica keeps its own.
    pub fn is_sharing(&self) -> bool {
        self.sharing.load(Ordering::Acquire)
    }

    pub fn status(&self) -> SharingStatus {
        let degraded = self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match self.is_sharing() {
            true => SharingStatus::Sharing,
            false => SharingStatus::Degraded(degraded.clone().unwrap_or_else(|| "not connected yet".into())),
        }
    }

    /// The shared period: its pointer, its time to live and its value (up to the size limit), unless the
    /// caller has that very pointer (`known`). `Some(None)` when there is none; `None` when the cache cannot
    /// be asked.
    pub async fn read_period(&self, known: Option<&Pointer>) -> Option<Option<SharedPeriod>> {
        let keys = vec![self.key("period")];
        let known = known.map(Pointer::text).unwrap_or_default();
        let args = vec![known, NOT_SHARED.to_owned()];
        let read: Value = self.call("read_pointer", self.timeout, self.client.eval(READ_POINTER, keys, args)).await?;
        let mut parts = read.into_array().into_iter();
        let (Some(pointer), Some(ttl), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            return Some(None);
        };
        let text = pointer.as_string().unwrap_or_default();
        let pointer = match Pointer::parse(&text) {
            Some(pointer) => Pointed::Period(pointer),
            None if text == NOT_SHARED => Pointed::NotShared,
            None => Pointed::Foreign(text.chars().take(40).collect()),
        };
        // A pointer without an expiry is not one this server wrote: it is not served.
        let lives = Duration::from_millis(ttl.as_i64().filter(|ttl| *ttl > 0).unwrap_or(0) as u64);
        let size = size.as_i64().unwrap_or(-2);
        if let (Pointed::Period(_), 0) = (&pointer, size) {
            // Its value is gone (evicted: a Redis run as an LRU cache): no period.
            return Some(None);
        }
        let value = match (&pointer, size) {
            (_, -1) | (Pointed::NotShared, _) => None,
            (Pointed::Foreign(_), _) | (_, -2) => Some(Bounded::NotAString),
            (Pointed::Period(pointer), size) => {
                Some(self.read_sized("read_period", &format!("period:{}", pointer.version), size).await?)
            }
        };
        Some(Some(SharedPeriod { pointer, lives, value }))
    }

    /// The value of one period's version, while it is kept.
    pub async fn read_version(&self, version: &str) -> Option<Option<Bounded>> {
        self.read_bounded("read_version", &format!("period:{version}")).await
    }

    /// Shares a period, if the lease `token` is still ours: its value under its version (kept for `keep`, for
    /// paging walks that started on it), then the pointer to it (for `lives`). `Some(false)`: the lease was
    /// lost; `None`: it could not be written.
    pub async fn write_period(
        &self,
        token: &str,
        pointer: &Pointer,
        value: Bytes,
        lives: Duration,
        keep: Duration,
    ) -> Option<bool> {
        let keys = vec![self.key("period:lease"), self.key(&format!("period:{}", pointer.version)), self.key("period")];
        let timeout = self.timeout_for(value.len());
        let args: Vec<Value> =
            vec![token.into(), Value::Bytes(value), pointer.text().into(), px_of(keep).into(), px_of(lives).into()];
        let written: i64 = self.call("write_period", timeout, self.client.eval(WRITE_PERIOD, keys, args)).await?;
        Some(written == 1)
    }

    /// Says the period is not shared, for `lives`, if the lease `token` is still ours.
    pub async fn write_not_shared(&self, token: &str, lives: Duration) {
        let keys = vec![self.key("period:lease"), self.key("period")];
        let args: Vec<Value> = vec![token.into(), NOT_SHARED.into(), px_of(lives).into()];
        let _: Option<i64> =
            self.call("write_not_shared", self.timeout, self.client.eval(WRITE_NOT_SHARED, keys, args)).await;
    }

    /// Takes the computation's lease for `lives` unless another replica holds it. `None`: the cache cannot be
    /// asked.
    pub async fn take_lease(&self, token: &str, lives: Duration) -> Option<LeaseTaken> {
        let keys = vec![self.key("period:lease")];
        let args: Vec<Value> = vec![token.into(), px_of(lives).into()];
        let taken: i64 = self.call("take_lease", self.timeout, self.client.eval(TAKE_LEASE, keys, args)).await?;
        Some(match taken {
            1 => LeaseTaken::Taken,
            2 => LeaseTaken::TakenOverForeign("no expiry"),
            3 => LeaseTaken::TakenOverForeign("not a string"),
            _ => LeaseTaken::Held,
        })
    }

    /// Who holds the lease, if anyone.
    pub async fn lease_holder(&self) -> Option<Option<String>> {
        let holder: Value =
            self.call("lease_holder", self.timeout, self.commands().get(self.key("period:lease"))).await?;
        Some(holder.as_string())
    }

    /// Gives the lease back, if it is still ours, so that another replica can take it at once. Tried even
    /// while this replica does not share (a call just failed): a lease left behind would hold the others up
    /// until it ends.
    pub async fn release_lease(&self, token: &str) {
        if !self.client.is_connected() {
            return;
        }
        let keys = vec![self.key("period:lease")];
        let release = self.client.eval::<i64, _, _, _>(RELEASE_LEASE, keys, vec![token]);
        let result = if bounded("release_lease", self.timeout, release).await.is_ok() { "ok" } else { "error" };
        metrics::counter!("shared_cache_calls_total", "operation" => "release_lease", "result" => result).increment(1);
    }

    /// Tells the replicas waiting on the lease `token` how its computation ended, when it shared no period
    /// (for a few seconds).
    pub async fn write_outcome(&self, token: &str, outcome: Bytes) {
        let key = self.key(&format!("period:outcome:{token}"));
        let commands = self.commands();
        let write = commands.set(key, outcome, Some(px(Duration::from_secs(5))), None, false);
        let _: Option<()> = self.call("write_outcome", self.timeout, write).await;
    }

    /// How the computation of the lease `token` ended, if it shared no period.
    pub async fn read_outcome(&self, token: &str) -> Option<Option<Bounded>> {
        self.read_bounded("read_outcome", &format!("period:outcome:{token}")).await
    }

    /// The shared lookups of these reports, in order (`None` for each one not shared).
    pub async fn read_reports(&self, ids: &[u64]) -> Option<Vec<Option<Bytes>>> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(&format!("report:{id}"))).collect();
        let values: Vec<Value> = self.call("read_reports", self.timeout, self.commands().mget(keys)).await?;
        Some(values.into_iter().map(Value::into_bytes).collect())
    }

    /// Shares report lookups, each for its own time: one pipeline.
    pub async fn write_reports(&self, lookups: Vec<(u64, Bytes, Duration)>) {
        if lookups.is_empty() {
            return;
        }
        let timeout = self.timeout_for(lookups.iter().map(|(_, value, _)| value.len()).sum());
        let pipeline = self.client.pipeline();
        let queued = async {
            for (id, value, lives) in lookups {
                let () = pipeline.set(self.key(&format!("report:{id}")), value, Some(px(lives)), None, false).await?;
            }
            pipeline.all::<Vec<Value>>().await.map(|_| ())
        };
        let _: Option<()> = self.call("write_reports", timeout, queued).await;
    }

    /// A value under a size limit: its size first, then the value, with a timeout for that size.
    async fn read_bounded(&self, operation: &'static str, name: &str) -> Option<Option<Bounded>> {
        let keys = vec![self.key(name)];
        let size: i64 =
            self.call(operation, self.timeout, self.client.eval(SIZE_OF, keys, Vec::<String>::new())).await?;
        match size {
            0 => Some(None),
            size => Some(Some(self.read_sized(operation, name, size).await?)),
        }
    }

    async fn read_sized(&self, operation: &'static str, name: &str, size: i64) -> Option<Bounded> {
        match size {
            -2 => Some(Bounded::NotAString),
            size if size as u64 > self.max_value_bytes as u64 => Some(Bounded::TooLarge(size as u64)),
            size => {
                let commands = self.commands();
                let read = commands.get(self.key(name));
                let value: Value = self.call(operation, self.timeout_for(size as usize), read).await?;
                Some(Bounded::Value(value.into_bytes().unwrap_or_default()))
            }
        }
    }

    /// The timeout of a call that moves `bytes`: the configured one, and a millisecond per 50 KB (a
    /// 20 MB period gets 0.4 s more), so that a large value on a busy machine is not taken for an outage.
    pub fn timeout_for(&self, bytes: usize) -> Duration {
        self.timeout + Duration::from_millis((bytes / 50_000) as u64)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn commands(&self) -> fred::clients::WithOptions<fred::clients::Client> {
        self.client.with_options(&self.options)
    }

    /// One call, bounded by `timeout`, tried once; `None` when it fails or the cache is not in use, and then
    /// this replica falls back (logged when it starts). A call while the connection is down fails at once
    /// (fred queues scripts behind a reconnection otherwise).
    async fn call<T>(
        &self,
        operation: &'static str,
        timeout: Duration,
        command: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Option<T> {
        if !self.is_sharing() {
            return None;
        }
        let outcome = match self.client.is_connected() {
            true => bounded(operation, timeout, command).await,
            false => Err(format!("{operation}: not connected")),
        };
        let result = if outcome.is_ok() { "ok" } else { "error" };
        metrics::counter!("shared_cache_calls_total", "operation" => operation, "result" => result).increment(1);
        match outcome {
            Ok(value) => Some(value),
            Err(reason) => {
                self.fall_back(reason);
                None
            }
        }
    }

    fn fall_back(&self, reason: String) {
        let reason = self.passwords.iter().fold(reason, |reason, password| reason.replace(password.as_str(), "…"));
        let mut degraded = self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sharing.store(false, Ordering::Release);
        self.failures.fetch_add(1, Ordering::AcqRel);
        if degraded.is_none() {
            tracing::warn!(cache = %self.shown, %reason, "shared cache unavailable: this replica serves from its own memory");
            metrics::gauge!("shared_cache_degraded").set(1.0);
        }
        *degraded = Some(reason);
    }

    fn share_again(&self) {
        let mut degraded = self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *degraded = None;
        if !self.sharing.swap(true, Ordering::AcqRel) {
            tracing::info!(cache = %self.shown, "shared cache available: sharing the period with the other replicas");
            metrics::gauge!("shared_cache_degraded").set(0.0);
        }
    }

    /// A write, as the period's sharing needs: a server that answers reads but refuses writes is no use.
    async fn probe_once(&self) -> Result<(), String> {
        let commands = self.commands();
        let probe = commands.set::<(), _, _>(self.key("probe"), "1", Some(px(Duration::from_secs(5))), None, false);
        bounded("probe", self.timeout, probe).await
    }
}

/// One command, given `timeout` to answer: its value, or why it failed, named by `operation`.
async fn bounded<T>(
    operation: &str,
    timeout: Duration,
    command: impl Future<Output = Result<T, fred::error::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{operation}: {}", error.details())),
        Err(_) => Err(format!("{operation}: no answer within {} ms", timeout.as_millis())),
    }
}

/// Probes the server every second for as long as the cache is in use. Sharing starts at the first answer, and
/// starts again after a failure only when two probes in a row answered with no failure between them, so one
/// slow call does not make a replica drop its period and take another over and over.
async fn probe(cache: Weak<SharedCache>) {
    // The first probe waits for the first connection attempt (bounded: its notice can be missed), so a
    // replica starting next to a healthy server does not log an outage that never was.
    if let Some(cache) = cache.upgrade() {
        let first_attempt = cache.timeout.max(Duration::from_secs(1)) * 2;
        let _ = tokio::time::timeout(first_attempt, cache.client.wait_for_connect()).await;
    }
    let mut answered_in_a_row = 0;
    let mut ever_shared = false;
    let mut failures_seen = 0;
    loop {
        let Some(cache) = cache.upgrade() else { return };
        let failures_before = cache.failures.load(Ordering::Acquire);
        if failures_before != failures_seen {
            // A call failed since the last probe: the answers in a row start again.
            answered_in_a_row = 0;
            failures_seen = failures_before;
        }
        match cache.probe_once().await {
            Ok(()) if cache.failures.load(Ordering::Acquire) == failures_before => {
                answered_in_a_row += 1;
                if answered_in_a_row >= if ever_shared { 2 } else { 1 } {
                    cache.share_again();
                    ever_shared = true;
                }
            }
            Ok(()) => answered_in_a_row = 0,
            Err(reason) => {
                answered_in_a_row = 0;
                cache.fall_back(reason);
            }
        }
        drop(cache);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

fn px(lives: Duration) -> Expiration {
    Expiration::PX(px_of(lives))
}

fn px_of(lives: Duration) -> i64 {
    lives.as_millis().clamp(1, i64::MAX as u128) as i64
}

/// A URL's password as written and percent-decoded: an error may quote either.
fn both_forms(password: &str) -> Vec<String> {
    let query = format!("p={}", password.replace('+', "%2B"));
    let decoded = form_urlencoded::parse(query.as_bytes()).next().map(|(_, value)| value.into_owned());
    let mut forms = vec![password.to_owned()];
    forms.extend(decoded.filter(|decoded| decoded != password));
    forms.retain(|form| !form.is_empty());
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_masked_as_written_and_decoded() {
        assert_eq!(both_forms("p%40ss+w%2Fd"), vec!["p%40ss+w%2Fd".to_owned(), "p@ss+w/d".to_owned()]);
        assert_eq!(both_forms("plain"), vec!["plain".to_owned()]);
        assert!(both_forms("").is_empty());
    }

    #[test]
    fn a_pointer_is_a_version_and_a_fetch_time() {
        let pointer = Pointer { version: "0123456789abc".into(), fetched_ms: 1714356509375 };
        assert_eq!(Pointer::parse(&pointer.text()), Some(pointer));
        for foreign in ["0123456789abc", "0123456789ab.1", "0123456789abg.1", "0123456789abc.x", NOT_SHARED, ""] {
            assert_eq!(Pointer::parse(foreign), None, "{foreign}");
        }
    }
}
