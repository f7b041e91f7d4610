//! The OpenID provider as this server knows it: its discovery document and its signing keys (JWKS), read at
//! start and refreshed in the background. A provider that goes away leaves what was last read: tokens and
//! sessions keep working, and only a sign-in, which needs the provider itself, answers 503.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

/// The largest discovery document or key set read: both are a few kilobytes.
const LARGEST_DOCUMENT: usize = 1024 * 1024;
/// How often the document and the keys are read again while the provider answers.
const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// A provider that did not answer is asked again after this, doubling up to `REFRESH_EVERY`.
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// A token signed by a key not in the set read makes the set be read again, but not more often than this: a
/// stream of forged key ids must not become a stream of requests to the provider.
pub const UNKNOWN_KEY_REFETCH: Duration = Duration::from_secs(60);
/// Before a person is sent to sign in, the provider is read again if it was not in the last seconds: a
/// provider that went away is a 503 page here, not a browser's connection error there.
const ANSWERS_CHECKED_FOR: Duration = Duration::from_secs(2);

/// What this server uses of the provider's discovery document.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RP-initiated logout, where the provider offers it.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// A signing key of the provider, for a token's `kid`.
pub enum KeyLookup {
    Found(Box<Jwk>),
    /// Not among the provider's keys, even after reading them again (or too soon to read them again).
    Unknown,
    /// The provider's keys were never read: it has not answered since this server started.
    NeverRead,
}

#[derive(Default)]
struct Known {
    metadata: Option<Arc<Metadata>>,
    keys: Option<Arc<JwkSet>>,
    /// Why the provider could not be read last, while it cannot.
    failing: Option<String>,
}

pub struct Provider {
    issuer: String,
    http: reqwest::Client,
    known: RwLock<Known>,
    /// When a token with an unknown key last made the keys be read again.
    unknown_key_refetch: tokio::sync::Mutex<Option<Instant>>,
    /// When the provider was last read before a sign-in, and whether it answered.
    last_answer: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl Provider {
    pub fn new(issuer: &str, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| format!("auth_issuer: {error}"))?;
        Ok(Provider {
            issuer: issuer.to_owned(),
            http,
            known: RwLock::new(Known::default()),
            unknown_key_refetch: tokio::sync::Mutex::new(None),
            last_answer: tokio::sync::Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The discovery document, once read.
    pub fn metadata(&self) -> Option<Arc<Metadata>> {
        self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner).metadata.clone()
    }

    /// Why the provider cannot be read, while it cannot.
    pub fn failing(&self) -> Option<String> {
        self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner).failing.clone()
    }

    /// Reads the discovery document and the keys, and keeps them; on failure keeps what was read before.
    pub async fn refresh(&self) -> Result<(), String> {
        let outcome = self.read_all().await;
        let mut known = self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            Ok((metadata, keys)) => {
                *known = Known { metadata: Some(Arc::new(metadata)), keys: Some(Arc::new(keys)), failing: None };
                Ok(())
            }
            Err(reason) => {
                if known.failing.is_none() {
                    tracing::warn!(issuer = %self.issuer, %reason, "OpenID provider unavailable: sign-in answers 503 until it answers; tokens and sessions keep working");
                }
                known.failing = Some(reason.clone());
                Err(reason)
            }
        }
    }

    async fn read_all(&self) -> Result<(Metadata, JwkSet), String> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let metadata: Metadata = self.get_json(&url).await?;
        // The document must be the issuer's own, exactly (OpenID Connect Discovery 1.0, §4.3).
        if metadata.issuer != self.issuer {
            return Err(format!("the discovery document names another issuer ({})", metadata.issuer));
        }
        for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri] {
            check_endpoint(endpoint)?;
        }
        let keys = self.read_keys(&metadata).await?;
        Ok((metadata, keys))
    }

    /// The provider's signing keys: a key this server cannot use (an encryption key, an algorithm it does not
    /// know) is left out rather than failing the set.
    async fn read_keys(&self, metadata: &Metadata) -> Result<JwkSet, String> {
        #[derive(Deserialize)]
        struct Published {
            keys: Vec<serde_json::Value>,
        }
        let published: Published = self.get_json(&metadata.jwks_uri).await?;
        let keys = published
            .keys
            .into_iter()
            .filter(|key| key.get("use").and_then(serde_json::Value::as_str) != Some("enc"))
            .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
            .collect();
        Ok(JwkSet { keys })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self.http.get(url).send().await.map_err(|error| format!("{url}: {}", error.without_url()))?;
        let bytes = read_limited(response, url).await?;
        serde_json::from_slice(&bytes).map_err(|error| format!("{url}: not the JSON expected ({error})"))
    }

    /// Whether the provider answers, for a sign-in about to send a person there: read again unless it was in the
    /// last seconds.
    pub async fn answers(&self) -> bool {
        let mut last = self.last_answer.lock().await;
        if let Some((at, answered)) = *last {
            if at.elapsed() < ANSWERS_CHECKED_FOR {
                return answered;
            }
        }
        let answered = self.refresh().await.is_ok();
        *last = Some((Instant::now(), answered));
        answered
    }

    /// The signing key named `kid` (or the only key, for a token that names none). A key not known makes the
    /// keys be read again, at most once a minute.
    pub async fn key(&self, kid: Option<&str>) -> KeyLookup {
        let found = |keys: &JwkSet| match kid {
            Some(kid) => keys.find(kid).cloned(),
            None if keys.keys.len() == 1 => keys.keys.first().cloned(),
            None => None,
        };
        let keys = self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner).keys.clone();
        let Some(keys) = keys else {
            return KeyLookup::NeverRead;
        };
        if let Some(key) = found(&keys) {
            return KeyLookup::Found(Box::new(key));
        }
        let Some(metadata) = self.metadata() else {
            return KeyLookup::Unknown;
        };
        {
            let mut last = self.unknown_key_refetch.lock().await;
            if last.is_some_and(|last| last.elapsed() < UNKNOWN_KEY_REFETCH) {
                return KeyLookup::Unknown;
            }
            *last = Some(Instant::now());
        }
        match self.read_keys(&metadata).await {
            Ok(fresh) => {
                let key = found(&fresh);
                self.known.write().unwrap_or_else(std::sync::PoisonError::into_inner).keys = Some(Arc::new(fresh));
                key.map_or(KeyLookup::Unknown, |key| KeyLookup::Found(Box::new(key)))
            }
            Err(reason) => {
                tracing::warn!(issuer = %self.issuer, %reason, "the provider's keys could not be read again");
                KeyLookup::Unknown
            }
        }
    }
}

/// Reads the provider at once, then keeps it read: every ten minutes while it answers, sooner while it does not.
/// Ends when the provider is dropped.
pub async fn keep_refreshed(provider: Weak<Provider>) {
    let mut retry = FIRST_RETRY;
    loop {
        let Some(strong) = provider.upgrade() else { return };
        let wait = match strong.refresh().await {
            Ok(()) => {
                retry = FIRST_RETRY;
                REFRESH_EVERY
            }
            Err(_) => {
                let wait = retry;
                retry = (retry * 2).min(REFRESH_EVERY);
                wait
            }
        };
        drop(strong);
        tokio::time::sleep(wait).await;
    }
}

/// A provider's answer, refused past `LARGEST_DOCUMENT` and unless it is a 200.
pub async fn read_limited(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, String> {
    if !response.status().is_success() {
        return Err(format!("{url}: answered {}", response.status()));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| format!("{url}: {}", error.without_url()))? {
        if bytes.len() + chunk.len() > LARGEST_DOCUMENT {
            return Err(format!("{url}: larger than {LARGEST_DOCUMENT} bytes"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// An endpoint the discovery document names: https (keys and the client's secret travel there), or http on
/// this machine only.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let url =
        reqwest::Url::parse(endpoint).map_err(|_| format!("the discovery document names a bad URL: {endpoint}"))?;
    let loopback = url.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(format!("the discovery document names an endpoint that is not https: {endpoint}")),
    }
}
