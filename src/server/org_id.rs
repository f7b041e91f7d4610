//! An organisation's id: a slug of `a-z`, `0-9` and `-`, 1 to 63 characters, not starting or ending with `-`.
//! Every key, row and route that belongs to an organisation is built from one (never from a plain string), so
//! that nothing can be looked up, cached or stored without saying whose it is.

use std::fmt;

/// The id of the one organisation of a deployment that configures none.
pub const DEFAULT_ORGANISATION: &str = "default";

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

/// Text that is not an organisation's id, fit to show (cut at 63 characters, control characters replaced).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an organisation id: 1 to 63 of a-z, 0-9 and -, not starting or ending with -")]
pub struct NotAnOrgId(String);

impl OrgId {
    pub fn parse(text: &str) -> Result<OrgId, NotAnOrgId> {
        let slug = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-';
        if (1..=63).contains(&text.len()) && text.bytes().all(slug) && !text.starts_with('-') && !text.ends_with('-') {
            Ok(OrgId(text.to_owned()))
        } else {
            let shown = text.chars().take(63).map(|c| if c.is_control() { '\u{FFFD}' } else { c });
            Err(NotAnOrgId(shown.collect()))
        }
    }

    /// The organisation of a deployment without any configured.
    pub fn default_organisation() -> OrgId {
        OrgId(DEFAULT_ORGANISATION.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path every route of this organisation starts with: `/o/acme`.
    pub fn base_path(&self) -> String {
        format!("/o/{}", self.0)
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_slug_is_an_id() {
        for good in ["acme", "acme-lettings-llp", "a", "42", &"a".repeat(63)] {
            assert_eq!(OrgId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "Acme", "acme_llp", "-acme", "acme-", "ac me", "acmé", "../etc", "a/b", &"a".repeat(64)] {
            assert!(OrgId::parse(bad).is_err(), "{bad:?}");
        }
        let shown = OrgId::parse(&format!("x\n{}", "y".repeat(100))).unwrap_err().to_string();
        assert!(!shown.contains('\n') && shown.len() < 200, "{shown}");
        assert_eq!(OrgId::parse("acme").unwrap().base_path(), "/o/acme");
    }
}
