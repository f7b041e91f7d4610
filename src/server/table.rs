//! One page of the table: the whole period sorted (orders are kept with the period), then cut.

use super::priced_period::PricedPeriod;
use super::timestamps::format_for_table;
use crate::table_query::TableQuery;
use crate::view::{TablePage, TableRow};

pub fn table_page(period: &PricedPeriod, query: &TableQuery, page_size: usize) -> TablePage {
    let page_size = page_size.max(1);
    let shown = view_rows(period, query);
    let total_rows = shown.len();
    let page_count = total_rows.div_ceil(page_size).max(1);
    // Past the end shows the last page: a link from a longer period, or an edited URL, still shows rows.
    let page = (query.page as usize).clamp(1, page_count);
    let start = (page - 1) * page_size;
    let rows = shown[start.min(total_rows)..(start + page_size).min(total_rows)]
        .iter()
        .map(|&index| {
            let row = &period.rows[index as usize];
            TableRow {
                message_id: row.message_id,
                time: format_for_table(&row.timestamp),
                report_name: row.report_name.clone(),
                credits: row.credits_used,
                explanation: period.explanation(index as usize),
            }
        })
        .collect();
    TablePage {
        sort: query.sort.to_param().unwrap_or_default(),
        page: page as u32,
        report: query.report.as_ref().map(|report| report.to_param().to_owned()).unwrap_or_default(),
        page_count: page_count as u32,
        first_row: if total_rows == 0 { 0 } else { start + 1 },
        total_rows,
        rows,
        as_of: period.fetched_at.format("%H:%M:%S UTC").to_string(),
    }
}

/// The view's rows, every page of them, in its order: the sort's order over the whole period, filtered.
pub fn view_rows(period: &PricedPeriod, query: &TableQuery) -> Vec<u32> {
    let order = period.order(&query.sort);
    match &query.report {
        None => order.to_vec(),
        Some(filter) => order
            .iter()
            .copied()
            .filter(|&index| filter.admits(period.rows[index as usize].report_name.as_deref()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;
    use crate::money::Credits;
    use chrono::{TimeZone, Utc};

    fn period(count: i64) -> PricedPeriod {
        let rows = (0..count)
            .map(|i| UsageRow {
                message_id: 1000 + i,
                timestamp: "2024-04-29T02:08:29.375Z".into(),
                report_name: None,
                credits_used: Credits::from_hundredths(100 + (i * 37) % 11),
            })
            .collect();
        let mut period = PricedPeriod::from_rows(rows);
        period.fetched_at = Utc.with_ymd_and_hms(2024, 5, 6, 14, 2, 7).unwrap();
        period
    }

    fn page_of(count: i64, query: &str, size: usize) -> TablePage {
        table_page(&period(count), &TableQuery::from_query(query), size)
    }

    fn ids(page: &TablePage) -> Vec<i64> {
        page.rows.iter().map(|row| row.message_id).collect()
    }

    #[test]
    fn the_first_page() {
        let page = page_of(25, "", 10);
        assert_eq!((page.page, page.page_count, page.first_row, page.total_rows), (1, 3, 1, 25));
        assert_eq!(ids(&page), (1000..1010).collect::<Vec<_>>());
        assert_eq!(page.rows[0].time, "29-04-2024 02:08");
        assert_eq!(page.as_of, "14:02:07 UTC");
    }

    #[test]
    fn the_last_page_is_partial_and_past_the_end_shows_it() {
        for query in ["page=3", "page=4", "page=4294967295"] {
            let page = page_of(25, query, 10);
            assert_eq!((page.page, page.first_row), (3, 21), "{query}");
            assert_eq!(ids(&page), (1020..1025).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_empty_period_has_one_empty_page() {
        let page = page_of(0, "page=9", 10);
        assert_eq!((page.page, page.page_count, page.first_row, page.rows.len()), (1, 1, 0, 0));
    }

    #[test]
    fn a_report_filter_keeps_its_rows_in_the_sort_order() {
        let rows = vec![
            UsageRow {
                message_id: 1,
                timestamp: "2024-04-29T00:00:00Z".into(),
                report_name: Some("Lease".into()),
                credits_used: Credits::from_hundredths(500),
            },
            UsageRow {
                message_id: 2,
                timestamp: "2024-04-29T00:00:00Z".into(),
                report_name: None,
                credits_used: Credits::from_hundredths(100),
            },
            UsageRow {
                message_id: 3,
                timestamp: "2024-04-29T00:00:00Z".into(),
                report_name: Some("Lease".into()),
                credits_used: Credits::from_hundredths(900),
            },
        ];
        let period = PricedPeriod::from_rows(rows);
        let page = table_page(&period, &TableQuery::from_query("report=Lease&sort=credits_used:desc"), 10);
        assert_eq!((ids(&page), page.total_rows, page.report.as_str()), (vec![3, 1], 2, "Lease"));
        let page = table_page(&period, &TableQuery::from_query("report=~text"), 10);
        assert_eq!(ids(&page), vec![2]);
        assert_eq!(page.rows[0].explanation, "0 characters → 0 tokens × 0.40 = 0.00, minimum 1.00 applied");
        let page = table_page(&period, &TableQuery::from_query("report=Nothing"), 10);
        assert_eq!((page.total_rows, page.first_row, page.page), (0, 0, 1));
    }

    #[test]
    fn sorting_covers_the_whole_period_before_the_page_is_cut() {
        let all = table_page(&period(25), &TableQuery::from_query("sort=credits_used:desc"), 25);
        let second = page_of(25, "sort=credits_used:desc&page=2", 10);
        assert_eq!(ids(&second), ids(&all)[10..20]);
        assert_eq!(second.sort, "credits_used:desc");
        assert!(second.rows.windows(2).all(|pair| pair[0].credits >= pair[1].credits));
    }
}
