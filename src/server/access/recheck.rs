//! A person's right to read, checked again at the provider every `auth_recheck_secs` while the session is used:
//! someone removed from the group (or whose account was closed) is out within that time, not at the session's
//! end 12 hours later. With a refresh token the provider is asked for new tokens (a new ID token carries the
//! groups as they are now); without one, UserInfo is asked with the access token while it lives. A provider that
//! refuses (the grant revoked, the token expired, the person no longer allowed) ends the session; one that
//! cannot be asked leaves it as it is, and the check is tried again a minute later.

use super::admission::{Admission, Facts};
use super::grants::{CallError, Client, TokenAnswer};
use super::provider::Provider;
use super::sessions::{now_s, ProviderGrant, Session};
use super::tokens::{self, groups_of, verified, TokenError};

/// What a check again found.
#[derive(Clone, Debug)]
pub enum Checked {
    /// Still allowed: the session with its new check time and tokens.
    Allowed(Box<Session>),
    /// No longer allowed, or no longer a way to tell: the session ends.
    NoLonger(String),
    /// The provider could not be asked: the session goes on, and is checked again later.
    Unavailable(String),
}

/// The grant a token answer gives, keeping what it leaves out (a refresh token that was not rotated).
pub fn grant_of(answer: &TokenAnswer, before: &ProviderGrant, now: i64) -> ProviderGrant {
    ProviderGrant {
        refresh_token: answer.refresh_token.clone().or_else(|| before.refresh_token.clone()),
        access_token: answer.access_token.clone(),
        access_expires_s: answer.expires_in.map_or(0, |seconds| now.saturating_add(seconds)),
    }
}

/// Asks the provider again about the person of `session`.
pub async fn check_again(client: &Client<'_>, admission: &Admission, session: &Session) -> Checked {
    let Some(metadata) = client.provider.metadata() else {
        return Checked::Unavailable("the provider has not been read".into());
    };
    let now = now_s();
    let grant = &session.grant;
    let (facts, grant) = if let Some(refresh_token) = &grant.refresh_token {
        let answer = match client.refresh(&metadata.token_endpoint, refresh_token).await {
            Ok(answer) => answer,
            Err(error) => return failed(error),
        };
        let grant = grant_of(&answer, grant, now);
        let facts = match &answer.id_token {
            Some(id_token) => {
                match tokens::verify_refreshed_id_token(client.provider, id_token, client.id, &session.subject).await {
                    Ok(claims) => match groups_of(claims.groups.as_ref()) {
                        Some(groups) => Ok(claims.facts(groups, session.facts.organisations.clone())),
                        None => userinfo_facts(client, metadata.userinfo_endpoint.as_deref(), &grant, session).await,
                    },
                    Err(TokenError::ProviderUnavailable) => {
                        Err(Checked::Unavailable("the provider's keys have not been read".into()))
                    }
                    Err(TokenError::Invalid(reason)) => {
                        Err(Checked::NoLonger(format!("the refreshed ID token is not valid: {reason}")))
                    }
                    Err(TokenError::MissingScope) => {
                        Err(Checked::NoLonger("the refreshed ID token is not valid".into()))
                    }
                }
            }
            None => userinfo_facts(client, metadata.userinfo_endpoint.as_deref(), &grant, session).await,
        };
        (facts, grant)
    } else if grant.access_token.is_some() && grant.access_expires_s > now {
        (userinfo_facts(client, metadata.userinfo_endpoint.as_deref(), grant, session).await, grant.clone())
    } else {
        return Checked::NoLonger(
            "the provider gave no refresh token and the access token has ended: the person signs in again".into(),
        );
    };
    let facts = match facts {
        Ok(facts) => facts,
        Err(checked) => return checked,
    };
    if !admission.admits(&facts) {
        return Checked::NoLonger("no longer allowed by the rule (groups, domains, tenants)".into());
    }
    Checked::Allowed(Box::new(Session { checked_s: now, grant, facts, ..session.clone() }))
}

/// The facts UserInfo tells, with the tenant and hosted domain of the sign-in where it does not say them.
async fn userinfo_facts(
    client: &Client<'_>,
    endpoint: Option<&str>,
    grant: &ProviderGrant,
    session: &Session,
) -> Result<Facts, Checked> {
    let (Some(endpoint), Some(access_token)) = (endpoint, grant.access_token.as_deref()) else {
        return Err(Checked::NoLonger("the provider offers no UserInfo to check the person with".into()));
    };
    let info = client.userinfo(endpoint, access_token).await.map_err(failed)?;
    // OpenID Connect Core §5.3.2: UserInfo about another subject is not used.
    if info.get("sub").and_then(serde_json::Value::as_str) != Some(session.subject.as_str()) {
        return Err(Checked::NoLonger("UserInfo names another subject".into()));
    }
    let text = |name: &str| info.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
    let email = text("email").filter(|_| verified(info.get("email_verified")));
    Ok(Facts {
        groups: groups_of(info.get("groups")).unwrap_or_default(),
        verified_email: email,
        hosted_domain: text("hd").or_else(|| session.facts.hosted_domain.clone()),
        tenant: text("tid").or_else(|| session.facts.tenant.clone()),
        // Read at sign-in; a group an organisation names is checked again with the groups.
        organisations: session.facts.organisations.clone(),
    })
}

fn failed(error: CallError) -> Checked {
    match error {
        CallError::Refused(reason) => Checked::NoLonger(format!("the provider refused: {reason}")),
        CallError::Unavailable(reason) => Checked::Unavailable(reason),
    }
}

/// Whether the provider was last read well (a check is worth trying).
pub fn worth_asking(provider: &Provider) -> bool {
    provider.metadata().is_some() && provider.failing().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_keeps_the_refresh_token_it_does_not_rotate_and_dates_the_access_token() {
        let before =
            ProviderGrant { refresh_token: Some("r1".into()), access_token: Some("a1".into()), access_expires_s: 5 };
        let answer =
            TokenAnswer { id_token: None, access_token: Some("a2".into()), refresh_token: None, expires_in: Some(600) };
        assert_eq!(
            grant_of(&answer, &before, 1000),
            ProviderGrant { refresh_token: Some("r1".into()), access_token: Some("a2".into()), access_expires_s: 1600 }
        );
        let rotated = TokenAnswer { refresh_token: Some("r2".into()), expires_in: None, ..answer };
        assert_eq!(grant_of(&rotated, &before, 1000).refresh_token.as_deref(), Some("r2"));
        assert_eq!(grant_of(&rotated, &before, 1000).access_expires_s, 0, "unknown");
    }
}
