//! Runtime configuration: the `[server]` table of `Leptos.toml`, each key overridable by an environment
//! variable (its name in capitals; `site_addr` is `LEPTOS_SITE_ADDR`, as cargo-leptos sets it). cargo-leptos
//! reads its build settings from Cargo.toml; this file is only for the running server.
//!
//! Every key is declared once, in `keys.rs`; `sources.rs` reads the file and the environment, `checks.rs`
//! checks the keys against each other, `urls.rs` the URLs they name. The configuration imports nothing else of
//! the server: each module builds its own settings from it, and checks what only it can parse.

mod checks;
pub mod keys;
mod sources;
pub mod urls;

pub use keys::{Config, DEFAULT_DATABASE_URL, KEYS, LARGEST_PAGE_SIZE};
pub use urls::redacted;

use crate::money::Credits;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Where the configuration file is looked for, unless `DASHBOARD_CONFIG` names another.
pub const DEFAULT_CONFIG_PATH: &str = "Leptos.toml";

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

/// A key whose value cannot be used, and why when its declaration does not say it all: what a check returns,
/// and what a module's settings return for a value only it can parse. [`Config::rejected`] words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError {
    pub key: &'static str,
    pub detail: Option<String>,
}

impl KeyError {
    pub fn new(key: &'static str) -> Self {
        KeyError { key, detail: None }
    }

    pub fn because(key: &'static str, detail: impl Into<String>) -> Self {
        KeyError { key, detail: Some(detail.into()) }
    }
}

/// Where each key's value came from, by key: `` `site_addr` in Leptos.toml ``, `LEPTOS_SITE_ADDR (`site_addr`)`.
/// Not part of a configuration's value: two configurations with the same keys are equal wherever they came from.
#[derive(Clone, Debug, Default)]
pub struct Sources(HashMap<String, String>);

impl PartialEq for Sources {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A value as an error message shows it.
fn shown_value(key: &str, value: String) -> String {
    if keys::is_secret(key) {
        "(not shown: it may hold credentials)".to_owned()
    } else {
        value
    }
}

/// The environment variable that overrides `key`.
pub fn env_name(key: &str) -> String {
    match key {
        "site_addr" => "LEPTOS_SITE_ADDR".to_owned(),
        _ => key.to_ascii_uppercase(),
    }
}

impl Config {
    /// The error that says `error`'s key cannot be used: where its value came from, the value (never a secret's),
    /// what the key accepts, and why.
    pub fn rejected(&self, error: KeyError) -> ConfigError {
        let values = toml::Table::try_from(self).expect("a configuration serialises");
        let given = values.get(error.key).map(toml::Value::to_string).unwrap_or_default();
        ConfigError::InvalidValue {
            origin: self.sources.0.get(error.key).cloned().unwrap_or_else(|| format!("`{}`", error.key)),
            given: shown_value(error.key, given),
            accepted: keys::key(error.key).map_or_else(|| "a value of the key's type".to_owned(), keys::Key::accepted),
            detail: error.detail.map(|detail| format!(" ({detail})")).unwrap_or_default(),
        }
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

    /// Whether the upstream is the embedded sample on this server.
    pub fn uses_sample_upstream(&self) -> bool {
        self.upstream_base_url.is_empty()
    }

    /// The period's budget, when one is configured.
    pub fn budget(&self) -> Result<Option<Credits>, KeyError> {
        match self.credit_budget.trim() {
            "" => Ok(None),
            text => match Credits::parse_decimal(text) {
                Ok(budget) if budget > Credits::ZERO => Ok(Some(budget)),
                Ok(_) => Err(KeyError::because("credit_budget", "a budget is more than zero")),
                Err(error) => Err(KeyError::because("credit_budget", error.to_string())),
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

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
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

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }
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
        for key in keys::KEYS {
            if let (Some((low, high)), toml::Value::Integer(default)) = (key.range(), &defaults[key.name]) {
                assert!((low..=high).contains(default), "{}", key.name);
            }
        }
    }

    #[test]
    fn the_documented_configuration_table_is_the_keys_declared() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let docs = std::fs::read_to_string(path).unwrap();
        let expected = keys::table();
        // `UPDATE_DOCS=1 cargo test --features ssr --lib config` writes the table in place of the old one.
        if std::env::var_os("UPDATE_DOCS").is_some() && !docs.contains(&expected) {
            let start = docs.find("| key | default | meaning |").expect("a table to replace");
            let end = docs[start..].find("\n\n").map_or(docs.len(), |end| start + end + 1);
            std::fs::write(path, format!("{}{expected}{}", &docs[..start], &docs[end..])).unwrap();
            return;
        }
        assert!(docs.contains(&expected), "docs/configuration.md's table should read:\n{expected}");
    }

    #[test]
    fn each_key_of_leptos_toml_names_its_environment_variable() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
        let mut named = 0;
        for line in text.lines().filter(|line| !line.starts_with('#') && line.contains(" = ")) {
            let (key, rest) = line.split_once(" = ").unwrap();
            assert!(keys::key(key.trim()).is_some(), "Leptos.toml names `{key}`, which is not a key");
            let comment = rest.split_once("  # ").map(|(_, comment)| comment.trim_start());
            let variable = env_name(key.trim());
            assert!(
                comment.is_some_and(|comment| comment.starts_with(&format!("{variable} ")) || comment == variable),
                "Leptos.toml's line for `{key}` should say `# {variable}`: {line}"
            );
            named += 1;
        }
        assert!(named >= 20, "{named} keys in Leptos.toml");
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
        let check = |url| urls::check_database_url("database_url", url);
        assert!(check("sqlite://data/history.sqlite3").is_ok());
        assert!(check("postgres://user@127.0.0.1:5432/history").is_ok());
        for bad in ["sqlite://", "mysql://x", "history.sqlite3", "postgres://[", "http://db"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_key_says_what_it_accepts_and_a_range_is_worded_from_its_bounds() {
        for key in keys::KEYS {
            assert!(!key.accepted().is_empty(), "{}", key.name);
        }
        assert_eq!(keys::key("table_page_size").unwrap().accepted(), "a whole number of rows from 1 to 1000");
        assert_eq!(
            keys::key("upstream_retry_base_ms").unwrap().accepted(),
            "a whole number of milliseconds, 0 or more"
        );
        assert_eq!(
            keys::key("auth_session_idle_secs").unwrap().accepted(),
            "a whole number of seconds from 60 to 604800 (a week, at most auth_session_max_secs)"
        );
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
}
