//! People's sessions, kept on the server so that signing out really ends them: in the shared Redis where the
//! replicas have one, else in the history store, else (one process, nothing to share) in memory. The cookie
//! holds a random id and its MAC; the store holds the session under a digest of the id (what the store holds
//! cannot be replayed as a cookie), sealed with `auth_session_secret`, and every value read back is checked
//! like any input: its seal, its size, its shape and its limits.
//!
//! A sign-in under way is no session: it lives in a cookie of its own, sealed with the same secret, so that an
//! anonymous visit writes nothing on the server and any replica can finish the sign-in.

use crate::server::history::History;
use crate::server::shared_cache::seal::{SealingKeys, Unsealed};
use crate::server::shared_cache::{Bounded, SharedCache};
use rand::RngCore;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest session or sign-in state read back: a few hundred bytes each.
const LARGEST_VALUE: usize = 16 * 1024;
/// How long a sign-in may take at the provider.
pub const SIGN_IN_LIFETIME: Duration = Duration::from_secs(600);

/// A person signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub subject: String,
    /// What the page shows: the email, a name or the subject.
    pub shown_name: String,
    /// Seconds since the Unix epoch.
    pub started_s: i64,
    pub last_used_s: i64,
}

/// A sign-in under way: what the callback must find again, in the browser that started it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub state: String,
    pub started_s: i64,
    pub nonce: String,
    pub verifier: String,
    /// The path and query first asked for, on this server.
    pub return_to: String,
}

/// A session's lifetime: unused for `idle` or older than `max`, it has ended.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub idle: Duration,
    pub max: Duration,
}

impl Limits {
    /// When `session` ends, unless it is used again (seconds since the epoch).
    pub fn ends_s(&self, session: &Session) -> i64 {
        let idle = session.last_used_s.saturating_add(self.idle.as_secs() as i64);
        idle.min(session.started_s.saturating_add(self.max.as_secs() as i64))
    }

    /// Whether a session used at `now_s` should be written again: its idle end moves on only every tenth of the
    /// idle limit, so that a page view is a read, not a write.
    pub fn worth_touching(&self, session: &Session, now_s: i64) -> bool {
        now_s - session.last_used_s >= (self.idle.as_secs() as i64 / 10).max(1)
    }
}

enum Backend {
    Memory(moka::sync::Cache<String, (Vec<u8>, i64)>),
    Store(Arc<History>, Duration),
    Redis(Arc<SharedCache>),
}

pub struct SessionStore {
    backend: Backend,
    keys: SealingKeys,
}

/// Why a session could not be read or kept: the store did not answer (a 503, never an open door).
#[derive(Debug)]
pub struct StoreUnavailable(pub String);

impl SessionStore {
    pub fn new(
        keys: SealingKeys,
        shared: Option<Arc<SharedCache>>,
        history: Option<Arc<History>>,
        timeout: Duration,
    ) -> Self {
        let backend = match (shared, history) {
            (Some(shared), _) => Backend::Redis(shared),
            (None, Some(history)) => Backend::Store(history, timeout),
            (None, None) => Backend::Memory(moka::sync::Cache::builder().max_capacity(100_000).build()),
        };
        SessionStore { backend, keys }
    }

    /// Where the sessions live, for the log at start.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory (this process only)",
            Backend::Store(..) => "the history store",
            Backend::Redis(_) => "the shared cache",
        }
    }

    /// A new random id (256 bits) and the cookie that carries it, signed.
    pub fn new_id(&self) -> (String, String) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let cookie = format!("{id}.{}", self.keys.sign("cookie", id.as_bytes()));
        (id, cookie)
    }

    /// The id a cookie carries, if this server signed it.
    pub fn id_of_cookie<'a>(&self, cookie: &'a str) -> Option<&'a str> {
        let (id, mac) = cookie.split_once('.')?;
        (id.len() == 64 && self.keys.verifies("cookie", id.as_bytes(), mac)).then_some(id)
    }

    pub async fn put_session(&self, id: &str, session: &Session, ends_s: i64) -> Result<(), StoreUnavailable> {
        self.put(&name("session", id), session, ends_s).await
    }

    pub async fn session(&self, id: &str) -> Result<Option<Session>, StoreUnavailable> {
        self.get(&name("session", id)).await
    }

    pub async fn end_session(&self, id: &str) -> Result<(), StoreUnavailable> {
        self.delete(&name("session", id)).await
    }

    /// The sign-in's cookie: the sign-in, sealed (the browser carries it; it cannot change it).
    pub fn sign_in_cookie(&self, pending: &PendingSignIn) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(pending).expect("a sign-in serialises");
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let mac = self.keys.sign("sign-in", text.as_bytes());
        format!("{text}.{mac}")
    }

    /// The sign-in a cookie carries, if this deployment sealed it and it is not older than `SIGN_IN_LIFETIME`.
    pub fn sign_in_of_cookie(&self, cookie: &str) -> Option<PendingSignIn> {
        use base64::Engine;
        let (text, mac) = cookie.split_once('.')?;
        if text.len() > LARGEST_VALUE || !self.keys.verifies("sign-in", text.as_bytes(), mac) {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
        let pending: PendingSignIn = serde_json::from_slice(&json).ok()?;
        let age = now_s() - pending.started_s;
        (0..=SIGN_IN_LIFETIME.as_secs() as i64).contains(&age).then_some(pending)
    }

    /// Moves a session's idle end on, only if it still exists: a sign-out on another replica between this
    /// replica's read and this write must stay a sign-out.
    pub async fn touch_session(&self, id: &str, session: &Session, ends_s: i64) -> Result<(), StoreUnavailable> {
        self.put_existing(&name("session", id), session, ends_s).await
    }

    async fn put<T: Serialize>(&self, name: &str, value: &T, ends_s: i64) -> Result<(), StoreUnavailable> {
        self.write(name, value, ends_s, false).await
    }

    async fn put_existing<T: Serialize>(&self, name: &str, value: &T, ends_s: i64) -> Result<(), StoreUnavailable> {
        self.write(name, value, ends_s, true).await
    }

    /// Writes `value` under `name` until `ends_s`; when `existing`, only over a value that is there.
    async fn write<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        ends_s: i64,
        existing: bool,
    ) -> Result<(), StoreUnavailable> {
        let json = serde_json::to_vec(value).expect("a session serialises");
        let sealed = self.keys.seal(name, &json);
        let lives = Duration::from_secs(ends_s.saturating_sub(now_s()).max(1) as u64);
        match &self.backend {
            Backend::Memory(cache) => {
                if !existing {
                    cache.insert(name.to_owned(), (sealed, ends_s));
                    return Ok(());
                }
                cache.entry(name.to_owned()).and_compute_with(|entry| match entry {
                    Some(_) => moka::ops::compute::Op::Put((sealed, ends_s)),
                    None => moka::ops::compute::Op::Nop,
                });
                Ok(())
            }
            Backend::Store(history, timeout) => {
                let sealed = String::from_utf8(sealed).expect("a sealed JSON value is UTF-8");
                store_call(*timeout, async {
                    history.ensure_schema().await.map_err(|error| error.to_string())?;
                    let store = history.store();
                    let written = match existing {
                        true => store.update_session(name, &sealed, ends_s * 1000).await,
                        false => {
                            // Sessions that ended are removed as new ones start.
                            store.delete_expired_sessions(now_s() * 1000).await.map_err(|error| error.to_string())?;
                            store.put_session(name, &sealed, ends_s * 1000).await
                        }
                    };
                    written.map_err(|error| error.to_string())
                })
                .await
            }
            Backend::Redis(shared) => shared
                .put_session(name, sealed, lives, existing)
                .await
                .ok_or_else(|| StoreUnavailable("the shared cache did not answer".into())),
        }
    }

    async fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreUnavailable> {
        let read: Option<Vec<u8>> = match &self.backend {
            Backend::Memory(cache) => cache.get(name).filter(|(_, ends_s)| *ends_s > now_s()).map(|(value, _)| value),
            Backend::Store(history, timeout) => {
                store_call(*timeout, async {
                    history.ensure_schema().await.map_err(|error| error.to_string())?;
                    let found = history.store().get_session(name, now_s() * 1000).await;
                    found.map(|value| value.map(String::into_bytes)).map_err(|error| error.to_string())
                })
                .await?
            }
            Backend::Redis(shared) => match shared.get_session(name, LARGEST_VALUE).await {
                None => return Err(StoreUnavailable("the shared cache did not answer".into())),
                Some(None) => None,
                Some(Some(Bounded::Value(bytes))) => Some(bytes.to_vec()),
                Some(Some(other)) => {
                    let reason = other.into_value().err().unwrap_or_default();
                    tracing::warn!(%reason, "a session in the shared cache is not one: ignored");
                    None
                }
            },
        };
        Ok(read.and_then(|read| self.opened(name, &read)))
    }

    /// A value read back, if it is one this deployment sealed under `name` and has the shape expected.
    fn opened<T: DeserializeOwned>(&self, name: &str, read: &[u8]) -> Option<T> {
        if read.len() > LARGEST_VALUE {
            tracing::warn!(bytes = read.len(), "a session is larger than any this server writes: ignored");
            return None;
        }
        match self.keys.unseal(name, read) {
            Unsealed::Value(json) => serde_json::from_slice(json)
                .inspect_err(|error| tracing::warn!(%error, "a sealed session has an unknown shape: ignored"))
                .ok(),
            Unsealed::Unauthenticated(why) => {
                tracing::warn!(reason = why, "a session not sealed by this deployment: ignored");
                None
            }
        }
    }

    async fn delete(&self, name: &str) -> Result<(), StoreUnavailable> {
        match &self.backend {
            Backend::Memory(cache) => {
                cache.invalidate(name);
                Ok(())
            }
            Backend::Store(history, timeout) => {
                store_call(*timeout, async {
                    history.ensure_schema().await.map_err(|error| error.to_string())?;
                    history.store().delete_session(name).await.map_err(|error| error.to_string())
                })
                .await
            }
            Backend::Redis(shared) => shared
                .delete_session(name)
                .await
                .ok_or_else(|| StoreUnavailable("the shared cache did not answer".into())),
        }
    }
}

async fn store_call<T>(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, StoreUnavailable> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(reason)) => Err(StoreUnavailable(format!("the history store failed: {reason}"))),
        Err(_) => Err(StoreUnavailable("the history store did not answer in time".into())),
    }
}

/// The stored name of a session id: a digest, so that what the store holds is no cookie.
fn name(kind: &str, id: &str) -> String {
    format!("{kind}:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

pub fn now_s() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64)
}

/// A random value for `state`, `nonce` and the PKCE verifier: 256 bits, URL-safe.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> SessionStore {
        let keys = SealingKeys::parse("a-session-secret-of-at-least-32-bytes!!").unwrap();
        SessionStore::new(keys, None, None, Duration::from_secs(1))
    }

    #[test]
    fn a_cookie_carries_its_id_only_when_this_server_signed_it() {
        let store = store();
        let (id, cookie) = store.new_id();
        assert_eq!(store.id_of_cookie(&cookie), Some(id.as_str()));
        let forged = format!("{}.{}", "0".repeat(64), cookie.split_once('.').unwrap().1);
        assert_eq!(store.id_of_cookie(&forged), None);
        assert_eq!(store.id_of_cookie(&id), None);
        let other = SessionStore::new(
            SealingKeys::parse("another-session-secret-of-32-bytes-or-more").unwrap(),
            None,
            None,
            Duration::from_secs(1),
        );
        assert_eq!(other.id_of_cookie(&cookie), None);
    }

    #[tokio::test]
    async fn a_session_ends_when_ended_and_is_not_brought_back_by_a_late_touch() {
        let store = store();
        let session = Session { subject: "alice".into(), shown_name: "alice@x".into(), started_s: 1, last_used_s: 1 };
        store.put_session("id", &session, now_s() + 60).await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), Some(session.clone()));
        store.end_session("id").await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), None);
        store.touch_session("id", &session, now_s() + 60).await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), None, "a sign-out stays a sign-out");
    }

    #[test]
    fn a_sign_in_cookie_opens_only_unaltered_under_this_secret_and_while_young() {
        let store = store();
        let pending = PendingSignIn {
            state: "s".into(),
            started_s: now_s(),
            nonce: "n".into(),
            verifier: "v".into(),
            return_to: "/?tz=UTC".into(),
        };
        let cookie = store.sign_in_cookie(&pending);
        assert_eq!(store.sign_in_of_cookie(&cookie), Some(pending.clone()));
        let (text, mac) = cookie.split_once('.').unwrap();
        let altered = format!("{}A.{mac}", &text[..text.len() - 1]);
        assert_eq!(store.sign_in_of_cookie(&altered), None);
        let old = PendingSignIn { started_s: now_s() - 3600, ..pending };
        assert_eq!(store.sign_in_of_cookie(&store.sign_in_cookie(&old)), None);
    }

    #[tokio::test]
    async fn a_value_sealed_under_another_name_is_not_a_session() {
        let store = store();
        let session = Session { subject: "alice".into(), shown_name: "a".into(), started_s: 1, last_used_s: 1 };
        store.put_session("one", &session, now_s() + 60).await.unwrap();
        let Backend::Memory(cache) = &store.backend else { unreachable!() };
        let moved = cache.get(&name("session", "one")).unwrap();
        cache.insert(name("session", "two"), moved);
        assert_eq!(store.session("two").await.unwrap(), None);
    }

    #[test]
    fn limits_end_a_session_at_its_idle_or_its_absolute_end() {
        let limits = Limits { idle: Duration::from_secs(100), max: Duration::from_secs(1000) };
        let fresh = Session { subject: "s".into(), shown_name: "s".into(), started_s: 0, last_used_s: 0 };
        assert_eq!(limits.ends_s(&fresh), 100);
        let late = Session { last_used_s: 950, ..fresh.clone() };
        assert_eq!(limits.ends_s(&late), 1000);
        assert!(!limits.worth_touching(&fresh, 5));
        assert!(limits.worth_touching(&fresh, 10));
    }
}
