//! The server binary as an operator runs it, on a free port, its log lines in a file (read with `log`);
//! killed when dropped, a failing test included.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Replica {
    child: Child,
    pub base: String,
    log: tempfile::NamedTempFile,
}

impl Replica {
    /// Started against `upstream`, without a history store, with `env` on top; returns once it answers.
    pub async fn start(upstream: &str, env: &[(&str, &str)]) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_credit-dashboard"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("UPSTREAM_BASE_URL", upstream)
            .env("DATABASE_URL", "")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(log.reopen().expect("the log file"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica { child, base: format!("http://127.0.0.1:{port}"), log };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client.get(replica.url("/healthz")).send().await.is_ok() {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the replica did not start: {}", replica.log());
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
