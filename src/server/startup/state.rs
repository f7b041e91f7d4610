//! What the routes reach: a small state of five parts, each handler taking only the parts it needs (axum's
//! `FromRef`): the periods a view shows, the page's settings, the edge's settings (the router's), access
//! control, and the alerts.

use crate::server::access::AccessControl;
use crate::server::billing::alerts::AlertChecker;
use crate::server::views::choice::Periods;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub periods: Arc<Periods>,
    pub page: Arc<Page>,
    pub edge: Arc<Edge>,
    /// Sign-in and bearer tokens; `None` when `auth_issuer` is empty.
    pub access: Option<Arc<AccessControl>>,
    /// The budget alerts; `None` when no webhook is configured.
    pub alerts: Option<Arc<AlertChecker>>,
}

/// What rendering a page needs.
pub struct Page {
    pub leptos_options: LeptosOptions,
    /// The stylesheet's (content-hashed) path, found once.
    pub stylesheet: String,
    pub table_page_size: usize,
}

/// What the router is built with.
pub struct Edge {
    pub max_requests_in_flight: usize,
    pub cors_allowed_origins: Vec<String>,
    /// The embedded sample upstream is mounted (it is the upstream).
    pub serves_sample_upstream: bool,
    /// `/metrics` needs a bearer token with `metrics:read`.
    pub metrics_need_token: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.page.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Periods> {
    fn from_ref(state: &AppState) -> Self {
        state.periods.clone()
    }
}

impl FromRef<AppState> for Arc<Page> {
    fn from_ref(state: &AppState) -> Self {
        state.page.clone()
    }
}

impl FromRef<AppState> for Option<Arc<AccessControl>> {
    fn from_ref(state: &AppState) -> Self {
        state.access.clone()
    }
}

impl FromRef<AppState> for Option<Arc<AlertChecker>> {
    fn from_ref(state: &AppState) -> Self {
        state.alerts.clone()
    }
}
