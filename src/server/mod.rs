//! Everything that runs only on the server: configuration, the upstream client, pricing, the usage service,
//! dates and day totals, the chart, the dashboard's data, the embedded sample upstream and the HTTP server.

pub mod assets;
pub mod breakdown;
pub mod chart;
pub mod collation;
pub mod config;
pub mod csv_export;
pub mod dashboard;
pub mod day_totals;
pub mod error;
pub mod http_server;
pub mod overload;
pub mod priced_period;
pub mod pricing;
pub mod resolved_view;
pub mod sample_upstream;
pub mod security;
pub mod table;
pub mod timestamps;
pub mod upstream;
pub mod upstream_url;
pub mod usage_service;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<config::Config>,
    pub usage: Arc<usage_service::UsageService>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, config: &config::Config) -> Self {
        AppState {
            leptos_options,
            config: Arc::new(config.clone()),
            usage: Arc::new(usage_service::UsageService::new(config)),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
