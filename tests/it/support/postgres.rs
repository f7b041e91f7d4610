//! A real PostgreSQL server for one test: `initdb` into a temporary directory, `postgres` on a free port, run
//! as the `postgres` user when the tests run as root (PostgreSQL refuses root), stopped and removed when the
//! handle is dropped — a failing test included.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    directory: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The user it runs as, when the tests run as root.
    user: Option<(u32, u32)>,
    server: Option<Child>,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = binaries();
        let directory = tempfile::Builder::new().prefix("dashboard-pg-").tempdir().expect("a temporary directory");
        let user = running_as_root().then(postgres_user);
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(directory.path(), Some(uid), Some(gid)).expect("chown the directory");
        }
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-instructions", "-D"])
            .arg(directory.path().join("data"))
            .current_dir(directory.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        as_user(&mut initdb, user);
        let output = initdb.output().expect("initdb runs");
        assert!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        let mut postgres = Postgres { directory, bin, port: free_port(), user, server: None };
        postgres.resume();
        postgres
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database and returns its URL.
    pub async fn database(&self, name: &str) -> String {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url("postgres")).await.unwrap();
        connection.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        self.url(name)
    }

    /// Freezes the server (SIGSTOP to its postmaster and every backend): connections stay open, nothing answers.
    pub fn hang(&self) {
        self.signal_all("-STOP");
    }

    /// Lets a frozen server go on.
    pub fn wake(&self) {
        self.signal_all("-CONT");
    }

    fn signal_all(&self, signal: &str) {
        if let Some(server) = &self.server {
            let postmaster = server.id().to_string();
            let _ = Command::new("pkill").args([signal, "-P", &postmaster]).status();
            let _ = Command::new("kill").args([signal, &postmaster]).status();
        }
    }

    /// Stops the server (fast shutdown: clients are disconnected), keeping its data.
    pub fn stop(&mut self) {
        self.wake();
        if let Some(mut server) = self.server.take() {
            let _ = Command::new("kill").args(["-INT", &server.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if server.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = server.kill();
            let _ = server.wait();
        }
    }

    /// Starts the server on its data again, on the same port, and waits until it takes connections.
    pub fn resume(&mut self) {
        let mut command = Command::new(self.bin.join("postgres"));
        command
            .arg("-D")
            .arg(self.directory.path().join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.directory.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"])
            .current_dir(self.directory.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        as_user(&mut command, self.user);
        self.server = Some(command.spawn().expect("postgres starts"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("postgres did not take connections within 30 s");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Debian's server binaries (`/usr/lib/postgresql/<version>/bin`), the newest version there.
fn binaries() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|entry| Some(entry.ok()?.path().join("bin"))).collect())
        .unwrap_or_default();
    versions.retain(|bin| bin.join("postgres").exists());
    versions.sort();
    versions.pop().expect("PostgreSQL's server is installed (Debian's postgresql package; scripts/test.sh installs it)")
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string(Path::new("/etc/passwd")).unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres")).then(|| (fields[2].parse().ok(), fields[3].parse().ok()))
        })
        .and_then(|(uid, gid)| Some((uid?, gid?)))
        .expect("the postgres user exists (created by Debian's postgresql package)")
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid).env("HOME", "/tmp");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
