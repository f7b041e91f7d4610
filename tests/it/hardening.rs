//! Response headers, compression and the health endpoints.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use credit_dashboard::server::config::Config;
use tower::ServiceExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn response_to(app: &axum::Router, request: Request<Body>) -> axum::response::Response {
    app.clone().oneshot(request).await.unwrap()
}

#[tokio::test]
async fn every_response_has_security_headers() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let app = app(&test_config(&upstream));
    for uri in ["/usage", "/", "/healthz", "/no/such/page"] {
        let response = response_to(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{uri}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{uri}: {policy}");
    }
}

/// The page's policy and body, from one response.
async fn page_with_policy(app: &axum::Router) -> (String, String) {
    use http_body_util::BodyExt;
    let response = response_to(app, Request::get("/").body(Body::empty()).unwrap()).await;
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (policy, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn page_scripts_run_only_with_the_responses_nonce() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let app = app(&test_config(&upstream));
    let (policy, html) = page_with_policy(&app).await;
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(!policy.contains("'unsafe-eval'") && !policy.contains("script-src 'self' 'unsafe-inline'"), "{policy}");
    let script_tags: Vec<&str> = html.split("<script").skip(1).map(|rest| &rest[..rest.find('>').unwrap()]).collect();
    assert!(!script_tags.is_empty());
    for tag in script_tags {
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "script without this response's nonce: {tag}");
    }
    let (second_policy, _) = page_with_policy(&app).await;
    assert_ne!(policy, second_policy, "a fresh nonce per response");
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, (0..200).map(|i| message(i, "hello", "2024-04-29T02:08:29.375Z", None)).collect()).await;
    let app = app(&test_config(&upstream));
    let request = Request::get("/usage").header("accept-encoding", "gzip").body(Body::empty()).unwrap();
    let response = response_to(&app, request).await;
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn healthz_answers_without_the_upstream() {
    let upstream = MockServer::start().await;
    let mut config = test_config(&upstream);
    config.upstream_base_url = "http://127.0.0.1:9".into();
    let (status, body) = get(&app(&config), "/healthz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ok"));
}

#[tokio::test]
async fn readyz_reflects_the_upstream_and_is_cached_briefly() {
    let upstream = MockServer::start().await;
    Mock::given(method("HEAD"))
        .and(path("/messages/current-period"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&upstream)
        .await;
    let app = app(&test_config(&upstream));
    assert_eq!(get(&app, "/readyz").await.0, 200);
    assert_eq!(get(&app, "/readyz").await.0, 200);
    assert_eq!(calls_to(&upstream, "/messages/current-period").await, 1, "second answer came from the cache");

    let mut config = test_config(&upstream);
    config.upstream_base_url = "http://127.0.0.1:9".into();
    let (status, body) = get(&crate::support::app(&config), "/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_unavailable");
}

#[tokio::test]
async fn hostile_paths_and_queries_never_get_a_5xx() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let app = app(&test_config(&upstream));
    let long_path = format!("/{}", "a".repeat(20_000));
    let long_query = format!("/usage?{}", "x=%FF&".repeat(3_000));
    for uri in [
        "/%E0%A4%A/x",
        "/%00",
        "/..%2F..%2Fetc%2Fpasswd",
        "/pkg/..%2F..%2FCargo.toml",
        "/sample-upstream/reports/%00",
        "/sample-upstream/reports/-1",
        "/usage?sort=%FF%FE",
        "/api/no_such_function",
        long_path.as_str(),
        long_query.as_str(),
    ] {
        let (status, body) = get(&app, uri).await;
        let shown: String = uri.chars().take(60).collect();
        assert!(!status.is_server_error(), "{shown}: {status}");
        assert!(!body.contains("[package]"), "{shown} must not leak files");
    }
}

/// A fake upstream that does not speak HTTP: reqwest's error for it names the full URL.
async fn broken_http_upstream() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let _ = stream.write_all(b"SMTP ready\r\n\r\n").await;
        }
    });
    addr
}

#[tokio::test]
async fn credentials_in_the_upstream_url_never_reach_the_client() {
    let upstream = MockServer::start().await;
    let addr = broken_http_upstream().await;
    let mut config = test_config(&upstream);
    config.upstream_base_url = format!("http://reader:hunter2@{addr}/tech-task?sv=2024&sig=s3cret");
    let app = app(&config);
    for uri in ["/usage", "/"] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, 503, "{uri}");
        for secret in ["hunter2", "s3cret", "sig=", "reader"] {
            assert!(!body.contains(secret), "{uri} leaks `{secret}`: {body}");
        }
    }
    let (_, body) = get(&app, "/usage").await;
    assert!(body.contains("messages"), "the message still says what failed: {body}");
}

#[tokio::test]
async fn the_sample_upstream_is_not_served_when_another_is_configured() {
    let upstream = MockServer::start().await;
    let app = app(&test_config(&upstream));
    for uri in ["/sample-upstream/messages/current-period", "/sample-upstream/reports/5392"] {
        assert_eq!(get(&app, uri).await.0, 404, "{uri}");
    }
}

#[tokio::test]
async fn listed_origins_may_read_usage_and_nothing_else() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let mut config = test_config(&upstream);
    config.cors_allowed_origins = vec!["https://app.test".into()];
    let app = app(&config);
    let from = |origin: &str, uri: &str| Request::get(uri).header("origin", origin).body(Body::empty()).unwrap();

    let response = response_to(&app, from("https://app.test", "/usage")).await;
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.test");
    assert!(response.headers().get("access-control-allow-credentials").is_none());
    let response = response_to(&app, from("https://evil.test", "/usage")).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
    let response = response_to(&app, from("https://app.test", "/")).await;
    assert!(response.headers().get("access-control-allow-origin").is_none(), "only /usage is opened");

    let preflight = Request::options("/usage")
        .header("origin", "https://app.test")
        .header("access-control-request-method", "GET")
        .body(Body::empty())
        .unwrap();
    let response = response_to(&app, preflight).await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.test");
    assert_eq!(response.headers()["access-control-allow-methods"], "GET");

    // The default: same origin only.
    let response = response_to(&crate::support::app(&test_config(&upstream)), from("https://app.test", "/usage")).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn requests_past_the_bound_are_refused_at_once_with_retry_after() {
    let upstream = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({"messages": []}))
        .set_delay(std::time::Duration::from_millis(1500));
    respond(&upstream, "/messages/current-period", slow).await;
    let mut config = test_config(&upstream);
    config.max_requests_in_flight = 1;
    config.upstream_timeout_ms = 5_000;
    let app = app(&config);
    let first = tokio::spawn({
        let app = app.clone();
        async move { get(&app, "/usage").await }
    });
    // Wait until the first request is in flight (it has reached the upstream).
    while calls_to(&upstream, "/messages/current-period").await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let response = response_to(&app, Request::get("/usage").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(first.await.unwrap().0, 200);
    assert_eq!(get(&app, "/usage").await.0, 200, "the slot is free again");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = MockServer::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(&test_config(&upstream));
    tokio::spawn(credit_dashboard::server::http::server::serve(
        listener,
        router,
        std::time::Duration::from_millis(200),
        std::time::Duration::from_secs(10),
        std::future::pending(),
    ));
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buffer = [0u8; 1024];
    // Generous: the server cuts the connection after 200 ms; without the timer it never would.
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), client.read(&mut buffer)).await;
    assert!(read.is_ok(), "the connection was still open after 10 s");

    // A client that completes its request is served as usual.
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
}

#[tokio::test]
async fn hashed_assets_are_cached_for_good_and_pages_are_revalidated() {
    use credit_dashboard::routes::build_router;
    use credit_dashboard::server::AppState;
    use http_body_util::BodyExt;
    let site = std::env::temp_dir().join(format!("dashboard-site-{}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/credit-dashboard.Xy9abc.css"), "body{}").unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
    // cargo-leptos lists the hashes beside the server binary; here, beside the test binary.
    let hash_file = format!("hash-{}.txt", std::process::id());
    let hash_path = std::env::current_exe().unwrap().with_file_name(&hash_file);
    std::fs::write(&hash_path, "js: Aa1\nwasm: Bb2\ncss: Xy9abc\n").unwrap();
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("credit-dashboard")
        .site_root(site.to_string_lossy().into_owned())
        .hash_files(true)
        .hash_file(hash_file.as_str().into())
        .build();
    let app = build_router(AppState::new(options, &test_config(&upstream)));
    let cache_control =
        |response: &axum::response::Response| response.headers()["cache-control"].to_str().unwrap().to_owned();

    let asset = response_to(&app, Request::get("/pkg/credit-dashboard.Xy9abc.css").body(Body::empty()).unwrap()).await;
    assert_eq!(asset.status(), 200);
    assert_eq!(cache_control(&asset), "public, max-age=31536000, immutable");
    let icon = response_to(&app, Request::get("/favicon.svg").body(Body::empty()).unwrap()).await;
    assert_eq!(cache_control(&icon), "no-cache", "a name that does not change with its content");
    let page = response_to(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(cache_control(&page), "private, no-cache", "its caller's, revalidated");
    let html = String::from_utf8(page.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(html.contains("href=\"/pkg/credit-dashboard.Xy9abc.css\""), "the page names the hashed stylesheet");
    assert!(html.contains("credit-dashboard.Aa1.js"), "and the hashed script");
    let usage = response_to(&app, Request::get("/usage").body(Body::empty()).unwrap()).await;
    assert_eq!(cache_control(&usage), "private, no-cache", "its caller's, revalidated with its ETag");
    std::fs::remove_dir_all(&site).unwrap();
    std::fs::remove_file(&hash_path).unwrap();
}

#[tokio::test]
async fn usage_and_its_csv_are_revalidated_by_etag_and_answered_304_without_a_body() {
    use http_body_util::BodyExt;
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "abc", "2024-04-29T02:08:29.375Z", None)]).await;
    let app = app(&Config { kept_period_ttl_ms: 0, ..test_config(&upstream) });
    let conditional = |uri: &str, tag: Option<&str>| {
        let mut request = Request::get(uri);
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        request.body(Body::empty()).unwrap()
    };
    for uri in ["/usage", "/usage.csv?sort=credits_used:desc"] {
        let first = response_to(&app, conditional(uri, None)).await;
        assert_eq!(
            (first.status(), first.headers()["cache-control"].to_str().unwrap()),
            (StatusCode::OK, "private, no-cache")
        );
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        // Recomputed from the upstream (nothing is kept): the same data, the same tag, and no body.
        let again = response_to(&app, conditional(uri, Some(&tag))).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{uri}");
        assert_eq!(again.headers()["etag"], tag.as_str());
        assert!(again.into_body().collect().await.unwrap().to_bytes().is_empty(), "{uri}: no body");
        let other = response_to(&app, conditional(uri, Some("\"u-0000000000000000\""))).await;
        assert_eq!(other.status(), StatusCode::OK, "{uri}: another tag gets the body");
    }
    // Another view of the same period is another CSV, another tag.
    let tag_of = |response: axum::response::Response| response.headers()["etag"].to_str().unwrap().to_owned();
    let by_credits = tag_of(response_to(&app, conditional("/usage.csv?sort=credits_used:desc", None)).await);
    let in_london =
        tag_of(response_to(&app, conditional("/usage.csv?sort=credits_used:desc&tz=Europe/London", None)).await);
    assert_ne!(by_credits, in_london);
    // The data changes: the tag does.
    let before = tag_of(response_to(&app, conditional("/usage", None)).await);
    upstream.reset().await;
    serve_messages(&upstream, vec![message(1, &"x".repeat(40), "2024-04-29T02:08:29.375Z", None)]).await;
    let changed = response_to(&app, conditional("/usage", Some(&before))).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(tag_of(changed), before);
    // Weak: the same tag goes out for the identity, gzip and br bodies.
    assert!(before.starts_with("W/\""), "{before}");
}

#[tokio::test]
async fn a_csv_whose_explanations_change_at_the_same_credits_gets_a_new_tag() {
    let upstream = MockServer::start().await;
    // 5 and then 6 characters: 2 tokens either way, the minimum 1.00 either way; only the explanation differs.
    serve_messages(&upstream, vec![message(1, "abcde", "2024-04-29T02:08:29.375Z", None)]).await;
    let app = app(&Config { kept_period_ttl_ms: 0, ..test_config(&upstream) });
    let csv = || Request::get("/usage.csv").body(Body::empty()).unwrap();
    let first = response_to(&app, csv()).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    upstream.reset().await;
    serve_messages(&upstream, vec![message(1, "abcdef", "2024-04-29T02:08:29.375Z", None)]).await;
    let request = Request::get("/usage.csv").header("if-none-match", &tag).body(Body::empty()).unwrap();
    let again = response_to(&app, request).await;
    assert_eq!(again.status(), StatusCode::OK, "the old tag must not match: the explanation column changed");
    assert_ne!(again.headers()["etag"].to_str().unwrap(), tag);
}
