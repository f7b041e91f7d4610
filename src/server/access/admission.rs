//! Who may read the usage, once the provider has said who a person is: a rule of groups, domains and tenants, or
//! every account said out loud (`auth_allow_any_account`). An empty rule is refused at start-up: with a provider
//! such as Google, whose ID tokens carry no groups, "no group check" would admit any account in the world.

use serde::{Deserialize, Serialize};

/// The rule, from `auth_allowed_groups`, `auth_allowed_domains`, `auth_allowed_tenants` and
/// `auth_allow_any_account`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admission {
    pub any_account: bool,
    pub groups: Vec<String>,
    /// Lower case.
    pub domains: Vec<String>,
    pub tenants: Vec<String>,
}

/// What the provider says of a person that the rule reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub groups: Vec<String>,
    /// Only a verified address says which domain the person belongs to.
    pub verified_email: Option<String>,
    /// Google's hosted domain (`hd`): the Workspace the account belongs to.
    pub hosted_domain: Option<String>,
    /// Entra ID's tenant (`tid`).
    pub tenant: Option<String>,
    /// The organisations the organisation claim names (not a rule of admission: which organisations' usage the
    /// person reads). Absent in a session kept before organisations: none.
    #[serde(default)]
    pub organisations: Vec<String>,
}

impl Admission {
    pub fn new(any_account: bool, groups: &[String], domains: &[String], tenants: &[String]) -> Self {
        let trimmed = |items: &[String]| items.iter().map(|item| item.trim().to_owned()).collect::<Vec<_>>();
        Admission {
            any_account,
            groups: trimmed(groups),
            domains: trimmed(domains).into_iter().map(|domain| domain.to_ascii_lowercase()).collect(),
            tenants: trimmed(tenants),
        }
    }

    /// Whether the rule reads groups: then a provider that leaves them out of the ID token is asked its UserInfo.
    pub fn reads_groups(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Whether the person these facts describe may read the usage.
    pub fn admits(&self, facts: &Facts) -> bool {
        if self.any_account {
            return true;
        }
        let in_group = facts.groups.iter().any(|group| self.groups.contains(group));
        let email_domain = facts.verified_email.as_deref().and_then(|email| email.rsplit_once('@')).map(|(_, at)| at);
        let domain_allowed = [email_domain, facts.hosted_domain.as_deref()]
            .into_iter()
            .flatten()
            .any(|domain| self.domains.contains(&domain.to_ascii_lowercase()));
        let tenant_allowed = facts.tenant.as_ref().is_some_and(|tenant| self.tenants.contains(tenant));
        in_group || domain_allowed || tenant_allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    #[test]
    fn each_rule_admits_on_its_own_claim_and_nothing_else_admits() {
        let rule = Admission::new(false, &list(&["billing"]), &list(&[" Acme.Example "]), &list(&["tenant-42"]));
        let admitted = [
            Facts { groups: list(&["sales", "billing"]), ..Facts::default() },
            Facts { verified_email: Some("ann@ACME.example".into()), ..Facts::default() },
            Facts { hosted_domain: Some("acme.example".into()), ..Facts::default() },
            Facts { tenant: Some("tenant-42".into()), ..Facts::default() },
        ];
        for facts in &admitted {
            assert!(rule.admits(facts), "{facts:?}");
        }
        let refused = [
            Facts::default(),
            Facts { groups: list(&["sales"]), ..Facts::default() },
            // A subdomain, or a name that only ends like the domain, is another domain.
            Facts { verified_email: Some("ann@mail.acme.example".into()), ..Facts::default() },
            Facts { verified_email: Some("ann@evilacme.example".into()), ..Facts::default() },
            Facts { verified_email: Some("acme.example".into()), ..Facts::default() },
            Facts { tenant: Some("tenant-43".into()), ..Facts::default() },
        ];
        for facts in &refused {
            assert!(!rule.admits(facts), "{facts:?}");
        }
    }

    #[test]
    fn an_empty_rule_admits_nobody_unless_any_account_is_said() {
        assert!(!Admission::new(false, &[], &[], &[]).admits(&Facts { groups: list(&["billing"]), ..Facts::default() }));
        assert!(Admission::new(true, &[], &[], &[]).admits(&Facts::default()));
        assert!(Admission::new(false, &list(&["billing"]), &[], &[]).reads_groups());
        assert!(!Admission::new(false, &[], &list(&["acme.example"]), &[]).reads_groups());
    }
}
