//! Access control's second look, against the real OpenID provider (`support::oidc`): no figure without sign-in on
//! any address, and sign-in that holds up. The rule of groups, domains and tenants; `/metrics` behind its own
//! scope; an anonymous flood while the provider hangs; a callback that is not this browser's sign-in; a long URL;
//! `__Host-` cookies on https; a person removed from the group; the bound of sessions in memory; private answers;
//! endpoints of the provider that are not https; a forged key id that cannot keep a rotated key out.

use crate::access_control::{auth_config, dashboard, encode64, free_port, upstream, with_token, DASHBOARD};
use crate::support::oidc::{attribute_after, query_of, resolve, Browser, Provider, DASHBOARD_SECRET, SESSION_SECRET};
use crate::support::replica::Replica;
use crate::support::*;
use axum::http::StatusCode;
use credit_dashboard::server::access::provider::Provider as DashboardProvider;
use credit_dashboard::server::config::Config;
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn domains_and_tenants_admit_by_a_verified_email_googles_hd_or_entras_tid_and_nobody_else() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let rule = |domains: &[&str], tenants: &[&str]| Config {
        auth_allowed_groups: Vec::new(),
        auth_allowed_domains: domains.iter().map(|domain| domain.to_string()).collect(),
        auth_allowed_tenants: tenants.iter().map(|tenant| tenant.to_string()).collect(),
        ..auth_config(&upstream, &provider)
    };
    for (config, login, admitted) in [
        (rule(&["example.test"], &[]), "dora", true),
        (rule(&["example.test"], &[]), "uma", false),
        (rule(&["acme.example"], &[]), "gina", true),
        (rule(&["acme.example"], &[]), "dora", false),
        (rule(&[], &["tenant-42"]), "erin", true),
        (rule(&[], &["tenant-42"]), "bob", false),
    ] {
        let (app, _state) = dashboard(&config).await;
        let mut browser = Browser::for_app(app, DASHBOARD);
        let (page, _) = browser.sign_in("/", login).await;
        let expected = if admitted { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(page.status, expected, "{login} under {:?}: {}", config.auth_allowed_domains, page.body);
        assert_eq!(page.body.contains("Tenant Obligations"), admitted, "{login}: data only when admitted");
    }
}

#[tokio::test]
async fn metrics_on_a_public_address_need_a_token_with_the_metrics_scope() {
    let upstream = upstream().await;
    let (port, metrics_port) = (free_port(), free_port());
    let public_url = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&[&public_url], &public_url);
    let metrics_addr = format!("0.0.0.0:{metrics_port}");
    let env = [
        ("AUTH_ISSUER", provider.issuer.as_str()),
        ("AUTH_CLIENT_ID", "dashboard"),
        ("AUTH_CLIENT_SECRET", DASHBOARD_SECRET),
        ("PUBLIC_URL", public_url.as_str()),
        ("AUTH_SESSION_SECRET", SESSION_SECRET),
        ("AUTH_ALLOWED_GROUPS", "billing"),
        ("METRICS_ADDR", metrics_addr.as_str()),
    ];
    let server = Replica::start_on(port, &upstream.uri(), &env).await;
    let scrape = |token: Option<String>| {
        let url = format!("http://127.0.0.1:{metrics_port}/metrics");
        async move {
            let mut request = reqwest::Client::new().get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.headers().clone(), response.text().await.unwrap())
        }
    };
    let (status, headers, body) = scrape(None).await;
    assert_eq!(status, 401, "{body}\n{}", server.log());
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert!(!body.contains("period_credits"));
    let usage_token = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    let (status, headers, _) = scrape(Some(usage_token)).await;
    assert_eq!(status, 403, "usage:read is not metrics:read");
    assert!(headers["www-authenticate"].to_str().unwrap().contains("scope=\"metrics:read\""));
    let (status, _, body) = scrape(Some("a.b.c".into())).await;
    assert_eq!(status, 401, "{body}");
    let scraper = provider.client_token("metrics-scraper", "metrics-scraper-secret", "metrics:read", None).await;
    let (status, headers, body) = scrape(Some(scraper)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("http_requests_total") || body.contains("# TYPE"), "{body}");
    assert_eq!(headers["cache-control"], "private, no-store");

    // Without access control, a public metrics address stops the server at start, naming the way out.
    let (status, log) = Replica::exits(
        &upstream.uri(),
        &[("METRICS_ADDR", &format!("0.0.0.0:{}", free_port()))],
        Duration::from_secs(20),
    )
    .await;
    assert!(!status.success());
    assert!(log.contains("metrics_allow_anonymous") && log.contains("auth_issuer"), "{log}");
}

#[tokio::test]
async fn an_anonymous_flood_while_the_provider_hangs_leaves_a_signed_in_person_served() {
    let upstream = upstream().await;
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let config = Config { max_requests_in_flight: 32, ..auth_config(&upstream, &provider) };
    let (app, _state) = dashboard(&config).await;
    let mut person = Browser::for_app(app.clone(), DASHBOARD);
    let (page, _) = person.sign_in("/", "alice").await;
    assert_eq!(page.status, StatusCode::OK);

    // The provider's port now accepts connections and never answers.
    provider.stop();
    let hole = tokio::net::TcpListener::bind(("127.0.0.1", provider.port())).await.unwrap();
    let hole = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = hole.accept().await {
            held.push(connection);
        }
    });
    // What the server read of the provider is older than a sign-in's re-read by now.
    tokio::time::sleep(Duration::from_millis(2_100)).await;

    let flood: Vec<_> = (0..200)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { Browser::for_app(app, DASHBOARD).get("/?tz=UTC").await.status })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = person.get("/").await;
    assert_eq!(seen.status, StatusCode::OK, "a session is served during the flood: {}", seen.body);

    let mut statuses = Vec::new();
    for request in flood {
        statuses.push(tokio::time::timeout(Duration::from_secs(20), request).await.unwrap().unwrap());
    }
    assert!(
        statuses.iter().all(|status| [StatusCode::SEE_OTHER, StatusCode::SERVICE_UNAVAILABLE].contains(status)),
        "each anonymous request is sent to sign in or told it is unavailable, never held: {statuses:?}"
    );
    // Once the background read has failed, an anonymous page says at once that sign-in is unavailable.
    let mut anonymous = Browser::for_app(app.clone(), DASHBOARD);
    eventually("sign-in is known to be unavailable", || {
        let app = app.clone();
        async move { Browser::for_app(app, DASHBOARD).get("/").await.status == StatusCode::SERVICE_UNAVAILABLE }
    })
    .await;
    let refused = anonymous.get("/").await;
    assert!(refused.body.contains("Sign-in unavailable"), "{}", refused.body);
    hole.abort();
}

#[tokio::test]
async fn a_callback_that_is_not_this_browsers_sign_in_shows_nothing_it_chose_and_leaves_the_sign_in() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut person = Browser::for_app(app.clone(), DASHBOARD);
    let first = person.get("/").await;
    assert!(person.jars[DASHBOARD].contains_key("dashboard_sign_in"));

    // An attacker's link: another state, and a message of its own.
    let forged = "/auth/callback?state=forged&error=Call%20%2B1%20555%200100%20%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let seen = person.get(forged).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(!seen.body.contains("555") && !seen.body.contains("script>alert"), "{}", seen.body);
    assert!(seen.set_cookie("dashboard_sign_in").is_none(), "the sign-in under way is left alone");
    assert!(person.jars[DASHBOARD].contains_key("dashboard_sign_in"));

    // The sign-in under way still finishes.
    let (login_page, login_url) = person.follow(first, DASHBOARD).await;
    let action = resolve(&login_url, &attribute_after(&login_page.body, "<form", "action").replace("&amp;", "&"));
    let sent = person.send("POST", &action, Some("prompt=login&login=alice&password=any".into()), &[]).await;
    let (page, _) = person.follow(sent, &action).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    // The provider's own refusal, with the right state: fixed words, and the sign-in is used up.
    let mut other = Browser::for_app(app, DASHBOARD);
    let state = query_of(&other.get("/").await.location())["state"].clone();
    let seen = other.get(&format!("/auth/callback?state={state}&error=made_up_by_someone")).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(seen.body.contains("the provider refused the sign-in") && !seen.body.contains("made_up"), "{}", seen.body);
    assert!(seen.set_cookie("dashboard_sign_in").unwrap().contains("Max-Age=0"));
}

#[tokio::test]
async fn a_long_url_is_kept_as_its_view_within_what_a_browser_keeps_of_a_cookie() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut browser = Browser::for_app(app, DASHBOARD);
    let long = format!("/?tz=Europe%2FBerlin&sort=credits_used%3Adesc&utm_campaign={}", "x".repeat(3000));

    let first = browser.get(&long).await;
    let cookie = first.set_cookie("dashboard_sign_in").unwrap();
    let name_and_value = cookie.split(';').next().unwrap();
    assert!(name_and_value.len() <= 4096, "a browser keeps at most 4 096 bytes: {}", name_and_value.len());
    let (page, url) = browser.sign_in(&long, "alice").await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(url, format!("{DASHBOARD}/?tz=Europe/Berlin&sort=credits_used:desc"), "the view, kept");
}

#[tokio::test]
async fn on_https_the_cookies_are_host_prefixed_and_secure() {
    const HTTPS: &str = "https://usage.example";
    let upstream = upstream().await;
    let provider = Provider::start(&[HTTPS], HTTPS);
    let config = Config { public_url: HTTPS.into(), ..auth_config(&upstream, &provider) };
    let (app, _state) = dashboard(&config).await;
    let mut browser = Browser::for_app(app, HTTPS);

    let first = browser.get("/").await;
    let sign_in = first.set_cookie("__Host-dashboard_sign_in").expect("a __Host- sign-in cookie");
    assert!(sign_in.contains("Path=/;") && sign_in.contains("Secure") && !sign_in.contains("Domain"), "{sign_in}");
    assert!(first.set_cookie("dashboard_sign_in").is_none());
    let (page, _) = browser.sign_in("/", "alice").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let jar = &browser.jars[HTTPS];
    assert!(jar.contains_key("__Host-dashboard_session") && !jar.contains_key("dashboard_session"), "{jar:?}");
    let callback = browser.visited.iter().any(|url| url.starts_with(&format!("{HTTPS}/auth/callback?")));
    assert!(callback);
}

#[tokio::test]
async fn a_person_removed_from_the_group_is_signed_out_within_the_recheck_interval() {
    let upstream = upstream().await;
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let config = Config { auth_recheck_secs: 1, ..auth_config(&upstream, &provider) };
    let (app, _state) = dashboard(&config).await;
    let mut removed = Browser::for_app(app.clone(), DASHBOARD);
    let mut kept = Browser::for_app(app.clone(), DASHBOARD);
    assert_eq!(removed.sign_in("/", "alice").await.0.status, StatusCode::OK);
    assert_eq!(kept.sign_in("/", "alice-two").await.0.status, StatusCode::OK);

    provider.change_person("alice", json!({ "groups": ["sales"] }));
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let seen = removed.get("/").await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER, "sent to sign in again: {}", seen.body);
    assert_eq!(removed.get("/usage").await.status, StatusCode::UNAUTHORIZED, "the session has ended");
    let seen = kept.get("/").await;
    assert_eq!(seen.status, StatusCode::OK, "still in billing, checked again: {}", seen.body);
    // Checked again, the session goes on without asking the provider at every request.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(kept.get("/usage").await.status, StatusCode::OK);
    let mut again = Browser::for_app(app, DASHBOARD);
    assert_eq!(again.sign_in("/", "alice").await.0.status, StatusCode::FORBIDDEN, "and cannot sign in again");
}

#[tokio::test]
async fn at_the_bound_of_sessions_in_memory_a_new_sign_in_is_refused_and_the_live_ones_kept() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let config = Config { auth_memory_sessions: 1, ..auth_config(&upstream, &provider) };
    let (app, _state) = dashboard(&config).await;
    let mut first = Browser::for_app(app.clone(), DASHBOARD);
    assert_eq!(first.sign_in("/", "alice").await.0.status, StatusCode::OK);

    let mut second = Browser::for_app(app, DASHBOARD);
    let (page, _) = second.sign_in("/", "alice-two").await;

    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("Too many people signed in"), "{}", page.body);
    assert!(!second.jars[DASHBOARD].contains_key("dashboard_session"));
    assert_eq!(first.get("/").await.status, StatusCode::OK, "no live session dropped to make room");
}

#[tokio::test]
async fn answers_with_figures_are_private_and_vary_by_cookie_and_authorization() {
    let upstream = upstream().await;
    let provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let mut person = Browser::for_app(app.clone(), DASHBOARD);
    person.sign_in("/", "alice").await;
    let token = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;

    let page = person.get("/").await;
    let usage = with_token(&app, "/usage", &token).await;
    let summary = with_token(&app, "/usage/summary", &token).await;
    for (what, seen, policy) in [
        ("/", &page, "private, no-cache"),
        ("/usage", &usage, "private, no-cache"),
        ("/usage/summary", &summary, "private, no-store"),
    ] {
        assert_eq!(seen.status, StatusCode::OK, "{what}");
        assert_eq!(seen.headers["cache-control"], policy, "{what}");
        let vary: Vec<String> =
            seen.headers.get_all("vary").iter().map(|value| value.to_str().unwrap().to_ascii_lowercase()).collect();
        assert!(
            vary.iter().any(|value| value.contains("cookie") && value.contains("authorization")),
            "{what}: {vary:?}"
        );
    }
}

#[tokio::test]
async fn a_provider_naming_userinfo_or_its_end_of_session_over_plain_http_is_not_used() {
    for (endpoint, url) in
        [("userinfo_endpoint", "http://login.example/userinfo"), ("end_session_endpoint", "http://login.example/end")]
    {
        let issuer = MockServer::start().await;
        let mut document = json!({
            "issuer": issuer.uri(),
            "authorization_endpoint": format!("{}/auth", issuer.uri()),
            "token_endpoint": format!("{}/token", issuer.uri()),
            "jwks_uri": format!("{}/jwks", issuer.uri()),
        });
        document[endpoint] = json!(url);
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(document))
            .mount(&issuer)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "keys": [] })))
            .mount(&issuer)
            .await;
        let provider = DashboardProvider::new(&issuer.uri(), Duration::from_secs(5));

        let refused = provider.refresh().await.unwrap_err();

        assert!(refused.0.contains("not https") && refused.0.contains(url), "{endpoint}: {refused}");
        assert!(provider.metadata().is_none(), "{endpoint}: nothing of it is used");
    }
}

#[tokio::test]
async fn a_forged_key_id_does_not_keep_a_rotated_key_out() {
    let upstream = upstream().await;
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    let (app, _state) = dashboard(&auth_config(&upstream, &provider)).await;
    let genuine = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    // A token naming this issuer and a key nobody publishes: it makes the keys be read again, once.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("forged-key".into());
    let forged =
        genuine.replacen(genuine.split('.').next().unwrap(), &encode64(&serde_json::to_string(&header).unwrap()), 1);
    assert_eq!(with_token(&app, "/usage", &forged).await.status, StatusCode::UNAUTHORIZED);

    provider.restart(true);
    let rotated = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;

    assert_eq!(with_token(&app, "/usage", &rotated).await.status, StatusCode::OK, "the new key's own refetch");
}
