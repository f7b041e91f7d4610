//! The upstream client: GET with timeouts, bounded retries within a computation's budget, no redirects and
//! a body size limit; each answer decoded into the wire types or turned into a `UsageError`.

use super::retry::{CallBudget, RetryPolicy};
use super::urls::UpstreamUrls;
use super::wire::{Message, MessagesBody, Report, ReportLookup};
use crate::money::Credits;
use crate::server::config::redacted;
use crate::server::error::UsageError;
use reqwest::{StatusCode, Url};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the client needs to know, as plain values.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub urls: UpstreamUrls,
    /// One call, connection to last byte.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub max_body_bytes: usize,
    /// Sent as `Authorization` on every call (an organisation's upstream may need one); never shown.
    pub authorization: Option<Authorization>,
    /// The calls in flight at once across every client that shares it (`upstream_concurrency`).
    pub in_flight: CallSlots,
}

/// A bound on upstream calls in flight, shared by the clients of every organisation.
#[derive(Clone, Debug)]
pub struct CallSlots(Arc<tokio::sync::Semaphore>);

impl CallSlots {
    pub fn new(slots: usize) -> Self {
        CallSlots(Arc::new(tokio::sync::Semaphore::new(slots.clamp(1, tokio::sync::Semaphore::MAX_PERMITS))))
    }
}

/// An `Authorization` header's value: marked sensitive, and shown nowhere (not even in `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization(reqwest::header::HeaderValue);

impl Authorization {
    /// `None` when `value` cannot be a header's value (a control character, a line break).
    pub fn new(value: &str) -> Option<Self> {
        let mut header = reqwest::header::HeaderValue::from_str(value).ok()?;
        header.set_sensitive(true);
        Some(Authorization(header))
    }
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Authorization(not shown)")
    }
}

#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    in_flight: CallSlots,
    urls: UpstreamUrls,
    retry: RetryPolicy,
    max_body_bytes: usize,
}

/// One failed attempt, and whether another may succeed.
enum Attempt {
    Transient { cause: String, retry_after: Option<Duration> },
    Fatal(UsageError),
}

impl UpstreamClient {
    pub fn new(settings: ClientSettings) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(Authorization(value)) = settings.authorization {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could lead anywhere, http included, with the credentials of the base URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend and resolver are available");
        UpstreamClient {
            http,
            in_flight: settings.in_flight,
            urls: settings.urls,
            retry: settings.retry,
            max_body_bytes: settings.max_body_bytes,
        }
    }

    pub fn urls(&self) -> &UpstreamUrls {
        &self.urls
    }

    pub async fn fetch_messages(&self, budget: &CallBudget) -> Result<Vec<Message>, UsageError> {
        let resource = "messages";
        let (status, body) = self.get(resource, self.urls.messages(), budget).await?;
        if !status.is_success() {
            return Err(UsageError::UpstreamUnavailable { resource: resource.into(), cause: format!("HTTP {status}") });
        }
        let parsed: MessagesBody = decode(resource, &body)?;
        Ok(parsed.messages)
    }

    pub async fn fetch_report(&self, id: u64, budget: &CallBudget) -> Result<ReportLookup, UsageError> {
        let resource = format!("report {id}");
        let (status, body) = self.get(&resource, self.urls.report(id), budget).await?;
        match status {
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(ReportLookup::NotFound),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                tracing::warn!(report_id = id, %status, "upstream refused the report id; pricing by text");
                Ok(ReportLookup::Refused(status.as_u16()))
            }
            status if status.is_success() => {
                let report: Report = decode(&resource, &body)?;
                if report.id != id {
                    return Err(UsageError::UpstreamMalformed {
                        resource,
                        cause: format!("asked for report {id}, got report {}", report.id),
                    });
                }
                if report.credit_cost < Credits::ZERO {
                    return Err(UsageError::UpstreamMalformed {
                        resource,
                        cause: format!("negative credit_cost {}", report.credit_cost),
                    });
                }
                Ok(ReportLookup::Found(report))
            }
            // 401, 403, 407, 408, a redirect…: nothing said about this id, so no price can be trusted.
            status => Err(UsageError::UpstreamUnavailable { resource, cause: format!("HTTP {status}") }),
        }
    }

    /// One plain call to the messages endpoint, for readiness: no retries, any 2xx is ready.
    pub async fn probe(&self) -> Result<(), UsageError> {
        let resource = "messages (readiness)";
        let unavailable = |cause: String| UsageError::UpstreamUnavailable { resource: resource.into(), cause };
        let response =
            self.http.head(self.urls.messages()).send().await.map_err(|error| unavailable(describe(error)))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(unavailable(format!("HTTP {status}"))),
        }
    }

    /// GET with retries. Answers that are final (success, any 4xx but 429) come back as they are; transient
    /// failures are retried while the budget allows, and after that become `UpstreamUnavailable`.
    async fn get(&self, resource: &str, url: Url, budget: &CallBudget) -> Result<(StatusCode, Vec<u8>), UsageError> {
        let shown_url = redacted(&url);
        // A bounded label: which endpoint, never which report.
        let endpoint = if resource == "messages" { "messages" } else { "reports" };
        let count = |outcome: &'static str| {
            metrics::counter!("upstream_requests_total", "endpoint" => endpoint, "outcome" => outcome).increment(1);
        };
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let outcome = self.get_once(resource, &url).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match outcome {
                Ok((status, body)) => {
                    count(match status.as_u16() {
                        200..=299 => "success",
                        404 | 410 => "not_found",
                        _ => "http_error",
                    });
                    tracing::info!(url = %shown_url, %status, elapsed_ms, attempt, bytes = body.len(), "upstream call");
                    return Ok((status, body));
                }
                Err(Attempt::Fatal(error)) => {
                    count("refused");
                    tracing::warn!(url = %shown_url, elapsed_ms, attempt, %error, "upstream call failed");
                    return Err(error);
                }
                Err(Attempt::Transient { cause, retry_after }) => {
                    count("transient_error");
                    tracing::warn!(url = %shown_url, elapsed_ms, attempt, %cause, "upstream call failed transiently");
                    match self.retry.wait_for(retry_after, attempt, rand::random::<f64>()) {
                        Some(wait) if attempt < self.retry.retries && budget.take_retry(wait) => {
                            metrics::counter!("upstream_retries_total").increment(1);
                            tokio::time::sleep(wait).await
                        }
                        _ => return Err(UsageError::UpstreamUnavailable { resource: resource.to_owned(), cause }),
                    }
                    attempt += 1;
                }
            }
        }
    }

    async fn get_once(&self, resource: &str, url: &Url) -> Result<(StatusCode, Vec<u8>), Attempt> {
        let transient = |cause: String| Attempt::Transient { cause, retry_after: None };
        // Held until the body is read: the bound is on connections in use. The semaphore is never closed.
        let _slot = self.in_flight.0.acquire().await.map_err(|_| transient("no upstream call slot".into()))?;
        let mut response = self.http.get(url.clone()).send().await.map_err(|error| transient(describe(error)))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Attempt::Transient { cause: format!("HTTP {status}"), retry_after: retry_after(&response) });
        }
        let too_large = || {
            Attempt::Fatal(UsageError::UpstreamTooLarge {
                resource: resource.to_owned(),
                limit_bytes: self.max_body_bytes,
            })
        };
        if response.content_length().is_some_and(|length| length > self.max_body_bytes as u64) {
            return Err(too_large());
        }
        // Read chunk by chunk so a body without (or lying about) Content-Length cannot exhaust memory.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| transient(describe(error)))? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// What went wrong, for the error message and the log. reqwest's own text names the full URL, credentials
/// included, so the URL is taken out first; the source chain says what actually happened (reset, DNS, …).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    if error.is_connect() {
        return "connection failed".to_owned();
    }
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn decode<T: serde::de::DeserializeOwned>(resource: &str, body: &[u8]) -> Result<T, UsageError> {
    serde_json::from_slice(body)
        .map_err(|error| UsageError::UpstreamMalformed { resource: resource.to_owned(), cause: error.to_string() })
}
