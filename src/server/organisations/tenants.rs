//! The organisations as the routes reach them: each with its name, who belongs to it, the periods it shows and
//! its alerts. Empty for a single deployment, whose one organisation is the state's own periods.

use super::Organisation;
use crate::server::access::Caller;
use crate::server::billing::alerts::AlertChecker;
use crate::server::error::UsageError;
use crate::server::org_id::OrgId;
use crate::server::views::choice::Periods;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One organisation, wired.
pub struct Tenant {
    /// As configured: an organisation read again the same is kept as it is (its kept period, its caches).
    pub organisation: Organisation,
    pub periods: Arc<Periods>,
    /// The budget alerts; `None` without a webhook.
    pub alerts: Option<Arc<AlertChecker>>,
}

impl Tenant {
    pub fn id(&self) -> &OrgId {
        &self.organisation.id
    }

    pub fn name(&self) -> &str {
        &self.organisation.name
    }
}

/// Every organisation of the deployment, by id, and who operates them all.
#[derive(Default)]
pub struct Tenants {
    by_id: BTreeMap<OrgId, Arc<Tenant>>,
    /// People carrying one of these groups read every organisation (`auth_operator_groups`).
    operator_groups: Vec<String>,
}

impl Tenants {
    pub fn new(tenants: Vec<Arc<Tenant>>, operator_groups: Vec<String>) -> Self {
        let by_id = tenants.into_iter().map(|tenant| (tenant.id().clone(), tenant)).collect();
        Tenants { by_id, operator_groups }
    }

    /// Whether `caller` operates the deployment: every organisation is theirs to read.
    pub fn is_operator(&self, caller: &Caller) -> bool {
        self.operator_groups.iter().any(|group| caller.groups().contains(group))
    }

    /// No organisation is configured: the deployment is one.
    pub fn is_single(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &OrgId) -> Option<&Arc<Tenant>> {
        self.by_id.get(id)
    }

    /// In id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        self.by_id.values()
    }

    /// Those someone with these claims and groups belongs to, in id order.
    pub fn of_member<'a>(
        &'a self,
        claimed: &'a [String],
        groups: &'a [String],
    ) -> impl Iterator<Item = &'a Arc<Tenant>> {
        self.iter().filter(move |tenant| tenant.organisation.has_member(claimed, groups))
    }
}

/// The organisations in force: replaced whole when they are read again (a request holds the set it started
/// with), and why the last reading was refused, if it was (the set in force is then the last good one).
#[derive(Default)]
pub struct CurrentOrganisations {
    tenants: std::sync::RwLock<Arc<Tenants>>,
    refused: std::sync::RwLock<Option<String>>,
}

impl CurrentOrganisations {
    pub fn new(tenants: Tenants) -> Self {
        CurrentOrganisations { tenants: std::sync::RwLock::new(Arc::new(tenants)), refused: Default::default() }
    }

    pub fn get(&self) -> Arc<Tenants> {
        self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn replace(&self, tenants: Tenants) {
        *self.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(tenants);
        *self.refused.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    pub fn refuse(&self, why: String) {
        *self.refused.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
    }

    /// Why the last reading of the organisations was refused; `None` when it was not.
    pub fn refused(&self) -> Option<String> {
        self.refused.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// What a request reads: one organisation's periods and alerts (the deployment's, for a deployment of one).
#[derive(Clone)]
pub struct Scope {
    pub periods: Arc<Periods>,
    pub alerts: Option<Arc<AlertChecker>>,
    /// `None` for a deployment of one.
    pub organisation: Option<OrgId>,
}

impl Tenants {
    /// The organisation a request may read. `asked` is the id of its route (`/o/{id}/…`), or of the view the
    /// table's server function is given; `None` for a plain route, which reads the deployment of one, or (with
    /// organisations) the one organisation a caller belongs to. With access control on (`guarded`), only an
    /// organisation the caller belongs to; anything else, an id malformed, unknown or not the caller's, is the
    /// same not-found, so that nobody learns which organisations exist.
    pub fn scope(
        &self,
        single: impl FnOnce() -> Scope,
        caller: Option<&Caller>,
        guarded: bool,
        asked: Option<&str>,
    ) -> Result<Scope, UsageError> {
        let admitted = |tenant: &Tenant| {
            !guarded
                || caller.is_some_and(|caller| {
                    self.is_operator(caller) || tenant.organisation.has_member(caller.organisations(), caller.groups())
                })
        };
        let tenant = match (asked, self.is_single()) {
            (None, true) => return Ok(single()),
            (Some(_), true) => return Err(UsageError::OrganisationNotFound),
            (Some(asked), false) => {
                let id = OrgId::parse(asked).map_err(|_| UsageError::OrganisationNotFound)?;
                self.get(&id).filter(|tenant| admitted(tenant)).ok_or(UsageError::OrganisationNotFound)?
            }
            (None, false) => {
                let mut theirs = self.iter().filter(|tenant| guarded && admitted(tenant));
                match (theirs.next(), theirs.next()) {
                    (Some(only), None) => only,
                    _ => return Err(UsageError::OrganisationNotFound),
                }
            }
        };
        Ok(tenant.scope())
    }
}

impl Tenant {
    pub fn scope(&self) -> Scope {
        Scope { periods: self.periods.clone(), alerts: self.alerts.clone(), organisation: Some(self.id().clone()) }
    }
}
