//! Alerts are signed the Standard Webhooks way (standardwebhooks.com), so that a receiver verifies them with
//! that ecosystem's libraries: `webhook-id` (the alert's id, the same on every retry: receivers deduplicate on
//! it), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`, `v1,<base64 of HMAC-SHA256
//! of "<id>.<timestamp>.<body>">` under each secret, space-separated. The id is signed, so a captured delivery
//! cannot be replayed under another id; every secret signs, so a receiver rotating its secret accepts a delivery
//! signed with the old one or the new one while both are configured.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// Shorter keys are guessable; the specification asks for 24 to 64 bytes, and 16 is this server's floor.
const SHORTEST_KEY_BYTES: usize = 16;

/// Why `alert_webhook_secret` cannot be used; never shows any of a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("at least one `whsec_<base64>` secret")]
    Missing,
    #[error("secret {0} does not start with `whsec_`")]
    NoPrefix(usize),
    #[error("secret {0} is not `whsec_` and standard base64")]
    NotBase64(usize),
    #[error("secret {position} is {bytes} bytes; at least 16")]
    TooShort { position: usize, bytes: usize },
}

/// The signing keys, in the order configured.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<Vec<u8>>);

impl WebhookSecrets {
    /// `whsec_<base64>` secrets separated by spaces or commas (`alert_webhook_secret`). The error says what is
    /// wrong without showing any of the secret.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let keys = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|secret| !secret.is_empty())
            .enumerate()
            .map(|(index, secret)| {
                let position = index + 1;
                let encoded = secret.strip_prefix(PREFIX).ok_or(SecretError::NoPrefix(position))?;
                let key = BASE64.decode(encoded).map_err(|_| SecretError::NotBase64(position))?;
                if key.len() < SHORTEST_KEY_BYTES {
                    return Err(SecretError::TooShort { position, bytes: key.len() });
                }
                Ok(key)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SecretError::Missing);
        }
        Ok(WebhookSecrets(keys))
    }

    /// The `webhook-signature` header's value: one `v1,<base64>` per secret.
    pub fn signature(&self, id: &str, timestamp: i64, body: &str) -> String {
        let signed = format!("{id}.{timestamp}.{body}");
        let signatures: Vec<String> = self
            .0
            .iter()
            .map(|key| {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
                mac.update(signed.as_bytes());
                format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
            })
            .collect();
        signatures.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_specifications_example() {
        // The Standard Webhooks specification's example: this secret, id, timestamp and body sign to this value.
        let secrets = WebhookSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            secrets.signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn every_secret_signs_for_a_rotation() {
        let one = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let two = "whsec_c2Vjb25kLXNlY3JldC1rZXktb2YtMzItYnl0ZXMhIQ==";
        let both = WebhookSecrets::parse(&format!("{one}, {two}")).unwrap();
        let signature = both.signature("a", 1, "{}");
        let each: Vec<String> =
            [one, two].iter().map(|secret| WebhookSecrets::parse(secret).unwrap().signature("a", 1, "{}")).collect();
        assert_eq!(signature, each.join(" "));
        assert_ne!(each[0], each[1]);
    }

    #[test]
    fn the_id_and_the_timestamp_are_signed() {
        let secrets = WebhookSecrets::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = secrets.signature("2024-05-02/threshold/500", 1_700_000_000, "{}");
        assert_ne!(signature, secrets.signature("2024-05-02/threshold/800", 1_700_000_000, "{}"));
        assert_ne!(signature, secrets.signature("2024-05-02/threshold/500", 1_700_000_001, "{}"));
    }

    #[test]
    fn secrets_that_are_not_whsec_base64_of_16_bytes_are_refused_without_being_shown() {
        for (text, error) in [
            ("", "at least one `whsec_<base64>` secret"),
            ("hunter2hunter2hunter2", "secret 1 does not start with `whsec_`"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_not*base64", "secret 2 is not `whsec_` and standard base64"),
            ("whsec_c2hvcnQ=", "secret 1 is 5 bytes; at least 16"),
        ] {
            assert_eq!(
                WebhookSecrets::parse(text).err().map(|error| error.to_string()).as_deref(),
                Some(error),
                "{text}"
            );
        }
    }
}
