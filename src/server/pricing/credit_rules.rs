//! The credit rules, in one place: what a message costs and how that price was reached.
//!
//! A message whose `report_id` names a report that exists costs the report's `credit_cost`. Any other
//! message is priced by its text: tokens = ⌈characters ÷ 4⌉ (Unicode scalar values), 0.40 credits per token,
//! at least 1.00. The basis is returned as data so that every view explains the same arithmetic it charged.

use super::inconsistent::Inconsistent;
use crate::money::Credits;
use crate::server::upstream::wire::{Message, ReportId, ReportLookup};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The version of these rules: part of every key replicas share (`shared_cache`), so that builds that price
/// differently (a rolling deploy, a staging build on the same Redis) never serve each other's periods. Raise it
/// with any change to the constants below or to how a message is priced; a test pins them to it.
pub const RULES_VERSION: u32 = 1;

const CHARACTERS_PER_TOKEN: u64 = 4;
const CREDITS_PER_TOKEN: Credits = Credits::from_hundredths(40);
const MINIMUM_CHARGE: Credits = Credits::from_hundredths(100);

/// A message's price and the reason for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    pub credits: Credits,
    pub basis: PriceBasis,
}

/// Kept with each row, in memory and in the history store (as JSON), so that an explanation is always written
/// from what was charged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum PriceBasis {
    /// The report's fixed cost.
    Report { report_id: u64, name: String },
    /// The text rule; `fallback` says why a message with a `report_id` was priced by its text.
    Text { charge: TextCharge, fallback: Option<Fallback> },
}

/// The text rule's arithmetic for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextCharge {
    pub characters: u64,
    pub tokens: u64,
    /// The tokens came to less than the minimum charge, which was charged instead.
    pub minimum_applied: bool,
}

/// Why a message that carries a `report_id` is priced by its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Fallback {
    /// The upstream says there is no such report (404, 410).
    NotFound { report_id: u64 },
    /// The upstream refuses the id (400, 422).
    Refused { report_id: u64, status: u16 },
    /// The id is not one that can be asked for: negative, fractional, not a number.
    InvalidId { raw: String },
}

impl Price {
    pub fn report_name(&self) -> Option<&str> {
        match &self.basis {
            PriceBasis::Report { name, .. } => Some(name),
            PriceBasis::Text { .. } => None,
        }
    }

    /// How the price was reached, in words: see [`explain`].
    pub fn explanation(&self) -> String {
        explain(self.credits, &self.basis)
    }
}

impl PriceBasis {
    /// The report id the message carried, when it was one: the report that priced it, or the one that fell
    /// back to the text rule.
    pub fn report_id(&self) -> Option<u64> {
        match self {
            PriceBasis::Report { report_id, .. }
            | PriceBasis::Text {
                fallback: Some(Fallback::NotFound { report_id } | Fallback::Refused { report_id, .. }),
                ..
            } => Some(*report_id),
            PriceBasis::Text { .. } => None,
        }
    }
}

/// How a price was reached, in words, with the arithmetic that gives exactly `credits`:
/// `Tenant Obligations Report (report 5392): fixed cost 79.00`,
/// `43 characters → 11 tokens × 0.40 = 4.40`,
/// `report 7321 not found: priced by its text: 9 characters → 3 tokens × 0.40 = 1.20`.
pub fn explain(credits: Credits, basis: &PriceBasis) -> String {
    match basis {
        PriceBasis::Report { report_id, name } => format!("{name} (report {report_id}): fixed cost {credits}"),
        PriceBasis::Text { charge, fallback } => {
            let arithmetic = text_arithmetic(charge);
            match fallback {
                None => arithmetic,
                Some(Fallback::NotFound { report_id }) => {
                    format!("report {report_id} not found: priced by its text: {arithmetic}")
                }
                Some(Fallback::Refused { report_id, status }) => format!(
                    "report {report_id} refused by the billing service (HTTP {status}): priced by its text: {arithmetic}"
                ),
                Some(Fallback::InvalidId { raw }) => {
                    format!("report id {raw} is not a valid id: priced by its text: {arithmetic}")
                }
            }
        }
    }
}

fn text_arithmetic(charge: &TextCharge) -> String {
    let by_tokens = i64::try_from(charge.tokens).ok().and_then(|tokens| CREDITS_PER_TOKEN.checked_mul(tokens));
    let product = by_tokens.map_or_else(|| "too many to count".to_owned(), |credits| credits.to_string());
    let characters = if charge.characters == 1 { "character" } else { "characters" };
    let tokens = if charge.tokens == 1 { "token" } else { "tokens" };
    let mut text =
        format!("{} {characters} → {} {tokens} × {CREDITS_PER_TOKEN} = {product}", charge.characters, charge.tokens);
    if charge.minimum_applied {
        text.push_str(&format!(", minimum {MINIMUM_CHARGE} applied"));
    }
    text
}

/// What a message costs when no report prices it, and the arithmetic. Characters are Unicode scalar values,
/// so "é" counts once whatever its UTF-8 length.
pub fn price_text(text: &str) -> (Credits, TextCharge) {
    price_characters(text.chars().count() as u64)
}

/// The text rule for a text of `characters` Unicode scalar values.
fn price_characters(characters: u64) -> (Credits, TextCharge) {
    let tokens = characters.div_ceil(CHARACTERS_PER_TOKEN);
    // An upstream body is at most a few hundred MiB, so this product always fits; saturating keeps the
    // impossible case at a huge price rather than a wrapped one.
    let by_tokens = i64::try_from(tokens)
        .ok()
        .and_then(|tokens| CREDITS_PER_TOKEN.checked_mul(tokens))
        .unwrap_or(Credits::from_hundredths(i64::MAX));
    let minimum_applied = by_tokens < MINIMUM_CHARGE;
    let credits = if minimum_applied { MINIMUM_CHARGE } else { by_tokens };
    (credits, TextCharge { characters, tokens, minimum_applied })
}

/// Checks a priced row read back from outside this process (another replica's value in Redis): its name is the
/// one its basis gives, a report's cost is not negative, and a text price is exactly the text rule's arithmetic.
pub fn check_charged(credits: Credits, report_name: Option<&str>, basis: &PriceBasis) -> Result<(), Inconsistent> {
    match basis {
        PriceBasis::Report { name, .. } if report_name != Some(name.as_str()) => {
            Err(Inconsistent::from("its report name is not the one its price names".to_owned()))
        }
        PriceBasis::Report { .. } if credits < Credits::ZERO => {
            Err(Inconsistent::from(format!("a negative cost {credits}")))
        }
        PriceBasis::Report { .. } => Ok(()),
        PriceBasis::Text { .. } if report_name.is_some() => {
            Err(Inconsistent::from("a report name on a text price".to_owned()))
        }
        PriceBasis::Text { charge, .. } => match price_characters(charge.characters) {
            (expected, computed) if expected == credits && computed == *charge => Ok(()),
            (expected, _) => Err(Inconsistent::from(format!(
                "{} characters cost {expected} by the text rule, not {credits} ({} tokens)",
                charge.characters, charge.tokens
            ))),
        },
    }
}

/// Prices one message against the reports resolved for its period. An id that was not resolved cannot
/// happen (every usable id is looked up first) and would be priced by text like a missing report.
pub fn price_message(message: &Message, reports: &HashMap<u64, ReportLookup>) -> Price {
    let fallback = match message.report_id() {
        ReportId::Absent => None,
        ReportId::Invalid(raw) => Some(Fallback::InvalidId { raw }),
        ReportId::Usable(report_id) => match reports.get(&report_id) {
            Some(ReportLookup::Found(report)) => {
                return Price {
                    credits: report.credit_cost,
                    basis: PriceBasis::Report { report_id, name: report.name.clone() },
                }
            }
            Some(ReportLookup::Refused(status)) => Some(Fallback::Refused { report_id, status: *status }),
            Some(ReportLookup::NotFound) | None => Some(Fallback::NotFound { report_id }),
        },
    };
    let (credits, charge) = price_text(&message.text);
    Price { credits, basis: PriceBasis::Text { charge, fallback } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::upstream::wire::Report;

    fn credits(text: &str) -> String {
        price_text(text).0.to_string()
    }

    /// A change to the rules without a new `RULES_VERSION` would let builds of both rules share periods.
    #[test]
    fn the_rules_version_names_these_rules() {
        let rules = (CHARACTERS_PER_TOKEN, CREDITS_PER_TOKEN.to_string(), MINIMUM_CHARGE.to_string());
        assert_eq!((RULES_VERSION, rules), (1, (4, "0.40".to_owned(), "1.00".to_owned())));
    }

    #[test]
    fn a_charge_read_back_must_be_what_its_basis_gives() {
        let (price, charge) = price_text("Summarise the lease");
        let text = PriceBasis::Text { charge, fallback: None };
        assert_eq!(check_charged(price, None, &text), Ok(()));
        assert!(check_charged(Credits::from_hundredths(1), None, &text).unwrap_err().0.contains("text rule"));
        let wrong_tokens = PriceBasis::Text { charge: TextCharge { tokens: 1, ..charge }, fallback: None };
        assert!(check_charged(price, None, &wrong_tokens).is_err());
        let report = PriceBasis::Report { report_id: 5, name: "Lease".into() };
        assert_eq!(check_charged(Credits::from_hundredths(7900), Some("Lease"), &report), Ok(()));
        assert!(check_charged(Credits::from_hundredths(7900), None, &report).is_err());
        assert!(check_charged(Credits::from_hundredths(-1), Some("Lease"), &report)
            .unwrap_err()
            .0
            .contains("negative"));
    }

    fn message(text: &str, report_id: serde_json::Value) -> Message {
        serde_json::from_value(serde_json::json!({
            "id": 1000, "text": text, "timestamp": "2024-04-29T02:08:29.375Z", "report_id": report_id
        }))
        .unwrap()
    }

    fn reports() -> HashMap<u64, ReportLookup> {
        let report =
            Report { id: 5392, name: "Tenant Obligations Report".into(), credit_cost: Credits::from_hundredths(7900) };
        HashMap::from([
            (5392, ReportLookup::Found(report)),
            (404, ReportLookup::NotFound),
            (400, ReportLookup::Refused(400)),
        ])
    }

    #[test]
    fn empty_text_costs_the_minimum() {
        assert_eq!(price_text(""), (MINIMUM_CHARGE, TextCharge { characters: 0, tokens: 0, minimum_applied: true }));
    }

    #[test]
    fn up_to_eight_characters_costs_the_minimum() {
        for text in ["a", "abcd", "abcde", "abcdefgh"] {
            assert_eq!(credits(text), "1.00", "{text}");
        }
        // Two tokens are 0.80, below the minimum; three are 1.20, above it.
        assert!(price_text("abcdefgh").1.minimum_applied);
        assert!(!price_text("abcdefghi").1.minimum_applied);
    }

    #[test]
    fn nine_characters_is_three_tokens() {
        assert_eq!(price_text("abcdefghi").1, TextCharge { characters: 9, tokens: 3, minimum_applied: false });
        assert_eq!(credits("abcdefghi"), "1.20");
    }

    #[test]
    fn eleven_tokens_is_exactly_four_forty() {
        assert_eq!(price_text(&"x".repeat(44)).1.tokens, 11);
        assert_eq!(credits(&"x".repeat(44)), "4.40");
        assert_eq!(credits(&"x".repeat(41)), "4.40");
        assert_eq!(credits(&"x".repeat(45)), "4.80");
        assert_eq!(credits(&"y".repeat(4000)), "400.00");
    }

    #[test]
    fn characters_are_unicode_scalar_values() {
        assert_eq!(price_text("éééé").1.tokens, 1);
        assert_eq!(price_text("ééééé").1.tokens, 2);
        // Nine scalar values, 30 UTF-8 bytes.
        assert_eq!(credits("日本語のテキストで"), "1.20");
        // A flag is two scalar values even though it shows as one symbol.
        assert_eq!(price_text("🇩🇪🇩🇪🇩").1.tokens, 2);
    }

    #[test]
    fn found_report_sets_price_and_name() {
        let price = price_message(&message("short", 5392.into()), &reports());
        assert_eq!(price.credits.to_string(), "79.00");
        assert_eq!(price.basis, PriceBasis::Report { report_id: 5392, name: "Tenant Obligations Report".into() });
        assert_eq!(price.report_name(), Some("Tenant Obligations Report"));
    }

    #[test]
    fn report_404_falls_back_to_text_rule() {
        let price = price_message(&message("abcdefghi", 404.into()), &reports());
        assert_eq!(price.credits.to_string(), "1.20");
        assert_eq!(price.report_name(), None);
        assert!(matches!(price.basis, PriceBasis::Text { fallback: Some(Fallback::NotFound { report_id: 404 }), .. }));
    }

    #[test]
    fn refused_report_id_falls_back_to_text_rule() {
        let price = price_message(&message("abcdefghi", 400.into()), &reports());
        assert_eq!(price.credits.to_string(), "1.20");
        assert!(matches!(
            price.basis,
            PriceBasis::Text { fallback: Some(Fallback::Refused { report_id: 400, status: 400 }), .. }
        ));
    }

    #[test]
    fn invalid_report_id_falls_back_to_text_rule() {
        let price = price_message(&message("abcdefghi", (-3).into()), &reports());
        assert_eq!(price.credits.to_string(), "1.20");
        assert!(matches!(price.basis, PriceBasis::Text { fallback: Some(Fallback::InvalidId { .. }), .. }));
    }

    #[test]
    fn message_without_report_is_priced_by_text() {
        let mut plain = message(&"x".repeat(44), serde_json::Value::Null);
        plain.report_id = None;
        let price = price_message(&plain, &reports());
        assert_eq!(price.credits.to_string(), "4.40");
        assert!(matches!(price.basis, PriceBasis::Text { fallback: None, .. }));
    }

    /// Reads the credits an explanation ends with (the minimum when it was applied).
    fn explained_credits(explanation: &str) -> String {
        let charged =
            explanation.strip_suffix(" applied").map_or(explanation, |rest| rest.rsplit("minimum ").next().unwrap());
        charged.rsplit(' ').next().unwrap().to_owned()
    }

    #[test]
    fn each_path_explains_itself_and_reconciles_with_its_price() {
        let cases = [
            (message("short", 5392.into()), "Tenant Obligations Report (report 5392): fixed cost 79.00"),
            (message(&"x".repeat(43), serde_json::Value::Null), "43 characters → 11 tokens × 0.40 = 4.40"),
            (message("abcd", serde_json::Value::Null), "4 characters → 1 token × 0.40 = 0.40, minimum 1.00 applied"),
            (
                message("abcdefghi", 404.into()),
                "report 404 not found: priced by its text: 9 characters → 3 tokens × 0.40 = 1.20",
            ),
            (
                message("abcdefghi", 400.into()),
                "report 400 refused by the billing service (HTTP 400): priced by its text: 9 characters → 3 tokens × 0.40 = 1.20",
            ),
            (
                message("abcdefghi", serde_json::json!("R-7")),
                "report id \"R-7\" is not a valid id: priced by its text: 9 characters → 3 tokens × 0.40 = 1.20",
            ),
        ];
        for (message, expected) in cases {
            let price = price_message(&message, &reports());
            assert_eq!(price.explanation(), expected);
            assert_eq!(explained_credits(&price.explanation()), price.credits.to_string(), "{expected}");
        }
    }

    #[test]
    fn an_integral_float_id_is_the_report() {
        let price = price_message(&message("short", serde_json::json!(5392.0)), &reports());
        assert_eq!(price.credits.to_string(), "79.00");
    }
}
