//! Where the configuration is read from: the `[server]` table of `Leptos.toml` (or the file `DASHBOARD_CONFIG`
//! names), each key overridden by its environment variable, every value checked against its key's declaration
//! (its type, its range) before the checks across keys (`checks.rs`). An error names where the value came from,
//! the value (never a secret's) and what the key accepts.

use super::keys::{self, Config, KEYS};
use super::{env_name, shown_value, ConfigError, Sources, DEFAULT_CONFIG_PATH};
use std::collections::HashMap;

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
        // `[[server.organisations]]`: a list of tables, read by the organisations' own module.
        let not_tables = |given: &toml::Value| ConfigError::InvalidValue {
            origin: format!("`organisations` in {path}"),
            given: given.to_string(),
            accepted: "[[server.organisations]] tables".into(),
            detail: String::new(),
        };
        let organisations = match table.remove("organisations") {
            None => Vec::new(),
            Some(toml::Value::Array(entries)) => entries
                .into_iter()
                .map(|entry| match entry {
                    toml::Value::Table(table) => Ok(table),
                    other => Err(not_tables(&other)),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => return Err(not_tables(&other)),
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
        for key in KEYS {
            let variable = env_name(key.name);
            if let Some(text) = env.get(&variable) {
                let origin = format!("{variable} (`{}`)", key.name);
                let value = key.from_env(text.trim()).ok_or_else(|| ConfigError::InvalidValue {
                    origin: origin.clone(),
                    given: shown_value(key.name, format!("`{text}`")),
                    accepted: key.accepted(),
                    detail: String::new(),
                })?;
                table.insert(key.name.to_owned(), value);
                sources.insert(key.name.to_owned(), origin);
            }
        }
        for (name, value) in &table {
            let origin = sources.get(name).cloned().unwrap_or_else(|| format!("`{name}`"));
            check_value(name, value, origin)?;
        }
        let mut config: Config = table.try_into().expect("every key was read on its own");
        config.sources = Sources(sources);
        config.organisations = organisations;
        config.validate().map_err(|error| config.rejected(error))?;
        Ok(config)
    }

    /// This configuration with `table`'s keys over it, each one of `allowed`, from `origin` (a file, or a table
    /// of one): what an organisation's own keys make of the deployment's. Checked as the file's keys are, then
    /// across keys; an error names the key in `origin`.
    pub fn overlaid(&self, origin: &str, table: &toml::Table, allowed: &[&str]) -> Result<Config, ConfigError> {
        let mut values = toml::Table::try_from(self).expect("a configuration serialises");
        let mut sources = self.sources.clone();
        for (name, value) in table {
            let from = format!("`{name}` in {origin}");
            if !allowed.contains(&name.as_str()) {
                let hint = format!(": an organisation sets only {}", allowed.join(", "));
                return Err(ConfigError::UnknownKey { origin: from, hint });
            }
            check_value(name, value, from.clone())?;
            values.insert(name.clone(), value.clone());
            sources.0.insert(name.clone(), from);
        }
        let mut config: Config = values.try_into().expect("every key was read on its own");
        config.sources = sources;
        config.organisations = Vec::new();
        config.validate().map_err(|error| config.rejected(error))?;
        Ok(config)
    }
}

/// One key's value checked against its declaration: a key, within its range, of its type. `origin` says where
/// it came from.
fn check_value(name: &str, value: &toml::Value, origin: String) -> Result<(), ConfigError> {
    let Some(key) = keys::key(name) else {
        let hint = RENAMED_KEYS
            .iter()
            .find(|(old, _)| *old == name)
            .map(|(_, new)| format!(": it was renamed `{new}`"))
            .unwrap_or_default();
        return Err(ConfigError::UnknownKey { origin, hint });
    };
    let refused = |detail: String| ConfigError::InvalidValue {
        origin: origin.clone(),
        given: shown_value(name, value.to_string()),
        accepted: key.accepted(),
        detail,
    };
    if let (Some((low, high)), toml::Value::Integer(number)) = (key.range(), value) {
        if !(low..=high).contains(number) {
            return Err(refused(String::new()));
        }
    }
    // Read alone over the defaults, each key's value meets its own type.
    let alone = toml::Table::from_iter([(name.to_owned(), value.clone())]);
    if let Err(error) = alone.try_into::<Config>() {
        // The parser's words can quote the value: not for a key that may hold credentials.
        let detail = if key.is_secret() { String::new() } else { format!(" ({})", error.message()) };
        return Err(refused(detail));
    }
    Ok(())
}
