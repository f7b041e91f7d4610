//! The viewer's time zone and one day of it, through the real router: the page and the CSV agree on every
//! combination of zone, day, report filter and sort; bad values fall back with a notice, never a 5xx.

mod support;

use serde_json::json;
use support::*;
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
    assert!(html.contains("class=\"bar-link selected\""));
    let (_, csv) = get(&app, "/usage.csv?tz=America/New_York&day=2024-04-30").await;
    assert_eq!(csv_ids(&csv), ["1", "2", "3"]);
    // In UTC the same date holds only the first message.
    let (_, html) = get(&app, "/?day=2024-04-30").await;
    assert_eq!(table_ids(&html), ["1"]);
}

#[tokio::test]
async fn page_and_csv_agree_on_every_combination() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    for zone in ["", "tz=America/New_York", "tz=Europe/London"] {
        for day in ["", "day=2024-04-30", "day=2024-05-01"] {
            for report in ["", "report=Lease+Review", "report=~text"] {
                for sort in ["", "sort=credits_used:desc", "sort=report_name:asc,credits_used:asc"] {
                    let query = [zone, day, report, sort]
                        .iter()
                        .filter(|part| !part.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("&");
                    let (status, html) = get(&app, &format!("/?{query}")).await;
                    assert_eq!(status, 200, "{query}");
                    let (status, csv) = get(&app, &format!("/usage.csv?{query}")).await;
                    assert_eq!(status, 200, "{query}");
                    assert_eq!(table_ids(&html), csv_ids(&csv), "{query}");
                }
            }
        }
    }
}

#[tokio::test]
async fn an_unknown_zone_is_utc_with_a_notice() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    for zone in ["Mars/Olympus", "Not%20A%20Zone", "%3Cscript%3E", "America%2FNew_Yor"] {
        let (status, html) = get(&app, &format!("/?tz={zone}&sort=credits_used:asc")).await;
        assert_eq!(status, 200, "{zone}");
        assert!(html.contains("30-04-2024 23:30"), "{zone}: times in UTC");
        assert!(!html.contains("<script>"), "{zone}");
        if !zone.contains("%3C") && !zone.contains("%20") {
            assert!(html.contains("id=\"zone-notice\""), "{zone}: a visible notice");
        }
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
