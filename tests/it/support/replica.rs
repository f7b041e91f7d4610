//! The server binary as an operator runs it, on a free port, its log lines in a file (read with `log`);
//! killed when dropped, a failing test included.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary this test build made, or another one named by `CREDIT_DASHBOARD_BIN` (to run these tests
/// against an earlier build, and see which of them it fails).
fn binary() -> String {
    std::env::var("CREDIT_DASHBOARD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_credit-dashboard").to_owned())
}

pub struct Replica {
    child: Child,
    pub base: String,
    log: tempfile::NamedTempFile,
}

impl Replica {
    /// Started against `upstream`, without a history store, with `env` on top; returns once it answers.
    pub async fn start(upstream: &str, env: &[(&str, &str)]) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Replica::start_on(port, upstream, env).await
    }

    /// Started like `start`, on `port` (its public URL known before it starts: a provider's redirect URI); an
    /// `LEPTOS_SITE_ADDR` in `env` may name another address with that port (0.0.0.0, say).
    pub async fn start_on(port: u16, upstream: &str, env: &[(&str, &str)]) -> Replica {
        let replica = Replica::spawn(port, upstream, env);
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client.get(replica.url("/healthz")).send().await.is_ok() {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the replica did not start: {}", replica.log());
    }

    /// Started like `start`, for a configuration that must not start: waits (at most `bound`) for it to exit,
    /// and returns its exit status and log.
    pub async fn exits(upstream: &str, env: &[(&str, &str)], bound: Duration) -> (std::process::ExitStatus, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut replica = Replica::spawn(port, upstream, env);
        let status = replica.wait(bound).await;
        (status, replica.log())
    }

    /// The process, on a free port, its output in the log file.
    fn spawn(port: u16, upstream: &str, env: &[(&str, &str)]) -> Replica {
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let child = Command::new(binary())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("UPSTREAM_BASE_URL", upstream)
            .env("DATABASE_URL", "")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(log.reopen().expect("the log file"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Replica { child, base: format!("http://127.0.0.1:{port}"), log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (at most `bound`); its exit status.
    pub async fn wait(&mut self, bound: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {bound:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
