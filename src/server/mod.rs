//! Everything that runs only on the server: configuration, the upstream client, the usage service, the
//! chart renderer, the embedded sample upstream and the HTTP routes.

pub mod chart;
pub mod config;
pub mod error;
pub mod routes;
pub mod sample_upstream;
pub mod security;
pub mod upstream;
pub mod usage_service;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub usage: Arc<usage_service::UsageService>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, config: &config::Config) -> Self {
        AppState { leptos_options, usage: Arc::new(usage_service::UsageService::new(config)) }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
