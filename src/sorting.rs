//! Table sort state. The state lives in the URL (`?sort=report_name:asc,credits_used:desc`,
//! highest priority first), so it is parsed as untrusted input: malformed or unknown entries are ignored,
//! never an error, and a repeated column keeps its first entry.

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use SortColumn::*;
    use SortDirection::*;

    fn key(column: SortColumn, direction: SortDirection) -> SortKey {
        SortKey { column, direction }
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
    fn duplicate_columns_keep_the_first_entry() {
        let spec = SortSpec::parse("credits_used:desc,credits_used:asc,report_name:asc");
        assert_eq!(spec.keys(), &[key(CreditsUsed, Descending), key(ReportName, Ascending)]);
    }

    #[test]
    fn serialises_back_to_the_same_parameter() {
        let text = "credits_used:desc,report_name:asc";
        assert_eq!(SortSpec::parse(text).to_param().as_deref(), Some(text));
        assert_eq!(SortSpec::default().to_param(), None);
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
}
