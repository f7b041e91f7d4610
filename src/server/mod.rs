//! Everything that runs only on the server, by concern. Each folder imports only from the folders after it in
//! this list (held by the test below):
//!
//! 1. `startup` — wires the application: connections, background tasks, what is waited for, shutdown;
//! 2. `organisations` — the customer firms one deployment serves, each with its upstream, billing and people,
//!    and which of them a request may read;
//! 3. `access` — who may read: sign-in, sessions, bearer tokens;
//! 4. `views` — what a view shows, built from a priced period: which period, the page's data, the table, the
//!    CSV, the summary;
//! 5. `billing` — the billing cycle, the budget and its projection, the alerts and their ledger;
//! 6. `history` — the periods kept in a database;
//! 7. `pricing` — the credit rules and the kept period;
//! 8. `shared_cache` — what replicas share through Redis (keys and bytes; their owners name them);
//! 9. `upstream` — the billing API, its client and the embedded sample;
//! 10. `database` — the pool, the schema and the bounded call that `history`, `billing` and `access` wrap;
//! 11. `http` — the edge's machinery (the server, overload, security headers, assets, conditional GETs, logs,
//!     metrics);
//! 12. `config`, `error`, `memo` and `org_id` — the keys, the stable errors, memoisation and an organisation's
//!     id, which serve them all and import none of them.

pub mod access;
pub mod billing;
pub mod config;
pub mod database;
pub mod error;
pub mod history;
pub mod http;
pub mod memo;
pub mod org_id;
pub mod organisations;
pub mod pricing;
pub mod shared_cache;
pub mod startup;
pub mod upstream;
pub mod views;

pub use startup::state::AppState;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The folders, top to bottom; those on one line import none of each other.
    const LAYERS: &[&[&str]] = &[
        &["startup"],
        &["organisations"],
        &["access"],
        &["views"],
        &["billing"],
        &["history"],
        &["pricing"],
        &["shared_cache"],
        &["upstream"],
        &["database"],
        &["http"],
        &["config", "error", "memo", "org_id"],
    ];

    fn layer(folder: &str) -> usize {
        LAYERS.iter().position(|layer| layer.contains(&folder)).unwrap_or_else(|| panic!("`{folder}` has no layer"))
    }

    /// Every `.rs` file under `path`, or `path` itself.
    fn sources(path: &Path, found: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                sources(&entry.unwrap().path(), found);
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path.to_owned());
        }
    }

    /// The server folders a file names (`crate::server::<folder>`), its tests left out.
    fn imports(text: &str) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        code.match_indices("crate::server::")
            .map(|(at, prefix)| {
                let rest = &code[at + prefix.len()..];
                rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>()
            })
            .filter(|folder| !folder.is_empty())
            .collect()
    }

    #[test]
    fn each_folder_imports_only_the_folders_below_it() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/server"));
        let mut violations = Vec::new();
        let mut folders = BTreeSet::new();
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "mod" {
                continue;
            }
            folders.insert(name.clone());
            let mut files = Vec::new();
            sources(&path, &mut files);
            for file in files {
                for imported in imports(&std::fs::read_to_string(&file).unwrap()) {
                    if imported != name && layer(&imported) <= layer(&name) {
                        violations.push(format!("{} imports {imported}", file.strip_prefix(root).unwrap().display()));
                    }
                }
            }
        }
        let layered: BTreeSet<String> = LAYERS.iter().flat_map(|layer| layer.iter().map(|f| f.to_string())).collect();
        assert_eq!(folders, layered, "every folder of src/server has its layer, and every layer a folder");
        assert!(violations.is_empty(), "imports against the layering:\n{}", violations.join("\n"));
    }

    #[test]
    fn the_check_sees_an_import_against_the_layering() {
        let text = "use crate::server::views::choice::Periods;\nuse crate::server::config::Config;\n#[cfg(test)]\nmod tests {\n    use crate::server::startup::Settings;\n}\n";
        let found = imports(text);
        assert_eq!(found, BTreeSet::from(["views".to_owned(), "config".to_owned()]));
        assert!(layer("views") < layer("pricing"), "pricing importing views would be refused");
    }
}
