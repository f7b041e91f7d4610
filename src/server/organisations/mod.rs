//! The customer firms one deployment serves. Each organisation has an id (an [`OrgId`]), a name, its own
//! upstream (and a header to send it), its own billing settings, and the people who belong to it: those whose
//! organisation claim (`auth_organisation_claim`) names its id, or who carry one of its `groups`. They come from
//! the `[[server.organisations]]` tables of the configuration file and from the folder `organisations_path`
//! names (one `<id>.toml` each); every key not given is the deployment's. Without any, the deployment is one
//! organisation, `default`, served as it always was.
//!
//! `tenants.rs` is what the routes reach: each organisation with the periods it shows.

pub mod tenants;

use crate::server::config::{Config, ConfigError};
use crate::server::org_id::{NotAnOrgId, OrgId};
use std::collections::BTreeMap;
use std::path::Path;

/// The deployment's keys an organisation may set for itself; the others are the deployment's.
pub const ORGANISATION_KEYS: &[&str] = &[
    "upstream_base_url",
    "billing_time_zone",
    "billing_cycle_anchor",
    "billing_interval",
    "credit_budget",
    "alert_thresholds",
    "alert_webhook_url",
    "alert_webhook_secret",
];

/// The keys only an organisation has.
const OWN_KEYS: &[&str] = &["id", "name", "groups", "upstream_authorization"];

/// The most organisation files a folder may hold: past that the folder is refused rather than read in part.
const MOST_FILES: usize = 10_000;

/// One organisation, as configured.
#[derive(Clone, Debug, PartialEq)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    /// People carrying one of these in the `groups` claim belong to it, beside those its id is claimed for.
    pub groups: Vec<String>,
    /// The deployment's configuration with this organisation's keys over it.
    pub config: Config,
    /// Sent as `Authorization` on every upstream call; never shown.
    pub upstream_authorization: Option<String>,
    /// Where it is defined: `organisations/acme.toml`, or `[[server.organisations]] 2 in Leptos.toml`.
    pub origin: String,
}

impl Organisation {
    /// Whether someone whose organisation claim says `claimed` and who carries `groups` belongs here.
    /// Its id claimed exactly, or one of its groups carried.
    pub fn has_member(&self, claimed: &[String], groups: &[String]) -> bool {
        claimed.iter().any(|claim| claim == self.id.as_str()) || self.groups.iter().any(|group| groups.contains(group))
    }
}

/// Why the organisations cannot be used, naming the file (or table) and the key.
#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    #[error("{origin}: {source}")]
    Id { origin: String, source: NotAnOrgId },
    #[error("{origin}: the organisation `{id}` is also defined in {first}")]
    Duplicate { origin: String, id: OrgId, first: String },
    #[error("{origin}: an organisation needs its own `upstream_base_url`")]
    NoUpstream { origin: String },
    #[error("{origin}: `{key}` is not accepted: {accepted}")]
    OwnKey { origin: String, key: &'static str, accepted: &'static str },
    #[error(transparent)]
    Key(#[from] ConfigError),
    #[error("cannot read {path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("{path} is not valid TOML: {source}")]
    NotToml { path: String, source: toml::de::Error },
    #[error("{path} holds more than {MOST_FILES} organisation files")]
    TooMany { path: String },
}

/// Every organisation `config` names, in id order: its tables, then its folder's files. None: a single
/// deployment.
pub fn organisations(config: &Config) -> Result<Vec<Organisation>, OrganisationError> {
    let mut found: BTreeMap<OrgId, Organisation> = BTreeMap::new();
    let mut add = |organisation: Organisation| match found.get(&organisation.id) {
        Some(first) => Err(OrganisationError::Duplicate {
            origin: organisation.origin.clone(),
            id: organisation.id.clone(),
            first: first.origin.clone(),
        }),
        None => {
            found.insert(organisation.id.clone(), organisation);
            Ok(())
        }
    };
    for (at, table) in config.organisations.iter().enumerate() {
        let origin = format!("[[server.organisations]] {}", at + 1);
        let Some(toml::Value::String(id)) = table.get("id") else {
            return Err(OrganisationError::OwnKey { origin, key: "id", accepted: "an organisation id, such as acme" });
        };
        let id = OrgId::parse(id).map_err(|source| OrganisationError::Id { origin: origin.clone(), source })?;
        add(organisation(config, id, table, origin)?)?;
    }
    if !config.organisations_path.is_empty() {
        for (id, table, origin) in folder(Path::new(&config.organisations_path))? {
            if table.contains_key("id") {
                let accepted = "absent: a file's name is its organisation's id";
                return Err(OrganisationError::OwnKey { origin, key: "id", accepted });
            }
            add(organisation(config, id, &table, origin)?)?;
        }
    }
    Ok(found.into_values().collect())
}

/// The organisation `table` describes over the deployment's `config`.
fn organisation(
    config: &Config,
    id: OrgId,
    table: &toml::Table,
    origin: String,
) -> Result<Organisation, OrganisationError> {
    let own_key =
        |key: &'static str, accepted: &'static str| OrganisationError::OwnKey { origin: origin.clone(), key, accepted };
    let name = match table.get("name") {
        None => id.to_string(),
        Some(toml::Value::String(name)) if !name.trim().is_empty() && name.chars().count() <= 200 => name.trim().into(),
        Some(_) => return Err(own_key("name", "a name of 1 to 200 characters")),
    };
    let groups = match table.get("groups") {
        None => Vec::new(),
        Some(toml::Value::Array(groups)) => groups
            .iter()
            .map(|group| group.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| own_key("groups", "a list of group names"))?,
        Some(_) => return Err(own_key("groups", "a list of group names")),
    };
    let upstream_authorization = match table.get("upstream_authorization") {
        None => None,
        Some(toml::Value::String(value)) if !value.is_empty() && !value.chars().any(char::is_control) => {
            Some(value.clone())
        }
        // Never quoted: it is a credential.
        Some(_) => return Err(own_key("upstream_authorization", "a header's value, such as Bearer <token>")),
    };
    if !matches!(table.get("upstream_base_url"), Some(toml::Value::String(url)) if !url.is_empty()) {
        return Err(OrganisationError::NoUpstream { origin });
    }
    let keys: toml::Table = table
        .iter()
        .filter(|(key, _)| !OWN_KEYS.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let config = config.overlaid(&origin, &keys, ORGANISATION_KEYS)?;
    Ok(Organisation { id, name, groups, config, upstream_authorization, origin })
}

/// The organisation files of `folder`: each `<id>.toml`, read and parsed, by name. Other files are left alone.
fn folder(folder: &Path) -> Result<Vec<(OrgId, toml::Table, String)>, OrganisationError> {
    let shown = folder.display().to_string();
    let unreadable = |source| OrganisationError::Unreadable { path: shown.clone(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|extension| extension == "toml") && path.is_file() {
            files.push(path);
        }
        if files.len() > MOST_FILES {
            return Err(OrganisationError::TooMany { path: shown });
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let origin = path.display().to_string();
            let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
            let id = OrgId::parse(&stem).map_err(|source| OrganisationError::Id { origin: origin.clone(), source })?;
            let text = std::fs::read_to_string(&path)
                .map_err(|source| OrganisationError::Unreadable { path: origin.clone(), source })?;
            let table = text.parse().map_err(|source| OrganisationError::NotToml { path: origin.clone(), source })?;
            Ok((id, table, origin))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn deployment(server: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_sources("x.toml", &format!("[server]\n{server}"), &env)
    }

    fn refusal(server: &str, env: &[(&str, &str)]) -> String {
        organisations(&deployment(server, env).unwrap()).expect_err("should be refused").to_string()
    }

    #[test]
    fn organisations_come_from_the_tables_and_the_folder_each_over_the_deployments_keys() {
        let folder = tempfile::tempdir().unwrap();
        let file = "name = \"Beacon Property Law\"\nupstream_base_url = \"https://beacon.test\"\n\
                    upstream_authorization = \"Bearer s3cr3t\"\ncredit_budget = \"500\"\ngroups = [\"beacon-billing\"]\n";
        std::fs::write(folder.path().join("beacon.toml"), file).unwrap();
        std::fs::write(folder.path().join("README.md"), "not an organisation").unwrap();
        let server = format!(
            "credit_budget = \"3000\"\norganisations_path = \"{}\"\n[[server.organisations]]\nid = \"acme\"\n\
             name = \"Acme Lettings LLP\"\nupstream_base_url = \"https://acme.test/api\"\n",
            folder.path().display()
        );
        let found = organisations(&deployment(&server, &[]).unwrap()).unwrap();
        let ids: Vec<&str> = found.iter().map(|organisation| organisation.id.as_str()).collect();
        assert_eq!(ids, ["acme", "beacon"]);
        let (acme, beacon) = (&found[0], &found[1]);
        assert_eq!((acme.name.as_str(), acme.config.credit_budget.as_str()), ("Acme Lettings LLP", "3000"));
        assert_eq!(acme.config.upstream_base_url, "https://acme.test/api");
        assert_eq!((beacon.name.as_str(), beacon.config.credit_budget.as_str()), ("Beacon Property Law", "500"));
        assert_eq!(beacon.upstream_authorization.as_deref(), Some("Bearer s3cr3t"));
        assert!(beacon.has_member(&[], &["beacon-billing".into()]));
        assert!(beacon.has_member(&["beacon".into()], &[]));
        assert!(!beacon.has_member(&["acme".into()], &["acme-billing".into()]));
        assert!(organisations(&deployment("", &[]).unwrap()).unwrap().is_empty(), "none: a single deployment");
    }

    #[test]
    fn bad_organisations_are_refused_naming_where_and_what() {
        let table = |body: &str| format!("[[server.organisations]]\n{body}\n");
        let up = "upstream_base_url = \"https://acme.test\"";
        for (body, expected) in [
            (table(&format!("id = \"Acme\"\n{up}")), "[[server.organisations]] 1: `Acme` is not an organisation id"),
            (table(up), "[[server.organisations]] 1: `id` is not accepted"),
            (table("id = \"acme\""), "[[server.organisations]] 1: an organisation needs its own `upstream_base_url`"),
            (
                format!("{}{}", table(&format!("id = \"acme\"\n{up}")), table(&format!("id = \"acme\"\n{up}"))),
                "[[server.organisations]] 2: the organisation `acme` is also defined in [[server.organisations]] 1",
            ),
            (
                table(&format!("id = \"acme\"\n{up}\nsite_addr = \"0.0.0.0:80\"")),
                "`site_addr` in [[server.organisations]] 1 is not a key of the [server] table: an organisation sets only",
            ),
            (
                table(&format!("id = \"acme\"\n{up}\ncredit_budget = \"12.345\"")),
                "`credit_budget` in [[server.organisations]] 1 = \"12.345\" is not accepted",
            ),
            (table(&format!("id = \"acme\"\n{up}\ngroups = \"billing\"")), "`groups` is not accepted"),
        ] {
            let message = refusal(&body, &[]);
            assert!(message.contains(expected), "{body}\n{message}");
        }
        let secret = table(&format!("id = \"acme\"\n{up}\nupstream_authorization = \"Bearer a\\nb\""));
        let message = refusal(&secret, &[]);
        assert!(message.contains("upstream_authorization") && !message.contains("Bearer a"), "{message}");
    }

    #[test]
    fn a_folders_bad_file_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let server = format!("organisations_path = \"{}\"\n", folder.path().display());
        std::fs::write(folder.path().join("Bad_Name.toml"), "upstream_base_url = \"https://x.test\"").unwrap();
        assert!(refusal(&server, &[]).contains("Bad_Name.toml: `Bad_Name` is not an organisation id"));
        std::fs::remove_file(folder.path().join("Bad_Name.toml")).unwrap();
        std::fs::write(folder.path().join("acme.toml"), "upstream_base_url = [").unwrap();
        assert!(refusal(&server, &[]).contains("acme.toml is not valid TOML"));
        std::fs::write(folder.path().join("acme.toml"), "id = \"acme\"\nupstream_base_url = \"https://x.test\"")
            .unwrap();
        assert!(refusal(&server, &[]).contains("acme.toml: `id` is not accepted"));
        let missing = "organisations_path = \"/nonexistent/organisations\"\n";
        assert!(refusal(missing, &[]).starts_with("cannot read /nonexistent/organisations"));
    }
}
