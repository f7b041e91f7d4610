//! Everything that runs only on the server, by concern, each folder importing only from those listed after
//! it: `http` (the edge's machinery) → `access` (who may read: sign-in, sessions, bearer tokens) → `views`
//! (what is built from a priced period) → `history` (the periods kept in a database) → `pricing` (the credit
//! rules and the kept period) → `shared_cache` (what replicas share through Redis) → `upstream` (the billing
//! API and its client); `config`, `error` and `memo` serve them all.

pub mod access;
pub mod billing;
pub mod config;
pub mod database;
pub mod error;
pub mod history;
pub mod http;
pub mod memo;
pub mod pricing;
pub mod shared_cache;
pub mod upstream;
pub mod views;

use crate::view_query::ViewQuery;
use axum::extract::FromRef;
use billing::alert_ledger::AlertLedger;
use billing::alert_sender::WebhookSender;
use billing::alerts::{AlertChecker, AlertSettings};
use billing::webhook_signature::WebhookSecrets;
use billing::BudgetSettings;
use database::Database;
use error::UsageError;
use history::archive::period_id;
use history::store::HistoryStore;
use history::History;
use leptos::config::LeptosOptions;
use pricing::period_keeper::PeriodKeeper;
use std::sync::Arc;
use std::time::Duration;
use views::period_views::{PeriodViews, ViewCache};

/// The period a view shows, whether it is a past one (read from the history store), and whether the view was
/// a paging walk pinned to a version that is no longer kept (so it shows the latest instead, and says so).
pub struct ShownPeriod {
    pub views: PeriodViews,
    pub past: bool,
    pub refreshed: bool,
}

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<config::Config>,
    pub periods: Arc<PeriodKeeper>,
    pub views: Arc<ViewCache>,
    /// The periods kept in a database; `None` when `database_url` is empty.
    pub history: Option<Arc<History>>,
    /// The budget alerts; `None` when no webhook is configured.
    pub alerts: Option<Arc<AlertChecker>>,
    /// Sign-in and bearer tokens; `None` when `auth_issuer` is empty.
    pub access: Option<Arc<access::AccessControl>>,
    /// The stylesheet's (content-hashed) path, found once.
    pub stylesheet: Arc<str>,
    /// The billing cycle and budget, read from the configuration once.
    budget: Arc<BudgetSettings>,
    /// The upstream's base URL without credentials, for the logs.
    upstream_shown: Arc<str>,
}

impl AppState {
    /// [`try_new`](Self::try_new) for a configuration known to be usable (tests).
    pub fn new(leptos_options: LeptosOptions, config: &config::Config) -> Self {
        AppState::try_new(leptos_options, config).expect("a usable history store")
    }

    /// Within a Tokio runtime, also starts recording each kept period in the history store (a task that ends
    /// when the state is dropped). Fails when the history store cannot even be opened (its folder cannot be
    /// created, say); a database that does not answer yet is not a failure.
    pub fn try_new(leptos_options: LeptosOptions, config: &config::Config) -> Result<Self, String> {
        // The connection is a task: within a Tokio runtime only, as the history's recorder.
        let rules = pricing::credit_rules::RULES_VERSION;
        let settings = shared_cache::SharedSettings::from_config(config, &config.upstream_identity(), rules)
            .map_err(|reason| format!("shared_cache_secret: {reason}"))?;
        let shared = match (tokio::runtime::Handle::try_current(), settings) {
            (Ok(runtime), Some(settings)) => {
                Some(shared_cache::SharedCache::connect(settings, &runtime).map_err(|error| error.to_string())?)
            }
            _ => None,
        };
        let periods = Arc::new(PeriodKeeper::new(config, shared.clone()));
        let db = match config.database_url.as_str() {
            "" => None,
            url => Some(Arc::new(
                Database::open(url, config.history_timeout(), config.history_work_timeout())
                    .map_err(|reason| format!("database_url: {reason}"))?,
            )),
        };
        let history = db.as_ref().map(|db| {
            let store = HistoryStore::new(db.clone(), &config.upstream_identity());
            Arc::new(History::new(store, config.history_retention_periods as usize))
        });
        let budget = BudgetSettings { cycle: config.billing_cycle(), budget: config.budget().ok().flatten() };
        let secrets = WebhookSecrets::parse(&config.alert_webhook_secret);
        let alerts = match (&db, reqwest::Url::parse(&config.alert_webhook_url), secrets) {
            (Some(db), Ok(url), Ok(secrets)) => {
                let timeout = Duration::from_millis(config.alert_webhook_timeout_ms);
                let settings = AlertSettings {
                    sender: WebhookSender::new(url, secrets, timeout),
                    check_every: Duration::from_secs(config.alert_check_interval_secs),
                    thresholds: config.alert_thresholds_permille(),
                    retry_window: Duration::from_secs(config.alert_retry_window_secs),
                    timeout,
                };
                let ledger = AlertLedger::new(db.clone(), &config.upstream_identity());
                Some(Arc::new(AlertChecker::new(ledger, settings, budget.clone())))
            }
            _ => None,
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            if let Some(history) = &history {
                runtime.spawn(history::recorder::record_periods(
                    history.clone(),
                    Arc::downgrade(&periods),
                    config.history_tick(),
                ));
            }
            if let Some(alerts) = &alerts {
                runtime.spawn(alerts.clone().run(Arc::downgrade(&periods)));
            }
        }
        let access = access::AccessControl::new(config, shared, db)?;
        Ok(AppState {
            access,
            stylesheet: http::assets::stylesheet_href(&leptos_options).into(),
            leptos_options,
            config: Arc::new(config.clone()),
            periods,
            views: Arc::new(ViewCache::default()),
            history,
            alerts,
            budget: Arc::new(budget),
            upstream_shown: config.upstream_urls().redacted_base().into(),
        })
    }

    /// The billing cycle and budget the configuration sets.
    pub fn budget_settings(&self) -> &BudgetSettings {
        &self.budget
    }

    /// The kept period's views: what `/usage` reads.
    pub async fn current_views(&self) -> Result<PeriodViews, UsageError> {
        let period = self.periods.kept_period().await?;
        Ok(self.views.views_of(&period))
    }

    /// The period a view asks for, with its views: the current one from the upstream, or a past one from the
    /// history store. A period id that is the current period's is the current period.
    pub async fn views_for(&self, view: &ViewQuery) -> Result<ShownPeriod, UsageError> {
        let current = |views| ShownPeriod { views, past: false, refreshed: false };
        let Some(id) = view.period.as_deref() else {
            // A paging walk stays on the version it started on while that version is kept.
            if let Some(version) = view.version {
                if let Some(period) = self.periods.period_version(version).await {
                    return Ok(current(self.views.views_of(&period)));
                }
                // Not kept: the latest data, which may still be that version (the same data fetched again).
                let views = self.current_views().await?;
                let refreshed = views.period.version != version;
                return Ok(ShownPeriod { views, past: false, refreshed });
            }
            return self.current_views().await.map(current);
        };
        // The listing, as last read, says whether the store keeps it closed; only then is the store asked (or
        // when the listing could not be read, and the store may know).
        if let Some(history) = self.history.as_ref().filter(|history| history.is_closed(id) != Some(false)) {
            if let Some(period) = history.past_period(id).await? {
                return Ok(ShownPeriod { views: self.views.views_of(&period), past: true, refreshed: false });
            }
        }
        let views = self.current_views().await?;
        match period_id(&views.period) {
            Some(current_id) if current_id == id => Ok(current(views)),
            _ => Err(UsageError::PeriodNotFound { id: id.to_owned() }),
        }
    }

    /// Every failure a client is answered with is logged here, once, where it is answered: its code, the route
    /// and the upstream (without credentials), and the cause.
    pub fn log_failure(&self, route: &str, error: &UsageError) {
        tracing::error!(code = error.code(), route, upstream = %self.upstream_shown, %error, "request failed");
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
