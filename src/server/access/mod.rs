//! Who may read the figures, with the organisation's OpenID provider: people sign in (the authorization code
//! flow with PKCE, `state` and `nonce`) and get a session kept on the server, checked again at the provider every
//! `auth_recheck_secs`; services send a bearer access token the provider issued for this dashboard's audience with
//! the scope `usage:read` (and scrapers `metrics:read`). Off (`auth_issuer` empty), the server serves everyone,
//! which the configuration allows only on a loopback address or with `allow_anonymous`.

pub mod admission;
pub mod encryption;
pub mod grants;
pub mod provider;
pub mod recheck;
pub mod sessions;
pub mod tokens;
pub mod way_back;

use crate::server::config::{Config, KeyError};
use crate::server::database::Database;
use crate::server::shared_cache::seal::SealingKeys;
use crate::server::shared_cache::SharedCache;
use admission::Admission;
use base64::Engine;
use grants::{CallError, Client};
use provider::Provider;
use recheck::Checked;
use sessions::{now_s, random_token, Keeping, Limits, PendingSignIn, Session, SessionError, SessionStore};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokens::{groups_of, ServiceToken, TokenError};
pub use way_back::{provider_refusal, return_path, safe_return_path, LONGEST_RETURN};

/// Where the provider sends a person back, under `public_url`.
pub const CALLBACK_PATH: &str = "/auth/callback";
pub const SIGNED_OUT_PATH: &str = "/auth/signed-out";
/// The provider's calls (discovery, keys, token, UserInfo) each take at most this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);
/// After a check again could not ask the provider, the next one waits this long: an outage is not a wait on
/// every request.
const RECHECK_PAUSE: Duration = Duration::from_secs(60);
/// A check again found is reused this long: the page and the table's calls of one person ask once.
const RECHECK_SHARED_FOR: Duration = Duration::from_secs(10);

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A person signed in.
    Person(Box<Session>),
    /// A service with a bearer token.
    Service(ServiceToken),
}

impl Caller {
    /// The subject the audit log names: the person's `sub`, or the service's client id.
    pub fn subject(&self) -> &str {
        match self {
            Caller::Person(session) => &session.subject,
            Caller::Service(token) => &token.subject,
        }
    }

    /// The organisations the caller's organisation claim names.
    pub fn organisations(&self) -> &[String] {
        match self {
            Caller::Person(session) => &session.facts.organisations,
            Caller::Service(token) => &token.organisations,
        }
    }

    /// The groups the caller carries (a person's; a service's token has none that count).
    pub fn groups(&self) -> &[String] {
        match self {
            Caller::Person(session) => &session.facts.groups,
            Caller::Service(_) => &[],
        }
    }
}

/// Why a request is not served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials: people are sent to sign in, APIs answer 401.
    SignInNeeded,
    /// Credentials that are not valid (a token, or a sign-in that failed): 401, `invalid_token` for a token.
    Invalid(String),
    /// Valid credentials without the right (a scope, another origin): 403.
    Forbidden(String),
    /// A person the provider signed in whom the rule does not admit: 403.
    NotAdmitted { subject: String },
    /// The provider (for a sign-in) or the session store cannot be reached: 503.
    Unavailable(String),
    /// The sessions kept in memory are at their bound: a new sign-in waits for one to end (503).
    SessionsFull,
}

impl From<SessionError> for Refusal {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Unavailable(reason) => Refusal::Unavailable(reason),
            SessionError::Full => Refusal::SessionsFull,
        }
    }
}

/// Where to send a person to sign in, with the cookie that carries the sign-in (encrypted) in their browser.
pub struct SignInStart {
    pub location: String,
    pub cookie: String,
}

/// A sign-in that succeeded: the session's cookie value, and the path to return to.
pub struct SignedIn {
    pub cookie: String,
    pub return_to: String,
    pub subject: String,
}

/// What a callback came to, and whether it was the sign-in this browser's cookie carries (then that sign-in is
/// used up, whatever happened; another callback leaves it for its own).
pub struct Callback {
    pub outcome: Result<SignedIn, Refusal>,
    pub used_sign_in: bool,
}

pub struct AccessControl {
    provider: Arc<Provider>,
    sessions: SessionStore,
    limits: Limits,
    client_id: String,
    client_secret: String,
    scopes: String,
    public_url: String,
    audience: String,
    admission: Admission,
    /// The claim that names a caller's organisations (`auth_organisation_claim`).
    organisation_claim: String,
    recheck_every: Duration,
    /// Until when checks again are not tried (the provider could not be asked).
    rechecks_paused_until: Mutex<Option<Instant>>,
    /// Checks again under way or just done, by session: concurrent requests of one person share one.
    rechecks: moka::future::Cache<String, Checked>,
}

impl AccessControl {
    /// The secrets that sign and seal sessions, when `config` turns access control on (`None` without an
    /// issuer): what only access control checks of the configuration.
    pub fn session_keys(config: &Config) -> Result<Option<SealingKeys>, KeyError> {
        if !config.access_controlled() {
            return Ok(None);
        }
        let keys = SealingKeys::parse(&config.auth_session_secret)
            .map_err(|reason| KeyError::because("auth_session_secret", reason.to_string()))?;
        Ok(Some(keys))
    }

    /// The access control `config` asks for, its sessions sealed with `keys`, kept where the replicas share them.
    /// Reads the provider in the background (within a Tokio runtime).
    pub fn new(
        config: &Config,
        keys: SealingKeys,
        shared: Option<Arc<SharedCache>>,
        db: Option<Arc<Database>>,
    ) -> Arc<AccessControl> {
        let provider = Arc::new(Provider::new(config.auth_issuer.trim(), PROVIDER_TIMEOUT));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(provider::keep_refreshed(Arc::downgrade(&provider)));
        }
        let keeping = Keeping::choose(shared, db, config.auth_memory_sessions as usize);
        let sessions = SessionStore::new(keys, keeping);
        tracing::info!(issuer = config.auth_issuer.trim(), sessions = sessions.kind(), "access control on");
        Arc::new(AccessControl {
            provider,
            sessions,
            limits: Limits {
                idle: Duration::from_secs(config.auth_session_idle_secs),
                max: Duration::from_secs(config.auth_session_max_secs),
            },
            client_id: config.auth_client_id.trim().to_owned(),
            client_secret: config.auth_client_secret.clone(),
            scopes: config.auth_scopes.split_whitespace().collect::<Vec<_>>().join(" "),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            audience: config.bearer_audience().to_owned(),
            organisation_claim: config.auth_organisation_claim.clone(),
            admission: Admission::new(
                config.auth_allow_any_account,
                &config.auth_allowed_groups,
                &config.auth_allowed_domains,
                &config.auth_allowed_tenants,
            ),
            recheck_every: Duration::from_secs(config.auth_recheck_secs),
            rechecks_paused_until: Mutex::new(None),
            // Never longer than the interval itself: a check is shared, not stretched.
            rechecks: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(RECHECK_SHARED_FOR.min(Duration::from_secs(config.auth_recheck_secs)))
                .build(),
        })
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Cookies are `Secure` when the dashboard is served over https, and then named `__Host-…`: a browser keeps
    /// such a cookie only from this very host, over https, for the whole site, so a sibling subdomain cannot
    /// plant one (a login CSRF into its own session).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The session's cookie.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-dashboard_session"
        } else {
            "dashboard_session"
        }
    }

    /// The cookie that ties a sign-in's `state` to the browser that started it, and its path: only the callback
    /// reads it, but a `__Host-` cookie is the whole site's.
    pub fn sign_in_cookie(&self) -> (&'static str, &'static str) {
        if self.secure_cookies() {
            ("__Host-dashboard_sign_in", "/")
        } else {
            ("dashboard_sign_in", CALLBACK_PATH)
        }
    }

    /// The dashboard's origin, as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        reqwest::Url::parse(&self.public_url).map(|url| url.origin().ascii_serialization()).unwrap_or_default()
    }

    /// The provider's origin, where the sign-out form is sent on to (the page's form-action allows it).
    pub fn provider_origin(&self) -> Option<String> {
        let endpoint = self.provider.metadata()?.end_session_endpoint.clone()?;
        reqwest::Url::parse(&endpoint).ok().map(|url| url.origin().ascii_serialization())
    }

    /// The lifetime of a session cookie: the absolute limit (the store ends it sooner when idle).
    pub fn session_max(&self) -> Duration {
        self.limits.max
    }

    fn client(&self) -> Client<'_> {
        Client { provider: &self.provider, id: &self.client_id, secret: &self.client_secret }
    }

    /// The session a cookie names, if it is valid, has not ended and the person is still allowed; used, its idle
    /// end moves on.
    pub async fn person(&self, cookie: Option<&str>) -> Result<Option<Caller>, Refusal> {
        let Some(session_id) = cookie.and_then(|cookie| self.sessions.id_of_cookie(cookie)) else {
            return Ok(None);
        };
        let Some(mut session) = self.sessions.session(session_id).await? else { return Ok(None) };
        let now = now_s();
        if self.limits.ends_s(&session) <= now || session.started_s > now + 60 {
            return Ok(None);
        }
        let mut write = self.limits.worth_touching(&session, now);
        if self.recheck_due(&session, now) {
            let client = self.client();
            let check = recheck::check_again(&client, &self.admission, &session);
            match self.rechecks.get_with(session_id.to_owned(), check).await {
                Checked::Allowed(checked) => {
                    session = *checked;
                    write = true;
                }
                Checked::NoLonger(reason) => {
                    tracing::warn!(target: "audit", event = "session_ended", subject = session.subject, reason, "the provider no longer allows the person: session ended");
                    self.sessions.end_session(session_id).await?;
                    return Ok(None);
                }
                Checked::Unavailable(reason) => {
                    tracing::warn!(%reason, "the provider could not be asked about a session: it goes on, asked again in a minute");
                    *self.rechecks_paused_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(Instant::now() + RECHECK_PAUSE);
                }
            }
        }
        if write {
            session.last_used_s = now;
            let ends = self.limits.ends_s(&session);
            self.sessions.touch_session(session_id, &session, ends).await?;
        }
        Ok(Some(Caller::Person(Box::new(session))))
    }

    fn recheck_due(&self, session: &Session, now: i64) -> bool {
        let paused = self
            .rechecks_paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|until| Instant::now() < until);
        now - session.checked_s >= self.recheck_every.as_secs() as i64
            && !paused
            && recheck::worth_asking(&self.provider)
    }

    /// A service's bearer token, carrying `scope`.
    pub async fn service(&self, token: &str, scope: &str) -> Result<Caller, Refusal> {
        match tokens::verify_access_token(&self.provider, token, &self.audience, scope, &self.organisation_claim).await
        {
            Ok(token) => Ok(Caller::Service(token)),
            Err(TokenError::Invalid(reason)) => Err(Refusal::Invalid(reason)),
            Err(TokenError::MissingScope) => Err(Refusal::Forbidden(format!("the token lacks the scope {scope}"))),
            Err(TokenError::ProviderUnavailable) => Err(Refusal::Unavailable(self.provider_down())),
        }
    }

    fn provider_down(&self) -> String {
        let reason = self.provider.failing().unwrap_or_else(|| "not read yet".into());
        format!("the sign-in provider cannot be reached ({reason})")
    }

    /// Starts a sign-in that returns to `return_to` (a path on this server): where to send the person. Never
    /// waits on the provider: what was last read of it decides (`Provider::answers`).
    pub fn start_sign_in(&self, return_to: &str) -> Result<SignInStart, Refusal> {
        if !self.provider.answers() {
            return Err(Refusal::Unavailable(self.provider_down()));
        }
        let metadata = self.provider.metadata().ok_or_else(|| Refusal::Unavailable(self.provider_down()))?;
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let pending = PendingSignIn {
            state: state.clone(),
            started_s: now_s(),
            nonce: nonce.clone(),
            verifier,
            return_to: return_path(return_to),
        };
        let mut location = reqwest::Url::parse(&metadata.authorization_endpoint)
            .map_err(|_| Refusal::Unavailable("the provider's authorization endpoint is not a URL".into()))?;
        location
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("scope", &self.scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(SignInStart { location: location.into(), cookie: self.sessions.sign_in_cookie(&pending) })
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.public_url)
    }

    /// The provider's answer at the callback. The state is checked first, against the sign-in the browser's
    /// cookie carries: a callback that is not that sign-in's (another browser's, an attacker's link) is refused
    /// and says nothing the link chose. Then the provider's refusal, if any, in fixed words; else the code is
    /// exchanged (with the PKCE verifier), the ID token verified, the rule applied, and a session started.
    pub async fn finish_sign_in(&self, query: &[(String, String)], cookie: Option<&str>) -> Callback {
        let param = |name: &str| query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let pending = cookie.and_then(|cookie| self.sessions.sign_in_of_cookie(cookie));
        let Some(pending) = pending.filter(|pending| param("state") == Some(pending.state.as_str())) else {
            let refusal = Refusal::Invalid("this sign-in was not started in this browser, or it is too old".into());
            return Callback { outcome: Err(refusal), used_sign_in: false };
        };
        let outcome = match param("error") {
            Some(error) => Err(Refusal::Invalid(provider_refusal(error))),
            None => match param("code") {
                Some(code) => self.sign_in_with(code, pending).await,
                None => Err(Refusal::Invalid("the callback carries no code".into())),
            },
        };
        Callback { outcome, used_sign_in: true }
    }

    async fn sign_in_with(&self, code: &str, pending: PendingSignIn) -> Result<SignedIn, Refusal> {
        let metadata = self.provider.metadata().ok_or_else(|| Refusal::Unavailable(self.provider_down()))?;
        let client = self.client();
        let answer = client
            .exchange_code(&metadata.token_endpoint, code, &self.redirect_uri(), &pending.verifier)
            .await
            .map_err(|error| match error {
                CallError::Refused(reason) => Refusal::Invalid(format!("the provider refused the code ({reason})")),
                CallError::Unavailable(reason) => Refusal::Unavailable(reason),
            })?;
        let id_token =
            answer.id_token.as_deref().ok_or_else(|| Refusal::Invalid("the token endpoint gave no ID token".into()))?;
        let claims = tokens::verify_id_token(&self.provider, id_token, &self.client_id, &pending.nonce).await.map_err(
            |error| match error {
                TokenError::ProviderUnavailable => Refusal::Unavailable(self.provider_down()),
                TokenError::Invalid(reason) => Refusal::Invalid(format!("the ID token is not valid: {reason}")),
                TokenError::MissingScope => Refusal::Invalid("the ID token is not valid".into()),
            },
        )?;
        let groups = match (groups_of(claims.groups.as_ref()), self.admission.reads_groups()) {
            (Some(groups), _) => groups,
            (None, false) => Vec::new(),
            (None, true) => {
                self.groups_from_userinfo(metadata.userinfo_endpoint.as_deref(), &answer, &claims.sub).await?
            }
        };
        let organisations = tokens::organisations_of(&claims.other, &self.organisation_claim)
            .map_err(|reason| Refusal::Invalid(format!("the ID token is not usable: {reason}")))?;
        let facts = claims.facts(groups, organisations);
        if !self.admission.admits(&facts) {
            return Err(Refusal::NotAdmitted { subject: claims.sub });
        }
        let now = now_s();
        let session = Session {
            subject: claims.sub.clone(),
            shown_name: claims.shown_name(),
            started_s: now,
            last_used_s: now,
            checked_s: now,
            grant: recheck::grant_of(&answer, &Default::default(), now),
            facts,
        };
        let (session_id, cookie) = self.sessions.new_id();
        let ends = self.limits.ends_s(&session);
        self.sessions.put_session(&session_id, &session, ends).await?;
        Ok(SignedIn { cookie, return_to: pending.return_to, subject: claims.sub })
    }

    /// The `groups` of the UserInfo endpoint, for a provider that leaves them out of the ID token.
    async fn groups_from_userinfo(
        &self,
        endpoint: Option<&str>,
        answer: &grants::TokenAnswer,
        subject: &str,
    ) -> Result<Vec<String>, Refusal> {
        let (Some(endpoint), Some(access_token)) = (endpoint, answer.access_token.as_deref()) else {
            return Ok(Vec::new());
        };
        let info = self.client().userinfo(endpoint, access_token).await.map_err(|error| match error {
            CallError::Refused(reason) => Refusal::Invalid(reason),
            CallError::Unavailable(reason) => Refusal::Unavailable(reason),
        })?;
        // OpenID Connect Core §5.3.2: UserInfo about another subject is not used.
        if info.get("sub").and_then(serde_json::Value::as_str) != Some(subject) {
            return Err(Refusal::Invalid("UserInfo names another subject".into()));
        }
        Ok(groups_of(info.get("groups")).unwrap_or_default())
    }

    /// Ends the session a cookie names, on every replica; where to send the person next: the provider's end of
    /// session (RP-initiated logout) when it offers one, else this server's signed-out page.
    pub async fn sign_out(&self, cookie: Option<&str>) -> Result<(Option<Session>, String), Refusal> {
        let mut ended = None;
        if let Some(session_id) = cookie.and_then(|cookie| self.sessions.id_of_cookie(cookie)) {
            ended = self.sessions.session(session_id).await?;
            self.sessions.end_session(session_id).await?;
        }
        let signed_out = format!("{}{SIGNED_OUT_PATH}", self.public_url);
        let location = self
            .provider
            .metadata()
            .and_then(|metadata| metadata.end_session_endpoint.clone())
            .and_then(|endpoint| reqwest::Url::parse(&endpoint).ok())
            .map(|mut url| {
                url.query_pairs_mut()
                    .append_pair("client_id", &self.client_id)
                    .append_pair("post_logout_redirect_uri", &signed_out);
                url.to_string()
            })
            .unwrap_or_else(|| SIGNED_OUT_PATH.to_owned());
        Ok((ended, location))
    }
}
