//! Runtime configuration: the `[server]` table of `Leptos.toml`, each key overridable by an environment
//! variable (its name in capitals; `site_addr` is `LEPTOS_SITE_ADDR`, as cargo-leptos sets it). cargo-leptos
//! reads its build settings from Cargo.toml; this file is only for the running server.

use super::upstream::LONGEST_WAIT_BEFORE_RETRY;
use super::upstream_url::UpstreamUrls;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// Where the configuration file is looked for, unless `DASHBOARD_CONFIG` names another.
pub const DEFAULT_CONFIG_PATH: &str = "Leptos.toml";

/// A page of the table is one response; more rows than this would undo the point of paging.
pub const LARGEST_PAGE_SIZE: usize = 1_000;

/// Every key, once: its name is the TOML key, its type says how the environment's text is read, and
/// `Default` gives its default. The README's configuration table describes each.
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
    pub usage_snapshot_ttl_ms: u64,
    pub table_page_size: usize,
    pub header_read_timeout_ms: u64,
    pub max_requests_in_flight: usize,
    pub cors_allowed_origins: Vec<String>,
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
            usage_snapshot_ttl_ms: 30_000,
            table_page_size: 100,
            header_read_timeout_ms: 10_000,
            max_requests_in_flight: 512,
            cors_allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("{path} is not valid TOML: {source}")]
    NotToml { path: String, source: toml::de::Error },
    #[error("`{key}` is not valid: {reason}")]
    InvalidValue { key: String, reason: String },
}

impl Config {
    /// Reads `DASHBOARD_CONFIG` (or `Leptos.toml`), then the process environment. A file that was named
    /// and is missing is an error: silently falling back to the defaults would serve the sample data.
    pub fn load() -> Result<Config, ConfigError> {
        let named = std::env::var("DASHBOARD_CONFIG").ok();
        let path = named.clone().unwrap_or_else(|| DEFAULT_CONFIG_PATH.to_owned());
        let file_text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && named.is_none() => String::new(),
            Err(source) => return Err(ConfigError::Unreadable { path, source }),
        };
        Config::from_sources(&path, &file_text, |name| std::env::var(name).ok())
    }

    /// The file's `[server]` table overlaid by the environment, as seen through `env`, then validated.
    pub fn from_sources(
        path: &str,
        file_text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let document: toml::Table =
            file_text.parse().map_err(|source| ConfigError::NotToml { path: path.to_owned(), source })?;
        let mut table = match document.get("server") {
            Some(toml::Value::Table(table)) => table.clone(),
            Some(_) => return Err(invalid("server", "must be a table")),
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");
        for (key, default) in &defaults {
            let variable = env_name(key);
            if let Some(text) = env(&variable) {
                table.insert(
                    key.clone(),
                    env_value(default, text.trim()).map_err(|reason| invalid(&variable, &reason))?,
                );
            }
        }
        for (key, value) in &table {
            match defaults.get(key) {
                None => return Err(invalid(key, "unknown key in the [server] table")),
                Some(default) if default.type_str() != value.type_str() => {
                    return Err(invalid(key, &format!("expected {}, found {}", default.type_str(), value.type_str())))
                }
                Some(_) => {}
            }
        }
        let config: Config = table.try_into().map_err(|error: toml::de::Error| invalid("[server]", error.message()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("upstream_timeout_ms", self.upstream_timeout_ms as u128),
            ("upstream_max_body_bytes", self.upstream_max_body_bytes as u128),
            ("usage_deadline_ms", self.usage_deadline_ms as u128),
            ("report_concurrency", self.report_concurrency as u128),
            ("header_read_timeout_ms", self.header_read_timeout_ms as u128),
            ("max_requests_in_flight", self.max_requests_in_flight as u128),
            ("table_page_size", self.table_page_size as u128),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(invalid(key, "must be greater than zero"));
        }
        if self.table_page_size > LARGEST_PAGE_SIZE {
            return Err(invalid("table_page_size", &format!("at most {LARGEST_PAGE_SIZE} rows, to keep a page small")));
        }
        if !self.upstream_base_url.is_empty() {
            UpstreamUrls::parse(&self.upstream_base_url).map_err(|reason| invalid("upstream_base_url", &reason))?;
        }
        for origin in &self.cors_allowed_origins {
            check_origin(origin).map_err(|reason| invalid("cors_allowed_origins", &format!("`{origin}`: {reason}")))?;
        }
        Ok(())
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

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// Whether the upstream is the embedded sample on this server.
    pub fn uses_sample_upstream(&self) -> bool {
        self.upstream_base_url.is_empty()
    }

    /// The upstream in force: the configured one, or the embedded sample upstream on this server.
    pub fn upstream_urls(&self) -> UpstreamUrls {
        let base = if self.uses_sample_upstream() {
            let mut local = self.site_addr;
            if local.ip().is_unspecified() {
                local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{local}{}", super::sample_upstream::MOUNT_PATH)
        } else {
            self.upstream_base_url.clone()
        };
        UpstreamUrls::parse(&base).expect("validated at start-up")
    }

    /// The longest a usage computation can spend on the upstream when every call times out and is retried:
    /// the messages, then the reports (fetched concurrently), each with every attempt and the longest waits
    /// between them. A deadline shorter than this cuts the last retries off.
    pub fn worst_case_upstream_time(&self) -> Duration {
        let attempts = self.upstream_retries.saturating_add(1);
        let one_phase = self.upstream_timeout().saturating_mul(attempts)
            + LONGEST_WAIT_BEFORE_RETRY.saturating_mul(self.upstream_retries);
        one_phase.saturating_mul(2)
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
fn env_value(default: &toml::Value, text: &str) -> Result<toml::Value, String> {
    Ok(match default {
        toml::Value::Integer(_) => {
            toml::Value::Integer(text.parse().map_err(|_| format!("`{text}` is not a whole number"))?)
        }
        toml::Value::Array(_) => toml::Value::Array(
            text.split(',').map(str::trim).filter(|item| !item.is_empty()).map(toml::Value::from).collect(),
        ),
        _ => toml::Value::String(text.to_owned()),
    })
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing more.
fn check_origin(origin: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(origin).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be http or https".into());
    }
    if url.origin().ascii_serialization() != origin {
        return Err(format!(
            "an origin has no path, query or trailing slash (did you mean `{}`?)",
            url.origin().ascii_serialization()
        ));
    }
    Ok(())
}

fn invalid(key: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidValue { key: key.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn refusal(file: &str, env: impl Fn(&str) -> Option<String>) -> String {
        Config::from_sources("x", file, env).expect_err("should be refused").to_string()
    }

    #[test]
    fn no_file_gives_the_defaults() {
        assert_eq!(Config::from_sources("x", "", no_env).unwrap(), Config::default());
    }

    #[test]
    fn the_repository_file_is_valid_and_matches_the_defaults() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
        assert_eq!(Config::from_sources("Leptos.toml", &text, no_env).unwrap(), Config::default());
    }

    #[test]
    fn reads_the_server_table() {
        let text = "[server]\nupstream_base_url = \"https://example.test/api/\"\nupstream_timeout_ms = 750\nreport_concurrency = 4\ncors_allowed_origins = [\"https://app.test\"]\n";
        let config = Config::from_sources("x", text, no_env).unwrap();
        assert_eq!(config.upstream_base_url, "https://example.test/api/");
        assert_eq!(config.upstream_timeout(), Duration::from_millis(750));
        assert_eq!(config.report_concurrency, 4);
        assert_eq!(config.cors_allowed_origins, ["https://app.test"]);
    }

    #[test]
    fn environment_overrides_the_file() {
        let text = "[server]\nupstream_base_url = \"https://file.test\"\nsite_addr = \"127.0.0.1:3000\"\n";
        let env = |name: &str| match name {
            "UPSTREAM_BASE_URL" => Some("https://env.test".to_owned()),
            "LEPTOS_SITE_ADDR" => Some("0.0.0.0:8080".to_owned()),
            "USAGE_DEADLINE_MS" => Some(" 30000 ".to_owned()),
            "CORS_ALLOWED_ORIGINS" => Some("https://a.test, http://localhost:5173,".to_owned()),
            _ => None,
        };
        let config = Config::from_sources("x", text, env).unwrap();
        assert_eq!(config.upstream_base_url, "https://env.test");
        assert_eq!(config.site_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(config.usage_deadline(), Duration::from_secs(30));
        assert_eq!(config.cors_allowed_origins, ["https://a.test", "http://localhost:5173"]);
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values_naming_the_key() {
        assert!(refusal("[server]\nupstream_timout_ms = 5\n", no_env).contains("upstream_timout_ms"));
        assert!(refusal("[server]\nreport_concurrency = 0\n", no_env).contains("report_concurrency"));
        assert!(refusal("[server]\nupstream_retries = \"2\"\n", no_env).contains("upstream_retries"));
        assert!(refusal("[server]\nupstream_retries = -1\n", no_env).contains("[server]"));
        assert!(refusal("", |name| (name == "UPSTREAM_TIMEOUT_MS").then(|| "soon".to_owned()))
            .contains("UPSTREAM_TIMEOUT_MS"));
        assert!(refusal("[server]\nsite_addr = \"localhost\"\n", no_env).contains("[server]"));
        assert!(refusal("server = 1\n", no_env).contains("server"));
    }

    #[test]
    fn the_upstream_url_is_validated_at_start_up() {
        for bad in ["owpublic.blob.core.windows.net/tech-task", "ftp://up.test", "http://", "https://up.test/#x"] {
            let env = |name: &str| (name == "UPSTREAM_BASE_URL").then(|| bad.to_owned());
            assert!(refusal("", env).contains("upstream_base_url"), "{bad}");
        }
    }

    #[test]
    fn cors_origins_must_be_bare_origins() {
        for bad in ["*", "https://app.test/", "https://app.test/path", "app.test", "ftp://app.test"] {
            let env = |name: &str| (name == "CORS_ALLOWED_ORIGINS").then(|| bad.to_owned());
            assert!(refusal("", env).contains("cors_allowed_origins"), "{bad}");
        }
    }

    #[test]
    fn a_named_config_file_that_is_missing_is_an_error() {
        // `load` reads the process environment; this is the only test that sets DASHBOARD_CONFIG.
        unsafe { std::env::set_var("DASHBOARD_CONFIG", "/nonexistent/dashboard.toml") };
        let outcome = Config::load();
        unsafe { std::env::remove_var("DASHBOARD_CONFIG") };
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
