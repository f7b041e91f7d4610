//! Every key of the configuration, described once: its name (the TOML key; the environment variable is the
//! name in capitals), what it accepts in the words of its error message, the whole numbers it allows, whether it
//! may hold credentials (never shown), and what it means. The error messages, the redaction and the README's
//! configuration table are all written from here (a test compares the README with [`readme_table`]).

use super::{Config, LARGEST_PAGE_SIZE};

pub struct Key {
    pub name: &'static str,
    pub accepted: &'static str,
    /// The smallest and largest whole number accepted, for a number.
    pub range: Option<(i64, i64)>,
    /// May hold credentials: an error message or a log line names the key, never shows its value.
    pub secret: bool,
    pub meaning: &'static str,
}

/// The largest whole number a TOML file holds.
const MAX: i64 = i64::MAX;
const U32: i64 = u32::MAX as i64;
/// A day: a priced period kept longer than that is no longer "current".
const DAY_MS: i64 = 86_400_000;
/// A year, for an answer about a report.
const YEAR_SECS: i64 = 31_536_000;
/// Redis' own limit on a value (proto-max-bulk-len).
const REDIS_VALUE_BYTES: i64 = 512 * 1024 * 1024;

const fn text(name: &'static str, accepted: &'static str, meaning: &'static str) -> Key {
    Key { name, accepted, range: None, secret: false, meaning }
}

const fn secret(name: &'static str, accepted: &'static str, meaning: &'static str) -> Key {
    Key { name, accepted, range: None, secret: true, meaning }
}

const fn number(name: &'static str, range: (i64, i64), accepted: &'static str, meaning: &'static str) -> Key {
    Key { name, accepted, range: Some(range), secret: false, meaning }
}

/// In the order the README lists them.
#[rustfmt::skip]
pub const KEYS: [Key; 55] = [
    text("site_addr",
        "an IP address and port, such as 127.0.0.1:3000",
        "listen address"),
    text("upstream_base_url",
        "empty (the embedded sample upstream), or an http or https URL with a host and no fragment",
        "upstream API, `http` or `https` with a host; empty means the embedded sample upstream on this server. A query (a signed URL's `?sv=…&sig=…`) is kept on both endpoints"),
    number("upstream_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "one upstream call, connect to last byte"),
    number("upstream_retries", (0, U32),
        "a whole number from 0 to 4294967295",
        "extra attempts after a transient failure"),
    number("upstream_retry_base_ms", (0, MAX),
        "a whole number of milliseconds, 0 or more",
        "first backoff; doubled each attempt, jittered, at most 1 s"),
    number("upstream_retry_budget", (0, U32),
        "a whole number from 0 to 4294967295",
        "retries per usage computation, across all its calls: a failing upstream sees each report id once plus at most this many retries, not every lookup three times"),
    number("upstream_max_body_bytes", (1, MAX),
        "a whole number of bytes, at least 1",
        "larger upstream bodies are refused"),
    number("usage_deadline_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "a whole usage computation. Sized so that the messages and then the reports each get every attempt: 2 × (3 × 3 s + 2 × 1 s) = 22 s; the server warns at start-up when a configuration does not leave that room"),
    number("report_concurrency", (1, MAX),
        "a whole number, at least 1",
        "report lookups in flight per computation: enough that a cold request costs two round trips for up to 256 distinct reports"),
    number("report_cache_capacity", (0, MAX),
        "a whole number of reports, 0 or more",
        "reports kept across requests"),
    number("report_cache_ttl_secs", (0, YEAR_SECS),
        "a whole number of seconds from 0 to 31536000 (a year)",
        "how long a found report is reused; at most a year"),
    number("report_not_found_ttl_secs", (0, YEAR_SECS),
        "a whole number of seconds from 0 to 31536000 (a year)",
        "how long a 404/410 (or a refused id) is reused; at most a year"),
    number("kept_period_ttl_ms", (0, DAY_MS),
        "a whole number of milliseconds from 0 (keeps nothing) to 86400000 (a day)",
        "how long a priced period is kept and shared (see Design); `0` shares only a computation in flight; at most a day"),
    number("table_page_size", (1, LARGEST_PAGE_SIZE as i64),
        "a whole number of rows from 1 to 1000",
        "rows per page of the table, at most 1000"),
    number("header_read_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "a client that has not sent its request headers by then is disconnected"),
    number("max_requests_in_flight", (1, MAX),
        "a whole number, at least 1",
        "requests handled at once; more are refused at once with 503 and `Retry-After`, not queued"),
    text("cors_allowed_origins",
        "a list of origins, each a scheme, host and optional port (https://app.example); comma-separated in the environment",
        "origins (`https://app.example`, exactly as browsers send them) whose pages may `GET /usage`; the environment takes a comma-separated list. Preflight is answered, credentials are not allowed, and nothing else is opened. Empty: same origin only"),
    secret("database_url",
        "empty (no history), sqlite://<file> or postgres://<user>@<host>:<port>/<database>",
        "the history store: `sqlite://<file>` (created with its folder) or `postgres://user@host:port/db`; empty keeps no history"),
    number("history_retention_periods", (0, U32),
        "a whole number of periods, 0 or more (0 keeps all)",
        "how many periods the store keeps, the most recent; `0` keeps all"),
    number("history_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "the longest a page waits for the history store before saying past periods are unavailable"),
    number("history_work_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "the longest one piece of the store's own work may take: a write, a batch of the retention, a migration, an alert-ledger call, a past period's read"),
    text("billing_time_zone",
        "an IANA time zone name, such as UTC or Europe/Berlin",
        "the IANA zone whose calendar the billing cycle counts on"),
    text("billing_cycle_anchor",
        "empty, or the local date-time in billing_time_zone that starts a billing period (2024-04-29T00:00:00, or an RFC 3339 instant such as 2024-04-29T00:00:00Z), with billing_interval",
        "the local date-time in `billing_time_zone` that starts a billing period (`2024-04-29T00:00:00`; an RFC 3339 instant is taken as the zone's time then), with `billing_interval`; empty: the period's end is unknown"),
    text("billing_interval",
        "empty, or `month`, or a whole number of days from 1 to 366, with billing_cycle_anchor",
        "`month`, or a number of days (1 to 366), with the anchor"),
    text("credit_budget",
        "empty (no budget), or credits per period as a decimal with at most two places, more than 0",
        "credits per period (`3000`, `2500.50`); empty: no budget"),
    text("alert_thresholds",
        "fractions of the budget, more than 0 and at most 10, in increasing order (0.5, 0.8, 1.0); comma-separated in the environment",
        "fractions of the budget (more than 0, at most 10, increasing) that fire an alert; comma-separated in the environment"),
    secret("alert_webhook_url",
        "empty (no alerts), or an http or https URL, with a secret, a database and a budget",
        "where alerts are POSTed (http or https); needs a secret, `database_url` and a budget"),
    secret("alert_webhook_secret",
        "with alert_webhook_url, one or more `whsec_<base64>` secrets of at least 16 bytes, separated by spaces or commas",
        "one or more Standard Webhooks secrets, `whsec_<base64 of at least 16 bytes>`, separated by spaces or commas: every delivery is signed with each"),
    number("alert_check_interval_secs", (1, MAX),
        "a whole number of seconds, at least 1",
        "how often the alerts are checked (and the first wait before a failing delivery's next round)"),
    number("alert_retry_window_secs", (1, MAX),
        "a whole number of seconds, at least 1",
        "how long a failing delivery is retried, from when the alert was raised; then it is failed"),
    number("alert_webhook_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "the longest one delivery attempt waits for the webhook"),
    text("metrics_addr",
        "empty (no metrics), or an IP address and port for GET /metrics, such as 127.0.0.1:9100",
        "where `GET /metrics` (Prometheus) is served, `127.0.0.1:9100`; empty: not served. On an address that is not loopback a scraper sends a bearer token with the scope `metrics:read` (see `metrics_allow_anonymous`)"),
    text("log_format",
        "`text` (coloured on a terminal only) or `json` (one object per line)",
        "`text` (coloured on a terminal only) or `json` (one object per line)"),
    secret("shared_cache_url",
        "empty (each replica keeps its own), or redis://[user:password@]host[:port][/database], or rediss:// for TLS",
        "a Redis or Valkey the replicas share through, `redis://[user:password@]host[:port][/db]` or `rediss://` (TLS); empty: each process keeps its own"),
    number("shared_cache_timeout_ms", (1, MAX),
        "a whole number of milliseconds, at least 1",
        "the longest one call to it may take before this replica falls back to its own memory"),
    secret("shared_cache_secret",
        "empty (values are checked, not authenticated), or one or more secrets of at least 32 characters, separated by spaces (the first signs)",
        "secrets (each at least 32 characters, separated by spaces; the first signs) that authenticate every shared value with HMAC-SHA256; recommended wherever Redis is reachable by more than these replicas"),
    number("shared_cache_max_value_bytes", (1, REDIS_VALUE_BYTES),
        "a whole number of bytes from 1 to 536870912 (512 MiB, Redis' limit)",
        "a shared value larger than this is neither written nor read (a 100 000-message period is about 20 MB); at most 512 MiB, Redis' own limit"),
    text("shared_cache_namespace",
        "empty, or up to 32 of a-z, 0-9, _ and -",
        "separates the keys of deployments that share one Redis (staging beside production): up to 32 of `a-z`, `0-9`, `_`, `-`"),
    text("auth_issuer",
        "empty (no access control), or the OpenID provider's issuer, an https URL (http only on a loopback host) without query",
        "the OpenID provider's issuer URL; its `/.well-known/openid-configuration` is read at start and refreshed. Empty: no access control (see `allow_anonymous`)"),
    text("auth_scopes",
        "scopes separated by spaces, openid among them",
        "the scopes asked for at sign-in"),
    text("auth_client_id",
        "the dashboard's client id at the provider, with auth_issuer",
        "the dashboard's (confidential) client at the provider"),
    secret("auth_client_secret",
        "the dashboard's client secret, with auth_issuer",
        "that client's secret"),
    text("public_url",
        "the dashboard's external base URL, https (http only on a loopback host), with auth_issuer",
        "the dashboard's external base URL: the redirect URI is `{public_url}/auth/callback`; `Secure` cookies when https"),
    text("auth_audience",
        "empty (public_url), or the audience bearer tokens carry",
        "the `aud` a bearer token must carry; empty: `public_url`"),
    text("auth_allowed_groups",
        "a list of group names; comma-separated in the environment",
        "a person carrying one of these in the `groups` claim (ID token, or UserInfo) may read the usage. With access control, at least one of the three rules, or `auth_allow_any_account`, is needed"),
    text("auth_allowed_domains",
        "a list of domain names (example.com); comma-separated in the environment",
        "a person whose verified email (`email_verified`) is at one of these domains, or whose Google `hd` claim is one, may read the usage"),
    text("auth_allowed_tenants",
        "a list of Entra ID tenant ids; comma-separated in the environment",
        "a person whose `tid` claim (Entra ID's tenant) is one of these may read the usage"),
    text("auth_allow_any_account",
        "true or false",
        "every account the issuer signs in may read the usage: needed, and only then allowed, when none of the three rules above is set"),
    secret("auth_session_secret",
        "with auth_issuer, one or more secrets of at least 32 characters, separated by spaces (the first signs)",
        "signs the session cookie and seals each session kept on the server; several, separated by spaces, for a rotation (the first signs, all verify)"),
    number("auth_session_idle_secs", (60, 604_800),
        "a whole number of seconds from 60 to 604800 (a week), at most auth_session_max_secs",
        "a session not used for this long ends"),
    number("auth_session_max_secs", (60, 2_592_000),
        "a whole number of seconds from 60 to 2592000 (30 days)",
        "a session ends this long after sign-in, used or not"),
    number("auth_recheck_secs", (1, 86_400),
        "a whole number of seconds from 1 to 86400 (a day)",
        "how often a signed-in person's right is checked again at the provider (a refresh token, or UserInfo), ending the session of one no longer allowed"),
    number("auth_memory_sessions", (1, 10_000_000),
        "a whole number of sessions from 1 to 10000000",
        "sessions kept in memory, when neither `shared_cache_url` nor `database_url` keeps them; at the bound a new sign-in is refused (503), never a live session dropped"),
    text("allow_anonymous",
        "true or false",
        "without `auth_issuer`, serve everyone on a `site_addr` that is not loopback (behind an authenticating proxy); otherwise such a server refuses to start"),
    text("metrics_allow_anonymous",
        "true or false",
        "serve `/metrics` without a bearer token on a `metrics_addr` that is not loopback (a trusted network); otherwise it needs the scope `metrics:read`, or, without `auth_issuer`, the server refuses to start"),
];

/// The key named `name`.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// Whether `name`'s value may hold credentials.
pub fn is_secret(name: &str) -> bool {
    key(name).is_some_and(|key| key.secret)
}

/// The README's configuration table: each key, its default, and what it means (secrets said never shown).
pub fn readme_table() -> String {
    let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");
    let mut table = String::from("| key | default | meaning |\n|---|---|---|\n");
    for key in &KEYS {
        let default = match &defaults[key.name] {
            toml::Value::String(text) if text.is_empty() => "empty".to_owned(),
            toml::Value::Array(items) if items.is_empty() => "empty".to_owned(),
            toml::Value::String(text) => format!("`{text}`"),
            other => format!("`{other}`"),
        };
        let never_shown = if key.secret { "; never shown" } else { "" };
        table.push_str(&format!("| `{}` | {default} | {}{never_shown} |\n", key.name, key.meaning));
    }
    table
}
