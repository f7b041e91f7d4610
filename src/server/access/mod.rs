//! Who may read the figures, with the organisation's OpenID provider: people sign in (the authorization code
//! flow with PKCE, `state` and `nonce`) and get a session kept on the server; services send a bearer access token
//! the provider issued for this dashboard's audience with the scope `usage:read`. Off (`auth_issuer` empty), the
//! server serves everyone, which the configuration allows only on a loopback address or with `allow_anonymous`.

pub mod provider;
pub mod sessions;
pub mod tokens;

use crate::server::config::Config;
use crate::server::history::History;
use crate::server::shared_cache::seal::SealingKeys;
use crate::server::shared_cache::SharedCache;
use base64::Engine;
use provider::{read_limited, Provider};
use sessions::{now_s, random_token, Limits, PendingSignIn, Session, SessionStore};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokens::{groups_of, IdClaims, ServiceToken, TokenError};

/// The session's cookie, and the one that ties a sign-in's `state` to the browser that started it.
pub const SESSION_COOKIE: &str = "dashboard_session";
pub const SIGN_IN_COOKIE: &str = "dashboard_sign_in";
/// Where the provider sends a person back, under `public_url`.
pub const CALLBACK_PATH: &str = "/auth/callback";
pub const SIGNED_OUT_PATH: &str = "/auth/signed-out";
/// The provider's calls (discovery, keys, token, UserInfo) each take at most this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A person signed in, with the session's id.
    Person { session_id: String, session: Session },
    /// A service with a bearer token.
    Service(ServiceToken),
}

impl Caller {
    /// The subject the audit log names: the person's `sub`, or the service's client id.
    pub fn subject(&self) -> &str {
        match self {
            Caller::Person { session, .. } => &session.subject,
            Caller::Service(token) => &token.subject,
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
    /// Valid credentials without the right (a group, a scope, another origin): 403.
    Forbidden(String),
    /// The provider (for a sign-in) or the session store cannot be reached: 503.
    Unavailable(String),
}

/// Where to send a person to sign in, with the cookie that carries the sign-in (sealed) in their browser.
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

pub struct AccessControl {
    provider: Arc<Provider>,
    sessions: SessionStore,
    limits: Limits,
    client_id: String,
    client_secret: String,
    scopes: String,
    public_url: String,
    audience: String,
    allowed_groups: Vec<String>,
}

impl AccessControl {
    /// The access control `config` asks for (`None` without an issuer), with its sessions where the replicas share
    /// them. Reads the provider in the background (within a Tokio runtime).
    pub fn new(
        config: &Config,
        shared: Option<Arc<SharedCache>>,
        history: Option<Arc<History>>,
    ) -> Result<Option<Arc<AccessControl>>, String> {
        if !config.access_controlled() {
            return Ok(None);
        }
        let keys = SealingKeys::parse(&config.auth_session_secret)
            .map_err(|reason| format!("auth_session_secret: {reason}"))?;
        let provider = Arc::new(Provider::new(config.auth_issuer.trim(), PROVIDER_TIMEOUT)?);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(provider::keep_refreshed(Arc::downgrade(&provider)));
        }
        let sessions = SessionStore::new(keys, shared, history, config.history_timeout());
        tracing::info!(issuer = config.auth_issuer.trim(), sessions = sessions.kind(), "access control on");
        Ok(Some(Arc::new(AccessControl {
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
            allowed_groups: config.auth_allowed_groups.iter().map(|group| group.trim().to_owned()).collect(),
        })))
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Cookies are `Secure` when the dashboard is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
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

    /// The session a cookie names, if it is valid and has not ended; used, its idle end moves on.
    pub async fn person(&self, cookie: Option<&str>) -> Result<Option<Caller>, Refusal> {
        let Some(session_id) = cookie.and_then(|cookie| self.sessions.id_of_cookie(cookie)) else {
            return Ok(None);
        };
        let found = self.sessions.session(session_id).await.map_err(|error| Refusal::Unavailable(error.0))?;
        let Some(mut session) = found else { return Ok(None) };
        let now = now_s();
        if self.limits.ends_s(&session) <= now || session.started_s > now + 60 {
            return Ok(None);
        }
        if self.limits.worth_touching(&session, now) {
            session.last_used_s = now;
            let ends = self.limits.ends_s(&session);
            self.sessions
                .touch_session(session_id, &session, ends)
                .await
                .map_err(|error| Refusal::Unavailable(error.0))?;
        }
        Ok(Some(Caller::Person { session_id: session_id.to_owned(), session }))
    }

    /// A service's bearer token.
    pub async fn service(&self, token: &str) -> Result<Caller, Refusal> {
        match tokens::verify_access_token(&self.provider, token, &self.audience).await {
            Ok(token) => Ok(Caller::Service(token)),
            Err(TokenError::Invalid(reason)) => Err(Refusal::Invalid(reason)),
            Err(TokenError::MissingScope) => {
                Err(Refusal::Forbidden(format!("the token lacks the scope {}", tokens::USAGE_SCOPE)))
            }
            Err(TokenError::ProviderUnavailable) => Err(Refusal::Unavailable(self.provider_down())),
        }
    }

    fn provider_down(&self) -> String {
        let reason = self.provider.failing().unwrap_or_else(|| "not read yet".into());
        format!("the sign-in provider cannot be reached ({reason})")
    }

    /// Starts a sign-in that returns to `return_to` (a path on this server): where to send the person.
    pub async fn start_sign_in(&self, return_to: &str) -> Result<SignInStart, Refusal> {
        if !self.provider.answers().await {
            return Err(Refusal::Unavailable(self.provider_down()));
        }
        let metadata = self.provider.metadata().ok_or_else(|| Refusal::Unavailable(self.provider_down()))?;
        let (state, nonce, verifier) = (random_token(), random_token(), random_token());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let return_to = safe_return_path(return_to).to_owned();
        let pending =
            PendingSignIn { state: state.clone(), started_s: now_s(), nonce: nonce.clone(), verifier, return_to };
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

    /// The provider's answer at the callback: checks the state against the sign-in the browser's cookie carries,
    /// exchanges the code (with the PKCE verifier), verifies the ID token, checks the groups, starts a session.
    pub async fn finish_sign_in(&self, query: &[(String, String)], cookie: Option<&str>) -> Result<SignedIn, Refusal> {
        let param = |name: &str| query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        if let Some(error) = param("error") {
            let error: String = error.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(100).collect();
            return Err(Refusal::Invalid(format!("the provider refused the sign-in ({error})")));
        }
        let (Some(state), Some(code)) = (param("state"), param("code")) else {
            return Err(Refusal::Invalid("the callback carries no state or no code".into()));
        };
        let pending = cookie.and_then(|cookie| self.sessions.sign_in_of_cookie(cookie));
        let pending = pending
            .ok_or_else(|| Refusal::Invalid("no sign-in was started in this browser, or it is too old".into()))?;
        if pending.state != state {
            return Err(Refusal::Invalid("this sign-in was not started in this browser".into()));
        }
        let metadata = self.provider.metadata().ok_or_else(|| Refusal::Unavailable(self.provider_down()))?;
        let answer = self.exchange(&metadata.token_endpoint, code, &pending.verifier).await?;
        let claims = tokens::verify_id_token(&self.provider, &answer.id_token, &self.client_id, &pending.nonce)
            .await
            .map_err(|error| match error {
            TokenError::ProviderUnavailable => Refusal::Unavailable(self.provider_down()),
            TokenError::Invalid(reason) => Refusal::Invalid(format!("the ID token is not valid: {reason}")),
            TokenError::MissingScope => Refusal::Invalid("the ID token is not valid".into()),
        })?;
        if !self.allowed_groups.is_empty() {
            let groups = match groups_of(claims.groups.as_ref()) {
                Some(groups) => groups,
                None => self.groups_from_userinfo(metadata.userinfo_endpoint.as_deref(), &answer, &claims).await?,
            };
            if !groups.iter().any(|group| self.allowed_groups.contains(group)) {
                return Err(Refusal::Forbidden(format!(
                    "{} is in none of the groups allowed to read the usage",
                    claims.sub
                )));
            }
        }
        let now = now_s();
        let session =
            Session { subject: claims.sub.clone(), shown_name: claims.shown_name(), started_s: now, last_used_s: now };
        let (session_id, cookie) = self.sessions.new_id();
        let ends = self.limits.ends_s(&session);
        self.sessions.put_session(&session_id, &session, ends).await.map_err(|error| Refusal::Unavailable(error.0))?;
        Ok(SignedIn { cookie, return_to: pending.return_to, subject: claims.sub })
    }

    async fn exchange(&self, token_endpoint: &str, code: &str, verifier: &str) -> Result<TokenAnswer, Refusal> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri()),
            ("code_verifier", verifier),
        ];
        // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic authentication.
        let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let response = self
            .provider
            .http()
            .post(token_endpoint)
            .basic_auth(encode(&self.client_id), Some(encode(&self.client_secret)))
            .form(&form)
            .send()
            .await
            .map_err(|error| Refusal::Unavailable(format!("the provider's token endpoint: {}", error.without_url())))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(Refusal::Unavailable(format!("the provider's token endpoint answered {status}")));
        }
        if !status.is_success() {
            return Err(Refusal::Invalid(format!("the provider refused the code ({status})")));
        }
        let bytes = read_limited(response, "the token endpoint").await.map_err(Refusal::Unavailable)?;
        serde_json::from_slice(&bytes)
            .map_err(|_| Refusal::Invalid("the token endpoint's answer has no ID token".into()))
    }

    /// The `groups` of the UserInfo endpoint, for a provider that leaves them out of the ID token.
    async fn groups_from_userinfo(
        &self,
        endpoint: Option<&str>,
        answer: &TokenAnswer,
        claims: &IdClaims,
    ) -> Result<Vec<String>, Refusal> {
        let (Some(endpoint), Some(access_token)) = (endpoint, answer.access_token.as_deref()) else {
            return Ok(Vec::new());
        };
        let response = self
            .provider
            .http()
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|error| Refusal::Unavailable(format!("the provider's UserInfo: {}", error.without_url())))?;
        let bytes = read_limited(response, "the UserInfo endpoint").await.map_err(Refusal::Unavailable)?;
        let info: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| Refusal::Invalid("UserInfo is not JSON".into()))?;
        // OpenID Connect Core §5.3.2: UserInfo about another subject is not used.
        if info.get("sub").and_then(serde_json::Value::as_str) != Some(claims.sub.as_str()) {
            return Err(Refusal::Invalid("UserInfo names another subject".into()));
        }
        Ok(groups_of(info.get("groups")).unwrap_or_default())
    }

    /// Ends the session a cookie names, on every replica; where to send the person next: the provider's end of
    /// session (RP-initiated logout) when it offers one, else this server's signed-out page.
    pub async fn sign_out(&self, cookie: Option<&str>) -> Result<(Option<Session>, String), Refusal> {
        let mut ended = None;
        if let Some(session_id) = cookie.and_then(|cookie| self.sessions.id_of_cookie(cookie)) {
            ended = self.sessions.session(session_id).await.map_err(|error| Refusal::Unavailable(error.0))?;
            self.sessions.end_session(session_id).await.map_err(|error| Refusal::Unavailable(error.0))?;
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

#[derive(serde::Deserialize)]
struct TokenAnswer {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

/// A path on this server to return to after sign-in: anything else (another origin, `//host`, a backslash
/// some browsers read as a slash) is the dashboard's root. No open redirect.
pub fn safe_return_path(asked: &str) -> &str {
    let on_this_server = asked.starts_with('/')
        && !asked.starts_with("//")
        && !asked.contains('\\')
        && !asked.chars().any(char::is_control)
        && asked.len() <= 4096;
    if on_this_server {
        asked
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_on_this_server_is_returned_to() {
        assert_eq!(
            safe_return_path("/?tz=Europe%2FBerlin&sort=credits_used:desc"),
            "/?tz=Europe%2FBerlin&sort=credits_used:desc"
        );
        for elsewhere in ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "", "/\nSet-Cookie: x"]
        {
            assert_eq!(safe_return_path(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
