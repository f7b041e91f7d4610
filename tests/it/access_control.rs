//! Access control against a real OpenID provider (`support::oidc`): the sign-in's redirect and its return to the
//! URL first asked for, the groups rule, bearer tokens good and bad, cross-site requests to the server function,
//! sign-out, the provider going away, its keys rotating, sessions shared by two servers, the start-up refusal
//! without access control on a public address, and logs that never carry a secret or a token.

use crate::support::fleet::readiness;
use crate::support::oidc::{
    attribute_after, query_of, resolve, Browser, Provider, Seen, DASHBOARD_SECRET, SESSION_SECRET,
};
use crate::support::redis::Redis;
use crate::support::replica::Replica;
use crate::support::*;
use axum::http::StatusCode;
use axum::Router;
use credit_dashboard::server::config::Config;
use credit_dashboard::server::AppState;
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The in-process dashboard's public URL: never listened on, the browser sends its requests to the router.
pub const DASHBOARD: &str = "http://127.0.0.1:9";
pub const VIEW: &str = "/?tz=Europe%2FBerlin&sort=credits_used%3Adesc";

pub async fn upstream() -> MockServer {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1000, "Generate a Tenant Obligations Report", "2024-04-29T02:08:29.375Z", Some(json!(5392))),
            message(1001, "abcdefghi", "2024-04-29T03:25:03.613Z", None),
        ],
    )
    .await;
    serve_report(&upstream, 5392, "Tenant Obligations Report", json!(79)).await;
    // Ready: what `/readyz` asks.
    let ready = ResponseTemplate::new(200);
    Mock::given(method("HEAD")).and(path("/messages/current-period")).respond_with(ready).mount(&upstream).await;
    upstream
}

pub fn auth_config(upstream: &MockServer, provider: &Provider) -> Config {
    Config {
        auth_issuer: provider.issuer.clone(),
        auth_client_id: "dashboard".into(),
        auth_client_secret: DASHBOARD_SECRET.into(),
        public_url: DASHBOARD.into(),
        auth_session_secret: SESSION_SECRET.into(),
        auth_allowed_groups: vec!["billing".into()],
        ..test_config(upstream)
    }
}

/// The router and its state once it has read the provider.
pub async fn dashboard(config: &Config) -> (Router, AppState) {
    let (app, state) = app_and_state(config);
    let access = state.access.clone().expect("access control is on");
    eventually("the provider was read", || {
        let access = access.clone();
        async move { access.provider().metadata().is_some() }
    })
    .await;
    (app, state)
}

pub async fn with_token(app: &Router, uri: &str, token: &str) -> Seen {
    let mut browser = Browser::for_app(app.clone(), DASHBOARD);
    browser.send("GET", uri, None, &[("authorization", &format!("Bearer {token}"))]).await
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn an_anonymous_page_is_sent_to_the_provider_with_pkce_state_and_nonce() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);

    let seen = browser.get(VIEW).await;

    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    assert!(!seen.body.contains("Tenant Obligations"), "no data before sign-in");
    let location = seen.location();
    assert!(location.starts_with(&format!("{}/auth?", provider.issuer)), "{location}");
    let query = query_of(&location);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "dashboard");
    assert_eq!(query["redirect_uri"], format!("{DASHBOARD}/auth/callback"));
    assert_eq!(query["scope"], "openid email groups");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "a base64url SHA-256");
    assert!(query["state"].len() >= 43 && query["nonce"].len() >= 43);
    assert_ne!(query["state"], query["nonce"]);
    // The sign-in lives in this browser (sealed), not on the server: an anonymous visit stores nothing.
    let cookie = seen.set_cookie("dashboard_sign_in").expect("the sign-in is tied to this browser");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/auth/callback") && cookie.contains("Max-Age=600"), "{cookie}");
    assert!(!location.contains("verifier"), "the PKCE verifier stays here");

    // The JSON routes answer 401 with the Bearer challenge instead.
    for route in ["/usage", "/usage.csv", "/usage/summary"] {
        let seen = browser.get(route).await;
        assert_eq!(seen.status, StatusCode::UNAUTHORIZED, "{route}");
        assert_eq!(seen.headers["www-authenticate"], "Bearer");
        assert_eq!(error_code(&seen.body), "unauthorized");
    }
    // Open on purpose; the API description names the bearer scheme and the refusals.
    for route in ["/healthz", "/openapi.json"] {
        assert_eq!(browser.get(route).await.status, StatusCode::OK, "{route}");
    }
    let document: serde_json::Value = serde_json::from_str(&browser.get("/openapi.json").await.body).unwrap();
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let usage = &document["paths"]["/usage"]["get"]["responses"];
    assert!(usage.get("401").is_some() && usage.get("403").is_some(), "{usage}");
}

#[tokio::test]
async fn signing_in_returns_to_the_url_first_asked_and_the_page_names_the_person() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);

    let (page, url) = browser.sign_in(VIEW, "alice").await;

    assert_eq!(url, format!("{DASHBOARD}{VIEW}"), "back to the very URL first asked for");
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Signed in as") && page.body.contains("alice@example.test"), "{}", page.body);
    assert!(page.body.contains("Tenant Obligations Report"));
    assert!(page.body.contains("action=\"/auth/logout\""));
    // The session is a cookie holding an id: HttpOnly, Lax, for the whole site, not Secure on http.
    let session = browser.jars[DASHBOARD]["dashboard_session"].clone();
    assert!(!session.contains("alice") && session.len() > 64, "an opaque id: {session}");
    assert!(!browser.jars[DASHBOARD].contains_key("dashboard_sign_in"), "the sign-in's cookie is removed");

    // The session reads the JSON too.
    assert_eq!(browser.get("/usage").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_callback_refuses_a_sign_in_from_another_browser_or_used_twice() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut victim = Browser::for_app(app.clone(), DASHBOARD);
    let first = victim.get("/").await;
    let state = query_of(&first.location())["state"].clone();

    // A callback with that state, in a browser that did not start the sign-in (login CSRF).
    let mut other = Browser::for_app(app.clone(), DASHBOARD);
    let seen = other.get(&format!("/auth/callback?state={state}&code=stolen")).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(seen.set_cookie("dashboard_session").is_none());

    // The provider's refusal is shown, not followed.
    let seen = victim.get(&format!("/auth/callback?state={state}&error=access_denied")).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(seen.body.contains("access_denied"));
}

#[tokio::test]
async fn a_used_code_starts_no_second_session() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut person = Browser::for_app(app.clone(), DASHBOARD);
    let first = person.get("/").await;
    let sign_in_cookie = person.jars[DASHBOARD]["dashboard_sign_in"].clone();
    let (login_page, login_url) = person.follow(first, DASHBOARD).await;
    let action = resolve(&login_url, &attribute_after(&login_page.body, "<form", "action"));
    let sent = person.send("POST", &action, Some("prompt=login&login=alice&password=any".into()), &[]).await;
    let (page, _) = person.follow(sent, &action).await;
    assert_eq!(page.status, StatusCode::OK);
    let callback = person.visited.iter().find(|url| url.contains("/auth/callback?")).unwrap().clone();

    // The same callback, with the same sign-in cookie, in another browser.
    let mut replay = Browser::for_app(app, DASHBOARD);
    replay.jars.entry(DASHBOARD.into()).or_default().insert("dashboard_sign_in".into(), sign_in_cookie);
    let seen = replay.get(&callback).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED, "{}", seen.body);
    assert!(seen.set_cookie("dashboard_session").is_none());
}

#[tokio::test]
async fn a_person_outside_the_allowed_groups_gets_403_and_no_data() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);

    let (page, _) = browser.sign_in("/", "bob").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("Tenant Obligations"), "no data: {}", page.body);
    assert!(page.body.contains("Sign out"));
    assert!(!browser.jars[DASHBOARD].contains_key("dashboard_session"), "no session for bob");
    assert_eq!(browser.get("/usage").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn groups_the_id_token_leaves_out_are_read_from_userinfo() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);

    let (page, _) = browser.sign_in("/", "carol").await;

    assert_eq!(page.status, StatusCode::OK, "billing, as UserInfo says: {}", page.body);
    assert!(page.body.contains("carol@example.test"));
}

#[tokio::test]
async fn bearer_tokens_are_accepted_only_for_this_audience_unaltered_unexpired_with_the_scope() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;

    let good = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    for route in ["/usage", "/usage.csv", "/usage/summary"] {
        let seen = with_token(&app, route, &good).await;
        assert_eq!(seen.status, StatusCode::OK, "{route}: {}", seen.body);
    }

    let mut refused = vec![];
    let other_audience =
        provider.client_token("reporter", "reporter-secret", "usage:read", Some("http://other.example")).await;
    refused.push(("another audience", other_audience));
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut claims: serde_json::Value = serde_json::from_slice(&base64url(payload)).unwrap();
    claims["client_id"] = json!("someone-else");
    refused.push(("altered", format!("{head}.{}.{signature}", encode64(&claims.to_string()))));
    let none_header = encode64(r#"{"alg":"none","typ":"at+jwt"}"#);
    refused.push(("alg none", format!("{none_header}.{payload}.")));
    // HMAC "signed" with the provider's public key, as if it were a shared secret.
    let public = provider.public_keys()["keys"][0]["n"].as_str().unwrap().to_owned();
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    refused.push(("HS256 with the public key", hmac));
    let expired = json!({
        "iss": provider.issuer, "aud": DASHBOARD, "sub": "reporter", "client_id": "reporter",
        "scope": "usage:read", "iat": now() - 3600, "exp": now() - 120,
    });
    refused.push(("expired", provider.sign(&expired)));
    let not_yet = json!({
        "iss": provider.issuer, "aud": DASHBOARD, "sub": "reporter", "client_id": "reporter",
        "scope": "usage:read", "iat": now(), "nbf": now() + 600, "exp": now() + 1200,
    });
    refused.push(("not valid yet", provider.sign(&not_yet)));
    let other_issuer = json!({
        "iss": "http://127.0.0.1:1", "aud": DASHBOARD, "sub": "reporter", "client_id": "reporter",
        "scope": "usage:read", "iat": now(), "exp": now() + 600,
    });
    refused.push(("another issuer", provider.sign(&other_issuer)));
    refused.push(("not a JWT", "garbage".to_owned()));

    for (what, token) in refused {
        let seen = with_token(&app, "/usage", &token).await;
        assert_eq!(seen.status, StatusCode::UNAUTHORIZED, "{what}: {}", seen.body);
        assert_eq!(seen.headers["www-authenticate"], "Bearer error=\"invalid_token\"", "{what}");
        assert_eq!(error_code(&seen.body), "unauthorized", "{what}");
        assert!(!seen.body.contains("Tenant"), "{what}");
    }

    let without_scope =
        provider.client_token("reporter-no-scope", "reporter-no-scope-secret", "other:read", None).await;
    let seen = with_token(&app, "/usage", &without_scope).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "{}", seen.body);
    assert_eq!(error_code(&seen.body), "forbidden");
    assert!(seen.headers["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));

    // A bearer token is no session: the page and the server function still want a person.
    assert_eq!(with_token(&app, "/", &good).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_server_function_needs_the_session_and_refuses_another_origin() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);
    let body = json!({ "view": "page=1" }).to_string();
    let call = |headers: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("content-type", "application/json"), ("accept", "application/json")];
        all.extend(headers);
        all
    };

    let anonymous = browser.send("POST", "/api/table_page", Some(body.clone()), &call(vec![])).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&anonymous.body), "unauthorized");

    browser.sign_in("/", "alice").await;
    let same = [("origin", DASHBOARD), ("sec-fetch-site", "same-origin")];
    let seen = browser.send("POST", "/api/table_page", Some(body.clone()), &call(same.to_vec())).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);

    let forgeries = [
        vec![("origin", "http://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site"), ("origin", DASHBOARD)],
        vec![("origin", "null")],
    ];
    for forged in forgeries {
        let seen = browser.send("POST", "/api/table_page", Some(body.clone()), &call(forged.clone())).await;
        assert_eq!(seen.status, StatusCode::FORBIDDEN, "{forged:?}");
        assert_eq!(error_code(&seen.body), "forbidden");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_for_every_copy_of_the_cookie_and_at_the_provider() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app.clone(), DASHBOARD);
    browser.sign_in("/", "alice").await;
    let copy = browser.jars[DASHBOARD]["dashboard_session"].clone();

    // Another site cannot sign the person out (nor in).
    let forged = browser.send("POST", "/auth/logout", Some(String::new()), &[("origin", "http://evil.example")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);

    // What Chromium sends for the page's own form (the page's Referrer-Policy makes its Origin `null`).
    let own_form = [("origin", "null"), ("sec-fetch-site", "same-origin")];
    let seen = browser.send("POST", "/auth/logout", Some(String::new()), &own_form).await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    let location = seen.location();
    assert!(location.starts_with(&format!("{}/session/end?", provider.issuer)), "RP-initiated logout: {location}");
    assert_eq!(query_of(&location)["post_logout_redirect_uri"], format!("{DASHBOARD}/auth/signed-out"));
    assert!(seen.set_cookie("dashboard_session").unwrap().contains("Max-Age=0"));

    // The provider's own confirmation, then back to the signed-out page.
    let (confirm, confirm_url) = browser.follow(seen, DASHBOARD).await;
    let action = resolve(&confirm_url, &attribute_after(&confirm.body, "<form", "action"));
    let xsrf = attribute_after(&confirm.body, "name=\"xsrf\"", "value");
    let sent = browser.send("POST", &action, Some(format!("xsrf={xsrf}&logout=yes")), &[]).await;
    let (signed_out, url) = browser.follow(sent, &action).await;
    assert_eq!(url, format!("{DASHBOARD}/auth/signed-out"));
    assert!(signed_out.body.contains("You have signed out"));

    // A copy of the cookie taken before signing out no longer works.
    let mut thief = Browser::for_app(app, DASHBOARD);
    thief.jars.entry(DASHBOARD.into()).or_default().insert("dashboard_session".into(), copy);
    assert_eq!(thief.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(thief.get("/usage").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_the_provider_gone_tokens_and_sessions_work_and_signing_in_says_503() {
    let upstream = upstream().await;
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let token = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    let mut person = Browser::for_app(app.clone(), DASHBOARD);
    person.sign_in("/", "alice").await;
    assert_eq!(with_token(&app, "/usage", &token).await.status, StatusCode::OK);

    provider.stop();

    assert_eq!(with_token(&app, "/usage", &token).await.status, StatusCode::OK, "the keys already read verify it");
    assert_eq!(person.get("/").await.status, StatusCode::OK, "the session is this server's");
    let mut anonymous = Browser::for_app(app.clone(), DASHBOARD);
    let mut seen = anonymous.get("/").await;
    // The provider is asked again when someone must sign in (at most every few seconds).
    for _ in 0..100 {
        if seen.status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = anonymous.get("/").await;
    }
    assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE, "{}", seen.body);
    assert!(seen.body.contains("Sign-in unavailable"), "a page for people");
    assert_eq!(anonymous.get("/usage").await.status, StatusCode::UNAUTHORIZED, "an API without credentials");
}

#[tokio::test]
async fn a_token_signed_by_a_new_key_is_accepted_after_one_refetch_of_the_keys() {
    let upstream = upstream().await;
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let before = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    assert_eq!(with_token(&app, "/usage", &before).await.status, StatusCode::OK);

    provider.restart(true);
    let after = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    assert_ne!(kid(&before), kid(&after), "the new key signs");

    assert_eq!(with_token(&app, "/usage", &after).await.status, StatusCode::OK, "after one refetch");
    assert_eq!(with_token(&app, "/usage", &before).await.status, StatusCode::OK, "the old key is still published");
    // A key the provider does not publish is refused (and does not make the keys be read again at once).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("unknown-key".into());
    let forged =
        after.replacen(after.split('.').next().unwrap(), &encode64(&serde_json::to_string(&header).unwrap()), 1);
    assert_eq!(with_token(&app, "/usage", &forged).await.status, StatusCode::UNAUTHORIZED);

    // The keys are read again once a minute per unknown key id: a third key, a moment later, has its own chance.
    provider.restart(true);
    let third = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    assert_ne!(kid(&third), kid(&after));
    assert_eq!(with_token(&app, "/usage", &third).await.status, StatusCode::OK, "its own id, its own refetch");
}

#[tokio::test]
async fn two_servers_on_one_history_store_honour_one_session_and_one_sign_out() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let store = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: format!("sqlite://{}", store.path().join("history.sqlite3").display()),
        ..auth_config(&upstream, &provider)
    };
    let (first, _first_state) = dashboard(&config).await;
    let (second, _second_state) = dashboard(&config).await;
    let mut on_first = Browser::for_app(first, DASHBOARD);
    on_first.sign_in("/", "alice").await;
    let cookie = on_first.jars[DASHBOARD]["dashboard_session"].clone();
    let mut on_second = Browser::for_app(second, DASHBOARD);
    on_second.jars.entry(DASHBOARD.into()).or_default().insert("dashboard_session".into(), cookie);

    assert_eq!(on_second.get("/").await.status, StatusCode::OK, "the session is the store's");
    on_second.send("POST", "/auth/logout", Some(String::new()), &[("origin", DASHBOARD)]).await;
    assert_eq!(on_first.get("/").await.status, StatusCode::SEE_OTHER, "signed out on both");
}

#[tokio::test]
async fn two_replicas_sharing_redis_honour_one_session_and_one_sign_out_and_log_no_secret() {
    let redis = Redis::start();
    let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
    let urls: Vec<String> = ports.iter().map(|port| format!("http://127.0.0.1:{port}")).collect();
    let provider = Provider::start(&[&urls[0], &urls[1]], "https://usage.example");
    let upstream = upstream().await;
    let start = |index: usize| {
        let (port, url, redis, issuer) = (ports[index], urls[index].clone(), redis.url(), provider.issuer.clone());
        let upstream = upstream.uri();
        async move {
            let env = [
                ("AUTH_ISSUER", issuer.as_str()),
                ("AUTH_CLIENT_ID", "dashboard"),
                ("AUTH_CLIENT_SECRET", DASHBOARD_SECRET),
                ("PUBLIC_URL", url.as_str()),
                ("AUTH_AUDIENCE", "https://usage.example"),
                ("AUTH_SESSION_SECRET", SESSION_SECRET),
                ("AUTH_ALLOWED_GROUPS", "billing"),
                ("SHARED_CACHE_URL", redis.as_str()),
            ];
            Replica::start_on(port, &upstream, &env).await
        }
    };
    let (first, second) = (start(0).await, start(1).await);
    for replica in [&first, &second] {
        eventually("the replica shares through Redis", || async { readiness(replica).await == "ready (sharing)" })
            .await;
    }
    let mut browser = Browser::for_servers();
    browser.dashboard = first.base.clone();
    let (page, _) = browser.sign_in("/", "alice").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cookie = browser.jars[&first.base]["dashboard_session"].clone();
    let token = provider.client_token("reporter", "reporter-secret", "usage:read", Some("https://usage.example")).await;

    // The cookie of the first replica, on the second (cookies do not tell ports apart).
    let mut other = Browser::for_servers();
    other.jars.entry(second.base.clone()).or_default().insert("dashboard_session".into(), cookie.clone());
    assert_eq!(other.get(&second.url("/")).await.status, StatusCode::OK, "one session for the fleet");
    let seen = other.send("GET", &second.url("/usage"), None, &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(seen.status, StatusCode::OK);
    let forged = other.send("GET", &second.url("/usage"), None, &[("authorization", "Bearer a.b.c")]).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    let out = other.send("POST", &second.url("/auth/logout"), Some(String::new()), &[("origin", &second.base)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get(&first.url("/")).await.status, StatusCode::SEE_OTHER, "signed out on both");

    // The audit log names the subject; no log line carries a secret, a token or a session id.
    let logs = format!("{}{}", first.log(), second.log());
    assert!(logs.contains("sign_in") && logs.contains("alice"), "{logs}");
    assert!(logs.contains("sign_out"), "{logs}");
    let session_id = cookie.split('.').next().unwrap();
    for secret in [DASHBOARD_SECRET, SESSION_SECRET, token.as_str(), session_id, cookie.as_str()] {
        assert!(!logs.contains(secret), "a log line carries a secret or a token");
    }
}

#[tokio::test]
async fn without_access_control_a_public_address_refuses_to_start_unless_anonymous_is_allowed() {
    let upstream = upstream().await;
    let port = free_port().to_string();
    let addr = format!("0.0.0.0:{port}");
    let (status, log) =
        Replica::exits(&upstream.uri(), &[("LEPTOS_SITE_ADDR", addr.as_str())], Duration::from_secs(20)).await;
    assert!(!status.success());
    assert!(log.contains("allow_anonymous") && log.contains("auth_issuer"), "{log}");

    let env = [("LEPTOS_SITE_ADDR", addr.as_str()), ("ALLOW_ANONYMOUS", "true")];
    let allowed = Replica::start_on(port.parse().unwrap(), &upstream.uri(), &env).await;
    let answer = reqwest::get(allowed.url("/usage")).await.unwrap();
    assert_eq!(answer.status(), 200, "{}", allowed.log());
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn base64url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub fn encode64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
