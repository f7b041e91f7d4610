//! The connection to Redis (or Valkey) and the shape of every call: one attempt, a timeout of its own, fail
//! fast while disconnected, and any failure making this replica fall back (`health.rs`). The keys of one
//! deployment are laid out here: the upstream's values under a prefix naming the namespace, the upstream and
//! the credit rules' version; values tied to neither (people's sessions) under the namespace alone.

use super::health::Health;
use super::seal::SealingKeys;
use crate::server::config::{redacted, Config, KeyError};
use fred::prelude::{ClientLike, Expiration};
use fred::types::config::{Options, ReconnectPolicy};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a replica shares through, and under which keys.
#[derive(Clone, Debug)]
pub struct SharedSettings {
    /// `redis://…` or `rediss://…`; may hold a password (never shown).
    pub url: String,
    pub timeout: Duration,
    pub max_value_bytes: usize,
    /// Separates deployments on one Redis; empty: none.
    pub namespace: String,
    /// `shared_cache_secret`: every value written is sealed, every value read must be.
    pub secrets: Option<SealingKeys>,
    /// The upstream's identity and the credit rules' version: values of another upstream, or priced by other
    /// rules (a rolling deploy), are never read.
    pub upstream: String,
    pub rules_version: u32,
}

impl SharedSettings {
    /// What `config` says, for the upstream `upstream` priced by the rules `rules_version`; `None` without a
    /// `shared_cache_url`.
    pub fn from_config(config: &Config, upstream: &str, rules_version: u32) -> Result<Option<Self>, KeyError> {
        // A secret that cannot be used is refused even without a URL: it was meant for something.
        let secrets = match config.shared_cache_secret.trim() {
            "" => None,
            secrets => Some(
                SealingKeys::parse(secrets)
                    .map_err(|reason| KeyError::because("shared_cache_secret", reason.to_string()))?,
            ),
        };
        if config.shared_cache_url.is_empty() {
            return Ok(None);
        }
        Ok(Some(SharedSettings {
            url: config.shared_cache_url.clone(),
            timeout: Duration::from_millis(config.shared_cache_timeout_ms),
            max_value_bytes: config.shared_cache_max_value_bytes,
            namespace: config.shared_cache_namespace.clone(),
            secrets,
            upstream: upstream.to_owned(),
            rules_version,
        }))
    }
}

/// Why the shared cache cannot even be set up (the URL cannot be used). Never quotes the URL.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("shared_cache_url: not a URL")]
    NotAUrl,
    #[error("shared_cache_url: not a Redis URL")]
    NotARedisUrl,
    #[error("shared_cache_url: {0}")]
    Client(String),
}

/// A call that failed, and why (for the log; passwords already masked by the caller).
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct CallFailed {
    pub operation: &'static str,
    pub detail: String,
}

pub struct SharedCache {
    pub(super) client: fred::clients::Client,
    /// The upstream's values: `{credit-dashboard:[<namespace>:]<upstream>:r<rules>}:`.
    prefix: String,
    namespace: String,
    options: Options,
    pub(super) timeout: Duration,
    pub(super) max_value_bytes: usize,
    /// The server's URL without credentials, for the logs and `/readyz`.
    shown: String,
    /// The URL's password, as written and percent-decoded, kept out of every reason shown.
    passwords: Vec<String>,
    pub(super) health: Health,
    pub(super) keys: Option<SealingKeys>,
    /// Leases this replica may hold without knowing: a take that timed out here (Redis has usually set the key)
    /// or a release that could not be sent, each with when it ends anyway. Given back as soon as Redis answers.
    pub(super) orphans: Mutex<Vec<(String, Instant)>>,
}

impl SharedCache {
    /// The shared cache `settings` name, connecting in the background on `runtime` (and probed until it
    /// answers).
    pub fn connect(
        settings: SharedSettings,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Arc<SharedCache>, ConnectError> {
        let url = reqwest::Url::parse(&settings.url).map_err(|_| ConnectError::NotAUrl)?;
        let mut fred_config =
            fred::types::config::Config::from_url(&settings.url).map_err(|_| ConnectError::NotARedisUrl)?;
        // Not there yet at start-up is not fatal: the connection is retried, and this replica keeps its own.
        fred_config.fail_fast = false;
        let timeout = settings.timeout;
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
            .map_err(|error| ConnectError::Client(error.details().to_owned()))?;
        let cache = Arc::new(SharedCache {
            client,
            prefix: key_prefix(&settings.namespace, &settings.upstream, settings.rules_version),
            namespace: settings.namespace,
            options: Options { timeout: Some(timeout), fail_fast: true, max_attempts: Some(1), ..Options::default() },
            timeout,
            max_value_bytes: settings.max_value_bytes,
            shown: redacted(&url),
            passwords: url.password().map(both_forms).unwrap_or_default(),
            health: Health::default(),
            keys: settings.secrets,
            orphans: Mutex::new(Vec::new()),
        });
        metrics::gauge!("shared_cache_degraded").set(1.0);
        let _inside = runtime.enter();
        // Why connections fail, which the calls themselves do not say ("connection closed").
        let connection_errors = fred::prelude::EventInterface::error_rx(&cache.client);
        // The connection's task runs (and reconnects) for as long as the client lives.
        let _connection = cache.client.connect();
        runtime.spawn(super::health::probe(Arc::downgrade(&cache), connection_errors));
        Ok(cache)
    }

    /// The server, without credentials.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    pub fn max_value_bytes(&self) -> usize {
        self.max_value_bytes
    }

    /// The timeout of a call that moves `bytes`: the configured one, and a millisecond per 50 KB (a
    /// 20 MB period gets 0.4 s more), so that a large value on a busy machine is not taken for an outage.
    pub fn timeout_for(&self, bytes: usize) -> Duration {
        self.timeout + Duration::from_millis((bytes / 50_000) as u64)
    }

    /// The key of the upstream's value `name`.
    pub(super) fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The prefix of values of this deployment that belong to no upstream (people's sessions, say): the
    /// namespace and `part`, in a hash slot of their own.
    pub fn deployment_prefix(&self, part: &str) -> String {
        match self.namespace.as_str() {
            "" => format!("{{credit-dashboard:{part}}}:"),
            namespace => format!("{{credit-dashboard:{namespace}:{part}}}:"),
        }
    }

    pub(super) fn commands(&self) -> fred::clients::WithOptions<fred::clients::Client> {
        self.client.with_options(&self.options)
    }

    /// One call, bounded by `timeout`, tried once; `None` when it fails or the cache is not in use, and then
    /// this replica falls back (logged when it starts). A call while the connection is down fails at once
    /// (fred queues scripts behind a reconnection otherwise).
    pub(super) async fn call<T>(
        &self,
        operation: &'static str,
        timeout: Duration,
        command: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Option<T> {
        if !self.health.is_sharing() {
            return None;
        }
        let outcome = match self.client.is_connected() {
            true => bounded(operation, timeout, command).await,
            false => Err(CallFailed { operation, detail: "not connected".into() }),
        };
        let result = if outcome.is_ok() { "ok" } else { "error" };
        metrics::counter!("shared_cache_calls_total", "operation" => operation, "result" => result).increment(1);
        match outcome {
            Ok(value) => Some(value),
            Err(failed) => {
                self.fall_back(failed.to_string());
                None
            }
        }
    }

    /// Falls back to this replica's own memory, with why (its password masked).
    pub(super) fn fall_back(&self, reason: String) {
        let reason = self.passwords.iter().fold(reason, |reason, password| reason.replace(password.as_str(), "…"));
        self.health.degrade(&self.shown, reason);
    }
}

/// One command, given `timeout` to answer: its value, or why it failed, named by `operation`.
pub(super) async fn bounded<T>(
    operation: &'static str,
    timeout: Duration,
    command: impl Future<Output = Result<T, fred::error::Error>>,
) -> Result<T, CallFailed> {
    match tokio::time::timeout(timeout, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(CallFailed { operation, detail: error.details().to_owned() }),
        Err(_) => Err(CallFailed { operation, detail: format!("no answer within {} ms", timeout.as_millis()) }),
    }
}

pub(super) fn px(lives: Duration) -> Expiration {
    Expiration::PX(px_of(lives))
}

pub(super) fn px_of(lives: Duration) -> i64 {
    lives.as_millis().clamp(1, i64::MAX as u128) as i64
}

/// What every key of this deployment's upstream starts with: the namespace (when one is set), the upstream and
/// the credit rules' version, so that neither another upstream's replicas nor a build that prices differently (a
/// rolling deploy, a staging build on the same Redis) ever reads these values. In braces: one hash slot on a
/// cluster, which the scripts that touch several keys need.
fn key_prefix(namespace: &str, upstream: &str, rules: u32) -> String {
    match namespace {
        "" => format!("{{credit-dashboard:{upstream}:r{rules}}}:"),
        namespace => format!("{{credit-dashboard:{namespace}:{upstream}:r{rules}}}:"),
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
        assert_eq!(key_prefix("", "0123456789abcdef", 1), "{credit-dashboard:0123456789abcdef:r1}:");
        assert_eq!(key_prefix("staging", "0123456789abcdef", 1), "{credit-dashboard:staging:0123456789abcdef:r1}:");
    }

    #[test]
    fn a_password_is_masked_as_written_and_decoded() {
        assert_eq!(both_forms("p%40ss+w%2Fd"), vec!["p%40ss+w%2Fd".to_owned(), "p@ss+w/d".to_owned()]);
        assert_eq!(both_forms("plain"), vec!["plain".to_owned()]);
        assert!(both_forms("").is_empty());
    }
}
