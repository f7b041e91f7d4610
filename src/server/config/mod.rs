//! Runtime configuration: the `[server]` table of `Leptos.toml`, each key overridable by an environment
//! variable (its name in capitals; `site_addr` is `LEPTOS_SITE_ADDR`, as cargo-leptos sets it). cargo-leptos
//! reads its build settings from Cargo.toml; this file is only for the running server.

pub mod keys;
pub mod urls;

pub use urls::redacted;
use urls::{check_database_url, check_origin, check_provider_url, check_shared_cache_url};

use super::upstream::client::ClientSettings;
use super::upstream::retry::RetryPolicy;
use super::upstream::urls::UpstreamUrls;
use crate::money::Credits;
use crate::server::billing::cycle::BillingCycle;
use crate::server::billing::webhook_signature::WebhookSecrets;
use crate::server::shared_cache::seal::SealingKeys;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Where the configuration file is looked for, unless `DASHBOARD_CONFIG` names another.
pub const DEFAULT_CONFIG_PATH: &str = "Leptos.toml";

/// The history store of the one-command run: a SQLite file in `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/history.sqlite3";

/// A page of the table is one response; more rows than this would undo the point of paging.
pub const LARGEST_PAGE_SIZE: usize = 1_000;

/// Every key: its name is the TOML key, its type says how the environment's text is read, and `Default` gives
/// its default; [`keys::KEYS`] says what each accepts and means (and writes the README's table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub site_addr: SocketAddr,
    /// Empty means the embedded sample upstream on this server.
    pub upstream_base_url: String,
    pub upstream_timeout_ms: u64,
    pub upstream_retries: u32,
    pub upstream_retry_base_ms: u64,
    pub upstream_retry_budget: u32,
    pub upstream_max_body_bytes: usize,
    pub usage_deadline_ms: u64,
    pub report_concurrency: usize,
    pub report_cache_capacity: u64,
    pub report_cache_ttl_secs: u64,
    pub report_not_found_ttl_secs: u64,
    pub kept_period_ttl_ms: u64,
    pub table_page_size: usize,
    pub header_read_timeout_ms: u64,
    pub max_requests_in_flight: usize,
    pub cors_allowed_origins: Vec<String>,
    /// The history store: `sqlite://…` or `postgres://…`; empty keeps no history.
    pub database_url: String,
    /// How many periods the store keeps, the most recent; 0 keeps all.
    pub history_retention_periods: u32,
    /// The longest a page waits for the history store before saying past periods are unavailable.
    pub history_timeout_ms: u64,
    /// The longest the store's own work may take: one write, one batch of the retention, one past period's read.
    pub history_work_timeout_ms: u64,
    /// A wall-clock time in `billing_time_zone` that starts a billing period (or an RFC 3339 instant); empty:
    /// the period's end is unknown.
    pub billing_cycle_anchor: String,
    /// The IANA zone whose calendar the billing cycle counts on.
    pub billing_time_zone: String,
    /// `month`, or a number of days; empty with the anchor.
    pub billing_interval: String,
    /// Credits per period (a decimal, `3000` or `2500.50`); empty: no budget.
    pub credit_budget: String,
    /// Fractions of the budget that fire an alert when usage reaches them.
    pub alert_thresholds: Vec<f64>,
    /// Where alerts are POSTed; empty sends none.
    pub alert_webhook_url: String,
    /// The Standard Webhooks signing secrets, `whsec_<base64>`, separated by spaces or commas: each delivery is
    /// signed with every one (a rotation).
    pub alert_webhook_secret: String,
    pub alert_check_interval_secs: u64,
    /// How long a failing delivery is retried, from when the alert was raised.
    pub alert_retry_window_secs: u64,
    /// The longest one delivery attempt waits for the webhook.
    pub alert_webhook_timeout_ms: u64,
    /// `text`, or `json`: one JSON object per line.
    pub log_format: String,
    /// Where `GET /metrics` (Prometheus) is served; empty: not served.
    pub metrics_addr: String,
    /// The Redis (or Valkey) that replicas share the priced period and report lookups through; empty: each
    /// process keeps its own.
    pub shared_cache_url: String,
    /// The longest one call to the shared cache may take before this replica falls back to its own.
    pub shared_cache_timeout_ms: u64,
    /// A shared value larger than this is neither written nor read.
    pub shared_cache_max_value_bytes: usize,
    /// Separates the keys of deployments that share one Redis (staging beside production); empty: none.
    pub shared_cache_namespace: String,
    /// Keys that authenticate every shared value (HMAC-SHA256), separated by spaces: the first signs, all are
    /// accepted (a rotation). Recommended wherever Redis is reachable by more than these replicas.
    pub shared_cache_secret: String,
    /// The OpenID provider's issuer URL; empty: no access control.
    pub auth_issuer: String,
    /// The scopes asked for at sign-in, separated by spaces.
    pub auth_scopes: String,
    /// The dashboard's client at the provider (a confidential client).
    pub auth_client_id: String,
    pub auth_client_secret: String,
    /// The dashboard's external base URL: the redirect URI is `{public_url}/auth/callback`.
    pub public_url: String,
    /// The `aud` a bearer token must carry; empty: `public_url`.
    pub auth_audience: String,
    /// A person carrying one of these in the `groups` claim may read the usage.
    pub auth_allowed_groups: Vec<String>,
    /// A person whose verified email is at one of these domains (or whose Google `hd` is one) may read it.
    pub auth_allowed_domains: Vec<String>,
    /// A person of one of these Entra ID tenants (`tid`) may read it.
    pub auth_allowed_tenants: Vec<String>,
    /// Every account the issuer signs in may read it: the rule, said out loud, when there is no other.
    pub auth_allow_any_account: bool,
    /// How often a signed-in person's right is checked again at the provider.
    pub auth_recheck_secs: u64,
    /// The sessions kept in memory at most (without Redis or a database): more sign-ins are refused.
    pub auth_memory_sessions: u64,
    /// Signs the session cookie and seals the sessions kept in the store or Redis.
    pub auth_session_secret: String,
    /// A session unused this long ends.
    pub auth_session_idle_secs: u64,
    /// A session ends this long after sign-in, used or not.
    pub auth_session_max_secs: u64,
    /// Without an issuer, serve everyone on an address that is not loopback (behind an authenticating proxy).
    pub allow_anonymous: bool,
    /// Serve `/metrics` without a token on an address that is not loopback.
    pub metrics_allow_anonymous: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            upstream_base_url: String::new(),
            upstream_timeout_ms: 3_000,
            upstream_retries: 2,
            upstream_retry_base_ms: 100,
            upstream_retry_budget: 16,
            upstream_max_body_bytes: 64 * 1024 * 1024,
            // Room for the messages and then the reports, each with every retry (`worst_case_upstream_time`).
            usage_deadline_ms: 25_000,
            report_concurrency: 256,
            report_cache_capacity: 10_000,
            report_cache_ttl_secs: 300,
            report_not_found_ttl_secs: 30,
            kept_period_ttl_ms: 30_000,
            table_page_size: 100,
            header_read_timeout_ms: 10_000,
            max_requests_in_flight: 512,
            cors_allowed_origins: Vec::new(),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            history_retention_periods: 0,
            history_timeout_ms: 2_000,
            history_work_timeout_ms: 30_000,
            billing_cycle_anchor: String::new(),
            billing_time_zone: "UTC".to_owned(),
            billing_interval: String::new(),
            credit_budget: String::new(),
            alert_thresholds: vec![0.5, 0.8, 1.0],
            alert_webhook_url: String::new(),
            alert_webhook_secret: String::new(),
            alert_check_interval_secs: 60,
            alert_retry_window_secs: 86_400,
            alert_webhook_timeout_ms: 5_000,
            log_format: "text".to_owned(),
            metrics_addr: String::new(),
            shared_cache_url: String::new(),
            shared_cache_timeout_ms: 250,
            shared_cache_max_value_bytes: 128 * 1024 * 1024,
            shared_cache_namespace: String::new(),
            shared_cache_secret: String::new(),
            auth_issuer: String::new(),
            auth_scopes: "openid email groups".to_owned(),
            auth_client_id: String::new(),
            auth_client_secret: String::new(),
            public_url: String::new(),
            auth_audience: String::new(),
            auth_allowed_groups: Vec::new(),
            auth_allowed_domains: Vec::new(),
            auth_allowed_tenants: Vec::new(),
            auth_allow_any_account: false,
            auth_recheck_secs: 900,
            auth_memory_sessions: 100_000,
            auth_session_secret: String::new(),
            auth_session_idle_secs: 3_600,
            auth_session_max_secs: 43_200,
            allow_anonymous: false,
            metrics_allow_anonymous: false,
        }
    }
}

/// How the server writes its log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable text, coloured only on a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("{path} is not valid TOML: {source}")]
    NotToml { path: String, source: toml::de::Error },
    /// `origin` names where the value came from: the key in the file, or the environment variable and its key.
    #[error("{origin} = {given} is not accepted: {accepted}{detail}")]
    InvalidValue { origin: String, given: String, accepted: String, detail: String },
    #[error("{origin} is not a key of the [server] table{hint}")]
    UnknownKey { origin: String, hint: String },
}

/// A value as an error message shows it.
fn shown_value(key: &str, value: String) -> String {
    if keys::is_secret(key) {
        "(not shown: it may hold credentials)".to_owned()
    } else {
        value
    }
}

/// Keys that were renamed: an old configuration is told the new name rather than silently losing the value.
const RENAMED_KEYS: [(&str, &str); 1] = [("usage_snapshot_ttl_ms", "kept_period_ttl_ms")];

impl Config {
    /// Reads `DASHBOARD_CONFIG` (or `Leptos.toml`), then the process environment. A file that was named
    /// and is missing is an error: silently falling back to the defaults would serve the sample data.
    pub fn load() -> Result<Config, ConfigError> {
        // Variables that are not Unicode cannot be any of ours; `vars()` would panic on them.
        let env =
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
        Config::load_from(&env.collect())
    }

    /// [`load`](Self::load) with the environment given as a map.
    pub fn load_from(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let named = env.get("DASHBOARD_CONFIG").cloned();
        let path = named.clone().unwrap_or_else(|| DEFAULT_CONFIG_PATH.to_owned());
        let file_text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && named.is_none() => String::new(),
            Err(source) => return Err(ConfigError::Unreadable { path, source }),
        };
        Config::from_sources(&path, &file_text, env)
    }

    /// The file's `[server]` table overlaid by the environment, then validated key by key, so that an error
    /// names the key (and the variable it came from), the value given and what is accepted.
    pub fn from_sources(path: &str, file_text: &str, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let document: toml::Table =
            file_text.parse().map_err(|source| ConfigError::NotToml { path: path.to_owned(), source })?;
        let mut table = match document.get("server") {
            Some(toml::Value::Table(table)) => table.clone(),
            Some(other) => {
                return Err(ConfigError::InvalidValue {
                    origin: format!("`server` in {path}"),
                    given: other.to_string(),
                    accepted: "a [server] table".into(),
                    detail: String::new(),
                })
            }
            None => toml::Table::new(),
        };
        let mut sources: HashMap<String, String> =
            table.keys().map(|key| (key.clone(), format!("`{key}` in {path}"))).collect();
        for (old, new) in RENAMED_KEYS {
            if let Some(variable) = Some(env_name(old)).filter(|variable| env.contains_key(variable)) {
                return Err(ConfigError::UnknownKey {
                    origin: format!("the environment variable {variable}"),
                    hint: format!(": it was renamed {}", env_name(new)),
                });
            }
        }
        let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");
        for (key, default) in &defaults {
            let variable = env_name(key);
            if let Some(text) = env.get(&variable) {
                let origin = format!("{variable} (`{key}`)");
                let value = env_value(default, text.trim()).ok_or_else(|| ConfigError::InvalidValue {
                    origin: origin.clone(),
                    given: shown_value(key, format!("`{text}`")),
                    accepted: accepted(key).into(),
                    detail: String::new(),
                })?;
                table.insert(key.clone(), value);
                sources.insert(key.clone(), origin);
            }
        }
        for (key, value) in &table {
            let origin = sources.get(key).cloned().unwrap_or_else(|| format!("`{key}`"));
            if !defaults.contains_key(key) {
                let hint = RENAMED_KEYS
                    .iter()
                    .find(|(old, _)| old == key)
                    .map(|(_, new)| format!(": it was renamed `{new}`"))
                    .unwrap_or_default();
                return Err(ConfigError::UnknownKey { origin, hint });
            }
            if let (Some((low, high)), toml::Value::Integer(number)) = (keys::key(key).and_then(|key| key.range), value)
            {
                if !(low..=high).contains(number) {
                    return Err(ConfigError::InvalidValue {
                        origin,
                        given: shown_value(key, value.to_string()),
                        accepted: accepted(key).into(),
                        detail: String::new(),
                    });
                }
            }
            // Read alone over the defaults, each key's value meets its own type.
            let alone = toml::Table::from_iter([(key.clone(), value.clone())]);
            if let Err(error) = alone.try_into::<Config>() {
                return Err(ConfigError::InvalidValue {
                    origin,
                    given: shown_value(key, value.to_string()),
                    accepted: accepted(key).into(),
                    // The parser's words can quote the value: not for a key that may hold credentials.
                    detail: if keys::is_secret(key) { String::new() } else { format!(" ({})", error.message()) },
                });
            }
        }
        let config: Config = table.clone().try_into().expect("every key was read on its own");
        config.validate().map_err(|(key, detail)| ConfigError::InvalidValue {
            origin: sources.get(key).cloned().unwrap_or_else(|| format!("`{key}`")),
            given: shown_value(
                key,
                table.get(key).or_else(|| defaults.get(key)).map(toml::Value::to_string).unwrap_or_default(),
            ),
            accepted: accepted(key).into(),
            detail: detail.map(|detail| format!(" ({detail})")).unwrap_or_default(),
        })?;
        Ok(config)
    }

    /// The first key whose value is out of bounds, with what was wrong when the bounds do not say it all.
    fn validate(&self) -> Result<(), (&'static str, Option<String>)> {
        if !self.shared_cache_namespace.bytes().all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
            || self.shared_cache_namespace.len() > 32
        {
            return Err(("shared_cache_namespace", None));
        }
        if !self.upstream_base_url.is_empty() {
            UpstreamUrls::parse(&self.upstream_base_url).map_err(|reason| ("upstream_base_url", Some(reason)))?;
        }
        BillingCycle::parse(&self.billing_cycle_anchor, &self.billing_interval, &self.billing_time_zone)?;
        self.budget().map_err(|reason| ("credit_budget", Some(reason)))?;
        let thresholds = &self.alert_thresholds;
        if thresholds.iter().any(|fraction| !(fraction.is_finite() && *fraction > 0.0 && *fraction <= 10.0)) {
            return Err(("alert_thresholds", None));
        }
        let permille = self.alert_thresholds_permille();
        if thresholds.windows(2).any(|pair| pair[0] >= pair[1]) || permille.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(("alert_thresholds", Some("in increasing order, each once (to a tenth of a percent)".into())));
        }
        self.check_metrics_addr()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(("log_format", None));
        }
        if !self.alert_webhook_url.is_empty() {
            let url = reqwest::Url::parse(&self.alert_webhook_url).map_err(|_| ("alert_webhook_url", None))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(("alert_webhook_url", None));
            }
            WebhookSecrets::parse(&self.alert_webhook_secret)
                .map_err(|reason| ("alert_webhook_secret", Some(reason)))?;
            if self.database_url.is_empty() {
                return Err((
                    "alert_webhook_url",
                    Some("alerts need database_url: their ledger is the history store".into()),
                ));
            }
            if self.credit_budget.trim().is_empty() {
                return Err(("alert_webhook_url", Some("alerts need credit_budget".into())));
            }
        }
        if !self.database_url.is_empty() {
            check_database_url(&self.database_url).map_err(|reason| ("database_url", Some(reason)))?;
        }
        if !self.shared_cache_url.is_empty() {
            check_shared_cache_url(&self.shared_cache_url).map_err(|reason| ("shared_cache_url", Some(reason)))?;
        }
        if !self.shared_cache_secret.trim().is_empty() {
            SealingKeys::parse(&self.shared_cache_secret).map_err(|reason| ("shared_cache_secret", Some(reason)))?;
        }
        self.check_access_control()?;
        for origin in &self.cors_allowed_origins {
            check_origin(origin).map_err(|reason| ("cors_allowed_origins", Some(format!("`{origin}`: {reason}"))))?;
        }
        Ok(())
    }

    /// `/metrics` tells the period's credits and messages: on an address that is not loopback, it needs a
    /// bearer token (access control on), or `metrics_allow_anonymous` to say that the network is trusted.
    fn check_metrics_addr(&self) -> Result<(), (&'static str, Option<String>)> {
        let Some(addr) = self.metrics_address() else {
            return match self.metrics_addr.is_empty() {
                true => Ok(()),
                false => Err(("metrics_addr", None)),
            };
        };
        if !addr.ip().is_loopback() && !self.access_controlled() && !self.metrics_allow_anonymous {
            return Err((
                "metrics_allow_anonymous",
                Some(format!(
                    "metrics_addr {addr} is not a loopback address and auth_issuer is empty: anyone who reaches it \
                     would read the period's credits; set auth_issuer (a scraper then sends a bearer token with the \
                     scope metrics:read), or metrics_allow_anonymous = true on a trusted network"
                )),
            ));
        }
        Ok(())
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_addr.parse().ok()
    }

    /// Whether a scraper of `/metrics` must send a bearer token with the scope `metrics:read`.
    pub fn metrics_need_token(&self) -> bool {
        self.access_controlled()
            && !self.metrics_allow_anonymous
            && self.metrics_address().is_some_and(|addr| !addr.ip().is_loopback())
    }

    /// Access control is on with an issuer: then the client, the public URL and the session secret are needed.
    /// Without one, only a loopback address serves everyone, unless `allow_anonymous` says a proxy in front
    /// authenticates.
    fn check_access_control(&self) -> Result<(), (&'static str, Option<String>)> {
        if self.auth_issuer.trim().is_empty() {
            if !self.site_addr.ip().is_loopback() && !self.allow_anonymous {
                return Err((
                    "allow_anonymous",
                    Some(format!(
                        "site_addr {} is not a loopback address and auth_issuer is empty: anyone who reaches it would \
                         read every figure; set auth_issuer, or allow_anonymous = true behind an authenticating proxy",
                        self.site_addr
                    )),
                ));
            }
            return Ok(());
        }
        check_provider_url(&self.auth_issuer).map_err(|reason| ("auth_issuer", Some(reason)))?;
        if self.public_url.is_empty() {
            return Err(("public_url", Some("auth_issuer needs public_url: the redirect URI is built from it".into())));
        }
        check_provider_url(&self.public_url).map_err(|reason| ("public_url", Some(reason)))?;
        // Cookies, redirects, links, assets and the server function are all at the root of the host.
        if reqwest::Url::parse(&self.public_url).is_ok_and(|url| url.path() != "/") {
            return Err((
                "public_url",
                Some(
                    "the dashboard is served at the root of its host: a public_url with a path is not supported".into(),
                ),
            ));
        }
        if self.uses_sample_upstream() {
            return Err((
                "upstream_base_url",
                Some(
                    "access control needs the real upstream: the embedded sample upstream is served without sign-in"
                        .into(),
                ),
            ));
        }
        if !self.auth_audience.is_empty() && self.auth_audience.trim() != self.auth_audience {
            return Err(("auth_audience", None));
        }
        if self.auth_client_id.trim().is_empty() {
            return Err(("auth_client_id", Some("auth_issuer needs the dashboard's client id".into())));
        }
        if self.auth_client_secret.is_empty() {
            return Err(("auth_client_secret", Some("auth_issuer needs the dashboard's client secret".into())));
        }
        SealingKeys::parse(&self.auth_session_secret).map_err(|reason| ("auth_session_secret", Some(reason)))?;
        if !self.auth_scopes.split_whitespace().any(|scope| scope == "openid") {
            return Err(("auth_scopes", Some("sign-in needs the scope openid".into())));
        }
        for (key, list) in [
            ("auth_allowed_groups", &self.auth_allowed_groups),
            ("auth_allowed_domains", &self.auth_allowed_domains),
            ("auth_allowed_tenants", &self.auth_allowed_tenants),
        ] {
            if list.iter().any(|item| item.trim().is_empty()) {
                return Err((key, None));
            }
        }
        let no_rule = self.auth_allowed_groups.is_empty()
            && self.auth_allowed_domains.is_empty()
            && self.auth_allowed_tenants.is_empty();
        if no_rule && !self.auth_allow_any_account {
            return Err((
                "auth_allowed_groups",
                Some(
                    "access control needs a rule for who may read: auth_allowed_groups, auth_allowed_domains or \
                     auth_allowed_tenants, or auth_allow_any_account = true to admit every account the issuer signs in"
                        .into(),
                ),
            ));
        }
        if self.auth_session_idle_secs > self.auth_session_max_secs {
            return Err(("auth_session_idle_secs", Some("not more than auth_session_max_secs".into())));
        }
        Ok(())
    }

    /// Whether sign-in and bearer tokens guard the data.
    pub fn access_controlled(&self) -> bool {
        !self.auth_issuer.trim().is_empty()
    }

    /// The audience a bearer token must name: `auth_audience`, or the public URL.
    pub fn bearer_audience(&self) -> &str {
        if self.auth_audience.is_empty() {
            self.public_url.trim_end_matches('/')
        } else {
            &self.auth_audience
        }
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }

    pub fn upstream_retry_base(&self) -> Duration {
        Duration::from_millis(self.upstream_retry_base_ms)
    }

    pub fn usage_deadline(&self) -> Duration {
        Duration::from_millis(self.usage_deadline_ms)
    }

    pub fn report_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.report_cache_ttl_secs)
    }

    pub fn report_not_found_ttl(&self) -> Duration {
        Duration::from_secs(self.report_not_found_ttl_secs)
    }

    /// The billing cycle, when one is configured.
    pub fn billing_cycle(&self) -> Option<BillingCycle> {
        BillingCycle::parse(&self.billing_cycle_anchor, &self.billing_interval, &self.billing_time_zone)
            .expect("validated at start-up")
    }

    /// The period's budget, when one is configured.
    pub fn budget(&self) -> Result<Option<Credits>, String> {
        match self.credit_budget.trim() {
            "" => Ok(None),
            text => match Credits::parse_decimal(text) {
                Ok(budget) if budget > Credits::ZERO => Ok(Some(budget)),
                Ok(_) => Err("a budget is more than zero".into()),
                Err(error) => Err(error.to_string()),
            },
        }
    }

    /// The alert thresholds in tenths of a percent of the budget (`0.5` is 500), in increasing order.
    pub fn alert_thresholds_permille(&self) -> Vec<u32> {
        self.alert_thresholds.iter().map(|fraction| (fraction * 1000.0).round() as u32).collect()
    }

    pub fn log_format(&self) -> LogFormat {
        match self.log_format.as_str() {
            "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }

    /// How long the requests in flight get to finish at shutdown: the deadline of one request, and two seconds
    /// to write its answer. An orchestrator must wait longer before it kills the process.
    pub fn shutdown_grace(&self) -> Duration {
        self.usage_deadline() + Duration::from_secs(2)
    }

    pub fn history_timeout(&self) -> Duration {
        Duration::from_millis(self.history_timeout_ms)
    }

    pub fn history_work_timeout(&self) -> Duration {
        Duration::from_millis(self.history_work_timeout_ms)
    }

    /// How often the history recorder asks for the kept period (refreshing it when it has expired) and
    /// retries a failed write: as often as the period is kept, within 0.1 to 60 s; every 30 s when nothing is
    /// kept (each request then refreshes the period, and each refresh is recorded).
    pub fn history_tick(&self) -> Duration {
        match self.kept_period_ttl_ms {
            0 => Duration::from_secs(30),
            ttl => Duration::from_millis(ttl.clamp(100, 60_000)),
        }
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// Whether the upstream is the embedded sample on this server.
    pub fn uses_sample_upstream(&self) -> bool {
        self.upstream_base_url.is_empty()
    }

    /// The upstream in force: the configured one, or the embedded sample upstream on this server.
    /// Which upstream this is, the same on every replica and across restarts, without its secrets: the first
    /// 16 hexadecimal digits of the SHA-256 of its messages URL (of "the embedded sample" for the sample, which
    /// each replica serves on its own address). The shared cache's keys and the history store's rows carry it.
    pub fn upstream_identity(&self) -> String {
        use sha2::{Digest, Sha256};
        let name = match self.uses_sample_upstream() {
            true => "the embedded sample".to_owned(),
            false => self.upstream_urls().messages().to_string(),
        };
        hex::encode(&Sha256::digest(name.as_bytes())[..8])
    }

    pub fn upstream_urls(&self) -> UpstreamUrls {
        let base = if self.uses_sample_upstream() {
            let mut local = self.site_addr;
            if local.ip().is_unspecified() {
                local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{local}{}", super::upstream::sample::MOUNT_PATH)
        } else {
            self.upstream_base_url.clone()
        };
        UpstreamUrls::parse(&base).expect("validated at start-up")
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy { retries: self.upstream_retries, base: self.upstream_retry_base() }
    }

    /// What the upstream client is built from.
    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            urls: self.upstream_urls(),
            timeout: self.upstream_timeout(),
            retry: self.retry_policy(),
            max_body_bytes: self.upstream_max_body_bytes,
        }
    }

    /// The longest a usage computation can spend on the upstream: see [`RetryPolicy::worst_case`].
    pub fn worst_case_upstream_time(&self) -> Duration {
        self.retry_policy().worst_case(self.upstream_timeout())
    }
}

/// The environment variable that overrides `key`.
pub fn env_name(key: &str) -> String {
    match key {
        "site_addr" => "LEPTOS_SITE_ADDR".to_owned(),
        _ => key.to_ascii_uppercase(),
    }
}

/// Reads an environment variable's text as the type of the key's default: a number, text, or a
/// comma-separated list.
fn env_value(default: &toml::Value, text: &str) -> Option<toml::Value> {
    Some(match default {
        toml::Value::Integer(_) => toml::Value::Integer(text.parse().ok()?),
        toml::Value::Boolean(_) => toml::Value::Boolean(text.parse().ok()?),
        // A list of the default's kind: numbers (the thresholds) or text (the origins).
        toml::Value::Array(items) => {
            let numbers = matches!(items.first(), Some(toml::Value::Float(_)));
            let items = text.split(',').map(str::trim).filter(|item| !item.is_empty());
            toml::Value::Array(if numbers {
                items.map(|item| item.parse::<f64>().ok().map(toml::Value::Float)).collect::<Option<_>>()?
            } else {
                items.map(toml::Value::from).collect()
            })
        }
        _ => toml::Value::String(text.to_owned()),
    })
}

/// What each key accepts, in the words of its error message.
fn accepted(key: &str) -> &'static str {
    keys::key(key).map_or("a value of the key's type", |key| key.accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> HashMap<String, String> {
        HashMap::new()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    fn refusal(file: &str, env: &HashMap<String, String>) -> String {
        Config::from_sources("x.toml", file, env).expect_err("should be refused").to_string()
    }

    #[test]
    fn every_key_is_described_once_and_its_default_is_within_its_range() {
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        let described: Vec<&str> = keys::KEYS.iter().map(|key| key.name).collect();
        let mut fields: Vec<&str> = defaults.keys().map(String::as_str).collect();
        let mut sorted = described.clone();
        sorted.sort_unstable();
        sorted.dedup();
        fields.sort_unstable();
        assert_eq!(sorted, fields, "one description per key of Config");
        assert_eq!(sorted.len(), described.len(), "each described once");
        for key in &keys::KEYS {
            if let (Some((low, high)), toml::Value::Integer(default)) = (key.range, &defaults[key.name]) {
                assert!((low..=high).contains(default), "{}", key.name);
            }
        }
    }

    #[test]
    fn the_readmes_configuration_table_is_the_keys_described() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let expected = keys::readme_table();
        assert!(readme.contains(&expected), "README.md's configuration table should read:\n{expected}");
    }

    #[test]
    fn a_public_address_needs_access_control_or_allow_anonymous() {
        let public = env(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")]);
        let error = Config::load_from(&public).unwrap_err().to_string();
        assert!(error.contains("allow_anonymous") && error.contains("auth_issuer"), "{error}");
        let allowed = env(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000"), ("ALLOW_ANONYMOUS", "true")]);
        assert!(Config::load_from(&allowed).unwrap().allow_anonymous);
        assert!(Config::load_from(&env(&[("ALLOW_ANONYMOUS", "yes")])).is_err(), "true or false only");
        assert!(!Config::default().access_controlled(), "the one-command run needs no provider");
    }

    #[test]
    fn access_control_needs_its_client_its_url_and_a_long_secret_never_shown() {
        let complete = [
            ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ("AUTH_ISSUER", "https://login.example/realms/acme"),
            ("AUTH_CLIENT_ID", "dashboard"),
            ("AUTH_CLIENT_SECRET", "a-client-secret"),
            ("PUBLIC_URL", "https://usage.example/"),
            ("AUTH_SESSION_SECRET", "a-session-secret-of-at-least-32-bytes!"),
            ("AUTH_ALLOWED_GROUPS", "billing, finance"),
            ("UPSTREAM_BASE_URL", "https://up.example"),
        ];
        let config = Config::load_from(&env(&complete)).unwrap();
        assert!(config.access_controlled());
        assert_eq!(config.bearer_audience(), "https://usage.example");
        assert_eq!(config.auth_allowed_groups, ["billing", "finance"]);
        let broken = |name: &str, value: &str| {
            let mut pairs: HashMap<String, String> = env(&complete);
            pairs.insert(name.to_owned(), value.to_owned());
            Config::load_from(&pairs).unwrap_err().to_string()
        };
        assert!(broken("PUBLIC_URL", "").contains("public_url"));
        assert!(broken("AUTH_ISSUER", "http://login.example").contains("https"), "plain http only on loopback");
        assert!(broken("AUTH_ISSUER", "https://login.example/?x=1").contains("auth_issuer"));
        assert!(broken("AUTH_CLIENT_SECRET", "").contains("auth_client_secret"));
        let short = broken("AUTH_SESSION_SECRET", "short-secret");
        assert!(short.contains("auth_session_secret") && !short.contains("short-secret"), "{short}");
        assert!(broken("AUTH_SCOPES", "email groups").contains("openid"));
        let http_loopback = [("AUTH_ISSUER", "http://127.0.0.1:8080"), ("PUBLIC_URL", "http://localhost:3000")];
        let pairs: Vec<(&str, &str)> = complete
            .iter()
            .copied()
            .map(|(key, old)| http_loopback.iter().find(|(name, _)| *name == key).copied().unwrap_or((key, old)))
            .collect();
        assert!(Config::load_from(&env(&pairs)).is_ok(), "a provider on this machine, as in the tests");
    }

    fn access_controlled(changes: &[(&str, &str)]) -> Result<Config, String> {
        let mut pairs = env(&[
            ("AUTH_ISSUER", "https://login.example/realms/acme"),
            ("AUTH_CLIENT_ID", "dashboard"),
            ("AUTH_CLIENT_SECRET", "a-client-secret"),
            ("PUBLIC_URL", "https://usage.example"),
            ("AUTH_SESSION_SECRET", "a-session-secret-of-at-least-32-bytes!"),
            ("AUTH_ALLOWED_GROUPS", "billing"),
            ("UPSTREAM_BASE_URL", "https://up.example"),
        ]);
        pairs.extend(env(changes));
        Config::load_from(&pairs).map_err(|error| error.to_string())
    }

    #[test]
    fn access_control_needs_a_rule_for_who_may_read_said_out_loud_when_it_is_everyone() {
        let refused = access_controlled(&[("AUTH_ALLOWED_GROUPS", "")]).unwrap_err();
        assert!(
            refused.starts_with("AUTH_ALLOWED_GROUPS (`auth_allowed_groups`)")
                && refused.contains("auth_allow_any_account"),
            "{refused}"
        );
        for rule in [
            ("AUTH_ALLOWED_DOMAINS", "acme.example"),
            ("AUTH_ALLOWED_TENANTS", "9188040d-6c67-4c5b-b112-36a304b66dad"),
            ("AUTH_ALLOW_ANY_ACCOUNT", "true"),
        ] {
            let config = access_controlled(&[("AUTH_ALLOWED_GROUPS", ""), rule]);
            assert!(config.is_ok(), "{rule:?}: {config:?}");
        }
        let blank = access_controlled(&[("AUTH_ALLOWED_DOMAINS", "acme.example, ,")]);
        assert!(blank.is_ok(), "empty items of a comma-separated list are left out: {blank:?}");
    }

    #[test]
    fn access_control_refuses_a_public_url_with_a_path_and_the_sample_upstream() {
        let prefixed = access_controlled(&[("PUBLIC_URL", "https://usage.example/dash")]).unwrap_err();
        assert!(
            prefixed.starts_with("PUBLIC_URL (`public_url`)") && prefixed.contains("root of its host"),
            "{prefixed}"
        );
        assert!(access_controlled(&[("PUBLIC_URL", "https://usage.example/")]).is_ok(), "the root, with its slash");
        let sample = access_controlled(&[("UPSTREAM_BASE_URL", "")]).unwrap_err();
        assert!(sample.contains("upstream_base_url") && sample.contains("without sign-in"), "{sample}");
    }

    #[test]
    fn metrics_on_a_public_address_need_a_token_or_a_word_that_the_network_is_trusted() {
        let open = refusal("", &env(&[("METRICS_ADDR", "0.0.0.0:9100")]));
        assert!(
            open.starts_with("`metrics_allow_anonymous`")
                && open.contains("0.0.0.0:9100")
                && open.contains("metrics:read"),
            "{open}"
        );
        let trusted = Config::from_sources(
            "x",
            "",
            &env(&[("METRICS_ADDR", "0.0.0.0:9100"), ("METRICS_ALLOW_ANONYMOUS", "true")]),
        );
        assert!(!trusted.unwrap().metrics_need_token());
        let loopback = Config::from_sources("x", "", &env(&[("METRICS_ADDR", "127.0.0.1:9100")])).unwrap();
        assert!(!loopback.metrics_need_token());
        assert!(access_controlled(&[("METRICS_ADDR", "0.0.0.0:9100")]).unwrap().metrics_need_token());
        assert!(!access_controlled(&[("METRICS_ADDR", "127.0.0.1:9100")]).unwrap().metrics_need_token());
        assert!(refusal("", &env(&[("METRICS_ADDR", "somewhere")])).starts_with("METRICS_ADDR (`metrics_addr`)"));
    }

    #[test]
    fn no_file_gives_the_defaults() {
        assert_eq!(Config::from_sources("x", "", &no_env()).unwrap(), Config::default());
    }

    #[test]
    fn the_repository_file_is_valid_and_is_the_defaults_with_the_samples_billing_cycle_and_budget() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
        let sample = Config {
            billing_cycle_anchor: "2024-04-29T00:00:00".into(),
            billing_interval: "month".into(),
            credit_budget: "3000".into(),
            ..Config::default()
        };
        assert_eq!(Config::from_sources("Leptos.toml", &text, &no_env()).unwrap(), sample);
    }

    #[test]
    fn lifetimes_and_sizes_past_their_bounds_are_refused() {
        for (variable, value, named) in [
            ("KEPT_PERIOD_TTL_MS", "18446744073709551615", "KEPT_PERIOD_TTL_MS (`kept_period_ttl_ms`)"),
            ("REPORT_CACHE_TTL_SECS", "31536001", "(`report_cache_ttl_secs`)"),
            ("REPORT_NOT_FOUND_TTL_SECS", "99999999999", "(`report_not_found_ttl_secs`)"),
            ("SHARED_CACHE_MAX_VALUE_BYTES", "1073741824", "(`shared_cache_max_value_bytes`)"),
            ("SHARED_CACHE_NAMESPACE", "Staging{1}", "(`shared_cache_namespace`)"),
            ("SHARED_CACHE_NAMESPACE", &"a".repeat(33), "(`shared_cache_namespace`)"),
        ] {
            let refused = refusal("", &env(&[(variable, value)]));
            assert!(refused.contains(named), "{variable}={value}: {refused}");
        }
        let at_bounds = env(&[
            ("KEPT_PERIOD_TTL_MS", "86400000"),
            ("REPORT_CACHE_TTL_SECS", "31536000"),
            ("SHARED_CACHE_MAX_VALUE_BYTES", "536870912"),
            ("SHARED_CACHE_NAMESPACE", "staging-eu_2"),
        ]);
        assert!(Config::from_sources("x", "", &at_bounds).is_ok());
    }

    #[test]
    fn reads_the_server_table() {
        let text = "[server]\nupstream_base_url = \"https://example.test/api/\"\nupstream_timeout_ms = 750\nreport_concurrency = 4\ncors_allowed_origins = [\"https://app.test\"]\n";
        let config = Config::from_sources("x", text, &no_env()).unwrap();
        assert_eq!(config.upstream_base_url, "https://example.test/api/");
        assert_eq!(config.upstream_timeout(), Duration::from_millis(750));
        assert_eq!(config.report_concurrency, 4);
        assert_eq!(config.cors_allowed_origins, ["https://app.test"]);
    }

    #[test]
    fn environment_overrides_the_file() {
        let text = "[server]\nupstream_base_url = \"https://file.test\"\nsite_addr = \"127.0.0.1:3000\"\n";
        let env = env(&[
            ("UPSTREAM_BASE_URL", "https://env.test"),
            ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
            ("ALLOW_ANONYMOUS", "true"),
            ("USAGE_DEADLINE_MS", " 30000 "),
            ("CORS_ALLOWED_ORIGINS", "https://a.test, http://localhost:5173,"),
        ]);
        let config = Config::from_sources("x", text, &env).unwrap();
        assert_eq!(config.upstream_base_url, "https://env.test");
        assert_eq!(config.site_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.usage_deadline(), Duration::from_secs(30));
        assert_eq!(config.cors_allowed_origins, ["https://a.test", "http://localhost:5173"]);
    }

    #[test]
    fn a_bad_value_in_the_file_names_the_key_the_value_and_what_is_accepted() {
        for (file, expected) in [
            (
                "[server]\nupstream_retries = -1\n",
                "`upstream_retries` in x.toml = -1 is not accepted: a whole number from 0 to 4294967295",
            ),
            (
                "[server]\nupstream_retries = \"2\"\n",
                "`upstream_retries` in x.toml = \"2\" is not accepted: a whole number from 0 to 4294967295",
            ),
            (
                "[server]\nsite_addr = \"localhost\"\n",
                "`site_addr` in x.toml = \"localhost\" is not accepted: an IP address and port, such as 127.0.0.1:3000",
            ),
            (
                "[server]\nreport_concurrency = 0\n",
                "`report_concurrency` in x.toml = 0 is not accepted: a whole number, at least 1",
            ),
            (
                "[server]\ntable_page_size = 5000\n",
                "`table_page_size` in x.toml = 5000 is not accepted: a whole number of rows from 1 to 1000",
            ),
            ("server = 1\n", "`server` in x.toml = 1 is not accepted: a [server] table"),
        ] {
            let message = refusal(file, &no_env());
            assert!(message.starts_with(expected), "{file:?}: {message}");
        }
    }

    #[test]
    fn a_bad_value_in_the_environment_names_the_variable_its_key_the_value_and_what_is_accepted() {
        assert_eq!(
            refusal("", &env(&[("UPSTREAM_TIMEOUT_MS", "soon")])),
            "UPSTREAM_TIMEOUT_MS (`upstream_timeout_ms`) = `soon` is not accepted: a whole number of milliseconds, at least 1"
        );
        assert!(refusal("", &env(&[("UPSTREAM_RETRIES", "-1")])).starts_with(
            "UPSTREAM_RETRIES (`upstream_retries`) = -1 is not accepted: a whole number from 0 to 4294967295"
        ));
        assert!(refusal("", &env(&[("MAX_REQUESTS_IN_FLIGHT", "0")]))
            .starts_with("MAX_REQUESTS_IN_FLIGHT (`max_requests_in_flight`) = 0 is not accepted"));
    }

    #[test]
    fn unknown_and_renamed_keys_are_refused_by_name() {
        assert_eq!(
            refusal("[server]\nupstream_timout_ms = 5\n", &no_env()),
            "`upstream_timout_ms` in x.toml is not a key of the [server] table"
        );
        assert_eq!(
            refusal("[server]\nusage_snapshot_ttl_ms = 5\n", &no_env()),
            "`usage_snapshot_ttl_ms` in x.toml is not a key of the [server] table: it was renamed `kept_period_ttl_ms`"
        );
        assert_eq!(
            refusal("", &env(&[("USAGE_SNAPSHOT_TTL_MS", "5")])),
            "the environment variable USAGE_SNAPSHOT_TTL_MS is not a key of the [server] table: it was renamed KEPT_PERIOD_TTL_MS"
        );
    }

    #[test]
    fn only_sqlite_and_postgres_urls_are_accepted() {
        assert!(check_database_url("sqlite://data/history.sqlite3").is_ok());
        assert!(check_database_url("postgres://user@127.0.0.1:5432/history").is_ok());
        for bad in ["sqlite://", "mysql://x", "history.sqlite3", "postgres://[", "http://db"] {
            assert!(check_database_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_billing_cycle_budget_and_thresholds_are_checked_and_named() {
        let config = Config::from_sources(
            "x",
            "",
            &env(&[
                ("BILLING_CYCLE_ANCHOR", "2024-04-29T00:00:00Z"),
                ("BILLING_INTERVAL", "14"),
                ("CREDIT_BUDGET", "2500.50"),
                ("ALERT_THRESHOLDS", "0.25, 0.75,1"),
            ]),
        )
        .unwrap();
        assert_eq!(config.budget(), Ok(Some(Credits::from_hundredths(250_050))));
        assert_eq!(config.alert_thresholds_permille(), [250, 750, 1000]);
        assert!(config.billing_cycle().is_some());
        for (pairs, key) in [
            (vec![("BILLING_INTERVAL", "month")], "`billing_cycle_anchor` = \"\" is not accepted"),
            (
                vec![("BILLING_CYCLE_ANCHOR", "2024-04-29T00:00:00Z"), ("BILLING_INTERVAL", "0")],
                "BILLING_INTERVAL (`billing_interval`) = \"0\"",
            ),
            (
                vec![("BILLING_CYCLE_ANCHOR", "monday"), ("BILLING_INTERVAL", "month")],
                "BILLING_CYCLE_ANCHOR (`billing_cycle_anchor`)",
            ),
            (vec![("CREDIT_BUDGET", "12.345")], "CREDIT_BUDGET (`credit_budget`) = \"12.345\" is not accepted"),
            (vec![("CREDIT_BUDGET", "0")], "CREDIT_BUDGET (`credit_budget`)"),
            (vec![("ALERT_THRESHOLDS", "0.8,0.5")], "ALERT_THRESHOLDS (`alert_thresholds`)"),
            (vec![("ALERT_THRESHOLDS", "half")], "ALERT_THRESHOLDS (`alert_thresholds`) = `half` is not accepted"),
            (vec![("ALERT_THRESHOLDS", "0,1")], "ALERT_THRESHOLDS (`alert_thresholds`)"),
            (
                vec![
                    ("BILLING_CYCLE_ANCHOR", "2024-04-29"),
                    ("BILLING_INTERVAL", "month"),
                    ("BILLING_TIME_ZONE", "Mars/Olympus"),
                ],
                "BILLING_TIME_ZONE (`billing_time_zone`) = \"Mars/Olympus\" is not accepted",
            ),
        ] {
            let message = refusal("", &env(&pairs));
            assert!(message.starts_with(key), "{pairs:?}: {message}");
        }
    }

    #[test]
    fn alerts_need_a_secret_a_store_and_a_budget_and_no_message_shows_a_secret() {
        let with = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("ALERT_WEBHOOK_URL", "https://hooks.test/services/T0K3N"),
                ("ALERT_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                ("CREDIT_BUDGET", "100"),
            ];
            all.extend_from_slice(pairs);
            env(&all)
        };
        assert!(Config::from_sources("x", "", &with(&[])).is_ok());
        for (pairs, starts) in [
            (vec![("ALERT_WEBHOOK_SECRET", "short")], "ALERT_WEBHOOK_SECRET (`alert_webhook_secret`) = (not shown"),
            (
                vec![("ALERT_WEBHOOK_SECRET", "a-plain-secret-of-32-characters!")],
                "ALERT_WEBHOOK_SECRET (`alert_webhook_secret`) = (not shown",
            ),
            (vec![("DATABASE_URL", "")], "ALERT_WEBHOOK_URL (`alert_webhook_url`) = (not shown"),
            (vec![("CREDIT_BUDGET", "")], "ALERT_WEBHOOK_URL (`alert_webhook_url`) = (not shown"),
            (
                vec![("ALERT_WEBHOOK_URL", "ftp://hooks.test/T0K3N")],
                "ALERT_WEBHOOK_URL (`alert_webhook_url`) = (not shown",
            ),
            (vec![("DATABASE_URL", "mysql://user:pa55word@db")], "DATABASE_URL (`database_url`) = (not shown"),
        ] {
            let message = refusal("", &with(&pairs));
            assert!(message.starts_with(starts), "{pairs:?}: {message}");
            for secret in ["a-secret-of-24-characters", "short", "T0K3N", "pa55word"] {
                assert!(!message.contains(secret), "{message}");
            }
        }
    }

    #[test]
    fn every_key_says_what_it_accepts() {
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        for key in defaults.keys() {
            assert_ne!(accepted(key), accepted("no such key"), "{key}");
        }
    }

    #[test]
    fn the_upstream_url_is_validated_at_start_up() {
        for bad in ["owpublic.blob.core.windows.net/tech-task", "ftp://up.test", "http://", "https://up.test/#x"] {
            let message = refusal("", &env(&[("UPSTREAM_BASE_URL", bad)]));
            assert!(message.starts_with(&format!("UPSTREAM_BASE_URL (`upstream_base_url`) = \"{bad}\"")), "{message}");
        }
    }

    #[test]
    fn cors_origins_must_be_bare_origins() {
        for bad in ["*", "https://app.test/", "https://app.test/path", "app.test", "ftp://app.test"] {
            let message = refusal("", &env(&[("CORS_ALLOWED_ORIGINS", bad)]));
            assert!(message.starts_with("CORS_ALLOWED_ORIGINS (`cors_allowed_origins`)"), "{bad}: {message}");
            assert!(message.contains(bad), "{bad}: {message}");
        }
    }

    #[test]
    fn a_named_config_file_that_is_missing_is_an_error() {
        let outcome = Config::load_from(&env(&[("DASHBOARD_CONFIG", "/nonexistent/dashboard.toml")]));
        assert!(matches!(outcome, Err(ConfigError::Unreadable { path, .. }) if path == "/nonexistent/dashboard.toml"));
    }

    #[test]
    fn the_default_deadline_leaves_room_for_every_retry() {
        let config = Config::default();
        assert!(
            config.worst_case_upstream_time() <= config.usage_deadline(),
            "{:?}",
            config.worst_case_upstream_time()
        );
        // The old defaults (5 s calls, a 15 s deadline) did not: the third attempt was always cut off.
        let old = Config { upstream_timeout_ms: 5_000, usage_deadline_ms: 15_000, ..Config::default() };
        assert!(old.worst_case_upstream_time() > old.usage_deadline());
    }

    #[test]
    fn empty_upstream_means_the_embedded_sample_on_this_server() {
        let config = Config { site_addr: "0.0.0.0:4000".parse().unwrap(), ..Config::default() };
        assert!(config.uses_sample_upstream());
        assert_eq!(
            config.upstream_urls().messages().as_str(),
            "http://127.0.0.1:4000/sample-upstream/messages/current-period"
        );
        let config = Config { upstream_base_url: "https://up.test".into(), ..Config::default() };
        assert_eq!(config.upstream_urls().report(1).as_str(), "https://up.test/reports/1");
    }
}
