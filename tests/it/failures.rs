//! How failures are answered: the error page retries the same view, the embedded upstream is never refused by the server's own bound, and
//! nothing answers that is not meant to.

use crate::support::*;
use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn the_error_page_retries_the_same_view() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let app = app(&test_config(&upstream));
    let view = "/?tz=Europe/London&day=2024-05-01&sort=credits_used:desc&page=2&report=Lease+Review";
    let (status, html) = get(&app, view).await;
    assert_eq!(status, 503);
    assert!(html.contains("Usage could not be loaded"), "{html}");
    assert!(
        html.contains(&format!("id=\"retry\" href=\"{}\"", view.replace('&', "&amp;"))),
        "the retry link is the same view: {html}"
    );
}

#[tokio::test]
async fn the_embedded_upstream_is_never_refused_by_the_bound_on_requests_in_flight() {
    // The server calls itself for its sample data: with a bound of one, the page's own request holds the
    // only slot while it waits on those calls.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = credit_dashboard::server::config::Config {
        site_addr: addr,
        max_requests_in_flight: 1,
        database_url: String::new(),
        ..credit_dashboard::server::config::Config::default()
    };
    let server = tokio::spawn(credit_dashboard::server::http::server::serve(
        listener,
        app(&config),
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(10),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    for path in ["/", "/usage", "/usage.csv"] {
        let response = client.get(format!("http://{addr}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}: {}", response.text().await.unwrap());
    }
    server.abort();
}

#[tokio::test]
async fn only_the_documented_routes_answer() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![message(1, "abc", "2024-04-29T02:08:29.375Z", None)]).await;
    let app = app(&test_config(&upstream));
    // The dashboard's data is loaded by its route, not by a server function anyone could call.
    for function in ["load_dashboard", "no_such_function"] {
        let request = Request::post(format!("/api/{function}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("query="))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 404, "/api/{function}");
    }
    for uri in ["/", "/usage", "/usage.csv", "/healthz"] {
        assert_eq!(get(&app, uri).await.0, 200, "{uri}");
    }
    // Answers whether the upstream does (this fake does not answer its HEAD probe).
    assert_eq!(get(&app, "/readyz").await.0, 503);
    assert_eq!(table_page(&app, "").await.0, 200, "/api/table_page");
    // Not the upstream here, so not served.
    assert_eq!(get(&app, "/sample-upstream/messages/current-period").await.0, 404);
    for (uri, method) in [("/usage", "POST"), ("/", "DELETE"), ("/api/table_page", "GET")] {
        let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        let status = app.clone().oneshot(request).await.unwrap().status();
        assert_eq!(status, 405, "{method} {uri}");
    }
}
