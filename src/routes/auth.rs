//! Access control at the edge: what each route needs, and the sign-in's own routes.
//!
//! - `GET /` needs a person signed in: anyone else is sent to the provider to sign in, and comes back to the
//!   very URL first asked for.
//! - `GET /usage`, `/usage.csv` and `/usage/summary` take a bearer token with the scope `usage:read`, or a
//!   person's session; without either, 401.
//! - `POST /api/table_page` needs the session and a request from the dashboard's own origin (no cross-site
//!   request forgery).
//! - `GET /metrics`, on a `metrics_addr` that is not loopback, takes a bearer token with `metrics:read`.
//! - `GET /auth/callback`, `POST /auth/logout` and `GET /auth/signed-out` are the sign-in's; everything else
//!   (health, readiness, the assets, `/openapi.json`) is open.
//!
//! With access control off (no issuer) every guard lets everything through. Each sign-in, sign-out, refusal and
//! CSV export is logged once (`audit`), with the subject, never a token or a secret.

use crate::contract::{ErrorBody, ErrorDetail};
use crate::server::access::sessions::SIGN_IN_LIFETIME;
use crate::server::access::tokens::{METRICS_SCOPE, USAGE_SCOPE};
use crate::server::access::{safe_return_path, AccessControl, Refusal, CALLBACK_PATH};
use crate::server::AppState;
use crate::ui::notice_page::{notice_page, NextStep};
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

pub const UNAUTHORIZED: &str = "unauthorized";
pub const FORBIDDEN: &str = "forbidden";
pub const AUTH_UNAVAILABLE: &str = "auth_unavailable";

/// `GET /`: a person signed in, else a sign-in that returns to this URL.
pub async fn page_guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(access) = state.access.clone() else { return next.run(request).await };
    match access.person(cookie(request.headers(), access.session_cookie())).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => {
            let asked = request.uri().path_and_query().map_or("/", |asked| asked.as_str()).to_owned();
            match access.start_sign_in(&asked) {
                Ok(start) => {
                    let mut response = see_other(&start.location);
                    let (name, path) = access.sign_in_cookie();
                    let max_age = SIGN_IN_LIFETIME.as_secs();
                    let cookie = cookie_header(&access, name, &start.cookie, path, Some(max_age));
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                    response
                }
                Err(refusal) => refused_page(&state, "/", refusal),
            }
        }
        Err(refusal) => refused_page(&state, "/", refusal),
    }
}

/// The JSON routes: a bearer token, or a person's session.
pub async fn api_guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(access) = state.access.clone() else { return next.run(request).await };
    let route = request.uri().path().to_owned();
    let token = bearer_token(request.headers());
    let caller = match token {
        Some(token) => access.service(token, USAGE_SCOPE).await.map(Some),
        None => access.person(cookie(request.headers(), access.session_cookie())).await,
    };
    match caller {
        Ok(Some(caller)) => {
            let subject = caller.subject().to_owned();
            request.extensions_mut().insert(caller);
            let response = next.run(request).await;
            if route.ends_with("/usage.csv") && response.status().is_success() {
                tracing::info!(target: "audit", event = "csv_export", subject, "usage exported as CSV");
            }
            response
        }
        Ok(None) => refused_json(&route, Refusal::SignInNeeded, false, USAGE_SCOPE),
        Err(refusal) => refused_json(&route, refusal, token.is_some(), USAGE_SCOPE),
    }
}

/// `GET /metrics` on an address that is not loopback: a bearer token with the scope `metrics:read` (a person's
/// session is no scraper's).
pub async fn metrics_guard(State(access): State<Arc<AccessControl>>, request: Request, next: Next) -> Response {
    let Some(token) = bearer_token(request.headers()) else {
        return refused_json("/metrics", Refusal::SignInNeeded, false, METRICS_SCOPE);
    };
    match access.service(token, METRICS_SCOPE).await {
        Ok(_) => next.run(request).await,
        Err(refusal) => refused_json("/metrics", refusal, true, METRICS_SCOPE),
    }
}

/// The table's server function: a person's session, and a request from this dashboard's own pages.
pub async fn server_function_guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(access) = state.access.clone() else { return next.run(request).await };
    let route = request.uri().path().to_owned();
    if let Err(reason) = same_origin(request.headers(), &access) {
        return refused_json(&route, Refusal::Forbidden(reason.to_owned()), false, USAGE_SCOPE);
    }
    match access.person(cookie(request.headers(), access.session_cookie())).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => refused_json(&route, Refusal::SignInNeeded, false, USAGE_SCOPE),
        Err(refusal) => refused_json(&route, refusal, false, USAGE_SCOPE),
    }
}

/// `GET /auth/callback`: the provider sends the person back here with a code.
pub async fn callback(State(state): State<AppState>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(access) = state.access.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let query: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().take(32).collect();
    let (sign_in_cookie, sign_in_path) = access.sign_in_cookie();
    let callback = access.finish_sign_in(&query, cookie(&headers, sign_in_cookie)).await;
    let mut response = match callback.outcome {
        Ok(signed_in) => {
            tracing::info!(target: "audit", event = "sign_in", subject = signed_in.subject, "signed in");
            let mut response = see_other(safe_return_path(&signed_in.return_to));
            let max_age = access.session_max().as_secs();
            let cookie = cookie_header(&access, access.session_cookie(), &signed_in.cookie, "/", Some(max_age));
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
        }
        Err(refusal) => refused_page(&state, CALLBACK_PATH, refusal),
    };
    // The sign-in's state is used once, whatever happened; a callback of another sign-in leaves it alone.
    if callback.used_sign_in {
        let removed = cookie_header(&access, sign_in_cookie, "", sign_in_path, Some(0));
        response.headers_mut().append(header::SET_COOKIE, removed);
    }
    response
}

/// `POST /auth/logout`: ends the session on every replica, then at the provider where it offers that.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(access) = state.access.clone() else { return see_other("/") };
    if let Err(reason) = same_origin(&headers, &access) {
        return refused_page(&state, "/auth/logout", Refusal::Forbidden(reason.to_owned()));
    }
    match access.sign_out(cookie(&headers, access.session_cookie())).await {
        Ok((ended, location)) => {
            if let Some(session) = ended {
                tracing::info!(target: "audit", event = "sign_out", subject = session.subject, "signed out");
            }
            let mut response = see_other(&location);
            let removed = cookie_header(&access, access.session_cookie(), "", "/", Some(0));
            response.headers_mut().append(header::SET_COOKIE, removed);
            response
        }
        Err(refusal) => refused_page(&state, "/auth/logout", refusal),
    }
}

/// `GET /auth/signed-out`: where the provider sends a person back after signing out.
pub async fn signed_out(State(state): State<AppState>) -> Response {
    let text = "You have signed out of the credit usage dashboard.";
    let page = notice_page(&state.page.stylesheet, "Signed out", text, &[NextStep::Dashboard("Sign in again")]);
    (StatusCode::OK, Html(page)).into_response()
}

/// The page a person is shown when refused (people get pages, not JSON), logged once.
fn refused_page(state: &AppState, route: &str, refusal: Refusal) -> Response {
    audit_refusal(route, &refusal);
    let try_again = NextStep::Dashboard("Try again");
    let (status, title, text, steps) = match &refusal {
        Refusal::SignInNeeded => {
            (StatusCode::UNAUTHORIZED, "Sign-in needed", "Sign in to see the usage.".to_owned(), vec![])
        }
        Refusal::Invalid(reason) => (
            StatusCode::UNAUTHORIZED,
            "Sign-in failed",
            format!("The sign-in did not succeed: {reason}."),
            vec![try_again],
        ),
        Refusal::Forbidden(reason) => {
            (StatusCode::FORBIDDEN, "Not allowed", format!("You may not do this: {reason}."), vec![NextStep::SignOut])
        }
        Refusal::NotAdmitted { .. } => (
            StatusCode::FORBIDDEN,
            "Not allowed",
            "You are signed in, but may not read the usage: your account is not in a group, domain or organisation \
             allowed to. Ask an administrator to add you."
                .to_owned(),
            vec![NextStep::SignOut],
        ),
        Refusal::Unavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in unavailable",
            "Sign-in is unavailable for the moment: the organisation's sign-in service cannot be reached. Try again \
             in a minute."
                .to_owned(),
            vec![try_again],
        ),
        Refusal::SessionsFull => {
            metrics::counter!("sign_ins_refused_total", "reason" => "sessions_full").increment(1);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many people signed in",
                "This server keeps as many sessions as it may, and none has ended yet: nobody else can sign in \
                 until one does. Try again later, or ask an administrator to keep the sessions in a database."
                    .to_owned(),
                vec![try_again],
            )
        }
    };
    let page = notice_page(&state.page.stylesheet, title, &text, &steps);
    let mut response = super::unstored_page(status, page);
    // The sign-out form posts here, and is sent on to the provider's end of session.
    let provider = state.access.as_ref().and_then(|access| access.provider_origin()).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self' {provider}"
    );
    if let Ok(policy) = HeaderValue::from_str(policy.trim()) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// The error shape of the JSON routes: 401 `unauthorized` (with the Bearer challenge), 403 `forbidden`, 503
/// `auth_unavailable`; `scope` is the one the route needs.
fn refused_json(route: &str, refusal: Refusal, token_sent: bool, scope: &str) -> Response {
    audit_refusal(route, &refusal);
    let (status, code, message, challenge) = match &refusal {
        Refusal::SignInNeeded => (
            StatusCode::UNAUTHORIZED,
            UNAUTHORIZED,
            match scope {
                USAGE_SCOPE => format!("sign in, or send a bearer token with the scope {scope}"),
                _ => format!("send a bearer token with the scope {scope}"),
            },
            "Bearer".to_owned(),
        ),
        Refusal::Invalid(reason) => (
            StatusCode::UNAUTHORIZED,
            UNAUTHORIZED,
            format!("the credentials are not valid: {reason}"),
            if token_sent { "Bearer error=\"invalid_token\"".to_owned() } else { "Bearer".to_owned() },
        ),
        Refusal::Forbidden(reason) => (
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            reason.clone(),
            if token_sent { format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"") } else { String::new() },
        ),
        Refusal::NotAdmitted { .. } => {
            (StatusCode::FORBIDDEN, FORBIDDEN, "the person may not read the usage".to_owned(), String::new())
        }
        // The reason (a provider's or a store's error) is logged, not told to an anonymous caller.
        Refusal::Unavailable(_) | Refusal::SessionsFull => (
            StatusCode::SERVICE_UNAVAILABLE,
            AUTH_UNAVAILABLE,
            "sign-in or the session store is unavailable for the moment; try again".to_owned(),
            String::new(),
        ),
    };
    let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(challenge) = Some(challenge).filter(|text| !text.is_empty()) {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_str(&challenge).expect("a challenge is ASCII"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

fn audit_refusal(route: &str, refusal: &Refusal) {
    match refusal {
        // Every anonymous visit is one of these: not worth a warning.
        Refusal::SignInNeeded => tracing::info!(target: "audit", event = "refused", route, "no credentials"),
        Refusal::Invalid(reason) => {
            tracing::warn!(target: "audit", event = "refused", route, reason, "credentials not valid")
        }
        Refusal::Forbidden(reason) => tracing::warn!(target: "audit", event = "refused", route, reason, "forbidden"),
        Refusal::NotAdmitted { subject } => {
            tracing::warn!(target: "audit", event = "refused", route, subject, "a person the rule does not admit")
        }
        Refusal::Unavailable(reason) => {
            tracing::warn!(target: "audit", event = "refused", route, reason, "access control unavailable")
        }
        Refusal::SessionsFull => {
            tracing::warn!(target: "audit", event = "refused", route, "the sessions kept in memory are at their bound")
        }
    }
}

/// A request the dashboard's own pages sent: browsers say where it comes from, and one from another site is
/// refused. `Sec-Fetch-Site` decides where it is sent (every current browser does); else `Origin`, which a
/// same-origin form of a page with `Referrer-Policy: no-referrer` sends as `null` only in browsers that also
/// send `Sec-Fetch-Site`. A client that is no browser sends neither, and carries no visitor's cookie to abuse.
fn same_origin(headers: &HeaderMap, access: &Arc<AccessControl>) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str() {
            Ok("same-origin" | "none") => Ok(()),
            _ => Err("a request from another site"),
        };
    }
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    if origin.is_some_and(|origin| origin != access.origin()) {
        return Err("a request from another origin");
    }
    Ok(())
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `HttpOnly`, `SameSite=Lax` (sent when the provider sends the person back, a top-level GET), `Secure` when the
/// dashboard is https; `Max-Age=0` removes it.
fn cookie_header(access: &AccessControl, name: &str, value: &str, path: &str, max_age: Option<u64>) -> HeaderValue {
    let secure = if access.secure_cookies() { "; Secure" } else { "" };
    let max_age = max_age.map(|seconds| format!("; Max-Age={seconds}")).unwrap_or_default();
    let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax{secure}{max_age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
