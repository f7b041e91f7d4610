//! The URLs the configuration names, checked for what each must be, and shown without credentials: the
//! messages of these checks never quote a URL, which may carry a password or a signed query.

use super::KeyError;
use reqwest::Url;

/// Scheme, host, port and path: no userinfo and no query, which is where credentials travel.
pub fn redacted(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?…");
    }
    shown
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing more.
pub fn check_origin(key: &'static str, origin: &str) -> Result<(), KeyError> {
    let refused = |why: String| KeyError::because(key, format!("`{origin}`: {why}"));
    let url = reqwest::Url::parse(origin).map_err(|error| refused(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused("must be http or https".into()));
    }
    if url.origin().ascii_serialization() != origin {
        return Err(refused(format!(
            "an origin has no path, query or trailing slash (did you mean `{}`?)",
            url.origin().ascii_serialization()
        )));
    }
    Ok(())
}

/// An issuer or the dashboard's own URL: https, or http on a loopback host (a provider on this machine, as in
/// the tests); no query or fragment. The reason never quotes the URL.
pub fn check_provider_url(key: &'static str, url: &str) -> Result<(), KeyError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| KeyError::because(key, "not a URL"))?;
    let host = parsed.host_str().filter(|host| !host.is_empty()).ok_or(KeyError::because(key, "names no host"))?;
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(KeyError::because(key, "must be https (http only on a loopback host)")),
        _ => return Err(KeyError::because(key, "must be an https URL")),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(KeyError::because(key, "has no query, fragment or credentials"));
    }
    Ok(())
}

/// Whether `url` is one the history store can open: `sqlite://<file>` or a PostgreSQL URL.
pub fn check_database_url(key: &'static str, url: &str) -> Result<(), KeyError> {
    match url.strip_prefix("sqlite://") {
        Some(path) if path.split('?').next().is_some_and(|file| !file.is_empty()) => Ok(()),
        Some(_) => Err(KeyError::because(key, "a sqlite:// URL names a file: sqlite://data/history.sqlite3")),
        None if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            reqwest::Url::parse(url).map(|_| ()).map_err(|error| KeyError::because(key, format!("not a URL ({error})")))
        }
        None => Err(KeyError::because(key, "must start with sqlite:// or postgres://")),
    }
}

/// Whether `url` names one Redis or Valkey server: `redis://` or `rediss://` (TLS) with a host. The reason
/// never quotes the URL, which may hold a password.
pub fn check_shared_cache_url(key: &'static str, url: &str) -> Result<(), KeyError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| KeyError::because(key, "not a URL"))?;
    if !matches!(parsed.scheme(), "redis" | "rediss") {
        return Err(KeyError::because(key, "must start with redis:// or rediss://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(KeyError::because(key, "names no host"));
    }
    let database = parsed.path().trim_start_matches('/');
    if !database.is_empty() && database.parse::<u8>().is_err() {
        return Err(KeyError::because(key, "the path is a database number, such as /0"));
    }
    Ok(())
}
