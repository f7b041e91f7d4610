//! Every key of the configuration, declared once (`declare_keys!` below): its name (the TOML key; the
//! environment variable is the name in capitals), its type, its default, what it accepts, and what it means.
//! From that one line come the `Config` struct's field and its documentation, the default, how the environment's
//! text is read (by the field's type, [`Setting`]), the range check of a number and its wording, the redaction of
//! a secret, the error messages, and the tables of `docs/configuration.md` and `Leptos.toml`'s comments (held to
//! this file by tests).

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The history store of the one-command run: a SQLite file in `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/history.sqlite3";
/// A page of the table is one response; more rows than this would undo the point of paging.
pub const LARGEST_PAGE_SIZE: usize = 1_000;

/// The largest whole number a TOML file holds.
const MAX: i64 = i64::MAX;
const U32: i64 = u32::MAX as i64;
/// A day: a priced period kept longer than that is no longer "current".
const DAY_MS: i64 = 86_400_000;
/// A year, for an answer about a report.
const YEAR_SECS: i64 = 31_536_000;
/// Redis' own limit on a value (proto-max-bulk-len).
const REDIS_VALUE_BYTES: i64 = 512 * 1024 * 1024;

/// What a key's value is, for its check and its error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text, accepting what the words say.
    Text(&'static str),
    /// Text that may hold credentials: never shown in a message or a log line.
    Secret(&'static str),
    /// A whole number within `low..=high`, counting `unit`, with a `note` on what its bounds mean.
    Number { low: i64, high: i64, unit: &'static str, note: &'static str },
    /// `true` or `false`.
    Flag,
    /// A list; comma-separated in the environment.
    List(&'static str),
}

const fn text(accepts: &'static str) -> Kind {
    Kind::Text(accepts)
}

const fn secret(accepts: &'static str) -> Kind {
    Kind::Secret(accepts)
}

const fn number(low: i64, high: i64, unit: &'static str, note: &'static str) -> Kind {
    Kind::Number { low, high, unit, note }
}

const fn flag() -> Kind {
    Kind::Flag
}

const fn list(accepts: &'static str) -> Kind {
    Kind::List(accepts)
}

/// One key, as declared.
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub meaning: &'static str,
    /// Reads the environment's text as the key's type.
    read_env: fn(&str) -> Option<toml::Value>,
}

impl Key {
    /// What the key accepts, in the words of its error message.
    pub fn accepted(&self) -> String {
        match self.kind {
            Kind::Text(words) | Kind::Secret(words) | Kind::List(words) => words.to_owned(),
            Kind::Flag => "true or false".to_owned(),
            Kind::Number { low, high, unit, note } => {
                let unit = if unit.is_empty() { String::new() } else { format!(" of {unit}") };
                let range = match (low, high) {
                    (0, MAX) => ", 0 or more".to_owned(),
                    (low, MAX) => format!(", at least {low}"),
                    (low, high) => format!(" from {low} to {high}"),
                };
                let note = if note.is_empty() { String::new() } else { format!(" ({note})") };
                format!("a whole number{unit}{range}{note}")
            }
        }
    }

    /// May hold credentials: an error message or a log line names the key, never shows its value.
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret(_))
    }

    /// The smallest and largest whole number accepted, for a number.
    pub fn range(&self) -> Option<(i64, i64)> {
        match self.kind {
            Kind::Number { low, high, .. } => Some((low, high)),
            _ => None,
        }
    }

    /// The environment variable's text as this key's value, if it is one of its type.
    pub fn from_env(&self, text: &str) -> Option<toml::Value> {
        (self.read_env)(text)
    }
}

/// How the environment's text is read for a field of this type.
pub trait Setting {
    fn from_env(text: &str) -> Option<toml::Value>;
}

macro_rules! whole_numbers {
    ($($ty:ty),*) => {$(
        impl Setting for $ty {
            fn from_env(text: &str) -> Option<toml::Value> {
                Some(toml::Value::Integer(text.parse().ok()?))
            }
        }
    )*};
}
whole_numbers!(u32, u64, usize);

impl Setting for bool {
    fn from_env(text: &str) -> Option<toml::Value> {
        Some(toml::Value::Boolean(text.parse().ok()?))
    }
}

impl Setting for String {
    fn from_env(text: &str) -> Option<toml::Value> {
        Some(toml::Value::String(text.to_owned()))
    }
}

impl Setting for SocketAddr {
    fn from_env(text: &str) -> Option<toml::Value> {
        Some(toml::Value::String(text.to_owned()))
    }
}

/// Comma-separated items, the empty ones left out.
fn items(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|item| !item.is_empty())
}

impl Setting for Vec<String> {
    fn from_env(text: &str) -> Option<toml::Value> {
        Some(toml::Value::Array(items(text).map(toml::Value::from).collect()))
    }
}

impl Setting for Vec<f64> {
    fn from_env(text: &str) -> Option<toml::Value> {
        let numbers = items(text).map(|item| item.parse::<f64>().ok().map(toml::Value::Float));
        Some(toml::Value::Array(numbers.collect::<Option<_>>()?))
    }
}

/// Declares every key: the struct, its default, and `KEYS`, in the order the documentation lists them.
macro_rules! declare_keys {
    ($( $name:ident : $ty:ty = $default:expr ; $kind:expr , $meaning:literal ; )*) => {
        /// Every key of the configuration (see [`KEYS`] for what each accepts).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Config {
            $( #[doc = $meaning] pub $name: $ty, )*
            /// Where each value came from (the file, or a variable), for the messages about it.
            #[serde(skip)]
            pub sources: super::Sources,
            /// The file's `[[server.organisations]]` tables, as written: the organisations' own module reads them.
            #[serde(skip)]
            pub organisations: Vec<toml::Table>,
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $name: $default, )* sources: super::Sources::default(), organisations: Vec::new() }
            }
        }

        pub const KEYS: &[Key] = &[
            $( Key { name: stringify!($name), kind: $kind, meaning: $meaning, read_env: <$ty as Setting>::from_env }, )*
        ];
    };
}

declare_keys! {
    site_addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 3000));
        text("an IP address and port, such as 127.0.0.1:3000"),
        "listen address";
    upstream_base_url: String = String::new();
        text("empty (the embedded sample upstream), or an http or https URL with a host and no fragment"),
        "upstream API, `http` or `https` with a host; empty means the embedded sample upstream on this server. A query (a signed URL's `?sv=…&sig=…`) is kept on both endpoints";
    upstream_timeout_ms: u64 = 3_000;
        number(1, MAX, "milliseconds", ""),
        "one upstream call, connect to last byte";
    upstream_retries: u32 = 2;
        number(0, U32, "", ""),
        "extra attempts after a transient failure";
    upstream_retry_base_ms: u64 = 100;
        number(0, MAX, "milliseconds", ""),
        "first backoff; doubled each attempt, jittered, at most 1 s";
    upstream_retry_budget: u32 = 16;
        number(0, U32, "", ""),
        "retries per usage computation, across all its calls: a failing upstream sees each report id once plus at most this many retries, not every lookup three times";
    upstream_max_body_bytes: usize = 64 * 1024 * 1024;
        number(1, MAX, "bytes", ""),
        "larger upstream bodies are refused";
    usage_deadline_ms: u64 = 25_000;
        number(1, MAX, "milliseconds", ""),
        "a whole usage computation. Sized so that the messages and then the reports each get every attempt: 2 × (3 × 3 s + 2 × 1 s) = 22 s; the server warns at start-up when a configuration does not leave that room";
    report_concurrency: usize = 256;
        number(1, MAX, "", ""),
        "report lookups in flight per computation: enough that a cold request costs two round trips for up to 256 distinct reports";
    upstream_concurrency: usize = 512;
        number(1, 1_000_000, "calls", ""),
        "upstream calls in flight at once across every organisation (and the deployment's): a thousand organisations computing at once queue here rather than open a thousand times `report_concurrency` connections";
    report_cache_capacity: u64 = 10_000;
        number(0, MAX, "reports", ""),
        "reports kept across requests";
    report_cache_ttl_secs: u64 = 300;
        number(0, YEAR_SECS, "seconds", "a year"),
        "how long a found report is reused; at most a year";
    report_not_found_ttl_secs: u64 = 30;
        number(0, YEAR_SECS, "seconds", "a year"),
        "how long a 404/410 (or a refused id) is reused; at most a year";
    kept_period_ttl_ms: u64 = 30_000;
        number(0, DAY_MS, "milliseconds", "a day; 0 keeps nothing"),
        "how long a priced period is kept and shared (see architecture.md); `0` shares only a computation in flight; at most a day";
    table_page_size: usize = 100;
        number(1, LARGEST_PAGE_SIZE as i64, "rows", ""),
        "rows per page of the table, at most 1000";
    header_read_timeout_ms: u64 = 10_000;
        number(1, MAX, "milliseconds", ""),
        "a client that has not sent its request headers by then is disconnected";
    max_requests_in_flight: usize = 512;
        number(1, MAX, "", ""),
        "requests handled at once; more are refused at once with 503 and `Retry-After`, not queued";
    cors_allowed_origins: Vec<String> = Vec::new();
        list("a list of origins, each a scheme, host and optional port (https://app.example); comma-separated in the environment"),
        "origins (`https://app.example`, exactly as browsers send them) whose pages may `GET /usage`; the environment takes a comma-separated list. Preflight is answered, credentials are not allowed, and nothing else is opened. Empty: same origin only";
    database_url: String = DEFAULT_DATABASE_URL.to_owned();
        secret("empty (no history), sqlite://<file> or postgres://<user>@<host>:<port>/<database>"),
        "the history store: `sqlite://<file>` (created with its folder) or `postgres://user@host:port/db`; empty keeps no history";
    history_retention_periods: u32 = 0;
        number(0, U32, "periods", "0 keeps all"),
        "how many periods the store keeps, the most recent; `0` keeps all";
    history_timeout_ms: u64 = 2_000;
        number(1, MAX, "milliseconds", ""),
        "the longest a page waits for the history store before saying past periods are unavailable";
    history_work_timeout_ms: u64 = 30_000;
        number(1, MAX, "milliseconds", ""),
        "the longest one piece of the store's own work may take: a write, a batch of the retention, a migration, an alert-ledger call, a past period's read";
    billing_time_zone: String = "UTC".to_owned();
        text("an IANA time zone name, such as UTC or Europe/Berlin"),
        "the IANA zone whose calendar the billing cycle counts on";
    billing_cycle_anchor: String = String::new();
        text("empty, or the local date-time in billing_time_zone that starts a billing period (2024-04-29T00:00:00, or an RFC 3339 instant such as 2024-04-29T00:00:00Z), with billing_interval"),
        "the local date-time in `billing_time_zone` that starts a billing period (`2024-04-29T00:00:00`; an RFC 3339 instant is taken as the zone's time then), with `billing_interval`; empty: the period's end is unknown";
    billing_interval: String = String::new();
        text("empty, or `month`, or a whole number of days from 1 to 366, with billing_cycle_anchor"),
        "`month`, or a number of days (1 to 366), with the anchor";
    credit_budget: String = String::new();
        text("empty (no budget), or credits per period as a decimal with at most two places, more than 0"),
        "credits per period (`3000`, `2500.50`); empty: no budget";
    alert_thresholds: Vec<f64> = vec![0.5, 0.8, 1.0];
        list("fractions of the budget, more than 0 and at most 10, in increasing order (0.5, 0.8, 1.0); comma-separated in the environment"),
        "fractions of the budget (more than 0, at most 10, increasing) that fire an alert; comma-separated in the environment";
    alert_webhook_url: String = String::new();
        secret("empty (no alerts), or an http or https URL, with a secret, a database and a budget"),
        "where alerts are POSTed (http or https); needs a secret, `database_url` and a budget";
    alert_webhook_secret: String = String::new();
        secret("with alert_webhook_url, one or more `whsec_<base64>` secrets of at least 16 bytes, separated by spaces or commas"),
        "one or more Standard Webhooks secrets, `whsec_<base64 of at least 16 bytes>`, separated by spaces or commas: every delivery is signed with each";
    alert_check_interval_secs: u64 = 60;
        number(1, MAX, "seconds", ""),
        "how often the alerts are checked (and the first wait before a failing delivery's next round)";
    alert_retry_window_secs: u64 = 86_400;
        number(1, MAX, "seconds", ""),
        "how long a failing delivery is retried, from when the alert was raised; then it is failed";
    alert_webhook_timeout_ms: u64 = 5_000;
        number(1, MAX, "milliseconds", ""),
        "the longest one delivery attempt waits for the webhook";
    metrics_addr: String = String::new();
        text("empty (no metrics), or an IP address and port for GET /metrics, such as 127.0.0.1:9100"),
        "where `GET /metrics` (Prometheus) is served, `127.0.0.1:9100`; empty: not served. On an address that is not loopback a scraper sends a bearer token with the scope `metrics:read` (see `metrics_allow_anonymous`)";
    log_format: String = "text".to_owned();
        text("`text` (coloured on a terminal only) or `json` (one object per line)"),
        "`text` (coloured on a terminal only) or `json` (one object per line)";
    shared_cache_url: String = String::new();
        secret("empty (each replica keeps its own), or redis://[user:password@]host[:port][/database], or rediss:// for TLS"),
        "a Redis or Valkey the replicas share through, `redis://[user:password@]host[:port][/db]` or `rediss://` (TLS); empty: each process keeps its own";
    shared_cache_timeout_ms: u64 = 250;
        number(1, MAX, "milliseconds", ""),
        "the longest one call to it may take before this replica falls back to its own memory";
    shared_cache_secret: String = String::new();
        secret("empty (values are checked, not authenticated), or one or more secrets of at least 32 characters, separated by spaces (the first signs)"),
        "secrets (each at least 32 characters, separated by spaces; the first signs) that authenticate every shared value with HMAC-SHA256; recommended wherever Redis is reachable by more than these replicas";
    shared_cache_max_value_bytes: usize = 128 * 1024 * 1024;
        number(1, REDIS_VALUE_BYTES, "bytes", "512 MiB, Redis' limit"),
        "a shared value larger than this is neither written nor read (a 100 000-message period is about 20 MB); at most 512 MiB, Redis' own limit";
    shared_cache_namespace: String = String::new();
        text("empty, or up to 32 of a-z, 0-9, _ and -"),
        "separates the keys of deployments that share one Redis (staging beside production): up to 32 of `a-z`, `0-9`, `_`, `-`";
    auth_issuer: String = String::new();
        text("empty (no access control), or the OpenID provider's issuer, an https URL (http only on a loopback host) without query"),
        "the OpenID provider's issuer URL; its `/.well-known/openid-configuration` is read at start and refreshed. Empty: no access control (see `allow_anonymous`)";
    auth_scopes: String = "openid email groups".to_owned();
        text("scopes separated by spaces, openid among them"),
        "the scopes asked for at sign-in";
    auth_client_id: String = String::new();
        text("the dashboard's client id at the provider, with auth_issuer"),
        "the dashboard's (confidential) client at the provider";
    auth_client_secret: String = String::new();
        secret("the dashboard's client secret, with auth_issuer"),
        "that client's secret";
    public_url: String = String::new();
        text("the dashboard's external base URL, https (http only on a loopback host), with auth_issuer"),
        "the dashboard's external base URL: the redirect URI is `{public_url}/auth/callback`; `Secure` cookies when https";
    auth_audience: String = String::new();
        text("empty (public_url), or the audience bearer tokens carry"),
        "the `aud` a bearer token must carry; empty: `public_url`";
    auth_allowed_groups: Vec<String> = Vec::new();
        list("a list of group names; comma-separated in the environment"),
        "a person carrying one of these in the `groups` claim (ID token, or UserInfo) may read the usage. With access control, at least one of the three rules, or `auth_allow_any_account`, is needed";
    auth_allowed_domains: Vec<String> = Vec::new();
        list("a list of domain names (example.com); comma-separated in the environment"),
        "a person whose verified email (`email_verified`) is at one of these domains, or whose Google `hd` claim is one, may read the usage";
    auth_allowed_tenants: Vec<String> = Vec::new();
        list("a list of Entra ID tenant ids; comma-separated in the environment"),
        "a person whose `tid` claim (Entra ID's tenant) is one of these may read the usage";
    auth_allow_any_account: bool = false;
        flag(),
        "every account the issuer signs in may read the usage: needed, and only then allowed, when none of the three rules above is set";
    auth_session_secret: String = String::new();
        secret("with auth_issuer, one or more secrets of at least 32 characters, separated by spaces (the first signs)"),
        "signs the session cookie and seals each session kept on the server; several, separated by spaces, for a rotation (the first signs, all verify)";
    auth_session_idle_secs: u64 = 3_600;
        number(60, 604_800, "seconds", "a week, at most auth_session_max_secs"),
        "a session not used for this long ends";
    auth_session_max_secs: u64 = 43_200;
        number(60, 2_592_000, "seconds", "30 days"),
        "a session ends this long after sign-in, used or not";
    auth_recheck_secs: u64 = 900;
        number(1, 86_400, "seconds", "a day"),
        "how often a signed-in person's right is checked again at the provider (a refresh token, or UserInfo), ending the session of one no longer allowed";
    auth_memory_sessions: u64 = 100_000;
        number(1, 10_000_000, "sessions", ""),
        "sessions kept in memory, when neither `shared_cache_url` nor `database_url` keeps them; at the bound a new sign-in is refused (503), never a live session dropped";
    allow_anonymous: bool = false;
        flag(),
        "without `auth_issuer`, serve everyone on a `site_addr` that is not loopback (behind an authenticating proxy); otherwise such a server refuses to start";
    organisations_path: String = String::new();
        text("empty (no folder), or a folder of <id>.toml files, one per organisation"),
        "a folder of organisations, one `<id>.toml` each (the file's name is its id), beside the `[[server.organisations]]` tables; empty: those tables only. Without any organisation, the deployment is one (`default`)";
    auth_organisation_claim: String = "org".to_owned();
        text("a claim name of up to 64 of a-z, A-Z, 0-9, _, -, . and :"),
        "the claim (a string, or a list of strings) of an ID token, UserInfo or bearer token that names the organisations a person or a service belongs to, matched against their ids";
    auth_operator_groups: Vec<String> = Vec::new();
        list("a list of group names; comma-separated in the environment"),
        "people carrying one of these in the `groups` claim are operators: they read every organisation, and `/o/` lists them all with their period's total, budget and last upstream error";
    metrics_allow_anonymous: bool = false;
        flag(),
        "serve `/metrics` without a bearer token on a `metrics_addr` that is not loopback (a trusted network); otherwise it needs the scope `metrics:read`, or, without `auth_issuer`, the server refuses to start";
}

/// The key named `name`.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// Whether `name`'s value may hold credentials.
pub fn is_secret(name: &str) -> bool {
    key(name).is_some_and(Key::is_secret)
}

/// The table of every key, its default, and what it means (secrets said never shown), for
/// `docs/configuration.md`.
pub fn table() -> String {
    let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialise");
    let mut table = String::from("| key | default | meaning |\n|---|---|---|\n");
    for key in KEYS {
        let default = match &defaults[key.name] {
            toml::Value::String(text) if text.is_empty() => "empty".to_owned(),
            toml::Value::Array(items) if items.is_empty() => "empty".to_owned(),
            toml::Value::String(text) => format!("`{text}`"),
            other => format!("`{other}`"),
        };
        let never_shown = if key.is_secret() { "; never shown" } else { "" };
        table.push_str(&format!("| `{}` | {default} | {}{never_shown} |\n", key.name, key.meaning));
    }
    table
}
