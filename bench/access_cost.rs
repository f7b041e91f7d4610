//! What access control costs a warm request: the same build twice, side by side, one without access control and
//! one with it (a real OpenID provider, sessions in a SQLite history store as the default deployment keeps
//! them), the warm `GET /` with a session cookie and the warm `/usage` with a bearer token (and with the
//! session), sent to the two servers in turn.

use crate::oidc::{Browser, Provider, DASHBOARD_SECRET, SESSION_SECRET};
use crate::{median, ms, percentile, Server, Upstream};
use std::time::{Duration, Instant};

const OFF_PORT: u16 = 3260;
const ON_PORT: u16 = 3261;

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let rounds = 300;
    upstream.set(0, 100_000, 5_000, false);
    let on_url = format!("http://127.0.0.1:{ON_PORT}");
    let provider = Provider::start(&[&on_url], &on_url);
    let store = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", store.path().join("history.sqlite3").display());
    let kept = ("KEPT_PERIOD_TTL_MS", "600000");
    let off =
        Server::start(OFF_PORT, upstream_url, &[kept, ("DATABASE_URL", &database.replace(".sqlite3", "-off.sqlite3"))])
            .await;
    let env = [
        kept,
        ("DATABASE_URL", database.as_str()),
        ("AUTH_ISSUER", provider.issuer.as_str()),
        ("AUTH_CLIENT_ID", "dashboard"),
        ("AUTH_CLIENT_SECRET", DASHBOARD_SECRET),
        ("PUBLIC_URL", on_url.as_str()),
        ("AUTH_SESSION_SECRET", SESSION_SECRET),
        ("AUTH_ALLOWED_GROUPS", "billing"),
    ];
    let on = Server::start(ON_PORT, upstream_url, &env).await;
    let mut browser = Browser::for_servers();
    browser.dashboard = on.base.clone();
    // The server reads the provider in the background after it starts: until then a page answers 503, then it
    // sends to the provider's login page.
    let page = format!("{}/", on.base);
    while !client.get(&page).send().await.unwrap().url().as_str().starts_with(&provider.issuer) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (signed_in, _) = browser.sign_in("/", "alice").await;
    assert!(signed_in.status.is_success(), "signed in: {}", signed_in.status);
    let cookie = format!("dashboard_session={}", browser.jars[&on.base]["dashboard_session"]);
    let token = provider.client_token("reporter", "reporter-secret", "usage:read", None).await;
    let bearer = format!("Bearer {token}");

    let timed = |url: String, header: Option<(&'static str, String)>| {
        let client = client.clone();
        async move {
            let mut request = client.get(&url);
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            let started = Instant::now();
            let response = request.send().await.expect("request");
            assert!(response.status().is_success(), "{url}: {}", response.status());
            response.bytes().await.expect("body");
            started.elapsed()
        }
    };
    // Warm both (the period computed and kept, the provider's keys read), and let each record the period in its
    // history store (about 2 s for 100 000 rows): a measurement beside that write would time the write.
    for _ in 0..5 {
        timed(format!("{}/usage", off.base), None).await;
        timed(format!("{}/usage", on.base), Some(("authorization", bearer.clone()))).await;
    }
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (mut page_off, mut page_on, mut usage_off, mut usage_bearer, mut usage_session) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        page_off.push(timed(format!("{}/", off.base), None).await);
        page_on.push(timed(format!("{}/", on.base), Some(("cookie", cookie.clone()))).await);
    }
    for _ in 0..rounds {
        usage_off.push(timed(format!("{}/usage", off.base), None).await);
        usage_bearer.push(timed(format!("{}/usage", on.base), Some(("authorization", bearer.clone()))).await);
        usage_session.push(timed(format!("{}/usage", on.base), Some(("cookie", cookie.clone()))).await);
    }
    drop((on, off));

    println!("\n## What access control costs a warm request\n");
    println!("100 000 messages (5 000 reports), `KEPT_PERIOD_TTL_MS` of 10 minutes; two servers of this build side by");
    println!("side, each on a SQLite history store of its own: one without access control, one with it (a real");
    println!(
        "OpenID provider, `oidc-provider` on Node.js; sessions in the history store). Warm requests, {rounds} of each,"
    );
    println!("sent to the two servers in turn: `GET /` with the session's cookie (a SQLite read of the session), and");
    println!("`/usage` with a bearer token (an RS256 signature checked with the cached keys) or the cookie.\n");
    println!("| request | off: median | on: median | added | off: p95 | on: p95 |\n|---|---:|---:|---:|---:|---:|");
    let added = |a: Duration, b: Duration| format!("{:+.2} ms", (b.as_secs_f64() - a.as_secs_f64()) * 1000.0);
    let row = |name: &str, off: &[Duration], on: &[Duration]| {
        let (a, b) = (median(off), median(on));
        let (p_off, p_on) = (percentile(off, 0.95), percentile(on, 0.95));
        println!("| {name} | {} ms | {} ms | {} | {} ms | {} ms |", ms(a), ms(b), added(a, b), ms(p_off), ms(p_on));
    };
    row("`GET /`, a session", &page_off, &page_on);
    row("`GET /usage`, a bearer token", &usage_off, &usage_bearer);
    row("`GET /usage`, a session", &usage_off, &usage_session);
    println!(
        "\nAdded at the median (target ≤ 0.2 ms): `GET /` {}, `/usage` with a token {}.",
        added(median(&page_off), median(&page_on)),
        added(median(&usage_off), median(&usage_bearer))
    );
}
