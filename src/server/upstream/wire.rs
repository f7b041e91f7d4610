//! The upstream's JSON, as it is promised: `GET /messages/current-period` and `GET /reports/{id}`. Decoding is
//! strict where a wrong value would make a wrong number, and lenient where the rules say what to do instead
//! (an unusable `report_id` is a reason to price by text, not an error).

use crate::money::Credits;
use serde::{Deserialize, Deserializer};

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
