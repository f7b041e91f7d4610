//! Money as an exact type. Credits are counted in hundredths so that sums and products never drift the
//! way binary floats do (11 tokens × 0.40 is 4.40, not 4.4000000000000004).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An amount of credits, stored as a whole number of hundredths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub const fn from_hundredths(hundredths: i64) -> Self {
        Credits(hundredths)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// Parses a plain decimal (`79`, `61.5`, `0.29`, `-3`) without going through a float.
    /// More than two significant decimal places cannot be represented and is refused rather than rounded.
    pub fn parse_decimal(text: &str) -> Result<Self, MoneyError> {
        let invalid = || MoneyError::Invalid(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(invalid());
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 2 {
            return Err(MoneyError::TooPrecise(text.to_owned()));
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
        let magnitude = whole.checked_mul(100).and_then(|w| w.checked_add(cents)).ok_or_else(invalid)?;
        Ok(Credits(if negative { -magnitude } else { magnitude }))
    }

    /// `None` on overflow. There is deliberately no `+`: an upstream can send costs whose sum does not fit,
    /// and a wrapped total is a wrong number, so every sum has to decide what overflow means.
    pub fn checked_add(self, other: Credits) -> Option<Credits> {
        self.0.checked_add(other.0).map(Credits)
    }

    /// The exact sum, or `None` when it does not fit.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Credits>) -> Option<Credits> {
        amounts.into_iter().try_fold(Credits::ZERO, Credits::checked_add)
    }

    /// `None` on overflow.
    pub fn checked_mul(self, factor: i64) -> Option<Credits> {
        self.0.checked_mul(factor).map(Credits)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    Invalid(String),
    TooPrecise(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::Invalid(text) => write!(f, "`{text}` is not a decimal amount"),
            MoneyError::TooPrecise(text) => write!(f, "`{text}` has more than two decimal places"),
        }
    }
}

impl std::error::Error for MoneyError {}

/// Always two decimals: `79.00`, `1.20`, `-0.50`.
impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }
}

/// In the published API description: a number, always written with two decimals.
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Credits {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "An amount of credits, exact to the hundredth and always written with two decimals: 79.00.",
            ))
            .examples([serde_json::json!(79.0)])
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Credits {}

/// Written as a JSON number with exactly two decimals (`79.00`), which a float serialiser cannot do.
impl Serialize for Credits {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Read from a JSON number's own text (`61.5`, `79.00`), never through a float: exact, and it keeps float
/// parsing and printing out of the WASM. Exponent notation is refused.
impl<'de> Deserialize<'de> for Credits {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Credits::parse_decimal(raw.get()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Credits::from_hundredths(7900).to_string(), "79.00");
        assert_eq!(Credits::from_hundredths(120).to_string(), "1.20");
        assert_eq!(Credits::from_hundredths(5).to_string(), "0.05");
        assert_eq!(Credits::from_hundredths(-50).to_string(), "-0.50");
    }

    #[test]
    fn parses_integers_and_decimals_exactly() {
        assert_eq!(Credits::parse_decimal("79"), Ok(Credits(7900)));
        assert_eq!(Credits::parse_decimal("61.5"), Ok(Credits(6150)));
        assert_eq!(Credits::parse_decimal("0.29"), Ok(Credits(29)));
        assert_eq!(Credits::parse_decimal("4.40"), Ok(Credits(440)));
        assert_eq!(Credits::parse_decimal("12.000"), Ok(Credits(1200)));
        assert_eq!(Credits::parse_decimal("-3"), Ok(Credits(-300)));
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for text in ["", ".5", "1e3", "abc", "1.2.3", " 1", "--1", "99999999999999999999"] {
            assert!(Credits::parse_decimal(text).is_err(), "{text:?} should be refused");
        }
        assert_eq!(Credits::parse_decimal("1.005"), Err(MoneyError::TooPrecise("1.005".into())));
    }

    #[test]
    fn serialises_as_a_number_with_two_decimals() {
        let json = serde_json::to_string(&vec![Credits(7900), Credits(120), Credits(440)]).unwrap();
        assert_eq!(json, "[79.00,1.20,4.40]");
    }

    #[test]
    fn deserialises_integer_and_decimal_numbers() {
        let parsed: Vec<Credits> = serde_json::from_str("[79, 61.5, 0.29, 4.40, -2]").unwrap();
        assert_eq!(parsed, vec![Credits(7900), Credits(6150), Credits(29), Credits(440), Credits(-200)]);
        for refused in ["\"79\"", "1e300", "1E2", "0.125", "null", "[1]", "99999999999999999999"] {
            assert!(serde_json::from_str::<Credits>(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn sums_exactly() {
        assert_eq!(Credits::checked_sum(std::iter::repeat_n(Credits(10), 3)), Some(Credits(30)));
        assert_eq!(Credits::checked_sum([]), Some(Credits::ZERO));
    }

    #[test]
    fn a_sum_that_does_not_fit_is_none_not_a_wrapped_number() {
        // Two reports costing 92233720368547758 credits: each fits, their sum does not.
        let cost = Credits::parse_decimal("92233720368547758").unwrap();
        assert_eq!(Credits::checked_sum([cost, cost]), None);
        assert_eq!(cost.checked_add(Credits(1)), Some(Credits(9_223_372_036_854_775_801)));
        assert_eq!(Credits(i64::MAX / 2).checked_mul(3), None);
    }
}
