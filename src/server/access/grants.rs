//! The provider's endpoints a sign-in and a check again call, as a confidential client: the token endpoint
//! (the authorization code with its PKCE verifier, or a refresh token; the client authenticates with HTTP
//! Basic) and UserInfo (with the person's access token). Each answer says whether the provider refused (the
//! code, the token or the person is no good: a 4xx) or could not be asked (a connection error, a 5xx).

use super::provider::{read_limited, Provider};
use serde::Deserialize;

/// What the token endpoint answers.
#[derive(Deserialize)]
pub struct TokenAnswer {
    /// Always after a code; after a refresh, most providers send one.
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// Why a call to the provider gave nothing to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// It answered no (a 4xx), or with something that is not an answer.
    Refused(String),
    /// It could not be asked: a connection error, a timeout, a 5xx.
    Unavailable(String),
}

pub struct Client<'a> {
    pub provider: &'a Provider,
    pub id: &'a str,
    pub secret: &'a str,
}

impl Client<'_> {
    /// The token endpoint's answer to the code of a sign-in.
    pub async fn exchange_code(
        &self,
        endpoint: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<TokenAnswer, CallError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ];
        self.token_call(endpoint, &form).await
    }

    /// The token endpoint's answer to a refresh token.
    pub async fn refresh(&self, endpoint: &str, refresh_token: &str) -> Result<TokenAnswer, CallError> {
        self.token_call(endpoint, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    async fn token_call(&self, endpoint: &str, form: &[(&str, &str)]) -> Result<TokenAnswer, CallError> {
        // RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic authentication.
        let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let sent = self
            .provider
            .http()
            .post(endpoint)
            .basic_auth(encode(self.id), Some(encode(self.secret)))
            .form(form)
            .send()
            .await;
        let bytes = answer(sent, "the provider's token endpoint").await?;
        serde_json::from_slice(&bytes).map_err(|_| CallError::Refused("the token endpoint's answer is not one".into()))
    }

    /// UserInfo's claims for the person whose access token this is.
    pub async fn userinfo(&self, endpoint: &str, access_token: &str) -> Result<serde_json::Value, CallError> {
        let sent = self.provider.http().get(endpoint).bearer_auth(access_token).send().await;
        let bytes = answer(sent, "the provider's UserInfo").await?;
        serde_json::from_slice(&bytes).map_err(|_| CallError::Refused("UserInfo is not JSON".into()))
    }
}

/// The body of a 2xx answer; a 4xx is a refusal, anything else the provider being unavailable.
async fn answer(sent: reqwest::Result<reqwest::Response>, what: &str) -> Result<Vec<u8>, CallError> {
    let response = sent.map_err(|error| CallError::Unavailable(format!("{what}: {}", error.without_url())))?;
    let status = response.status();
    if status.is_client_error() {
        return Err(CallError::Refused(format!("{what} answered {status}")));
    }
    if !status.is_success() {
        return Err(CallError::Unavailable(format!("{what} answered {status}")));
    }
    read_limited(response, what).await.map_err(|reason| CallError::Unavailable(reason.0))
}
