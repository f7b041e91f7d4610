//! Response headers, compression and the health endpoints.

mod support;

use axum::body::Body;
use axum::http::Request;
use support::*;
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
    let script_tags: Vec<&str> =
        html.split("<script").skip(1).map(|rest| &rest[..rest.find('>').unwrap()]).collect();
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
    let (status, body) = get(&support::app(&config), "/readyz").await;
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
