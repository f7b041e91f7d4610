//! Everything that runs only on the server, by concern, each folder importing only from those listed after
//! it: `http` (the edge's machinery) → `views` (what is built from a priced period) → `pricing` (the credit
//! rules and the kept period) → `upstream` (the billing API and its client); `config`, `error` and `memo`
//! serve them all.

pub mod config;
pub mod error;
pub mod http;
pub mod memo;
pub mod pricing;
pub mod upstream;
pub mod views;

use axum::extract::FromRef;
use error::UsageError;
use leptos::config::LeptosOptions;
use pricing::period_keeper::PeriodKeeper;
use std::sync::Arc;
use views::period_views::{PeriodViews, ViewCache};

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<config::Config>,
    pub periods: Arc<PeriodKeeper>,
    pub views: Arc<ViewCache>,
    /// The stylesheet's (content-hashed) path, found once.
    pub stylesheet: Arc<str>,
    /// The upstream's base URL without credentials, for the logs.
    upstream_shown: Arc<str>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, config: &config::Config) -> Self {
        AppState {
            stylesheet: http::assets::stylesheet_href(&leptos_options).into(),
            leptos_options,
            config: Arc::new(config.clone()),
            periods: Arc::new(PeriodKeeper::new(config)),
            views: Arc::new(ViewCache::default()),
            upstream_shown: config.upstream_urls().redacted_base().into(),
        }
    }

    /// The kept period's views: what every route that shows usage reads.
    pub async fn current_views(&self) -> Result<PeriodViews, UsageError> {
        let period = self.periods.kept_period().await?;
        Ok(self.views.views_of(&period))
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
