//! A real Redis server for one test: Debian's `redis-server` on a free port, its files in a temporary
//! directory, nothing persisted; stopped when the handle is dropped, a failing test included.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    directory: tempfile::TempDir,
    port: u16,
    server: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        let directory = tempfile::Builder::new().prefix("dashboard-redis-").tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { directory, port, server: None };
        redis.resume();
        redis
    }

    /// `redis://127.0.0.1:<port>/0`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (as a crash would); its data is gone, as it was never persisted.
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// Freezes the server (SIGSTOP): it keeps its connections and answers nothing, as a hung server does.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn unpause(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let server = self.server.as_ref().expect("a running server");
        let status = Command::new("kill").args([signal, &server.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Starts a server again on the same port, and waits until it answers.
    pub fn resume(&mut self) {
        let server = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.directory.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (Debian's redis-server package)");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A command through `redis-cli`, its output trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A number from `INFO`: `field` of `section` (`stats`, `total_net_output_bytes`), or of `commandstats`
    /// (`cmdstat_eval`, the `calls=` count).
    pub fn info(&self, section: &str, field: &str) -> u64 {
        let info = self.cli(&["INFO", section]);
        let line = info.lines().find_map(|line| line.strip_prefix(&format!("{field}:")));
        let value = line.map(|value| value.strip_prefix("calls=").unwrap_or(value));
        value.and_then(|value| value.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()).unwrap_or(0)
    }

    /// How many versions of the period Redis holds: keys `…period:<13 hex digits>`.
    pub fn period_versions(&self) -> usize {
        let is_version = |key: &String| {
            let version = key.rsplit(':').next().unwrap_or_default();
            version.len() == 13 && version.bytes().all(|b| b.is_ascii_hexdigit())
        };
        self.keys("period:").iter().filter(|key| is_version(key)).count()
    }

    /// The keys with `part` in their name.
    pub fn keys(&self, part: &str) -> Vec<String> {
        let all = self.cli(&["KEYS", "*"]);
        let mut keys: Vec<String> = all.lines().filter(|key| key.contains(part)).map(str::to_owned).collect();
        keys.sort();
        keys
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if self.server.is_some() {
            self.unpause();
        }
        self.stop();
    }
}
