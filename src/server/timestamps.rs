//! Upstream timestamps are RFC 3339 strings. The contract passes them on verbatim; the dashboard shows
//! them, and buckets them into days, in UTC. Server only: the WASM carries no date library.

use chrono::{DateTime, NaiveDate, Utc};

pub fn parse_utc(timestamp: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(timestamp).ok().map(|time| time.with_timezone(&Utc))
}

/// The table's format, `DD-MM-YYYY HH:mm` in UTC. Text that is not a timestamp is shown as it came.
pub fn format_for_table(timestamp: &str) -> String {
    match parse_utc(timestamp) {
        Some(time) => time.format("%d-%m-%Y %H:%M").to_string(),
        None => timestamp.to_owned(),
    }
}

/// The chart's and the header's day format, `DD-MM-YYYY`.
pub fn format_day(day: NaiveDate) -> String {
    day.format("%d-%m-%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_utc_to_the_minute() {
        assert_eq!(format_for_table("2024-04-29T02:08:29.375Z"), "29-04-2024 02:08");
        // 23:30 at UTC-02:00 is already the next day in UTC.
        assert_eq!(format_for_table("2024-04-30T23:30:00-02:00"), "01-05-2024 01:30");
    }

    #[test]
    fn keeps_text_that_is_not_a_timestamp() {
        assert_eq!(format_for_table("yesterday"), "yesterday");
        assert_eq!(parse_utc("2024-13-01T00:00:00Z"), None);
    }

    #[test]
    fn formats_days() {
        assert_eq!(format_day(NaiveDate::from_ymd_opt(2024, 5, 3).unwrap()), "03-05-2024");
    }
}
