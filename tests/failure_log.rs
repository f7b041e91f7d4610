//! Every path that shows usage logs a failure once, with its code, its route and the upstream without
//! credentials. Alone in its test binary: the log is captured through tracing's thread-local subscriber, which
//! other tests running at the same time would race with.

#[path = "it/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use support::*;
use wiremock::{MockServer, ResponseTemplate};

/// Log lines written while `run` runs on this thread, as the server writes them (no colours).
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_owned).collect()
    }
}

// One thread, so that every task of the request (rendering included) writes to this test's log.
#[tokio::test(flavor = "current_thread")]
async fn every_failed_request_is_logged_once_with_its_code_route_and_upstream_without_credentials() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let mut config = test_config(&upstream);
    let address = upstream.address();
    config.upstream_base_url = format!("http://reader:hunter2@{address}/?sig=s3cret");
    let app = app(&config);
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for route in ["/usage", "/usage.csv", "/", "/api/table_page"] {
        let before = log.lines().len();
        let status = if route == "/api/table_page" {
            table_page(&app, "").await.0
        } else {
            get(&app, &format!("{route}?sort=credits_used:desc")).await.0
        };
        assert_eq!(status, 503, "{route}");
        let lines = log.lines()[before..].to_vec();
        let errors: Vec<&String> = lines.iter().filter(|line| line.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{route}: exactly one error line: {lines:#?}");
        let line = errors[0];
        assert!(line.contains("code=\"upstream_unavailable\""), "{line}");
        assert!(line.contains(&format!("route=\"{route}\"")), "{line}");
        assert!(line.contains(&format!("upstream=http://{address}/?…")), "{line}");
        assert!(line.contains("HTTP 500"), "the cause: {line}");
        for secret in ["hunter2", "s3cret", "reader"] {
            assert!(!lines.iter().any(|line| line.contains(secret)), "{route} logs `{secret}`: {lines:#?}");
        }
    }
}
