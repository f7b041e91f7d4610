//! A view query, checked by the server: the zone looked up in the compiled-in database (anything that is not
//! a zone is UTC, with a notice), the day checked as a date. Links are written from the checked query, so a
//! bad value in one URL does not travel on.

use super::zones::{parse_day, Zone};
use crate::view_query::ViewQuery;
use jiff::civil::Date;

#[derive(Clone, Debug)]
pub struct CheckedView {
    /// The query as the page's links carry it: the zone only when it is not UTC, the day only when it is one.
    pub query: ViewQuery,
    pub zone: Zone,
    /// What was asked for as a zone and is not one, fit to show: control characters replaced, and
    /// shortened to `SHOWN_UNKNOWN_ZONE` characters.
    pub unknown_zone: Option<String>,
    pub day: Option<Date>,
}

impl CheckedView {
    pub fn resolve(asked: &ViewQuery) -> Self {
        let (zone, unknown_zone) = match Zone::resolve(asked.tz.as_deref()) {
            Some(zone) => (zone, None),
            None => (Zone::utc(), asked.tz.as_deref().map(shown_as_asked)),
        };
        let day = asked.day.as_deref().and_then(parse_day);
        let query = ViewQuery {
            tz: (!zone.is_utc()).then(|| zone.name.clone()),
            day: day.map(|day| day.to_string()),
            ..asked.clone()
        };
        CheckedView { query, zone, unknown_zone, day }
    }

    /// Whether a message on `date` (in the view's zone) is in the view's days.
    pub fn admits_date(&self, date: Date) -> bool {
        self.day.is_none_or(|day| day == date)
    }
}

/// Enough of an unknown zone for a person to recognise what they typed.
const SHOWN_UNKNOWN_ZONE: usize = 40;

/// An untrusted value, to be shown as text (the page escapes markup): characters that would not show, or would
/// break the line, become U+FFFD, and a long value is cut with an ellipsis.
fn shown_as_asked(asked: &str) -> String {
    let mut shown: String = asked
        .chars()
        .take(SHOWN_UNKNOWN_ZONE)
        .map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c })
        .collect();
    if asked.chars().count() > SHOWN_UNKNOWN_ZONE {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(query: &str) -> CheckedView {
        CheckedView::resolve(&ViewQuery::from_query(query))
    }

    #[test]
    fn a_known_zone_is_kept_in_its_own_spelling() {
        let view = resolve("tz=america/new_york&day=2024-05-01");
        assert_eq!((view.zone.name.as_str(), view.unknown_zone), ("America/New_York", None));
        assert_eq!(view.query.href(), "/?tz=America/New_York&day=2024-05-01");
    }

    #[test]
    fn an_unknown_zone_is_utc_with_a_notice_and_leaves_the_links() {
        let view = resolve("tz=Mars/Olympus&sort=credits_used:asc");
        assert_eq!(view.zone.name, "UTC");
        assert_eq!(view.unknown_zone.as_deref(), Some("Mars/Olympus"));
        assert_eq!(view.query.href(), "/?sort=credits_used:asc");
        assert_eq!(resolve("tz=UTC").query.href(), "/");
    }

    #[test]
    fn anything_that_is_not_a_zone_is_utc_with_a_notice_fit_to_show() {
        for (asked, shown) in [
            ("tz=%00", "\u{FFFD}"),
            ("tz=../../etc/passwd", "../../etc/passwd"),
            ("tz=Europe%2FLon%0Adon", "Europe/Lon\u{FFFD}don"),
            ("tz=not%20a%20zone", "not a zone"),
            ("tz=%3Cb%3E", "<b>"),
        ] {
            let view = resolve(asked);
            assert_eq!((view.zone.name.as_str(), view.unknown_zone.as_deref()), ("UTC", Some(shown)), "{asked}");
            assert_eq!(view.query.tz, None, "{asked}: the links leave it out");
        }
        let view = resolve(&format!("tz={}", "x".repeat(300)));
        assert_eq!(view.unknown_zone, Some(format!("{}…", "x".repeat(SHOWN_UNKNOWN_ZONE))));
    }

    #[test]
    fn a_day_that_is_no_date_is_ignored() {
        assert!(resolve("day=2024-02-30").day.is_none());
        assert_eq!(resolve("day=2024-02-30").query.href(), "/");
        assert!(resolve("day=2024-02-29").admits_date("2024-02-29".parse().unwrap()));
        assert!(!resolve("day=2024-02-29").admits_date("2024-03-01".parse().unwrap()));
        assert!(resolve("").admits_date("2024-03-01".parse().unwrap()));
    }
}
