//! Wiring the application, in one place: the connections (the shared cache, the database), the kept period,
//! access control and the alerts, the background tasks with their handles (recording each period, checking the
//! alerts), what is waited for before serving (the shared cache's first probe, the database's schema), and what
//! shutting down gives back (the leases on the period's computation). `settings.rs` checks what each module makes
//! of the configuration; `state.rs` is what the routes reach.

pub mod settings;
pub mod state;

use crate::server::access::AccessControl;
use crate::server::billing::alert_ledger::AlertLedger;
use crate::server::billing::alerts::AlertChecker;
use crate::server::config::{Config, ConfigError};
use crate::server::database::schema::SchemaError;
use crate::server::database::{Database, OpenError};
use crate::server::history::store::HistoryStore;
use crate::server::history::{recorder, History};
use crate::server::http::assets;
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::server::shared_cache::{ConnectError, NoSuchDatabase, SharedCache};
use crate::server::views::choice::Periods;
use leptos::config::LeptosOptions;
pub use settings::{configuration, configuration_from, Settings};
use state::{AppState, Edge, Page};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Why the server does not start, naming the key or the service at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database_url: {0}")]
    Database(#[from] OpenError),
    #[error(transparent)]
    SharedCache(#[from] ConnectError),
    #[error(transparent)]
    SharedCacheRefused(#[from] NoSuchDatabase),
    /// A database a newer binary migrated: never "fixed".
    #[error("database_url: {0}")]
    SchemaRefused(SchemaError),
}

/// The application once wired: the routes' state, and what runs beside them.
pub struct Application {
    pub state: AppState,
    keeper: Arc<PeriodKeeper>,
    shared: Option<Arc<SharedCache>>,
    database: Option<Arc<Database>>,
    /// How long start-up waits for the database's schema.
    schema_wait: std::time::Duration,
    /// The upstream's identity, for the log.
    identity: String,
    tasks: Vec<JoinHandle<()>>,
}

impl Application {
    /// Wires the application `config` and `settings` describe. Within a Tokio runtime, connects the shared cache
    /// and starts the background tasks (which end when the application is dropped). Fails when a connection
    /// cannot even be set up (a URL it cannot use, a folder it cannot create); a service that does not answer
    /// yet is not a failure.
    pub fn wire(leptos_options: LeptosOptions, config: &Config, settings: Settings) -> Result<Self, StartupError> {
        let runtime = tokio::runtime::Handle::try_current().ok();
        let shared = match (&runtime, settings.shared) {
            (Some(runtime), Some(shared)) => Some(SharedCache::connect(shared, runtime)?),
            _ => None,
        };
        let identity = settings.upstream.identity.clone();
        let upstream_shown = settings.upstream.client.urls.redacted_base();
        let keeper = Arc::new(PeriodKeeper::new(config, settings.upstream.client, shared.clone()));
        let database = match config.database_url.as_str() {
            "" => None,
            url => Some(Arc::new(Database::open(url, config.history_timeout(), config.history_work_timeout())?)),
        };
        let history = database.as_ref().map(|db| {
            Arc::new(History::new(HistoryStore::new(db.clone(), &identity), config.history_retention_periods as usize))
        });
        let alerts = match (&database, settings.alerts) {
            (Some(db), Some(alerts)) => Some(Arc::new(AlertChecker::new(
                AlertLedger::new(db.clone(), &identity),
                alerts,
                settings.budget.clone(),
            ))),
            _ => None,
        };
        let mut tasks = Vec::new();
        if let Some(runtime) = &runtime {
            if let Some(history) = &history {
                let recording =
                    recorder::record_periods(history.clone(), Arc::downgrade(&keeper), recorder::tick(config));
                tasks.push(runtime.spawn(recording));
            }
            if let Some(alerts) = &alerts {
                tasks.push(runtime.spawn(alerts.clone().run(Arc::downgrade(&keeper))));
            }
        }
        let access =
            settings.session_keys.map(|keys| AccessControl::new(config, keys, shared.clone(), database.clone()));
        let page = Page {
            stylesheet: assets::stylesheet_href(&leptos_options),
            leptos_options,
            table_page_size: config.table_page_size,
        };
        let edge = Edge {
            max_requests_in_flight: config.max_requests_in_flight,
            cors_allowed_origins: config.cors_allowed_origins.clone(),
            serves_sample_upstream: config.uses_sample_upstream(),
            metrics_need_token: config.metrics_need_token(),
        };
        let periods = Periods::new(keeper.clone(), history, settings.budget, upstream_shown);
        let state = AppState { periods: Arc::new(periods), page: Arc::new(page), edge: Arc::new(edge), access, alerts };
        let schema_wait = config.history_timeout() * 5;
        Ok(Application { state, keeper, shared, database, schema_wait, identity, tasks })
    }

    /// What is waited for before serving. The shared cache's first probe, so that the first requests of a fleet
    /// started together share one computation (bounded; then degraded, as when Redis is down), and refused when
    /// the server will never serve this replica. The database's schema: a database a newer binary migrated stops
    /// the server; one that does not answer yet does not (the current period needs none, and recording starts when
    /// it answers).
    pub async fn ready(&self) -> Result<(), StartupError> {
        if let Some(shared) = &self.shared {
            shared.first_probe().await?;
        }
        let (Some(history), Some(database)) = (self.state.periods.history(), &self.database) else { return Ok(()) };
        let shown = database.shown();
        match tokio::time::timeout(self.schema_wait, history.ensure_schema()).await {
            Ok(Ok(())) => tracing::info!(database = shown, upstream = self.identity, "history store ready"),
            Ok(Err(error @ SchemaError::NewerThanBinary { .. })) => return Err(StartupError::SchemaRefused(error)),
            Ok(Err(error)) => {
                tracing::warn!(%error, database = shown, "history store unavailable; recording when it answers")
            }
            Err(_) => tracing::warn!(database = shown, "history store did not answer; recording when it answers"),
        }
        Ok(())
    }

    /// Shutting down: no lease is taken from now on, and those held are given back, so that another replica
    /// computes the period at once rather than waiting for this one's lease to end.
    pub async fn stop_computing(&self) {
        self.keeper.release_leases().await;
    }

    /// After the last request: a lease a computation took just before the signal, if it is still held, and the
    /// background tasks.
    pub async fn exit(self) {
        self.keeper.release_leases().await;
        for task in self.tasks {
            task.abort();
        }
    }
}

impl AppState {
    /// The state of an application wired from `config` alone, known to be usable (tests).
    pub fn new(leptos_options: LeptosOptions, config: &Config) -> Self {
        let settings = Settings::from_config(config).expect("a usable configuration");
        // The background tasks go on (a dropped handle does not stop its task) until the kept period is dropped.
        Application::wire(leptos_options, config, settings).expect("usable connections").state
    }
}
