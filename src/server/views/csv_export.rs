//! `/usage.csv`: exactly the view the page shows (its zone, day, report filter and sort, every page of it),
//! for a spreadsheet. The first four columns carry the same values as `/usage`; the local time in the view's
//! zone, the zone and the explanation follow. Text cells a spreadsheet would run as a formula are neutralised
//! (OWASP: a leading `'`).

use super::checked_view::CheckedView;
use super::derived::Derived;
use super::table::view_rows;
use std::borrow::Cow;

pub const HEADER: [&str; 7] =
    ["message_id", "timestamp", "report_name", "credits_used", "local_time", "time_zone", "explanation"];

/// The view's CSV and its file name.
pub fn usage_csv(views: &Derived, view: &CheckedView) -> Result<(String, Vec<u8>), csv::Error> {
    let period = &views.period;
    let rows = view_rows(views, view);
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for &index in rows.iter() {
        let index = index as usize;
        let row = &period.rows[index];
        writer.write_record([
            row.message_id.to_string().as_str(),
            &neutralise(&row.timestamp),
            &neutralise(row.report_name.as_deref().unwrap_or("")),
            &row.credits_used.to_string(),
            &view.zone.format_minute(period.times[index]),
            &view.zone.name,
            &neutralise(&period.explanation(index)),
        ])?;
    }
    let body = writer.into_inner().map_err(|error| error.into_error())?;
    Ok((file_name(views, view, &rows), body))
}

/// `credit-usage-2024-04-29-2024-05-06.csv`: the first and last day of the view's `rows`, in its zone (the
/// period's when the view is empty).
fn file_name(views: &Derived, view: &CheckedView, rows: &[u32]) -> String {
    let dates = views.dates_in(&view.zone);
    let view_days: Vec<_> = rows.iter().map(|&index| dates[index as usize]).collect();
    let days = if view_days.is_empty() { dates.to_vec() } else { view_days };
    match (days.iter().min(), days.iter().max()) {
        (Some(first), Some(last)) => format!("credit-usage-{first}-{last}.csv"),
        _ => "credit-usage.csv".to_owned(),
    }
}

/// A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by spreadsheets;
/// a leading apostrophe makes it text. Numbers are written by this server and never need it.
fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::UsageRow;
    use crate::server::pricing::priced_period::PricedPeriod;
    use crate::view_query::ViewQuery;
    use std::sync::Arc;

    fn views(rows: Vec<UsageRow>) -> Derived {
        Derived::new(Arc::new(PricedPeriod::from_rows(rows)))
    }

    fn row(message_id: i64, report_name: Option<&str>, hundredths: i64) -> UsageRow {
        PricedPeriod::test_row(message_id, report_name, hundredths)
    }

    fn view(query: &str) -> CheckedView {
        CheckedView::resolve(&ViewQuery::from_query(query))
    }

    fn csv_of(rows: Vec<UsageRow>, query: &str) -> String {
        String::from_utf8(usage_csv(&views(rows), &view(query)).unwrap().1).unwrap()
    }

    #[test]
    fn writes_the_contract_values_then_the_table_time_and_the_explanation() {
        let text = csv_of(vec![row(1000, Some("Lease"), 7900), row(1001, None, 120)], "");
        assert_eq!(
            text,
            "message_id,timestamp,report_name,credits_used,local_time,time_zone,explanation\n\
             1000,2024-04-29T02:08:29.375Z,Lease,79.00,29-04-2024 02:08,UTC,Lease (report 1): fixed cost 79.00\n\
             1001,2024-04-29T02:08:29.375Z,,1.20,29-04-2024 02:08,UTC,\"0 characters → 0 tokens × 0.40 = 0.00, minimum 1.00 applied\"\n"
        );
    }

    #[test]
    fn quotes_commas_quotes_and_newlines_and_keeps_non_ascii() {
        let text = csv_of(vec![row(1, Some("Lease, \"new\"\nÄrger 日本"), 100)], "");
        assert!(text.contains("1,2024-04-29T02:08:29.375Z,\"Lease, \"\"new\"\"\nÄrger 日本\",1.00"), "{text}");
    }

    #[test]
    fn neutralises_cells_a_spreadsheet_would_execute() {
        for (name, written) in [
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tTab", "'\tTab"),
            ("\rReturn", "\"'\rReturn\""),
        ] {
            let text = csv_of(vec![row(1, Some(name), 100)], "");
            let line = text.lines().nth(1).unwrap().to_owned() + &text.lines().skip(2).collect::<Vec<_>>().join("\n");
            assert!(line.contains(&format!(",{written},")), "{name:?}: {text}");
        }
        assert_eq!(neutralise("Lease - Review"), "Lease - Review");
    }

    #[test]
    fn follows_the_views_filter_and_sort_over_every_page() {
        let rows = vec![row(1, Some("A"), 300), row(2, None, 100), row(3, Some("A"), 900), row(4, Some("B"), 500)];
        let ids = |query: &str| -> Vec<String> {
            csv_of(rows.clone(), query).lines().skip(1).map(|line| line.split(',').next().unwrap().to_owned()).collect()
        };
        assert_eq!(ids(""), ["1", "2", "3", "4"]);
        assert_eq!(ids("sort=credits_used:desc&page=2"), ["3", "4", "1", "2"], "the page is ignored");
        assert_eq!(ids("report=A&sort=credits_used:desc"), ["3", "1"]);
        assert_eq!(ids("report=~text"), ["2"]);
    }

    #[test]
    fn local_time_and_days_follow_the_zone() {
        let mut rows = vec![row(1, None, 100), row(2, None, 100)];
        rows[1].timestamp = "2024-05-07T02:00:00Z".into();
        let text = csv_of(rows.clone(), "tz=America/New_York&day=2024-05-06");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains(",06-05-2024 22:00,America/New_York,"), "{text}");
        let period = views(rows);
        let file_name = |period: &Derived, view: &CheckedView| usage_csv(period, view).unwrap().0;
        assert_eq!(file_name(&period, &view("")), "credit-usage-2024-04-29-2024-05-07.csv");
        assert_eq!(
            file_name(&period, &view("tz=America/New_York&day=2024-05-06")),
            "credit-usage-2024-05-06-2024-05-06.csv"
        );
        assert_eq!(file_name(&views(Vec::new()), &view("")), "credit-usage.csv");
    }
}
