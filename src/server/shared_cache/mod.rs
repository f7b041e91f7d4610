//! What replicas share through Redis or Valkey (`shared_cache_url`): values under keys, a lease, and the health
//! of the connection. It is a cache, never the source of truth. Every call has a timeout of its own and is tried
//! once, and any failure (down, slow, refusing writes) makes this replica fall back to what it keeps itself.
//! The change is logged once and shown on `/readyz`. A probe every second (a write) ends the fallback within
//! about a second of the server answering again, with no restart.
//!
//! The keys are prefixed by the namespace, a digest of the upstream's URL and the credit rules' version
//! (`key_prefix`). They are in one hash slot (`{…}`), so the scripts that read several keys at once keep working.
//!
//! What is read back is input: every read is bounded in size (`READ_BOUNDED`), every lifetime is clamped by the
//! caller, and with `shared_cache_secret` every value is authenticated (`seal`).

pub mod scripts;
pub mod seal;

use crate::server::config::redacted;
use crate::server::config::Config;
use axum::body::Bytes;
use fred::prelude::{ClientLike, Expiration, KeysInterface, LuaInterface};
use fred::types::config::{Options, ReconnectPolicy};
use fred::types::Value;
use scripts::*;
use seal::{SealingKeys, Unsealed};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How often the connection is probed: a replica shares again about two probes after the server is back.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The largest report lookup read: a name and a price are a few hundred bytes.
const LOOKUP_MAX_BYTES: usize = 64 * 1024;
/// The largest outcome read: an error's code and cause.
const OUTCOME_MAX_BYTES: usize = 64 * 1024;
/// The largest lease read: a token is 16 hex digits.
const LEASE_MAX_BYTES: usize = 64;

/// The versions of the period Redis keeps at most, for paging walks (the latest included): with a period of
/// S bytes, Redis holds at most `VERSIONS_KEPT` × S of periods for one deployment.
pub const VERSIONS_KEPT: usize = 3;

/// The pointer's text while the period is too large to share.
const NOT_SHARED: &str = "not-shared";

/// A value read under a size limit.
#[derive(Debug)]
pub enum Bounded {
    Value(Bytes),
    /// Larger than the limit: left unread.
    TooLarge(u64),
    /// Not a string: a foreign value.
    NotAString,
    /// Not sealed under a `shared_cache_secret` of this replica: written by someone else, or edited.
    Unauthenticated(&'static str),
}

impl Bounded {
    /// The value, or why it cannot be one.
    pub fn into_value(self) -> Result<Bytes, String> {
        match self {
            Bounded::Value(bytes) => Ok(bytes),
            Bounded::TooLarge(size) => Err(format!("{size} bytes, over the limit")),
            Bounded::NotAString => Err("not a string".to_owned()),
            Bounded::Unauthenticated(why) => Err(format!("unauthenticated: {why}")),
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
    /// The people's sessions (access control): keys of their own, tied to neither the upstream nor the rules.
    sessions_prefix: String,
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
    /// `shared_cache_secret`: every value written is sealed, every value read must be.
    keys: Option<SealingKeys>,
    /// Leases this replica may hold without knowing: a take that timed out here (Redis has usually set the key)
    /// or a release that could not be sent, each with when it ends anyway. Given back as soon as Redis answers.
    orphans: Mutex<Vec<(String, Instant)>>,
    /// The first probe's end: `Some(Ok)` once it answered or failed for a reason that may pass, `Some(Err)` when
    /// the server refuses this replica for good (a database it does not have).
    first_probed: tokio::sync::watch::Sender<Option<Result<(), String>>>,
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
            prefix: key_prefix(&config.shared_cache_namespace, &digest),
            sessions_prefix: sessions_prefix(&config.shared_cache_namespace),
            options: Options { timeout: Some(timeout), fail_fast: true, max_attempts: Some(1), ..Options::default() },
            timeout,
            max_value_bytes: config.shared_cache_max_value_bytes,
            shown: redacted(&url),
            passwords: url.password().map(both_forms).unwrap_or_default(),
            sharing: AtomicBool::new(false),
            failures: AtomicU64::new(0),
            degraded: Mutex::new(None),
            keys: match config.shared_cache_secret.trim() {
                "" => None,
                secrets => {
                    Some(SealingKeys::parse(secrets).map_err(|reason| format!("shared_cache_secret: {reason}"))?)
                }
            },
            orphans: Mutex::new(Vec::new()),
            first_probed: tokio::sync::watch::Sender::new(None),
        });
        metrics::gauge!("shared_cache_degraded").set(1.0);
        let _inside = runtime.enter();
        // Why connections fail, which the calls themselves do not say ("connection closed").
        let connection_errors = fred::prelude::EventInterface::error_rx(&cache.client);
        // The connection's task runs (and reconnects) for as long as the client lives.
        let _connection = cache.client.connect();
        runtime.spawn(probe(Arc::downgrade(&cache), connection_errors));
        Ok(Some(cache))
    }

    /// Waits for the first probe (at most twice the first connection's wait and one probe's timeout: 4.25 s by
    /// default, reached only when Redis does not answer): `Err` only when the server refuses this replica for
    /// good, naming `shared_cache_url`.
    pub async fn first_probe(&self) -> Result<(), String> {
        let mut probed = self.first_probed.subscribe();
        // The first connection's wait, one probe, and (when it failed) the diagnosis's own connection.
        let wait = self.first_connection_wait() * 2 + self.timeout + Duration::from_millis(100);
        let outcome = match tokio::time::timeout(wait, probed.wait_for(Option::is_some)).await {
            Ok(Ok(outcome)) => outcome.clone().unwrap_or(Ok(())),
            _ => Ok(()),
        };
        outcome
    }

    fn first_connection_wait(&self) -> Duration {
        self.timeout.max(Duration::from_secs(1)) * 2
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
                let name = format!("period:{}", pointer.version);
                let timeout = self.timeout_for((size as usize).min(self.max_value_bytes));
                match self.read_one("read_period", &name, self.max_value_bytes, timeout).await? {
                    Some(value) => Some(value),
                    // Gone since the pointer was read: no period.
                    None => return Some(None),
                }
            }
        };
        Some(Some(SharedPeriod { pointer, lives, value }))
    }

    /// The value of one period's version, while it is kept.
    pub async fn read_version(&self, version: &str) -> Option<Option<Bounded>> {
        let timeout = self.timeout_for(self.max_value_bytes);
        self.read_one("read_version", &format!("period:{version}"), self.max_value_bytes, timeout).await
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
        let keys = vec![
            self.key("period:lease"),
            self.key(&format!("period:{}", pointer.version)),
            self.key("period"),
            self.key("period:versions"),
        ];
        let value = self.sealed(&keys[1], value);
        let timeout = self.timeout_for(value.len());
        let args: Vec<Value> = vec![
            token.into(),
            Value::Bytes(value),
            pointer.text().into(),
            px_of(keep).into(),
            px_of(lives).into(),
            (VERSIONS_KEPT as i64).into(),
            self.key("period:").into(),
        ];
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
        let taken =
            self.call("take_lease", self.timeout, self.client.eval::<i64, _, _, _>(TAKE_LEASE, keys, args)).await;
        let Some(taken) = taken else {
            // Timed out here, Redis has usually set the key all the same: given back as soon as it answers.
            self.release_later(token, lives);
            return None;
        };
        Some(match taken {
            1 => LeaseTaken::Taken,
            2 => LeaseTaken::TakenOverForeign("no expiry"),
            3 => LeaseTaken::TakenOverForeign("not a string"),
            _ => LeaseTaken::Held,
        })
    }

    /// Who holds the lease, if anyone.
    pub async fn lease_holder(&self) -> Option<Option<String>> {
        let names = ["period:lease".to_owned()];
        let holder = self.read_values("lease_holder", &names, LEASE_MAX_BYTES, self.timeout, false).await?;
        Some(match holder.into_iter().next().flatten() {
            Some(Bounded::Value(token)) => Some(String::from_utf8_lossy(&token).into_owned()),
            // Something no replica wrote holds the key: `take_lease` takes it over.
            Some(_) => Some(String::new()),
            None => None,
        })
    }

    /// Gives the lease back, if it is still ours, so that another replica can take it at once. Tried even
    /// while this replica does not share (a call just failed): a lease left behind would hold the others up
    /// until it ends.
    pub async fn release_lease(&self, token: &str) {
        if !self.give_back(token).await {
            // Retried as soon as Redis answers again, until the lease would have ended anyway.
            self.release_later(token, self.timeout_for(self.max_value_bytes) + Duration::from_secs(60));
        }
    }

    /// One attempt at giving the lease `token` back; whether Redis answered.
    async fn give_back(&self, token: &str) -> bool {
        if !self.client.is_connected() {
            return false;
        }
        let keys = vec![self.key("period:lease")];
        let release = self.client.eval::<i64, _, _, _>(RELEASE_LEASE, keys, vec![token]);
        let answered = bounded("release_lease", self.timeout, release).await.is_ok();
        let result = if answered { "ok" } else { "error" };
        metrics::counter!("shared_cache_calls_total", "operation" => "release_lease", "result" => result).increment(1);
        answered
    }

    /// Keeps the lease `token`, which Redis may hold for `lives` more, to give back when it answers again.
    fn release_later(&self, token: &str, lives: Duration) {
        let mut orphans = self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orphans.push((token.to_owned(), Instant::now() + lives));
    }

    /// Gives back the leases kept by `release_later` that have not ended on their own; keeps those Redis did not
    /// answer for.
    async fn release_orphans(&self) {
        let now = Instant::now();
        let orphans = std::mem::take(&mut *self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for (token, until) in orphans.into_iter().filter(|(_, until)| *until > now) {
            if !self.give_back(&token).await {
                self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((token, until));
            }
        }
    }

    /// How many leases are kept to be given back when Redis answers again.
    pub fn orphaned_leases(&self) -> usize {
        self.orphans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Tells the replicas waiting on the lease `token` how its computation ended, when it shared no period
    /// (for a few seconds).
    pub async fn write_outcome(&self, token: &str, outcome: Bytes) {
        let key = self.key(&format!("period:outcome:{token}"));
        let outcome = self.sealed(&key, outcome);
        let commands = self.commands();
        let write = commands.set(key, outcome, Some(px(Duration::from_secs(5))), None, false);
        let _: Option<()> = self.call("write_outcome", self.timeout, write).await;
    }

    /// How the computation of the lease `token` ended, if it shared no period.
    pub async fn read_outcome(&self, token: &str) -> Option<Option<Bounded>> {
        let name = format!("period:outcome:{token}");
        self.read_one("read_outcome", &name, OUTCOME_MAX_BYTES, self.timeout_for(OUTCOME_MAX_BYTES)).await
    }

    /// The shared lookups of these reports, in order (`None` for each one not shared).
    pub async fn read_reports(&self, ids: &[u64]) -> Option<Vec<Option<Bounded>>> {
        let names: Vec<String> = ids.iter().map(|id| format!("report:{id}")).collect();
        let timeout = self.timeout_for(ids.len() * LOOKUP_MAX_BYTES);
        self.read_values("read_reports", &names, LOOKUP_MAX_BYTES, timeout, true).await
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
                let key = self.key(&format!("report:{id}"));
                let value = self.sealed(&key, value);
                let () = pipeline.set(key, value, Some(px(lives)), None, false).await?;
            }
            pipeline.all::<Vec<Value>>().await.map(|_| ())
        };
        let _: Option<()> = self.call("write_reports", timeout, queued).await;
    }

    /// One value of at most `limit` bytes, authenticated; `Some(None)` when there is none.
    async fn read_one(
        &self,
        operation: &'static str,
        name: &str,
        limit: usize,
        timeout: Duration,
    ) -> Option<Option<Bounded>> {
        Some(self.read_values(operation, &[name.to_owned()], limit, timeout, true).await?.pop().flatten())
    }

    /// The values of `names`, each of at most `limit` bytes (`READ_BOUNDED`), in one call; each authenticated
    /// when `sealed` (every value but the lease's token).
    async fn read_values(
        &self,
        operation: &'static str,
        names: &[String],
        limit: usize,
        timeout: Duration,
        sealed: bool,
    ) -> Option<Vec<Option<Bounded>>> {
        let keys: Vec<String> = names.iter().map(|name| self.key(name)).collect();
        let read = self.client.eval::<Value, _, _, _>(READ_BOUNDED, keys.clone(), vec![limit.to_string()]);
        let mut values = self.call(operation, timeout, read).await?.into_array().into_iter();
        let read = keys.iter().map(|key| match values.next().unwrap_or(Value::Null) {
            Value::Null | Value::Integer(0) => None,
            Value::Integer(-2) => Some(Bounded::NotAString),
            Value::Integer(size) => Some(Bounded::TooLarge(size.max(0) as u64)),
            value => {
                let bytes = value.into_bytes().unwrap_or_default();
                Some(if sealed { self.unsealed(key, bytes) } else { Bounded::Value(bytes) })
            }
        });
        Some(read.collect())
    }

    /// `value`, sealed for `key` when a secret is set.
    fn sealed(&self, key: &str, value: Bytes) -> Bytes {
        match &self.keys {
            Some(keys) => Bytes::from(keys.seal(key, &value)),
            None => value,
        }
    }

    /// The value read under `key`, if this replica's secrets sealed it there (without secrets: as read).
    fn unsealed(&self, key: &str, bytes: Bytes) -> Bounded {
        let inner = match &self.keys {
            None => seal::unsealed_without_keys(&bytes),
            Some(keys) => match keys.unseal(key, &bytes) {
                Unsealed::Value(inner) => inner,
                Unsealed::Unauthenticated(why) => return Bounded::Unauthenticated(why),
            },
        };
        let start = bytes.len() - inner.len();
        Bounded::Value(bytes.slice(start..))
    }

    /// Keeps a person's session (or a sign-in under way), already sealed by its owner, for `lives`. `None`:
    /// the cache cannot be asked.
    /// When `existing`, only over a value that is there (`SET … XX`).
    pub async fn put_session(&self, name: &str, value: Vec<u8>, lives: Duration, existing: bool) -> Option<()> {
        let commands = self.commands();
        let only = existing.then_some(fred::types::SetOptions::XX);
        let write = commands.set::<Value, _, _>(self.session_key(name), value, Some(px(lives)), only, false);
        self.call("put_session", self.timeout, write).await.map(|_| ())
    }

    /// A session's value, at most `limit` bytes (`READ_BOUNDED`).
    pub async fn get_session(&self, name: &str, limit: usize) -> Option<Option<Bounded>> {
        let (keys, args) = (vec![self.session_key(name)], vec![limit.to_string()]);
        let read = self.client.eval::<Value, _, _, _>(READ_BOUNDED, keys, args);
        let value = self.call("get_session", self.timeout, read).await?.into_array().into_iter().next();
        Some(match value.unwrap_or(Value::Null) {
            Value::Null | Value::Integer(0) => None,
            Value::Integer(-2) => Some(Bounded::NotAString),
            Value::Integer(size) => Some(Bounded::TooLarge(size.max(0) as u64)),
            value => Some(Bounded::Value(value.into_bytes().unwrap_or_default())),
        })
    }

    pub async fn delete_session(&self, name: &str) -> Option<()> {
        let commands = self.commands();
        let delete = commands.del::<i64, _>(self.session_key(name));
        self.call("delete_session", self.timeout, delete).await.map(|_| ())
    }

    fn session_key(&self, name: &str) -> String {
        format!("{}{name}", self.sessions_prefix)
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
async fn probe(
    cache: Weak<SharedCache>,
    mut connection_errors: tokio::sync::broadcast::Receiver<(fred::error::Error, Option<fred::types::config::Server>)>,
) {
    // The first probe waits for the first connection attempt (bounded: its notice can be missed), so a
    // replica starting next to a healthy server does not log an outage that never was.
    if let Some(cache) = cache.upgrade() {
        let _ = tokio::time::timeout(cache.first_connection_wait(), cache.client.wait_for_connect()).await;
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
        let probed = cache.probe_once().await;
        let first = cache.first_probed.borrow().is_none();
        while let Ok((error, _)) = connection_errors.try_recv() {
            if let Some(fatal) = refused_for_good(error.details()) {
                cache.fall_back(fatal.clone());
                cache.first_probed.send_replace(Some(Err(fatal)));
                return;
            }
        }
        match probed {
            Ok(()) if cache.failures.load(Ordering::Acquire) == failures_before => {
                cache.release_orphans().await;
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
        if first {
            cache.first_probed.send_replace(Some(Ok(())));
        }
        drop(cache);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// Why the server will never serve this replica, from why a connection failed: a database number it does not
/// have. Every other failure (down, slow, full) may pass, and is retried.
fn refused_for_good(error: &str) -> Option<String> {
    let refused = error.contains("DB index is out of range");
    refused.then(|| "shared_cache_url: the server has no such database number".to_owned())
}

fn px(lives: Duration) -> Expiration {
    Expiration::PX(px_of(lives))
}

fn px_of(lives: Duration) -> i64 {
    lives.as_millis().clamp(1, i64::MAX as u128) as i64
}

/// What every key of this deployment starts with: the namespace (when one is set), the upstream and the credit
/// rules' version, so that neither another upstream's replicas nor a build that prices differently (a rolling
/// deploy, a staging build on the same Redis) ever reads these values. In braces: one hash slot on a cluster,
/// which the scripts that touch several keys need.
fn key_prefix(namespace: &str, upstream: &str) -> String {
    let rules = crate::server::pricing::credit_rules::RULES_VERSION;
    match namespace {
        "" => format!("{{credit-dashboard:{upstream}:r{rules}}}:"),
        namespace => format!("{{credit-dashboard:{namespace}:{upstream}:r{rules}}}:"),
    }
}

fn sessions_prefix(namespace: &str) -> String {
    match namespace {
        "" => "{credit-dashboard:sessions}:".to_owned(),
        namespace => format!("{{credit-dashboard:{namespace}:sessions}}:"),
    }
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
    fn keys_name_the_namespace_the_upstream_and_the_rules() {
        assert_eq!(key_prefix("", "0123456789abcdef"), "{credit-dashboard:0123456789abcdef:r1}:");
        assert_eq!(key_prefix("staging", "0123456789abcdef"), "{credit-dashboard:staging:0123456789abcdef:r1}:");
    }

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
