//! One page of the table: the whole period sorted (orders are kept with the period), then cut.

use super::checked_view::CheckedView;
use super::derived::Derived;
use super::zones::{format_clock_utc, format_day};
use crate::page_data::{TablePage, TableRow};
use crate::view_query::ViewQuery;
use std::sync::Arc;

pub fn table_page(views: &Derived, view: &CheckedView, page_size: usize) -> TablePage {
    let period = &views.period;
    let page_size = page_size.max(1);
    let rows_in_view = view_rows(views, view);
    let total_rows = rows_in_view.len();
    let page_count = total_rows.div_ceil(page_size).max(1);
    // Past the end shows the last page: a link from a longer period, or an edited URL, still shows rows.
    let page = (view.query.page as usize).clamp(1, page_count);
    let start = (page - 1) * page_size;
    let rows = rows_in_view[start.min(total_rows)..(start + page_size).min(total_rows)]
        .iter()
        .map(|&index| {
            let index = index as usize;
            let row = &period.rows[index];
            TableRow {
                message_id: row.message_id,
                time: view.zone.format_minute(period.times[index]),
                report_name: row.report_name.clone(),
                credits: row.credits_used,
                explanation: period.explanation(index),
            }
        })
        .collect();
    // The current period's page links carry its version, so that the walk stays on this data.
    let version = view.query.period.is_none().then_some(period.version);
    TablePage {
        view: ViewQuery { version, ..view.query.at_page(page as u32) },
        page_count: page_count as u32,
        first_row: if total_rows == 0 { 0 } else { start + 1 },
        total_rows,
        rows,
        zone: view.zone.name.clone(),
        day: view.day.map(format_day),
        as_of: format_clock_utc(period.fetched_at),
        refreshed: false,
    }
}

/// The view's rows, every page of them, in its order: the sort's order over the whole period, then the
/// view's day and report filters. Without filters it is the kept order itself, not a copy of 100 000 indices.
pub fn view_rows(views: &Derived, view: &CheckedView) -> Arc<[u32]> {
    let period = &views.period;
    let order = period.order(&view.query.sort);
    if view.day.is_none() && view.query.report.is_none() {
        return order;
    }
    let dates = view.day.map(|_| views.dates_in(&view.zone));
    order
        .iter()
        .copied()
        .filter(|&index| dates.as_ref().is_none_or(|dates| view.admits_date(dates[index as usize])))
        .filter(|&index| {
            view.query
                .report
                .as_ref()
                .is_none_or(|filter| filter.admits(period.rows[index as usize].report_name.as_deref()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;
    use crate::money::Credits;
    use crate::server::pricing::priced_period::PricedPeriod;
    use crate::view_query::ViewQuery;

    fn views(period: PricedPeriod) -> Derived {
        Derived::new(Arc::new(period))
    }

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
        period.fetched_at = "2024-05-06T14:02:07Z".parse().unwrap();
        period
    }

    fn page_of(count: i64, query: &str, size: usize) -> TablePage {
        table_page(&views(period(count)), &view(query), size)
    }

    fn view(query: &str) -> CheckedView {
        CheckedView::resolve(&ViewQuery::from_query(query))
    }

    fn ids(page: &TablePage) -> Vec<i64> {
        page.rows.iter().map(|row| row.message_id).collect()
    }

    #[test]
    fn the_first_page() {
        let page = page_of(25, "", 10);
        assert_eq!((page.view.page, page.page_count, page.first_row, page.total_rows), (1, 3, 1, 25));
        assert_eq!(ids(&page), (1000..1010).collect::<Vec<_>>());
        assert_eq!(page.rows[0].time, "29-04-2024 02:08");
        assert_eq!(page.as_of, "14:02:07 UTC");
    }

    #[test]
    fn the_last_page_is_partial_and_past_the_end_shows_it() {
        for query in ["page=3", "page=4", "page=4294967295"] {
            let page = page_of(25, query, 10);
            let version = period(25).version_tag();
            let href = format!("/?page=3&v={version}");
            assert_eq!((page.view.page, page.first_row, page.view.href()), (3, 21, href), "{query}");
            assert_eq!(ids(&page), (1020..1025).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_empty_period_has_one_empty_page() {
        let page = page_of(0, "page=9", 10);
        assert_eq!((page.view.page, page.page_count, page.first_row, page.rows.len()), (1, 1, 0, 0));
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
        let period = views(PricedPeriod::from_rows(rows));
        let page = table_page(&period, &view("report=Lease&sort=credits_used:desc"), 10);
        assert_eq!(page.view.version, Some(period.period.version), "the next page's link will carry it");
        assert_eq!(
            (ids(&page), page.total_rows, page.view.href()),
            (vec![3, 1], 2, "/?sort=credits_used:desc&report=Lease".into())
        );
        let page = table_page(&period, &view("report=~text"), 10);
        assert_eq!(ids(&page), vec![2]);
        assert_eq!(page.rows[0].explanation, "0 characters → 0 tokens × 0.40 = 0.00, minimum 1.00 applied");
        let page = table_page(&period, &view("report=Nothing"), 10);
        assert_eq!((page.total_rows, page.first_row, page.view.page), (0, 0, 1));
    }

    #[test]
    fn sorting_covers_the_whole_period_before_the_page_is_cut() {
        let all = table_page(&views(period(25)), &view("sort=credits_used:desc"), 25);
        let second = page_of(25, "sort=credits_used:desc&page=2", 10);
        assert_eq!(ids(&second), ids(&all)[10..20]);
        let version = period(25).version_tag();
        assert_eq!(second.view.href(), format!("/?sort=credits_used:desc&page=2&v={version}"), "the walk's version");
        assert!(second.rows.windows(2).all(|pair| pair[0].credits >= pair[1].credits));
    }
}
