//! Sends one alert to the webhook, signed the Standard Webhooks way, and says what the answer means: delivered,
//! worth another try, or refused for good. Redirects are not followed (they could lead anywhere, with the
//! webhook's secret path), and every attempt has its timeout.

use super::webhook_signature::WebhookSecrets;
use reqwest::StatusCode;
use std::time::Duration;

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Failed in a way another attempt may not: no answer, a 5xx, a 408 or a 429, a redirect.
    Retry(String),
    /// Refused for good: a 4xx other than 408 and 429 (the receiver does not want it, or is not there).
    Refused(String),
}

/// What a receiver's status means for the alert.
pub fn classify(status: StatusCode) -> Delivery {
    let why = format!("HTTP {status}");
    match status.as_u16() {
        200..=299 => Delivery::Delivered,
        408 | 429 => Delivery::Retry(why),
        400..=499 => Delivery::Refused(why),
        _ => Delivery::Retry(why),
    }
}

pub struct WebhookSender {
    http: reqwest::Client,
    url: reqwest::Url,
    secrets: WebhookSecrets,
    timeout: Duration,
}

impl WebhookSender {
    pub fn new(url: reqwest::Url, secrets: WebhookSecrets, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend and resolver are available");
        WebhookSender { http, url, secrets, timeout }
    }

    /// The webhook without its path and query, where its secrets travel: safe to log.
    pub fn shown_url(&self) -> String {
        format!("{}://{}/…", self.url.scheme(), self.url.host_str().unwrap_or(""))
    }

    /// One attempt: `id` is the alert's id (`webhook-id`, the same on every attempt), `body` its payload.
    pub async fn send(&self, id: &str, body: &str) -> Delivery {
        let timestamp = jiff::Timestamp::now().as_second();
        let outcome = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", self.secrets.signature(id, timestamp, body))
            .body(body.to_owned())
            .send()
            .await;
        match outcome {
            Ok(response) => classify(response.status()),
            Err(error) if error.is_timeout() => {
                Delivery::Retry(format!("no answer within {} ms", self.timeout.as_millis()))
            }
            Err(_) => Delivery::Retry("the webhook could not be reached".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_4xx_other_than_408_and_429_is_refused_for_good() {
        let table = [
            (200, Delivery::Delivered),
            (204, Delivery::Delivered),
            (301, Delivery::Retry("HTTP 301 Moved Permanently".into())),
            (400, Delivery::Refused("HTTP 400 Bad Request".into())),
            (401, Delivery::Refused("HTTP 401 Unauthorized".into())),
            (404, Delivery::Refused("HTTP 404 Not Found".into())),
            (408, Delivery::Retry("HTTP 408 Request Timeout".into())),
            (410, Delivery::Refused("HTTP 410 Gone".into())),
            (429, Delivery::Retry("HTTP 429 Too Many Requests".into())),
            (500, Delivery::Retry("HTTP 500 Internal Server Error".into())),
            (503, Delivery::Retry("HTTP 503 Service Unavailable".into())),
        ];
        for (status, expected) in table {
            assert_eq!(classify(StatusCode::from_u16(status).unwrap()), expected, "{status}");
        }
    }
}
