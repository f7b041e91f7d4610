//! The viewer's time zone and the formats the dashboard shows times and days in. jiff with the IANA database compiled into the binary, so the server does not
//! depend on the host's tzdata; server only, so the WASM carries no date or zone library.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The zone the dashboard is shown in, by IANA name.
#[derive(Clone, Debug)]
pub struct Zone {
    pub name: String,
    pub tz: TimeZone,
}

impl Zone {
    pub fn utc() -> Self {
        Zone { name: "UTC".to_owned(), tz: TimeZone::UTC }
    }

    /// The zone named `name`, or UTC when there is none; `None` when the name is not a zone.
    pub fn resolve(name: Option<&str>) -> Option<Zone> {
        match name {
            None => Some(Zone::utc()),
            Some(name) if plausible_zone_name(name) => {
                TimeZone::get(name).ok().map(|tz| Zone { name: canonical_name(&tz, name), tz })
            }
            Some(_) => None,
        }
    }

    pub fn is_utc(&self) -> bool {
        self.name == "UTC"
    }

    /// The day `time` falls on in this zone. Days are the zone's own, 23 or 25 hours long at DST changes.
    pub fn date_of(&self, time: Timestamp) -> Date {
        self.tz.to_datetime(time).date()
    }

    /// `DD-MM-YYYY HH:mm` in this zone.
    pub fn format_minute(&self, time: Timestamp) -> String {
        self.tz.to_datetime(time).strftime("%d-%m-%Y %H:%M").to_string()
    }

    /// `UTC−05:00`: the zone's offset at `time`.
    pub fn offset_label(&self, time: Timestamp) -> String {
        let seconds = self.tz.to_offset(time).seconds();
        let sign = if seconds < 0 { '−' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// IANA names are ASCII letters, digits, `/`, `_`, `-` and `+`, and short: anything else is not looked up.
fn plausible_zone_name(name: &str) -> bool {
    const LONGEST_ZONE_NAME: usize = 64;
    !name.is_empty()
        && name.len() <= LONGEST_ZONE_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
}

/// The database's own spelling of a name matched case-insensitively (`europe/london` → `Europe/London`).
fn canonical_name(tz: &TimeZone, asked: &str) -> String {
    tz.iana_name().unwrap_or(asked).to_owned()
}

/// The zone names to suggest, sorted: the database's `Area/Location` names and UTC, without the legacy
/// aliases (`EST`, `US/Eastern`, `Etc/GMT+5`, …), which still work when typed.
pub fn zone_names() -> Vec<String> {
    const LEGACY: [&str; 8] = ["Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/", "posix"];
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name == "UTC" || (name.contains('/') && !LEGACY.iter().any(|legacy| name.starts_with(legacy))))
        .collect();
    names.sort();
    names
}

/// `YYYY-MM-DD`, a real date.
pub fn parse_day(text: &str) -> Option<Date> {
    text.parse().ok()
}

/// The chart's and the header's day format, `DD-MM-YYYY`.
pub fn format_day(day: Date) -> String {
    day.strftime("%d-%m-%Y").to_string()
}

/// `HH:MM:SS UTC`, for "data as of".
pub fn format_clock_utc(time: Timestamp) -> String {
    Zone::utc().tz.to_datetime(time).strftime("%H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::pricing::period_checks::parse_timestamp;

    fn at(text: &str) -> Timestamp {
        parse_timestamp(text).unwrap()
    }

    fn zone(name: &str) -> Zone {
        Zone::resolve(Some(name)).unwrap()
    }

    #[test]
    fn formats_to_the_minute_in_the_zone() {
        assert_eq!(Zone::utc().format_minute(at("2024-04-29T02:08:29.375Z")), "29-04-2024 02:08");
        // 23:30 at UTC-02:00 is already the next day in UTC.
        assert_eq!(Zone::utc().format_minute(at("2024-04-30T23:30:00-02:00")), "01-05-2024 01:30");
        assert_eq!(zone("America/New_York").format_minute(at("2024-05-01T03:30:00Z")), "30-04-2024 23:30");
    }

    #[test]
    fn refuses_what_is_not_a_zone_or_a_day() {
        for not_a_zone in ["Mars/Olympus", "../../etc/passwd", "a b", "\0", "Europe/London\n"] {
            assert!(Zone::resolve(Some(not_a_zone)).is_none(), "{not_a_zone:?}");
        }
        assert!(Zone::resolve(Some("")).is_none());
        assert_eq!(Zone::resolve(None).unwrap().name, "UTC");
        assert_eq!(parse_day("2024-02-30"), None);
        assert_eq!(parse_day("2024-02-29").map(format_day).as_deref(), Some("29-02-2024"));
    }

    #[test]
    fn new_york_days_around_the_march_and_november_changes() {
        let ny = zone("America/New_York");
        let day = |text: &str| format_day(ny.date_of(at(text)));
        // 10 March 2024 is 23 hours long: EST until 02:00, then EDT.
        assert_eq!(day("2024-03-10T04:30:00Z"), "09-03-2024"); // 23:30 EST
        assert_eq!(day("2024-03-10T05:00:00Z"), "10-03-2024"); // 00:00 EST
        assert_eq!(day("2024-03-11T03:30:00Z"), "10-03-2024"); // 23:30 EDT
        assert_eq!(day("2024-03-11T04:00:00Z"), "11-03-2024"); // 00:00 EDT
                                                               // 3 November 2024 is 25 hours long: EDT until 02:00, then EST.
        assert_eq!(day("2024-11-03T03:59:00Z"), "02-11-2024"); // 23:59 EDT
        assert_eq!(day("2024-11-03T04:00:00Z"), "03-11-2024"); // 00:00 EDT
        assert_eq!(day("2024-11-04T04:59:00Z"), "03-11-2024"); // 23:59 EST
        assert_eq!(day("2024-11-04T05:00:00Z"), "04-11-2024"); // 00:00 EST
        assert_eq!(ny.offset_label(at("2024-01-15T12:00:00Z")), "UTC−05:00");
        assert_eq!(ny.offset_label(at("2024-07-15T12:00:00Z")), "UTC−04:00");
    }

    #[test]
    fn london_days_around_the_march_and_october_changes() {
        let london = zone("Europe/London");
        let day = |text: &str| format_day(london.date_of(at(text)));
        assert_eq!(day("2024-03-30T23:30:00Z"), "30-03-2024"); // 23:30 GMT
        assert_eq!(day("2024-03-31T23:30:00Z"), "01-04-2024"); // 00:30 BST
        assert_eq!(day("2024-10-26T23:30:00Z"), "27-10-2024"); // 00:30 BST
        assert_eq!(day("2024-10-27T23:30:00Z"), "27-10-2024"); // 23:30 GMT, the 25-hour day's last hour
        assert_eq!(london.offset_label(at("2024-07-01T00:00:00Z")), "UTC+01:00");
    }

    #[test]
    fn the_database_is_compiled_in() {
        let names = zone_names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.iter().any(|name| name == "America/New_York"));
        assert!(!names.iter().any(|name| name == "US/Eastern" || name == "EST"), "legacy aliases are not suggested");
        assert!(Zone::resolve(Some("US/Eastern")).is_some(), "but still work");
    }
}
