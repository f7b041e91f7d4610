//! Wiring the application, in one place: the connections (the shared cache, the database), the kept period,
//! access control and the alerts, the background tasks with their handles (recording each period, checking the
//! alerts), what is waited for before serving (the shared cache's first probe, the database's schema), and what
//! shutting down gives back (the leases on the period's computation). `settings.rs` checks what each module makes
//! of the configuration; `state.rs` is what the routes reach.

pub mod reload;
pub mod settings;
pub mod state;

use crate::server::access::AccessControl;
use crate::server::billing::alert_ledger::AlertLedger;
use crate::server::billing::alerts::AlertChecker;
use crate::server::billing::alerts::AlertSettings;
use crate::server::billing::BudgetSettings;
use crate::server::config::{Config, ConfigError};
use crate::server::database::schema::SchemaError;
use crate::server::database::{Database, OpenError};
use crate::server::history::store::HistoryStore;
use crate::server::history::{recorder, History};
use crate::server::http::assets;
use crate::server::organisations::tenants::{CurrentOrganisations, Tenant, Tenants};
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::server::shared_cache::{ConnectError, NoSuchDatabase, SharedCache, SharedSettings};
use crate::server::upstream::client::CallSlots;
use crate::server::upstream::settings::UpstreamSettings;
use crate::server::views::choice::Periods;
use leptos::config::LeptosOptions;
pub use settings::{configuration, configuration_from, process_env, OrganisationSettings, Settings};
use state::{AppState, Edge, Page};
use std::sync::{Arc, Mutex};
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
    /// The connections, keepers and tasks, which organisations read again add to.
    wired: Arc<Mutex<Wired>>,
    /// Reads the organisations again.
    reloader: Arc<reload::Reloader>,
    /// How long start-up waits for the database's schema.
    schema_wait: std::time::Duration,
    /// The upstream's identity, for the log.
    identity: String,
}

/// What one organisation's periods are wired from.
pub(crate) struct Wiring<'a> {
    config: &'a Config,
    upstream: UpstreamSettings,
    budget: BudgetSettings,
    alerts: Option<AlertSettings>,
    shared: Option<SharedSettings>,
    /// Whether its periods are recorded and its alerts checked (not the deployment's own, unserved, when it has
    /// organisations).
    served: bool,
}

impl Application {
    /// Wires the application `config` and `settings` describe. Within a Tokio runtime, connects the shared cache
    /// and starts the background tasks (which end when the application is dropped). Fails when a connection
    /// cannot even be set up (a URL it cannot use, a folder it cannot create); a service that does not answer
    /// yet is not a failure.
    pub fn wire(leptos_options: LeptosOptions, config: &Config, settings: Settings) -> Result<Self, StartupError> {
        let database = match config.database_url.as_str() {
            "" => None,
            url => Some(Arc::new(Database::open(url, config.history_timeout(), config.history_work_timeout())?)),
        };
        let identity = settings.upstream.identity.clone();
        let serves_sample_upstream = config.uses_sample_upstream();
        let single = settings.organisations.is_empty();
        let in_flight = CallSlots::new(config.upstream_concurrency);
        let mut wired = Wired { database, in_flight, keepers: Vec::new(), shared: Vec::new(), tasks: Vec::new() };
        let deployment = Wiring {
            config,
            upstream: settings.upstream,
            budget: settings.budget,
            alerts: settings.alerts,
            shared: settings.shared,
            served: single,
        };
        let (periods, alerts) = wired.periods(deployment)?;
        let mut tenants = Vec::new();
        for organisation in settings.organisations {
            tenants.push(Arc::new(wired.tenant(organisation)?));
        }
        let shared = wired.shared.first().cloned();
        let access = settings.session_keys.map(|keys| AccessControl::new(config, keys, shared, wired.database.clone()));
        let page = Page {
            stylesheet: assets::stylesheet_href(&leptos_options),
            leptos_options,
            table_page_size: config.table_page_size,
        };
        let edge = Edge {
            max_requests_in_flight: config.max_requests_in_flight,
            cors_allowed_origins: config.cors_allowed_origins.clone(),
            serves_sample_upstream,
            metrics_need_token: config.metrics_need_token(),
        };
        let tenants = Tenants::new(tenants, config.auth_operator_groups.clone());
        let organisations = Arc::new(CurrentOrganisations::new(tenants));
        let state = AppState { periods, page: Arc::new(page), edge: Arc::new(edge), access, alerts, organisations };
        let wired = Arc::new(Mutex::new(wired));
        let reloader = Arc::new(reload::Reloader::new(config, wired.clone(), state.organisations.clone()));
        let schema_wait = config.history_timeout() * 5;
        Ok(Application { state, wired, reloader, schema_wait, identity })
    }

    /// What is waited for before serving. The shared cache's first probe, so that the first requests of a fleet
    /// started together share one computation (bounded; then degraded, as when Redis is down), and refused when
    /// the server will never serve this replica. The database's schema: a database a newer binary migrated stops
    /// the server; one that does not answer yet does not (the current period needs none, and recording starts when
    /// it answers).
    pub async fn ready(&self) -> Result<(), StartupError> {
        let (shared, database) = {
            let wired = self.wired.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            (wired.shared.clone(), wired.database.clone())
        };
        for shared in &shared {
            shared.first_probe().await?;
        }
        let Some(database) = &database else { return Ok(()) };
        let shown = database.shown();
        let tenants = self.state.organisations.get();
        let periods = std::iter::once(&self.state.periods).chain(tenants.iter().map(|tenant| &tenant.periods));
        let histories: Vec<_> = periods.filter_map(|periods| periods.history().cloned()).collect();
        let Some(first) = histories.first() else { return Ok(()) };
        match tokio::time::timeout(self.schema_wait, first.ensure_schema()).await {
            Ok(Ok(())) => tracing::info!(database = shown, upstream = self.identity, "history store ready"),
            Ok(Err(error @ SchemaError::NewerThanBinary { .. })) => {
                for history in &histories {
                    history.refuse(error.to_string());
                }
                return Err(StartupError::SchemaRefused(error));
            }
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
        let keepers = self.wired.lock().unwrap_or_else(std::sync::PoisonError::into_inner).keepers.clone();
        for keeper in keepers.iter().filter_map(std::sync::Weak::upgrade) {
            keeper.release_leases().await;
        }
    }

    /// What reads the organisations again (on SIGHUP, when their files change, or when asked).
    pub fn reloader(&self) -> Arc<reload::Reloader> {
        self.reloader.clone()
    }

    /// After the last request: a lease a computation took just before the signal, if it is still held, and the
    /// background tasks.
    pub async fn exit(self) {
        self.stop_computing().await;
        let tasks = std::mem::take(&mut self.wired.lock().unwrap_or_else(std::sync::PoisonError::into_inner).tasks);
        for task in tasks {
            task.abort();
        }
    }
}

/// What wiring has built so far, beside the state.
pub(crate) struct Wired {
    database: Option<Arc<Database>>,
    /// The upstream calls in flight across every organisation: one bound for them all.
    in_flight: CallSlots,
    /// Every keeper, for its leases at shutdown; an organisation removed since drops its own.
    keepers: Vec<std::sync::Weak<PeriodKeeper>>,
    /// Every shared cache connection, for the first probe.
    shared: Vec<Arc<SharedCache>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Wired {
    /// One organisation, wired.
    pub(crate) fn tenant(&mut self, organisation: OrganisationSettings) -> Result<Tenant, StartupError> {
        let wiring = Wiring {
            config: &organisation.organisation.config,
            upstream: organisation.upstream,
            budget: organisation.budget,
            alerts: organisation.alerts,
            shared: organisation.shared,
            served: true,
        };
        let (periods, alerts) = self.periods(wiring)?;
        Ok(Tenant { organisation: organisation.organisation, periods, alerts })
    }

    /// One organisation's periods (or the deployment's): its keeper, its history, its alerts, and their tasks.
    fn periods(&mut self, mut wiring: Wiring) -> Result<(Arc<Periods>, Option<Arc<AlertChecker>>), StartupError> {
        wiring.upstream.client.in_flight = self.in_flight.clone();
        let runtime = tokio::runtime::Handle::try_current().ok();
        let shared = match (&runtime, wiring.shared) {
            (Some(runtime), Some(shared)) => Some(SharedCache::connect(shared, runtime)?),
            _ => None,
        };
        self.shared.extend(shared.clone());
        let identity = wiring.upstream.identity.clone();
        let upstream_shown = wiring.upstream.client.urls.redacted_base();
        let keeper = Arc::new(PeriodKeeper::new(wiring.config, wiring.upstream.client, shared));
        self.keepers.push(Arc::downgrade(&keeper));
        // A task of an organisation removed since ends with it; its handle is not kept for ever.
        self.tasks.retain(|task| !task.is_finished());
        let database = self.database.as_ref().filter(|_| wiring.served);
        let retention = wiring.config.history_retention_periods as usize;
        let history = database.map(|db| Arc::new(History::new(HistoryStore::new(db.clone(), &identity), retention)));
        let alerts = match (database, wiring.alerts) {
            (Some(db), Some(alerts)) => Some(Arc::new(AlertChecker::new(
                AlertLedger::new(db.clone(), &identity),
                alerts,
                wiring.budget.clone(),
            ))),
            _ => None,
        };
        if let Some(runtime) = &runtime {
            if let Some(history) = &history {
                let tick = recorder::tick(wiring.config);
                let recording = recorder::record_periods(history.clone(), Arc::downgrade(&keeper), tick);
                self.tasks.push(runtime.spawn(recording));
            }
            if let Some(alerts) = &alerts {
                self.tasks.push(runtime.spawn(alerts.clone().run(Arc::downgrade(&keeper))));
            }
        }
        let periods = Arc::new(Periods::new(keeper, history, wiring.budget, upstream_shown));
        Ok((periods, alerts))
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
