//! The builds a measurement compares: this one, and earlier ones that `bench/run.sh` builds, each into its own
//! directory (a worktree of that revision, also the binary's working directory, with its own Leptos.toml): the
//! build before the second review (`BASELINE_REV`), and the one before the third review of the history store
//! and the shared cache (`HISTORY_BASELINE_REV`), and the one before the configuration, start-up and state were
//! reorganised (`STRUCTURE_BASELINE_REV`).

use crate::{Server, SERVER_BINARY};
use std::path::{Path, PathBuf};
use std::process::Command;

const BEFORE_SECOND_REVIEW_DIR: &str = "target/bench-baseline";
const BEFORE_THIRD_REVIEW_DIR: &str = "target/bench-history-baseline";
const BEFORE_STRUCTURE_DIR: &str = "target/bench-structure-baseline";

pub struct Build {
    pub name: &'static str,
    binary: PathBuf,
    directory: Option<PathBuf>,
    /// The build before the third review: its tables and keys have the names of then.
    pub before_review: bool,
}

impl Build {
    pub async fn start(&self, port: u16, upstream_url: &str, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(&self.binary);
        if let Some(directory) = &self.directory {
            command.current_dir(directory);
        }
        Server::start_binary(command, port, upstream_url, env).await
    }
}

/// The build in `directory`, when `bench/run.sh` built it.
fn built_in(directory: &str) -> Option<Build> {
    let binary = Path::new(directory).join("credit-dashboard").canonicalize().ok()?;
    let directory = Some(PathBuf::from(directory));
    Some(Build { name: "before the review", binary, directory, before_review: true })
}

/// The build before the second review, when `bench/run.sh` built it.
pub fn before_second_review() -> Option<Build> {
    built_in(BEFORE_SECOND_REVIEW_DIR)
}

/// The build before the configuration, start-up and state were reorganised, when `bench/run.sh` built it.
pub fn before_structure() -> Option<Build> {
    built_in(BEFORE_STRUCTURE_DIR).map(|build| Build {
        name: "before the reorganisation",
        before_review: false,
        ..build
    })
}

/// This build.
pub fn this_build() -> Build {
    Build { name: "this build", binary: PathBuf::from(SERVER_BINARY), directory: None, before_review: false }
}

/// The build before the third review (when `bench/run.sh` built it), then this one.
pub fn this_and_before_third_review() -> Vec<Build> {
    let mut builds: Vec<Build> = built_in(BEFORE_THIRD_REVIEW_DIR).into_iter().collect();
    builds.push(this_build());
    builds
}
