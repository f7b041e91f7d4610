//! The table's view state, kept in the URL: `/?sort=report_name:asc,credits_used:desc&page=3&report=Lease`.
//! Read as untrusted input like everything in a URL: a malformed or repeated parameter falls back (the first
//! one counts; a `page` that is not a positive number is page 1), never an error.

use crate::sorting::{SortColumn, SortSpec, SORT_PARAM};

/// Where the dashboard lives; every table link points here.
pub const DASHBOARD_PATH: &str = "/";
pub const PAGE_PARAM: &str = "page";
pub const REPORT_PARAM: &str = "report";
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
pub struct TableQuery {
    pub sort: SortSpec,
    /// 1-based. Past the end is allowed here; the server shows the last page.
    pub page: u32,
    pub report: Option<ReportFilter>,
}

impl Default for TableQuery {
    fn default() -> Self {
        TableQuery { sort: SortSpec::default(), page: 1, report: None }
    }
}

impl TableQuery {
    /// The state named by a URL query string (without the `?`).
    pub fn from_query(query: &str) -> Self {
        let first = |name: &str| form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, v)| v);
        TableQuery {
            sort: first(SORT_PARAM).map(|value| SortSpec::parse(&value)).unwrap_or_default(),
            page: first(PAGE_PARAM).map_or(1, |value| parse_page(&value)),
            report: first(REPORT_PARAM).and_then(|value| ReportFilter::parse(&value)),
        }
    }

    /// The state named by the values the table's server function receives.
    pub fn from_values(sort: &str, page: u32, report: &str) -> Self {
        TableQuery { sort: SortSpec::parse(sort), page: page.max(1), report: ReportFilter::parse(report) }
    }

    /// A link to this state; plain, so that it works without JavaScript. Defaults are left out.
    pub fn href(&self) -> String {
        self.href_to(DASHBOARD_PATH, true)
    }

    /// `path` with this state's parameters (the page only when `with_page`), defaults left out.
    pub fn href_to(&self, path: &str, with_page: bool) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(sort) = self.sort.to_param() {
            query.append_pair(SORT_PARAM, &sort);
        }
        if with_page && self.page > 1 {
            query.append_pair(PAGE_PARAM, &self.page.to_string());
        }
        if let Some(report) = &self.report {
            query.append_pair(REPORT_PARAM, report.to_param());
        }
        // The serializer escapes `:`, `,` and `~`; the URL reads better with them, and they are valid in a query.
        let query = query.finish().replace("%3A", ":").replace("%2C", ",").replace("%7E", "~");
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }

    /// After a click on a column's header: its next sort state, from the first page.
    pub fn toggled(&self, column: SortColumn) -> Self {
        TableQuery { sort: self.sort.toggled(column), page: 1, report: self.report.clone() }
    }

    pub fn at_page(&self, page: u32) -> Self {
        TableQuery { page: page.max(1), ..self.clone() }
    }

    /// The same view filtered by `report` (or not filtered), from the first page.
    pub fn with_report(&self, report: Option<ReportFilter>) -> Self {
        TableQuery { sort: self.sort.clone(), page: 1, report }
    }
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
        let query = TableQuery::from_query("sort=credits_used:desc&page=3");
        assert_eq!(query.sort, SortSpec::parse("credits_used:desc"));
        assert_eq!(query.page, 3);
        assert_eq!(TableQuery::from_query(""), TableQuery::default());
        let query = TableQuery::from_query("x=1&sort=report_name%3Aasc%2Ccredits_used:desc&sort=credits_used:asc");
        assert_eq!(query.sort, SortSpec::parse("report_name:asc,credits_used:desc"), "the first `sort` counts");
        assert!(TableQuery::from_query("sort=%FF%FE&x").sort.is_empty());
        assert!(TableQuery::from_query("sorting=credits_used:asc").sort.is_empty());
    }

    #[test]
    fn a_malformed_page_is_the_first_and_a_huge_one_the_last() {
        for value in ["", "0", "-2", "abc", "2.5", "1e3", "%FF", "%2B3", "３"] {
            assert_eq!(TableQuery::from_query(&format!("page={value}")).page, 1, "{value:?}");
        }
        assert_eq!(TableQuery::from_query("page=99999999999999999999").page, u32::MAX);
        assert_eq!(TableQuery::from_query("page=7&page=2").page, 7, "the first counts");
    }

    #[test]
    fn links_leave_defaults_out() {
        assert_eq!(TableQuery::default().href(), "/");
        assert_eq!(TableQuery::default().at_page(2).href(), "/?page=2");
        let query = TableQuery::from_query("sort=report_name:asc,credits_used:desc&page=4");
        assert_eq!(query.href(), "/?sort=report_name:asc,credits_used:desc&page=4");
        assert_eq!(TableQuery::from_query(&query.href()[2..]), query);
    }

    #[test]
    fn reads_and_writes_the_report_filter() {
        let query = TableQuery::from_query("report=Tenant%20Obligations%20Report&sort=credits_used:asc");
        assert_eq!(query.report, Some(ReportFilter::Named("Tenant Obligations Report".into())));
        assert_eq!(query.href(), "/?sort=credits_used:asc&report=Tenant+Obligations+Report");
        assert_eq!(TableQuery::from_query(&query.href()[2..]), query);
        assert_eq!(TableQuery::from_query("report=~text").report, Some(ReportFilter::TextPriced));
        assert_eq!(TableQuery::default().with_report(Some(ReportFilter::TextPriced)).href(), "/?report=~text");
        assert_eq!(TableQuery::from_query("report=").report, None);
        // Names with URL syntax in them survive the round trip.
        let tricky = TableQuery::default().with_report(Some(ReportFilter::Named("A&B=C, 50% #1".into())));
        assert_eq!(TableQuery::from_query(&tricky.href()[2..]), tricky);
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
    fn a_new_sort_starts_from_the_first_page() {
        let query = TableQuery::from_query("page=5");
        assert_eq!(query.toggled(SortColumn::CreditsUsed).href(), "/?sort=credits_used:asc");
    }
}
