//! Table sort state and ordering. The state lives in the URL (`?sort=report_name:asc,credits_used:desc`,
//! highest priority first), so it is parsed as untrusted input: malformed or unknown entries are ignored,
//! never an error, and a repeated column keeps its first entry.

use crate::contract::UsageRow;
use std::cmp::Ordering;

pub const SORT_PARAM: &str = "sort";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortColumn {
    ReportName,
    CreditsUsed,
}

impl SortColumn {
    pub const ALL: [SortColumn; 2] = [SortColumn::ReportName, SortColumn::CreditsUsed];

    pub fn url_name(self) -> &'static str {
        match self {
            SortColumn::ReportName => "report_name",
            SortColumn::CreditsUsed => "credits_used",
        }
    }

    fn from_url_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|column| column.url_name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

impl SortDirection {
    pub fn url_name(self) -> &'static str {
        match self {
            SortDirection::Ascending => "asc",
            SortDirection::Descending => "desc",
        }
    }

    fn from_url_name(name: &str) -> Option<Self> {
        match name {
            "asc" => Some(SortDirection::Ascending),
            "desc" => Some(SortDirection::Descending),
            _ => None,
        }
    }

    /// The value of the `aria-sort` attribute.
    pub fn aria_sort(self) -> &'static str {
        match self {
            SortDirection::Ascending => "ascending",
            SortDirection::Descending => "descending",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub column: SortColumn,
    pub direction: SortDirection,
}

/// The active sort keys, highest priority first; empty means upstream order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortSpec {
    keys: Vec<SortKey>,
}

impl SortSpec {
    pub fn new(keys: impl IntoIterator<Item = SortKey>) -> Self {
        let mut spec = SortSpec::default();
        for key in keys {
            if spec.position_of(key.column).is_none() {
                spec.keys.push(key);
            }
        }
        spec
    }

    /// The sort named by a URL query string (`a=1&sort=…`, without the `?`). The first `sort` counts.
    pub fn from_query(query: &str) -> Self {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == SORT_PARAM)
            .map(|(_, value)| SortSpec::parse(&value))
            .unwrap_or_default()
    }

    /// Reads the value of the `sort` query parameter, keeping what makes sense and dropping the rest.
    pub fn parse(value: &str) -> Self {
        SortSpec::new(value.split(',').filter_map(|entry| {
            let (column, direction) = entry.trim().split_once(':')?;
            Some(SortKey {
                column: SortColumn::from_url_name(column.trim())?,
                direction: SortDirection::from_url_name(direction.trim())?,
            })
        }))
    }

    pub fn keys(&self) -> &[SortKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn position_of(&self, column: SortColumn) -> Option<usize> {
        self.keys.iter().position(|key| key.column == column)
    }

    /// The column's direction and its 1-based priority, when it is sorted.
    pub fn state_of(&self, column: SortColumn) -> Option<(SortDirection, usize)> {
        let index = self.position_of(column)?;
        Some((self.keys[index].direction, index + 1))
    }

    /// The state after a click on `column`: off → ascending (as the lowest priority) → descending → off.
    /// The other columns keep their sort.
    pub fn toggled(&self, column: SortColumn) -> Self {
        let mut keys = self.keys.clone();
        match self.position_of(column) {
            None => keys.push(SortKey { column, direction: SortDirection::Ascending }),
            Some(index) if keys[index].direction == SortDirection::Ascending => {
                keys[index].direction = SortDirection::Descending;
            }
            Some(index) => {
                keys.remove(index);
            }
        }
        SortSpec { keys }
    }

    /// The `sort` parameter's value, or `None` when unsorted (the parameter is then left out).
    pub fn to_param(&self) -> Option<String> {
        if self.keys.is_empty() {
            return None;
        }
        let entries: Vec<String> =
            self.keys.iter().map(|key| format!("{}:{}", key.column.url_name(), key.direction.url_name())).collect();
        Some(entries.join(","))
    }

    /// A link to this state from the dashboard; plain so that it works without JavaScript.
    pub fn href(&self, path: &str) -> String {
        match self.to_param() {
            Some(param) => format!("{path}?{SORT_PARAM}={param}"),
            None => path.to_owned(),
        }
    }

    /// Row indices in display order. The sort is stable, so ties keep upstream order.
    pub fn order(&self, rows: &[UsageRow]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        if self.keys.is_empty() {
            return order;
        }
        // Folded once per row rather than once per comparison.
        let folded_names: Vec<Option<String>> =
            rows.iter().map(|row| row.report_name.as_deref().map(str::to_lowercase)).collect();
        order.sort_by(|&a, &b| {
            self.keys
                .iter()
                .map(|key| match key.column {
                    SortColumn::ReportName => {
                        compare_names(folded_names[a].as_deref(), folded_names[b].as_deref(), key.direction)
                    }
                    SortColumn::CreditsUsed => directed(rows[a].credits_used.cmp(&rows[b].credits_used), key.direction),
                })
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        order
    }
}

fn directed(ordering: Ordering, direction: SortDirection) -> Ordering {
    match direction {
        SortDirection::Ascending => ordering,
        SortDirection::Descending => ordering.reverse(),
    }
}

/// Messages without a report sort after every named one, whichever the direction.
fn compare_names(a: Option<&str>, b: Option<&str>, direction: SortDirection) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => directed(a.cmp(b), direction),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Credits;
    use SortColumn::*;
    use SortDirection::*;

    fn key(column: SortColumn, direction: SortDirection) -> SortKey {
        SortKey { column, direction }
    }

    fn row(message_id: i64, report_name: Option<&str>, hundredths: i64) -> UsageRow {
        UsageRow {
            message_id,
            timestamp: "2024-04-29T02:08:29.375Z".into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    fn ids(rows: &[UsageRow], spec: &SortSpec) -> Vec<i64> {
        spec.order(rows).into_iter().map(|i| rows[i].message_id).collect()
    }

    #[test]
    fn parses_entries_in_priority_order() {
        let spec = SortSpec::parse("report_name:asc,credits_used:desc");
        assert_eq!(spec.keys(), &[key(ReportName, Ascending), key(CreditsUsed, Descending)]);
    }

    #[test]
    fn ignores_malformed_and_unknown_entries() {
        let spec = SortSpec::parse(",foo:asc,credits_used,report_name:up,:desc,credits_used:desc:x,report_name:desc");
        assert_eq!(spec.keys(), &[key(ReportName, Descending)]);
        assert!(SortSpec::parse("").is_empty());
        assert!(SortSpec::parse("message_id:asc,timestamp:desc").is_empty());
        assert!(SortSpec::parse("<script>alert(1)</script>").is_empty());
    }

    #[test]
    fn reads_the_sort_parameter_of_a_query_string() {
        let spec = SortSpec::from_query("x=1&sort=report_name%3Aasc%2Ccredits_used:desc&sort=credits_used:asc");
        assert_eq!(spec.keys(), &[key(ReportName, Ascending), key(CreditsUsed, Descending)]);
        assert!(SortSpec::from_query("").is_empty());
        assert!(SortSpec::from_query("sort=%FF%FE&x").is_empty());
        assert!(SortSpec::from_query("sorting=credits_used:asc").is_empty());
    }

    #[test]
    fn duplicate_columns_keep_the_first_entry() {
        let spec = SortSpec::parse("credits_used:desc,credits_used:asc,report_name:asc");
        assert_eq!(spec.keys(), &[key(CreditsUsed, Descending), key(ReportName, Ascending)]);
    }

    #[test]
    fn serialises_back_to_the_same_parameter() {
        let text = "credits_used:desc,report_name:asc";
        assert_eq!(SortSpec::parse(text).to_param().as_deref(), Some(text));
        assert_eq!(SortSpec::default().to_param(), None);
        assert_eq!(SortSpec::parse(text).href("/"), "/?sort=credits_used:desc,report_name:asc");
        assert_eq!(SortSpec::default().href("/"), "/");
    }

    #[test]
    fn a_click_cycles_ascending_descending_off() {
        let off = SortSpec::default();
        let ascending = off.toggled(CreditsUsed);
        assert_eq!(ascending.keys(), &[key(CreditsUsed, Ascending)]);
        let descending = ascending.toggled(CreditsUsed);
        assert_eq!(descending.keys(), &[key(CreditsUsed, Descending)]);
        assert_eq!(descending.toggled(CreditsUsed), off);
    }

    #[test]
    fn sorting_is_additive_and_a_new_column_has_lowest_priority() {
        let spec = SortSpec::default().toggled(ReportName).toggled(CreditsUsed);
        assert_eq!(spec.keys(), &[key(ReportName, Ascending), key(CreditsUsed, Ascending)]);
        assert_eq!(spec.state_of(ReportName), Some((Ascending, 1)));
        assert_eq!(spec.state_of(CreditsUsed), Some((Ascending, 2)));
        // Switching the first column off promotes the other.
        let spec = spec.toggled(ReportName).toggled(ReportName);
        assert_eq!(spec.keys(), &[key(CreditsUsed, Ascending)]);
        assert_eq!(spec.state_of(ReportName), None);
    }

    #[test]
    fn unsorted_keeps_upstream_order() {
        let rows = vec![row(3, Some("b"), 100), row(1, None, 300), row(2, Some("a"), 200)];
        assert_eq!(ids(&rows, &SortSpec::default()), vec![3, 1, 2]);
    }

    #[test]
    fn names_compare_case_insensitively_with_blanks_last_both_ways() {
        let rows = vec![
            row(1, None, 100),
            row(2, Some("beta"), 100),
            row(3, Some("Alpha"), 100),
            row(4, Some("alpha"), 100),
            row(5, None, 100),
            row(6, Some("Gamma"), 100),
        ];
        assert_eq!(ids(&rows, &SortSpec::new([key(ReportName, Ascending)])), vec![3, 4, 2, 6, 1, 5]);
        assert_eq!(ids(&rows, &SortSpec::new([key(ReportName, Descending)])), vec![6, 2, 3, 4, 1, 5]);
    }

    #[test]
    fn credits_sort_numerically_and_ties_keep_upstream_order() {
        let rows = vec![row(1, None, 1000), row(2, None, 120), row(3, None, 7900), row(4, None, 120)];
        assert_eq!(ids(&rows, &SortSpec::new([key(CreditsUsed, Ascending)])), vec![2, 4, 1, 3]);
        assert_eq!(ids(&rows, &SortSpec::new([key(CreditsUsed, Descending)])), vec![3, 1, 2, 4]);
    }

    #[test]
    fn the_second_key_breaks_ties_of_the_first() {
        let rows = vec![
            row(1, Some("B"), 500),
            row(2, Some("A"), 100),
            row(3, Some("B"), 900),
            row(4, None, 900),
            row(5, Some("a"), 300),
        ];
        let spec = SortSpec::new([key(ReportName, Ascending), key(CreditsUsed, Descending)]);
        assert_eq!(ids(&rows, &spec), vec![5, 2, 3, 1, 4]);
        let spec = SortSpec::new([key(CreditsUsed, Descending), key(ReportName, Ascending)]);
        assert_eq!(ids(&rows, &spec), vec![3, 4, 1, 5, 2]);
    }
}
