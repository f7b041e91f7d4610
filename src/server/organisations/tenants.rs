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
    pub id: OrgId,
    pub name: String,
    pub groups: Vec<String>,
    pub periods: Arc<Periods>,
    /// The budget alerts; `None` without a webhook.
    pub alerts: Option<Arc<AlertChecker>>,
}

impl Tenant {
    pub fn new(organisation: &Organisation, periods: Arc<Periods>, alerts: Option<Arc<AlertChecker>>) -> Self {
        Tenant {
            id: organisation.id.clone(),
            name: organisation.name.clone(),
            groups: organisation.groups.clone(),
            periods,
            alerts,
        }
    }

    /// Whether someone whose organisation claim says `claimed` and who carries `groups` belongs here.
    pub fn has_member(&self, claimed: &[String], groups: &[String]) -> bool {
        super::belongs(&self.id, &self.groups, claimed, groups)
    }
}

/// Every organisation of the deployment, by id.
#[derive(Default)]
pub struct Tenants {
    by_id: BTreeMap<OrgId, Arc<Tenant>>,
}

impl Tenants {
    pub fn new(tenants: Vec<Tenant>) -> Self {
        Tenants { by_id: tenants.into_iter().map(|tenant| (tenant.id.clone(), Arc::new(tenant))).collect() }
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
        self.iter().filter(move |tenant| tenant.has_member(claimed, groups))
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
            !guarded || caller.is_some_and(|caller| tenant.has_member(caller.organisations(), caller.groups()))
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
        Scope { periods: self.periods.clone(), alerts: self.alerts.clone(), organisation: Some(self.id.clone()) }
    }
}
