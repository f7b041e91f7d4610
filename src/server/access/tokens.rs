//! Tokens the provider signed, checked with its published keys (`jsonwebtoken` does the JWT itself): bearer access
//! tokens from the services that call `/usage`, and the ID token of a person signing in. Only asymmetric
//! algorithms are accepted, each only with a key of its own family, so `alg: none` and an HMAC "signed" with
//! the public key are refused before any signature is computed.

use super::admission::Facts;
use super::provider::{KeyLookup, Provider};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The scope a service needs to read the usage.
pub const USAGE_SCOPE: &str = "usage:read";
/// The scope a scraper needs to read `/metrics` on an address that is not loopback.
pub const METRICS_SCOPE: &str = "metrics:read";
/// Clocks differ a little between the provider and this server.
pub const LEEWAY_SECS: u64 = 30;

const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token the provider signed for this purpose, or no longer valid: 401, `invalid_token`.
    Invalid(String),
    /// A valid token without the scope: 403.
    MissingScope,
    /// The provider's keys were never read (it has not answered since start): 503.
    ProviderUnavailable,
}

/// A service, as its access token names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceToken {
    /// The client id, or the subject when the token has none.
    pub subject: String,
    /// The organisations its organisation claim names (`auth_organisation_claim`).
    pub organisations: Vec<String>,
}

#[derive(Deserialize)]
struct AccessClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    /// RFC 9068: a space-separated string.
    #[serde(default)]
    scope: Option<serde_json::Value>,
    /// Entra ID and Okta: `scp`, a string or a list.
    #[serde(default)]
    scp: Option<serde_json::Value>,
    /// Every other claim: the organisation claim is named by the configuration.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// What a sign-in reads of a person's ID token.
#[derive(Clone, Debug, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub aud: Option<serde_json::Value>,
    #[serde(default)]
    pub email: Option<String>,
    /// `true`, or (some providers) `"true"`.
    #[serde(default)]
    pub email_verified: Option<serde_json::Value>,
    /// Google's hosted domain.
    #[serde(default)]
    pub hd: Option<String>,
    /// Entra ID's tenant.
    #[serde(default)]
    pub tid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// A list of names; anything else is read as no groups.
    #[serde(default)]
    pub groups: Option<serde_json::Value>,
    /// Every other claim: the organisation claim is named by the configuration.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl IdClaims {
    /// The name the page shows: the email, else the name, else the subject.
    pub fn shown_name(&self) -> String {
        self.email
            .clone()
            .or_else(|| self.preferred_username.clone())
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| self.sub.clone())
    }

    /// What the admission rule reads of these claims; `groups` as given (the ID token's, or UserInfo's), and
    /// the organisations as given.
    pub fn facts(&self, groups: Vec<String>, organisations: Vec<String>) -> Facts {
        Facts {
            groups,
            verified_email: self.email.clone().filter(|_| verified(self.email_verified.as_ref())),
            hosted_domain: self.hd.clone(),
            tenant: self.tid.clone(),
            organisations,
        }
    }
}

/// Whether an `email_verified` claim says yes.
pub fn verified(claim: Option<&serde_json::Value>) -> bool {
    matches!(claim, Some(serde_json::Value::Bool(true))) || claim.and_then(serde_json::Value::as_str) == Some("true")
}

/// The groups of a `groups` claim: a list of strings (anything else: none).
pub fn groups_of(claim: Option<&serde_json::Value>) -> Option<Vec<String>> {
    let list = claim?.as_array()?;
    Some(list.iter().filter_map(|group| group.as_str().map(str::to_owned)).collect())
}

/// The organisations an organisation claim names: absent, none; a string, that one; a list of strings, those.
/// Anything else (an object, a number, a list holding one) is refused, naming the claim.
pub fn organisations_of(
    claims: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Vec<String>, String> {
    let refused = || format!("the organisation claim `{name}` is neither a string nor a list of strings");
    match claims.get(name) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::String(one)) => Ok(vec![one.clone()]),
        Some(serde_json::Value::Array(list)) => {
            list.iter().map(|item| item.as_str().map(str::to_owned)).collect::<Option<_>>().ok_or_else(refused)
        }
        Some(_) => Err(refused()),
    }
}

/// A bearer access token for `audience` with `scope`; `organisation_claim` names its organisations.
pub async fn verify_access_token(
    provider: &Provider,
    token: &str,
    audience: &str,
    scope: &str,
    organisation_claim: &str,
) -> Result<ServiceToken, TokenError> {
    let claims: AccessClaims = verify(provider, token, audience).await?;
    let organisations = organisations_of(&claims.other, organisation_claim).map_err(TokenError::Invalid)?;
    let scopes = [claims.scope.as_ref(), claims.scp.as_ref()].into_iter().flatten().flat_map(scope_list);
    let subject = claims.client_id.or(claims.sub).ok_or(TokenError::Invalid("the token names no client".into()))?;
    if !scopes.into_iter().any(|granted| granted == scope) {
        return Err(TokenError::MissingScope);
    }
    Ok(ServiceToken { subject, organisations })
}

/// A person's ID token for this client, carrying the sign-in's `nonce` (OpenID Connect Core, §3.1.3.7).
pub async fn verify_id_token(
    provider: &Provider,
    token: &str,
    client_id: &str,
    nonce: &str,
) -> Result<IdClaims, TokenError> {
    let claims: IdClaims = verify(provider, token, client_id).await?;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(TokenError::Invalid("the ID token's nonce is not the sign-in's".into()));
    }
    issued_to(claims, client_id)
}

/// The ID token a refresh returned: of the same person (OpenID Connect Core §12.2: same `iss` and `sub`; its
/// `nonce`, if any, is the first one's, so it is not checked again).
pub async fn verify_refreshed_id_token(
    provider: &Provider,
    token: &str,
    client_id: &str,
    subject: &str,
) -> Result<IdClaims, TokenError> {
    let claims: IdClaims = verify(provider, token, client_id).await?;
    if claims.sub != subject {
        return Err(TokenError::Invalid("the refreshed ID token names another person".into()));
    }
    issued_to(claims, client_id)
}

/// The claims, if the token was issued to this client.
fn issued_to(claims: IdClaims, client_id: &str) -> Result<IdClaims, TokenError> {
    let several_audiences = claims.aud.as_ref().and_then(serde_json::Value::as_array).is_some_and(|aud| aud.len() > 1);
    if claims.azp.as_deref().is_some_and(|azp| azp != client_id) || (several_audiences && claims.azp.is_none()) {
        return Err(TokenError::Invalid("the ID token was issued to another client".into()));
    }
    Ok(claims)
}

/// The claims of a JWT the provider signed for `audience`, unexpired (`exp` required, `nbf` honoured).
async fn verify<T: DeserializeOwned>(provider: &Provider, token: &str, audience: &str) -> Result<T, TokenError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|error| TokenError::Invalid(format!("not a signed JWT this server accepts ({error})")))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(TokenError::Invalid(format!("the algorithm {:?} is not accepted", header.alg)));
    }
    // Only a token that names this issuer may make the keys be read again (forged ids are cheap; a token of
    // another issuer cannot be for us whatever its key).
    let names_issuer = claimed_issuer(token).as_deref() == Some(provider.issuer());
    let key = match provider.key(header.kid.as_deref(), names_issuer).await {
        KeyLookup::Found(key) => key,
        KeyLookup::Unknown => return Err(TokenError::Invalid("signed by a key the provider does not publish".into())),
        KeyLookup::NeverRead => return Err(TokenError::ProviderUnavailable),
    };
    if key
        .common
        .key_algorithm
        .as_ref()
        .is_some_and(|published| format!("{published:?}") != format!("{:?}", header.alg))
    {
        return Err(TokenError::Invalid("the algorithm is not the key's".into()));
    }
    let decoding =
        DecodingKey::from_jwk(&key).map_err(|_| TokenError::Invalid("the provider's key is unusable".into()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[provider.issuer()]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    jsonwebtoken::decode::<T>(token, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|error| TokenError::Invalid(format!("{error}")))
}

/// The `iss` a JWT's payload claims, before its signature is checked: only to decide whether an unknown key is
/// worth reading the keys again for.
fn claimed_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

fn scope_list(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(text) => text.split_whitespace().map(str::to_owned).collect(),
        serde_json::Value::Array(items) => items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_from_a_string_or_a_list() {
        assert_eq!(scope_list(&serde_json::json!("openid usage:read")), ["openid", "usage:read"]);
        assert_eq!(scope_list(&serde_json::json!(["usage:read"])), ["usage:read"]);
        assert!(scope_list(&serde_json::json!(7)).is_empty());
    }

    #[test]
    fn groups_must_be_a_list_of_names() {
        assert_eq!(groups_of(Some(&serde_json::json!(["billing", 3]))), Some(vec!["billing".to_owned()]));
        assert_eq!(groups_of(Some(&serde_json::json!("billing"))), None);
        assert_eq!(groups_of(None), None);
    }

    #[test]
    fn an_email_is_verified_only_when_the_claim_says_true() {
        assert!(verified(Some(&serde_json::json!(true))));
        assert!(verified(Some(&serde_json::json!("true"))));
        for no in [serde_json::json!(false), serde_json::json!("yes"), serde_json::json!(1)] {
            assert!(!verified(Some(&no)), "{no}");
        }
        assert!(!verified(None));
    }

    #[test]
    fn the_claimed_issuer_is_read_from_the_payload() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"iss":"https://login.example"}"#);
        assert_eq!(claimed_issuer(&format!("e30.{payload}.sig")).as_deref(), Some("https://login.example"));
        assert_eq!(claimed_issuer("garbage"), None);
        assert_eq!(claimed_issuer("a.!!.c"), None);
    }

    #[test]
    fn only_asymmetric_algorithms_are_accepted() {
        assert!(ACCEPTED.iter().all(|alg| !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)));
    }
}
