//! People's sessions, kept on the server so that signing out really ends them: in the shared Redis where the
//! replicas have one (`redis.rs`), else in the history store's database (`sql.rs`), else (one process, nothing
//! to share) in memory (`memory.rs`), each a [`SessionBackend`]. The cookie holds a random id and its MAC; the
//! store holds the session under a digest of the id (what the store holds cannot be replayed as a cookie),
//! encrypted and authenticated with `auth_session_secret` (`encryption.rs`: it carries the provider's tokens),
//! and every value read back is checked like any input: its seal, its size, its shape and its limits.
//!
//! A sign-in under way is no session: it lives in a cookie of its own, encrypted with the same secret, so that an
//! anonymous visit writes nothing on the server and any replica can finish the sign-in.

mod memory;
mod redis;
mod sql;

use super::admission::Facts;
use super::encryption::Encryption;
use crate::server::database::Database;
use crate::server::shared_cache::seal::SealingKeys;
use crate::server::shared_cache::SharedCache;
use futures::future::BoxFuture;
use rand::RngCore;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest session or sign-in state read back: a session with the provider's tokens is a few kilobytes.
const LARGEST_VALUE: usize = 32 * 1024;
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
    /// When the provider last confirmed that the person may read (at sign-in, then every `auth_recheck_secs`).
    pub checked_s: i64,
    /// What the provider gave to ask it again.
    pub grant: ProviderGrant,
    /// What the admission rule read then: a check by UserInfo may not say the tenant or hosted domain again.
    pub facts: Facts,
}

/// The provider's tokens of a session, to check the person again: never shown, kept only encrypted.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderGrant {
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    /// When the access token ends (seconds since the epoch); 0 when unknown.
    pub access_expires_s: i64,
}

impl std::fmt::Debug for ProviderGrant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let has = |token: &Option<String>| if token.is_some() { "(not shown)" } else { "none" };
        formatter
            .debug_struct("ProviderGrant")
            .field("refresh_token", &has(&self.refresh_token))
            .field("access_token", &has(&self.access_token))
            .field("access_expires_s", &self.access_expires_s)
            .finish()
    }
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

/// Why a session could not be read or kept.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionError {
    /// The store did not answer: a 503, never an open door.
    Unavailable(String),
    /// The store is full (memory only): a new sign-in is refused rather than a live session dropped.
    Full,
}

/// Where sessions are kept: values (already encrypted by [`SessionStore`]) under names, each until its end.
pub trait SessionBackend: Send + Sync {
    /// Where the sessions live, for the log at start.
    fn kind(&self) -> &'static str;
    /// Keeps `value` under `name` until `ends_s`; when `existing`, only over a value that is there.
    fn put<'a>(
        &'a self,
        name: &'a str,
        value: String,
        ends_s: i64,
        existing: bool,
    ) -> BoxFuture<'a, Result<(), SessionError>>;
    /// The value under `name`, unless it has ended.
    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>>;
    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>>;
}

pub struct SessionStore {
    backend: Box<dyn SessionBackend>,
    /// Signs the session cookie's id.
    macs: SealingKeys,
    encryption: Encryption,
}

/// Where to keep sessions: the shared cache, else the dashboard's database, else memory (at most
/// `memory_capacity`).
pub enum Keeping {
    Shared(Arc<SharedCache>),
    Database(Arc<Database>),
    Memory(usize),
}

impl Keeping {
    pub fn choose(shared: Option<Arc<SharedCache>>, db: Option<Arc<Database>>, memory_capacity: usize) -> Keeping {
        match (shared, db) {
            (Some(shared), _) => Keeping::Shared(shared),
            (None, Some(db)) => Keeping::Database(db),
            (None, None) => Keeping::Memory(memory_capacity),
        }
    }
}

impl SessionStore {
    pub fn new(keys: SealingKeys, keeping: Keeping) -> Self {
        let backend: Box<dyn SessionBackend> = match keeping {
            Keeping::Shared(shared) => Box::new(redis::RedisSessions::new(shared, LARGEST_VALUE)),
            Keeping::Database(db) => Box::new(sql::SqlSessions::new(db)),
            Keeping::Memory(capacity) => Box::new(memory::MemorySessions::new(capacity)),
        };
        SessionStore { backend, encryption: Encryption::new(&keys), macs: keys }
    }

    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// A new random id (256 bits) and the cookie that carries it, signed.
    pub fn new_id(&self) -> (String, String) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let cookie = format!("{id}.{}", self.macs.sign("cookie", id.as_bytes()));
        (id, cookie)
    }

    /// The id a cookie carries, if this server signed it.
    pub fn id_of_cookie<'a>(&self, cookie: &'a str) -> Option<&'a str> {
        let (id, mac) = cookie.split_once('.')?;
        (id.len() == 64 && self.macs.verifies("cookie", id.as_bytes(), mac)).then_some(id)
    }

    pub async fn put_session(&self, id: &str, session: &Session, ends_s: i64) -> Result<(), SessionError> {
        self.write(&name("session", id), session, ends_s, false).await
    }

    pub async fn session(&self, id: &str) -> Result<Option<Session>, SessionError> {
        let name = name("session", id);
        let read = self.backend.get(&name).await?;
        Ok(read.and_then(|read| self.opened(&name, &read)))
    }

    pub async fn end_session(&self, id: &str) -> Result<(), SessionError> {
        self.backend.delete(&name("session", id)).await
    }

    /// Writes a session again, only if it still exists: a sign-out on another replica between this replica's
    /// read and this write must stay a sign-out.
    pub async fn touch_session(&self, id: &str, session: &Session, ends_s: i64) -> Result<(), SessionError> {
        self.write(&name("session", id), session, ends_s, true).await
    }

    /// The sign-in's cookie: the sign-in, encrypted (the browser carries it; it can neither read nor change it).
    pub fn sign_in_cookie(&self, pending: &PendingSignIn) -> String {
        let json = serde_json::to_vec(pending).expect("a sign-in serialises");
        self.encryption.seal("sign-in", &json)
    }

    /// The sign-in a cookie carries, if this deployment sealed it and it is not older than `SIGN_IN_LIFETIME`.
    pub fn sign_in_of_cookie(&self, cookie: &str) -> Option<PendingSignIn> {
        if cookie.len() > LARGEST_VALUE {
            return None;
        }
        let json = self.encryption.open("sign-in", cookie)?;
        let pending: PendingSignIn = serde_json::from_slice(&json).ok()?;
        let age = now_s() - pending.started_s;
        (0..=SIGN_IN_LIFETIME.as_secs() as i64).contains(&age).then_some(pending)
    }

    async fn write<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        ends_s: i64,
        existing: bool,
    ) -> Result<(), SessionError> {
        let json = serde_json::to_vec(value).expect("a session serialises");
        self.backend.put(name, self.encryption.seal(name, &json), ends_s, existing).await
    }

    /// A value read back, if it is one this deployment sealed under `name` and has the shape expected.
    fn opened<T: DeserializeOwned>(&self, name: &str, read: &str) -> Option<T> {
        if read.len() > LARGEST_VALUE {
            tracing::warn!(bytes = read.len(), "a session is larger than any this server writes: ignored");
            return None;
        }
        let Some(json) = self.encryption.open(name, read) else {
            tracing::warn!("a session not sealed by this deployment (or under another name): ignored");
            return None;
        };
        serde_json::from_slice(&json)
            .inspect_err(|error| tracing::warn!(%error, "a sealed session has an unknown shape: ignored"))
            .ok()
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

    const SECRET: &str = "a-session-secret-of-at-least-32-bytes!!";

    fn store() -> SessionStore {
        SessionStore::new(SealingKeys::parse(SECRET).unwrap(), Keeping::Memory(100))
    }

    pub fn session(subject: &str) -> Session {
        Session {
            subject: subject.into(),
            shown_name: format!("{subject}@x"),
            started_s: 1,
            last_used_s: 1,
            checked_s: 1,
            grant: ProviderGrant::default(),
            facts: Facts::default(),
        }
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
            Keeping::Memory(1),
        );
        assert_eq!(other.id_of_cookie(&cookie), None);
    }

    #[tokio::test]
    async fn a_session_ends_when_ended_and_is_not_brought_back_by_a_late_touch() {
        let store = store();
        let alice = session("alice");
        store.put_session("id", &alice, now_s() + 60).await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), Some(alice.clone()));
        store.end_session("id").await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), None);
        store.touch_session("id", &alice, now_s() + 60).await.unwrap();
        assert_eq!(store.session("id").await.unwrap(), None, "a sign-out stays a sign-out");
    }

    #[test]
    fn a_sign_in_cookie_is_unreadable_and_opens_only_unaltered_under_this_secret_and_while_young() {
        let store = store();
        let pending = PendingSignIn {
            state: "s".into(),
            started_s: now_s(),
            nonce: "n".into(),
            verifier: "the-pkce-verifier".into(),
            return_to: "/?tz=UTC".into(),
        };
        let cookie = store.sign_in_cookie(&pending);
        assert_eq!(store.sign_in_of_cookie(&cookie), Some(pending.clone()));
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cookie).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("the-pkce-verifier"), "encrypted, not only signed");
        let altered = format!("{}{}", &cookie[..cookie.len() - 2], if cookie.ends_with("AA") { "BB" } else { "AA" });
        assert_eq!(store.sign_in_of_cookie(&altered), None);
        let old = PendingSignIn { started_s: now_s() - 3600, ..pending };
        assert_eq!(store.sign_in_of_cookie(&store.sign_in_cookie(&old)), None);
    }

    #[tokio::test]
    async fn a_value_sealed_under_another_name_is_not_a_session() {
        let store = store();
        store.put_session("one", &session("alice"), now_s() + 60).await.unwrap();
        let moved = store.backend.get(&name("session", "one")).await.unwrap().unwrap();
        store.backend.put(&name("session", "two"), moved, now_s() + 60, false).await.unwrap();
        assert_eq!(store.session("two").await.unwrap(), None);
    }

    #[test]
    fn the_providers_tokens_are_never_shown() {
        let grant = ProviderGrant {
            refresh_token: Some("rt-secret".into()),
            access_token: Some("at-secret".into()),
            access_expires_s: 5,
        };
        let shown = format!("{:?}", Session { grant, ..session("alice") });
        assert!(!shown.contains("rt-secret") && !shown.contains("at-secret"), "{shown}");
    }

    #[test]
    fn limits_end_a_session_at_its_idle_or_its_absolute_end() {
        let limits = Limits { idle: Duration::from_secs(100), max: Duration::from_secs(1000) };
        let fresh = Session { started_s: 0, last_used_s: 0, ..session("s") };
        assert_eq!(limits.ends_s(&fresh), 100);
        let late = Session { last_used_s: 950, ..fresh.clone() };
        assert_eq!(limits.ends_s(&late), 1000);
        assert!(!limits.worth_touching(&fresh, 5));
        assert!(limits.worth_touching(&fresh, 10));
    }
}
