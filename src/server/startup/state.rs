//! What the routes reach: a small state of six parts, each handler taking only the parts it needs (axum's
//! `FromRef`): the periods a view shows, the page's settings, the edge's settings (the router's), access
//! control, the alerts, and the organisations.

use crate::server::access::AccessControl;
use crate::server::access::Caller;
use crate::server::billing::alerts::AlertChecker;
use crate::server::error::UsageError;
use crate::server::organisations::tenants::{CurrentOrganisations, Scope};
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
    /// The organisations, each with its periods; none for a deployment of one (which `periods` is).
    pub organisations: Arc<CurrentOrganisations>,
}

impl AppState {
    /// The organisation a request may read (see [`Tenants::scope`]): `asked` by its route or its view.
    pub fn scope(&self, caller: Option<&Caller>, asked: Option<&str>) -> Result<Scope, UsageError> {
        let single = || Scope { periods: self.periods.clone(), alerts: self.alerts.clone(), organisation: None };
        self.organisations.get().scope(single, caller, self.access.is_some(), asked)
    }
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
