//! The table's view state, kept in the URL: `/?sort=report_name:asc,credits_used:desc&page=3`. Read as
//! untrusted input like everything in a URL: a malformed or repeated parameter falls back (the first one
//! counts; a `page` that is not a positive number is page 1), never an error.

use crate::sorting::{SortColumn, SortSpec, SORT_PARAM};

/// Where the dashboard lives; every table link points here.
pub const DASHBOARD_PATH: &str = "/";
pub const PAGE_PARAM: &str = "page";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableQuery {
    pub sort: SortSpec,
    /// 1-based. Past the end is allowed here; the server shows the last page.
    pub page: u32,
}

impl Default for TableQuery {
    fn default() -> Self {
        TableQuery { sort: SortSpec::default(), page: 1 }
    }
}

impl TableQuery {
    /// The state named by a URL query string (without the `?`).
    pub fn from_query(query: &str) -> Self {
        let first = |name: &str| form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, v)| v);
        TableQuery {
            sort: first(SORT_PARAM).map(|value| SortSpec::parse(&value)).unwrap_or_default(),
            page: first(PAGE_PARAM).map_or(1, |value| parse_page(&value)),
        }
    }

    /// A link to this state; plain, so that it works without JavaScript. Defaults are left out.
    pub fn href(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(sort) = self.sort.to_param() {
            query.append_pair(SORT_PARAM, &sort);
        }
        if self.page > 1 {
            query.append_pair(PAGE_PARAM, &self.page.to_string());
        }
        // The serializer escapes `:` and `,`; the URL reads better with them, and they are valid in a query.
        let query = query.finish().replace("%3A", ":").replace("%2C", ",");
        if query.is_empty() {
            DASHBOARD_PATH.to_owned()
        } else {
            format!("{DASHBOARD_PATH}?{query}")
        }
    }

    /// After a click on a column's header: its next sort state, from the first page.
    pub fn toggled(&self, column: SortColumn) -> Self {
        TableQuery { sort: self.sort.toggled(column), page: 1 }
    }

    pub fn at_page(&self, page: u32) -> Self {
        TableQuery { sort: self.sort.clone(), page: page.max(1) }
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
    fn a_new_sort_starts_from_the_first_page() {
        let query = TableQuery::from_query("page=5");
        assert_eq!(query.toggled(SortColumn::CreditsUsed).href(), "/?sort=credits_used:asc");
    }
}
