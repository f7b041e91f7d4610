//! The upstream billing APIs: wire types, strict decoding, timeouts, bounded retries and a body size limit.

use super::config::Config;
use super::error::UsageError;
use super::upstream_url::{redacted, UpstreamUrls};
use crate::money::Credits;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Deserializer};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The longest wait before a retry: backoff never grows past it, and a longer Retry-After is not waited
/// for (the call fails instead of hanging). The default deadline is sized with it.
pub const LONGEST_WAIT_BEFORE_RETRY: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Deserialize)]
pub struct MessagesBody {
    pub messages: Vec<Message>,
}

/// A message as the upstream sends it. `id`, `text` and `timestamp` are mandatory; `report_id` is
/// kept as raw JSON because an unusable id is not an error, only a reason to use the text rule.
#[derive(Clone, Debug, Deserialize)]
pub struct Message {
    pub id: i64,
    #[serde(deserialize_with = "text_with_replacements")]
    pub text: String,
    pub timestamp: String,
    #[serde(default)]
    pub report_id: Option<serde_json::Value>,
}

/// What a message's `report_id` is good for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportId {
    Absent,
    /// A non-negative integer (or an integral number such as `5392.0`, or a string of digits).
    Usable(u64),
    /// Anything else, as the upstream sent it.
    Invalid(String),
}

impl Message {
    pub fn report_id(&self) -> ReportId {
        let Some(value) = self.report_id.as_ref() else { return ReportId::Absent };
        let usable = match value {
            serde_json::Value::Number(number) => number.as_u64().or_else(|| integral_float(number.as_f64()?)),
            serde_json::Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().ok()
            }
            _ => None,
        };
        usable.map_or_else(|| ReportId::Invalid(value.to_string()), ReportId::Usable)
    }
}

/// `5392.0` is the id 5392. Beyond 2^53 a float no longer names one integer, so it is not an id.
fn integral_float(value: f64) -> Option<u64> {
    const LARGEST_EXACT: f64 = 9_007_199_254_740_992.0;
    (value.fract() == 0.0 && (0.0..=LARGEST_EXACT).contains(&value)).then_some(value as u64)
}

/// A message text. JSON may carry a lone UTF-16 surrogate (`"\ud800"`), which no Rust string can hold; it
/// counts as one U+FFFD replacement character instead of making the whole period unreadable.
fn text_with_replacements<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct TextVisitor;
    impl serde::de::Visitor<'_> for TextVisitor {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<String, E> {
            decode_wtf8(bytes).ok_or_else(|| E::custom("text is not valid UTF-8"))
        }
    }
    // serde_json hands a string over as bytes without rejecting lone surrogates (encoded as in WTF-8).
    deserializer.deserialize_bytes(TextVisitor)
}

/// UTF-8, except that each encoded surrogate (ED A0..BF xx) becomes one U+FFFD. Other invalid bytes are
/// still an error: they are not something JSON text can contain.
fn decode_wtf8(mut bytes: &[u8]) -> Option<String> {
    let mut text = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                text.push_str(valid);
                return Some(text);
            }
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                text.push_str(std::str::from_utf8(valid).ok()?);
                match rest {
                    [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] => text.push(char::REPLACEMENT_CHARACTER),
                    _ => return None,
                }
                bytes = &rest[3..];
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Report {
    pub id: u64,
    pub name: String,
    pub credit_cost: Credits,
}

/// What asking for a report told us. Only answers about the id itself are values; failures are errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportLookup {
    Found(Report),
    /// 404 or 410: no such report, so the message is priced by its text.
    NotFound,
    /// 400 or 422: the upstream refuses this id, so it is treated as a bad id.
    Refused(u16),
}

/// One usage computation's allowance of upstream time and retries, shared by all its calls. Without it a
/// failing upstream would see every one of hundreds of report lookups retried; with it the whole
/// computation makes at most `retry_budget` retries, and none that its deadline would cut off.
pub struct CallBudget {
    deadline: Instant,
    retries_left: AtomicU32,
}

impl CallBudget {
    pub fn new(deadline: Instant, retries: u32) -> Self {
        CallBudget { deadline, retries_left: AtomicU32::new(retries) }
    }

    /// Takes one retry from the budget if there is one and waiting `wait` still ends before the deadline.
    fn take_retry(&self, wait: Duration) -> bool {
        if Instant::now() + wait >= self.deadline {
            return false;
        }
        self.retries_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
    }
}

#[derive(Clone)]
pub struct UpstreamClient {
    http: reqwest::Client,
    urls: UpstreamUrls,
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
    pub fn new(config: &Config, urls: UpstreamUrls) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.upstream_timeout())
            .connect_timeout(config.upstream_timeout())
            // A redirect could lead anywhere, http included, with the credentials of the base URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend and resolver are available");
        UpstreamClient {
            http,
            urls,
            retries: config.upstream_retries,
            retry_base: config.upstream_retry_base(),
            max_body_bytes: config.upstream_max_body_bytes,
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
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let outcome = self.get_once(resource, &url).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match outcome {
                Ok((status, body)) => {
                    tracing::info!(url = %shown_url, %status, elapsed_ms, attempt, bytes = body.len(), "upstream call");
                    return Ok((status, body));
                }
                Err(Attempt::Fatal(error)) => {
                    tracing::warn!(url = %shown_url, elapsed_ms, attempt, %error, "upstream call failed");
                    return Err(error);
                }
                Err(Attempt::Transient { cause, retry_after }) => {
                    tracing::warn!(url = %shown_url, elapsed_ms, attempt, %cause, "upstream call failed transiently");
                    let wait = match retry_after {
                        Some(wait) if wait > LONGEST_WAIT_BEFORE_RETRY => None,
                        Some(wait) => Some(wait),
                        None => Some(self.backoff(attempt)),
                    };
                    match wait {
                        Some(wait) if attempt < self.retries && budget.take_retry(wait) => {
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

    /// Exponential backoff with full jitter between half and the whole step, so that many clients
    /// retrying together spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self.retry_base.saturating_mul(2u32.saturating_pow(attempt)).min(LONGEST_WAIT_BEFORE_RETRY);
        step.mul_f64(rand::random::<f64>() * 0.5 + 0.5)
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
        assert_eq!(message(serde_json::json!(5392)).report_id(), ReportId::Usable(5392));
        assert_eq!(message(serde_json::json!("5392")).report_id(), ReportId::Usable(5392));
        assert_eq!(message(serde_json::json!(5392.0)).report_id(), ReportId::Usable(5392));
        assert_eq!(message(serde_json::json!(null)).report_id(), ReportId::Absent);
        for unusable in [
            serde_json::json!(1e300),
            serde_json::json!(-1),
            serde_json::json!(1.5),
            serde_json::json!("abc"),
            serde_json::json!(""),
            serde_json::json!("../admin"),
            serde_json::json!({"id": 1}),
            serde_json::json!(true),
        ] {
            assert_eq!(message(unusable.clone()).report_id(), ReportId::Invalid(unusable.to_string()));
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

    #[test]
    fn a_lone_surrogate_in_a_text_counts_as_one_replacement_character() {
        let body = br#"{"id":1,"text":"ab\ud800cd\udfff","timestamp":"2024-04-29T02:08:29Z"}"#;
        let message: Message = serde_json::from_slice(body).unwrap();
        assert_eq!(message.text, "ab\u{FFFD}cd\u{FFFD}");
        // A proper pair is still one character.
        let body = br#"{"id":1,"text":"\ud83d\ude00 ok","timestamp":"2024-04-29T02:08:29Z"}"#;
        assert_eq!(serde_json::from_slice::<Message>(body).unwrap().text, "😀 ok");
    }

    #[test]
    fn invalid_utf8_in_a_text_is_still_malformed() {
        let body = b"{\"id\":1,\"text\":\"a\xFFb\",\"timestamp\":\"2024-04-29T02:08:29Z\"}";
        assert!(serde_json::from_slice::<Message>(body).is_err());
    }
}
