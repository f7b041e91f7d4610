//! The kept period: a billing period's `/usage` rows with their exact total, how each was priced, each row's
//! parsed time, when it was fetched, and each sort's order over it (computed once per sort on first use).
//! It holds data only; the views built from it keep their own caches beside it (`views::derived`).

use super::collation::name_ranks;
use super::credit_rules::{explain, PriceBasis};
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::server::memo::BoundedMemo;
use crate::sorting::{SortColumn, SortDirection, SortSpec};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::sync::Arc;

/// Rows without a report name: after every named one, whichever the direction.
const NO_NAME: u32 = u32::MAX;

#[derive(Debug)]
pub struct PricedPeriod {
    /// In upstream order.
    pub rows: Vec<UsageRow>,
    /// How each row was priced, beside it: the one source of every explanation.
    pub bases: Vec<PriceBasis>,
    /// Each row's timestamp, parsed.
    pub times: Vec<Timestamp>,
    pub total: Credits,
    pub fetched_at: Timestamp,
    /// Which data this is: a digest of the rows and how each was priced (52 bits, so a metric shows it
    /// exactly). Equal data has the same version in every replica; a paging walk stays on one version.
    pub version: u64,
    name_ranks: Vec<u32>,
    /// Row indices in display order, by the sort's URL value.
    orders: BoundedMemo<String, Arc<[u32]>>,
}

impl PricedPeriod {
    pub fn new(
        rows: Vec<UsageRow>,
        bases: Vec<PriceBasis>,
        times: Vec<Timestamp>,
        total: Credits,
        fetched_at: Timestamp,
    ) -> Self {
        debug_assert!(rows.len() == bases.len() && rows.len() == times.len());
        let ranks = name_ranks(rows.iter().filter_map(|row| row.report_name.as_deref()));
        let name_ranks =
            rows.iter().map(|row| row.report_name.as_deref().map_or(NO_NAME, |name| ranks[name])).collect();
        let version = content_version(&rows, &bases);
        PricedPeriod { rows, bases, times, total, fetched_at, version, name_ranks, orders: BoundedMemo::default() }
    }

    /// The version as links and shared keys carry it: 13 hexadecimal digits.
    pub fn version_tag(&self) -> String {
        crate::view_query::version_tag(self.version)
    }

    /// A row of a test period: 29 April 2024, 02:08 UTC.
    #[cfg(test)]
    pub fn test_row(message_id: i64, report_name: Option<&str>, hundredths: i64) -> UsageRow {
        UsageRow {
            message_id,
            timestamp: "2024-04-29T02:08:29.375Z".into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    /// A period of rows priced elsewhere (tests): named rows by their report, the others by an empty text.
    #[cfg(test)]
    pub fn from_rows(rows: Vec<UsageRow>) -> Self {
        use super::credit_rules::TextCharge;
        let bases = rows
            .iter()
            .map(|row| match &row.report_name {
                Some(name) => PriceBasis::Report { report_id: 1, name: name.clone() },
                None => PriceBasis::Text {
                    charge: TextCharge { characters: 0, tokens: 0, minimum_applied: true },
                    fallback: None,
                },
            })
            .collect();
        let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).unwrap_or_default();
        let times = rows.iter().map(|row| super::period_checks::parse_timestamp(&row.timestamp).unwrap()).collect();
        PricedPeriod::new(rows, bases, times, total, Timestamp::UNIX_EPOCH)
    }

    /// How row `index` was priced, in words.
    pub fn explanation(&self, index: usize) -> String {
        explain(self.rows[index].credits_used, &self.bases[index])
    }

    /// Row indices in the order `sort` gives. Stable, so ties keep upstream order.
    pub fn order(&self, sort: &SortSpec) -> Arc<[u32]> {
        self.orders.get_or_compute(sort.to_param().unwrap_or_default(), || self.compute_order(sort).into())
    }

    fn compute_order(&self, sort: &SortSpec) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        if sort.is_empty() {
            return order;
        }
        order.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            sort.keys()
                .iter()
                .map(|key| match key.column {
                    SortColumn::ReportName => {
                        let (x, y) = (self.name_ranks[a], self.name_ranks[b]);
                        match (x == NO_NAME, y == NO_NAME) {
                            (false, false) => directed(x.cmp(&y), key.direction),
                            (blank_x, blank_y) => blank_x.cmp(&blank_y),
                        }
                    }
                    SortColumn::CreditsUsed => {
                        directed(self.rows[a].credits_used.cmp(&self.rows[b].credits_used), key.direction)
                    }
                })
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        order
    }
}

/// SHA-256 over the rows and prices as JSON (a stable encoding, whatever the build), cut to 52 bits.
fn content_version(rows: &[UsageRow], bases: &[PriceBasis]) -> u64 {
    struct DigestWriter(Sha256);
    impl std::io::Write for DigestWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut digest = DigestWriter(Sha256::new());
    let buffered = std::io::BufWriter::with_capacity(64 * 1024, &mut digest);
    serde_json::to_writer(buffered, &(rows, bases)).expect("rows and prices serialise");
    let digest = digest.0.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 12
}

fn directed(ordering: Ordering, direction: SortDirection) -> Ordering {
    match direction {
        SortDirection::Ascending => ordering,
        SortDirection::Descending => ordering.reverse(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(message_id: i64, report_name: Option<&str>, hundredths: i64) -> UsageRow {
        PricedPeriod::test_row(message_id, report_name, hundredths)
    }

    fn ids(rows: Vec<UsageRow>, sort: &str) -> Vec<i64> {
        let period = PricedPeriod::from_rows(rows);
        period.order(&SortSpec::parse(sort)).iter().map(|&i| period.rows[i as usize].message_id).collect()
    }

    #[test]
    fn unsorted_keeps_upstream_order() {
        let rows = vec![row(3, Some("b"), 100), row(1, None, 300), row(2, Some("a"), 200)];
        assert_eq!(ids(rows, ""), vec![3, 1, 2]);
    }

    #[test]
    fn names_compare_by_collation_with_case_ties_and_blanks_last_both_ways() {
        let rows = vec![
            row(1, None, 100),
            row(2, Some("Zebra"), 100),
            row(3, Some("Ärger"), 100),
            row(4, Some("apfel"), 100),
            row(5, None, 100),
            row(6, Some("Apfel"), 100),
        ];
        assert_eq!(ids(rows.clone(), "report_name:asc"), vec![4, 6, 3, 2, 1, 5]);
        assert_eq!(ids(rows, "report_name:desc"), vec![2, 3, 4, 6, 1, 5]);
    }

    #[test]
    fn credits_sort_numerically_and_ties_keep_upstream_order() {
        let rows = vec![row(1, None, 1000), row(2, None, 120), row(3, None, 7900), row(4, None, 120)];
        assert_eq!(ids(rows.clone(), "credits_used:asc"), vec![2, 4, 1, 3]);
        assert_eq!(ids(rows, "credits_used:desc"), vec![3, 1, 2, 4]);
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
        assert_eq!(ids(rows.clone(), "report_name:asc,credits_used:desc"), vec![5, 2, 3, 1, 4]);
        assert_eq!(ids(rows, "credits_used:desc,report_name:asc"), vec![3, 4, 1, 5, 2]);
    }

    #[test]
    fn the_version_follows_the_data_not_the_fetch() {
        let rows = vec![row(1, Some("Lease"), 7900), row(2, None, 120)];
        let first = PricedPeriod::from_rows(rows.clone());
        let mut again = PricedPeriod::from_rows(rows.clone());
        again = PricedPeriod::new(again.rows, again.bases, again.times, again.total, Timestamp::now());
        assert_eq!(first.version, again.version, "the same data fetched later");
        let changed = PricedPeriod::from_rows(vec![row(1, Some("Lease"), 7900), row(2, None, 160)]);
        assert_ne!(first.version, changed.version);
        assert!(first.version < 1 << 52 && first.version_tag().len() == 13);
    }

    #[test]
    fn an_order_is_computed_once_per_sort() {
        let period = PricedPeriod::from_rows(vec![row(1, None, 200), row(2, None, 100)]);
        let sort = SortSpec::parse("credits_used:asc");
        assert!(Arc::ptr_eq(&period.order(&sort), &period.order(&sort)));
    }
}
