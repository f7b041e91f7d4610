//! A real OpenID provider for the tests (`end2end/oidc-provider.mjs`, panva's certified `oidc-provider` on
//! Node.js), on a free port, stopped when dropped; and a small browser that walks its sign-in and sign-out
//! pages, sending the dashboard's own requests to an in-process router or to a server, as the URL says.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tower::ServiceExt;

pub const DASHBOARD_SECRET: &str = "dashboard-secret-of-at-least-32-bytes!!";
pub const SESSION_SECRET: &str = "a-session-secret-of-at-least-32-bytes-long";

pub struct Provider {
    child: Option<Child>,
    pub issuer: String,
    port: u16,
    dashboards: Vec<String>,
    audience: String,
    keys: tempfile::TempDir,
    log: tempfile::NamedTempFile,
    /// What the tests change of people (`OIDC_PEOPLE_FILE`).
    people: serde_json::Map<String, serde_json::Value>,
}

impl Provider {
    /// A provider whose dashboard client may return to each of `dashboards` (public URLs), issuing access tokens
    /// for `audience`.
    pub fn start(dashboards: &[&str], audience: &str) -> Provider {
        let mut provider = Provider {
            child: None,
            issuer: String::new(),
            port: 0,
            dashboards: dashboards.iter().map(|url| url.to_string()).collect(),
            audience: audience.to_owned(),
            keys: tempfile::tempdir().unwrap(),
            log: tempfile::NamedTempFile::new().unwrap(),
            people: serde_json::Map::new(),
        };
        provider.run(false);
        provider
    }

    fn run(&mut self, rotate: bool) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/end2end/oidc-provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("OIDC_PORT", self.port.to_string())
            .env("OIDC_DASHBOARD_URLS", self.dashboards.join(","))
            .env("OIDC_AUDIENCE", &self.audience)
            .env("OIDC_KEYS_DIR", self.keys.path())
            .env("OIDC_ROTATE", if rotate { "1" } else { "0" })
            .env("OIDC_PEOPLE_FILE", self.people_file())
            .stdout(Stdio::piped())
            .stderr(std::fs::OpenOptions::new().append(true).open(self.log.path()).unwrap())
            .spawn()
            .expect("node runs end2end/oidc-provider.mjs (scripts/setup.sh --test-deps installs oidc-provider)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let issuer = line.trim().strip_prefix("ready ").unwrap_or_else(|| {
            panic!("the provider did not start: {line}{}", std::fs::read_to_string(self.log.path()).unwrap())
        });
        self.issuer = issuer.to_owned();
        self.port = issuer.rsplit(':').next().unwrap().parse().unwrap();
        self.child = Some(child);
    }

    fn people_file(&self) -> std::path::PathBuf {
        self.keys.path().join("people.json")
    }

    /// From now on, the claims of `login` include these (its groups, say), in every ID token and UserInfo answer.
    pub fn change_person(&mut self, login: &str, claims: serde_json::Value) {
        self.people.insert(login.to_owned(), claims);
        let file = self.people_file();
        let temporary = file.with_extension("tmp");
        std::fs::write(&temporary, serde_json::Value::Object(self.people.clone()).to_string()).unwrap();
        std::fs::rename(temporary, file).unwrap();
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it: its port stops answering.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port; with `rotate`, a new key signs (the old one still published).
    pub fn restart(&mut self, rotate: bool) {
        self.stop();
        self.run(rotate);
    }

    /// An access token from the client credentials grant.
    pub async fn client_token(&self, client: &str, secret: &str, scope: &str, resource: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials"), ("scope", scope)];
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(status.is_success(), "{status} {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A token signed with the provider's own signing key, with the claims given: what the provider would sign if
    /// it issued such a token (expired, say).
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let pem = std::fs::read(self.keys.path().join("signing.pem")).unwrap();
        let kid = std::fs::read_to_string(self.keys.path().join("signing.kid")).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.trim().to_owned());
        header.typ = Some("at+jwt".to_owned());
        jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
    }

    /// The provider's published keys, as JSON.
    pub fn public_keys(&self) -> serde_json::Value {
        let keys: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.keys.path().join("jwks.json")).unwrap()).unwrap();
        keys
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A response as the browser saw it.
pub struct Seen {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn location(&self) -> String {
        self.headers.get("location").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
    }

    /// The `Set-Cookie` lines that name `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .find(|line| line.starts_with(&format!("{name}=")))
    }
}

/// A browser: one cookie jar per origin (paths ignored, which only sends more), redirects followed by hand so
/// that a test sees each one. The dashboard at `dashboard` is an in-process router or a server.
pub struct Browser {
    pub dashboard: String,
    app: Option<Router>,
    http: reqwest::Client,
    pub jars: HashMap<String, HashMap<String, String>>,
    /// Every URL asked for, in order.
    pub visited: Vec<String>,
}

impl Browser {
    /// A browser for the in-process `app`, which believes it is served at `dashboard`.
    pub fn for_app(app: Router, dashboard: &str) -> Browser {
        Browser {
            dashboard: dashboard.to_owned(),
            app: Some(app),
            http: client(),
            jars: HashMap::new(),
            visited: Vec::new(),
        }
    }

    /// A browser for servers that listen (replicas).
    pub fn for_servers() -> Browser {
        Browser { dashboard: String::new(), app: None, http: client(), jars: HashMap::new(), visited: Vec::new() }
    }

    pub async fn get(&mut self, url: &str) -> Seen {
        self.send("GET", url, None, &[]).await
    }

    /// One request, with the jar's cookies for its origin; the answer's cookies go into the jar.
    pub async fn send(&mut self, method: &str, url: &str, form: Option<String>, headers: &[(&str, &str)]) -> Seen {
        let url = if url.starts_with('/') { format!("{}{url}", self.dashboard) } else { url.to_owned() };
        let origin = origin_of(&url);
        self.visited.push(url.clone());
        let cookies = self
            .jars
            .get(&origin)
            .map(|jar| jar.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; "));
        let to_dashboard = !self.dashboard.is_empty() && origin == origin_of(&self.dashboard);
        let seen = match (&self.app, to_dashboard) {
            (Some(app), true) => {
                let path = &url[self.dashboard.len()..];
                let mut request = Request::builder().method(method).uri(if path.is_empty() { "/" } else { path });
                if let Some(cookies) = cookies.filter(|cookies| !cookies.is_empty()) {
                    request = request.header("cookie", cookies);
                }
                let typed = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
                if form.is_some() && !typed {
                    request = request.header("content-type", "application/x-www-form-urlencoded");
                }
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let response =
                    app.clone().oneshot(request.body(Body::from(form.unwrap_or_default())).unwrap()).await.unwrap();
                let (parts, body) = response.into_parts();
                let body = String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned();
                Seen { status: parts.status, headers: parts.headers, body }
            }
            _ => {
                let mut request = self.http.request(method.parse().unwrap(), &url);
                if let Some(cookies) = cookies.filter(|cookies| !cookies.is_empty()) {
                    request = request.header("cookie", cookies);
                }
                let typed = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
                if let Some(form) = form {
                    if !typed {
                        request = request.header("content-type", "application/x-www-form-urlencoded");
                    }
                    request = request.body(form);
                }
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let response = request.send().await.unwrap();
                let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
                let mut map = HeaderMap::new();
                for (name, value) in response.headers() {
                    map.append(
                        axum::http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                        axum::http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                    );
                }
                let body = response.text().await.unwrap_or_default();
                Seen { status, headers: map, body }
            }
        };
        let jar = self.jars.entry(origin).or_default();
        for line in seen.headers.get_all("set-cookie") {
            let line = line.to_str().unwrap();
            let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let removed = attributes.to_ascii_lowercase().contains("max-age=0")
                || attributes.contains("expires=Thu, 01 Jan 1970");
            if removed || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        seen
    }

    /// Follows redirects from `seen` (at most 10), each a GET, until an answer that is not one.
    pub async fn follow(&mut self, mut seen: Seen, from: &str) -> (Seen, String) {
        let mut url = from.to_owned();
        for _ in 0..10 {
            if !seen.status.is_redirection() {
                return (seen, url);
            }
            url = resolve(&url, &seen.location());
            seen = self.get(&url).await;
        }
        panic!("more than 10 redirects from {from}");
    }

    /// Signs in as `login` from the dashboard URL `start` (a path): the provider's login form, filled in and sent,
    /// then the redirects back. The last answer and its URL.
    pub async fn sign_in(&mut self, start: &str, login: &str) -> (Seen, String) {
        let first = self.get(start).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "an anonymous page sends to the provider: {}", first.body);
        let start_url = if start.starts_with('/') { format!("{}{start}", self.dashboard) } else { start.to_owned() };
        let (login_page, login_url) = self.follow(first, &start_url).await;
        assert_eq!(login_page.status, StatusCode::OK, "the provider's login page: {}", login_page.body);
        let action = attribute_after(&login_page.body, "<form", "action");
        let action = resolve(&login_url, &action.replace("&amp;", "&"));
        let form = format!("prompt=login&login={login}&password=any");
        let sent = self.send("POST", &action, Some(form), &[]).await;
        self.follow(sent, &action).await
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn origin_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.origin().ascii_serialization()
}

pub fn resolve(base: &str, location: &str) -> String {
    reqwest::Url::parse(base).unwrap().join(location).unwrap().to_string()
}

/// The value of `attribute` in the first tag that starts with `tag`.
pub fn attribute_after(html: &str, tag: &str, attribute: &str) -> String {
    let start = html.find(tag).unwrap_or_else(|| panic!("no {tag} in {html}"));
    let rest = &html[start..];
    let at = rest.find(&format!("{attribute}=\"")).unwrap() + attribute.len() + 2;
    rest[at..].split('"').next().unwrap().to_owned()
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}
