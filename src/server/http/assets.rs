//! The browser's assets under `/pkg`. cargo-leptos (`hash-files`) names them by content hash and lists the
//! hashes in `hash.txt` beside the server binary, so a name never changes meaning: each can be cached for a
//! year, and a repeat visit downloads nothing it already has.

use axum::http::HeaderValue;
use leptos::config::LeptosOptions;
use std::path::PathBuf;

/// For content-hashed assets: a year, and never revalidated.
pub const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// For everything whose name does not change with its content: ask each time.
pub const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// Where cargo-leptos writes the hashes: beside the running binary.
pub fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(options.hash_file.as_ref()))
}

/// Turns hashed names on when cargo-leptos hashed the assets. Its `serve` says so through
/// `LEPTOS_HASH_FILES`; a binary started directly (tests, benchmarks, a deployment) finds the file.
pub fn detect_hashed_names(options: &mut LeptosOptions) {
    if !options.hash_files && hash_file(options).is_some_and(|path| path.exists()) {
        options.hash_files = true;
    }
}

/// The stylesheet's path, hashed when the assets are.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let hash = options
        .hash_files
        .then(|| std::fs::read_to_string(hash_file(options)?).ok())
        .flatten()
        .and_then(|text| css_hash(&text));
    let name = match hash {
        Some(hash) => format!("{}.{hash}.css", options.output_name),
        None => format!("{}.css", options.output_name),
    };
    format!("/{}/{name}", options.site_pkg_dir)
}

/// The `css:` line of `hash.txt` (`js: …`, `wasm: …`, `css: …`).
fn css_hash(hash_txt: &str) -> Option<String> {
    hash_txt.lines().find_map(|line| line.trim().strip_prefix("css:")).map(|hash| hash.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_stylesheet_hash() {
        assert_eq!(css_hash("js: abc\nwasm: def\ncss: Xy_9-z\n").as_deref(), Some("Xy_9-z"));
        assert_eq!(css_hash("js: abc\n"), None);
    }

    #[test]
    fn unhashed_names_without_hash_files() {
        let options = LeptosOptions::builder().output_name("credit-dashboard").build();
        assert_eq!(stylesheet_href(&options), "/pkg/credit-dashboard.css");
    }
}
