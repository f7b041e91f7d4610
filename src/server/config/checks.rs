//! The checks across keys that the configuration can make on its own: addresses, names and URLs of the right
//! shape, what access control needs, what alerts need, and no figure served on a public address without sign-in.
//! What other modules parse (the billing cycle, the upstream's URL, secrets) they check themselves, at start-up
//! (`startup::Settings`), with the same wording.

use super::keys::Config;
use super::urls::{check_database_url, check_origin, check_provider_url, check_shared_cache_url};
use super::KeyError;

impl Config {
    /// The first key whose value cannot be used with the others, with what was wrong when its declaration does
    /// not say it all.
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        if !self.shared_cache_namespace.bytes().all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
            || self.shared_cache_namespace.len() > 32
        {
            return Err(KeyError::new("shared_cache_namespace"));
        }
        self.budget()?;
        self.check_thresholds()?;
        self.check_metrics_addr()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(KeyError::new("log_format"));
        }
        self.check_alerts()?;
        if !self.database_url.is_empty() {
            check_database_url("database_url", &self.database_url)?;
        }
        if !self.shared_cache_url.is_empty() {
            check_shared_cache_url("shared_cache_url", &self.shared_cache_url)?;
        }
        self.check_access_control()?;
        let claim = &self.auth_organisation_claim;
        if claim.is_empty()
            || claim.len() > 64
            || !claim.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b':'))
        {
            return Err(KeyError::new("auth_organisation_claim"));
        }
        for origin in &self.cors_allowed_origins {
            check_origin("cors_allowed_origins", origin)?;
        }
        Ok(())
    }

    fn check_thresholds(&self) -> Result<(), KeyError> {
        let thresholds = &self.alert_thresholds;
        if thresholds.iter().any(|fraction| !(fraction.is_finite() && *fraction > 0.0 && *fraction <= 10.0)) {
            return Err(KeyError::new("alert_thresholds"));
        }
        let permille = self.alert_thresholds_permille();
        if thresholds.windows(2).any(|pair| pair[0] >= pair[1]) || permille.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(KeyError::because(
                "alert_thresholds",
                "in increasing order, each once (to a tenth of a percent)",
            ));
        }
        Ok(())
    }

    /// Alerts need a URL of the webhook, a ledger (the database) and a budget to measure against.
    fn check_alerts(&self) -> Result<(), KeyError> {
        if self.alert_webhook_url.is_empty() {
            return Ok(());
        }
        let url = reqwest::Url::parse(&self.alert_webhook_url).map_err(|_| KeyError::new("alert_webhook_url"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(KeyError::new("alert_webhook_url"));
        }
        if self.database_url.is_empty() {
            return Err(KeyError::because(
                "alert_webhook_url",
                "alerts need database_url: their ledger is the history store",
            ));
        }
        if self.credit_budget.trim().is_empty() {
            return Err(KeyError::because("alert_webhook_url", "alerts need credit_budget"));
        }
        Ok(())
    }

    /// `/metrics` tells the period's credits and messages: on an address that is not loopback, it needs a
    /// bearer token (access control on), or `metrics_allow_anonymous` to say that the network is trusted.
    fn check_metrics_addr(&self) -> Result<(), KeyError> {
        let Some(addr) = self.metrics_address() else {
            return match self.metrics_addr.is_empty() {
                true => Ok(()),
                false => Err(KeyError::new("metrics_addr")),
            };
        };
        if !addr.ip().is_loopback() && !self.access_controlled() && !self.metrics_allow_anonymous {
            return Err(KeyError::because(
                "metrics_allow_anonymous",
                format!(
                    "metrics_addr {addr} is not a loopback address and auth_issuer is empty: anyone who reaches it \
                     would read the period's credits; set auth_issuer (a scraper then sends a bearer token with the \
                     scope metrics:read), or metrics_allow_anonymous = true on a trusted network"
                ),
            ));
        }
        Ok(())
    }

    /// Access control is on with an issuer: then the client, the public URL, a rule and the real upstream are
    /// needed (the session secret is access's to check). Without one, only a loopback address serves everyone,
    /// unless `allow_anonymous` says a proxy in front authenticates.
    fn check_access_control(&self) -> Result<(), KeyError> {
        if !self.access_controlled() {
            if !self.site_addr.ip().is_loopback() && !self.allow_anonymous {
                return Err(KeyError::because(
                    "allow_anonymous",
                    format!(
                        "site_addr {} is not a loopback address and auth_issuer is empty: anyone who reaches it would \
                         read every figure; set auth_issuer, or allow_anonymous = true behind an authenticating proxy",
                        self.site_addr
                    ),
                ));
            }
            return Ok(());
        }
        check_provider_url("auth_issuer", &self.auth_issuer)?;
        if self.public_url.is_empty() {
            return Err(KeyError::because(
                "public_url",
                "auth_issuer needs public_url: the redirect URI is built from it",
            ));
        }
        check_provider_url("public_url", &self.public_url)?;
        // Cookies, redirects, links, assets and the server function are all at the root of the host.
        if reqwest::Url::parse(&self.public_url).is_ok_and(|url| url.path() != "/") {
            return Err(KeyError::because(
                "public_url",
                "the dashboard is served at the root of its host: a public_url with a path is not supported",
            ));
        }
        if self.uses_sample_upstream() {
            return Err(KeyError::because(
                "upstream_base_url",
                "access control needs the real upstream: the embedded sample upstream is served without sign-in",
            ));
        }
        if !self.auth_audience.is_empty() && self.auth_audience.trim() != self.auth_audience {
            return Err(KeyError::new("auth_audience"));
        }
        if self.auth_client_id.trim().is_empty() {
            return Err(KeyError::because("auth_client_id", "auth_issuer needs the dashboard's client id"));
        }
        if self.auth_client_secret.is_empty() {
            return Err(KeyError::because("auth_client_secret", "auth_issuer needs the dashboard's client secret"));
        }
        if !self.auth_scopes.split_whitespace().any(|scope| scope == "openid") {
            return Err(KeyError::because("auth_scopes", "sign-in needs the scope openid"));
        }
        for (key, list) in [
            ("auth_allowed_groups", &self.auth_allowed_groups),
            ("auth_allowed_domains", &self.auth_allowed_domains),
            ("auth_allowed_tenants", &self.auth_allowed_tenants),
        ] {
            if list.iter().any(|item| item.trim().is_empty()) {
                return Err(KeyError::new(key));
            }
        }
        let no_rule = self.auth_allowed_groups.is_empty()
            && self.auth_allowed_domains.is_empty()
            && self.auth_allowed_tenants.is_empty();
        if no_rule && !self.auth_allow_any_account {
            return Err(KeyError::because(
                "auth_allowed_groups",
                "access control needs a rule for who may read: auth_allowed_groups, auth_allowed_domains or \
                 auth_allowed_tenants, or auth_allow_any_account = true to admit every account the issuer signs in",
            ));
        }
        if self.auth_session_idle_secs > self.auth_session_max_secs {
            return Err(KeyError::because("auth_session_idle_secs", "not more than auth_session_max_secs"));
        }
        Ok(())
    }
}
