//! The viewer's time zone and one day of it, through the real router: the page and the CSV agree on every
//! combination of zone, day, report filter and sort; bad values fall back with a notice, never a 5xx.

use crate::support::*;
use serde_json::json;
use wiremock::MockServer;

/// Four messages around midnight UTC on 1 May 2024: in New York (UTC−4) the first three are on 30 April.
async fn period() -> MockServer {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1, "abcdefghi", "2024-04-30T23:30:00Z", Some(json!(7))),
            message(2, "abcdefghijklm", "2024-05-01T00:30:00Z", None),
            message(3, "abc", "2024-05-01T03:59:00Z", Some(json!(7))),
            message(4, "abcdefghijklmnopq", "2024-05-01T04:00:00Z", None),
        ],
    )
    .await;
    serve_report(&upstream, 7, "Lease Review", json!(12.5)).await;
    upstream
}

fn csv_ids(body: &str) -> Vec<String> {
    body.lines().skip(1).map(|line| line.split(',').next().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_zone_moves_times_days_and_the_period() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let (status, html) = get(&app, "/?tz=America/New_York").await;
    assert_eq!(status, 200);
    assert!(html.contains("30-04-2024 19:30"), "the first message at 19:30 New York time");
    assert!(html.contains("Timestamp (America/New_York)"));
    assert_eq!(kpi_text(&html, "period"), "30-04-2024 → 01-05-2024");
    assert!(html.contains("America/New_York · UTC−0"), "the zone and its current offset are named");
    // Its chart has New York's days, and each bar links to its day in that zone.
    assert!(html.contains("href=\"/?tz=America/New_York&amp;day=2024-04-30\""));
    let (_, csv) = get(&app, "/usage.csv?tz=America/New_York").await;
    assert!(csv.contains(",30-04-2024 19:30,America/New_York,"), "{csv}");
}

#[tokio::test]
async fn a_day_narrows_the_figures_table_and_csv_but_the_chart_keeps_every_day() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let (status, html) = get(&app, "/?tz=America/New_York&day=2024-04-30").await;
    assert_eq!(status, 200);
    assert_eq!(table_ids(&html), ["1", "2", "3"]);
    assert_eq!(kpi_text(&html, "messages"), "3");
    assert_eq!(kpi_text(&html, "period"), "30-04-2024", "one day, named once");
    assert_eq!(kpi_text(&html, "total"), "26.60", "12.50 + 1.60 + 12.50");
    assert!(html.contains("id=\"day-chip\""));
    assert!(html.contains("data-day=\"01-05-2024\""), "the chart keeps the other day");
    assert!(html.contains("class=\"bar-link follows-sort selected\""));
    let (_, csv) = get(&app, "/usage.csv?tz=America/New_York&day=2024-04-30").await;
    assert_eq!(csv_ids(&csv), ["1", "2", "3"]);
    // In UTC the same date holds only the first message.
    let (_, html) = get(&app, "/?day=2024-04-30").await;
    assert_eq!(table_ids(&html), ["1"]);
}

/// A `/usage` row as the test reads it.
struct Row {
    id: String,
    timestamp: String,
    report_name: Option<String>,
    hundredths: i64,
}

async fn usage_rows(app: &axum::Router) -> Vec<Row> {
    let (_, body) = get(app, "/usage").await;
    let usage: serde_json::Value = serde_json::from_str(&body).unwrap();
    usage["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| Row {
            id: row["message_id"].to_string(),
            timestamp: row["timestamp"].as_str().unwrap().to_owned(),
            report_name: row["report_name"].as_str().map(str::to_owned),
            hundredths: (row["credits_used"].as_f64().unwrap() * 100.0).round() as i64,
        })
        .collect()
}

/// The row's day at a fixed offset from UTC (the zones' offsets in May 2024), by hand: these timestamps are
/// all `2024-MM-DDTHH:…Z`, so a day moves at most across the end of April.
fn local_day(timestamp: &str, offset_hours: i64) -> String {
    let (month, day, hour): (i64, i64, i64) =
        (timestamp[5..7].parse().unwrap(), timestamp[8..10].parse().unwrap(), timestamp[11..13].parse().unwrap());
    let ordinal = if month == 4 { day } else { 30 + day } + (hour + offset_hours).div_euclid(24);
    if ordinal <= 30 {
        format!("2024-04-{ordinal:02}")
    } else {
        format!("2024-05-{:02}", ordinal - 30)
    }
}

/// The ids a view shows, recomputed from `/usage` by the rules (not by the server's code): the day in the
/// zone and the report filter, then a stable sort whose ties keep upstream order, unnamed rows last.
fn expected_ids(rows: &[Row], offset_hours: i64, day: Option<&str>, report: Option<&str>, sort: &str) -> Vec<String> {
    let mut shown: Vec<&Row> = rows
        .iter()
        .filter(|row| day.is_none_or(|day| local_day(&row.timestamp, offset_hours) == day))
        .filter(|row| match report {
            None => true,
            Some("~text") => row.report_name.is_none(),
            Some(name) => row.report_name.as_deref() == Some(name),
        })
        .collect();
    for key in sort.split(',').filter(|key| !key.is_empty()).rev() {
        match key {
            "credits_used:desc" => shown.sort_by_key(|row| std::cmp::Reverse(row.hundredths)),
            "credits_used:asc" => shown.sort_by_key(|row| row.hundredths),
            "report_name:asc" => shown.sort_by(|a, b| match (&a.report_name, &b.report_name) {
                (Some(x), Some(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
                (x, y) => x.is_none().cmp(&y.is_none()),
            }),
            other => panic!("no rule for {other}"),
        }
    }
    shown.iter().map(|row| row.id.clone()).collect()
}

#[tokio::test]
async fn page_and_csv_show_what_the_rules_give_for_every_combination() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let rows = usage_rows(&app).await;
    let mut non_empty = 0;
    for (zone, offset) in [("", 0), ("tz=America/New_York", -4), ("tz=Europe/London", 1)] {
        for day in [None, Some("2024-04-30"), Some("2024-05-01")] {
            for report in [None, Some("Lease Review"), Some("~text")] {
                for sort in ["", "credits_used:desc", "report_name:asc,credits_used:asc"] {
                    let query = [
                        zone.to_owned(),
                        day.map(|day| format!("day={day}")).unwrap_or_default(),
                        report.map(|report| format!("report={}", report.replace(' ', "+"))).unwrap_or_default(),
                        if sort.is_empty() { String::new() } else { format!("sort={sort}") },
                    ]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join("&");
                    let expected = expected_ids(&rows, offset, day, report, sort);
                    non_empty += usize::from(!expected.is_empty());
                    let (status, html) = get(&app, &format!("/?{query}")).await;
                    assert_eq!(status, 200, "{query}");
                    assert_eq!(table_ids(&html), expected, "page: {query}");
                    let (status, csv) = get(&app, &format!("/usage.csv?{query}")).await;
                    assert_eq!(status, 200, "{query}");
                    assert_eq!(csv_ids(&csv), expected, "CSV: {query}");
                }
            }
        }
    }
    assert!(non_empty > 40, "most combinations show rows: {non_empty}");
}

#[tokio::test]
async fn anything_that_is_not_a_zone_is_utc_with_a_notice_escaped_and_shortened() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let long = "A".repeat(300);
    for (asked, shown) in [
        ("Mars/Olympus", "Mars/Olympus".to_owned()),
        ("America%2FNew_Yor", "America/New_Yor".to_owned()),
        ("Not%20A%20Zone", "Not A Zone".to_owned()),
        ("%3Cscript%3E", "&lt;script&gt;".to_owned()),
        ("%00", "\u{FFFD}".to_owned()),
        ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd".to_owned()),
        (long.as_str(), format!("{}…", "A".repeat(40))),
    ] {
        let (status, html) = get(&app, &format!("/?tz={asked}&sort=credits_used:asc")).await;
        assert_eq!(status, 200, "{asked}");
        assert!(html.contains("30-04-2024 23:30"), "{asked}: times in UTC");
        assert!(!html.contains("<script>"), "{asked}");
        let notice = &html[html.find("id=\"zone-notice\"").unwrap_or_else(|| panic!("{asked}: a visible notice"))..];
        let notice = &notice[..notice.find("</p>").unwrap()];
        assert!(notice.contains(&format!("“{shown}” is not a time zone")), "{asked}: {notice}");
        // Links leave the unknown zone out.
        assert!(html.contains("href=\"/?day=2024-04-30&amp;sort=credits_used:asc\""), "{asked}");
    }
    let (status, csv) = get(&app, "/usage.csv?tz=Mars/Olympus").await;
    assert_eq!(status, 200);
    assert!(csv.contains(",UTC,"));
}

#[tokio::test]
async fn a_day_outside_the_period_is_empty_and_a_malformed_one_ignored() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let (status, html) = get(&app, "/?day=2023-01-01").await;
    assert_eq!(status, 200);
    assert!(table_ids(&html).is_empty());
    assert!(html.contains("No usage yet in this period."));
    for day in ["2024-02-30", "yesterday", "01-05-2024", "2024-05-1"] {
        let (status, html) = get(&app, &format!("/?day={day}")).await;
        assert_eq!(status, 200, "{day}");
        assert_eq!(table_ids(&html).len(), 4, "{day} is ignored");
        assert!(!html.contains("id=\"day-chip\""), "{day}");
    }
}

#[tokio::test]
async fn the_title_names_the_period_and_the_page_describes_itself() {
    let upstream = period().await;
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    assert!(
        html.contains("<title>Credit usage · 30-04-2024 → 01-05-2024</title>"),
        "{}",
        &html[..html.find("</head>").unwrap()]
    );
    let head = &html[..html.find("</head>").unwrap()];
    assert!(head.contains("Credits used 30-04-2024 → 01-05-2024: 28.60 credits over 4 messages"), "{head}");
}
