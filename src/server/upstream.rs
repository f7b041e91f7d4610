//! The upstream billing APIs: wire types, strict decoding, timeouts, bounded retries and a body size limit.

use super::config::Config;
use super::error::UsageError;
use crate::money::Credits;
use reqwest::StatusCode;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Retry-After values longer than this are not waited for: the request fails instead of hanging.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(2);
/// Backoff never grows past this, whatever the attempt.
const LONGEST_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, Deserialize)]
pub struct MessagesBody {
    pub messages: Vec<Message>,
}

/// A message as the upstream sends it. `id`, `text` and `timestamp` are mandatory; `report_id` is
/// kept as raw JSON because an unusable id is not an error, only a reason to use the text rule.
#[derive(Clone, Debug, Deserialize)]
pub struct Message {
    pub id: i64,
    pub text: String,
    pub timestamp: String,
    #[serde(default)]
    pub report_id: Option<serde_json::Value>,
}

impl Message {
    /// The report id when it is one we can ask for: a non-negative integer, or a string of digits.
    pub fn usable_report_id(&self) -> Option<u64> {
        match self.report_id.as_ref()? {
            serde_json::Value::Number(number) => number.as_u64(),
            serde_json::Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().ok()
            }
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Report {
    pub id: u64,
    pub name: String,
    pub credit_cost: Credits,
}

/// What asking for a report told us. Only definite answers are values; failures are errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportLookup {
    Found(Report),
    /// 404: no such report, so the message is priced by its text.
    NotFound,
    /// Another 4xx (400, 410, 422, …): the upstream refuses this id, so it is treated as a bad id.
    Refused(u16),
}

#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    base_url: String,
    retries: u32,
    retry_base: Duration,
    max_body_bytes: usize,
}

/// One failed attempt, and whether another may succeed.
enum Attempt {
    Transient { cause: String, retry_after: Option<Duration> },
    Fatal(UsageError),
}

impl UpstreamClient {
    pub fn new(config: &Config) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.upstream_timeout)
            .connect_timeout(config.upstream_timeout)
            .build()
            .expect("a TLS backend and resolver are available");
        UpstreamClient {
            http,
            base_url: config.effective_upstream_base_url(),
            retries: config.upstream_retries,
            retry_base: config.upstream_retry_base,
            max_body_bytes: config.upstream_max_body_bytes,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn fetch_messages(&self) -> Result<Vec<Message>, UsageError> {
        let resource = "messages";
        let (status, body) = self.get(resource, "/messages/current-period").await?;
        if !status.is_success() {
            return Err(UsageError::UpstreamUnavailable {
                resource: resource.into(),
                cause: format!("HTTP {status}"),
            });
        }
        let parsed: MessagesBody = decode(resource, &body)?;
        Ok(parsed.messages)
    }

    pub async fn fetch_report(&self, id: u64) -> Result<ReportLookup, UsageError> {
        let resource = format!("report {id}");
        let (status, body) = self.get(&resource, &format!("/reports/{id}")).await?;
        match status {
            StatusCode::NOT_FOUND => Ok(ReportLookup::NotFound),
            status if status.is_client_error() => {
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
            status => Err(UsageError::UpstreamUnavailable { resource, cause: format!("HTTP {status}") }),
        }
    }

    /// One plain call to the messages endpoint, for readiness: no retries, any 2xx is ready.
    pub async fn probe(&self) -> Result<(), UsageError> {
        let resource = "messages (readiness)";
        let url = format!("{}/messages/current-period", self.base_url);
        let response = self.http.head(&url).send().await.map_err(|error| UsageError::UpstreamUnavailable {
            resource: resource.into(),
            cause: describe(&error),
        })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(UsageError::UpstreamUnavailable { resource: resource.into(), cause: format!("HTTP {status}") }),
        }
    }

    /// GET with retries. Answers that are final (success, any 4xx but 429) come back as they are; transient
    /// failures are retried, and after the last retry become `UpstreamUnavailable`.
    async fn get(&self, resource: &str, path: &str) -> Result<(StatusCode, Vec<u8>), UsageError> {
        let url = format!("{}{path}", self.base_url);
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let outcome = self.get_once(resource, &url).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match outcome {
                Ok((status, body)) => {
                    tracing::info!(%url, %status, elapsed_ms, attempt, bytes = body.len(), "upstream call");
                    return Ok((status, body));
                }
                Err(Attempt::Fatal(error)) => {
                    tracing::warn!(%url, elapsed_ms, attempt, %error, "upstream call failed");
                    return Err(error);
                }
                Err(Attempt::Transient { cause, retry_after }) => {
                    tracing::warn!(%url, elapsed_ms, attempt, %cause, "upstream call failed transiently");
                    let backoff = match retry_after {
                        Some(wait) if wait > LONGEST_RETRY_AFTER => None,
                        Some(wait) => Some(wait),
                        None => Some(self.backoff(attempt)),
                    };
                    match backoff {
                        Some(wait) if attempt < self.retries => tokio::time::sleep(wait).await,
                        _ => {
                            return Err(UsageError::UpstreamUnavailable { resource: resource.to_owned(), cause })
                        }
                    }
                    attempt += 1;
                }
            }
        }
    }

    async fn get_once(&self, resource: &str, url: &str) -> Result<(StatusCode, Vec<u8>), Attempt> {
        let transient = |cause: String| Attempt::Transient { cause, retry_after: None };
        let mut response = self.http.get(url).send().await.map_err(|error| transient(describe(&error)))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Attempt::Transient {
                cause: format!("HTTP {status}"),
                retry_after: retry_after(&response),
            });
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
        while let Some(chunk) = response.chunk().await.map_err(|error| transient(describe(&error)))? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// Exponential backoff with full jitter between half and the whole step, so that many clients
    /// retrying together spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self.retry_base.saturating_mul(2u32.saturating_pow(attempt)).min(LONGEST_BACKOFF);
        step.mul_f64(rand::random::<f64>() * 0.5 + 0.5)
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        // The source chain says what actually went wrong (reset, DNS, …); the top level only "error sending request".
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

fn decode<T: serde::de::DeserializeOwned>(resource: &str, body: &[u8]) -> Result<T, UsageError> {
    serde_json::from_slice(body).map_err(|error| UsageError::UpstreamMalformed {
        resource: resource.to_owned(),
        cause: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(report_id: serde_json::Value) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": 1, "text": "t", "timestamp": "2024-04-29T02:08:29.375Z", "report_id": report_id
        }))
        .unwrap()
    }

    #[test]
    fn usable_report_ids_are_non_negative_integers() {
        assert_eq!(message(serde_json::json!(5392)).usable_report_id(), Some(5392));
        assert_eq!(message(serde_json::json!("5392")).usable_report_id(), Some(5392));
        for unusable in [
            serde_json::json!(null),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!("abc"),
            serde_json::json!(""),
            serde_json::json!("../admin"),
            serde_json::json!({"id": 1}),
            serde_json::json!(true),
        ] {
            assert_eq!(message(unusable.clone()).usable_report_id(), None, "{unusable}");
        }
    }

    #[test]
    fn mandatory_message_fields_are_required() {
        for missing in ["id", "text", "timestamp"] {
            let mut value = serde_json::json!({"id": 1, "text": "t", "timestamp": "2024-04-29T02:08:29Z"});
            value.as_object_mut().unwrap().remove(missing);
            assert!(serde_json::from_value::<Message>(value).is_err(), "{missing} is mandatory");
        }
    }

    #[test]
    fn report_credit_cost_is_kept_exactly() {
        let report: Report = serde_json::from_str(r#"{"id":7,"name":"Lease","credit_cost":61.5}"#).unwrap();
        assert_eq!(report.credit_cost, Credits::from_hundredths(6150));
        assert!(serde_json::from_str::<Report>(r#"{"id":7,"name":"Lease"}"#).is_err());
    }
}
