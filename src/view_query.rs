//! The dashboard's view state, kept in the URL:
//! `/?tz=America/New_York&day=2024-05-01&report=Lease&sort=report_name:asc,credits_used:desc&page=3`.
//! Parsed once where it enters (the page's request, a click in the browser) and carried as this type from
//! then on: the table's server function takes it as its argument and the data the server sends back carries
//! it. Read as untrusted input however it arrives: a malformed or repeated parameter falls back (the first
//! one counts; a `page` that is not a positive number is page 1; a `day` that is not `YYYY-MM-DD` is no
//! day), never an error. Whether a zone exists is the server's to say: the browser has no zone database.

use crate::sorting::{SortColumn, SortSpec, SORT_PARAM};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where the dashboard lives; every table link points here.
pub const DASHBOARD_PATH: &str = "/";
pub const PAGE_PARAM: &str = "page";
pub const REPORT_PARAM: &str = "report";
pub const TZ_PARAM: &str = "tz";
pub const DAY_PARAM: &str = "day";
pub const PERIOD_PARAM: &str = "period";
pub const VERSION_PARAM: &str = "v";
/// The organisation, in the state as it travels to the table's server function (links carry it in their path,
/// `/o/{organisation}/`, instead).
pub const ORGANISATION_PARAM: &str = "o";
/// The longest organisation id.
const LONGEST_ORGANISATION: usize = 63;
/// A zone asked for is kept up to this many characters: no IANA name is half as long, and a longer value
/// only needs to be recognisable in the notice that says it is not a zone.
const LONGEST_ASKED_ZONE: usize = 100;
/// The class of every link and form field outside the table that carries the view's sort. The table sorts in
/// place, and then rewrites them, so that everything on the page keeps describing the URL's view.
pub const FOLLOWS_SORT: &str = "follows-sort";
/// The `report` value that names the messages priced by their text rather than by a report. (A report named
/// exactly `~text` cannot be told apart from them by this filter.)
pub const TEXT_PRICED: &str = "~text";

/// Which messages the table shows: those of one report name, or those priced by their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportFilter {
    Named(String),
    TextPriced,
}

impl ReportFilter {
    /// The `report` parameter's value; empty is no filter.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "" => None,
            TEXT_PRICED => Some(ReportFilter::TextPriced),
            name => Some(ReportFilter::Named(name.to_owned())),
        }
    }

    pub fn to_param(&self) -> &str {
        match self {
            ReportFilter::Named(name) => name,
            ReportFilter::TextPriced => TEXT_PRICED,
        }
    }

    /// Whether a row with this report name is shown.
    pub fn admits(&self, report_name: Option<&str>) -> bool {
        match self {
            ReportFilter::Named(name) => report_name == Some(name.as_str()),
            ReportFilter::TextPriced => report_name.is_none(),
        }
    }

    /// How the filter reads on its chip.
    pub fn label(&self) -> &str {
        match self {
            ReportFilter::Named(name) => name,
            ReportFilter::TextPriced => "Priced by text",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewQuery {
    pub sort: SortSpec,
    /// 1-based. Past the end is allowed here; the server shows the last page.
    pub page: u32,
    pub report: Option<ReportFilter>,
    /// The time zone asked for, as asked (trimmed, at most `LONGEST_ASKED_ZONE` characters); `None` is UTC.
    pub tz: Option<String>,
    /// One day in that zone, `YYYY-MM-DD` (well-formed, not yet checked as a date).
    pub day: Option<String>,
    /// A past billing period, by its id (the UTC date it started, `YYYY-MM-DD`); `None` is the current one.
    pub period: Option<String>,
    /// The version of the current period a paging walk started on (13 hexadecimal digits in the URL): the
    /// table's page links carry it, so that every page comes from the same data while that version is kept. A
    /// new view (another sort, filter, day, zone or period) starts a new walk, without it.
    pub version: Option<u64>,
    /// The organisation whose dashboard this is (its routes start `/o/{organisation}`); `None` for a deployment
    /// of one. As asked: the server checks it, and who may read it, every time.
    pub organisation: Option<String>,
}

/// Carried as its URL query (`tz=Europe/London&sort=credits_used:desc&page=3`, what `href` writes, with the
/// walk's version on the first page too) and read back by `from_query`: a view from a client meets the same rules however it arrives, and the browser needs no
/// second encoding of it.
impl Serialize for ViewQuery {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.state_query())
    }
}

impl<'de> Deserialize<'de> for ViewQuery {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(ViewQuery::from_query(&String::deserialize(deserializer)?))
    }
}

impl Default for ViewQuery {
    fn default() -> Self {
        ViewQuery {
            sort: SortSpec::default(),
            page: 1,
            report: None,
            tz: None,
            day: None,
            period: None,
            version: None,
            organisation: None,
        }
    }
}

impl ViewQuery {
    /// The state named by a URL query string (without the `?`).
    pub fn from_query(query: &str) -> Self {
        let first = |name: &str| form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, v)| v);
        ViewQuery {
            sort: first(SORT_PARAM).map(|value| SortSpec::parse(&value)).unwrap_or_default(),
            page: first(PAGE_PARAM).map_or(1, |value| parse_page(&value)),
            report: first(REPORT_PARAM).and_then(|value| ReportFilter::parse(&value)),
            tz: first(TZ_PARAM).and_then(|value| asked_zone(&value)),
            day: first(DAY_PARAM).and_then(|value| well_formed_day(&value)),
            period: first(PERIOD_PARAM).and_then(|value| well_formed_day(&value)),
            version: first(VERSION_PARAM).and_then(|value| parse_version(&value)),
            organisation: first(ORGANISATION_PARAM)
                .filter(|value| !value.is_empty() && value.len() <= LONGEST_ORGANISATION)
                .map(|value| value.into_owned()),
        }
    }

    /// This state on the dashboard of `organisation` (`None`: a deployment of one).
    pub fn on_organisation(&self, organisation: Option<String>) -> Self {
        ViewQuery { organisation, ..self.clone() }
    }

    /// A link to this state; plain, so that it works without JavaScript. Defaults are left out.
    pub fn href(&self) -> String {
        self.href_to(DASHBOARD_PATH, true)
    }

    /// `path` with this state's parameters (the page, and the version it was walked from, only when
    /// `with_page`), defaults left out. The first page's link has no version: it starts a walk, on the latest
    /// data.
    pub fn href_to(&self, path: &str, with_page: bool) -> String {
        self.link(path, with_page, false)
    }

    /// The state as it travels (`Serialize`): the version even on the first page, for the links after it.
    fn state_query(&self) -> String {
        let link = self.link("", true, true);
        link.strip_prefix('?').unwrap_or(&link).to_owned()
    }

    /// `with_first_version` is the state as it travels: the version on the first page too, and the organisation
    /// as a parameter; else a link, the organisation's routes' prefix before `path`.
    fn link(&self, path: &str, with_page: bool, with_first_version: bool) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(organisation) = self.organisation.as_ref().filter(|_| with_first_version) {
            query.append_pair(ORGANISATION_PARAM, organisation);
        }
        if let Some(period) = &self.period {
            query.append_pair(PERIOD_PARAM, period);
        }
        if let Some(tz) = &self.tz {
            query.append_pair(TZ_PARAM, tz);
        }
        if let Some(day) = &self.day {
            query.append_pair(DAY_PARAM, day);
        }
        if let Some(sort) = self.sort.to_param() {
            query.append_pair(SORT_PARAM, &sort);
        }
        if with_page && self.page > 1 {
            query.append_pair(PAGE_PARAM, &self.page.to_string());
        }
        if let Some(version) = self.version.filter(|_| with_page && (self.page > 1 || with_first_version)) {
            query.append_pair(VERSION_PARAM, &version_tag(version));
        }
        if let Some(report) = &self.report {
            query.append_pair(REPORT_PARAM, report.to_param());
        }
        // The serializer escapes `:`, `,`, `~` and `/`; the URL reads better with them, and they are valid in a
        // query.
        let query = query.finish().replace("%3A", ":").replace("%2C", ",").replace("%7E", "~").replace("%2F", "/");
        let path = match self.organisation.as_ref().filter(|_| !with_first_version && path.starts_with('/')) {
            Some(organisation) => format!("/o/{organisation}{path}"),
            None => path.to_owned(),
        };
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }

    /// After a click on a column's header: its next sort state, from the first page (a new walk: no version).
    pub fn toggled(&self, column: SortColumn) -> Self {
        ViewQuery { sort: self.sort.toggled(column), page: 1, version: None, ..self.clone() }
    }

    pub fn at_page(&self, page: u32) -> Self {
        ViewQuery { page: page.max(1), ..self.clone() }
    }

    /// The same view filtered by `report` (or not filtered), from the first page.
    pub fn with_report(&self, report: Option<ReportFilter>) -> Self {
        ViewQuery { page: 1, report, version: None, ..self.clone() }
    }

    /// The same view on one day (or every day), from the first page.
    pub fn with_day(&self, day: Option<String>) -> Self {
        ViewQuery { page: 1, day, version: None, ..self.clone() }
    }

    /// The same view in another zone. A day belongs to its zone, so it is dropped.
    pub fn with_tz(&self, tz: Option<String>) -> Self {
        ViewQuery { page: 1, tz, day: None, version: None, ..self.clone() }
    }

    /// The same view of another period (`None`: the current one): the zone and sort stay, the day, report and
    /// page belong to the period they were chosen in.
    pub fn with_period(&self, period: Option<String>) -> Self {
        ViewQuery { period, page: 1, day: None, report: None, version: None, ..self.clone() }
    }

    /// The same view in another sort, on the same page: what the links outside the table carry after the
    /// table was sorted in place (they reset the page themselves).
    pub fn with_sort(&self, sort: SortSpec) -> Self {
        ViewQuery { sort, ..self.clone() }
    }
}

/// Any zone asked for is kept, so that the server can say it is not one; only its length is bounded.
fn asked_zone(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.chars().take(LONGEST_ASKED_ZONE).collect())
}

/// `YYYY-MM-DD` in shape (a day, or a period's id); whether it is a real date is checked by the server.
fn well_formed_day(day: &str) -> Option<String> {
    let day = day.trim();
    let bytes = day.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    shaped.then(|| day.to_owned())
}

/// A version as links (and the server's shared keys) carry it: 13 hexadecimal digits (52 bits).
pub fn version_tag(version: u64) -> String {
    format!("{version:013x}")
}

/// 1 to 13 hexadecimal digits (52 bits); anything else is no version.
fn parse_version(value: &str) -> Option<u64> {
    let value = value.trim();
    let shaped = (1..=13).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
    shaped.then(|| u64::from_str_radix(value, 16).ok()).flatten()
}

/// Digits only; 0 is page 1, and a number too large for a page is the last page.
fn parse_page(value: &str) -> u32 {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return 1;
    }
    value.parse::<u32>().unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sort_and_page() {
        let query = ViewQuery::from_query("sort=credits_used:desc&page=3");
        assert_eq!(query.sort, SortSpec::parse("credits_used:desc"));
        assert_eq!(query.page, 3);
        assert_eq!(ViewQuery::from_query(""), ViewQuery::default());
        let query = ViewQuery::from_query("x=1&sort=report_name%3Aasc%2Ccredits_used:desc&sort=credits_used:asc");
        assert_eq!(query.sort, SortSpec::parse("report_name:asc,credits_used:desc"), "the first `sort` counts");
        assert!(ViewQuery::from_query("sort=%FF%FE&x").sort.is_empty());
        assert!(ViewQuery::from_query("sorting=credits_used:asc").sort.is_empty());
    }

    #[test]
    fn a_malformed_page_is_the_first_and_a_huge_one_the_last() {
        for value in ["", "0", "-2", "abc", "2.5", "1e3", "%FF", "%2B3", "３"] {
            assert_eq!(ViewQuery::from_query(&format!("page={value}")).page, 1, "{value:?}");
        }
        assert_eq!(ViewQuery::from_query("page=99999999999999999999").page, u32::MAX);
        assert_eq!(ViewQuery::from_query("page=7&page=2").page, 7, "the first counts");
    }

    #[test]
    fn links_leave_defaults_out() {
        assert_eq!(ViewQuery::default().href(), "/");
        assert_eq!(ViewQuery::default().at_page(2).href(), "/?page=2");
        let query = ViewQuery::from_query("sort=report_name:asc,credits_used:desc&page=4");
        assert_eq!(query.href(), "/?sort=report_name:asc,credits_used:desc&page=4");
        assert_eq!(ViewQuery::from_query(&query.href()[2..]), query);
    }

    #[test]
    fn reads_and_writes_the_report_filter() {
        let query = ViewQuery::from_query("report=Tenant%20Obligations%20Report&sort=credits_used:asc");
        assert_eq!(query.report, Some(ReportFilter::Named("Tenant Obligations Report".into())));
        assert_eq!(query.href(), "/?sort=credits_used:asc&report=Tenant+Obligations+Report");
        assert_eq!(ViewQuery::from_query(&query.href()[2..]), query);
        assert_eq!(ViewQuery::from_query("report=~text").report, Some(ReportFilter::TextPriced));
        assert_eq!(ViewQuery::default().with_report(Some(ReportFilter::TextPriced)).href(), "/?report=~text");
        assert_eq!(ViewQuery::from_query("report=").report, None);
        // Names with URL syntax in them survive the round trip.
        let tricky = ViewQuery::default().with_report(Some(ReportFilter::Named("A&B=C, 50% #1".into())));
        assert_eq!(ViewQuery::from_query(&tricky.href()[2..]), tricky);
        assert_eq!(
            query.href_to("/usage.csv", false),
            "/usage.csv?sort=credits_used:asc&report=Tenant+Obligations+Report"
        );
    }

    #[test]
    fn the_filter_admits_its_rows() {
        assert!(ReportFilter::Named("Lease".into()).admits(Some("Lease")));
        assert!(!ReportFilter::Named("Lease".into()).admits(Some("lease")));
        assert!(!ReportFilter::Named("Lease".into()).admits(None));
        assert!(ReportFilter::TextPriced.admits(None));
        assert!(!ReportFilter::TextPriced.admits(Some("Lease")));
    }

    #[test]
    fn reads_and_writes_zone_and_day() {
        let query = ViewQuery::from_query("tz=America%2FNew_York&day=2024-05-01&sort=credits_used:asc");
        assert_eq!((query.tz.as_deref(), query.day.as_deref()), (Some("America/New_York"), Some("2024-05-01")));
        assert_eq!(query.href(), "/?tz=America/New_York&day=2024-05-01&sort=credits_used:asc");
        assert_eq!(ViewQuery::from_query(&query.href()[2..]), query);
        // A new zone drops the day, which belonged to the old one.
        assert_eq!(query.with_tz(Some("Europe/London".into())).href(), "/?tz=Europe/London&sort=credits_used:asc");
        assert_eq!(query.with_day(None).at_page(2).href(), "/?tz=America/New_York&sort=credits_used:asc&page=2");
    }

    #[test]
    fn any_zone_asked_for_is_kept_for_the_server_to_judge_and_bounded() {
        // Not zones, but kept: the server shows UTC and a notice naming what was asked.
        for (tz, kept) in
            [("<script>", "<script>"), ("a b", "a b"), ("%00", "\0"), ("../../etc/passwd", "../../etc/passwd")]
        {
            assert_eq!(ViewQuery::from_query(&format!("tz={tz}")).tz.as_deref(), Some(kept), "{tz:?}");
        }
        assert_eq!(ViewQuery::from_query("tz=").tz, None);
        assert_eq!(ViewQuery::from_query("tz=%20%20").tz, None);
        let long = ViewQuery::from_query(&format!("tz={}", "A".repeat(300))).tz.unwrap();
        assert_eq!(long.chars().count(), LONGEST_ASKED_ZONE);
    }

    #[test]
    fn malformed_days_are_ignored_here() {
        for day in ["", "2024-5-1", "01-05-2024", "2024-05-01T00", "yesterday", "2024/05/01"] {
            assert_eq!(ViewQuery::from_query(&format!("day={day}")).day, None, "{day:?}");
        }
        assert_eq!(
            ViewQuery::from_query("day=2024-02-30").day.as_deref(),
            Some("2024-02-30"),
            "the server checks dates"
        );
    }

    #[test]
    fn travels_as_its_url_query_and_a_client_value_meets_the_urls_rules() {
        let query = ViewQuery::from_query("tz=Europe/London&day=2024-05-01&report=~text&sort=credits_used:desc&page=3");
        let json = serde_json::to_string(&query).unwrap();
        assert_eq!(json, r#""tz=Europe/London&day=2024-05-01&sort=credits_used:desc&page=3&report=~text""#);
        assert_eq!(serde_json::from_str::<ViewQuery>(&json).unwrap(), query);
        let hostile: ViewQuery =
            serde_json::from_str(r#""sort=credits_used:up&page=0&tz=%20&day=tomorrow&x=1""#).unwrap();
        assert_eq!(hostile, ViewQuery::default());
        assert_eq!(serde_json::from_str::<ViewQuery>(r#""""#).unwrap(), ViewQuery::default());
        assert!(serde_json::from_str::<ViewQuery>("{}").is_err(), "a view is its query string");
    }

    #[test]
    fn a_period_is_carried_first_and_choosing_one_keeps_the_zone_and_sort() {
        let query = ViewQuery::from_query(
            "period=2024-04-01&tz=Europe/London&day=2024-04-02&report=~text&page=3&sort=credits_used:asc",
        );
        assert_eq!(query.period.as_deref(), Some("2024-04-01"));
        assert_eq!(
            query.href(),
            "/?period=2024-04-01&tz=Europe/London&day=2024-04-02&sort=credits_used:asc&page=3&report=~text"
        );
        assert_eq!(query.with_period(None).href(), "/?tz=Europe/London&sort=credits_used:asc");
        assert_eq!(ViewQuery::from_query("period=April").period, None, "not an id");
        assert_eq!(ViewQuery::from_query(&query.href()[2..]), query);
    }

    #[test]
    fn page_links_carry_the_version_walked_and_a_new_view_drops_it() {
        let query = ViewQuery::from_query("sort=credits_used:desc&page=2&v=00a1b2c3d4e5f");
        assert_eq!(query.version, Some(0xa1b2c3d4e5f));
        assert_eq!(query.at_page(3).href(), "/?sort=credits_used:desc&page=3&v=00a1b2c3d4e5f");
        assert_eq!(query.at_page(1).href(), "/?sort=credits_used:desc", "the first page starts a walk");
        let state = serde_json::to_string(&query.at_page(1)).unwrap();
        assert_eq!(state, r#""sort=credits_used:desc&v=00a1b2c3d4e5f""#, "the island keeps it for the next page");
        assert_eq!(query.href_to("/usage.csv", false), "/usage.csv?sort=credits_used:desc");
        assert_eq!(query.toggled(SortColumn::ReportName).at_page(2).version, None);
        assert_eq!(query.with_day(Some("2024-05-01".into())).version, None);
        for hostile in ["v=xyz", "v=", "v=12345678901234", "v=-1", "v=%00"] {
            assert_eq!(ViewQuery::from_query(hostile).version, None, "{hostile}");
        }
    }

    #[test]
    fn a_new_sort_starts_from_the_first_page() {
        let query = ViewQuery::from_query("page=5");
        assert_eq!(query.toggled(SortColumn::CreditsUsed).href(), "/?sort=credits_used:asc");
    }
}
