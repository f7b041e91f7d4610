//! Reading the organisations again, without a restart: on SIGHUP, and when the configuration file or a file of
//! `organisations_path` changes (their sizes and times, looked at every two seconds). An organisation read the
//! same is kept as it is (its kept period, its caches); a new or changed one is wired anew; a removed one is
//! dropped with its tasks. A reading that fails keeps the last good set in force, and says which organisation
//! and key in the log and on `/readyz`. Only the organisations are read again: the deployment's other keys
//! take a restart.

use super::settings::{OrganisationSettings, SettingsError};
use super::{StartupError, Wired};
use crate::server::config::{Config, DEFAULT_CONFIG_PATH};
use crate::server::organisations::organisations;
use crate::server::organisations::tenants::{CurrentOrganisations, Tenants};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How often the files are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Why a reading of the organisations was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Wiring(#[from] StartupError),
}

/// What a reading changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reloaded {
    pub kept: usize,
    pub wired: usize,
    pub removed: usize,
}

pub struct Reloader {
    /// The configuration at start-up: an organisation's keys go over it, as they did then.
    base: Config,
    wired: Arc<Mutex<Wired>>,
    current: Arc<CurrentOrganisations>,
    operator_groups: Vec<String>,
}

impl Reloader {
    pub(super) fn new(base: &Config, wired: Arc<Mutex<Wired>>, current: Arc<CurrentOrganisations>) -> Self {
        let operator_groups = base.auth_operator_groups.clone();
        Reloader { base: base.clone(), wired, current, operator_groups }
    }

    /// Reads the organisations of the configuration file `env` names (or `Leptos.toml`) and of the folder, and
    /// puts them in force; a failure leaves the last good ones in force, logged and on `/readyz`.
    pub fn reload(&self, env: &HashMap<String, String>) -> Result<Reloaded, ReloadError> {
        let outcome = self.read(env);
        match &outcome {
            Ok(reloaded) => tracing::info!(?reloaded, "organisations read again"),
            Err(error) => {
                tracing::error!(%error, "organisations not read again: the last good ones stay in force");
                self.current.refuse(error.to_string());
            }
        }
        outcome
    }

    fn read(&self, env: &HashMap<String, String>) -> Result<Reloaded, ReloadError> {
        let now = Config::load_from(env).map_err(SettingsError::from)?;
        let config = Config { organisations: now.organisations, ..self.base.clone() };
        let found = organisations(&config).map_err(SettingsError::from)?;
        let previous = self.current.get();
        let mut reloaded = Reloaded::default();
        let mut tenants = Vec::new();
        // Everything is wired before anything is put in force: a failure half-way changes nothing.
        for organisation in found {
            match previous.get(&organisation.id).filter(|tenant| tenant.organisation == organisation) {
                Some(same) => {
                    reloaded.kept += 1;
                    tenants.push(same.clone());
                }
                None => {
                    let settings =
                        OrganisationSettings::from_organisation(organisation).map_err(SettingsError::from)?;
                    let tenant =
                        self.wired.lock().unwrap_or_else(std::sync::PoisonError::into_inner).tenant(settings)?;
                    reloaded.wired += 1;
                    tenants.push(Arc::new(tenant));
                }
            }
        }
        reloaded.removed = previous.iter().filter(|old| !tenants.iter().any(|new| new.id() == old.id())).count();
        self.current.replace(Tenants::new(tenants, self.operator_groups.clone()));
        Ok(reloaded)
    }

    /// Reads the organisations again on SIGHUP and when their files change, until the runtime ends.
    pub fn watch(self: Arc<Self>, env: HashMap<String, String>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut seen = self.fingerprint(&env);
            loop {
                #[cfg(unix)]
                let signalled = async {
                    match hangup.as_mut() {
                        Some(hangup) => hangup.recv().await,
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let signalled = std::future::pending::<Option<()>>();
                let asked = tokio::select! {
                    _ = signalled => true,
                    _ = tokio::time::sleep(LOOK_EVERY) => false,
                };
                let now = self.fingerprint(&env);
                if asked || now != seen {
                    seen = now;
                    let _ = self.reload(&env);
                }
            }
        })
    }

    /// The sizes and times of the configuration file and of each file of the folder.
    fn fingerprint(&self, env: &HashMap<String, String>) -> Vec<(String, u64, Option<SystemTime>)> {
        let stamp = |path: &Path| {
            let metadata = std::fs::metadata(path).ok();
            (
                path.display().to_string(),
                metadata.as_ref().map_or(0, std::fs::Metadata::len),
                metadata.and_then(|metadata| metadata.modified().ok()),
            )
        };
        let file = env.get("DASHBOARD_CONFIG").cloned().unwrap_or_else(|| DEFAULT_CONFIG_PATH.to_owned());
        let mut stamps = vec![stamp(Path::new(&file))];
        if !self.base.organisations_path.is_empty() {
            if let Ok(entries) = std::fs::read_dir(&self.base.organisations_path) {
                let mut files: Vec<_> = entries.filter_map(|entry| Some(stamp(&entry.ok()?.path()))).collect();
                files.sort();
                stamps.extend(files);
            }
        }
        stamps
    }
}
