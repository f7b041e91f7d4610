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
use fred::prelude::{ClientLike, Expiration, KeysInterface, LuaInterface, SetOptions};
use fred::types::config::{Options, ReconnectPolicy};
use fred::types::Value;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often the connection is probed: the longest a replica stays in its fallback after the server is back.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// The longest a pointer to a period (a version) can be: anything longer under the key is not ours.
const LONGEST_VERSION: usize = 32;

/// The period under `{prefix}period` (a version), its value under `{prefix}period:{version}`: one round trip
/// reads both, with the pointer's time to live, and leaves unread a value larger than `ARGV[1]` or of the
/// version `ARGV[3]` (which the caller has). A key that is not a string (a foreign value) reads as empty rather
/// than failing the script.
const READ_PERIOD: &str = r"
local function string_at(key)
  local value = redis.pcall('GET', key)
  if type(value) == 'table' then return false end
  return value
end
local version = string_at(KEYS[1])
if not version then return {} end
local ttl = redis.call('PTTL', KEYS[1])
if string.len(version) > tonumber(ARGV[2]) then return {'', ttl, 0} end
if version == ARGV[3] then return {version, ttl, -1} end
local key = KEYS[1] .. ':' .. version
local size = redis.pcall('STRLEN', key)
if type(size) == 'table' then return {version, ttl, ''} end
if size > tonumber(ARGV[1]) then return {version, ttl, size} end
return {version, ttl, string_at(key) or ''}
";

/// A value, unless it is larger than `ARGV[1]` (its size, then) or not a string (empty).
const READ_BOUNDED: &str = r"
local size = redis.pcall('STRLEN', KEYS[1])
if type(size) == 'table' then return '' end
if size == 0 then return false end
if size > tonumber(ARGV[1]) then return size end
return redis.call('GET', KEYS[1])
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
    /// The version the caller has: left unread.
    Known,
}

/// The shared period as read: its version, how much longer it is shared, and its value.
#[derive(Debug)]
pub struct SharedPeriod {
    pub version: String,
    pub lives: Duration,
    pub value: Bounded,
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
    /// The URL's password, kept out of every reason shown.
    password: Option<String>,
    sharing: AtomicBool,
    /// Why it does not share; `None` while it does.
    degraded: Mutex<Option<String>>,
}

impl SharedCache {
    /// The shared cache `config` names, connecting in the background (and probed until it answers); `None`
    /// when it names none. Within a Tokio runtime only: the connection is a task.
    pub fn connect(config: &Config) -> Result<Option<Arc<SharedCache>>, String> {
        if config.shared_cache_url.is_empty() {
            return Ok(None);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| "a shared cache needs a Tokio runtime")?;
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
            // Reconnect for ever, every half second: the probe tells when it worked.
            .set_policy(ReconnectPolicy::new_constant(0, 500))
            .build()
            .map_err(|error| format!("shared_cache_url: {}", error.details()))?;
        // Each replica serves the embedded sample on its own address: the same data, so one name for it.
        let upstream_name = match config.uses_sample_upstream() {
            true => "the embedded sample".to_owned(),
            false => config.upstream_urls().messages().to_string(),
        };
        let mut upstream = Sha256::new();
        upstream.update(upstream_name.as_bytes());
        let digest = hex::encode(&upstream.finalize()[..8]);
        let cache = Arc::new(SharedCache {
            client,
            prefix: format!("{{credit-dashboard:{digest}}}:"),
            options: Options { timeout: Some(timeout), fail_fast: true, max_attempts: Some(1), ..Options::default() },
            timeout,
            max_value_bytes: config.shared_cache_max_value_bytes,
            shown: redacted(&url),
            password: url.password().map(str::to_owned),
            sharing: AtomicBool::new(false),
            degraded: Mutex::new(Some("not connected yet".into())),
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
        match self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            None => SharingStatus::Sharing,
            Some(reason) => SharingStatus::Degraded(reason),
        }
    }

    /// The shared period: its version, its time to live and its value (up to the size limit, and unless it is
    /// the version `known`). `Some(None)` when there is none; `None` when the cache cannot be asked.
    pub async fn read_period(&self, known: Option<String>) -> Option<Option<SharedPeriod>> {
        let keys = vec![self.key("period")];
        let args = vec![self.max_value_bytes.to_string(), LONGEST_VERSION.to_string(), known.unwrap_or_default()];
        let read: Value = self.call("read_period", self.commands().eval(READ_PERIOD, keys, args)).await?;
        let mut parts = read.into_array().into_iter();
        let (Some(version), Some(ttl), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Some(None);
        };
        let version = version.as_string().unwrap_or_default();
        // A pointer without an expiry is not one this server wrote: it lives no longer than the period would.
        let lives = Duration::from_millis(ttl.as_i64().filter(|ttl| *ttl > 0).unwrap_or(0) as u64);
        let value = match value {
            Value::Integer(-1) => Bounded::Known,
            Value::Integer(size) => Bounded::TooLarge(size.max(0) as u64),
            other => Bounded::Value(other.as_bytes().map(Bytes::copy_from_slice).unwrap_or_default()),
        };
        Some(Some(SharedPeriod { version, lives, value }))
    }

    /// The value of one period's version, while it is kept.
    pub async fn read_version(&self, version: &str) -> Option<Option<Bounded>> {
        self.read_bounded("read_version", self.key(&format!("period:{version}"))).await
    }

    /// Shares a period: its value under its version (kept for `keep`, for paging walks that started on it),
    /// then the pointer to it (for `lives`). False when it could not be written.
    pub async fn write_period(&self, version: &str, value: Bytes, lives: Duration, keep: Duration) -> bool {
        let commands = self.commands();
        let written = async {
            let value_key = self.key(&format!("period:{version}"));
            let () = commands.set(value_key, value, Some(px(keep)), None, false).await?;
            commands.set(self.key("period"), version, Some(px(lives)), None, false).await
        };
        self.call::<()>("write_period", written).await.is_some()
    }

    /// Takes the computation's lease for `lives` unless another replica holds it. `None`: the cache cannot be
    /// asked.
    pub async fn take_lease(&self, token: &str, lives: Duration) -> Option<bool> {
        let key = self.key("period:lease");
        let taken: Option<String> = self
            .call("take_lease", self.commands().set(key, token, Some(px(lives)), Some(SetOptions::NX), false))
            .await?;
        Some(taken.is_some())
    }

    /// Who holds the lease, if anyone.
    pub async fn lease_holder(&self) -> Option<Option<String>> {
        self.call("lease_holder", self.commands().get(self.key("period:lease"))).await
    }

    /// Gives the lease back, if it is still ours, so that another replica can take it at once.
    pub async fn release_lease(&self, token: &str) {
        let keys = vec![self.key("period:lease")];
        let _: Option<i64> = self.call("release_lease", self.commands().eval(RELEASE_LEASE, keys, vec![token])).await;
    }

    /// Tells the replicas waiting on the lease `token` why its computation failed (for a few seconds).
    pub async fn write_failure(&self, token: &str, failure: Bytes) {
        let key = self.key(&format!("period:failure:{token}"));
        let _: Option<()> = self
            .call("write_failure", self.commands().set(key, failure, Some(px(Duration::from_secs(5))), None, false))
            .await;
    }

    /// Why the computation of the lease `token` failed, if it did.
    pub async fn read_failure(&self, token: &str) -> Option<Option<Bounded>> {
        self.read_bounded("read_failure", self.key(&format!("period:failure:{token}"))).await
    }

    /// The shared lookups of these reports, in order (`None` for each one not shared).
    pub async fn read_reports(&self, ids: &[u64]) -> Option<Vec<Option<Bytes>>> {
        let keys: Vec<String> = ids.iter().map(|id| self.key(&format!("report:{id}"))).collect();
        let values: Vec<Value> = self.call("read_reports", self.commands().mget(keys)).await?;
        Some(values.into_iter().map(|value| value.as_bytes().map(Bytes::copy_from_slice)).collect())
    }

    /// Shares report lookups, each for its own time.
    pub async fn write_reports(&self, lookups: Vec<(u64, Bytes, Duration)>) {
        if lookups.is_empty() {
            return;
        }
        let pipeline = self.client.pipeline();
        let queued = async {
            for (id, value, lives) in lookups {
                let () = pipeline.set(self.key(&format!("report:{id}")), value, Some(px(lives)), None, false).await?;
            }
            pipeline.all::<Vec<Value>>().await.map(|_| ())
        };
        let _: Option<()> = self.call("write_reports", queued).await;
    }

    async fn read_bounded(&self, operation: &'static str, key: String) -> Option<Option<Bounded>> {
        let args = vec![self.max_value_bytes.to_string()];
        let read: Value = self.call(operation, self.commands().eval(READ_BOUNDED, vec![key], args)).await?;
        Some(match read {
            Value::Null => None,
            Value::Integer(size) => Some(Bounded::TooLarge(size.max(0) as u64)),
            other => Some(Bounded::Value(other.as_bytes().map(Bytes::copy_from_slice).unwrap_or_default())),
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn commands(&self) -> fred::clients::WithOptions<fred::clients::Client> {
        self.client.with_options(&self.options)
    }

    /// One call, bounded by the timeout; `None` when it fails or the cache is not in use, and then this replica
    /// falls back (logged when it starts).
    async fn call<T>(
        &self,
        operation: &'static str,
        command: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Option<T> {
        if !self.is_sharing() {
            return None;
        }
        let outcome = match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("{operation}: {}", error.details())),
            Err(_) => Err(format!("{operation}: no answer within {} ms", self.timeout.as_millis())),
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
        let reason = match &self.password {
            Some(password) if !password.is_empty() => reason.replace(password.as_str(), "…"),
            _ => reason,
        };
        let mut degraded = self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.sharing.store(false, Ordering::Release);
        if degraded.is_none() {
            tracing::warn!(cache = %self.shown, %reason, "shared cache unavailable: this replica serves from its own memory");
            metrics::gauge!("shared_cache_degraded").set(1.0);
        }
        *degraded = Some(reason);
    }

    fn share_again(&self) {
        let mut degraded = self.degraded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if degraded.take().is_some() {
            tracing::info!(cache = %self.shown, "shared cache available: sharing the period with the other replicas");
            metrics::gauge!("shared_cache_degraded").set(0.0);
        }
        self.sharing.store(true, Ordering::Release);
    }

    /// A write, as the period's sharing needs: a server that answers reads but refuses writes is no use.
    async fn probe_once(&self) -> Result<(), String> {
        let commands = self.commands();
        let probe = commands.set::<(), _, _>(self.key("probe"), "1", Some(px(Duration::from_secs(5))), None, false);
        match tokio::time::timeout(self.timeout, probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(format!("probe: {}", error.details())),
            Err(_) => Err(format!("probe: no answer within {} ms", self.timeout.as_millis())),
        }
    }
}

/// Probes the server every second for as long as the cache is in use.
async fn probe(cache: Weak<SharedCache>) {
    loop {
        let Some(cache) = cache.upgrade() else { return };
        match cache.probe_once().await {
            Ok(()) => cache.share_again(),
            Err(reason) => cache.fall_back(reason),
        }
        drop(cache);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

fn px(lives: Duration) -> Expiration {
    Expiration::PX(lives.as_millis().clamp(1, i64::MAX as u128) as i64)
}
