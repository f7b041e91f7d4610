//! The upstream in force, as the configuration names it: its addresses (the embedded sample on this server when
//! `upstream_base_url` is empty), its identity, and how it is called.

use super::client::{Authorization, CallSlots, ClientSettings};
use super::retry::RetryPolicy;
use super::sample::MOUNT_PATH;
use super::urls::UpstreamUrls;
use crate::server::config::{Config, KeyError};
use crate::server::org_id::OrgId;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    pub client: ClientSettings,
    /// Which upstream this is, the same on every replica and across restarts, without its secrets: the first
    /// 16 hexadecimal digits of the SHA-256 of its messages URL (of "the embedded sample" for the sample, which
    /// each replica serves on its own address). The shared cache's keys and the history store's rows carry it.
    pub identity: String,
}

impl UpstreamSettings {
    pub fn from_config(config: &Config) -> Result<Self, KeyError> {
        let urls = match config.uses_sample_upstream() {
            true => {
                let mut local = config.site_addr;
                if local.ip().is_unspecified() {
                    local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                UpstreamUrls::parse(&format!("http://{local}{MOUNT_PATH}")).expect("a loopback URL")
            }
            false => UpstreamUrls::parse(&config.upstream_base_url)
                .map_err(|reason| KeyError::because("upstream_base_url", reason.to_string()))?,
        };
        let name = match config.uses_sample_upstream() {
            true => "the embedded sample".to_owned(),
            false => urls.messages().to_string(),
        };
        let identity = identity_of(&name);
        let retry = RetryPolicy {
            retries: config.upstream_retries,
            base: Duration::from_millis(config.upstream_retry_base_ms),
        };
        let client = ClientSettings {
            urls,
            timeout: config.upstream_timeout(),
            retry,
            max_body_bytes: config.upstream_max_body_bytes,
            authorization: None,
            in_flight: CallSlots::new(config.upstream_concurrency),
        };
        Ok(UpstreamSettings { client, identity })
    }

    /// An organisation's upstream: its configuration's, with the header it sends, and an identity of its own
    /// even when another organisation names the same URL (the keys and rows it marks are then its own).
    pub fn for_organisation(
        config: &Config,
        organisation: &OrgId,
        authorization: Option<&str>,
    ) -> Result<Self, KeyError> {
        let mut settings = UpstreamSettings::from_config(config)?;
        settings.client.authorization = match authorization {
            None => None,
            Some(value) => Some(Authorization::new(value).ok_or_else(|| {
                KeyError::because("upstream_base_url", "upstream_authorization cannot be sent as a header's value")
            })?),
        };
        settings.identity = identity_of(&format!("organisation {organisation}\n{}", settings.client.urls.messages()));
        Ok(settings)
    }

    /// The longest a usage computation can spend on the upstream: see [`RetryPolicy::worst_case`].
    pub fn worst_case(&self) -> Duration {
        self.client.retry.worst_case(self.client.timeout)
    }
}

/// The first 16 hexadecimal digits of the SHA-256 of `name`.
fn identity_of(name: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(name.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_upstream_means_the_embedded_sample_on_this_server() {
        let config = Config { site_addr: "0.0.0.0:4000".parse().unwrap(), ..Config::default() };
        let settings = UpstreamSettings::from_config(&config).unwrap();
        assert_eq!(
            settings.client.urls.messages().as_str(),
            "http://127.0.0.1:4000/sample-upstream/messages/current-period"
        );
        let config = Config { upstream_base_url: "https://up.test".into(), ..Config::default() };
        let settings = UpstreamSettings::from_config(&config).unwrap();
        assert_eq!(settings.client.urls.report(1).as_str(), "https://up.test/reports/1");
        assert_ne!(settings.identity, UpstreamSettings::from_config(&Config::default()).unwrap().identity);
    }

    #[test]
    fn the_default_deadline_leaves_room_for_every_retry() {
        let config = Config::default();
        let worst = UpstreamSettings::from_config(&config).unwrap().worst_case();
        assert!(worst <= config.usage_deadline(), "{worst:?}");
        // The old defaults (5 s calls, a 15 s deadline) did not: the third attempt was always cut off.
        let old = Config { upstream_timeout_ms: 5_000, usage_deadline_ms: 15_000, ..Config::default() };
        assert!(UpstreamSettings::from_config(&old).unwrap().worst_case() > old.usage_deadline());
    }
}
