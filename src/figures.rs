//! How counts and amounts are written on the page: digits in groups of three, separated by a narrow no-break
//! space (100 000 messages, 12 345.60 credits), everywhere the same. `/usage` and the CSV keep plain numbers
//! for programs.

use crate::money::Credits;

/// The separator between groups: narrow, and never broken across lines.
pub const GROUP_SEPARATOR: char = '\u{202F}';

/// A count: `100 000`.
pub fn count(number: usize) -> String {
    group_digits(&number.to_string())
}

/// A day as the page writes it, `DD-MM-YYYY`, from `YYYY-MM-DD` (anything else as given).
pub fn day_label(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(year), Some(month), Some(day)) if iso.len() == 10 => format!("{day}-{month}-{year}"),
        _ => iso.to_owned(),
    }
}

/// An amount of credits with its two decimals: `12 345.60`.
pub fn amount(credits: Credits) -> String {
    let plain = credits.to_string();
    let (sign, unsigned) = plain.split_at(usize::from(plain.starts_with('-')));
    let (whole, cents) = unsigned.split_once('.').unwrap_or((unsigned, "00"));
    format!("{sign}{}.{cents}", group_digits(whole))
}

fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(GROUP_SEPARATOR);
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_by_three() {
        assert_eq!(count(7), "7");
        assert_eq!(count(100), "100");
        assert_eq!(count(1000), "1\u{202F}000");
        assert_eq!(count(100_000), "100\u{202F}000");
        assert_eq!(count(1_234_567), "1\u{202F}234\u{202F}567");
    }

    #[test]
    fn amounts_group_their_whole_part_and_keep_two_decimals() {
        assert_eq!(amount(Credits::from_hundredths(120)), "1.20");
        assert_eq!(amount(Credits::from_hundredths(99_999)), "999.99");
        assert_eq!(amount(Credits::from_hundredths(123_456)), "1\u{202F}234.56");
        assert_eq!(amount(Credits::from_hundredths(123_456_789)), "1\u{202F}234\u{202F}567.89");
        assert_eq!(amount(Credits::from_hundredths(-123_456)), "-1\u{202F}234.56");
        assert_eq!(amount(Credits::ZERO), "0.00");
    }
}
