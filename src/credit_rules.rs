//! The billing rules for a message that is not priced by a report.
//!
//! tokens = ⌈characters ÷ 4⌉, where characters are Unicode scalar values; each token costs 0.40 credits
//! and no message costs less than 1.00.

use crate::money::Credits;

const CHARACTERS_PER_TOKEN: usize = 4;
const CREDITS_PER_TOKEN: Credits = Credits::from_hundredths(40);
const MINIMUM_CHARGE: Credits = Credits::from_hundredths(100);

/// ⌈characters ÷ 4⌉. `char` is a Unicode scalar value, so "é" counts once whatever its UTF-8 length.
pub fn tokens_for_text(text: &str) -> u64 {
    text.chars().count().div_ceil(CHARACTERS_PER_TOKEN) as u64
}

/// What a message costs when no report prices it.
pub fn credits_for_text(text: &str) -> Credits {
    let tokens = i64::try_from(tokens_for_text(text)).unwrap_or(i64::MAX / CREDITS_PER_TOKEN.hundredths());
    let charge = Credits::from_hundredths(tokens.saturating_mul(CREDITS_PER_TOKEN.hundredths()));
    charge.max(MINIMUM_CHARGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credits(text: &str) -> String {
        credits_for_text(text).to_string()
    }

    #[test]
    fn empty_text_costs_the_minimum() {
        assert_eq!(tokens_for_text(""), 0);
        assert_eq!(credits(""), "1.00");
    }

    #[test]
    fn up_to_eight_characters_costs_the_minimum() {
        assert_eq!(credits("a"), "1.00");
        assert_eq!(credits("abcd"), "1.00");
        assert_eq!(credits("abcde"), "1.00");
        assert_eq!(credits("abcdefgh"), "1.00");
    }

    #[test]
    fn nine_characters_is_three_tokens() {
        assert_eq!(tokens_for_text("abcdefghi"), 3);
        assert_eq!(credits("abcdefghi"), "1.20");
    }

    #[test]
    fn eleven_tokens_is_exactly_four_forty() {
        let text = "x".repeat(44);
        assert_eq!(tokens_for_text(&text), 11);
        assert_eq!(credits(&text), "4.40");
        assert_eq!(credits(&"x".repeat(41)), "4.40");
        assert_eq!(credits(&"x".repeat(45)), "4.80");
    }

    #[test]
    fn characters_are_unicode_scalar_values() {
        assert_eq!(tokens_for_text("é"), 1);
        assert_eq!(tokens_for_text("éééé"), 1);
        assert_eq!(tokens_for_text("ééééé"), 2);
        // Nine scalar values, 30 UTF-8 bytes.
        assert_eq!(credits("日本語のテキストで"), "1.20");
        // A flag is two scalar values even though it shows as one symbol.
        assert_eq!(tokens_for_text("🇩🇪🇩🇪🇩"), 2);
    }

    #[test]
    fn long_text_scales_linearly() {
        assert_eq!(credits(&"y".repeat(4000)), "400.00");
    }
}
