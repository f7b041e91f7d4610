//! The server binary as an operator runs it: SIGTERM lets a request in flight finish and exits 0, and its log
//! lines are plain text off a terminal (no colour codes) or, with `log_format = "json"`, one JSON object each.

mod support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;
use wiremock::{MockServer, ResponseTemplate};

/// The server binary on a free port, its output piped (not a terminal); killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(upstream: &MockServer, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_credit-dashboard"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("UPSTREAM_BASE_URL", upstream.uri())
            .env("DATABASE_URL", "")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (at most `bound`); its exit status and what it wrote on its standard output,
    /// where its log lines go (the standard error has a note of Leptos' about how this binary was built).
    fn finish(mut self, bound: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut output = String::new();
                self.child.stdout.take().unwrap().read_to_string(&mut output).unwrap();
                return (status, output);
            }
            assert!(Instant::now() < deadline, "still running after {bound:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_0_with_plain_text_logs() {
    let upstream = MockServer::start().await;
    let messages = serde_json::json!({"messages": [message(1, "abc", "2024-04-29T02:08:29.375Z", None)]});
    respond(
        &upstream,
        "/messages/current-period",
        ResponseTemplate::new(200).set_body_json(messages).set_delay(Duration::from_millis(1500)),
    )
    .await;
    let server = Server::start(&upstream, &[]).await;
    let slow = tokio::spawn(reqwest::get(format!("{}/usage", server.base)));
    // The request is in flight once the upstream has seen it.
    eventually("the request reached the upstream", || async {
        calls_to(&upstream, "/messages/current-period").await > 0
    })
    .await;
    server.terminate();
    let response = slow.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("\"message_id\":1"));
    let (status, output) = tokio::task::spawn_blocking(move || server.finish(Duration::from_secs(15))).await.unwrap();
    assert!(status.success(), "exit status {status:?}: {output}");
    assert!(output.contains("shutting down"), "{output}");
    assert!(!output.contains('\u{1b}'), "no colour codes off a terminal: {output:?}");
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_level_target_message_and_fields() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let server = Server::start(&upstream, &[("LOG_FORMAT", "json"), ("UPSTREAM_RETRIES", "0")]).await;
    let response = reqwest::get(format!("{}/usage", server.base)).await.unwrap();
    assert_eq!(response.status(), 503);
    server.terminate();
    let (status, output) = tokio::task::spawn_blocking(move || server.finish(Duration::from_secs(15))).await.unwrap();
    assert!(status.success());
    let lines: Vec<serde_json::Value> =
        output.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    assert!(lines.len() >= 3, "{output}");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["target"].is_string() && line["fields"]["message"].is_string(),
            "{line}"
        );
    }
    let failure =
        lines.iter().find(|line| line["fields"]["message"] == "request failed").expect("the failure is logged");
    assert_eq!(
        (failure["level"].as_str(), failure["fields"]["code"].as_str()),
        (Some("ERROR"), Some("upstream_unavailable"))
    );
    assert_eq!(failure["fields"]["route"], "/usage");
}
