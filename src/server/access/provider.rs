//! The OpenID provider as this server knows it: its discovery document and its signing keys (JWKS), read at
//! start and refreshed in the background. A provider that goes away leaves what was last read: tokens and
//! sessions keep working, and only a sign-in, which needs the provider itself, answers 503.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// The largest discovery document or key set read: both are a few kilobytes.
const LARGEST_DOCUMENT: usize = 1024 * 1024;
/// How often the document and the keys are read again while the provider answers.
const REFRESH_EVERY: Duration = Duration::from_secs(600);
/// A provider that did not answer is asked again after this, doubling up to `REFRESH_EVERY`.
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// A token signed by a key not in the set read makes the set be read again: once per key id a minute, and at
/// most `REFETCHES_PER_MINUTE` times a minute in all, so that a stream of forged key ids is neither a stream of
/// requests to the provider nor a way to keep a real new key out (its own id has its own chance).
pub const UNKNOWN_KEY_REFETCH: Duration = Duration::from_secs(60);
const REFETCHES_PER_MINUTE: usize = 10;
/// What a sign-in knows of the provider is read again, in the background, once it is older than this: a
/// provider that went away is a 503 page here within seconds, not a browser's connection error there, and no
/// request ever waits on the provider (a flood of anonymous visits during an outage holds no request slot).
const ANSWERS_CHECKED_FOR: Duration = Duration::from_secs(2);

/// Why the provider could not be read: what failed, for the log and for why a sign-in answers 503.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl From<String> for Unreadable {
    fn from(reason: String) -> Self {
        Unreadable(reason)
    }
}

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
    /// Which unknown key ids made the keys be read again lately.
    refetches: Mutex<RefetchGate>,
    /// When the provider was last read (whether it answered or not).
    last_read: Mutex<Option<Instant>>,
    /// A read in the background is under way: one at a time.
    reading: AtomicBool,
}

/// When an unknown key id may make the keys be read again: once a minute per key id, and at most
/// `REFETCHES_PER_MINUTE` a minute in all.
#[derive(Debug, Default)]
pub struct RefetchGate {
    by_kid: HashMap<String, Instant>,
    recent: VecDeque<Instant>,
}

impl RefetchGate {
    /// Whether a token naming `kid` may make the keys be read again at `now`; if so, it is counted.
    pub fn allow(&mut self, kid: &str, now: Instant) -> bool {
        let fresh = |at: &Instant| now.saturating_duration_since(*at) < UNKNOWN_KEY_REFETCH;
        self.by_kid.retain(|_, at| fresh(at));
        while self.recent.front().is_some_and(|at| !fresh(at)) {
            self.recent.pop_front();
        }
        if self.by_kid.contains_key(kid) || self.recent.len() >= REFETCHES_PER_MINUTE {
            return false;
        }
        self.by_kid.insert(kid.to_owned(), now);
        self.recent.push_back(now);
        true
    }
}

impl Provider {
    pub fn new(issuer: &str, timeout: Duration) -> Self {
        // Only a TLS back end that cannot start fails here: not a configuration's fault.
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Provider {
            issuer: issuer.to_owned(),
            http,
            known: RwLock::new(Known::default()),
            refetches: Mutex::new(RefetchGate::default()),
            last_read: Mutex::new(None),
            reading: AtomicBool::new(false),
        }
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
    pub async fn refresh(&self) -> Result<(), Unreadable> {
        let outcome = self.read_all().await;
        *self.last_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
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
                known.failing = Some(reason.0.clone());
                Err(reason)
            }
        }
    }

    async fn read_all(&self) -> Result<(Metadata, JwkSet), Unreadable> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let metadata: Metadata = self.get_json(&url).await?;
        // The document must be the issuer's own, exactly (OpenID Connect Discovery 1.0, §4.3).
        if metadata.issuer != self.issuer {
            return Err(Unreadable::from(format!("the discovery document names another issuer ({})", metadata.issuer)));
        }
        // UserInfo receives the person's access token, and the end of session is where people are sent.
        let optional = [&metadata.userinfo_endpoint, &metadata.end_session_endpoint];
        let required = [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri];
        for endpoint in required.into_iter().chain(optional.into_iter().flatten()) {
            check_endpoint(endpoint)?;
        }
        let keys = self.read_keys(&metadata).await?;
        Ok((metadata, keys))
    }

    /// The provider's signing keys: a key this server cannot use (an encryption key, an algorithm it does not
    /// know) is left out rather than failing the set.
    async fn read_keys(&self, metadata: &Metadata) -> Result<JwkSet, Unreadable> {
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

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Unreadable> {
        let response = self.http.get(url).send().await.map_err(|error| format!("{url}: {}", error.without_url()))?;
        let bytes = read_limited(response, url).await?;
        serde_json::from_slice(&bytes).map_err(|error| Unreadable(format!("{url}: not the JSON expected ({error})")))
    }

    /// Whether a person can be sent to sign in, as the provider was last read: it answered, and its document is
    /// known. Never waits: what was read more than `ANSWERS_CHECKED_FOR` ago is read again in the background,
    /// one read at a time, for the next sign-in.
    pub fn answers(self: &Arc<Self>) -> bool {
        let stale = self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none_or(|at| at.elapsed() >= ANSWERS_CHECKED_FOR);
        if stale && !self.reading.swap(true, Ordering::AcqRel) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let provider = self.clone();
                runtime.spawn(async move {
                    let _ = provider.refresh().await;
                    provider.reading.store(false, Ordering::Release);
                });
            } else {
                self.reading.store(false, Ordering::Release);
            }
        }
        let known = self.known.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.metadata.is_some() && known.failing.is_none()
    }

    /// The signing key named `kid` (or the only key, for a token that names none). A key not known makes the
    /// keys be read again when `may_refetch` (a token that names this issuer) and the gate allows it.
    pub async fn key(&self, kid: Option<&str>, may_refetch: bool) -> KeyLookup {
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
        let allowed = may_refetch
            && self
                .refetches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .allow(kid.unwrap_or(""), Instant::now());
        if !allowed {
            return KeyLookup::Unknown;
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
pub async fn read_limited(mut response: reqwest::Response, url: &str) -> Result<Vec<u8>, Unreadable> {
    if !response.status().is_success() {
        return Err(Unreadable::from(format!("{url}: answered {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| format!("{url}: {}", error.without_url()))? {
        if bytes.len() + chunk.len() > LARGEST_DOCUMENT {
            return Err(Unreadable::from(format!("{url}: larger than {LARGEST_DOCUMENT} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// An endpoint the discovery document names: https (keys and the client's secret travel there), or http on
/// this machine only.
fn check_endpoint(endpoint: &str) -> Result<(), Unreadable> {
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
        _ => Err(Unreadable::from(format!("the discovery document names an endpoint that is not https: {endpoint}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_id_reads_the_keys_once_a_minute_and_all_of_them_at_most_ten_times() {
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        let mut gate = RefetchGate::default();
        assert!(gate.allow("forged", at(0)));
        assert!(!gate.allow("forged", at(1)), "the same id again within the minute");
        assert!(gate.allow("rotated", at(2)), "a forged id does not keep a real new one out");
        assert!(gate.allow("forged", at(61)), "a minute later");
        let mut flood = RefetchGate::default();
        let allowed = (0..50).filter(|n| flood.allow(&format!("forged-{n}"), at(0))).count();
        assert_eq!(allowed, REFETCHES_PER_MINUTE, "the ceiling across ids");
        assert!(!flood.allow("rotated", at(30)));
        assert!(flood.allow("rotated", at(60)), "the ceiling is a minute's");
    }

    #[test]
    fn every_endpoint_named_is_https_or_on_this_machine() {
        for good in ["https://login.example/userinfo", "http://127.0.0.1:8080/me", "http://localhost/end"] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for bad in ["http://login.example/userinfo", "ftp://login.example/x", "not a url", "https://"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }
}
