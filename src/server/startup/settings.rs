//! What each module makes of the configuration, checked once at start-up: the upstream in force, the billing
//! cycle and budget, the alerts, the shared cache and the secrets of sessions. A value only a module can parse
//! (an anchor in a zone, a URL, a secret) is refused here, worded as the configuration words its own errors.

use crate::server::access::AccessControl;
use crate::server::billing::alerts::AlertSettings;
use crate::server::billing::BudgetSettings;
use crate::server::config::{Config, ConfigError, KeyError};
use crate::server::organisations::{organisations, Organisation, OrganisationError};
use crate::server::pricing::credit_rules::RULES_VERSION;
use crate::server::shared_cache::seal::SealingKeys;
use crate::server::shared_cache::SharedSettings;
use crate::server::upstream::settings::UpstreamSettings;
use std::collections::HashMap;

pub struct Settings {
    pub upstream: UpstreamSettings,
    pub budget: BudgetSettings,
    /// `None` without a webhook.
    pub alerts: Option<AlertSettings>,
    /// `None` without a `shared_cache_url`.
    pub shared: Option<SharedSettings>,
    /// `None` without access control.
    pub session_keys: Option<SealingKeys>,
    /// Each organisation with what its modules make of its configuration; none for a deployment of one.
    pub organisations: Vec<OrganisationSettings>,
}

/// What one organisation's modules make of its configuration (the deployment's, its own keys over it).
pub struct OrganisationSettings {
    pub organisation: Organisation,
    pub upstream: UpstreamSettings,
    pub budget: BudgetSettings,
    pub alerts: Option<AlertSettings>,
    pub shared: Option<SharedSettings>,
}

/// Why the configuration cannot be used: a key of the deployment's, or an organisation's.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Organisation(Box<OrganisationError>),
}

impl From<OrganisationError> for SettingsError {
    fn from(error: OrganisationError) -> Self {
        SettingsError::Organisation(Box::new(error))
    }
}

impl OrganisationSettings {
    pub(super) fn from_organisation(organisation: Organisation) -> Result<Self, OrganisationError> {
        let config = &organisation.config;
        let checked = || -> Result<_, KeyError> {
            let authorization = organisation.upstream_authorization.as_deref();
            let upstream = UpstreamSettings::for_organisation(config, &organisation.id, authorization)?;
            let budget = BudgetSettings::from_config(config)?;
            let alerts = AlertSettings::from_config(config)?;
            let shared = SharedSettings::from_config(config, &upstream.identity, RULES_VERSION)?;
            Ok((upstream, budget, alerts, shared))
        };
        let (upstream, budget, alerts, shared) = checked().map_err(|error| config.rejected(error))?;
        Ok(OrganisationSettings { organisation, upstream, budget, alerts, shared })
    }
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, SettingsError> {
        let checked = || {
            let upstream = UpstreamSettings::from_config(config)?;
            let budget = BudgetSettings::from_config(config)?;
            let alerts = AlertSettings::from_config(config)?;
            let shared = SharedSettings::from_config(config, &upstream.identity, RULES_VERSION)?;
            let session_keys = AccessControl::session_keys(config)?;
            Ok((upstream, budget, alerts, shared, session_keys))
        };
        let (upstream, budget, alerts, shared, session_keys) = checked().map_err(|error| config.rejected(error))?;
        let organisations = organisations(config)?
            .into_iter()
            .map(OrganisationSettings::from_organisation)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings { upstream, budget, alerts, shared, session_keys, organisations })
    }
}

/// The configuration from `DASHBOARD_CONFIG` (or `Leptos.toml`) and `env`, and what each module makes of it.
pub fn configuration_from(env: &HashMap<String, String>) -> Result<(Config, Settings), SettingsError> {
    let config = Config::load_from(env)?;
    let settings = Settings::from_config(&config)?;
    Ok((config, settings))
}

/// [`configuration_from`] the process's environment.
pub fn configuration() -> Result<(Config, Settings), SettingsError> {
    configuration_from(&process_env())
}

/// The process's environment. Variables that are not Unicode cannot be any of ours; `vars()` would panic on them.
pub fn process_env() -> HashMap<String, String> {
    let env =
        std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    env.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Credits;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    /// The message a configuration is refused with, by its keys' own checks or by what a module makes of it.
    fn refusal(file: &str, env: &HashMap<String, String>) -> String {
        match Config::from_sources("x.toml", file, env) {
            Ok(config) => Settings::from_config(&config).err().expect("should be refused").to_string(),
            Err(error) => error.to_string(),
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
        assert!(Settings::from_config(&config).unwrap().budget.cycle.is_some());
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
        assert!(Settings::from_config(&Config::from_sources("x", "", &with(&[])).unwrap()).is_ok());
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
    fn the_upstream_url_is_validated_at_start_up() {
        for bad in ["owpublic.blob.core.windows.net/tech-task", "ftp://up.test", "http://", "https://up.test/#x"] {
            let message = refusal("", &env(&[("UPSTREAM_BASE_URL", bad)]));
            assert!(message.starts_with(&format!("UPSTREAM_BASE_URL (`upstream_base_url`) = \"{bad}\"")), "{message}");
        }
    }

    #[test]
    fn a_short_session_secret_is_refused_and_never_shown() {
        let access = [
            ("AUTH_ISSUER", "https://login.example/realms/acme"),
            ("AUTH_CLIENT_ID", "dashboard"),
            ("AUTH_CLIENT_SECRET", "a-client-secret"),
            ("PUBLIC_URL", "https://usage.example/"),
            ("AUTH_ALLOWED_GROUPS", "billing"),
            ("UPSTREAM_BASE_URL", "https://up.example"),
        ];
        let with_secret = |secret| {
            let mut pairs = env(&access);
            pairs.insert("AUTH_SESSION_SECRET".into(), secret);
            pairs
        };
        let long = with_secret("a-session-secret-of-at-least-32-bytes!".into());
        assert!(Settings::from_config(&Config::from_sources("x.toml", "", &long).unwrap()).is_ok());
        let short = refusal("", &with_secret("short-secret".into()));
        assert!(short.starts_with("AUTH_SESSION_SECRET (`auth_session_secret`)"), "{short}");
        assert!(!short.contains("short-secret"), "{short}");
    }
}
