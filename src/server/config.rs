//! Runtime configuration: the `[server]` table of `Leptos.toml`, each key overridable by an environment
//! variable. cargo-leptos reads its build settings from Cargo.toml; this file is only for the running server.

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Where the configuration file is looked for, unless `DASHBOARD_CONFIG` names another.
pub const DEFAULT_CONFIG_PATH: &str = "Leptos.toml";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `site_addr` / `LEPTOS_SITE_ADDR`.
    pub site_addr: SocketAddr,
    /// `upstream_base_url` / `UPSTREAM_BASE_URL`. Empty means the embedded sample upstream on this server.
    pub upstream_base_url: String,
    /// `upstream_timeout_ms` / `UPSTREAM_TIMEOUT_MS`: one upstream call, connection to last byte.
    pub upstream_timeout: Duration,
    /// `upstream_retries` / `UPSTREAM_RETRIES`: extra attempts after a transient upstream failure.
    pub upstream_retries: u32,
    /// `upstream_retry_base_ms` / `UPSTREAM_RETRY_BASE_MS`: first backoff; doubled per attempt, jittered.
    pub upstream_retry_base: Duration,
    /// `upstream_max_body_bytes` / `UPSTREAM_MAX_BODY_BYTES`: larger upstream bodies are refused.
    pub upstream_max_body_bytes: usize,
    /// `usage_deadline_ms` / `USAGE_DEADLINE_MS`: the whole `/usage` computation, retries included.
    pub usage_deadline: Duration,
    /// `report_concurrency` / `REPORT_CONCURRENCY`: report lookups in flight per request.
    pub report_concurrency: usize,
    /// `report_cache_capacity` / `REPORT_CACHE_CAPACITY`: reports kept across requests.
    pub report_cache_capacity: u64,
    /// `report_cache_ttl_secs` / `REPORT_CACHE_TTL_SECS`: how long a found report is trusted.
    pub report_cache_ttl: Duration,
    /// `report_not_found_ttl_secs` / `REPORT_NOT_FOUND_TTL_SECS`: how long a 404 is trusted.
    pub report_not_found_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            upstream_base_url: String::new(),
            upstream_timeout: Duration::from_millis(5_000),
            upstream_retries: 2,
            upstream_retry_base: Duration::from_millis(100),
            upstream_max_body_bytes: 64 * 1024 * 1024,
            usage_deadline: Duration::from_millis(15_000),
            report_concurrency: 256,
            report_cache_capacity: 10_000,
            report_cache_ttl: Duration::from_secs(300),
            report_not_found_ttl: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("{path} is not valid TOML: {source}")]
    NotToml { path: String, source: toml::de::Error },
    #[error("{key} = `{value}` is not valid: {reason}")]
    InvalidValue { key: String, value: String, reason: String },
    #[error("unknown key `{0}` in the [server] table")]
    UnknownKey(String),
}

/// A key of the `[server]` table and the environment variable that overrides it.
struct Setting {
    key: &'static str,
    env: &'static str,
}

const SETTINGS: [Setting; 11] = [
    Setting { key: "site_addr", env: "LEPTOS_SITE_ADDR" },
    Setting { key: "upstream_base_url", env: "UPSTREAM_BASE_URL" },
    Setting { key: "upstream_timeout_ms", env: "UPSTREAM_TIMEOUT_MS" },
    Setting { key: "upstream_retries", env: "UPSTREAM_RETRIES" },
    Setting { key: "upstream_retry_base_ms", env: "UPSTREAM_RETRY_BASE_MS" },
    Setting { key: "upstream_max_body_bytes", env: "UPSTREAM_MAX_BODY_BYTES" },
    Setting { key: "usage_deadline_ms", env: "USAGE_DEADLINE_MS" },
    Setting { key: "report_concurrency", env: "REPORT_CONCURRENCY" },
    Setting { key: "report_cache_capacity", env: "REPORT_CACHE_CAPACITY" },
    Setting { key: "report_cache_ttl_secs", env: "REPORT_CACHE_TTL_SECS" },
    Setting { key: "report_not_found_ttl_secs", env: "REPORT_NOT_FOUND_TTL_SECS" },
];

impl Config {
    /// Reads `DASHBOARD_CONFIG` (or `Leptos.toml`), then the process environment.
    pub fn load() -> Result<Config, ConfigError> {
        let path = std::env::var("DASHBOARD_CONFIG").unwrap_or_else(|_| DEFAULT_CONFIG_PATH.to_owned());
        let file_text = match std::fs::read_to_string(Path::new(&path)) {
            Ok(text) => text,
            // Without a file the defaults and the environment still make a complete configuration.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Unreadable { path, source }),
        };
        Config::from_sources(&path, &file_text, |name| std::env::var(name).ok())
    }

    /// The file's `[server]` table overlaid by the environment, as seen through `env`.
    pub fn from_sources(
        path: &str,
        file_text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let document: toml::Table = file_text
            .parse()
            .map_err(|source| ConfigError::NotToml { path: path.to_owned(), source })?;
        let table = match document.get("server") {
            Some(toml::Value::Table(table)) => table.clone(),
            _ => toml::Table::new(),
        };
        if let Some(unknown) = table.keys().find(|key| !SETTINGS.iter().any(|s| s.key == key.as_str())) {
            return Err(ConfigError::UnknownKey(unknown.clone()));
        }
        let value_of = |setting: &Setting| -> Option<String> {
            env(setting.env).or_else(|| {
                table.get(setting.key).map(|value| match value {
                    toml::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
            })
        };
        let mut config = Config::default();
        for setting in &SETTINGS {
            if let Some(text) = value_of(setting) {
                config.apply(setting.key, text.trim())?;
            }
        }
        Ok(config)
    }

    fn apply(&mut self, key: &str, text: &str) -> Result<(), ConfigError> {
        match key {
            "site_addr" => self.site_addr = parse(key, text)?,
            "upstream_base_url" => self.upstream_base_url = text.trim_end_matches('/').to_owned(),
            "upstream_timeout_ms" => self.upstream_timeout = millis(key, text)?,
            "upstream_retries" => self.upstream_retries = parse(key, text)?,
            "upstream_retry_base_ms" => self.upstream_retry_base = millis(key, text)?,
            "upstream_max_body_bytes" => self.upstream_max_body_bytes = positive(key, text)?,
            "usage_deadline_ms" => self.usage_deadline = millis(key, text)?,
            "report_concurrency" => self.report_concurrency = positive(key, text)?,
            "report_cache_capacity" => self.report_cache_capacity = parse(key, text)?,
            "report_cache_ttl_secs" => self.report_cache_ttl = Duration::from_secs(parse(key, text)?),
            "report_not_found_ttl_secs" => {
                self.report_not_found_ttl = Duration::from_secs(parse(key, text)?)
            }
            _ => return Err(ConfigError::UnknownKey(key.to_owned())),
        }
        Ok(())
    }

    /// The upstream base URL in force: the configured one, or the embedded sample upstream on this server.
    pub fn effective_upstream_base_url(&self) -> String {
        if !self.upstream_base_url.is_empty() {
            return self.upstream_base_url.clone();
        }
        let mut local = self.site_addr;
        if local.ip().is_unspecified() {
            local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{local}{}", super::sample_upstream::MOUNT_PATH)
    }
}

fn parse<T: FromStr>(key: &str, text: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error: T::Err| ConfigError::InvalidValue {
        key: key.to_owned(),
        value: text.to_owned(),
        reason: error.to_string(),
    })
}

fn positive<T: FromStr + Default + PartialEq>(key: &str, text: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let value: T = parse(key, text)?;
    if value == T::default() {
        return Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            value: text.to_owned(),
            reason: "must be greater than zero".into(),
        });
    }
    Ok(value)
}

fn millis(key: &str, text: &str) -> Result<Duration, ConfigError> {
    positive(key, text).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn missing_file_gives_the_defaults() {
        assert_eq!(Config::from_sources("x", "", no_env).unwrap(), Config::default());
    }

    #[test]
    fn reads_the_server_table() {
        let text = "[server]\nupstream_base_url = \"https://example.test/api/\"\nupstream_timeout_ms = 750\nreport_concurrency = 4\n";
        let config = Config::from_sources("x", text, no_env).unwrap();
        assert_eq!(config.upstream_base_url, "https://example.test/api");
        assert_eq!(config.upstream_timeout, Duration::from_millis(750));
        assert_eq!(config.report_concurrency, 4);
    }

    #[test]
    fn environment_overrides_the_file() {
        let text = "[server]\nupstream_base_url = \"https://file.test\"\nsite_addr = \"127.0.0.1:3000\"\n";
        let env = |name: &str| match name {
            "UPSTREAM_BASE_URL" => Some("https://env.test".to_owned()),
            "LEPTOS_SITE_ADDR" => Some("0.0.0.0:8080".to_owned()),
            _ => None,
        };
        let config = Config::from_sources("x", text, env).unwrap();
        assert_eq!(config.upstream_base_url, "https://env.test");
        assert_eq!(config.site_addr, "0.0.0.0:8080".parse().unwrap());
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        assert!(matches!(
            Config::from_sources("x", "[server]\nupstream_timout_ms = 5\n", no_env),
            Err(ConfigError::UnknownKey(key)) if key == "upstream_timout_ms"
        ));
        assert!(matches!(
            Config::from_sources("x", "[server]\nreport_concurrency = 0\n", no_env),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(matches!(
            Config::from_sources("x", "", |_| Some("soon".to_owned())),
            Err(ConfigError::InvalidValue { .. })
        ));
    }

    #[test]
    fn empty_upstream_means_the_embedded_sample_on_this_server() {
        let config = Config { site_addr: "0.0.0.0:4000".parse().unwrap(), ..Config::default() };
        assert_eq!(config.effective_upstream_base_url(), "http://127.0.0.1:4000/sample-upstream");
        let config = Config { upstream_base_url: "https://up.test".into(), ..Config::default() };
        assert_eq!(config.effective_upstream_base_url(), "https://up.test");
    }
}
